"""Weak line labels from trafilatura-eval-dev's snippets, for pages in other languages.

    python -m training.snippet_labels --data PATH/TO/trafilatura-eval-dev     # counts per split

The dataset gives, per page, 1-6 snippets of its main text (``with``) and 1-6 of
its boilerplate (``without``); a line is *pinned* by a snippet that it contains,
or that contains it (a line of at least ``MIN_WORDS`` words inside a longer
snippet). Of the page's html-text scrape (as ``training/snippets_eval.py`` makes
it):

* a line pinned by a ``with`` snippet is article;
* a line pinned by a ``without`` snippet is noise, of the class the corpus
  builder's DOM rules give it (``training/corpus.py`` ``label_scrape``, with the
  ``with`` snippets standing in for the main text); article there becomes nav
  before the first article line and footer after it;
* a line pinned by both, and every other line, has no label (not trained on).

With ``teacher`` (``build_model --snippet-teacher-weight W``), every page of the split
also gives a second copy whose *unpinned* lines are labelled by the corpus builder's
rules with trafilatura's extraction of the page standing in for the main text (the
same ``label_scrape``): trafilatura as a teacher on pages in other languages, at a
lower weight than the pinned lines. Pages where trafilatura extracts nothing, or whose
extraction the scrape's article lines cover less than ``TEACHER_MIN_RECALL``, give none.

Pages are split by domain (``snippet_split_of``; not the WCXB corpus's
``training.corpus.split_of``): ``train`` pages may be trained on
(``build_model --snippets``), ``eval`` pages are scored by
``snippets_eval --split eval``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from noiseclf.labels import LabelledScrape
from noiseclf.text import split_lines

MIN_WORDS = 4  # a line inside a snippet counts only from this many words (not "Home", "Mehr")
TEACHER_MIN_RECALL = 0.5  # below this, the scrape and trafilatura's text disagree too much to label from


def snippet_split_of(url: str) -> str:
    host = (urlsplit(url).hostname or url).lower()
    host = host[4:] if host.startswith("www.") else host
    return "eval" if int(hashlib.sha1(("snippets:" + host).encode()).hexdigest()[:8], 16) % 2 else "train"


def norm(s: str) -> str:
    """White space collapsed: how the dataset's metric (and pinning) compares text with snippets."""
    return " ".join(s.split())


def pinned(lines: list[str], snippets: list[str]) -> set[int]:
    """Indices of the lines a snippet pins (see the module doc)."""
    snips = [norm(s) for s in snippets if norm(s)]
    out = set()
    for i, line in enumerate(lines):
        n = norm(line)
        if not n:
            continue
        if any(s in n for s in snips) or (len(n.split()) >= MIN_WORDS and any(n in s for s in snips)):
            out.add(i)
    return out


def pinned_labels(lines: list[str], text: str, html: str, rec: dict) -> tuple[list[str | None], set[int]]:
    """The labels the page's snippets give the lines of ``text`` (a scrape of ``html``; None where no
    snippet pins a line), and the lines pinned by any snippet (see the module doc)."""
    from .corpus import label_scrape

    by_with, by_without = pinned(lines, rec.get("with", [])), pinned(lines, rec.get("without", []))
    art, noise, either = by_with - by_without, by_without - by_with, by_with | by_without
    labels: list[str | None] = [None] * len(lines)
    if art or noise:
        dom = {r["line"] - 1: r["label"] for r in label_scrape(text, html, " ".join(rec.get("with", [])))[0]}
        first = min(art) if art else len(lines)
        for i in art:
            labels[i] = "article"
        for i in noise:
            lab = dom.get(i, "footer")
            labels[i] = lab if lab != "article" else ("nav" if i < first else "footer")
    return labels, either


def teacher_labels(lines: list[str], text: str, html: str, either: set[int]) -> list[str | None] | None:
    """The unpinned lines labelled with trafilatura's extraction as the main text (None: too little agreement)."""
    from .baselines import trafilatura_text
    from .corpus import label_scrape

    extracted = trafilatura_text(html)
    recs, stats = label_scrape(text, html, extracted) if extracted.strip() else ([], {"gt_recall": 0.0})
    if stats["gt_recall"] < TEACHER_MIN_RECALL:
        return None
    taught: list[str | None] = [None] * len(lines)
    for r in recs:
        if (r["line"] - 1) not in either:  # a pinned line is the snippets' to label
            taught[r["line"] - 1] = r["label"]
    return taught if any(taught) else None


def snippet_scrapes(data: Path, split: str, limit: int | None = None,
                    teacher: bool = False) -> list[LabelledScrape]:
    """The weakly labelled html-text scrapes of one split's pages (with ``teacher``, also the
    teacher-labelled copies, ``meta["source"] == "trafilatura"``; see the module doc)."""
    from .corpus import TOOLS, clean_scrape
    from .snippets_eval import read_html

    meta = json.loads((data / "evaldata.json").read_text(encoding="utf-8"))
    out = []
    for url, rec in sorted(meta.items()):
        if snippet_split_of(url) != split:
            continue
        path = data / "html" / (rec["file"] + ".gz")
        if not path.is_file():
            continue
        html = read_html(path)
        text = clean_scrape(TOOLS["html-text"](html) or "")
        lines = split_lines(text)
        labels, either = pinned_labels(lines, text, html, rec)
        meta = {"domain": urlsplit(url).hostname or url, "tool": "html-text", "url": url}
        if teacher:
            taught = teacher_labels(lines, text, html, either)
            if taught is not None:
                t = LabelledScrape(rec["file"], path, path, lines, taught)
                t.meta = {**meta, "source": "trafilatura"}
                out.append(t)
        if not any(labels):
            continue
        s = LabelledScrape(rec["file"], path, path, lines, labels)
        s.meta = {**meta, "source": "snippets"}
        out.append(s)
        if limit and len(out) >= limit:
            break
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    args = ap.parse_args(argv)
    for split in ("train", "eval"):
        scrapes = snippet_scrapes(args.data, split)
        counts = Counter(lab for s in scrapes for lab in s.labels if lab is not None)
        print(f"{split}: {len(scrapes)} pages, {sum(counts.values())} pinned lines {dict(counts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
