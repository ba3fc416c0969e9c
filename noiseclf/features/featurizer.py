"""The featuriser: pages in, one row per non-blank line out, for fitting and predicting alike.

A row is three blocks side by side: the hashed word n-grams and the hashed
character n-grams of the normalised line (:func:`noiseclf.text.normalize_lines`),
each TF-IDF weighted, L2-normalised and scaled by its weight; and the line's
layout (:mod:`noiseclf.features.layout`), standardised and scaled by
``layout_weight``. Training builds the sparse matrix with :meth:`Featurizer.transform`;
prediction (:class:`LineScorer`) computes the same blocks and multiplies them by
the weights without building the whole matrix, remembering the text part of
lines it has seen (menus and footers repeat across a crawl).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from ..settings import Settings
from ..text import normalize_lines
from .hashing import CharNgrams, tfidf, word_counts
from .layout import LAYOUT_DIM, Page, page_layout
from .shape import line_shapes


class Featurizer:
    """Settings plus what fitting learns: IDF weights and layout scaling."""

    ARRAYS = ("idf_word", "idf_char", "layout_mean", "layout_scale")

    def __init__(self, settings: Settings | None = None, arrays: dict[str, np.ndarray] | None = None):
        self.settings = settings or Settings()
        s = self.settings
        self.n_word, self.n_char = 2 ** s.word_bits, 2 ** s.char_bits
        self.n_features = self.n_word + self.n_char + LAYOUT_DIM
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
        s = self.settings
        words = word_counts(norm, tuple(s.word_ngrams), self.n_word)
        chars = self._chars.counts([t[: s.char_max_len] for t in norm])
        return words, chars

    def text_blocks(self, norm: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The word and character blocks (TF-IDF, L2, weighted) of normalised lines."""
        words, chars = self.counts(norm)
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
        return sp.hstack([tfidf(words, self.idf_word, s.word_weight), tfidf(chars, self.idf_char, s.char_weight),
                          sp.csr_matrix(self.scale_layout(lay))], format="csr")

    def transform(self, pages: Sequence[Page]) -> sp.csr_matrix:
        raws = [p.lines[i] for p in pages for i in p.content]
        norm = normalize_lines(raws)
        w, c = self.text_blocks(norm)
        lay = self.scale_layout(self.layout(pages, line_shapes(raws), norm))
        return sp.hstack([w, c, sp.csr_matrix(lay)], format="csr")


def _idf(counts: sp.csr_matrix) -> np.ndarray:
    """Smoothed IDF: ln((1 + lines) / (1 + lines with the column)) + 1."""
    n = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


class LineScorer:
    """The first stage's decision values: a linear model over the featuriser's blocks.

    ``coef`` has one row per class (one for a binary model), columns in the
    featuriser's order. A cache keyed by the raw line (``cache_lines``
    distinct lines, least recently used first out) keeps each line's
    normalised text, shape and text score.
    """

    def __init__(self, featurizer: Featurizer, coef: np.ndarray, intercept: np.ndarray, cache_lines: int = 0):
        self.featurizer = featurizer
        f = featurizer
        coef = np.asarray(coef, dtype=np.float64)
        self.coef_word = np.ascontiguousarray(coef[:, : f.n_word].T)
        self.coef_char = np.ascontiguousarray(coef[:, f.n_word: f.n_word + f.n_char].T)
        self.coef_layout = np.ascontiguousarray(coef[:, f.n_word + f.n_char:].T)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.cache_lines = int(cache_lines)
        self._cache: OrderedDict[str, tuple[str, bytes]] = OrderedDict()

    def set_cache_size(self, lines: int) -> None:
        self.cache_lines = int(lines)
        while len(self._cache) > max(self.cache_lines, 0):
            self._cache.popitem(last=False)

    def clear_cache(self) -> None:
        self._cache.clear()
        self.featurizer._chars.clear()

    def _text_scores(self, norm: Sequence[str]) -> np.ndarray:
        if not norm:
            return np.zeros((0, self.coef_word.shape[1]))
        w, c = self.featurizer.text_blocks(norm)
        return np.asarray(w @ self.coef_word) + np.asarray(c @ self.coef_char)

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
        norm, shapes, text = self._line_parts(raws)
        lay = self.featurizer.scale_layout(self.featurizer.layout(pages, shapes, norm))
        return text + lay @ self.coef_layout + self.intercept
