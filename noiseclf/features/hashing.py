"""Hashed word and character n-grams of many lines at once, and their TF-IDF.

The n-grams are those of scikit-learn's ``HashingVectorizer`` (word tokens
``\\b\\w+\\b`` joined by one space; ``char_wb`` n-grams of each word padded with
a space), found on the code points of all lines at once and hashed with a
vectorised MurmurHash3 (x86, 32 bit, seed 0), bucket ``abs(h) % n_features``:
``tests/reference_features.py`` checks them against scikit-learn itself.
Counts per (line, bucket) come from one sort; then sublinear TF, IDF and L2
per line, in float32.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

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
WORD, SPACE, ALPHA, UPPER, DIGIT, PUNCT, DECIMAL = 1, 2, 4, 8, 16, 32, 64  # character class bits
_TABLE = np.zeros(0, dtype=np.uint8)
_KNOWN = np.zeros(0, dtype=bool)


def _flags_of(c: int) -> int:
    ch = chr(c)
    f = 0
    if ch.isalnum() or ch == "_":
        f |= WORD  # what ``\w`` matches in a str pattern
    if ch.isspace():
        f |= SPACE  # what ``\s`` and str.split() treat as white space
    if ch.isalpha():
        f |= ALPHA
    if ch.isupper():
        f |= UPPER
    if ch.isdigit():
        f |= DIGIT  # str.isdigit (the digit_frac feature)
    if ch.isdecimal():
        f |= DECIMAL  # what ``\d`` matches in a str pattern
    if not f & (WORD | SPACE):
        f |= PUNCT  # what ``[^\w\s]`` matches
    return f


def flag_tables() -> tuple[np.ndarray, np.ndarray]:
    """The class flags of every code point and whether each is filled in yet."""
    global _TABLE, _KNOWN
    if len(_TABLE) == 0:
        _TABLE = np.zeros(0x110000, dtype=np.uint8)
        _KNOWN = np.zeros(0x110000, dtype=bool)
        _TABLE[:256] = [_flags_of(c) for c in range(256)]
        _KNOWN[:256] = True
    return _TABLE, _KNOWN


def learn_flags(cps: np.ndarray) -> None:
    """Fill in the flags of these code points (any not known yet)."""
    table, known = flag_tables()
    for c in np.unique(cps).tolist():
        if not known[c]:
            table[c] = _flags_of(c)
            known[c] = True


def char_flags(cps: np.ndarray) -> np.ndarray:
    """Class flags of every code point (table filled lazily, once per code point)."""
    table, known = flag_tables()
    if len(cps) and not known[cps].all():
        learn_flags(cps[~known[cps]])
    return table[cps]


def codepoints(text: str) -> np.ndarray:
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

class Counts:
    """A CSR matrix as its three arrays (no scipy needed to compute or score it)."""

    __slots__ = ("data", "indices", "indptr", "shape")

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]):
        self.data, self.indices, self.indptr, self.shape = data, indices, indptr, shape

    def tocsr(self) -> sp.csr_matrix:
        import scipy.sparse as sp

        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)

    def dot(self, coef: np.ndarray) -> np.ndarray:
        """``matrix @ coef`` (coef: columns x k), summing each row's products in column order."""
        n, k = self.shape[0], coef.shape[1]
        out = np.zeros((n, k))
        if len(self.data):
            prod = coef[self.indices] * self.data[:, None].astype(np.float64)
            sizes = np.diff(self.indptr)
            nz = sizes > 0
            out[nz] = np.add.reduceat(prod, self.indptr[:-1][nz], axis=0)
        return out


def _key_dtype(n_lines: int, bits: int):
    return np.uint32 if n_lines < (1 << (32 - bits)) else np.uint64


def _count_matrix(line_of: np.ndarray, cols: np.ndarray, n_lines: int, n_features: int) -> Counts:
    """Counts of (line, column) pairs as a CSR matrix with sorted, unique indices."""
    bits = int(n_features - 1).bit_length()
    dt = _key_dtype(n_lines, bits)
    key = (line_of.astype(dt) << dt(bits)) | cols.astype(dt)
    return _counts_from_keys(key, n_lines, n_features)


def _counts_from_keys(key: np.ndarray, n_lines: int, n_features: int) -> Counts:
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
    return Counts(counts, indices, indptr, (n_lines, n_features))


def word_counts(norm: Sequence[str], ngram_range: tuple[int, int], n_features: int) -> sp.csr_matrix:
    """Counts of hashed word n-grams (tokens ``\\b\\w+\\b`` joined by one space) per line."""
    return word_counts_raw(norm, ngram_range, n_features).tocsr()


def word_counts_raw(norm: Sequence[str], ngram_range: tuple[int, int], n_features: int) -> Counts:
    """:func:`word_counts` as :class:`Counts`."""
    n_lines = len(norm)
    text = "\n".join(norm)
    cps = codepoints(text)
    is_word = (char_flags(cps) & WORD).astype(bool)
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
    cps = codepoints(padded)
    rs, re_ = _runs(~(char_flags(cps) & SPACE).astype(bool))
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
        """Counts of hashed ``char_wb`` n-grams per line."""
        return self.raw_counts(texts).tocsr()

    def raw_counts(self, texts: Sequence[str]) -> Counts:
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


def tfidf(counts, idf: np.ndarray, weight: float):
    """Sublinear TF, IDF, L2 per line, scaled by ``weight`` (float32, like the featuriser).

    ``counts``: a CSR matrix or :class:`Counts`; the result is of the same kind.
    """
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
    out = Counts(data, counts.indices, counts.indptr, counts.shape)
    return out if isinstance(counts, Counts) else out.tocsr()
