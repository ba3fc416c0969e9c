"""Bounds that keep cleaning fast and small whatever the input looks like.

A scrape can hold a 20 MB line or a million lines. Neither is a web page the
model was trained on, and neither may take unbounded time or memory:

* the features of a line look at its first :data:`MAX_FEATURE_CHARS`
  characters only (the longest line in the seeds has 4,446); the line itself
  is kept or dropped whole, never cut;
* a page with more than :data:`WINDOW_LINES` non-blank lines is classified in
  windows of that many lines, each seen with :data:`WINDOW_MARGIN` lines of
  context on either side (position-in-page features are then relative to the
  window); smaller pages are classified exactly as before;
* no more than :data:`MAX_LINES_PER_CALL` lines go through the featuriser at
  once, so the feature matrices of one call stay small.

Pages within these bounds get exactly the same predictions as without them.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .features import Page

MAX_FEATURE_CHARS = 20_000
WINDOW_LINES = 20_000
WINDOW_MARGIN = 1_000
MAX_LINES_PER_CALL = 50_000


def _cap(line: str) -> str:
    if len(line) <= MAX_FEATURE_CHARS:
        return line
    head = line[:MAX_FEATURE_CHARS]
    if head.strip():
        return head
    return line.strip()[:MAX_FEATURE_CHARS]  # never turn a non-blank line blank


def feature_page(page: Page) -> Page:
    """The page the featuriser sees: every line cut to :data:`MAX_FEATURE_CHARS`."""
    if all(len(line) <= MAX_FEATURE_CHARS for line in page.lines):
        return page
    return Page([_cap(line) for line in page.lines], page.markup)


def _units(page: Page) -> list[tuple[Page, int, int]]:
    """(page to featurise, first row to keep, row after the last to keep)."""
    n = len(page.content)
    if n <= WINDOW_LINES:
        return [(page, 0, n)]
    units = []
    for start in range(0, n, WINDOW_LINES):
        stop = min(start + WINDOW_LINES, n)
        lo, hi = max(0, start - WINDOW_MARGIN), min(n, stop + WINDOW_MARGIN)
        sub = Page(page.lines[page.content[lo]:page.content[hi - 1] + 1],
                   None if page.markup is None else page.markup[lo:hi])
        units.append((sub, start - lo, stop - lo))
    return units


def bounded_predict(predict: Callable[[Sequence[Page]], np.ndarray], pages: Sequence[Page]) -> np.ndarray:
    """``predict(pages)`` (one probability row per non-blank line), within the bounds above."""
    units = [u for page in pages for u in _units(feature_page(page))]
    if len(units) == len(pages) and sum(len(u[0]) for u in units) <= MAX_LINES_PER_CALL:
        return predict([u[0] for u in units])
    parts: list[np.ndarray] = []
    group: list[tuple[Page, int, int]] = []
    rows = 0

    def flush() -> None:
        proba = predict([u[0] for u in group])
        offset = 0
        for sub, keep_from, keep_to in group:
            parts.append(proba[offset + keep_from: offset + keep_to])
            offset += len(sub)

    for unit in units:
        if group and rows + len(unit[0]) > MAX_LINES_PER_CALL:
            flush()
            group, rows = [], 0
        group.append(unit)
        rows += len(unit[0])
    if group:
        flush()
    return np.vstack(parts)
