"""The reference the product's featuriser is checked against: scikit-learn and plain Python.

* hashing, counting and TF-IDF with scikit-learn's ``HashingVectorizer``;
* the shape features with :func:`line_shape`, a per-line function written
  from the features' definitions (one line at a time, no batching);
* normalisation as a plain regular-expression function.

Nothing here is used by the package: ``tests/test_speed_equivalence.py``
compares :class:`noiseclf.features.Featurizer` and the prediction path with it,
on the shipped model, on random models and on random text.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from noiseclf.features import LAYOUT_DIM, Page, page_layout
from noiseclf.features import shape as S

_WS = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")


def normalize_line(line: str) -> str:
    """NFKC, white space collapsed, lower case, digits to 0."""
    line = unicodedata.normalize("NFKC", line)
    line = _WS.sub(" ", line).strip().lower()
    return _DIGIT.sub("0", line)


def line_shape(raw: str) -> list[float]:
    """Shape features of one line, in the order of ``SHAPE_NAMES``."""
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
        1.0 if S._TERMINAL.search(s) else 0.0,
        1.0 if s.endswith(":") else 0.0,
        1.0 if s.endswith(("...", "\u2026")) else 0.0,
        1.0 if S._BULLET.match(raw) else 0.0,
        math.log1p(indent),
        upper / letters if letters else 0.0,
        sum(w[0].isupper() for w in words) / nw if nw else 0.0,
        digits / n if n else 0.0,
        1.0 if S.MONTH.regex.search(s) else 0.0,
        1.0 if S.TIME.regex.search(s) else 0.0,
        1.0 if S.LEGAL.regex.search(s) else 0.0,
        math.log1p(len(S.SEPARATORS.regex.findall(s))),
        len(re.findall(r"[^\w\s]", s)) / n if n else 0.0,
        math.log1p(s.count(",")),
        1.0 if s[:1].isupper() else 0.0,
        1.0 if S.LINKISH.regex.search(s) else 0.0,
        math.log1p(len(S.SENTENCE.regex.findall(s))),
        1.0 if letters > 3 and upper == letters else 0.0,
        1.0 if s[:1] in "#[!|" else 0.0,
        1.0 if 1 <= nw <= 3 else 0.0,
    ]


def hashers(settings):
    common = dict(alternate_sign=False, norm=None, lowercase=False, dtype=np.float32)
    words = HashingVectorizer(analyzer="word", ngram_range=tuple(settings.word_ngrams),
                              n_features=2 ** settings.word_bits, token_pattern=r"(?u)\b\w+\b", **common)
    chars = HashingVectorizer(analyzer="char_wb", ngram_range=tuple(settings.char_ngrams),
                              n_features=2 ** settings.char_bits, **common)
    return words, chars


def _weigh(counts: sp.csr_matrix, idf: np.ndarray, weight: float) -> sp.csr_matrix:
    tf = counts.tocsr(copy=True)
    np.log1p(tf.data, out=tf.data)
    tf.data *= idf[tf.indices]
    sq = np.sqrt(np.asarray(tf.multiply(tf).sum(axis=1)).ravel())
    sq[sq == 0] = 1.0
    tf.data *= np.repeat((weight / sq).astype(np.float32), np.diff(tf.indptr))
    return tf


def transform(featurizer, pages: Sequence[Page]) -> sp.csr_matrix:
    """The feature matrix of ``pages`` under a fitted featuriser's settings and arrays."""
    s = featurizer.settings
    words, chars = hashers(s)
    norm = [normalize_line(p.lines[i]) for p in pages for i in p.content]
    w = _weigh(words.transform(norm), featurizer.idf_word, s.word_weight)
    c = _weigh(chars.transform([t[: s.char_max_len] for t in norm]), featurizer.idf_char, s.char_weight)
    lay = [page_layout(p, shape=np.array([line_shape(p.lines[i]) for i in p.content]).reshape(len(p), -1),
                       norm=[normalize_line(p.lines[i]) for i in p.content]) for p in pages if len(p)]
    lay = np.vstack(lay) if lay else np.zeros((0, LAYOUT_DIM))
    scaled = ((lay - featurizer.layout_mean) / featurizer.layout_scale * s.layout_weight).astype(np.float32)
    blocks = [w, c, sp.csr_matrix(scaled)]
    if s.neighbour_words > 0:  # each line: the mean word row of the other lines within the radius, same page
        dense_w, rows, start = w.toarray().astype(np.float64), [], 0
        for p in pages:
            for i in range(len(p)):
                near = [start + j for j in range(max(0, i - s.neighbour_words), min(len(p), i + s.neighbour_words + 1))
                        if j != i]
                rows.append(dense_w[near].mean(axis=0) if near else np.zeros(w.shape[1]))
            start += len(p)
        blocks.append(sp.csr_matrix(np.array(rows).reshape(-1, w.shape[1]) * s.neighbour_words_weight))
    return sp.hstack(blocks, format="csr")


def predict_first_stage(model, pages: Sequence[Page]) -> np.ndarray:
    """First-stage probabilities through the reference featuriser and scikit-learn's LogisticRegression."""
    from sklearn.linear_model import LogisticRegression

    if sum(len(p) for p in pages) == 0:
        return np.zeros((0, len(model.labels)))
    clf = LogisticRegression()
    clf.classes_ = np.array(model.labels)
    clf.coef_ = np.asarray(model.classifier.coef_, dtype=np.float64)
    clf.intercept_ = np.asarray(model.classifier.intercept_, dtype=np.float64)
    clf.n_features_in_ = clf.coef_.shape[1]
    return clf.predict_proba(transform(model.featurizer, pages))
