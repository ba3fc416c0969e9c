"""Snippet evaluation on trafilatura-eval-dev, by language: noiseclf on the text, trafilatura on the HTML.

    python -m training.snippets_eval --data PATH/TO/trafilatura-eval-dev [--model M] [--json OUT]

For every page: its HTML is turned into text with html-text (as training/corpus.py
does) and cleaned by noiseclf; trafilatura extracts from the same HTML. The metric
is the dataset's own (its README): whitespace-normalised substring matching of
every ``with`` snippet (true positive when found) and ``without`` snippet (false
positive when found) in the output; precision, recall and F1 over all snippets.
Pages are grouped by the language langid detects on the page's html-text scrape.
``--html``: noiseclf gets the HTML instead, as ``noiseclf clean page.html`` does
(inscriptis, the markup stage).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from noiseclf import load_model

from .baselines import trafilatura_text
from .corpus import TOOLS, clean_scrape
from .snippet_labels import norm, snippet_split_of


def read_html(path: Path) -> str:
    data = gzip.decompress(path.read_bytes())
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def counts(text: str, with_: list[str], without: list[str]) -> tuple[int, int, int, int]:
    """(tp, fn, fp, tn) of one page's snippets in ``text``."""
    t = norm(text)
    tp = sum(norm(s) in t for s in with_)
    fp = sum(norm(s) in t for s in without)
    return tp, len(with_) - tp, fp, len(without) - fp


def language_of(scrape: str) -> str:
    """The page's language, by langid on its html-text scrape: how every snippet figure is grouped."""
    import langid

    return langid.classify(scrape[:20000])[0] if scrape.strip() else "?"


def prf(c) -> tuple[float, float, float]:
    tp, fn, fp, _ = c
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--min-probability", type=float, default=None)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--split", choices=("train", "eval"), default=None,
                    help="only the pages of this split of training/snippet_labels.py (default: all)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--html", action="store_true",
                    help="give noiseclf the page's HTML (noiseclf.html, with its markup) instead of the html-text scrape")
    args = ap.parse_args(argv)

    model = load_model(args.model)
    from noiseclf import Cleaner, Scrape
    from noiseclf.html import as_text

    cleaner = Cleaner(model, drift=False, min_probability=args.min_probability)
    meta = json.loads((args.data / "evaldata.json").read_text(encoding="utf-8"))
    by_lang: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0]))
    seconds = defaultdict(float)
    pages = defaultdict(int)
    for n, (url, rec) in enumerate(sorted(meta.items())):
        if args.limit and n >= args.limit:
            break
        path = args.data / "html" / (rec["file"] + ".gz")
        if not path.is_file() or (args.split is not None and snippet_split_of(url) != args.split):
            continue
        html = read_html(path)
        scrape = clean_scrape(TOOLS["html-text"](html) or "")
        lang = language_of(scrape)
        t = time.perf_counter()
        if args.html:
            ours = cleaner.clean_batch([Scrape(as_text(html))])[0].text or ""
        else:
            ours = model.clean(scrape, min_probability=args.min_probability)
        seconds["noiseclf"] += time.perf_counter() - t
        t = time.perf_counter()
        theirs = trafilatura_text(html)
        seconds["trafilatura"] += time.perf_counter() - t
        pages[lang] += 1
        for system, text in (("noiseclf", ours), ("trafilatura", theirs), ("keep everything", scrape)):
            c = counts(text, rec.get("with", []), rec.get("without", []))
            for group in (lang, "all", "not English" if lang != "en" else None):
                if group is None:
                    continue
                acc = by_lang[group][system]
                for i in range(4):
                    acc[i] += c[i]
        for group in (lang, "all") + (("not English",) if lang != "en" else ()):
            pages.setdefault(group, 0)
        if lang != "en":
            pages["not English"] += 1
        pages["all"] += 1
    groups = ["all", "not English"] + sorted((g for g in by_lang if g not in ("all", "not English")),
                                             key=lambda g: -pages[g])
    systems = ["noiseclf", "trafilatura", "keep everything"]
    print("| language | pages | " + " | ".join(f"{s} P / R / F1" for s in systems) + " |")
    print("|---|---|" + "---|" * len(systems))
    out = {}
    for g in groups:
        if pages[g] < 3 and g not in ("all", "not English"):
            continue
        cells = []
        for s in systems:
            p, r, f = prf(by_lang[g][s])
            cells.append(f"{p:.3f} / {r:.3f} / {f:.3f}")
            out.setdefault(g, {})[s] = {"p": round(p, 4), "r": round(r, 4), "f1": round(f, 4)}
        out[g]["pages"] = pages[g]
        print(f"| {g} | {pages[g]} | " + " | ".join(cells) + " |")
    print(f"\nseconds: {dict((k, round(v, 1)) for k, v in seconds.items())}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
