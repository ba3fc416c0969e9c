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


def context_features(proba: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Dense second-stage features for rows of pages with ``lengths`` rows each."""
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
    return np.hstack(cols)


def context_dim(k: int) -> int:
    return k + len(OFFSETS) * (k + 1) + len(WINDOWS) * k + 2 * k + 1
