"""Features of a line: its words, its characters, its shape and its neighbours.

The featuriser takes whole pages (a page is the list of its lines) and returns
one row per non-blank line, because most of what tells a menu from a paragraph
is layout — length, punctuation, bullets, indentation, position in the page —
and that only exists in the context of the page. Words carry within a site;
shape carries across sites.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from .text import is_blank, normalize_line


@dataclass
class Page:
    """A scrape as a list of lines; features are computed for the non-blank ones."""

    lines: list[str]

    def __post_init__(self) -> None:
        self.content = [i for i, line in enumerate(self.lines) if not is_blank(line)]

    def __len__(self) -> int:  # number of rows the page contributes
        return len(self.content)


_TERMINAL = re.compile(r"[.!?]['\"\u2019\u201d)\]]*$")
_BULLET = re.compile(r"^\s*(?:[\u2022\u00b7\u25aa\u25b8\u25ba\u2023\u2043\u25cf\u25e6\-\*\+\u2013\u2014>]|\d{1,3}[.)]\s)")
_MONTH = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b|"
    r"\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b|"
    r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b",
    re.IGNORECASE,
)
_TIME = re.compile(r"\bago\b|\b\d{1,2}:\d{2}\b|\b(?:yesterday|today)\b", re.IGNORECASE)
_LEGAL = re.compile(r"\u00a9|\(c\)|copyright|all rights reserved|privacy|terms of", re.IGNORECASE)
_SEPARATORS = re.compile(r"[|\u00bb\u203a/\u00b7]")
_LINKISH = re.compile(r"https?://|www\.|\.com\b|@\w|\]\(", re.IGNORECASE)
_PUNCT = re.compile(r"[^\w\s]")
_SENTENCE = re.compile(r"[.!?]\s+[A-Z\u00c0-\u024f]")

# The per-line shape features, in column order (names are for reports).
SHAPE_NAMES = (
    "log_chars", "log_words", "mean_word_len", "ends_terminal", "ends_colon", "ends_ellipsis",
    "bullet", "log_indent", "upper_frac", "title_frac", "digit_frac", "has_date", "has_time",
    "legal", "log_separators", "punct_frac", "log_commas", "starts_upper", "linkish",
    "log_sentences", "all_caps", "markdown", "short_1_3_words",
)
# Shape features repeated for each neighbour (by index into SHAPE_NAMES).
_NEIGHBOUR_COLS = [0, 1, 3, 6, 7, 9, 10, 11, 16, 18]
_NEIGHBOUR_OFFSETS = (-3, -2, -1, 1, 2, 3)


def line_shape(raw: str) -> list[float]:
    """Shape features of one line, computed on its raw text."""
    s = raw.strip()
    n = len(s)
    words = s.split()
    nw = len(words)
    letters = sum(c.isalpha() for c in s)
    upper = sum(c.isupper() for c in s)
    digits = sum(c.isdigit() for c in s)
    expanded = raw.expandtabs(4)
    indent = len(expanded) - len(expanded.lstrip())
    return [
        math.log1p(n),
        math.log1p(nw),
        min(n / max(nw, 1), 20.0) / 10.0,
        1.0 if _TERMINAL.search(s) else 0.0,
        1.0 if s.endswith(":") else 0.0,
        1.0 if s.endswith(("...", "\u2026")) else 0.0,
        1.0 if _BULLET.match(raw) else 0.0,
        math.log1p(indent),
        upper / letters if letters else 0.0,
        sum(w[0].isupper() for w in words) / nw if nw else 0.0,
        digits / n if n else 0.0,
        1.0 if _MONTH.search(s) else 0.0,
        1.0 if _TIME.search(s) else 0.0,
        1.0 if _LEGAL.search(s) else 0.0,
        math.log1p(len(_SEPARATORS.findall(s))),
        len(_PUNCT.findall(s)) / n if n else 0.0,
        math.log1p(s.count(",")),
        1.0 if s[:1].isupper() else 0.0,
        1.0 if _LINKISH.search(s) else 0.0,
        math.log1p(len(_SENTENCE.findall(s))),
        1.0 if letters > 3 and upper == letters else 0.0,
        1.0 if s[:1] in "#[!|" else 0.0,
        1.0 if 1 <= nw <= 3 else 0.0,
    ]


def _around(values: np.ndarray, radius: int) -> np.ndarray:
    """Sum of each value and its ``radius`` neighbours on either side (any length)."""
    full = np.convolve(values, np.ones(2 * radius + 1), mode="full")
    return full[radius: radius + len(values)]


def page_layout(page: Page, shape: np.ndarray | None = None, norm: Sequence[str] | None = None) -> np.ndarray:
    """Layout features of every non-blank line of a page, one row each.

    Each row: the line's own shape, its place in the page (relative position,
    blank lines around it, the block of consecutive lines it sits in, its
    distance to the densest stretch of text, how often it repeats), and the
    shape of the three lines before and after it.
    """
    idx = page.content
    m = len(idx)
    if m == 0:
        return np.zeros((0, LAYOUT_DIM))
    raw = [page.lines[i] for i in idx]
    if shape is None:  # (the fast prediction path passes the shapes and normalised lines it has)
        shape = np.array([line_shape(r) for r in raw], dtype=np.float64)
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
    chars = np.expm1(shape[:, 0])
    block_chars = np.bincount(block_id, weights=chars)
    first_in_block = np.r_[True, block_id[1:] != block_id[:-1]]
    pos_in_block = k - np.maximum.accumulate(np.where(first_in_block, k, 0))

    # Density: characters in a window of 7 lines; the densest window is where
    # the main text most likely is.
    window = _around(chars, 3)
    densest = int(np.argmax(window))
    dist = (k - densest) / max(m, 1)
    density_rel = window / window.max() if window.max() > 0 else np.zeros(m)
    median_log = float(np.median(shape[:, 0]))

    if norm is None:
        norm = [normalize_line(r) for r in raw]
    counts: dict[str, int] = {}
    for t in norm:
        counts[t] = counts.get(t, 0) + 1
    repeats = np.array([math.log1p(counts[t] - 1) for t in norm])

    # Share of terminal-punctuated lines and mean length around the line.
    denom = _around(np.ones(m), 3)
    term_around = _around(shape[:, 3], 3) / denom
    len_around = _around(shape[:, 0], 3) / denom

    context = np.column_stack(
        [
            k / max(m - 1, 1),
            np.log1p(k),
            np.log1p(m - 1 - k),
            blank_before,
            blank_after,
            np.log1p(block_sizes[block_id]),
            np.log1p(block_chars[block_id]),
            np.log1p(pos_in_block),
            dist,
            np.abs(dist),
            (k < densest).astype(np.float64),
            density_rel,
            shape[:, 0] - median_log,
            repeats,
            term_around,
            len_around,
            np.full(m, math.log1p(m)),
        ]
    )
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
    return np.hstack([shape, context] + neigh)


CONTEXT_NAMES = (
    "rel_position", "log_index", "log_index_from_end", "blank_before", "blank_after",
    "log_block_lines", "log_block_chars", "log_pos_in_block", "dist_densest", "abs_dist_densest",
    "before_densest", "density_rel", "log_chars_vs_median", "log_repeats", "terminal_around",
    "log_chars_around", "log_page_lines",
)
LAYOUT_NAMES = (
    SHAPE_NAMES
    + CONTEXT_NAMES
    + tuple(
        f"{'prev' if off < 0 else 'next'}{abs(off)}_{name}"
        for off in _NEIGHBOUR_OFFSETS
        for name in [SHAPE_NAMES[c] for c in _NEIGHBOUR_COLS] + ["present"]
    )
)
LAYOUT_DIM = len(LAYOUT_NAMES)


class _LineFeaturizer:  # the scikit-learn bases are added on first use: see __getattr__ below
    """Pages -> one sparse feature row per non-blank line.

    Word n-grams and character n-grams of the normalised line are hashed (no
    vocabulary to store or grow) and TF-IDF weighted; layout features are
    standardised. The three blocks are scaled by ``word_weight``,
    ``char_weight`` and ``layout_weight`` and stacked side by side.

    Unlike most scikit-learn transformers, ``X`` is a sequence of
    :class:`Page` and the output has ``sum(len(page) for page in X)`` rows.
    """

    def __init__(
        self,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] = (2, 4),
        word_bits: int = 18,
        char_bits: int = 18,
        char_max_len: int = 160,
        word_weight: float = 1.0,
        char_weight: float = 1.0,
        layout_weight: float = 1.0,
    ):
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.word_bits = word_bits
        self.char_bits = char_bits
        self.char_max_len = char_max_len
        self.word_weight = word_weight
        self.char_weight = char_weight
        self.layout_weight = layout_weight

    # -- the pieces -----------------------------------------------------
    def _hashers(self):
        from sklearn.feature_extraction.text import HashingVectorizer

        common = dict(alternate_sign=False, norm=None, lowercase=False, dtype=np.float32)
        words = HashingVectorizer(
            analyzer="word", ngram_range=tuple(self.word_ngrams), n_features=2**self.word_bits,
            token_pattern=r"(?u)\b\w+\b", **common,
        )
        chars = HashingVectorizer(
            analyzer="char_wb", ngram_range=tuple(self.char_ngrams), n_features=2**self.char_bits,
            **common,
        )
        return words, chars

    def _texts(self, pages: Sequence[Page]) -> tuple[list[str], list[str]]:
        norm = [normalize_line(p.lines[i]) for p in pages for i in p.content]
        return norm, [t[: self.char_max_len] for t in norm]

    @staticmethod
    def _tf(counts: sp.csr_matrix) -> sp.csr_matrix:
        counts = counts.tocsr(copy=True)
        np.log1p(counts.data, out=counts.data)  # sublinear term frequency
        return counts

    @staticmethod
    def _idf(tf: sp.csr_matrix) -> np.ndarray:
        n = tf.shape[0]
        df = np.bincount(tf.indices, minlength=tf.shape[1])
        return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)

    @staticmethod
    def _weigh(tf: sp.csr_matrix, idf: np.ndarray, weight: float) -> sp.csr_matrix:
        tf.data *= idf[tf.indices]
        sq = np.sqrt(np.asarray(tf.multiply(tf).sum(axis=1)).ravel())
        sq[sq == 0] = 1.0
        scale = (weight / sq).astype(np.float32)
        tf.data *= np.repeat(scale, np.diff(tf.indptr))
        return tf

    def layout(self, pages: Sequence[Page]) -> np.ndarray:
        mats = [page_layout(p) for p in pages]
        return np.vstack(mats) if mats else np.zeros((0, LAYOUT_DIM))

    # -- scikit-learn API ----------------------------------------------
    def fit(self, X: Sequence[Page], y=None):
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Sequence[Page], y=None):
        words, chars = self._hashers()
        norm, short = self._texts(X)
        wtf = self._tf(words.transform(norm))
        ctf = self._tf(chars.transform(short))
        self.idf_word_ = self._idf(wtf)
        self.idf_char_ = self._idf(ctf)
        lay = self.layout(X)
        self.layout_mean_ = lay.mean(axis=0) if len(lay) else np.zeros(LAYOUT_DIM)
        std = lay.std(axis=0) if len(lay) else np.ones(LAYOUT_DIM)
        std[std < 1e-9] = 1.0
        self.layout_scale_ = std
        self.n_features_out_ = 2**self.word_bits + 2**self.char_bits + LAYOUT_DIM
        return self._assemble(wtf, ctf, lay)

    def transform(self, X: Sequence[Page]):
        words, chars = self._hashers()
        norm, short = self._texts(X)
        wtf = self._tf(words.transform(norm))
        ctf = self._tf(chars.transform(short))
        return self._assemble(wtf, ctf, self.layout(X))

    def _assemble(self, wtf, ctf, lay) -> sp.csr_matrix:
        w = self._weigh(wtf, self.idf_word_, self.word_weight)
        c = self._weigh(ctf, self.idf_char_, self.char_weight)
        scaled = ((lay - self.layout_mean_) / self.layout_scale_ * self.layout_weight).astype(np.float32)
        return sp.hstack([w, c, sp.csr_matrix(scaled)], format="csr")


def __getattr__(name: str):
    """``LineFeaturizer`` is built on first use, so that importing this module (as
    the prediction path does) does not import scikit-learn, which takes a second."""
    if name == "LineFeaturizer":
        from sklearn.base import BaseEstimator, TransformerMixin

        cls = type("LineFeaturizer", (_LineFeaturizer, TransformerMixin, BaseEstimator),
                   {"__module__": __name__, "__doc__": _LineFeaturizer.__doc__})
        globals()["LineFeaturizer"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
