"""Second stage: revise each line's label with its neighbours' probabilities.

A line between two article paragraphs is probably article even when its own
words are ambiguous; a short headline inside a block of other headlines is
probably a related story. The first stage scores each line from its own
features; this stage feeds every line's log-probabilities together with those
of the lines around it (and the mean over wider windows) into a small
logistic regression. It is trained on out-of-fold first-stage probabilities,
so it learns how far to trust the first stage on pages it has not seen.

Everything here is vectorised over many pages at once: rows of all pages are
concatenated and ``starts`` marks where each page begins.
"""

from __future__ import annotations

import numpy as np

OFFSETS = (-3, -2, -1, 1, 2, 3)
WINDOWS = (5, 15)


def _page_index(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every row: its page's first row, its page's end row, its index in the page."""
    n = int(lengths.sum())
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    ends = starts + np.repeat(lengths, lengths)
    pos = np.arange(n) - starts
    return starts, ends, pos


def context_features(proba: np.ndarray, lengths: np.ndarray, chars: np.ndarray | None = None,
                     article: int = 0) -> np.ndarray:
    """Dense second-stage features for rows of pages with ``lengths`` rows each.

    ``chars`` (the length of each row's line) weighs the "mass" features: the
    share of each label's expected characters that lies before and after the
    line — far past the end of the article's text, a line is unlikely to be
    article however it reads. ``article`` is the column of the article label.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    n, k = proba.shape
    if n == 0:
        return np.zeros((0, context_dim(k)))
    starts, ends, pos = _page_index(lengths)
    logp = np.log(np.clip(proba, 1e-6, 1.0))
    rows = np.arange(n)
    cols = [logp]
    for off in OFFSETS:
        j = rows + off
        ok = (j >= starts) & (j < ends)
        shifted = np.zeros_like(logp)
        shifted[ok] = logp[j[ok]]
        cols.append(shifted)
        cols.append(ok[:, None].astype(np.float64))
    csum = np.vstack([np.zeros((1, k)), np.cumsum(proba, axis=0)])
    for w in WINDOWS:
        lo = np.maximum(rows - w, starts)
        hi = np.minimum(rows + w + 1, ends)
        cols.append((csum[hi] - csum[lo]) / (hi - lo)[:, None])
    # Probability mass of each label before and after the line in the page.
    before = (csum[rows] - csum[starts]) / np.maximum(pos, 1)[:, None]
    after = (csum[ends] - csum[rows + 1]) / np.maximum(ends - rows - 1, 1)[:, None]
    cols += [before, after]
    rel = pos / np.maximum(ends - starts - 1, 1)
    cols.append(rel[:, None])
    # Character-weighted mass of each label before and after the line.
    c = np.ones(n) if chars is None else np.asarray(chars, dtype=np.float64)
    mass = proba * c[:, None]
    msum = np.vstack([np.zeros((1, k)), np.cumsum(mass, axis=0)])
    total = msum[ends] - msum[starts] + 1e-9
    cols.append((msum[rows] - msum[starts]) / total)
    cols.append((msum[ends] - msum[rows + 1]) / total)
    page_chars = np.cumsum(np.r_[0.0, c])
    share = c / (page_chars[ends] - page_chars[starts] + 1e-9)
    cols.append(np.log(share + 1e-6)[:, None])
    # Lines to the nearest likely-article line above and below (log, capped).
    cols.append(_distance_to_article(proba[:, article] > 0.5, starts, ends))
    return np.hstack(cols)


def _distance_to_article(is_art: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    n = len(is_art)
    idx = np.arange(n)
    last = np.where(is_art, idx, -1)
    last = np.maximum.accumulate(last)
    up = np.where(last >= starts, idx - last, 200)
    nxt = np.where(is_art, idx, n + 10)
    nxt = np.minimum.accumulate(nxt[::-1])[::-1]
    down = np.where(nxt < ends, nxt - idx, 200)
    return np.log1p(np.minimum(np.column_stack([up, down]), 200).astype(np.float64))


def context_dim(k: int) -> int:
    return k + len(OFFSETS) * (k + 1) + len(WINDOWS) * k + 2 * k + 1 + 2 * k + 1 + 2


def page_context_features(proba: np.ndarray, pages, labels) -> np.ndarray:
    """:func:`context_features` for the non-blank lines of ``pages``."""
    lengths = np.array([len(p) for p in pages], dtype=np.int64)
    chars = np.array([len(p.lines[i].strip()) for p in pages for i in p.content], dtype=np.float64)
    article = list(labels).index("article") if "article" in labels else 0
    return context_features(proba, lengths, chars, article)
