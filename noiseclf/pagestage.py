"""The page-level stage: the page as a sequence of first-stage scores.

The first stage labels each line from its own words and layout. What it keeps
by mistake (other stories' headlines in runs beside the article, teasers,
comments, consent text) mostly sits outside the article's contiguous block, or
inside it as a run of similar short lines: a per-line model cannot see that.
This stage reads the first stage's probabilities of the whole page and, for
every line, how they look around it:

* the line's own log-probabilities, and the mean probabilities over windows
  of +-1, +-3 and +-10 lines and over the whole page;
* the article *segments*: runs of lines whose +-3-line mean article probability
  is over one half. The main segment holds the most article characters; a line
  gets whether it is inside it, its distance to it (before or after), and the
  share of the page's article characters in its own segment and in the main one;
* the share of the page's expected article characters before and after the line;
* the run of headline-like lines (no final punctuation, 2-20 words) the line
  sits in: its length and its mean article probability;
* the distance to the nearest confident article line above and below.

A small multinomial logistic regression over these features (standardised)
gives the stage's probabilities; the final ones are their mean with the first
stage's (``mix``: the stage's share). Alone, the stage smooths where a page's
main content is short items (forum, collection and product pages lose); the
mean keeps most of its gain on articles and most of the first stage's on those
pages (training/README.md). It is trained on out-of-fold first-stage
probabilities, so that it learns how far to trust the first stage on sites
that stage never saw (``training/page_stage.py``).

The *markup stage* is the same model with more features: each line's markup
(``noiseclf/markup.py``: its share of characters inside links, ``<nav>``,
``<footer>``, ``<article>`` …), which only pages converted from HTML have. A
model that has one uses it for those pages and the page stage for the rest.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .features import Page

WINDOWS = (1, 3, 10)
SEGMENT_RADIUS = 3  # the article probability is smoothed over +-3 lines to find segments
_FINAL = frozenset(".!?:;")  # final punctuation, before any closing quotes and brackets
_CLOSERS = "'\"\u2019\u201d)]"


def _page_index(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every row: its page's first row, its page's end row, and its index in the page."""
    n = int(lengths.sum())
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    ends = starts + np.repeat(lengths, lengths)
    return starts, ends, np.arange(n) - starts


def _window_mean(csum: np.ndarray, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray, w: int) -> np.ndarray:
    lo = np.maximum(rows - w, starts)
    hi = np.minimum(rows + w + 1, ends)
    return (csum[hi] - csum[lo]) / (hi - lo)[:, None]


def _runs(flag: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Id of the run of equal ``flag`` values each row is in (runs never cross pages), and run starts."""
    n = len(flag)
    new = np.ones(n, dtype=bool)
    if n:
        new[1:] = (flag[1:] != flag[:-1]) | (starts[1:] != starts[:-1])
    run_id = np.cumsum(new) - 1
    return run_id, np.flatnonzero(new)


def _headline_like(pages: Sequence[Page]) -> np.ndarray:
    """2-20 words and no final punctuation."""
    out = []
    for p in pages:
        head = (p.words >= 2) & (p.words <= 20)
        for j in np.flatnonzero(head):
            head[j] = p.lines[p.content[j]].rstrip().rstrip(_CLOSERS)[-1:] not in _FINAL
        out.append(head)
    return np.concatenate(out) if out else np.zeros(0, dtype=bool)


def stage_features(proba: np.ndarray, pages: Sequence[Page], labels: Sequence[str]) -> np.ndarray:
    """The stage's features for the non-blank lines of ``pages`` (rows as in ``proba``)."""
    lengths = np.array([len(p) for p in pages], dtype=np.int64)
    n, k = proba.shape
    if n == 0:
        return np.zeros((0, feature_dim(k)))
    art = list(labels).index("article")
    starts, ends, pos = _page_index(lengths)
    rows = np.arange(n)
    page_len = (ends - starts).astype(np.float64)
    cols = [np.log(np.clip(proba, 1e-6, 1.0))]
    csum = np.vstack([np.zeros((1, k)), np.cumsum(proba, axis=0)])
    for w in WINDOWS:
        cols.append(_window_mean(csum, rows, starts, ends, w))
    cols.append((csum[ends] - csum[starts]) / page_len[:, None])

    chars = np.concatenate([p.chars for p in pages])
    a = proba[:, art]
    mass = a * chars
    msum = np.r_[0.0, np.cumsum(mass)]
    total = msum[ends] - msum[starts] + 1e-9
    before = (msum[rows] - msum[starts]) / total
    after = (msum[ends] - msum[rows + 1]) / total

    # Article segments: runs where the smoothed article probability is over one half.
    asum = np.r_[0.0, np.cumsum(a)]
    lo = np.maximum(rows - SEGMENT_RADIUS, starts)
    hi = np.minimum(rows + SEGMENT_RADIUS + 1, ends)
    smooth = (asum[hi] - asum[lo]) / (hi - lo)
    inside = smooth > 0.5
    seg_id, seg_start = _runs(inside, starts)
    seg_mass = np.bincount(seg_id, weights=mass * inside)
    page_of_seg = starts[seg_start]
    # the main segment of each page: the segment with the most article characters
    n_pages = len(lengths)
    page_idx = np.repeat(np.arange(n_pages), lengths)
    seg_page = page_idx[seg_start]
    best_mass = np.full(n_pages, -1.0)
    np.maximum.at(best_mass, seg_page, seg_mass)
    is_best = seg_mass >= best_mass[seg_page] - 1e-12
    main_seg = np.full(n_pages, -1)
    for s in np.flatnonzero(is_best)[::-1]:  # first (topmost) best segment of each page
        main_seg[seg_page[s]] = s
    main_of_row = main_seg[page_idx]
    seg_len = np.diff(np.r_[seg_start, n])
    main_lo = seg_start[main_of_row] - page_of_seg[main_of_row]
    main_hi = main_lo + seg_len[main_of_row]
    in_main = (seg_id == main_of_row) & inside
    dist_before = np.maximum(main_lo - pos, 0)
    dist_after = np.maximum(pos - main_hi + 1, 0)
    page_art = total
    cols.append(np.column_stack([
        before, after, in_main.astype(np.float64),
        np.log1p(dist_before), np.log1p(dist_after),
        seg_mass[seg_id] / page_art * inside, seg_mass[main_of_row] / page_art,
        np.log1p(seg_len[seg_id]) * inside,
    ]))

    # Runs of headline-like lines.
    head = _headline_like(pages)
    run_id, run_start = _runs(head, starts)
    run_len = np.diff(np.r_[run_start, n])[run_id]
    run_art = np.bincount(run_id, weights=a)[run_id] / run_len
    cols.append(np.column_stack([head.astype(np.float64), np.log1p(run_len) * head, run_art * head]))

    # Lines to the nearest confident article line above and below, and the position.
    strong = a > 0.8
    last = np.maximum.accumulate(np.where(strong, rows, -1))
    up = np.where(last >= starts, rows - last, 200)
    nxt = np.minimum.accumulate(np.where(strong, rows, n + 10)[::-1])[::-1]
    down = np.where(nxt < ends, nxt - rows, 200)
    cols.append(np.log1p(np.minimum(np.column_stack([up, down]), 200).astype(np.float64)))
    cols.append(np.column_stack([pos / np.maximum(page_len - 1, 1), np.log1p(page_len)]))
    return np.hstack(cols)


def markup_stage_features(proba: np.ndarray, pages: Sequence[Page], labels: Sequence[str]) -> np.ndarray:
    """The markup stage's features: the page stage's, then each line's markup (pages from HTML only)."""
    from .markup import markup_features

    if any(p.markup is None for p in pages):
        raise ValueError("the markup stage needs pages converted from HTML (Page.markup)")
    extra = [markup_features(p.markup) for p in pages]
    return np.hstack([stage_features(proba, pages, labels), np.vstack(extra)])


def feature_dim(k: int, markup: bool = False) -> int:
    from .markup import MARKUP_DIM

    return k + len(WINDOWS) * k + k + 8 + 3 + 2 + 2 + (MARKUP_DIM if markup else 0)


class PageStage:
    """The fitted stage: standardisation and a multinomial logistic regression, as plain numbers."""

    def __init__(self, labels: Sequence[str], mean: np.ndarray, scale: np.ndarray, coef: np.ndarray,
                 intercept: np.ndarray, mix: float = 1.0, markup: bool = False):
        self.labels = tuple(labels)
        self.mix = float(mix)  # the stage's share of the final probabilities (files without it: 1.0)
        self.markup = bool(markup)  # the markup stage: also reads Page.markup (pages from HTML)
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)

    def predict_proba(self, proba: np.ndarray, pages: Sequence[Page]) -> np.ndarray:
        from .model import probabilities

        if len(proba) == 0:
            return proba
        features = markup_stage_features if self.markup else stage_features
        X = (features(proba, pages, self.labels) - self.mean) / self.scale
        staged = probabilities(X @ self.coef.T + self.intercept, len(self.labels))
        if self.mix >= 1.0:
            return staged
        return self.mix * staged + (1.0 - self.mix) * proba

    def arrays(self) -> dict[str, np.ndarray]:
        prefix = "markup" if self.markup else "stage"
        return {f"{prefix}_mean": self.mean, f"{prefix}_scale": self.scale, f"{prefix}_coef": self.coef,
                f"{prefix}_intercept": self.intercept}
