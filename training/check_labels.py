"""Print labelled lines of the corpus for a person to check.

    python -m training.check_labels --corpus build/corpus --sample 40 --seed 0
        [--context 2] [--tool html2text] [--label nav] [--split train]
    python -m training.check_labels --corpus build/corpus --page 0001 --tool bs4

With --sample, draws N labelled lines at random (seeded, so a check can be
repeated) from the (page, tool) rows of the manifest -- first a row, then a line of
it, so long pages do not dominate -- and prints each with ``--context`` labelled
lines either side. The line to judge is marked with ">>". With --page, prints one
whole page (every labelled line) for one tool.

It also checks the files: every record's text must equal the .txt line it
points to, labels must be one of the five, and line numbers must increase.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

LABELS = ("article", "nav", "related-story", "ad", "footer")
_SHORT = {"article": "ART", "nav": "NAV", "related-story": "REL", "ad": "AD ", "footer": "FOO"}


def read_manifest(corpus):
    with open(Path(corpus, "manifest.jsonl"), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_labelled(corpus, tool, file_id):
    """(lines of the .txt split on "\\n", records) with a consistency check."""
    text = Path(corpus, tool, f"{file_id}.txt").read_bytes().decode("utf-8")
    lines = text.split("\n")
    with open(Path(corpus, tool, f"{file_id}.jsonl"), encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    prev = 0
    for r in records:
        if r["label"] not in LABELS:
            raise ValueError(f"{tool}/{file_id}: bad label {r['label']!r}")
        if r["line"] <= prev or lines[r["line"] - 1] != r["text"]:
            raise ValueError(f"{tool}/{file_id}: line {r['line']} does not match the .txt")
        prev = r["line"]
    expected = [i + 1 for i, line in enumerate(lines) if line.strip()]
    if [r["line"] for r in records] != expected:
        raise ValueError(f"{tool}/{file_id}: records do not cover exactly the non-blank lines")
    return lines, records


def _show(rec, mark=False, width=150):
    text = rec["text"]
    if len(text) > width:
        text = text[: width - 3] + "..."
    return f"{'>>' if mark else '  '} {rec['line']:>5} {_SHORT[rec['label']]} | {text}"


def sample(corpus, n, seed=0, context=2, tool=None, label=None, split=None, out=sys.stdout):
    rows = read_manifest(corpus)
    if tool:
        rows = [r for r in rows if r["tool"] == tool]
    if split:
        rows = [r for r in rows if r["split"] == split]
    rng = random.Random(seed)
    shown = 0
    tries = 0
    while shown < n and rows and tries < 100 * n:
        tries += 1
        row = rng.choice(rows)
        _, records = read_labelled(corpus, row["tool"], row["file_id"])
        cand = [k for k, r in enumerate(records) if label is None or r["label"] == label]
        if not cand:
            continue
        k = rng.choice(cand)
        shown += 1
        print(f"--- #{shown} {row['tool']}/{row['file_id']} ({row['domain']}, {row['page_type']})", file=out)
        for j in range(max(0, k - context), min(len(records), k + context + 1)):
            print(_show(records[j], j == k), file=out)
    return shown


def show_page(corpus, file_id, tool, out=sys.stdout):
    _, records = read_labelled(corpus, tool, file_id)
    for r in records:
        print(_show(r), file=out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default="build/corpus")
    ap.add_argument("--sample", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--context", type=int, default=2)
    ap.add_argument("--tool")
    ap.add_argument("--label", choices=LABELS)
    ap.add_argument("--split", choices=("train", "test"))
    ap.add_argument("--page", help="print one whole page (needs --tool)")
    args = ap.parse_args(argv)
    if args.page:
        show_page(args.corpus, args.page, args.tool or "html-text")
    else:
        sample(args.corpus, args.sample, args.seed, args.context, args.tool, args.label, args.split)
    return 0


if __name__ == "__main__":
    sys.exit(main())
