"""A page as the featuriser sees it, and the layout features of its lines.

A line's layout is its own shape (:mod:`noiseclf.features.shape`) plus where
it sits in the page: its position, the blank lines around it, the block of
consecutive lines it belongs to, its distance to the densest stretch of text,
how often it repeats in the page, and the shape of the three lines before and
after it. Layout only exists in the context of the page, so it is computed per
page; it carries across sites where words do not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

import numpy as np

from ..text import is_blank, normalize_lines
from .shape import SHAPE_NAMES, line_shapes


@dataclass
class Page:
    """A scrape as a list of lines; features are computed for the non-blank ones."""

    lines: list[str]
    # From HTML only (noiseclf/markup.py): a row of markup shares per non-blank line, else None.
    markup: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.content = [i for i, line in enumerate(self.lines) if not is_blank(line)]
        if self.markup is not None and len(self.markup) != len(self.content):
            raise ValueError(f"markup has {len(self.markup)} rows for {len(self.content)} non-blank lines")

    def __len__(self) -> int:  # number of rows the page contributes
        return len(self.content)

    @cached_property
    def words(self) -> np.ndarray:
        """Whitespace-separated words of each non-blank line (the page stage and the
        page-relative drop both read them: counted once)."""
        return np.fromiter((len(self.lines[i].split()) for i in self.content), dtype=np.int64,
                           count=len(self.content))

    @cached_property
    def chars(self) -> np.ndarray:
        """Characters of each non-blank line without its surrounding white space (the page stage)."""
        return np.fromiter((len(self.lines[i].strip()) for i in self.content), dtype=np.float64,
                           count=len(self.content))


# Shape features repeated for each neighbour, and the neighbours' offsets.
_NEIGHBOUR_SHAPES = ("log_chars", "log_words", "ends_terminal", "bullet", "log_indent", "title_frac",
                     "digit_frac", "has_date", "log_commas", "linkish")
_NEIGHBOUR_COLS = [SHAPE_NAMES.index(name) for name in _NEIGHBOUR_SHAPES]
_NEIGHBOUR_OFFSETS = (-3, -2, -1, 1, 2, 3)
_LOG_CHARS, _ENDS_TERMINAL = SHAPE_NAMES.index("log_chars"), SHAPE_NAMES.index("ends_terminal")


def _around(values: np.ndarray, radius: int) -> np.ndarray:
    """Sum of each value and its ``radius`` neighbours on either side (any length)."""
    full = np.convolve(values, np.ones(2 * radius + 1), mode="full")
    return full[radius: radius + len(values)]


def page_layout(page: Page, shape: np.ndarray | None = None, norm: Sequence[str] | None = None,
                names_only: bool = False):
    """Layout features of every non-blank line of a page, one row each.

    Each row: the line's own shape, its place in the page (relative position,
    blank lines around it, the block of consecutive lines it sits in, its
    distance to the densest stretch of text, how often it repeats), and the
    shape of the three lines before and after it.
    """
    idx = page.content
    m = len(idx)
    if m == 0 and not names_only:
        return np.zeros((0, LAYOUT_DIM))
    raw = [page.lines[i] for i in idx]
    if shape is None:  # (the featuriser passes the shapes and normalised lines it has)
        shape = line_shapes(raw)
    k = np.arange(m, dtype=np.float64)
    lines = page.lines
    n_all = len(lines)
    blank_before = np.array([1.0 if i > 0 and is_blank(lines[i - 1]) else 0.0 for i in idx])
    blank_after = np.array([1.0 if i + 1 < n_all and is_blank(lines[i + 1]) else 0.0 for i in idx])

    # Blocks: runs of non-blank lines with no blank line between them.
    block_id = np.zeros(m, dtype=np.int64)
    for j in range(1, m):
        block_id[j] = block_id[j - 1] + (1 if idx[j] - idx[j - 1] > 1 else 0)
    block_sizes = np.bincount(block_id)
    chars = np.expm1(shape[:, _LOG_CHARS])
    block_chars = np.bincount(block_id, weights=chars)
    first_in_block = np.r_[True, block_id[1:] != block_id[:-1]]
    pos_in_block = k - np.maximum.accumulate(np.where(first_in_block, k, 0))

    # Density: characters in a window of 7 lines; the densest window is where
    # the main text most likely is.
    window = _around(chars, 3)
    densest = int(np.argmax(window))
    dist = (k - densest) / max(m, 1)
    density_rel = window / window.max() if window.max() > 0 else np.zeros(m)
    median_log = float(np.median(shape[:, _LOG_CHARS]))

    if norm is None:
        norm = normalize_lines(raw)
    counts: dict[str, int] = {}
    for t in norm:
        counts[t] = counts.get(t, 0) + 1
    repeats = np.array([math.log1p(counts[t] - 1) for t in norm])

    # Share of terminal-punctuated lines and mean length around the line.
    denom = _around(np.ones(m), 3)
    term_around = _around(shape[:, _ENDS_TERMINAL], 3) / denom
    len_around = _around(shape[:, _LOG_CHARS], 3) / denom

    context = [  # (name, values): the page-context columns, in order
        ("rel_position", k / max(m - 1, 1)),
        ("log_index", np.log1p(k)),
        ("log_index_from_end", np.log1p(m - 1 - k)),
        ("blank_before", blank_before),
        ("blank_after", blank_after),
        ("log_block_lines", np.log1p(block_sizes[block_id])),
        ("log_block_chars", np.log1p(block_chars[block_id])),
        ("log_pos_in_block", np.log1p(pos_in_block)),
        ("dist_densest", dist),
        ("abs_dist_densest", np.abs(dist)),
        ("before_densest", (k < densest).astype(np.float64)),
        ("density_rel", density_rel),
        ("log_chars_vs_median", shape[:, _LOG_CHARS] - median_log),
        ("log_repeats", repeats),
        ("terminal_around", term_around),
        ("log_chars_around", len_around),
        ("log_page_lines", np.full(m, math.log1p(m))),
    ]
    if names_only:
        return [name for name, _ in context]
    neigh = []
    sub = shape[:, _NEIGHBOUR_COLS]
    for off in _NEIGHBOUR_OFFSETS:
        shifted = np.zeros_like(sub)
        present = np.zeros((m, 1))
        if off < 0 and m + off > 0:
            shifted[-off:] = sub[: m + off]
            present[-off:] = 1.0
        elif off > 0 and m - off > 0:
            shifted[: m - off] = sub[off:]
            present[: m - off] = 1.0
        neigh.append(np.hstack([shifted, present]))
    return np.hstack([shape, np.column_stack([v for _, v in context])] + neigh)


CONTEXT_NAMES: tuple[str, ...] = tuple(page_layout(Page(["x"]), names_only=True))
LAYOUT_NAMES = (
    SHAPE_NAMES
    + CONTEXT_NAMES
    + tuple(
        f"{'prev' if off < 0 else 'next'}{abs(off)}_{name}"
        for off in _NEIGHBOUR_OFFSETS
        for name in _NEIGHBOUR_SHAPES + ("present",)
    )
)
LAYOUT_DIM = len(LAYOUT_NAMES)
