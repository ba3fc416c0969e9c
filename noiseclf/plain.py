"""Markdown scrapes as plain text: ``noiseclf clean --plain`` (``Cleaner(plain=True)``).

Scrapers that write Markdown (html2text, markdownify and the crawl services that
emit it) put every link's target beside its text: ``[Health](https://…/health/)``.
Cleaning keeps the article's lines, so an article's inline links keep their URLs,
and a text corpus gets words that are on no page. With ``--plain`` each kept line
is written as the text a reader sees: link and image targets dropped (a link keeps
its text, an image its alt text), emphasis, code, heading, list and quote marks
removed, backslash escapes undone. Which lines are kept does not change. HTML input
is converted to plain text already (:mod:`noiseclf.html`) and is left as it is.

Each line's inline Markdown is parsed alone by markdown-it-py (CommonMark), after its block marks
(bullets, numbers, ``#``, ``>``) are cut: it gets nested brackets
(``[![logo](a.svg)](/)``), escapes and ``snake_case_words`` right, which the regular
expressions tried first did not (held-out html2text scrapes of WCXB's test split,
article pages, word F1: 0.907 as written, 0.949 with link targets cut by a regular
expression, 0.953 with this; benchmarks/README.md "Markdown scrapes").

A line that is HTML by CommonMark's rules (it starts with a tag such as ``<div>``),
a rule (``***``, ``---``), a heading's underline (``===``) or a table's separator row
(``|---|:--:|``) has no plain text and is left out; tags inside a line
stay (often code shown as text). Plain text given to it changes little (a line's leading
``1.``, ``*`` or ``#`` is read as a list or heading mark): it is for Markdown scrapes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Sequence

# A scrape is Markdown with link targets (what `clean` without --plain points out) when at least
# MARKDOWN_MIN_LINKS of its non-blank lines, and MARKDOWN_MIN_SHARE of them, hold a link `](target)`.
# On the WCXB corpus's scrapes (1,358 pages): 1,332 of 1,350 html2text scrapes, 0 of 4,066 of
# html-text, inscriptis and bs4.
MARKDOWN_MIN_LINKS = 3
MARKDOWN_MIN_SHARE = 0.05
# A link's target and optional title after "](": it stops at the next bracket or space, so that
# matching takes linear time on any line (without that stop, "](/" repeated took 16 s on 60,000 characters)
_TARGET = r"[^()\[\]\s]*(?:\s+\"[^\"\n]*\")?\)"
_LINK = re.compile(r"\]\((?:[a-z][a-z0-9+.-]*:|/|#|\.)" + _TARGET, re.IGNORECASE)  # a URL-like target

# Longer lines (rare: the featuriser reads only the first 20,000 characters of a line too) are made
# plain by regular expressions in linear time: the parser takes up to 8 µs a character on
# pathological Markdown ("*_*_…", "![a](![a](…"), 1 µs on prose.
MAX_PARSED_CHARS = 20_000
_LINK_END = re.compile(r"\]\(" + _TARGET)  # any target
_MARKS = re.compile(r"!?\[|\]|\*\*|__|`")

# A line's block marks (list bullets and numbers, heading hashes, quote marks, as many as it has): the
# line is parsed alone, so an indented item of a nested list is an item, not a CommonMark code block.
_BLOCK_MARKS = re.compile(r"^(?:\s*(?:[*+-]|\d{1,9}[.)]|#{1,6}|>)(?=\s|$))+")
# Lines with no text of their own: rules (***, - - -, ___), setext underlines (===), table separator rows
# (matched on the stripped line, with no two white-space runs side by side: linear time)
_RULE = re.compile(r"([*_-])(?:[ \t]*\1){2,}|={3,}|\|?(?:[ \t]*:?-{3,}:?[ \t]*\|)+[ \t]*(?::?-{3,}:?)?")


@lru_cache(maxsize=1)
def _parser():
    from markdown_it import MarkdownIt  # imported when first asked for: `clean` without --plain never pays

    return MarkdownIt("commonmark").disable("html_inline")  # tags in a line stay: often code shown as text


def _inline_text(tokens: Sequence) -> str:
    out = []
    for t in tokens:
        if t.type in ("text", "code_inline"):
            out.append(t.content)
        elif t.type == "image":  # its alt text is its children
            out.append(_inline_text(t.children or ()))
        elif t.type in ("softbreak", "hardbreak"):
            out.append(" ")
    return "".join(out)


def plain_line(line: str) -> str:
    """The text a reader sees of one Markdown line ("" when it has none)."""
    if len(line) > MAX_PARSED_CHARS:
        return _plain_long(line)
    if _RULE.fullmatch(line.strip()):
        return ""
    if line.lstrip().startswith("<") and not line.startswith("    "):
        # an HTML block by CommonMark's rules (indented four spaces it is code, and stays)
        blocks = _parser().parse(line)
        if blocks and blocks[0].type == "html_block":
            return ""
    tokens = _parser().parseInline(_BLOCK_MARKS.sub("", line).strip())
    return _inline_text(tokens[0].children or ()).strip() if tokens else ""


def looks_like_markdown(text: str) -> bool:
    """Whether a scrape is Markdown whose links carry their targets (see MARKDOWN_MIN_LINKS)."""
    lines = [line for line in text.split("\n") if line.strip()]
    links = sum(1 for line in lines if _LINK.search(line))
    return links >= MARKDOWN_MIN_LINKS and links >= MARKDOWN_MIN_SHARE * len(lines)


def _plain_long(line: str) -> str:
    """A long line made plain without the parser: link targets, brackets, bold and code marks cut."""
    return _MARKS.sub("", _LINK_END.sub("", _BLOCK_MARKS.sub("", line))).strip()
