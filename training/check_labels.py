"""Print labelled lines of the corpus for a person to check.

    python -m training.check_labels --corpus build/corpus --sample 40 --seed 0
        [--context 2] [--tool html2text] [--label nav] [--split train]
    python -m training.check_labels --corpus build/corpus --page 0001 --tool bs4

With --sample, draws N labelled lines at random (seeded, so a check can be
repeated) from the (page, tool) rows of the manifest -- first a row, then a line of
it, so long pages do not dominate -- and prints each with ``--context`` labelled
lines either side. The line to judge is marked with ">>". With --page, prints one
whole page (every labelled line) for one tool.

It also checks the files, with the project's labels reader
(``noiseclf.labels.read_labels_file``): every record's text must equal the
.txt line it points to, labels must be one of the five, and every non-blank
line must have exactly one record.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from noiseclf.labels import LABELS, read_labels_file
from noiseclf.text import read_scrape, split_lines

_SHORT = {"article": "ART", "nav": "NAV", "related-story": "REL", "ad": "AD ", "footer": "FOO"}


def read_manifest(corpus):
    with open(Path(corpus, "manifest.jsonl"), encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_labelled(corpus, tool, file_id):
    """(lines of the .txt, records in line order), checked by the labels reader.

    Raises ``noiseclf.LabelsError`` (naming file:line) when the labels do not
    match the .txt.
    """
    scrape = Path(corpus, tool, f"{file_id}.txt")
    lines = split_lines(read_scrape(scrape).text)
    labels = read_labels_file(Path(corpus, tool, f"{file_id}.jsonl"), lines, scrape)
    records = [{"line": i + 1, "text": line, "label": label}
               for i, (line, label) in enumerate(zip(lines, labels)) if label is not None]
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
