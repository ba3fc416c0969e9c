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


def _columns(raws: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """(name, values) of every shape feature, for every line, in column order."""
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

    letters, upper, digits = per_line((fl & ALPHA) != 0), per_line(upper_c), per_line((fl & DIGIT) != 0)
    punct = per_line((fl & PUNCT) != 0)  # what [^\w\s] matches
    nw, title = per_line(word_start), per_line(word_start & upper_c)  # words (runs of non-space), capitalised words
    first_upper = upper_c[np.minimum(starts, max(len(cps) - 1, 0))] & (n > 0) if len(cps) else np.zeros(m, bool)
    indent = np.array([_indent(r) if r[:1].isspace() else 0 for r in raws], dtype=np.float64)
    rx = _Counter(ss, n_int, digits > 0)
    safe_n = np.where(n > 0, n, 1.0)

    def flag(values) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)

    return [
        ("log_chars", np.log1p(n)),
        ("log_words", np.log1p(nw)),
        ("mean_word_len", np.minimum(n / np.maximum(nw, 1), 20.0) / 10.0),
        ("ends_terminal", flag([_TERMINAL.search(s) is not None for s in ss])),
        ("ends_colon", flag([s.endswith(":") for s in ss])),
        ("ends_ellipsis", flag([s.endswith(("...", "\u2026")) for s in ss])),
        ("bullet", flag([_BULLET.match(r) is not None for r in raws])),
        ("log_indent", np.log1p(indent)),
        ("upper_frac", np.where(letters > 0, upper / np.where(letters > 0, letters, 1.0), 0.0)),
        ("title_frac", np.where(nw > 0, title / np.where(nw > 0, nw, 1.0), 0.0)),
        ("digit_frac", np.where(n > 0, digits / safe_n, 0.0)),
        ("has_date", flag(rx.count(MONTH) > 0)),
        ("has_time", flag(rx.count(TIME) > 0)),
        ("legal", flag(rx.count(LEGAL) > 0)),
        ("log_separators", np.log1p(rx.count(SEPARATORS))),
        ("punct_frac", np.where(n > 0, punct / safe_n, 0.0)),
        ("log_commas", np.log1p(np.array([s.count(",") for s in ss], dtype=np.float64))),
        ("starts_upper", flag(first_upper)),
        ("linkish", flag(rx.count(LINKISH) > 0)),
        ("log_sentences", np.log1p(rx.count(SENTENCE))),
        ("all_caps", flag((letters > 3) & (upper == letters))),
        ("markdown", flag([s[:1] in "#[!|" for s in ss])),
        ("short_1_3_words", flag((nw >= 1) & (nw <= 3))),
    ]


SHAPE_NAMES: tuple[str, ...] = tuple(name for name, _ in _columns(["x"]))


def line_shapes(raws: Sequence[str]) -> np.ndarray:
    """Shape features of every line (raw text), one row per line, columns :data:`SHAPE_NAMES`."""
    if not raws:
        return np.zeros((0, len(SHAPE_NAMES)))
    return np.column_stack([values for _, values in _columns(raws)]).astype(np.float64)
