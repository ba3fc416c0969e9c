"""The prediction path used by a loaded model: the same numbers, much faster.

:class:`noiseclf.features.LineFeaturizer` + scikit-learn's ``LogisticRegression``
stay the reference (training uses them). A loaded model predicts through
:class:`FastPredictor` instead, which computes the same features with whole-batch
numpy operations rather than per-line Python:

* word and character n-grams are found on the code points of all lines at once
  and hashed with a vectorised MurmurHash3 (x86, 32 bit, seed 0) -- the hash and
  the ``abs(h) % n_features`` bucket of scikit-learn's ``HashingVectorizer``;
* counts per (line, bucket) come from one sort, then the same sublinear TF,
  IDF and L2 steps as the featuriser, in float32 like it;
* the per-line shape features (:func:`noiseclf.features.line_shape`) are computed
  for all lines at once: most of its regular expressions run once over the
  joined lines (the slow ones only over lines that can match), character
  classes come from a code-point table;
* the page-context part is :func:`noiseclf.features.page_layout` itself, given
  the precomputed shapes;
* the dot product with the coefficients and the softmax are plain numpy, so
  predicting never imports scikit-learn.

Results equal the reference path's to float32 rounding (checked by
``tests/test_speed_equivalence.py`` on the seeds and on random text). Should the
shape features change (new names in ``SHAPE_NAMES``) without this module
following, the shapes fall back to the reference ``line_shape``.

A cache keyed by the raw line (``cache_size``; ``Model.set_cache``, 20,000
lines by default) keeps the text and shape features of lines seen before:
menus and footers repeat across the pages of a crawl.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from . import features as F
from . import text as _text
from .text import normalize_line

# -- MurmurHash3_x86_32, vectorised -------------------------------------------
_C1 = np.uint32(0xCC9E2D51)
_C2 = np.uint32(0x1B873593)
_TAIL_MASK = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF], dtype=np.uint32)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _mix(k: np.ndarray) -> np.ndarray:
    k = k * _C1
    k = _rotl(k, 15)
    return k * _C2


def _words32(buf: np.ndarray) -> np.ndarray:
    """``W[i]`` = the little-endian uint32 made of bytes i..i+3 (buf must end with 4 zero bytes)."""
    b = buf.astype(np.uint32)
    return b[:-3] | (b[1:-2] << np.uint32(8)) | (b[2:-1] << np.uint32(16)) | (b[3:] << np.uint32(24))


def murmur3_32(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Signed MurmurHash3_x86_32 (seed 0) of the byte strings ``buf[s:s+l]``.

    ``buf`` is a uint8 array followed by at least 4 zero bytes.
    """
    W = _words32(buf)
    n = len(starts)
    h = np.zeros(n, dtype=np.uint32)
    lengths = lengths.astype(np.int64)
    starts = starts.astype(np.int64)
    nblocks = lengths >> 2
    top = int(nblocks.max()) if n else 0
    for j in range(top):
        if j == 0 and (nblocks > 0).all():
            sel = None
            k = _mix(W[starts])
            hh = h ^ k
        else:
            sel = np.flatnonzero(nblocks > j)
            k = _mix(W[starts[sel] + 4 * j])
            hh = h[sel] ^ k
        hh = _rotl(hh, 13)
        hh = hh * np.uint32(5) + np.uint32(0xE6546B64)
        if sel is None:
            h = hh
        else:
            h[sel] = hh
    rem = lengths & 3
    k = W[starts + 4 * nblocks] & _TAIL_MASK[rem]
    h ^= _mix(k)  # mixing 0 gives 0: strings without a tail are unchanged
    h ^= lengths.astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h.view(np.int32)


def buckets(h: np.ndarray, n_features: int) -> np.ndarray:
    """``HashingVectorizer``'s column of a signed hash: ``abs(h) % n_features``."""
    return (np.abs(h.astype(np.int64)) % n_features).astype(np.int64)


# -- character classes by code point -----------------------------------------
_WORD, _SPACE, _ALPHA, _UPPER, _DIGIT, _PUNCT = 1, 2, 4, 8, 16, 32  # (bits 6, 7: see line_shapes)
_TABLE = np.zeros(0, dtype=np.uint8)
_KNOWN = np.zeros(0, dtype=bool)


def _flags_of(c: int) -> int:
    ch = chr(c)
    f = 0
    if ch.isalnum() or ch == "_":
        f |= _WORD  # what ``\w`` matches in a str pattern
    if ch.isspace():
        f |= _SPACE  # what ``\s`` and str.split() treat as white space
    if ch.isalpha():
        f |= _ALPHA
    if ch.isupper():
        f |= _UPPER
    if ch.isdigit():
        f |= _DIGIT
    if not f & (_WORD | _SPACE):
        f |= _PUNCT  # what ``[^\w\s]`` matches
    return f


def char_flags(cps: np.ndarray) -> np.ndarray:
    """Class flags of every code point (table filled lazily, once per code point)."""
    global _TABLE, _KNOWN
    if len(_TABLE) == 0:
        _TABLE = np.zeros(0x110000, dtype=np.uint8)
        _KNOWN = np.zeros(0x110000, dtype=bool)
        _TABLE[:256] = [_flags_of(c) for c in range(256)]
        _KNOWN[:256] = True
    if len(cps) and not _KNOWN[cps].all():
        for c in np.unique(cps[~_KNOWN[cps]]).tolist():
            _TABLE[c] = _flags_of(c)
            _KNOWN[c] = True
    return _TABLE[cps]


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _utf8_offsets(cps: np.ndarray) -> np.ndarray:
    """Byte offset in the UTF-8 encoding of every code point, plus the total at the end."""
    bl = 1 + (cps >= 0x80).astype(np.int64) + (cps >= 0x800) + (cps >= 0x10000)
    out = np.zeros(len(cps) + 1, dtype=np.int64)
    np.cumsum(bl, out=out[1:])
    return out


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of every run of True in ``mask``."""
    d = np.diff(np.concatenate(([False], mask, [False])).astype(np.int8))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _segments(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For segments of the given sizes: the segment of every item and its offset in it."""
    total = int(counts.sum())
    seg = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    return seg, np.arange(total) - first[seg]


# -- the hashed text features -------------------------------------------------

def _key_dtype(n_lines: int, bits: int):
    return np.uint32 if n_lines < (1 << (32 - bits)) else np.uint64


def _count_matrix(line_of: np.ndarray, cols: np.ndarray, n_lines: int, n_features: int) -> sp.csr_matrix:
    """Counts of (line, column) pairs as a CSR matrix with sorted, unique indices."""
    bits = int(n_features - 1).bit_length()
    dt = _key_dtype(n_lines, bits)
    key = (line_of.astype(dt) << dt(bits)) | cols.astype(dt)
    return _counts_from_keys(key, n_lines, n_features)


def _counts_from_keys(key: np.ndarray, n_lines: int, n_features: int) -> sp.csr_matrix:
    """CSR counts from keys ``line << bits | column`` (any order; sorted in place)."""
    bits = int(n_features - 1).bit_length()
    key.sort()
    if len(key):
        new = np.empty(len(key), dtype=bool)
        new[0] = True
        np.not_equal(key[1:], key[:-1], out=new[1:])
        first = np.flatnonzero(new)
        counts = np.diff(first, append=len(key)).astype(np.float32)
        uk = key[first]
    else:
        counts = np.zeros(0, dtype=np.float32)
        uk = key
    indptr = np.searchsorted(uk, np.arange(n_lines + 1, dtype=np.uint64) << np.uint64(bits)).astype(np.int64)
    indices = (uk & key.dtype.type(n_features - 1)).astype(np.int32)
    return sp.csr_matrix((counts, indices, indptr), shape=(n_lines, n_features))


def word_counts(norm: Sequence[str], ngram_range: tuple[int, int], n_features: int) -> sp.csr_matrix:
    """Counts of hashed word n-grams (tokens ``\\b\\w+\\b`` joined by one space) per line."""
    n_lines = len(norm)
    text = "\n".join(norm)
    cps = _codepoints(text)
    is_word = (char_flags(cps) & _WORD).astype(bool)
    ts, te = _runs(is_word)
    line_starts = np.zeros(n_lines, dtype=np.int64)
    if n_lines > 1:
        line_starts[1:] = np.cumsum([len(t) + 1 for t in norm[:-1]])
    tok_line = np.searchsorted(line_starts, ts, side="right") - 1
    boff = _utf8_offsets(cps)
    raw = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    bs, be = boff[ts], boff[te]
    blen = be - bs
    # The token stream: every token's bytes followed by one space.
    ns = np.cumsum(blen + 1) - (blen + 1)
    total = int(ns[-1] + blen[-1] + 1) if len(ns) else 0
    stream = np.full(total + 4, 32, dtype=np.uint8)
    stream[total:] = 0
    if len(ns):
        tok, off = _segments(blen)
        stream[ns[tok] + off] = raw[bs[tok] + off]
    starts, lengths, lines = [], [], []
    lo, hi = ngram_range
    for n in range(lo, hi + 1):
        if len(ts) < n:
            break
        k = np.arange(len(ts) - n + 1)
        ok = tok_line[k] == tok_line[k + n - 1]
        k = k[ok]
        starts.append(ns[k])
        lengths.append(ns[k + n - 1] + blen[k + n - 1] - ns[k])
        lines.append(tok_line[k])
    if not starts:
        return _count_matrix(np.zeros(0, np.int64), np.zeros(0, np.int64), n_lines, n_features)
    starts, lengths, lines = (np.concatenate(a) for a in (starts, lengths, lines))
    cols = buckets(murmur3_32(stream, starts, lengths), n_features)
    return _count_matrix(lines, cols, n_lines, n_features)


def char_wb_columns(words: Sequence[str], ngram_range: tuple[int, int], n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashed ``char_wb`` n-gram columns of every word: (columns, word of each column).

    A word's n-grams are those of the word padded with one space each side; a
    padded word no longer than n counts once, whole, and ends the word's n-grams.
    """
    padded = "".join(" " + w + " " for w in words)
    cps = _codepoints(padded)
    rs, re_ = _runs(~(char_flags(cps) & _SPACE).astype(bool))
    ps = rs - 1  # padded word start (in characters)
    L = re_ - rs + 2  # characters of the padded word
    if padded.isascii():
        stream = np.frombuffer(padded.encode("ascii") + b"\0\0\0\0", dtype=np.uint8)
        boff = None
    else:
        stream = np.frombuffer(padded.encode("utf-8", "surrogatepass") + b"\0\0\0\0", dtype=np.uint8)
        boff = _utf8_offsets(cps)
    lo, hi = ngram_range
    starts, ends, owner = [], [], []
    done = np.zeros(len(ps), dtype=bool)
    for n in range(lo, hi + 1):
        whole = ~done & (L <= n)
        cnt = np.where(done, 0, np.where(whole, 1, L - n + 1))
        done |= whole
        w, o = _segments(cnt)
        s = ps[w] + o
        starts.append(s)
        ends.append(s + np.minimum(n, L[w]))
        owner.append(w)
        if done.all():
            break
    starts, ends, owner = (np.concatenate(a) for a in (starts, ends, owner))
    order = np.argsort(owner, kind="stable")
    starts, ends, owner = starts[order], ends[order], owner[order]
    if boff is not None:
        starts, ends = boff[starts], boff[ends]
    return buckets(murmur3_32(stream, starts, ends - starts), n_features), owner


class CharNgrams:
    """``char_wb`` n-gram counts per line, with the n-grams of every word hashed
    once and remembered (words repeat far more than lines do)."""

    def __init__(self, ngram_range: tuple[int, int], n_features: int, max_words: int = 500_000):
        self.ngram_range = tuple(ngram_range)
        self.n_features = n_features
        self.max_words = max_words
        self.clear()

    def clear(self) -> None:
        self.ids: dict[str, int] = {}
        # Growable buffers (capacity doubles): appending a few new words must
        # not copy everything remembered so far.
        self._cols = np.zeros(1024, dtype=np.uint32)
        self._ptr = np.zeros(1024, dtype=np.int64)
        self.n_cols = 0

    @property
    def cols(self) -> np.ndarray:
        return self._cols[: self.n_cols]

    @property
    def ptr(self) -> np.ndarray:
        return self._ptr[: len(self.ids) + 1]

    @staticmethod
    def _room(buf: np.ndarray, need: int) -> np.ndarray:
        if need <= len(buf):
            return buf
        bigger = np.zeros(max(need, 2 * len(buf)), dtype=buf.dtype)
        bigger[: len(buf)] = buf
        return bigger

    def _learn(self, new: list[str]) -> None:
        if len(self.ids) + len(new) > self.max_words:
            self.clear()
        cols, owner = char_wb_columns(new, self.ngram_range, self.n_features)
        counts = np.bincount(owner, minlength=len(new))
        base = len(self.ids)
        self._cols = self._room(self._cols, self.n_cols + len(cols))
        self._cols[self.n_cols: self.n_cols + len(cols)] = cols
        self._ptr = self._room(self._ptr, base + len(new) + 1)
        self._ptr[base + 1: base + len(new) + 1] = self.n_cols + np.cumsum(counts)
        self.n_cols += len(cols)
        for i, w in enumerate(new):
            self.ids[w] = base + i

    def counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        n_lines = len(texts)
        split = [t.split() for t in texts]
        flat = [w for ws in split for w in ws]
        ids = self.ids
        new = [w for w in dict.fromkeys(flat) if w not in ids]
        if new:
            if len(ids) + len(new) > self.max_words:
                self.clear()
                new = list(dict.fromkeys(flat))
            self._learn(new)
            ids = self.ids
        occ = np.fromiter((ids[w] for w in flat), dtype=np.int64, count=len(flat))
        bits = int(self.n_features - 1).bit_length()
        dt = _key_dtype(n_lines, bits)
        occ_key = np.repeat((np.arange(n_lines, dtype=dt) << dt(bits)), [len(ws) for ws in split])
        start = self.ptr[occ]
        cnt = self.ptr[occ + 1] - start
        total = int(cnt.sum())
        first = np.cumsum(cnt) - cnt
        src = np.repeat(start - first, cnt) + np.arange(total)
        cols = self.cols[src]
        key = np.repeat(occ_key, cnt) | (cols if dt is np.uint32 else cols.astype(dt))
        return _counts_from_keys(key, n_lines, self.n_features)


def char_wb_counts(texts: Sequence[str], ngram_range: tuple[int, int], n_features: int) -> sp.csr_matrix:
    """Counts of hashed ``char_wb`` n-grams per line (no memory of earlier calls)."""
    return CharNgrams(ngram_range, n_features).counts(texts)


def tfidf(counts: sp.csr_matrix, idf: np.ndarray, weight: float) -> sp.csr_matrix:
    """Sublinear TF, IDF, L2 per line, scaled by ``weight`` (float32, like the featuriser)."""
    data = np.log1p(counts.data)
    data *= idf[counts.indices]
    sizes = np.diff(counts.indptr)
    nz = sizes > 0
    sums = np.zeros(counts.shape[0])
    if len(data):
        sq64 = data.astype(np.float64)
        sq64 *= sq64
        sums[nz] = np.add.reduceat(sq64, counts.indptr[:-1][nz])
    sq = np.sqrt(sums.astype(np.float32))
    sq[sq == 0] = 1.0
    scale = (weight / sq).astype(np.float32)
    data *= np.repeat(scale, sizes)
    return sp.csr_matrix((data, counts.indices, counts.indptr), shape=counts.shape)


# -- the shape features, all lines at once ------------------------------------
_FAST_SHAPE_NAMES = (
    "log_chars", "log_words", "mean_word_len", "ends_terminal", "ends_colon", "ends_ellipsis",
    "bullet", "log_indent", "upper_frac", "title_frac", "digit_frac", "has_date", "has_time",
    "legal", "log_separators", "punct_frac", "log_commas", "starts_upper", "linkish",
    "log_sentences", "all_caps", "markdown", "short_1_3_words",
)


def _matches_per_line(pattern: re.Pattern, text: str, line_starts: np.ndarray, line_ends: np.ndarray) -> np.ndarray:
    """Matches of ``pattern`` in every line of ``text`` (matches that reach into a
    separator between lines are not the line's)."""
    n = len(line_starts)
    span = np.fromiter((x for m in pattern.finditer(text) for x in m.span()), dtype=np.int64)
    if not len(span):
        return np.zeros(n)
    start, end = span[0::2], span[1::2]
    line = np.searchsorted(line_starts, start, side="right") - 1
    line = line[end <= line_ends[line]]
    return np.bincount(line, minlength=n).astype(np.float64)


def _starts(parts: Sequence[str], sep_len: int) -> np.ndarray:
    out = np.zeros(len(parts), dtype=np.int64)
    if len(parts) > 1:
        out[1:] = np.cumsum([len(p) + sep_len for p in parts[:-1]])
    return out


# Necessary conditions for some of the shape patterns to match a line, used to
# run a pattern only over the lines that pass. Each applies only while the
# pattern is exactly the one it was written for (text and flags); a changed
# pattern simply runs over every line. ``low`` is the line lower-cased after
# mapping the four non-ASCII letters that IGNORECASE matches to ASCII ones.
def _ignorecase_lower(s: str) -> str:
    if s.isascii():
        return s.lower()
    return s.replace("\u0130", "i").replace("\u0131", "i").replace("\u017f", "s").replace("\u212a", "k").lower()


_PREFILTERS = {
    # every alternative holds a digit
    (r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b|"
     r"\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b|"
     r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b", re.I | re.U):
        lambda low, digit: digit,
    (r"\bago\b|\b\d{1,2}:\d{2}\b|\b(?:yesterday|today)\b", re.I | re.U):
        lambda low, digit: digit or "ago" in low or "day" in low,
    (r"\u00a9|\(c\)|copyright|all rights reserved|privacy|terms of", re.I | re.U):
        lambda low, digit: ("\u00a9" in low or "(c)" in low or "copyright" in low or "rights" in low
                            or "privacy" in low or "terms of" in low),
    (r"https?://|www\.|\.com\b|@\w|\]\(", re.I | re.U):
        lambda low, digit: "://" in low or "www." in low or ".com" in low or "@" in low or "](" in low,
}


_PER_LINE_REGEX_MAX = 8  # lines up to which patterns are applied line by line (measured: beyond a handful, whole-batch scans win)


def _batch_regex_features(raws, ss, n_int, starts_nl, digits):
    """The regular-expression shape features, each pattern run once over all lines.

    Lines are joined by NUL, which none of the unanchored patterns can match,
    so no match spans two lines (see _matches_per_line for matches reaching a
    separator); the two anchored patterns are called line by line.
    """
    m = len(ss)
    joined0 = "\x00".join(ss)
    starts0 = starts_nl
    ends0 = starts0 + n_int
    has_digit = (digits > 0).tolist()
    low: list[str] | None = None

    def count(pat: re.Pattern) -> np.ndarray:
        nonlocal low
        pre = _PREFILTERS.get((pat.pattern, pat.flags))
        if pre is None:
            return _matches_per_line(pat, joined0, starts0, ends0)
        if low is None:
            low = [_ignorecase_lower(s) for s in ss]
        cand = [i for i in range(m) if pre(low[i], has_digit[i])]
        out = np.zeros(m)
        if cand:
            sub = [ss[i] for i in cand]
            st = _starts(sub, 1)
            out[cand] = _matches_per_line(pat, "\x00".join(sub), st, st + n_int[cand])
        return out

    # The two anchored patterns: a call per line costs less than a MULTILINE scan.
    terminal = np.array([F._TERMINAL.search(x) is not None for x in ss], dtype=np.float64)
    bullet = np.array([F._BULLET.match(r) is not None for r in raws], dtype=np.float64)
    return (terminal, bullet, count(F._MONTH), count(F._TIME), count(F._LEGAL), count(F._LINKISH),
            count(F._SEPARATORS), count(F._SENTENCE))


def _indent(raw: str) -> int:
    expanded = raw.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


def line_shapes(raws: Sequence[str]) -> np.ndarray:
    """``np.array([line_shape(r) for r in raws])``, computed for all lines at once."""
    m = len(raws)
    if F.SHAPE_NAMES != _FAST_SHAPE_NAMES:  # the features changed: use the reference
        return np.array([F.line_shape(r) for r in raws], dtype=np.float64).reshape(m, len(F.SHAPE_NAMES))
    if m == 0:
        return np.zeros((0, len(_FAST_SHAPE_NAMES)))
    ss = [r.strip() for r in raws]
    n_int = np.fromiter(map(len, ss), dtype=np.int64, count=m)
    n = n_int.astype(np.float64)
    indent = np.array([_indent(r) if r[:1].isspace() else 0 for r in raws], dtype=np.float64)
    commas = np.array([s.count(",") for s in ss], dtype=np.float64)
    colon = np.array([s.endswith(":") for s in ss], dtype=np.float64)
    ellipsis = np.array([s.endswith(("...", "\u2026")) for s in ss], dtype=np.float64)
    markdown = np.array([s[:1] in "#[!|" for s in ss], dtype=np.float64)

    # Character classes over the stripped lines joined by "\n" (white space, so
    # words never run across lines), all counted per line in one pass: a bit
    # per class, unpacked to columns and summed over each line's span.
    joined_nl = "\n".join(ss)
    cps = _codepoints(joined_nl)
    fl = char_flags(cps)
    starts_nl = np.cumsum(n_int + 1) - (n_int + 1)
    space = (fl & _SPACE) != 0
    word_start = ~space
    word_start[1:] &= space[:-1]
    upper_c = (fl & _UPPER) != 0
    fl = fl | (word_start.view(np.uint8) << 6) | ((word_start & upper_c).view(np.uint8) << 7)
    ends_nl = starts_nl + n_int

    def per_line(bit: int) -> np.ndarray:
        cs = np.zeros(len(fl) + 1, dtype=np.int32)
        np.cumsum((fl >> np.uint8(bit)) & np.uint8(1), out=cs[1:])
        return (cs[ends_nl] - cs[starts_nl]).astype(np.float64)

    letters, upper, digits = per_line(2), per_line(3), per_line(4)
    nw, title = per_line(6), per_line(7)  # words (runs of non-space) and capitalised words
    starts_upper = upper_c[np.minimum(starts_nl, len(cps) - 1)] & (n > 0)

    if m <= _PER_LINE_REGEX_MAX:
        # A few lines: calling each pattern on each line costs less than the
        # fixed cost of the whole-batch scans below.
        def has(pat: re.Pattern, texts: Sequence[str] = ss) -> np.ndarray:
            return np.array([pat.search(x) is not None for x in texts], dtype=np.float64)

        def count(pat: re.Pattern) -> np.ndarray:
            return np.array([len(pat.findall(x)) for x in ss], dtype=np.float64)

        terminal = has(F._TERMINAL)
        bullet = np.array([F._BULLET.match(r) is not None for r in raws], dtype=np.float64)
        month, time_, legal, linkish = has(F._MONTH), has(F._TIME), has(F._LEGAL), has(F._LINKISH)
        seps, sentences = count(F._SEPARATORS), count(F._SENTENCE)
    else:
        terminal, bullet, month, time_, legal, linkish, seps, sentences = _batch_regex_features(
            raws, ss, n_int, starts_nl, digits)
    if (F._PUNCT.pattern, F._PUNCT.flags) == (r"[^\w\s]", re.U):  # a character class: count from the table
        punct = per_line(5)
    else:
        punct = np.array([len(F._PUNCT.findall(x)) for x in ss], dtype=np.float64)

    safe_n = np.where(n > 0, n, 1.0)
    safe_nw = np.where(nw > 0, nw, 1.0)
    return np.column_stack([
        np.log1p(n),
        np.log1p(nw),
        np.minimum(n / np.maximum(nw, 1), 20.0) / 10.0,
        terminal > 0,
        colon,
        ellipsis,
        bullet > 0,
        np.log1p(indent),
        np.where(letters > 0, upper / np.where(letters > 0, letters, 1.0), 0.0),
        np.where(nw > 0, title / safe_nw, 0.0),
        np.where(n > 0, digits / safe_n, 0.0),
        month > 0,
        time_ > 0,
        legal > 0,
        np.log1p(seps),
        np.where(n > 0, punct / safe_n, 0.0),
        np.log1p(commas),
        starts_upper,
        linkish > 0,
        np.log1p(sentences),
        (letters > 3) & (upper == letters),
        markdown,
        (nw >= 1) & (nw <= 3),
    ]).astype(np.float64)


# -- normalising many lines --------------------------------------------------
# normalize_line on an ASCII line is white space collapsed, lower case, digits
# to 0 (NFKC changes no ASCII text): done here with str methods. Used only while
# normalize_line is exactly the function this was written for (its source,
# compared once); otherwise every line goes through normalize_line itself.
_NORMALIZE_SOURCE = '''def normalize_line(line: str) -> str:
    """The text a line's word and character features are computed from.

    Unicode NFKC, lower case, white space collapsed, every digit mapped to
    ``0`` (dates and counts differ from page to page; their shape does not).
    """
    line = unicodedata.normalize("NFKC", line)
    line = _WS.sub(" ", line).strip().lower()
    return _DIGIT.sub("0", line)
'''
_ASCII_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_normalize_checked: bool | None = None


def _can_normalize_fast() -> bool:
    global _normalize_checked
    if normalize_line is not _text.normalize_line:  # replaced (e.g. in a test): use it
        return False
    if _normalize_checked is None:
        import inspect

        try:
            same = inspect.getsource(_text.normalize_line) == _NORMALIZE_SOURCE
        except (OSError, TypeError):
            same = False
        _normalize_checked = (same and _text._WS.pattern == r"\s+" and _text._DIGIT.pattern == r"\d"
                              and not (_text._WS.flags | _text._DIGIT.flags) & (re.A | re.I))
    return _normalize_checked


def normalize_lines(lines: Sequence[str]) -> list[str]:
    """``[normalize_line(x) for x in lines]``, faster."""
    if not _can_normalize_fast():
        return [normalize_line(x) for x in lines]
    import unicodedata

    out = []
    digit = _text._DIGIT
    for x in lines:
        if not x.isascii():
            x = unicodedata.normalize("NFKC", x)
        x = " ".join(x.split()).lower()
        if x.isascii():
            out.append(x.encode("ascii").translate(_ASCII_DIGITS).decode("ascii"))
        else:
            out.append(digit.sub("0", x))
    return out


# -- the predictor ------------------------------------------------------------

def probabilities(decision: np.ndarray, n_labels: int) -> np.ndarray:
    """Logistic regression probabilities from decision values, as scikit-learn
    computes them: softmax, or for two classes the logistic function of the one
    decision value."""
    d = np.array(decision, dtype=np.float64)
    if n_labels == 2:
        p = 1.0 / (1.0 + np.exp(-d.reshape(len(d), -1)[:, 0]))
        return np.column_stack([1.0 - p, p])
    d -= d.max(axis=1, keepdims=True)
    np.exp(d, out=d)
    d /= d.sum(axis=1, keepdims=True)
    return d


_PARAMS = {"word_ngrams", "char_ngrams", "word_bits", "char_bits", "char_max_len",
           "word_weight", "char_weight", "layout_weight"}


class FastPredictor:
    """Class probabilities for the non-blank lines of pages, from a model's arrays."""

    def __init__(self, params: dict, arrays: dict[str, np.ndarray], labels: Sequence[str],
                 cache_size: int = 0):
        self.word_ngrams = tuple(params.get("word_ngrams", (1, 2)))
        self.char_ngrams = tuple(params.get("char_ngrams", (2, 4)))
        self.n_word = 2 ** int(params.get("word_bits", 18))
        self.n_char = 2 ** int(params.get("char_bits", 18))
        self.char_max_len = int(params.get("char_max_len", 160))
        self.word_weight = float(params.get("word_weight", 1.0))
        self.char_weight = float(params.get("char_weight", 1.0))
        self.layout_weight = float(params.get("layout_weight", 1.0))
        self.idf_word = np.asarray(arrays["idf_word"], dtype=np.float32)
        self.idf_char = np.asarray(arrays["idf_char"], dtype=np.float32)
        self.layout_mean = np.asarray(arrays["layout_mean"], dtype=np.float64)
        self.layout_scale = np.asarray(arrays["layout_scale"], dtype=np.float64)
        coef = np.asarray(arrays["coef"], dtype=np.float64)
        self.coef_word = np.ascontiguousarray(coef[:, : self.n_word].T)
        self.coef_char = np.ascontiguousarray(coef[:, self.n_word: self.n_word + self.n_char].T)
        self.coef_layout = np.ascontiguousarray(coef[:, self.n_word + self.n_char:].T)
        self.intercept = np.asarray(arrays["intercept"], dtype=np.float64)
        self.labels = tuple(labels)
        self.cache_size = int(cache_size)
        self._chars = CharNgrams(self.char_ngrams, self.n_char)
        self._cache: OrderedDict[str, tuple[str, np.ndarray, np.ndarray]] = OrderedDict()

    ARRAYS = ("idf_word", "idf_char", "layout_mean", "layout_scale", "coef", "intercept")

    @classmethod
    def supports(cls, params: dict, arrays: dict, n_labels: int) -> bool:
        """Whether a model with these settings and arrays is one this path computes exactly."""
        import inspect

        known = set(inspect.signature(F._LineFeaturizer.__init__).parameters) - {"self"}
        # (arrays named context_* belong to the second stage, which works on probabilities)
        first_stage = {k for k in arrays if not k.startswith("context_")}
        if set(params) - _PARAMS or known != _PARAMS or first_stage != set(cls.ARRAYS):
            return False
        try:
            n = 2 ** int(params.get("word_bits", 18)) + 2 ** int(params.get("char_bits", 18)) + F.LAYOUT_DIM
            rows = 1 if n_labels == 2 else n_labels
            return arrays["coef"].shape == (rows, n) and F.LAYOUT_DIM == len(F.LAYOUT_NAMES)
        except (TypeError, ValueError, AttributeError):
            return False

    def set_cache_size(self, lines: int) -> None:
        self.cache_size = int(lines)
        while len(self._cache) > max(self.cache_size, 0):
            self._cache.popitem(last=False)

    # The three pieces, for a list of raw non-blank lines.
    def text_scores(self, norm: Sequence[str]) -> np.ndarray:
        """The word and character part of every line's decision values."""
        if not norm:
            return np.zeros((0, self.coef_word.shape[1]))
        w = tfidf(word_counts(norm, self.word_ngrams, self.n_word), self.idf_word, self.word_weight)
        short = [t[: self.char_max_len] for t in norm]
        c = tfidf(self._chars.counts(short), self.idf_char, self.char_weight)
        return np.asarray(w @ self.coef_word) + np.asarray(c @ self.coef_char)

    def _line_parts(self, raws: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Normalised text, shape row and text scores of every line.

        Each distinct line is computed once per call; with the cache on, a line
        still in the (least recently used) cache is not computed again."""
        uniq = list(dict.fromkeys(raws))
        cache = self._cache if self.cache_size > 0 else None
        if cache is None or not cache:
            todo, done = uniq, []
        else:
            todo = [r for r in uniq if r not in cache]
            done = [r for r in uniq if r in cache] if len(todo) < len(uniq) else []
        norm_t = normalize_lines(todo)
        shape_t, text_t = line_shapes(todo), self.text_scores(norm_t)
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
            while len(cache) > self.cache_size:
                cache.popitem(last=False)
        if len(order) == len(raws) and order == raws:
            return norm_u, shape_u, text_u
        pos = {r: i for i, r in enumerate(order)}
        idx = np.fromiter((pos[r] for r in raws), dtype=np.int64, count=len(raws))
        return [norm_u[i] for i in idx.tolist()], shape_u[idx], text_u[idx]

    def decision(self, pages: Sequence[F.Page]) -> np.ndarray:
        raws = [p.lines[i] for p in pages for i in p.content]
        norm, shapes, text = self._line_parts(raws)
        lay, row = [], 0
        for p in pages:
            m = len(p.content)
            if m:
                lay.append(F.page_layout(p, shape=shapes[row: row + m], norm=norm[row: row + m]))
            row += m
        if not lay:
            return np.zeros((0, len(self.labels)))
        lay = np.vstack(lay)
        scaled = ((lay - self.layout_mean) / self.layout_scale * self.layout_weight).astype(np.float32)
        out = text + scaled @ self.coef_layout + self.intercept
        return out

    def predict_proba(self, pages: Sequence[F.Page]) -> np.ndarray:
        return probabilities(self.decision(pages), len(self.labels))

    def clear_cache(self) -> None:
        self._cache.clear()
        self._chars.clear()

