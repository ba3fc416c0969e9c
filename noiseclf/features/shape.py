"""The shape of a line: length, punctuation, case, bullets, dates, computed for many lines at once.

Most of what tells a menu from a paragraph across sites is shape, not words.
:func:`line_shapes` returns one row per line; each column's name stands next
to its formula there, and :data:`SHAPE_NAMES` is read off that list. Shapes are
computed on the raw line (not the normalised one): case and digits matter.

Character classes (letters, upper case, digits, punctuation, white space) come
from a code-point table over all lines joined; the regular expressions run once
over all lines joined by NUL, and the slow ones only over lines that pass a
cheap necessary condition written beside the pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from .hashing import ALPHA, DIGIT, PUNCT, SPACE, UPPER, char_flags, codepoints


@dataclass(frozen=True)
class Pattern:
    """A shape pattern, and optionally a cheap test every line it can match passes.

    ``may_match(low, has_digit)`` gets the line lower-cased (after mapping the
    four non-ASCII letters that IGNORECASE matches to ASCII ones) and whether
    it holds a digit; a line for which it is False is not searched.
    """

    regex: re.Pattern
    may_match: Callable[[str, bool], bool] | None = None


_TERMINAL = re.compile(r"[.!?]['\"\u2019\u201d)\]]*$")  # anchored: searched line by line
_BULLET = re.compile(r"^\s*(?:[\u2022\u00b7\u25aa\u25b8\u25ba\u2023\u2043\u25cf\u25e6\-\*\+\u2013\u2014>]|\d{1,3}[.)]\s)")
MONTH = Pattern(re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b|"
    r"\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b|"
    r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b",
    re.IGNORECASE,
), lambda low, digit: digit)  # every alternative holds a digit
TIME = Pattern(re.compile(r"\bago\b|\b\d{1,2}:\d{2}\b|\b(?:yesterday|today)\b", re.IGNORECASE),
               lambda low, digit: digit or "ago" in low or "day" in low)
LEGAL = Pattern(re.compile(r"\u00a9|\(c\)|copyright|all rights reserved|privacy|terms of", re.IGNORECASE),
                lambda low, digit: ("\u00a9" in low or "(c)" in low or "copyright" in low or "rights" in low
                                    or "privacy" in low or "terms of" in low))
SEPARATORS = Pattern(re.compile(r"[|\u00bb\u203a/\u00b7]"))
LINKISH = Pattern(re.compile(r"https?://|www\.|\.com\b|@\w|\]\(", re.IGNORECASE),
                  lambda low, digit: "://" in low or "www." in low or ".com" in low or "@" in low or "](" in low)
SENTENCE = Pattern(re.compile(r"[.!?]\s+[A-Z\u00c0-\u024f]"))

PER_LINE_REGEX_MAX = 8  # up to this many lines, each pattern is called per line (measured: beyond a handful, whole-batch scans win)


def _lower_for_ignorecase(s: str) -> str:
    if s.isascii():
        return s.lower()
    return s.replace("\u0130", "i").replace("\u0131", "i").replace("\u017f", "s").replace("\u212a", "k").lower()


def _starts(parts: Sequence[str], sep_len: int) -> np.ndarray:
    out = np.zeros(len(parts), dtype=np.int64)
    if len(parts) > 1:
        out[1:] = np.cumsum([len(p) + sep_len for p in parts[:-1]])
    return out


def _matches_per_line(regex: re.Pattern, lines: Sequence[str], lengths: np.ndarray) -> np.ndarray:
    """Matches of ``regex`` in every line, in one scan of the lines joined by NUL
    (none of the unanchored patterns matches NUL, so no match spans two lines)."""
    n = len(lines)
    starts = _starts(lines, 1)
    span = np.fromiter((x for m in regex.finditer("\x00".join(lines)) for x in m.span()), dtype=np.int64)
    if not len(span):
        return np.zeros(n)
    start, end = span[0::2], span[1::2]
    line = np.searchsorted(starts, start, side="right") - 1
    line = line[end <= starts[line] + lengths[line]]
    return np.bincount(line, minlength=n).astype(np.float64)


class _Counter:
    """Matches of a pattern per line, by whichever way is cheaper for this batch."""

    def __init__(self, ss: Sequence[str], lengths: np.ndarray, has_digit: np.ndarray):
        self.ss, self.lengths, self.has_digit = ss, lengths, has_digit.tolist()
        self.per_line = len(ss) <= PER_LINE_REGEX_MAX
        self._low: list[str] | None = None

    def count(self, pat: Pattern) -> np.ndarray:
        ss = self.ss
        if self.per_line:
            return np.array([len(pat.regex.findall(x)) for x in ss], dtype=np.float64)
        if pat.may_match is None:
            return _matches_per_line(pat.regex, ss, self.lengths)
        if self._low is None:
            self._low = [_lower_for_ignorecase(s) for s in ss]
        cand = [i for i, (low, d) in enumerate(zip(self._low, self.has_digit)) if pat.may_match(low, d)]
        out = np.zeros(len(ss))
        if cand:
            out[cand] = _matches_per_line(pat.regex, [ss[i] for i in cand], self.lengths[cand])
        return out


def _indent(raw: str) -> int:
    expanded = raw.expandtabs(4)
    return len(expanded) - len(expanded.lstrip())


# The counts and flags a line's shape features are made of, one column each:
# the numpy path below and the compiled kernel (noiseclf.features.kernel)
# both produce them, and :func:`shapes_from_stats` turns them into features.
STAT_NAMES = ("chars", "words", "letters", "upper", "digits", "punct", "title", "first_upper", "indent", "commas",
              "terminal", "colon", "ellipsis", "bullet", "date", "time", "legal", "separators", "linkish",
              "sentences", "markdown")
ST = {name: i for i, name in enumerate(STAT_NAMES)}
N_STATS = len(STAT_NAMES)


def _stats(raws: Sequence[str]) -> np.ndarray:
    """The statistics (columns :data:`STAT_NAMES`) of every raw line, with numpy and the regular expressions."""
    m = len(raws)
    ss = [r.strip() for r in raws]
    n_int = np.fromiter(map(len, ss), dtype=np.int64, count=m)
    n = n_int.astype(np.float64)

    # Character classes over the stripped lines joined by "\n" (white space, so
    # words never run across lines), counted per line in one pass: a bit per
    # class, summed over each line's span.
    cps = codepoints("\n".join(ss))
    fl = char_flags(cps)
    starts = np.cumsum(n_int + 1) - (n_int + 1)
    ends = starts + n_int
    space = (fl & SPACE) != 0
    word_start = ~space
    word_start[1:] &= space[:-1]
    upper_c = (fl & UPPER) != 0

    def per_line(mask: np.ndarray) -> np.ndarray:
        cs = np.zeros(len(mask) + 1, dtype=np.int32)
        np.cumsum(mask, out=cs[1:])
        return (cs[ends] - cs[starts]).astype(np.float64)

    def flag(values) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)

    st = np.empty((m, N_STATS))
    st[:, ST["chars"]] = n
    st[:, ST["words"]] = per_line(word_start)  # runs of non-space
    st[:, ST["letters"]] = per_line((fl & ALPHA) != 0)
    st[:, ST["upper"]] = per_line(upper_c)
    st[:, ST["digits"]] = digits = per_line((fl & DIGIT) != 0)
    st[:, ST["punct"]] = per_line((fl & PUNCT) != 0)  # what [^\w\s] matches
    st[:, ST["title"]] = per_line(word_start & upper_c)  # capitalised words
    st[:, ST["first_upper"]] = (upper_c[np.minimum(starts, max(len(cps) - 1, 0))] & (n > 0)) if len(cps) else 0.0
    st[:, ST["indent"]] = [_indent(r) if r[:1].isspace() else 0 for r in raws]
    st[:, ST["commas"]] = [s.count(",") for s in ss]
    st[:, ST["terminal"]] = flag([_TERMINAL.search(s) is not None for s in ss])
    st[:, ST["colon"]] = flag([s.endswith(":") for s in ss])
    st[:, ST["ellipsis"]] = flag([s.endswith(("...", "\u2026")) for s in ss])
    st[:, ST["bullet"]] = flag([_BULLET.match(r) is not None for r in raws])
    rx = _Counter(ss, n_int, digits > 0)
    st[:, ST["date"]] = rx.count(MONTH) > 0
    st[:, ST["time"]] = rx.count(TIME) > 0
    st[:, ST["legal"]] = rx.count(LEGAL) > 0
    st[:, ST["separators"]] = rx.count(SEPARATORS)
    st[:, ST["linkish"]] = rx.count(LINKISH) > 0
    st[:, ST["sentences"]] = rx.count(SENTENCE)
    st[:, ST["markdown"]] = flag([s[:1] in "#[!|" for s in ss])
    return st


def _columns(st: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(name, values) of every shape feature, in column order, from the statistics of the lines."""
    def col(name: str) -> np.ndarray:
        return st[:, ST[name]]

    n, nw, letters, upper = col("chars"), col("words"), col("letters"), col("upper")
    safe_n = np.where(n > 0, n, 1.0)
    return [
        ("log_chars", np.log1p(n)),
        ("log_words", np.log1p(nw)),
        ("mean_word_len", np.minimum(n / np.maximum(nw, 1), 20.0) / 10.0),
        ("ends_terminal", col("terminal")),
        ("ends_colon", col("colon")),
        ("ends_ellipsis", col("ellipsis")),
        ("bullet", col("bullet")),
        ("log_indent", np.log1p(col("indent"))),
        ("upper_frac", np.where(letters > 0, upper / np.where(letters > 0, letters, 1.0), 0.0)),
        ("title_frac", np.where(nw > 0, col("title") / np.where(nw > 0, nw, 1.0), 0.0)),
        ("digit_frac", np.where(n > 0, col("digits") / safe_n, 0.0)),
        ("has_date", col("date")),
        ("has_time", col("time")),
        ("legal", col("legal")),
        ("log_separators", np.log1p(col("separators"))),
        ("punct_frac", np.where(n > 0, col("punct") / safe_n, 0.0)),
        ("log_commas", np.log1p(col("commas"))),
        ("starts_upper", col("first_upper")),
        ("linkish", col("linkish")),
        ("log_sentences", np.log1p(col("sentences"))),
        ("all_caps", ((letters > 3) & (upper == letters)).astype(np.float64)),
        ("markdown", col("markdown")),
        ("short_1_3_words", ((nw >= 1) & (nw <= 3)).astype(np.float64)),
    ]


def shapes_from_stats(st: np.ndarray) -> np.ndarray:
    """Shape features (columns :data:`SHAPE_NAMES`) from line statistics (columns :data:`STAT_NAMES`)."""
    return np.column_stack([values for _, values in _columns(st)]).astype(np.float64)


SHAPE_NAMES: tuple[str, ...] = tuple(name for name, _ in _columns(np.zeros((1, N_STATS))))


def line_shapes(raws: Sequence[str]) -> np.ndarray:
    """Shape features of every line (raw text), one row per line, columns :data:`SHAPE_NAMES`."""
    if not raws:
        return np.zeros((0, len(SHAPE_NAMES)))
    return shapes_from_stats(_stats(raws))


# What the compiled kernel (noiseclf.features.kernel) implements by hand, copied
# from the patterns above: while every pattern and shape name is exactly this,
# the kernel's matchers stand in for the regular expressions; otherwise the
# numpy path runs.
_I, _U = re.IGNORECASE, re.UNICODE
_WRITTEN_FOR = {
    "_TERMINAL": (r"[.!?]['\"\u2019\u201d)\]]*$", _U),
    "_BULLET": (r"^\s*(?:[\u2022\u00b7\u25aa\u25b8\u25ba\u2023\u2043\u25cf\u25e6\-\*\+\u2013\u2014>]|\d{1,3}[.)]\s)", _U),
    "MONTH": (r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b|"
              r"\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b|"
              r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b", _I | _U),
    "TIME": (r"\bago\b|\b\d{1,2}:\d{2}\b|\b(?:yesterday|today)\b", _I | _U),
    "LEGAL": (r"\u00a9|\(c\)|copyright|all rights reserved|privacy|terms of", _I | _U),
    "SEPARATORS": (r"[|\u00bb\u203a/\u00b7]", _U),
    "LINKISH": (r"https?://|www\.|\.com\b|@\w|\]\(", _I | _U),
    "SENTENCE": (r"[.!?]\s+[A-Z\u00c0-\u024f]", _U),
}
_KERNEL_SHAPES = ("log_chars", "log_words", "mean_word_len", "ends_terminal", "ends_colon", "ends_ellipsis", "bullet",
                  "log_indent", "upper_frac", "title_frac", "digit_frac", "has_date", "has_time", "legal",
                  "log_separators", "punct_frac", "log_commas", "starts_upper", "linkish", "log_sentences",
                  "all_caps", "markdown", "short_1_3_words")


def kernel_matches_patterns() -> bool:
    """Are the shape patterns and names still the ones the kernel was written for?"""
    now = {"_TERMINAL": _TERMINAL, "_BULLET": _BULLET, "MONTH": MONTH.regex, "TIME": TIME.regex,
           "LEGAL": LEGAL.regex, "SEPARATORS": SEPARATORS.regex, "LINKISH": LINKISH.regex,
           "SENTENCE": SENTENCE.regex}
    return (SHAPE_NAMES == _KERNEL_SHAPES
            and all((now[k].pattern, now[k].flags) == v for k, v in _WRITTEN_FOR.items()))
