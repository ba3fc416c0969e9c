"""What a page's HTML says about each of its lines: evidence for the markup stage.

Given HTML (``noiseclf/html.py``), noiseclf converts it with inscriptis and
cleans the text like any scrape. The text alone does not show where the DOM
puts a line: inside a link, a ``<nav>``, a ``<footer>``, an ``<aside>``, the
page's ``<article>`` or ``<main>``. inscriptis' annotations do (the same text
as ``inscriptis.get_text``, plus the character spans of chosen elements), so
HTML in gets, for every line, the share of its non-space characters inside
each element kind of :data:`KINDS`. The model's *markup stage*
(``noiseclf/pagestage.py``) reads these beside the page stage's features; a
text scrape, or HTML whose text changed on cleaning, goes through the page
stage as before. Chosen by site-disjoint validation (training/README.md,
"The markup stage"): on inscriptis scrapes of training domains, against the page
stage, article word F1 0.925 -> 0.931 and all page types 0.840 -> 0.853.
"""

from __future__ import annotations

import numpy as np

# Element kinds whose characters are counted per line (``ARIA`` roles fold into them).
KINDS = ("link", "nav", "footer", "aside", "header", "article", "main", "li", "heading", "form", "button")
RULES = {
    "a": ["link"], "nav": ["nav"], "footer": ["footer"], "aside": ["aside"], "header": ["header"],
    "article": ["article"], "main": ["main"], "li": ["li"], "form": ["form"], "button": ["button"],
    "#role=navigation": ["nav"], "#role=contentinfo": ["footer"], "#role=complementary": ["aside"],
    "#role=main": ["main"], "#role=banner": ["header"],
    **{f"h{i}": ["heading"] for i in range(1, 7)},
}
LINK_RADIUS = 3  # the links' share is also averaged over +-3 lines (menus and story lists are runs)
MARKUP_DIM = len(KINDS) + 1 + 3  # shares, links around, page flags (has <article>, has <main>, links overall)

_config = None
_space: np.ndarray | None = None


def _inscriptis_config():
    global _config
    if _config is None:
        from inscriptis.model.config import ParserConfig

        _config = ParserConfig(annotation_rules=RULES)
    return _config


def _space_codes() -> np.ndarray:
    global _space
    if _space is None:  # every white-space code point is below U+3001
        _space = np.array([c for c in range(0x3001) if chr(c).isspace()], dtype=np.uint32)
    return _space


def convert(html: str) -> tuple[str, np.ndarray]:
    """inscriptis' text of ``html`` (as ``inscriptis.get_text``) and each of its lines' shares (rows
    as ``text.split("\\n")``, columns as :data:`KINDS`)."""
    from inscriptis import get_annotated_text

    out = get_annotated_text(html, _inscriptis_config())
    return out["text"], line_shares(out["text"], out["label"])


def line_shares(text: str, spans) -> np.ndarray:
    """Share of each line's non-space characters inside each kind's elements (spans may overlap)."""
    n = len(text)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    solid = np.r_[0, np.cumsum(~np.isin(codes, _space_codes()))]  # non-space characters before each offset
    breaks = np.flatnonzero(codes == 10)
    starts, ends = np.r_[0, breaks + 1], np.r_[breaks, n]
    total = (solid[ends] - solid[starts]).astype(np.float64)
    by_kind: dict[str, list] = {}
    for a, b, label in spans:
        if label in _INDEX and a < b:
            by_kind.setdefault(label, []).append((max(0, min(a, n)), max(0, min(b, n))))
    out = np.zeros((len(starts), len(KINDS)))
    has = total > 0
    for label, pairs in by_kind.items():
        lo, hi = _merged(pairs)
        inside = _covered(lo, hi, solid, ends) - _covered(lo, hi, solid, starts)
        out[has, _INDEX[label]] = inside[has] / total[has]
    return out


_INDEX = {k: i for i, k in enumerate(KINDS)}


def _merged(pairs) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping or nested spans as disjoint, sorted ones."""
    pairs = sorted(pairs)
    lo, hi = [pairs[0][0]], [pairs[0][1]]
    for a, b in pairs[1:]:
        if a <= hi[-1]:
            hi[-1] = max(hi[-1], b)
        else:
            lo.append(a)
            hi.append(b)
    return np.array(lo), np.array(hi)


def _covered(lo: np.ndarray, hi: np.ndarray, solid: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Non-space characters before each offset ``x`` that lie inside the disjoint spans."""
    full = np.r_[0, np.cumsum(solid[hi] - solid[lo])]  # inside the spans before span j
    j = np.searchsorted(lo, x, side="right") - 1  # the last span starting at or before x
    ok = j >= 0
    jj = np.maximum(j, 0)
    part = solid[np.minimum(x, hi[jj])] - solid[lo[jj]]
    return np.where(ok, full[jj] + part, 0)


def markup_features(shares: np.ndarray) -> np.ndarray:
    """The markup stage's extra features for one page's non-blank lines (rows of ``shares``)."""
    m = len(shares)
    if m == 0:
        return np.zeros((0, MARKUP_DIM))
    link = shares[:, KINDS.index("link")]
    c = np.r_[0.0, np.cumsum(link)]
    rows = np.arange(m)
    lo, hi = np.maximum(rows - LINK_RADIUS, 0), np.minimum(rows + LINK_RADIUS + 1, m)
    around = (c[hi] - c[lo]) / (hi - lo)
    page = [float(shares[:, KINDS.index("article")].max() > 0), float(shares[:, KINDS.index("main")].max() > 0),
            float(link.mean())]
    return np.column_stack([shares, around, np.broadcast_to(page, (m, 3))])


class MarkedText(str):
    """Text converted from HTML that still knows its lines' markup (``line_markup``: a row per
    ``split("\\n")`` line). Any string operation gives a plain ``str``: the markup is then gone and
    the text is cleaned as a scrape."""

    line_markup: np.ndarray

    def __new__(cls, text: str, line_markup: np.ndarray):
        obj = super().__new__(cls, text)
        obj.line_markup = line_markup
        return obj
