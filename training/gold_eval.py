"""The gold set against the other scrapers and against the corpus builder's rules.

Run from the repository root with the project's Python::

    python -m training.gold_eval align --wcxb /path/to/wcxb-dev     # training/gold/tools/<tool>/
    python -m training.gold_eval evaluate --corpus build/gold-corpus  # P/R, confusion matrices
    python -m training.gold_eval check --tool bs4 [--page FILEID]     # aligned labels beside the scrape
    python -m training.gold_eval ids                                  # the gold file ids, for --ids
    python -m training.gold_eval rules --wcxb /path/to/wcxb-dev       # precision of each labelling rule

Every subcommand takes ``--gold DIR`` (default ``training/gold``). Deterministic: no
randomness, every order is a sort or the file order.

align
    For every gold page, the page's HTML is converted by each of ``inscriptis``,
    ``html2text`` and ``bs4`` exactly as ``training/corpus.py`` does (``TOOLS[tool]``
    then ``clean_scrape``), and each non-blank line of that scrape gets a label from the
    gold html-text lines (``labels/<file_id>.jsonl``):

    1. Both scrapes are cut into tokens: markdown link targets and URLs removed,
       camelCase split (inscriptis and bs4 glue inline elements: ``Privacy NoticeTerms
       Of Use`` is two html-text lines), then ``corpus.align_tokens`` (NFKC, casefold,
       ``\\w`` runs without ``_``, CJK/Thai per character).
    2. ``difflib.SequenceMatcher`` (no autojunk) gives the monotone matching blocks
       between the tool's token stream and the gold token stream. Each matched tool
       token takes the gold label of the gold line its partner token is on.
    3. Moved text: a run of tool tokens left unmatched inside a line (inscriptis lays a
       table's cells out side by side, so text comes in another order) is looked up in
       the gold tokens within ``MOVE_WINDOW`` tokens of where it is expected (the gold
       position of the nearest matched token before it); the longest prefix of the run
       found there (at least 2 tokens, or the whole run if it is one token) is matched to
       its nearest occurrence, and so on along the run.
    4. A line takes the label that holds most of its matched tokens (a line merged from
       gold lines of different labels takes its main content's label, guideline 5; a
       tie goes to the label of the line's first matched token). A line split into
       several lines gives each piece the label of the tokens it holds.
    5. A line with no matched token (image alt text that html-text does not print,
       ``* * *``, ``|``, a bare list marker) takes the label of the nearest matched
       lines above and below when they agree; at a boundary (they differ) an image
       line (html2text ``![...](...)``) takes the label below (an image opens the block
       it belongs to: logo → menu, headshot → author box, thumbnail → teaser), any
       other line the label above; with one side only, that side.

    Writes ``tools/<tool>/<file_id>.txt`` (the scrape, byte for byte) and
    ``tools/<tool>/<file_id>.jsonl`` (labels format) and prints, per tool, how many
    lines each step decided.

evaluate --corpus DIR [--corpus NAME=DIR ...] [--json OUT]
    Compares the automatic labels of a ``python -m training.corpus ... --ids`` build
    (``DIR/<tool>/<file_id>.jsonl``) line by line with the gold: html-text against
    ``train/`` and ``test/``, the other tools against ``tools/<tool>/``. The scrapes must be the same
    text (the command fails otherwise). Prints per-class precision/recall/F1 and support
    by tool, by page type and by split (the manifest's ``split``), for html-text alone and
    for all tools pooled (every line of every tool counts once), the confusion matrices
    (rows gold, columns automatic), and the pages with the most wrong noise labels. With
    several ``NAME=DIR`` corpora the tables are printed one after the other, then, for
    each consecutive pair, compact "A → B" tables of precision and recall.

rules --wcxb DIR [--tools ...]
    Labels the gold pages in-process with the current ``training/corpus.py`` and prints,
    for every (rule that decided the line, label given) and split, the number of lines,
    the precision and the gold labels of the wrong ones (``stats["rules"]`` of
    ``label_scrape``: gt, container, dom, text, heading, position, neighbours).

check --tool TOOL [--page FILEID ...] [--n 3]
    Prints a tool's scrape line by line with its aligned label, how the label was
    decided (``=`` same text as a gold line, ``m`` matched tokens, ``v`` moved text,
    ``n`` neighbours, ``b`` boundary), and the gold line(s) it was aligned with, for a
    person to judge. Without ``--page``, the ``--n`` pages of ``check_pages(tool)``:
    pages in SHA-1 order of ``tool + file_id``, at most ``CHECK_MAX_LINES`` non-blank
    lines in the tool's scrape, one page per domain.
"""
from __future__ import annotations

import argparse
import bisect
import gzip
import hashlib
import json
import re
import sys
from collections import Counter, defaultdict
from difflib import SequenceMatcher
from pathlib import Path

from noiseclf.atomic import atomic_write_bytes
from noiseclf.labels import LABELS, read_labels_file, write_labels_file
from noiseclf.text import read_scrape, split_lines

from training import corpus
from training.gold import labels_path, read_manifest

GOLD = Path("training/gold")
OTHER_TOOLS = ("inscriptis", "html2text", "bs4")
ALL_TOOLS = ("html-text",) + OTHER_TOOLS
NOISE = tuple(lab for lab in LABELS if lab != "article")
MOVE_WINDOW = 150        # moved text: tokens either side of the expected gold position
MOVE_MIN = 2             # moved text: shortest token run looked up
CHECK_MAX_LINES = 260    # pages for the hand check: at most this many non-blank lines
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_IMAGE_LINE = re.compile(r"^\W*!\[")
# html2text's image: alt text, which no other tool prints (so it has nothing to align with)
# html2text's link targets: "](url)" where url may hold spaces (html2text does not escape
# them: share links carry the page title) and one level of parentheses
_MD_TARGET = r"\]\((?:[^()\n]|\([^()\n]*\))*\)"
_MD_IMAGE = re.compile(r"!\[(?:\\.|[^\]\\])*" + _MD_TARGET)
_MD_LINK = re.compile(_MD_TARGET)


# ---------------------------------------------------------------------------
# reading the gold set
# ---------------------------------------------------------------------------
def read_labelled(scrape: Path, labels: Path):
    """(lines, labels) of one labelled scrape; labels[i] is None for a blank line."""
    lines = split_lines(read_scrape(scrape).text)
    return lines, read_labels_file(labels, lines, scrape)


def gold_labelled(gold: Path, file_id: str, tool: str = "html-text"):
    gold = Path(gold)
    if tool == "html-text":
        row = next(r for r in read_manifest(gold) if r["file_id"] == file_id)
        return read_labelled(gold / "scrapes" / f"{file_id}.txt", labels_path(gold, row))
    return read_labelled(gold / "tools" / tool / f"{file_id}.txt", gold / "tools" / tool / f"{file_id}.jsonl")


# ---------------------------------------------------------------------------
# alignment of another tool's scrape with the gold lines
# ---------------------------------------------------------------------------
def line_tokens(line: str) -> list[str]:
    """Tokens for aligning scrapes: URLs out, camelCase split, then corpus.align_tokens."""
    line = corpus._URLS.sub(" ", _MD_LINK.sub(" ", _MD_IMAGE.sub(" ", line)))
    return corpus.align_tokens(_CAMEL.sub(r"\1 \2", line))


def _stream(lines, keep):
    toks: list[str] = []
    owner: list[int] = []
    per_line: dict[int, list[str]] = {}
    for i, line in enumerate(lines):
        if not keep(i):
            continue
        t = line_tokens(line)
        per_line[i] = t
        toks.extend(t)
        owner.extend([i] * len(t))
    return toks, owner, per_line


def align_lines(tool_lines: list[str], gold_lines: list[str], gold_labels: list):
    """Label each non-blank line of ``tool_lines`` from the labelled ``gold_lines``.

    Returns {line index: (label, how, gold line indexes)} for every non-blank tool line;
    ``how`` is one of "same" (text equal to the one gold line it aligned with),
    "match", "moved", "neighbours", "boundary" (see the module docstring).
    """
    nonblank = [i for i, line in enumerate(tool_lines) if line.strip()]
    gtoks, gown, _ = _stream(gold_lines, lambda i: gold_labels[i] is not None)
    ttoks, town, tper = _stream(tool_lines, lambda i: bool(tool_lines[i].strip()))
    partner: list = [None] * len(ttoks)
    if ttoks and gtoks:
        for a, b, n in SequenceMatcher(None, ttoks, gtoks, autojunk=False).get_matching_blocks():
            for k in range(n):
                partner[a + k] = b + k
    moved = [False] * len(ttoks)
    if gtoks:
        where = defaultdict(list)
        for p, t in enumerate(gtoks):
            where[t].append(p)
        expected = 0
        p = 0
        while p < len(ttoks):
            if partner[p] is not None:
                expected = partner[p]
                p += 1
                continue
            end = p
            while end < len(ttoks) and partner[end] is None and town[end] == town[p]:
                end += 1
            q = p
            while q < end:
                best = None
                for k in range(min(end - q, 64), MOVE_MIN - 1, -1):
                    seq = ttoks[q:q + k]
                    cands = where.get(seq[0], ())
                    lo = bisect.bisect_left(cands, expected - MOVE_WINDOW)
                    hi = bisect.bisect_right(cands, expected + MOVE_WINDOW)
                    hits = [c for c in cands[lo:hi] if gtoks[c:c + k] == seq]
                    if hits:
                        best = (k, min(hits, key=lambda c: (abs(c - expected), c)))
                        break
                if best is None:
                    q += 1
                    continue
                k, c = best
                for m in range(k):
                    partner[q + m] = c + m
                    moved[q + m] = True
                q += k
            p = end

    votes: dict[int, Counter] = {}
    first_label: dict[int, str] = {}
    gsrc: dict[int, list[int]] = {}
    any_moved: dict[int, bool] = {}
    for pos, g in enumerate(partner):
        if g is None:
            continue
        i = town[pos]
        lab = gold_labels[gown[g]]
        votes.setdefault(i, Counter())[lab] += 1
        first_label.setdefault(i, lab)
        src = gsrc.setdefault(i, [])
        if gown[g] not in src:
            src.append(gown[g])
        any_moved[i] = any_moved.get(i, False) or moved[pos]
    result: dict[int, tuple] = {}
    for i in nonblank:
        v = votes.get(i)
        if not v:
            continue
        top = max(v.values())
        best = [lab for lab in v if v[lab] == top]
        lab = first_label[i] if first_label[i] in best else sorted(best, key=LABELS.index)[0]
        src = sorted(gsrc[i])
        if len(src) == 1 and tool_lines[i].strip() == gold_lines[src[0]].strip():
            how = "same"
        else:
            how = "moved" if any_moved[i] else "match"
        result[i] = (lab, how, src)
    decided = [i for i in nonblank if i in result]
    for i in nonblank:
        if i in result:
            continue
        k = bisect.bisect_left(decided, i)
        above = result[decided[k - 1]][0] if k > 0 else None
        below = result[decided[k]][0] if k < len(decided) else None
        if above is None and below is None:
            result[i] = ("article", "boundary", [])  # nothing aligned at all (no gold tokens)
        elif above == below or below is None:
            result[i] = (above, "neighbours", [])
        elif above is None:
            result[i] = (below, "neighbours", [])
        else:
            result[i] = (below if _IMAGE_LINE.match(tool_lines[i]) else above, "boundary", [])
    return result


def align_text(tool_text: str, gold_lines: list[str], gold_labels: list):
    """Records (labels format) and the alignment details for a tool's scrape."""
    lines = tool_text.split("\n")
    res = align_lines(lines, gold_lines, gold_labels)
    records = [{"line": i + 1, "text": lines[i], "label": res[i][0]} for i in sorted(res)]
    return records, res


def load_html(wcxb, file_id: str) -> str:
    with gzip.open(Path(wcxb, "html", f"{file_id}.html.gz"), "rb") as fh:
        return fh.read().decode("utf-8", "replace")


def align_all(wcxb, gold: Path, tools=OTHER_TOOLS, out=sys.stdout) -> dict:
    gold = Path(gold)
    rows = read_manifest(gold)
    stats = {t: Counter() for t in tools}
    for row in rows:
        fid = row["file_id"]
        glines, glabels = gold_labelled(gold, fid)
        html = load_html(wcxb, fid)
        for tool in tools:
            text = corpus.clean_scrape(corpus.TOOLS[tool](html) or "")
            records, res = align_text(text, glines, glabels)
            d = gold / "tools" / tool
            d.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(d / f"{fid}.txt", text.encode("utf-8"))
            write_labels_file(d / f"{fid}.jsonl", ((r["line"], r["text"], r["label"]) for r in records))
            s = stats[tool]
            s["pages"] += 1
            s["lines"] += len(records)
            s.update(how for _, how, _ in res.values())
            s["merged"] += sum(1 for _, how, src in res.values() if len(src) > 1)
            src_count = Counter(g for _, _, src in res.values() for g in src)
            s["gold lines split"] += sum(1 for n in src_count.values() if n > 1)
            for i, (lab, how, src) in res.items():
                if len(src) > 1 and len({glabels[g] for g in src}) > 1:
                    s["merged, mixed labels"] += 1
    print(f"{'tool':<11}{'pages':>6}{'lines':>7}{'same':>7}{'match':>7}{'moved':>7}{'neighb':>7}"
          f"{'bound':>7}{'merged':>8}{'mixed':>7}{'split':>7}", file=out)
    for tool, s in stats.items():
        print(f"{tool:<11}{s['pages']:>6}{s['lines']:>7}{s['same']:>7}{s['match']:>7}{s['moved']:>7}"
              f"{s['neighbours']:>7}{s['boundary']:>7}{s['merged']:>8}{s['merged, mixed labels']:>7}"
              f"{s['gold lines split']:>7}", file=out)
    return stats


# ---------------------------------------------------------------------------
# the hand check of the alignment
# ---------------------------------------------------------------------------
def _sha1(s: str) -> str:
    return hashlib.sha1(s.encode("utf-8")).hexdigest()


def check_pages(gold: Path, tool: str, n: int = 3) -> list[str]:
    rows = sorted(read_manifest(gold), key=lambda r: _sha1(f"{tool}:{r['file_id']}"))
    chosen, domains = [], set()
    for r in rows:
        if r["domain"] in domains:
            continue
        lines, labels = gold_labelled(gold, r["file_id"], tool)
        if sum(lab is not None for lab in labels) > CHECK_MAX_LINES:
            continue
        chosen.append(r["file_id"])
        domains.add(r["domain"])
        if len(chosen) == n:
            break
    return chosen


_SHORT = {"article": "ART", "nav": "NAV", "related-story": "REL", "ad": "AD ", "footer": "FOO"}
_HOW = {"same": "=", "match": "m", "moved": "v", "neighbours": "n", "boundary": "b"}


def print_check(gold: Path, tool: str, file_id: str, width: int = 110, out=sys.stdout) -> Counter:
    glines, glabels = gold_labelled(gold, file_id)
    lines, labels = gold_labelled(gold, file_id, tool)
    res = align_lines(lines, glines, glabels)
    print(f"== {tool} {file_id}: {len(res)} lines", file=out)
    hows = Counter()
    for i in sorted(res):
        lab, how, src = res[i]
        if lab != labels[i]:
            raise SystemExit(f"{tool}/{file_id}.jsonl line {i + 1}: stored label {labels[i]} != aligned {lab}; run align")
        hows[how] += 1
        text = lines[i].strip()
        text = text if len(text) <= width else text[: width - 3] + "..."
        ref = ""
        if how != "same" and src:
            ref = "  <- " + "; ".join(f"{g + 1}:{_SHORT[glabels[g]].strip()} {glines[g].strip()[:40]}" for g in src[:3])
            if len(src) > 3:
                ref += f"; +{len(src) - 3}"
        elif how == "same":
            ref = f"  <- {src[0] + 1}"
        print(f"{i + 1:>5} {_SHORT[lab]} {_HOW[how]} | {text}{ref}", file=out)
    print(f"-- how: {dict(hows)}", file=out)
    return hows


# ---------------------------------------------------------------------------
# automatic labels against the gold
# ---------------------------------------------------------------------------
def compare(corpus_dir, gold: Path, tools=ALL_TOOLS) -> list[dict]:
    """One row per (page, tool): gold and automatic label lists over the non-blank lines."""
    gold = Path(gold)
    rows = []
    for m in read_manifest(gold):
        fid = m["file_id"]
        for tool in tools:
            glines, glabels = gold_labelled(gold, fid, tool)
            scrape = Path(corpus_dir, tool, f"{fid}.txt")
            alines, alabels = read_labelled(scrape, Path(corpus_dir, tool, f"{fid}.jsonl"))
            if alines != glines:
                raise SystemExit(f"{scrape}: not the same text as the gold {tool} scrape of {fid}")
            g = [lab for lab in glabels if lab is not None]
            a = [lab for lab in alabels if lab is not None]
            rows.append({"file_id": fid, "tool": tool, "page_type": m["page_type"], "split": m["split"],
                         "domain": m["domain"], "gold": g, "auto": a})
    return rows


def confusion(rows) -> dict:
    cm = {g: {a: 0 for a in LABELS} for g in LABELS}
    for r in rows:
        for g, a in zip(r["gold"], r["auto"]):
            cm[g][a] += 1
    return cm


def prf(cm) -> dict:
    out = {}
    for lab in LABELS:
        tp = cm[lab][lab]
        pred = sum(cm[g][lab] for g in LABELS)
        gold = sum(cm[lab].values())
        p = tp / pred if pred else None
        r = tp / gold if gold else None
        f = 2 * p * r / (p + r) if p and r else (0.0 if pred and gold else None)
        out[lab] = {"precision": p, "recall": r, "f1": f, "support": gold, "predicted": pred}
    total = sum(sum(v.values()) for v in cm.values())
    out["accuracy"] = sum(cm[lab][lab] for lab in LABELS) / total if total else None
    out["lines"] = total
    return out


def summarise(rows) -> dict:
    """Metrics by tool, by page type and by split, for html-text and all tools pooled."""
    res = {"by_tool": {}, "by_page_type": {}, "by_split": {}, "confusion": {}}
    tools = sorted({r["tool"] for r in rows}, key=ALL_TOOLS.index)
    for tool in tools + ["all"]:
        sel = [r for r in rows if tool == "all" or r["tool"] == tool]
        res["by_tool"][tool] = prf(confusion(sel))
    for scope in ("html-text", "all"):
        sel = [r for r in rows if scope == "all" or r["tool"] == scope]
        res["confusion"][scope] = confusion(sel)
        res["by_page_type"][scope] = {pt: prf(confusion([r for r in sel if r["page_type"] == pt]))
                                      for pt in sorted({r["page_type"] for r in sel})}
        res["by_split"][scope] = {sp: prf(confusion([r for r in sel if r["split"] == sp]))
                                  for sp in ("train", "test")}
    worst = []
    for r in rows:
        wrong = sum(1 for g, a in zip(r["gold"], r["auto"]) if a != "article" and a != g)
        worst.append((wrong, r["tool"], r["file_id"], r["page_type"], r["split"], len(r["gold"])))
    worst.sort(key=lambda w: (-w[0], w[1], w[2]))
    res["worst"] = worst[:15]
    return res


def _f(x) -> str:
    return "–" if x is None else f"{x:.2f}"


def _pr_table(title, groups: dict, out) -> None:
    print(f"\n{title}\n", file=out)
    head = "| | lines | acc | " + " | ".join(f"{lab} P / R" for lab in LABELS) + " |"
    print(head, file=out)
    print("|" + "---|" * (3 + len(LABELS)), file=out)
    for name, m in groups.items():
        cells = [f"{_f(m[lab]['precision'])} / {_f(m[lab]['recall'])}" for lab in LABELS]
        print(f"| {name} | {m['lines']:,} | {_f(m['accuracy'])} | " + " | ".join(cells) + " |", file=out)


def _cm_table(title, cm, out) -> None:
    print(f"\n{title} (rows gold, columns automatic)\n", file=out)
    print("| gold \\ auto | " + " | ".join(LABELS) + " | recall |", file=out)
    print("|" + "---|" * (len(LABELS) + 2), file=out)
    for g in LABELS:
        n = sum(cm[g].values())
        print(f"| {g} | " + " | ".join(f"{cm[g][a]:,}" for a in LABELS)
              + f" | {_f(cm[g][g] / n if n else None)} |", file=out)
    pred = [sum(cm[g][a] for g in LABELS) for a in LABELS]
    print("| precision | " + " | ".join(_f(cm[a][a] / p if p else None) for a, p in zip(LABELS, pred)) + " | |",
          file=out)


def print_summary(name: str, res: dict, out=sys.stdout) -> None:
    print(f"\n### {name}", file=out)
    _pr_table("Per class precision / recall by tool (`all`: every line of the four tools)", res["by_tool"], out)
    for scope in ("html-text", "all"):
        _pr_table(f"By split ({scope})", res["by_split"][scope], out)
    for scope in ("html-text", "all"):
        _pr_table(f"By page type ({scope})", res["by_page_type"][scope], out)
    for scope in ("html-text", "all"):
        _cm_table(f"Confusion matrix ({scope})", res["confusion"][scope], out)
    print("\nPages with the most wrong noise labels (wrong, tool, page, type, split, lines):", file=out)
    for w in res["worst"]:
        print("  " + " ".join(str(x) for x in w), file=out)


def rule_table(wcxb, gold: Path, tools=ALL_TOOLS, out=sys.stdout) -> dict:
    """Relabel the gold pages with the current ``training.corpus`` rules, in-process, and
    count for every (deciding rule, label given) the gold labels of its lines, per split."""
    gold = Path(gold)
    counts: dict = {}
    for m in read_manifest(gold):
        fid = m["file_id"]
        html, gt = corpus.load_page(wcxb, fid)
        g = gt.get("ground_truth") or {}
        res = corpus.label_page(html, g.get("main_content") or "", g.get("title") or "", tools)
        for tool in tools:
            if tool not in res:
                continue
            text, records, stats = res[tool]
            glines, glabels = gold_labelled(gold, fid, tool)
            if text.split("\n")[: len(glines)] != glines:
                raise SystemExit(f"{tool} scrape of {fid} is not the gold's {tool} scrape; run align")
            gl = [lab for lab in glabels if lab is not None]
            for rec, rule, g_lab in zip(records, stats["rules"], gl):
                for split in (m["split"], "all"):
                    c = counts.setdefault((split, rule, rec["label"]), Counter())
                    c[g_lab] += 1
    print("| split | rule | label given | lines | precision | gold labels of the wrong ones |", file=out)
    print("|---|---|---|---|---|---|", file=out)
    for key in sorted(counts, key=lambda k: (("all", "train", "test").index(k[0]), k[1], LABELS.index(k[2]))):
        c = counts[key]
        n = sum(c.values())
        wrong = ", ".join(f"{lab} {c[lab]}" for lab in LABELS if lab != key[2] and c[lab])
        print(f"| {key[0]} | {key[1]} | {key[2]} | {n:,} | {c[key[2]] / n:.2f} | {wrong} |", file=out)
    return counts


def _pair(a, b) -> str:
    return f"{_f(a)} → {_f(b)}"


def print_delta(name_a: str, a: dict, name_b: str, b: dict, out=sys.stdout) -> None:
    """Compact tables: each cell "A → B" (precision, then recall) for every noise class."""
    print(f"\n### {name_a} → {name_b}", file=out)

    def table(title, ga: dict, gb: dict):
        print(f"\n{title}\n", file=out)
        print("| | lines | accuracy | " + " | ".join(f"{lab} P | {lab} R" for lab in NOISE) + " | article P | article R |",
              file=out)
        print("|" + "---|" * (3 + 2 * len(NOISE) + 2), file=out)
        for key in gb:
            ma, mb = ga.get(key), gb[key]
            if ma is None:
                continue
            cells = []
            for lab in NOISE + ("article",):
                cells.append(_pair(ma[lab]["precision"], mb[lab]["precision"]))
                cells.append(_pair(ma[lab]["recall"], mb[lab]["recall"]))
            print(f"| {key} | {mb['lines']:,} | {_pair(ma['accuracy'], mb['accuracy'])} | " + " | ".join(cells) + " |",
                  file=out)

    table("By tool", a["by_tool"], b["by_tool"])
    for scope in ("html-text", "all"):
        table(f"By split ({scope})", a["by_split"][scope], b["by_split"][scope])
    for scope in ("html-text", "all"):
        table(f"By page type ({scope})", a["by_page_type"][scope], b["by_page_type"][scope])


def _jsonable(res: dict) -> dict:
    def r(x):
        if isinstance(x, float):
            return round(x, 4)
        if isinstance(x, dict):
            return {k: r(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [r(v) for v in x]
        return x
    return r(res)


# ---------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gold", default=str(GOLD), help="gold folder (manifest.jsonl, scrapes/, labels/, tools/)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("align", help="label the other tools' scrapes from the gold lines")
    a.add_argument("--wcxb", required=True, help="folder of the WCXB dev split (html/)")
    a.add_argument("--tools", default=",".join(OTHER_TOOLS))
    e = sub.add_parser("evaluate", help="automatic labels of a corpus build against the gold")
    e.add_argument("--corpus", action="append", required=True,
                   help="DIR or NAME=DIR of a `training.corpus --ids` build; repeat to compare builds")
    e.add_argument("--tools", default=",".join(ALL_TOOLS))
    e.add_argument("--json", default=None, help="also write the figures to this file")
    sub.add_parser("ids", help="print the gold pages' file ids, comma-separated (for training.corpus --ids)")
    r = sub.add_parser("rules", help="precision of each labelling rule of training.corpus on the gold pages")
    r.add_argument("--wcxb", required=True)
    r.add_argument("--tools", default=",".join(ALL_TOOLS))
    c = sub.add_parser("check", help="print aligned labels beside a tool's scrape for a person to judge")
    c.add_argument("--tool", required=True, choices=OTHER_TOOLS)
    c.add_argument("--page", action="append", default=None)
    c.add_argument("--n", type=int, default=3)
    args = ap.parse_args(argv)
    gold = Path(args.gold)
    if args.cmd == "align":
        tools = tuple(t for t in args.tools.split(",") if t)
        bad = [t for t in tools if t not in OTHER_TOOLS]
        if bad:
            ap.error(f"unknown tools {bad}; choose from {list(OTHER_TOOLS)}")
        align_all(args.wcxb, gold, tools)
    elif args.cmd == "evaluate":
        tools = tuple(t for t in args.tools.split(",") if t)
        out = {}
        results = []
        for spec in args.corpus:
            name, _, path = spec.rpartition("=")
            name = name or path
            res = summarise(compare(path, gold, tools))
            print_summary(name, res)
            out[name] = _jsonable(res)
            results.append((name, res))
        for (name_a, ra), (name_b, rb) in zip(results, results[1:]):
            print_delta(name_a, ra, name_b, rb)
        if args.json:
            atomic_write_bytes(args.json, (json.dumps(out, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    elif args.cmd == "rules":
        rule_table(args.wcxb, gold, tuple(t for t in args.tools.split(",") if t))
    elif args.cmd == "ids":
        print(",".join(r["file_id"] for r in read_manifest(gold)))
    else:
        pages = args.page or check_pages(gold, args.tool, args.n)
        for fid in pages:
            print_check(gold, args.tool, fid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
