"""The compiled hot path: a batch of lines in, their decision values out, one pass per line.

Everything :class:`noiseclf.features.LineScorer` needs per line is computed
here by numba-compiled loops over the code points of the whole batch (one
array), with no Python object per line and no scipy matrix:

* the shape statistics of the raw line (:data:`noiseclf.features.shape.STAT_NAMES`),
  including hand-written matchers equivalent to the shape regular expressions
  (existence or count, whichever the feature uses);
* the normalised text (ASCII lines here; other lines arrive normalised by
  :func:`noiseclf.text.normalize_lines`, which has NFKC);
* word and ``char_wb`` n-grams, hashed with MurmurHash3 over their UTF-8
  bytes exactly as scikit-learn's ``HashingVectorizer`` does, counted in a
  small hash table per line, then sublinear TF,
  IDF, L2 and the dot product with the coefficients, in the featuriser's
  float32 arithmetic;
* the page layout of every line (:func:`noiseclf.features.page_layout`'s
  columns), standardised, cast to float32 and multiplied by the layout
  coefficients.

Numbers are those of the numpy path (``Featurizer.text_blocks``,
``line_shapes``, ``page_layout``) up to the order of float64 sums:
``tests/test_speed_equivalence.py`` compares both with the reference.
The kernel only runs while the features are the ones it was written for
(:func:`supported`); compiled code is cached on disk by numba.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


_M32 = np.uint64(0xFFFFFFFF)

# Column numbers of the shape features (noiseclf.features.shape.SHAPE_NAMES, checked by supported()).
(H_LOG_CHARS, H_LOG_WORDS, H_MEAN_WORD_LEN, H_ENDS_TERMINAL, H_ENDS_COLON, H_ENDS_ELLIPSIS, H_BULLET, H_LOG_INDENT,
 H_UPPER_FRAC, H_TITLE_FRAC, H_DIGIT_FRAC, H_HAS_DATE, H_HAS_TIME, H_LEGAL, H_LOG_SEPARATORS, H_PUNCT_FRAC,
 H_LOG_COMMAS, H_STARTS_UPPER, H_LINKISH, H_LOG_SENTENCES, H_ALL_CAPS, H_MARKDOWN, H_SHORT) = range(23)
N_SHAPES = 23
LOG_COLUMNS = np.array([H_LOG_CHARS, H_LOG_WORDS, H_LOG_INDENT, H_LOG_SEPARATORS, H_LOG_COMMAS, H_LOG_SENTENCES])

# Character class bits (noiseclf.features.hashing).
F_WORD, F_SPACE, F_ALPHA, F_UPPER, F_DIGIT, F_PUNCT, F_DECIMAL = 1, 2, 4, 8, 16, 32, 64


@intrinsic
def _prefetch_row(typingctx, rows, i):
    """Ask the CPU to start loading ``rows[i, 0]`` into the cache (a hint: no effect on results)."""
    sig = types.void(rows, i)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1], zero], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                            "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


# -- MurmurHash3_x86_32 (seed 0) of a byte range ------------------------------

@njit
def _mix(k):
    k = (k * np.uint64(0xCC9E2D51)) & _M32
    k = ((k << np.uint64(15)) | (k >> np.uint64(17))) & _M32
    return (k * np.uint64(0x1B873593)) & _M32


@njit
def _bucket(buf, s, e, n_features):
    """``abs(murmurhash3_32(buf[s:e], seed=0, signed)) % n_features``."""
    h = np.uint64(0)
    n = e - s
    p = s
    end4 = s + (n & ~3)
    while p < end4:
        k = (np.uint64(buf[p]) | (np.uint64(buf[p + 1]) << np.uint64(8)) | (np.uint64(buf[p + 2]) << np.uint64(16))
             | (np.uint64(buf[p + 3]) << np.uint64(24)))
        h ^= _mix(k)
        h = ((h << np.uint64(13)) | (h >> np.uint64(19))) & _M32
        h = (h * np.uint64(5) + np.uint64(0xE6546B64)) & _M32
        p += 4
    r = n & 3
    if r:
        k = np.uint64(0)
        if r == 3:
            k ^= np.uint64(buf[p + 2]) << np.uint64(16)
        if r >= 2:
            k ^= np.uint64(buf[p + 1]) << np.uint64(8)
        k ^= np.uint64(buf[p])
        h ^= _mix(k)
    h ^= np.uint64(n) & _M32
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & _M32
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & _M32
    h ^= h >> np.uint64(16)
    a = np.int64(h) if h < np.uint64(0x80000000) else np.int64(0x100000000) - np.int64(h)  # abs of the signed hash
    return a % n_features


@njit
def _put_utf8(buf, j, c):
    if c < 0x80:
        buf[j] = c
        return j + 1
    if c < 0x800:
        buf[j] = 0xC0 | (c >> 6)
        buf[j + 1] = 0x80 | (c & 0x3F)
        return j + 2
    if c < 0x10000:
        buf[j] = 0xE0 | (c >> 12)
        buf[j + 1] = 0x80 | ((c >> 6) & 0x3F)
        buf[j + 2] = 0x80 | (c & 0x3F)
        return j + 3
    buf[j] = 0xF0 | (c >> 18)
    buf[j + 1] = 0x80 | ((c >> 12) & 0x3F)
    buf[j + 2] = 0x80 | ((c >> 6) & 0x3F)
    buf[j + 3] = 0x80 | (c & 0x3F)
    return j + 4


# -- the shape patterns --------------------------------------------------------

@njit
def _fold(c):
    """The ASCII letter a character matches under IGNORECASE (0: none): what ``(?i)[a-z]`` matches."""
    if 97 <= c <= 122:
        return c
    if 65 <= c <= 90:
        return c + 32
    if c == 0x130 or c == 0x131:
        return 105  # i
    if c == 0x17F:
        return 115  # s
    if c == 0x212A:
        return 107  # k
    return 0


@njit
def _is_dec(t, flags, q, b):
    return q < b and (flags[t[q]] & F_DECIMAL) != 0


@njit
def _end_of_word(t, flags, q, b):
    """``\\b`` after a word character at ``q - 1``: the end, or a non-word character."""
    return q >= b or (flags[t[q]] & F_WORD) == 0


@njit
def _dec_run(t, flags, q, b):
    r = q
    while r < b and (flags[t[r]] & F_DECIMAL) != 0:
        r += 1
    return r - q


@njit
def _folds_to(t, q, b, word):
    """Do ``t[q:]`` start with the ASCII lower-case ``word`` under IGNORECASE?"""
    n = len(word)
    if q + n > b:
        return False
    for j in range(n):
        w = word[j]
        c = t[q + j]
        if 97 <= w <= 122:
            if _fold(c) != w:
                return False
        elif c != w:
            return False
    return True


_MONTH_KEYS = np.array([ord(m[0]) * 65536 + ord(m[1]) * 256 + ord(m[2])
                        for m in ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")],
                       dtype=np.int64)  # "sept" is "sep" followed by [a-z]*


@njit
def _is_month(t, q, b):
    if q + 3 > b:
        return False
    a, c, d = _fold(t[q]), _fold(t[q + 1]), _fold(t[q + 2])
    if a == 0 or c == 0 or d == 0:
        return False
    key = a * 65536 + c * 256 + d
    for m in _MONTH_KEYS:
        if key == m:
            return True
    return False


@njit
def _skip_fold_letters(t, q, b):
    while q < b and _fold(t[q]) != 0:
        q += 1
    return q


@njit
def _skip_spaces(t, flags, q, b):
    while q < b and (flags[t[q]] & F_SPACE) != 0:
        q += 1
    return q


_AGO = np.array([ord(c) for c in "ago"], dtype=np.uint32)
_TODAY = np.array([ord(c) for c in "today"], dtype=np.uint32)
_YESTERDAY = np.array([ord(c) for c in "yesterday"], dtype=np.uint32)
_COPYRIGHT = np.array([ord(c) for c in "copyright"], dtype=np.uint32)
_ALL_RIGHTS = np.array([ord(c) for c in "all rights reserved"], dtype=np.uint32)
_PRIVACY = np.array([ord(c) for c in "privacy"], dtype=np.uint32)
_TERMS_OF = np.array([ord(c) for c in "terms of"], dtype=np.uint32)
_C_IN_PARENS = np.array([ord(c) for c in "(c)"], dtype=np.uint32)
_HTTP = np.array([ord(c) for c in "http"], dtype=np.uint32)
_WWW = np.array([ord(c) for c in "www."], dtype=np.uint32)
_COM = np.array([ord(c) for c in ".com"], dtype=np.uint32)
P_DATE, P_TIME, P_LEGAL, P_LINK = 1, 2, 4, 8
# The ASCII characters LEGAL or LINKISH can start with (either case): c a p t ( and h w @ ] .
_ANYWHERE = np.array([1 if chr(c).lower() in "capt(hw@]." else 0 for c in range(128)], dtype=np.uint8)


@njit
def _date_at_letter(t, flags, p, b):
    r"""MONTH's first alternative at a word start: month[a-z]*\.?\s+\d{1,2}\b."""
    if not _is_month(t, p, b):
        return False
    q = _skip_fold_letters(t, p + 3, b)
    if q < b and t[q] == 46:  # \.?
        q += 1
    r = _skip_spaces(t, flags, q, b)
    if r == q:
        return False
    run = _dec_run(t, flags, r, b)
    return 1 <= run <= 2 and _end_of_word(t, flags, r + run, b)


@njit
def _date_at_digit(t, flags, p, b):
    """MONTH's other alternatives at a word start that is a digit."""
    run = _dec_run(t, flags, p, b)
    q = p + run
    if run <= 2:
        # \d{1,2}\s+month[a-z]*\b
        r = _skip_spaces(t, flags, q, b)
        if r > q and _is_month(t, r, b):
            if _end_of_word(t, flags, _skip_fold_letters(t, r + 3, b), b):
                return True
        # \d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b
        if q < b and (t[q] == 47 or t[q] == 46):
            run2 = _dec_run(t, flags, q + 1, b)
            q2 = q + 1 + run2
            if 1 <= run2 <= 2 and q2 < b and (t[q2] == 47 or t[q2] == 46):
                run3 = _dec_run(t, flags, q2 + 1, b)
                if 2 <= run3 <= 4 and _end_of_word(t, flags, q2 + 1 + run3, b):
                    return True
    elif run == 4:
        # \d{4}-\d{2}-\d{2}\b
        return (q + 6 <= b and t[q] == 45 and _is_dec(t, flags, q + 1, b) and _is_dec(t, flags, q + 2, b)
                and t[q + 3] == 45 and _is_dec(t, flags, q + 4, b) and _is_dec(t, flags, q + 5, b)
                and _end_of_word(t, flags, q + 6, b))
    return False


@njit
def _patterns(t, flags, a, b, has_digit):
    r"""Which of MONTH, TIME, LEGAL and LINKISH match in ``t[a:b]`` (bits P_*), in one scan.

    Each branch is the regular expression written out (see shape.py): a word
    start is where ``\b`` precedes a word character; under IGNORECASE a letter
    of a pattern matches what :func:`_fold` maps to it.
    """
    found = 0
    prev_word = False
    for p in range(a, b):
        c = t[p]
        f = flags[c]
        is_word = (f & F_WORD) != 0
        if is_word and not prev_word:
            fo = _fold(c)
            if fo != 0:
                if (found & P_TIME) == 0:
                    if fo == 97:
                        if _folds_to(t, p, b, _AGO) and _end_of_word(t, flags, p + 3, b):
                            found |= P_TIME
                    elif fo == 116:
                        if _folds_to(t, p, b, _TODAY) and _end_of_word(t, flags, p + 5, b):
                            found |= P_TIME
                    elif fo == 121:
                        if _folds_to(t, p, b, _YESTERDAY) and _end_of_word(t, flags, p + 9, b):
                            found |= P_TIME
                if has_digit and (found & P_DATE) == 0 and _date_at_letter(t, flags, p, b):
                    found |= P_DATE
            elif (f & F_DECIMAL) != 0:
                if (found & P_DATE) == 0 and _date_at_digit(t, flags, p, b):
                    found |= P_DATE
                if (found & P_TIME) == 0:
                    run = _dec_run(t, flags, p, b)
                    q = p + run
                    if (run <= 2 and q + 3 <= b and t[q] == 58 and _is_dec(t, flags, q + 1, b)
                            and _is_dec(t, flags, q + 2, b) and _end_of_word(t, flags, q + 3, b)):
                        found |= P_TIME  # \d{1,2}:\d{2}\b
        prev_word = is_word
        if c >= 128:
            if c == 0xA9 and (found & P_LEGAL) == 0:
                found |= P_LEGAL
            continue  # (no other character starting LEGAL or LINKISH folds from outside ASCII)
        if _ANYWHERE[c] == 0:
            continue
        low = c | 32 if 65 <= c <= 90 else c
        if (found & P_LEGAL) == 0:
            if low == 99:
                if _folds_to(t, p, b, _COPYRIGHT):
                    found |= P_LEGAL
            elif low == 97:
                if _folds_to(t, p, b, _ALL_RIGHTS):
                    found |= P_LEGAL
            elif low == 112:
                if _folds_to(t, p, b, _PRIVACY):
                    found |= P_LEGAL
            elif low == 116:
                if _folds_to(t, p, b, _TERMS_OF):
                    found |= P_LEGAL
            elif c == 40:
                if _folds_to(t, p, b, _C_IN_PARENS):
                    found |= P_LEGAL
        if (found & P_LINK) == 0:
            if c == 64:  # @\w
                if p + 1 < b and (flags[t[p + 1]] & F_WORD) != 0:
                    found |= P_LINK
            elif c == 93:  # ](
                if p + 1 < b and t[p + 1] == 40:
                    found |= P_LINK
            elif c == 46:  # .com\b
                if _folds_to(t, p, b, _COM) and _end_of_word(t, flags, p + 4, b):
                    found |= P_LINK
            elif low == 104:  # https?://
                if _folds_to(t, p, b, _HTTP):
                    q = p + 4
                    if q < b and _fold(t[q]) == 115:
                        q += 1
                    if q + 3 <= b and t[q] == 58 and t[q + 1] == 47 and t[q + 2] == 47:
                        found |= P_LINK
            elif low == 119:  # www\.
                if _folds_to(t, p, b, _WWW):
                    found |= P_LINK
        if found == 15:
            break
    return found


@njit
def _is_bullet_char(c):
    return (c == 0x2022 or c == 0xB7 or c == 0x25AA or c == 0x25B8 or c == 0x25BA or c == 0x2023 or c == 0x2043
            or c == 0x25CF or c == 0x25E6 or c == 45 or c == 42 or c == 43 or c == 0x2013 or c == 0x2014 or c == 62)


@njit
def _is_closer(c):
    return c == 39 or c == 34 or c == 0x2019 or c == 0x201D or c == 41 or c == 93


@njit
def _shape_stats(t, ra, rb, flags, out):
    """The shape features of the raw line ``t[ra:rb]`` into ``out`` (see above: the log1p
    columns hold their argument)."""
    a, b = ra, rb
    while a < b and (flags[t[a]] & F_SPACE) != 0:
        a += 1
    while b > a and (flags[t[b - 1]] & F_SPACE) != 0:
        b -= 1
    n = b - a
    letters = upper = digits = punct = words = title = commas = seps = sentences = 0
    prev_space = True
    for q in range(a, b):
        c = t[q]
        f = flags[c]
        if f & F_SPACE:
            prev_space = True
            continue
        if prev_space:
            words += 1
            if f & F_UPPER:
                title += 1
            prev_space = False
        if f & F_ALPHA:
            letters += 1
        if f & F_UPPER:
            upper += 1
        if f & F_DIGIT:
            digits += 1
        if f & F_PUNCT:
            punct += 1
            if c == 44:
                commas += 1
            elif c == 124 or c == 47 or c == 0xBB or c == 0x203A or c == 0xB7:
                seps += 1
            elif c == 46 or c == 33 or c == 63:  # [.!?]\s+[A-Z\u00c0-\u024f]
                r = q + 1
                while r < b and (flags[t[r]] & F_SPACE) != 0:
                    r += 1
                if r > q + 1 and r < b and (65 <= t[r] <= 90 or 0xC0 <= t[r] <= 0x24F):
                    sentences += 1
    indent = 0
    if ra < rb and (flags[t[ra]] & F_SPACE) != 0:  # len(expandtabs(4)) - len(lstrip())
        col = 0
        for q in range(ra, rb):
            c = t[q]
            if (flags[c] & F_SPACE) == 0:
                break
            if c == 9:
                inc = 4 - col % 4
                col += inc
                indent += inc
            else:
                indent += 1
                col = 0 if (c == 10 or c == 13) else col + 1
    e = b - 1
    while e >= a and _is_closer(t[e]):
        e -= 1
    terminal = e >= a and (t[e] == 46 or t[e] == 33 or t[e] == 63)
    bullet = False
    q = ra
    while q < rb and (flags[t[q]] & F_SPACE) != 0:
        q += 1
    if q < rb:
        if _is_bullet_char(t[q]):
            bullet = True
        else:
            run = _dec_run(t, flags, q, rb)
            r = q + run
            if (1 <= run <= 3 and r + 1 < rb and (t[r] == 46 or t[r] == 41)
                    and (flags[t[r + 1]] & F_SPACE) != 0):
                bullet = True
    found = _patterns(t, flags, a, b, digits > 0)  # (every date holds a digit)
    c0 = t[a] if n > 0 else 0
    # shape._columns' formulas; the log1p columns get their argument (LOG_COLUMNS),
    # and numpy takes the log1p of all of them at once, as the numpy path does.
    out[H_LOG_CHARS] = n
    out[H_LOG_WORDS] = words
    out[H_MEAN_WORD_LEN] = min(n / max(words, 1), 20.0) / 10.0
    out[H_ENDS_TERMINAL] = 1.0 if terminal else 0.0
    out[H_ENDS_COLON] = 1.0 if n > 0 and t[b - 1] == 58 else 0.0
    out[H_ENDS_ELLIPSIS] = 1.0 if n > 0 and (t[b - 1] == 0x2026 or (n >= 3 and t[b - 1] == 46 and t[b - 2] == 46
                                                                  and t[b - 3] == 46)) else 0.0
    out[H_BULLET] = 1.0 if bullet else 0.0
    out[H_LOG_INDENT] = indent
    out[H_UPPER_FRAC] = upper / letters if letters > 0 else 0.0
    out[H_TITLE_FRAC] = title / words if words > 0 else 0.0
    out[H_DIGIT_FRAC] = digits / n if n > 0 else 0.0
    out[H_HAS_DATE] = 1.0 if found & P_DATE else 0.0
    out[H_HAS_TIME] = 1.0 if found & P_TIME else 0.0
    out[H_LEGAL] = 1.0 if found & P_LEGAL else 0.0
    out[H_LOG_SEPARATORS] = seps
    out[H_PUNCT_FRAC] = punct / n if n > 0 else 0.0
    out[H_LOG_COMMAS] = commas
    out[H_STARTS_UPPER] = 1.0 if n > 0 and (flags[t[a]] & F_UPPER) != 0 else 0.0
    out[H_LINKISH] = 1.0 if found & P_LINK else 0.0
    out[H_LOG_SENTENCES] = sentences
    out[H_ALL_CAPS] = 1.0 if letters > 3 and upper == letters else 0.0
    out[H_MARKDOWN] = 1.0 if n == 0 or c0 == 35 or c0 == 91 or c0 == 33 or c0 == 124 else 0.0
    out[H_SHORT] = 1.0 if 1 <= words <= 3 else 0.0


# -- normalisation of an ASCII line -------------------------------------------

@njit
def _normalize_ascii(t, a, b, flags, out, o):
    """``" ".join(line.split()).lower()`` with digits 1-9 as 0, into ``out[o:]``; its length."""
    j = o
    pending = False
    for q in range(a, b):
        c = t[q]
        if flags[c] & F_SPACE:
            pending = j > o
            continue
        if pending:
            out[j] = 32
            j += 1
            pending = False
        if 65 <= c <= 90:
            c += 32
        elif 49 <= c <= 57:
            c = 48
        out[j] = c
        j += 1
    return j - o


# -- TF-IDF and the dot product of one block of one line ----------------------

@njit
def _score_block(bks, nb, keys, cnts, dslot, xs, rows, weight, log1p_tab, out):
    """Count the buckets ``bks[:nb]`` of one line, then sublinear TF x IDF, L2, x weight
    (float32, as :func:`noiseclf.features.hashing.tfidf`) dotted with the coefficients into ``out``.

    ``rows[bucket]`` is (IDF, coefficient of each class): one memory access per
    distinct bucket. Counting uses a small open-addressing table (``keys``, ``cnts``:
    all zero between calls, cleared again on the way out).
    """
    size = 16
    while size < 2 * nb:
        size *= 2
    mask = size - 1
    nd = 0
    for j in range(nb):
        key = bks[j] + 1
        s = key & mask
        while True:
            kk = keys[s]
            if kk == key:
                cnts[s] += 1
                break
            if kk == 0:
                keys[s] = key
                cnts[s] = 1
                dslot[nd] = s
                nd += 1
                break
            s = (s + 1) & mask
    ss = 0.0
    nl = len(log1p_tab)
    for d in range(nd):
        s = dslot[d]
        c = cnts[s]
        tf = log1p_tab[c] if c < nl else np.float32(np.log1p(np.float64(c)))
        x = tf * np.float32(rows[keys[s] - 1, 0])
        xs[d] = x
        ss += np.float64(x) * np.float64(x)
    sq = np.sqrt(np.float32(ss))
    if sq == 0:
        sq = np.float32(1.0)
    scale = weight / sq
    K = out.shape[0]
    for k in range(K):
        out[k] = 0.0
    for d in range(nd):
        s = dslot[d]
        bk = keys[s] - 1
        x = np.float64(xs[d] * scale)
        for k in range(K):
            out[k] += x * rows[bk, 1 + k]
        keys[s] = 0


@njit(cache=True)
def unknown_codepoints(cps, known):
    """The code points of ``cps`` whose class flags are not in the table yet (with repeats)."""
    n = 0
    for c in cps:
        if not known[c]:
            n += 1
    out = np.empty(n, dtype=np.uint32)
    j = 0
    for c in cps:
        if not known[c]:
            out[j] = c
            j += 1
    return out


@njit(cache=True)
def score_lines(cps, rstart, rlen, pbuf, pstart, plen, flags, nbuf, nstart, nlen, stats,
                wlo, whi, rows_w, w_weight, clo, chi, cml, rows_c, c_weight, log1p_tab, text, near, parts=7):
    """Shape statistics, normalised text and text score of every line (see the module doc).

    Line ``i`` is ``cps[rstart[i]: rstart[i] + rlen[i]]``; when ``plen[i] >= 0`` its
    normalised text is ``pbuf[pstart[i]: pstart[i] + plen[i]]``, else it is ASCII and
    normalised here. The normalised text goes to ``nbuf[nstart[i]:]`` (length ``nlen[i]``),
    the shape features to ``stats[i]`` (log1p columns: their argument), the text score
    (word block + char block) to ``text[i]`` and, when ``near`` has columns, the word block's
    score under the neighbours' word weights to ``near[i]``.
    ``rows_w``/``rows_c``: per bucket, the IDF then the coefficients of each class (for
    ``rows_w``, then the neighbours' word coefficients of each class).
    ``parts`` (bits: 1 shapes, 2 word n-grams, 4 character n-grams) leaves parts
    out, for benchmarks/profile.py only.
    """
    U = len(rstart)
    K = text.shape[1]
    n_word = rows_w.shape[0]
    n_char = rows_c.shape[0]
    maxlen = 1
    for i in range(U):
        maxlen = max(maxlen, rlen[i], plen[i])
    wbytes = np.empty(4 * maxlen + 8, dtype=np.uint8)
    tstart = np.empty(maxlen + 1, dtype=np.int64)
    tend = np.empty(maxlen + 1, dtype=np.int64)
    cbytes = np.empty(4 * (cml + 2) + 8, dtype=np.uint8)
    boff = np.empty(cml + 3, dtype=np.int64)
    most = max((whi - wlo + 1) * (maxlen + 1), (chi - clo + 1) * (3 * cml + 3))
    bks = np.empty(most, dtype=np.int64)
    size = 16
    while size < 2 * most:
        size *= 2
    keys = np.zeros(size, dtype=np.int64)
    cnts = np.zeros(size, dtype=np.int32)
    dslot = np.empty(most, dtype=np.int64)
    xs = np.empty(most, dtype=np.float32)
    KN = near.shape[1]
    sw = np.zeros(K + KN)
    sc = np.zeros(K)
    wweight = np.float32(w_weight)
    cweight = np.float32(c_weight)
    for i in range(U):
        a = rstart[i]
        if parts & 1:
            _shape_stats(cps, a, a + rlen[i], flags, stats[i])
        o = nstart[i]
        if plen[i] < 0:
            nl = _normalize_ascii(cps, a, a + rlen[i], flags, nbuf, o)
        else:  # normalised in Python but for the digits: \d becomes 0 here
            nl = plen[i]
            ps = pstart[i]
            for j in range(nl):
                c = pbuf[ps + j]
                nbuf[o + j] = 48 if (flags[c] & F_DECIMAL) != 0 else c
        nlen[i] = nl
        t = nbuf[o: o + nl]

        # word n-grams: \w+ tokens joined by one space, as UTF-8
        nt = 0
        j = 0
        q = 0
        while q < nl:
            if (flags[t[q]] & F_WORD) == 0:
                q += 1
                continue
            tstart[nt] = j
            while q < nl and (flags[t[q]] & F_WORD) != 0:
                j = _put_utf8(wbytes, j, t[q])
                q += 1
            tend[nt] = j
            nt += 1
            wbytes[j] = 32
            j += 1
        nb = 0
        for n in range(wlo, whi + 1 if parts & 2 else wlo):
            for k0 in range(nt - n + 1):
                bk = _bucket(wbytes, tstart[k0], tend[k0 + n - 1], n_word)
                _prefetch_row(rows_w, bk)
                bks[nb] = bk
                nb += 1
        _score_block(bks, nb, keys, cnts, dslot, xs, rows_w, wweight, log1p_tab, sw)

        # char_wb n-grams of the first cml characters: each word padded with a space
        nb = 0
        lim = min(nl, cml) if parts & 4 else 0
        q = 0
        while q < lim:
            if (flags[t[q]] & F_SPACE) != 0:
                q += 1
                continue
            cbytes[0] = 32
            boff[0] = 0
            boff[1] = 1
            L = 1
            while q < lim and (flags[t[q]] & F_SPACE) == 0:
                boff[L + 1] = _put_utf8(cbytes, boff[L], t[q])
                L += 1
                q += 1
            cbytes[boff[L]] = 32
            boff[L + 1] = boff[L] + 1
            L += 1  # characters of the padded word
            for n in range(clo, chi + 1):
                if L <= n:
                    bk = _bucket(cbytes, 0, boff[L], n_char)
                    _prefetch_row(rows_c, bk)
                    bks[nb] = bk
                    nb += 1
                    break
                for s in range(L - n + 1):
                    bk = _bucket(cbytes, boff[s], boff[s + n], n_char)
                    _prefetch_row(rows_c, bk)
                    bks[nb] = bk
                    nb += 1
        _score_block(bks, nb, keys, cnts, dslot, xs, rows_c, cweight, log1p_tab, sc)
        for k in range(K):
            text[i, k] = sw[k] + sc[k]
        for k in range(KN):
            near[i, k] = sw[K + k]


@njit(cache=True)
def norm_ids(nbuf, nstart, nlen):
    """An id per line such that two lines share one exactly when their normalised texts are equal."""
    U = len(nstart)
    size = 1
    while size < 2 * U + 2:
        size *= 2
    table = np.full(size, -1, dtype=np.int64)
    hashes = np.empty(U, dtype=np.uint64)
    ids = np.empty(U, dtype=np.int64)
    mask = np.uint64(size - 1)
    for i in range(U):
        h = np.uint64(14695981039346656037)
        o = nstart[i]
        L = nlen[i]
        for j in range(L):
            h = (h ^ np.uint64(nbuf[o + j])) * np.uint64(1099511628211)
        h = (h ^ np.uint64(L)) * np.uint64(1099511628211)
        hashes[i] = h
        slot = h & mask
        while True:
            other = table[slot]
            if other < 0:
                table[slot] = i
                ids[i] = i
                break
            if hashes[other] == h and nlen[other] == L:
                o2 = nstart[other]
                same = True
                for j in range(L):
                    if nbuf[o + j] != nbuf[o2 + j]:
                        same = False
                        break
                if same:
                    ids[i] = ids[other]
                    break
            slot = (slot + np.uint64(1)) & mask
    return ids


# -- page layout ---------------------------------------------------------------

@njit(cache=True)
def layout_decision(page_rows, page_lines, content, row_line, shapes, chars, nid, mean, scale, weight,
                    coef_layout, intercept, text, neighbour_cols, log_chars_col, terminal_col, out):
    """Decision values of every row: text score + scaled layout . coefficients + intercept.

    The layout of a row is :func:`noiseclf.features.layout.page_layout`'s: the
    line's shape, 17 page-context columns and 6 neighbours x (10 shapes + present).
    Pages are consecutive runs of ``page_rows[p]`` rows (``page_lines[p]`` lines
    in all); ``content[r]`` is the row's line number in its page, ``row_line[r]``
    its distinct line (index into ``shapes``, ``chars``, ``nid``, ``text``).
    """
    P = len(page_rows)
    K = out.shape[1]
    D = len(mean)
    NS = shapes.shape[1]
    NN = len(neighbour_cols)
    counts = np.zeros(len(nid), dtype=np.int64)
    lay = np.empty(D)
    acc = np.empty(K)
    r0 = 0
    for p in range(P):
        m = page_rows[p]
        if m == 0:
            continue
        n_all = page_lines[p]
        rows = row_line[r0: r0 + m]
        idx = content[r0: r0 + m]
        block = np.empty(m, dtype=np.int64)
        block[0] = 0
        for j in range(1, m):
            block[j] = block[j - 1] + (1 if idx[j] - idx[j - 1] > 1 else 0)
        nb = block[m - 1] + 1
        bsize = np.zeros(nb)
        bchars = np.zeros(nb)
        for j in range(m):
            bsize[block[j]] += 1.0
            bchars[block[j]] += chars[rows[j]]
        # windows of 7 lines (the order of np.convolve's sums)
        window = np.empty(m)
        lensum = np.empty(m)
        termsum = np.empty(m)
        denom = np.empty(m)
        for j in range(m):
            lo = max(0, j - 3)
            hi = min(m, j + 4)
            s = 0.0
            s2 = 0.0
            s3 = 0.0
            for q in range(lo, hi):
                s += chars[rows[q]]
                s2 += shapes[rows[q], log_chars_col]
                s3 += shapes[rows[q], terminal_col]
            window[j] = s
            lensum[j] = s2
            termsum[j] = s3
            denom[j] = hi - lo
        densest = 0
        wmax = window[0]
        for j in range(1, m):
            if window[j] > wmax:
                wmax = window[j]
                densest = j
        logc = np.empty(m)
        for j in range(m):
            logc[j] = shapes[rows[j], log_chars_col]
        srt = np.sort(logc)
        if m % 2 == 1:
            median = srt[m // 2]
        else:
            median = (srt[m // 2 - 1] + srt[m // 2]) / 2.0
        for j in range(m):
            counts[nid[rows[j]]] += 1
        pos_start = 0
        for j in range(m):
            u = rows[j]
            if j == 0 or block[j] != block[j - 1]:
                pos_start = j
            kk = float(j)
            for c in range(NS):
                lay[c] = shapes[u, c]
            c = NS
            lay[c] = kk / max(m - 1, 1)
            lay[c + 1] = np.log1p(kk)
            lay[c + 2] = np.log1p(m - 1 - kk)
            if j == 0:
                lay[c + 3] = 1.0 if idx[0] > 0 else 0.0
            else:
                lay[c + 3] = 1.0 if idx[j] - idx[j - 1] > 1 else 0.0
            if j == m - 1:
                lay[c + 4] = 1.0 if idx[j] + 1 < n_all else 0.0
            else:
                lay[c + 4] = 1.0 if idx[j + 1] - idx[j] > 1 else 0.0
            lay[c + 5] = np.log1p(bsize[block[j]])
            lay[c + 6] = np.log1p(bchars[block[j]])
            lay[c + 7] = np.log1p(float(j - pos_start))
            dist = (kk - densest) / max(m, 1)
            lay[c + 8] = dist
            lay[c + 9] = abs(dist)
            lay[c + 10] = 1.0 if j < densest else 0.0
            lay[c + 11] = window[j] / wmax if wmax > 0 else 0.0
            lay[c + 12] = shapes[u, log_chars_col] - median
            lay[c + 13] = np.log1p(float(counts[nid[u]] - 1))
            lay[c + 14] = termsum[j] / denom[j]
            lay[c + 15] = lensum[j] / denom[j]
            lay[c + 16] = np.log1p(float(m))
            c += 17
            for off in (-3, -2, -1, 1, 2, 3):
                jj = j + off
                if 0 <= jj < m:
                    v = rows[jj]
                    for z in range(NN):
                        lay[c + z] = shapes[v, neighbour_cols[z]]
                    lay[c + NN] = 1.0
                else:
                    for z in range(NN + 1):
                        lay[c + z] = 0.0
                c += NN + 1
            for k in range(K):
                acc[k] = 0.0
            for z in range(D):
                x = np.float64(np.float32((lay[z] - mean[z]) / scale[z] * weight))
                for k in range(K):
                    acc[k] += x * coef_layout[z, k]
            for k in range(K):
                out[r0 + j, k] = (text[u, k] + acc[k]) + intercept[k]
        for j in range(m):
            counts[nid[rows[j]]] = 0
        r0 += m


# -- the Python side -------------------------------------------------------------

def is_cached() -> bool:
    """Is every kernel function's machine code in numba's cache (so that loading it is a
    fraction of a second, not a compilation)? True when numba's cache cannot be asked."""
    try:
        # numba's own cache index (in-tree or user-wide, whichever it uses), read as numba
        # reads it: empty when missing or written for another source or numba version.
        return all(bool(f._cache._cache_file._load_index())
                   for f in (unknown_codepoints, score_lines, norm_ids, layout_decision))
    except Exception:  # another numba's internals: behave as if cached (load, compiling if need be)
        return True


def warm_up() -> None:
    """Load (or compile, the first time) every kernel function, on a tiny model and page
    with the argument types of real use, so that a numba that cannot build them fails here."""
    from ..settings import Settings
    from .featurizer import Featurizer, LineScorer
    from .layout import LAYOUT_DIM, Page

    f = Featurizer(Settings(word_bits=2, char_bits=2), {
        "idf_word": np.ones(4, np.float32), "idf_char": np.ones(4, np.float32),
        "layout_mean": np.zeros(LAYOUT_DIM), "layout_scale": np.ones(LAYOUT_DIM)})
    scorer = LineScorer(f, np.ones((1, f.n_features), dtype=np.float32), np.zeros(1))
    KernelScorer(scorer).decision([Page(["Hello 1 world.", "", "\u00e9t\u00e9"])], ["Hello 1 world.", "\u00e9t\u00e9"])


def supported(featurizer) -> bool:
    """Can the kernel compute this featuriser's features (the features it was written for)?"""
    from .. import text
    from . import featurizer as featurizer_mod
    from . import layout, shape

    same_normalisation = text.normalize_lines is featurizer_mod._NORMALIZE is featurizer_mod.normalize_lines
    return (same_normalisation and shape.kernel_matches_patterns() and layout.LAYOUT_NAMES == _LAYOUT_NAMES
            and len(featurizer.settings.word_ngrams) == 2 and len(featurizer.settings.char_ngrams) == 2
            and 1 <= featurizer.settings.word_ngrams[0] <= featurizer.settings.word_ngrams[1]
            and 1 <= featurizer.settings.char_ngrams[0] <= featurizer.settings.char_ngrams[1]
            and featurizer.settings.char_max_len >= 0)


def _layout_names() -> tuple[str, ...]:
    shapes = ("log_chars", "log_words", "mean_word_len", "ends_terminal", "ends_colon", "ends_ellipsis", "bullet",
              "log_indent", "upper_frac", "title_frac", "digit_frac", "has_date", "has_time", "legal",
              "log_separators", "punct_frac", "log_commas", "starts_upper", "linkish", "log_sentences", "all_caps",
              "markdown", "short_1_3_words")
    context = ("rel_position", "log_index", "log_index_from_end", "blank_before", "blank_after", "log_block_lines",
               "log_block_chars", "log_pos_in_block", "dist_densest", "abs_dist_densest", "before_densest",
               "density_rel", "log_chars_vs_median", "log_repeats", "terminal_around", "log_chars_around",
               "log_page_lines")
    neighbours = ("log_chars", "log_words", "ends_terminal", "bullet", "log_indent", "title_frac", "digit_frac",
                  "has_date", "log_commas", "linkish", "present")
    return shapes + context + tuple(f"{'prev' if off < 0 else 'next'}{abs(off)}_{name}"
                                    for off in (-3, -2, -1, 1, 2, 3) for name in neighbours)


_LAYOUT_NAMES = _layout_names()  # the columns layout_decision computes, in order
LOG1P_TABLE_SIZE = 65536


def _normalize_but_digits(lines: list[str]) -> list[str]:
    """:func:`noiseclf.text.normalize_lines` of non-ASCII lines without its last step (every
    ``\\d`` to ``0``), which :func:`score_lines` does faster by the code-point table."""
    import unicodedata

    return [" ".join(unicodedata.normalize("NFKC", x).split()).lower() for x in lines]


def _rows(idf: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Per bucket: its IDF (a float32 value) then its coefficient for each class, padded to
    a power of two, so that one cache line holds all a bucket needs."""
    width = 2
    while width < 1 + coef.shape[1]:
        width *= 2
    rows = np.zeros((coef.shape[0], width), dtype=coef.dtype)
    rows[:, 0] = np.asarray(idf, dtype=np.float32)
    rows[:, 1: 1 + coef.shape[1]] = coef
    return rows


class KernelScorer:
    """A :class:`noiseclf.features.LineScorer`'s numbers, arranged for the kernel."""

    def __init__(self, scorer):
        from . import layout, shape
        from .hashing import flag_tables

        f = scorer.featurizer
        s = f.settings
        self.scorer = scorer
        self.k = scorer.coef_word.shape[1]
        self.wlo, self.whi = (int(x) for x in s.word_ngrams)
        self.clo, self.chi = (int(x) for x in s.char_ngrams)
        self.cml = int(s.char_max_len)
        self.w_weight, self.c_weight = float(s.word_weight), float(s.char_weight)
        self.mean = np.ascontiguousarray(f.layout_mean, dtype=np.float64)
        self.scale = np.ascontiguousarray(f.layout_scale, dtype=np.float64)
        self.weight = float(s.layout_weight)
        word = scorer.coef_word if scorer.coef_near is None else np.hstack([scorer.coef_word, scorer.coef_near])
        self.rows_w = _rows(f.idf_word, word)
        self.kn = 0 if scorer.coef_near is None else self.k
        self.rows_c = _rows(f.idf_char, scorer.coef_char)
        self.log1p = np.log1p(np.arange(LOG1P_TABLE_SIZE, dtype=np.float32))  # as tfidf() computes it
        self.neighbour_cols = np.array(layout._NEIGHBOUR_COLS, dtype=np.int64)
        self.log_chars_col = shape.SHAPE_NAMES.index("log_chars")
        self.terminal_col = shape.SHAPE_NAMES.index("ends_terminal")
        self.flags, self.known = flag_tables()

    def _learn(self, cps: np.ndarray) -> None:
        from .hashing import learn_flags

        unknown = unknown_codepoints(cps, self.known)
        if len(unknown):
            learn_flags(unknown)

    def lines(self, uniq: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Text scores, shape features, normalised-text ids and neighbours' word scores
        (no columns without that block) of distinct raw lines."""

        u = len(uniq)
        rlen = np.fromiter(map(len, uniq), dtype=np.int64, count=u)
        rstart = np.cumsum(rlen) - rlen
        cps = np.frombuffer("".join(uniq).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        plen = np.full(u, -1, dtype=np.int64)
        pstart = np.zeros(u, dtype=np.int64)
        wide = [i for i, x in enumerate(uniq) if not x.isascii()]
        if wide:
            norm = _normalize_but_digits([uniq[i] for i in wide])
            pl = np.fromiter(map(len, norm), dtype=np.int64, count=len(norm))
            plen[wide] = pl
            pstart[wide] = np.cumsum(pl) - pl
            pbuf = np.frombuffer("".join(norm).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            self._learn(cps)
            self._learn(pbuf)
        else:
            pbuf = np.frombuffer(b"\0\0\0\0", dtype=np.uint32)  # (read-only like the others: one signature)
        room = np.maximum(rlen, plen)
        nstart = np.cumsum(room) - room
        nbuf = np.empty(max(int(room.sum()), 1), dtype=np.uint32)
        nlen = np.empty(u, dtype=np.int64)
        shapes = np.zeros((u, N_SHAPES))
        text = np.empty((u, self.k))
        near = np.empty((u, self.kn))
        score_lines(cps, rstart, rlen, pbuf, pstart, plen, self.flags, nbuf, nstart, nlen, shapes,
                    self.wlo, self.whi, self.rows_w, self.w_weight,
                    self.clo, self.chi, self.cml, self.rows_c, self.c_weight, self.log1p, text, near)
        shapes[:, LOG_COLUMNS] = np.log1p(shapes[:, LOG_COLUMNS])  # numpy's log1p, as line_shapes has it
        return text, shapes, norm_ids(nbuf, nstart, nlen), near

    def decision(self, pages, raws: list[str]) -> np.ndarray:
        """Decision values of every non-blank line of ``pages`` (``raws``: those lines, in order)."""
        from itertools import chain

        ids: dict[str, int] = {}
        row_line = np.fromiter((ids.setdefault(r, len(ids)) for r in raws), dtype=np.int64, count=len(raws))
        text, shapes, nid, near = self.lines(list(ids))
        chars = np.expm1(shapes[:, self.log_chars_col])  # as page_layout computes them
        page_rows = np.fromiter((len(p.content) for p in pages), dtype=np.int64, count=len(pages))
        page_lines = np.fromiter((len(p.lines) for p in pages), dtype=np.int64, count=len(pages))
        content = np.fromiter(chain.from_iterable(p.content for p in pages), dtype=np.int64, count=len(raws))
        out = np.empty((len(raws), self.k))
        sc = self.scorer
        layout_decision(page_rows, page_lines, content, row_line, shapes, chars, nid, self.mean, self.scale,
                        self.weight, sc.coef_layout, sc.intercept, text, self.neighbour_cols, self.log_chars_col,
                        self.terminal_col, out)
        if self.kn:
            out += sc.near_scores(pages, near[row_line])
        return out
