"""Extraction baselines and their word-F1 evaluation on held-out WCXB pages.

    python -m training.baselines --wcxb /path/to/wcxb-dev --corpus build/corpus [--split test]

Systems on the page HTML (run once per page, tool "html"):
- ``trafilatura_text``: ``trafilatura.extract(html, include_comments=False)``, otherwise
  default settings (no favor_precision / favor_recall).
- ``justext_text``: jusText with the stoplist of the page's ``<html lang>`` language
  when jusText has one (``en`` → English, ``de`` → German, ...), else English.
  Paragraphs classified good are kept, one per line.
- ``readability_text``: readability-lxml ``Document(html).summary()``, made plain
  text with ``html_text.extract_text`` (block elements become line breaks).

Systems on a plain-text scrape (run on every tool's scrape of the page):
- ``c4_rules``: keep the lines with at least 3 words (whitespace-separated) that end in
  terminal punctuation (. ! ? " ' ” …), the line rule of the C4 corpus.
- ``keep_everything``: the scrape as it is (recall ceiling / precision floor).
- any ``cleaners`` passed to ``evaluate_systems`` (e.g. ``{"noiseclf": model.clean}``).

Every system function returns "" instead of raising; failures are counted in
``FAILURES``. The score is bag-of-words F1 against the ground truth
``main_content`` (``training.wordf1``).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from training.corpus import load_page, page_type_of
from training.wordf1 import word_f1

FAILURES: Counter = Counter()

# --------------------------------------------------------------------------
# HTML systems
# --------------------------------------------------------------------------
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


def trafilatura_text(html: str) -> str:
    try:
        import trafilatura

        return trafilatura.extract(html, include_comments=False) or ""
    except Exception:  # noqa: BLE001
        FAILURES["trafilatura"] += 1
        return ""


# ISO 639-1 → jusText stoplist name (the languages most likely on the web)
_JUSTEXT_LANG = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan",
    "cs": "Czech", "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek",
    "en": "English", "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "ga": "Irish", "gl": "Galician", "he": "Hebrew",
    "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "is": "Icelandic",
    "it": "Italian", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian",
    "ms": "Malay", "nb": "Norwegian_Bokmal", "nl": "Dutch", "nn": "Norwegian_Nynorsk",
    "no": "Norwegian_Bokmal", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
    "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "sq": "Albanian", "sr": "Serbian",
    "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "th": None, "tl": "Tagalog",
    "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese",
}
_HTML_LANG = re.compile(r"<html[^>]*\blang\s*=\s*[\"']?([a-zA-Z]{2,3})", re.IGNORECASE)


def justext_language(html: str) -> str:
    """jusText stoplist name for the page: from <html lang>, English if unknown."""
    m = _HTML_LANG.search(html[:20000])
    name = _JUSTEXT_LANG.get(m.group(1).lower()) if m else None
    return name or "English"


def justext_text(html: str) -> str:
    try:
        import justext

        paragraphs = justext.justext(html.encode("utf-8", "replace"),
                                     justext.get_stoplist(justext_language(html)), encoding="utf-8")
        return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)
    except Exception:  # noqa: BLE001
        FAILURES["justext"] += 1
        return ""


def readability_text(html: str) -> str:
    try:
        import html_text
        from readability import Document

        summary = Document(_XML_DECL.sub("", html, count=1)).summary(html_partial=True)
        return html_text.extract_text(summary, guess_layout=True)
    except Exception:  # noqa: BLE001
        FAILURES["readability"] += 1
        return ""


HTML_SYSTEMS = {
    "trafilatura": trafilatura_text,
    "justext": justext_text,
    "readability": readability_text,
}

# --------------------------------------------------------------------------
# Text systems
# --------------------------------------------------------------------------
_TERMINAL = (".", "!", "?", '"', "'", "”", "…")


def c4_rules(text: str) -> str:
    """Lines with >= 3 whitespace-separated words that end in . ! ? " ' ” or …"""
    try:
        keep = []
        for line in text.split("\n"):
            s = line.strip()
            if len(s.split()) >= 3 and s.endswith(_TERMINAL):
                keep.append(line)
        return "\n".join(keep)
    except Exception:  # noqa: BLE001
        FAILURES["c4_rules"] += 1
        return ""


def keep_everything(text: str) -> str:
    return text if isinstance(text, str) else ""


TEXT_SYSTEMS = {"c4_rules": c4_rules, "keep_everything": keep_everything}


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------
def _read_manifest(corpus_dir):
    with open(Path(corpus_dir, "manifest.jsonl"), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _safe(name, fn, arg):
    try:
        out = fn(arg)
        return out if isinstance(out, str) else ""
    except Exception:  # noqa: BLE001 - a cleaner must never stop the evaluation
        FAILURES[name] += 1
        return ""


def evaluate_systems(wcxb_dir, corpus_dir, split="test", cleaners=None, html_systems=True,
                     timings=None, limit=None):
    """Word F1 of every system on every held-out page.

    For each page of ``split`` in the corpus manifest and each tool scrape of it,
    the ``cleaners`` ({name: callable(text) -> text}), ``c4_rules`` and
    ``keep_everything`` are run on the scrape; once per page, the HTML systems are run
    on the page HTML (tool "html"). Returns rows {file_id, domain, page_type, tool,
    system, p, r, f1}. ``timings``, if a dict, gets total seconds per system.
    """
    text_systems = dict(cleaners or {})
    text_systems.update(TEXT_SYSTEMS)
    if timings is None:
        timings = {}
    by_page = defaultdict(list)
    for row in _read_manifest(corpus_dir):
        if split is None or row["split"] == split:
            by_page[row["file_id"]].append(row)
    rows = []
    for n, fid in enumerate(sorted(by_page)):
        if limit and n >= limit:
            break
        html, gt = load_page(wcxb_dir, fid)
        gold = (gt.get("ground_truth") or {}).get("main_content") or ""
        meta = by_page[fid][0]
        base = {"file_id": fid, "domain": meta["domain"], "page_type": meta.get("page_type") or page_type_of(gt)}
        for mrow in by_page[fid]:
            tool = mrow["tool"]
            scrape = Path(corpus_dir, tool, f"{fid}.txt").read_bytes().decode("utf-8")
            for name, fn in text_systems.items():
                t = time.time()
                pred = _safe(name, fn, scrape)
                timings[name] = timings.get(name, 0.0) + time.time() - t
                p, r, f = word_f1(pred, gold)
                rows.append({**base, "tool": tool, "system": name, "p": p, "r": r, "f1": f})
        if html_systems:
            for name, fn in HTML_SYSTEMS.items():
                t = time.time()
                pred = _safe(name, fn, html)
                timings[name] = timings.get(name, 0.0) + time.time() - t
                p, r, f = word_f1(pred, gold)
                rows.append({**base, "tool": "html", "system": name, "p": p, "r": r, "f1": f})
    return rows


def _mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def aggregate(rows):
    """Mean F1 (and P, R) tables.

    Returns {"overall": {system: {"article": (p, r, f1, n), "all": (...)}},
             "page_type": {system: {page_type: f1}}, "tool": {system: {tool: f1}}}.
    Text systems are averaged over (page, tool) pairs, HTML systems over pages.
    """
    overall = defaultdict(dict)
    groups = defaultdict(list)
    for r in rows:
        groups[(r["system"], "all")].append(r)
        if r["page_type"] == "article":
            groups[(r["system"], "article")].append(r)
    for (system, scope), rs in groups.items():
        overall[system][scope] = (_mean([r["p"] for r in rs]), _mean([r["r"] for r in rs]),
                                  _mean([r["f1"] for r in rs]), len(rs))
    by_type = defaultdict(lambda: defaultdict(list))
    by_tool = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by_type[r["system"]][r["page_type"]].append(r["f1"])
        by_tool[r["system"]][r["tool"]].append(r["f1"])
    return {
        "overall": dict(overall),
        "page_type": {s: {k: _mean(v) for k, v in d.items()} for s, d in by_type.items()},
        "tool": {s: {k: _mean(v) for k, v in d.items()} for s, d in by_tool.items()},
    }


def format_tables(agg, timings=None) -> str:
    out = []
    systems = sorted(agg["overall"], key=lambda s: -agg["overall"][s].get("all", (0, 0, 0, 0))[2])
    out.append(f"{'system':<16}{'art P':>7}{'art R':>7}{'art F1':>8}{'n':>6}   {'all P':>6}{'all R':>7}{'all F1':>8}{'n':>6}"
               + (f"{'sec':>8}" if timings else ""))
    for s in systems:
        a = agg["overall"][s].get("article", (float("nan"),) * 3 + (0,))
        b = agg["overall"][s].get("all", (float("nan"),) * 3 + (0,))
        line = f"{s:<16}{a[0]:>7.3f}{a[1]:>7.3f}{a[2]:>8.3f}{a[3]:>6}   {b[0]:>6.3f}{b[1]:>7.3f}{b[2]:>8.3f}{b[3]:>6}"
        if timings:
            line += f"{timings.get(s, 0.0):>8.1f}"
        out.append(line)
    types = sorted({t for d in agg["page_type"].values() for t in d})
    out.append("")
    out.append("mean F1 by page type")
    out.append(f"{'system':<16}" + "".join(f"{t[:12]:>13}" for t in types))
    for s in systems:
        out.append(f"{s:<16}" + "".join(f"{agg['page_type'][s].get(t, float('nan')):>13.3f}" for t in types))
    tools = sorted({t for d in agg["tool"].values() for t in d})
    out.append("")
    out.append("mean F1 by tool (html = system runs on the HTML)")
    out.append(f"{'system':<16}" + "".join(f"{t:>12}" for t in tools))
    for s in systems:
        out.append(f"{s:<16}" + "".join(
            (f"{agg['tool'][s][t]:>12.3f}" if t in agg["tool"][s] else f"{'':>12}") for t in tools))
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wcxb", required=True)
    ap.add_argument("--corpus", default="build/corpus")
    ap.add_argument("--split", default="test", help='"test", "train" or "all"')
    ap.add_argument("--limit", type=int, default=None, help="at most this many pages")
    ap.add_argument("--rows-out", default=None, help="write the per-page rows as JSONL here")
    args = ap.parse_args(argv)
    timings: dict = {}
    t0 = time.time()
    rows = evaluate_systems(args.wcxb, args.corpus, None if args.split == "all" else args.split,
                            timings=timings, limit=args.limit)
    pages = len({r["file_id"] for r in rows})
    print(f"split={args.split}: {pages} pages, {len(rows)} rows, {time.time() - t0:.0f}s")
    print(format_tables(aggregate(rows), timings))
    if FAILURES:
        print("failures (returned empty text): " + ", ".join(f"{k}={v}" for k, v in sorted(FAILURES.items())))
    else:
        print("failures: none")
    if args.rows_out:
        Path(args.rows_out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.rows_out, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
