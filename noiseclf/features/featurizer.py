"""The featuriser: pages in, one row per non-blank line out, for fitting and predicting alike.

A row is three blocks side by side: the hashed word n-grams and the hashed
character n-grams of the normalised line (:func:`noiseclf.text.normalize_lines`),
each TF-IDF weighted, L2-normalised and scaled by its weight; and the line's
layout (:mod:`noiseclf.features.layout`), standardised and scaled by
``layout_weight``. With ``neighbour_words`` > 0 a fourth block follows: the mean of
the word blocks of the line's neighbours (:func:`neighbour_mean`), scaled by
``neighbour_words_weight``; being linear, it costs prediction one more dot product
per line, averaged over each line's neighbours. Training builds the sparse matrix with
:meth:`Featurizer.transform` (scipy is imported there only); prediction (:class:`LineScorer`) computes the
same numbers and multiplies them by the weights without building the matrix:
in bulk with the compiled kernel (:mod:`noiseclf.features.kernel`), for small
jobs with numpy (see :data:`KERNEL_MODE`).
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict
from typing import TYPE_CHECKING, Sequence

import numpy as np

from ..settings import Settings
from ..text import normalize_lines
from .hashing import CharNgrams, Counts, tfidf, word_counts_raw
from .layout import LAYOUT_DIM, Page, page_layout
from .shape import line_shapes

if TYPE_CHECKING:
    import scipy.sparse as sp


def n_features(settings: Settings) -> int:
    """Columns of a featuriser's rows: word, character, layout, then the neighbours' words."""
    n_word = 2 ** settings.word_bits
    return n_word + 2 ** settings.char_bits + LAYOUT_DIM + (n_word if settings.neighbour_words > 0 else 0)


def _windows(lengths: Sequence[int], radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the rows ``[lo, hi)`` within ``radius`` of it in its own page (``lengths``: the
    non-blank lines of each page, in row order). The one definition of a line's neighbours."""
    lengths = np.asarray(lengths, dtype=np.int64)
    start = np.repeat(np.cumsum(lengths) - lengths, lengths)
    i = np.arange(int(lengths.sum()))
    return np.maximum(i - radius, start), np.minimum(i + radius + 1, start + np.repeat(lengths, lengths))


def neighbour_mean(lengths: Sequence[int], radius: int) -> "sp.csr_matrix":
    """The rows x rows matrix whose row i averages the rows of the lines within ``radius``
    of line i in the same page, line i left out (a line alone in its page: all zero).
    Training multiplies the word block by it; prediction uses :func:`neighbour_mean_of`."""
    import scipy.sparse as sp

    lo, hi = _windows(lengths, radius)
    n = len(lo)
    i = np.arange(n)
    width = hi - lo
    rows = np.repeat(i, width)
    cols = np.repeat(lo, width) + (np.arange(len(rows)) - np.repeat(np.cumsum(width) - width, width))
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    count = np.bincount(rows, minlength=n).astype(np.float64)
    return sp.csr_matrix((1.0 / count[rows], (rows, cols)), shape=(n, n))


def neighbour_mean_of(lengths: Sequence[int], radius: int, values: np.ndarray) -> np.ndarray:
    """``neighbour_mean(lengths, radius) @ values`` for dense ``values`` (one row per line),
    by running sums: no sparse matrix, so a single page costs microseconds."""
    lo, hi = _windows(lengths, radius)
    csum = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
    count = (hi - lo - 1).astype(np.float64)
    total = csum[hi] - csum[lo] - values
    return np.divide(total, count[:, None], out=np.zeros_like(total), where=count[:, None] > 0)


class Featurizer:
    """Settings plus what fitting learns: IDF weights and layout scaling."""

    ARRAYS = ("idf_word", "idf_char", "layout_mean", "layout_scale")

    def __init__(self, settings: Settings | None = None, arrays: dict[str, np.ndarray] | None = None):
        self.settings = settings or Settings()
        s = self.settings
        self.n_word, self.n_char = 2 ** s.word_bits, 2 ** s.char_bits
        self.n_features = n_features(s)
        self._chars = CharNgrams(tuple(s.char_ngrams), self.n_char)  # remembers each word's n-grams
        if arrays is not None:
            self.idf_word = np.asarray(arrays["idf_word"], dtype=np.float32)
            self.idf_char = np.asarray(arrays["idf_char"], dtype=np.float32)
            self.layout_mean = np.asarray(arrays["layout_mean"], dtype=np.float64)
            self.layout_scale = np.asarray(arrays["layout_scale"], dtype=np.float64)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"idf_word": self.idf_word.astype(np.float32), "idf_char": self.idf_char.astype(np.float32),
                "layout_mean": self.layout_mean.astype(np.float64),
                "layout_scale": self.layout_scale.astype(np.float64)}

    # -- the pieces, for raw non-blank lines ---------------------------------
    def counts(self, norm: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Hashed word and character n-gram counts of normalised lines."""
        words, chars = self._counts(norm)
        return words.tocsr(), chars.tocsr()

    def _counts(self, norm: Sequence[str]) -> tuple[Counts, Counts]:
        s = self.settings
        words = word_counts_raw(norm, tuple(s.word_ngrams), self.n_word)
        chars = self._chars.raw_counts([t[: s.char_max_len] for t in norm])
        return words, chars

    def text_blocks(self, norm: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The word and character blocks (TF-IDF, L2, weighted) of normalised lines."""
        words, chars = self._text_blocks(norm)
        return words.tocsr(), chars.tocsr()

    def _text_blocks(self, norm: Sequence[str]) -> tuple[Counts, Counts]:
        words, chars = self._counts(norm)
        s = self.settings
        return tfidf(words, self.idf_word, s.word_weight), tfidf(chars, self.idf_char, s.char_weight)

    def layout(self, pages: Sequence[Page], shapes: np.ndarray, norm: Sequence[str]) -> np.ndarray:
        """Raw layout rows of every page's non-blank lines, given their shapes and normalised text."""
        mats, row = [], 0
        for p in pages:
            m = len(p)
            if m:
                mats.append(page_layout(p, shape=shapes[row: row + m], norm=norm[row: row + m]))
            row += m
        return np.vstack(mats) if mats else np.zeros((0, LAYOUT_DIM))

    def scale_layout(self, lay: np.ndarray) -> np.ndarray:
        return ((lay - self.layout_mean) / self.layout_scale * self.settings.layout_weight).astype(np.float32)

    # -- the whole matrix (training, adaptation) -----------------------------
    def fit_transform(self, pages: Sequence[Page]) -> sp.csr_matrix:
        """Learn the IDF weights and layout scaling from ``pages``; their feature matrix."""
        raws = [p.lines[i] for p in pages for i in p.content]
        norm = normalize_lines(raws)
        words, chars = self.counts(norm)
        self.idf_word, self.idf_char = _idf(words), _idf(chars)
        lay = self.layout(pages, line_shapes(raws), norm)
        self.layout_mean = lay.mean(axis=0) if len(lay) else np.zeros(LAYOUT_DIM)
        std = lay.std(axis=0) if len(lay) else np.ones(LAYOUT_DIM)
        std[std < 1e-9] = 1.0  # a constant column stays zero instead of dividing by zero
        self.layout_scale = std
        s = self.settings
        w = tfidf(words, self.idf_word, s.word_weight)
        return self._stack(pages, w, tfidf(chars, self.idf_char, s.char_weight), self.scale_layout(lay))

    def _stack(self, pages: Sequence[Page], w, c, lay: np.ndarray) -> sp.csr_matrix:
        import scipy.sparse as sp

        blocks = [w, c, sp.csr_matrix(lay)]
        s = self.settings
        if s.neighbour_words > 0:
            near = neighbour_mean([len(p) for p in pages], s.neighbour_words)
            blocks.append((near @ w.tocsr()) * np.float32(s.neighbour_words_weight))
        return sp.hstack(blocks, format="csr")

    def transform(self, pages: Sequence[Page]) -> sp.csr_matrix:
        raws = [p.lines[i] for p in pages for i in p.content]
        norm = normalize_lines(raws)
        w, c = self.text_blocks(norm)
        return self._stack(pages, w, c, self.scale_layout(self.layout(pages, line_shapes(raws), norm)))


def _idf(counts: sp.csr_matrix) -> np.ndarray:
    """Smoothed IDF: ln((1 + lines) / (1 + lines with the column)) + 1."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


# Which implementation scores lines: "auto" (the compiled kernel once this
# process has scored KERNEL_AFTER_LINES lines, or at once if it is already
# loaded), "kernel" (always, when numba is installed) or "numpy" (never).
KERNEL_MODE = os.environ.get("NOISECLF_KERNEL", "auto")
# Loading numba and its cached machine code costs about 0.35 s of CPU once per
# process, the price of ~15,000 lines on the numpy path; below this, a small
# job (a model's self-check at load, a command on a few pages) never pays it.
KERNEL_AFTER_LINES = 10_000
# Until numba has compiled the kernel once (its first use after an install) loading it
# means compiling it: 15 s of CPU (2-core EPYC, busy), the numpy path's time for about
# 900,000 lines at 60,000 lines/s. A job that has scored half a million lines will likely
# run long enough to repay it; a short one (`noiseclf train`'s checks, ~20,000) is not
# made to wait. `prefer_kernel` (a long job said so) compiles at once.
KERNEL_COMPILE_AFTER_LINES = 500_000
_kernel_state = {"module": None, "failed": False, "ready": False, "lines": 0, "cached": None}
_NORMALIZE = normalize_lines  # the normalisation the kernel implements (it steps aside if that is replaced)


def _kernel_cached() -> bool:
    """Is the kernel's machine code already compiled on this machine (asked once per process)?"""
    st = _kernel_state
    if st["cached"] is None:
        try:
            from . import kernel  # numba is imported, nothing is compiled

            st["cached"] = kernel.is_cached()
        except Exception:
            st["cached"] = False
    return st["cached"]


def _kernel_module():
    """noiseclf.features.kernel, imported and warmed up on first use (None when numba is missing or broken)."""
    st = _kernel_state
    if st["module"] is None and not st["failed"]:
        # numba's first compilation looks for BLAS by importing scipy.linalg, 0.2 s
        # of a process's start; the kernel uses no BLAS, so that import is hidden
        # for the moment numba looks (it then records "no BLAS" for its own use only).
        hide = "scipy.linalg" not in sys.modules
        if hide:
            sys.modules["scipy.linalg"] = None  # type: ignore[assignment]
        try:
            from . import kernel

            kernel.warm_up()
        except Exception:  # no numba on this platform, or it cannot run here: the numpy path does everything
            st["failed"] = True
            return None
        finally:
            if hide and "scipy.linalg" in sys.modules and sys.modules["scipy.linalg"] is None:
                del sys.modules["scipy.linalg"]
        st["module"] = kernel
    return st["module"]


# Bytes of scrape text per line, measured on WCXB's html-text scrapes (21.8 MiB,
# 586,184 lines): how a command turns the size of its input files into lines.
BYTES_PER_LINE = 39


def expect_bytes(n_bytes: int) -> bool:
    """Say that this process is about to clean ``n_bytes`` of scrapes: load the
    kernel now if that is more lines than :data:`KERNEL_AFTER_LINES` (the first
    ones would otherwise go through the numpy path while it waits)."""
    return n_bytes // BYTES_PER_LINE >= KERNEL_AFTER_LINES and prefer_kernel()


def prefer_kernel() -> bool:
    """Say that this process will score many lines: load the compiled kernel now
    (about half a second) and use it from the first call. False if it cannot run here."""
    if KERNEL_MODE == "numpy" or _kernel_module() is None:
        return False
    _kernel_state["ready"] = True
    return True


class LineScorer:
    """The first stage's decision values: a linear model over the featuriser's blocks.

    ``coef`` has one row per class (one for a binary model), columns in the
    featuriser's order. A cache keyed by the raw line (``cache_lines``
    distinct lines, least recently used first out) keeps each line's
    normalised text, shape and text score on the numpy path.

    Two implementations give the same numbers (to float64 rounding): the
    compiled kernel (:mod:`noiseclf.features.kernel`, one pass per line over the
    whole batch) and the numpy path (the featuriser's blocks); see
    :data:`KERNEL_MODE` for which runs.
    """

    def __init__(self, featurizer: Featurizer, coef: np.ndarray, intercept: np.ndarray, cache_lines: int = 0):
        self.featurizer = featurizer
        f = featurizer
        coef = np.asarray(coef)
        # One transposed copy (rows: columns of the features), float32 when that
        # is exact (a model file stores float32): half the memory, same numbers.
        dt = np.float32 if np.array_equal(coef.astype(np.float32), coef) else np.float64
        self.coef_word = np.ascontiguousarray(coef[:, : f.n_word].T, dtype=dt)
        self.coef_char = np.ascontiguousarray(coef[:, f.n_word: f.n_word + f.n_char].T, dtype=dt)
        lay0 = f.n_word + f.n_char
        self.coef_layout = np.ascontiguousarray(coef[:, lay0: lay0 + LAYOUT_DIM].T, dtype=np.float64)
        # The neighbours' word block (None without one): each line's own score with these
        # weights, averaged over its neighbours (neighbour_mean), is the block's contribution.
        self.coef_near = (np.ascontiguousarray(coef[:, lay0 + LAYOUT_DIM:].T, dtype=dt)
                          if f.settings.neighbour_words > 0 else None)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.cache_lines = int(cache_lines)
        self._cache: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._kernel = None

    def set_cache_size(self, lines: int) -> None:
        self.cache_lines = int(lines)
        while len(self._cache) > max(self.cache_lines, 0):
            self._cache.popitem(last=False)

    def clear_cache(self) -> None:
        self._cache.clear()
        self.featurizer._chars.clear()

    # -- which implementation ---------------------------------------------
    def _use_kernel(self, n_lines: int) -> bool:
        if KERNEL_MODE == "numpy" or self._kernel is False:
            return False
        if self._kernel is None:
            st = _kernel_state
            if KERNEL_MODE != "kernel" and not st["ready"]:
                st["lines"] += n_lines
                if st["lines"] < KERNEL_AFTER_LINES:
                    return False
                if st["module"] is None and st["lines"] < KERNEL_COMPILE_AFTER_LINES and not _kernel_cached():
                    return False
            kernel = _kernel_module()
            ok = kernel is not None and kernel.supported(self.featurizer)
            self._kernel = kernel.KernelScorer(self) if ok else False
        return self._kernel is not False

    # -- the numpy path -----------------------------------------------------
    def _text_scores(self, norm: Sequence[str]) -> np.ndarray:
        """Per line: the word + character score, then (with a neighbours' block) the line's
        own score under the neighbours' word weights."""
        k = self.coef_word.shape[1]
        width = k if self.coef_near is None else 2 * k
        if not norm:
            return np.zeros((0, width))
        w, c = self.featurizer._text_blocks(norm)
        text = w.dot(self.coef_word) + c.dot(self.coef_char)
        return text if self.coef_near is None else np.hstack([text, w.dot(self.coef_near)])

    def near_scores(self, pages: Sequence[Page], own: np.ndarray) -> np.ndarray:
        """The neighbours' word block's part of the decision, from each line's ``own`` score."""
        s = self.featurizer.settings
        return neighbour_mean_of([len(p) for p in pages], s.neighbour_words, own) * np.float32(
            s.neighbour_words_weight)

    def _line_parts(self, raws: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Normalised text, shape row and text score of every line; each distinct
        line computed once per call, and not at all while it is in the cache."""
        uniq = list(dict.fromkeys(raws))
        cache = self._cache if self.cache_lines > 0 else None
        if cache is None or not cache:
            todo, done = uniq, []
        else:
            todo = [r for r in uniq if r not in cache]
            done = [r for r in uniq if r in cache] if len(todo) < len(uniq) else []
        norm_t = normalize_lines(todo)
        shape_t, text_t = line_shapes(todo), self._text_scores(norm_t)
        ns = shape_t.shape[1]
        if done:
            entries = [cache[r] for r in done]
            for r in done:
                cache.move_to_end(r)
            rows = np.frombuffer(b"".join(e[1] for e in entries), dtype=np.float64).reshape(len(done), -1)
            norm_u = norm_t + [e[0] for e in entries]
            shape_u = np.vstack([shape_t, rows[:, :ns]])
            text_u = np.vstack([text_t, rows[:, ns:]])
            order = todo + done
        else:
            norm_u, shape_u, text_u, order = norm_t, shape_t, text_t, todo
        if cache is not None and todo:
            # One bytes object per line (shape row then text scores): compact,
            # and no views pinning this call's arrays.
            packed = np.ascontiguousarray(np.hstack([shape_t, text_t]), dtype=np.float64)
            for r, nm, row in zip(todo, norm_t, packed):
                cache[r] = (nm, row.tobytes())
            while len(cache) > self.cache_lines:
                cache.popitem(last=False)
        if len(order) == len(raws) and order == raws:
            return norm_u, shape_u, text_u
        pos = {r: i for i, r in enumerate(order)}
        idx = np.fromiter((pos[r] for r in raws), dtype=np.int64, count=len(raws))
        return [norm_u[i] for i in idx.tolist()], shape_u[idx], text_u[idx]

    def decision(self, pages: Sequence[Page]) -> np.ndarray:
        """Decision values, one row per non-blank line of every page."""
        raws = [p.lines[i] for p in pages for i in p.content]
        if not raws:
            return np.zeros((0, self.coef_word.shape[1]))
        if self._use_kernel(len(raws)):
            out = self._kernel.decision(pages, raws)
            _kernel_state["ready"] = True  # compiled and loaded: from now on every call may use it
            return out
        norm, shapes, text = self._line_parts(raws)
        lay = self.featurizer.scale_layout(self.featurizer.layout(pages, shapes, norm))
        k = self.coef_word.shape[1]
        out = text[:, :k] + lay @ self.coef_layout + self.intercept
        if self.coef_near is not None:
            out += self.near_scores(pages, text[:, k:])
        return out
