"""Build a line-labelled corpus from real web pages (WCXB) for noiseclf.

    python -m training.corpus --wcxb /path/to/wcxb-dev --out build/corpus \
        [--tools html-text,inscriptis,html2text,bs4] [--limit N]

For every page and every HTML-to-text tool we write the tool's raw scrape
(``<out>/<tool>/<file_id>.txt``) and one label record per non-blank line
(``<out>/<tool>/<file_id>.jsonl``, the project's labels format), plus
``<out>/manifest.jsonl`` with one row per (page, tool).

How a line gets its label (see training/README.md for the full rules and why):

1. *article or not* -- by aligning the scrape with the page's ground-truth
   ``main_content``. Both are cut into tokens (NFKC, casefolded ``\\w+`` runs; CJK,
   kana and Thai characters one token each; URLs and markdown link targets left
   out), and ``difflib.SequenceMatcher`` finds the monotone matching blocks between
   the whole page's token stream and the ground-truth token stream. A line is
   article when at least ``MAJORITY`` (0.5) of its tokens sit in matching blocks of
   at least ``MIN_BLOCK`` (3) tokens. Extra rules: a line all of whose tokens are
   matched (even by shorter blocks) and that lies between the first and the last
   article line is article (short headings at an aligned place); a line of at least
   ``SHINGLE_MIN_TOKENS`` tokens with at least ``SHINGLE_COVER`` of its tokens inside
   ground-truth ``SHINGLE_N``-grams is article (a second copy of a summary, or text a
   tool moved); a line made of the page title (the headline) is article unless the
   DOM puts it in a breadcrumb, related-story, ad or footer block, or it comes after
   the last article line, and so is the page's ``<title>`` line (html-text and bs4
   print it first); a line without any token is article when the nearest lines
   with tokens above and below are both article.
2. *which noise class* -- from where the line's text sat in the HTML. Every DOM
   text node gets the class of its nearest ancestor that carries a signal (tag name,
   id, class, role, aria-label; whole-token matching, see ``_element_signal``; a
   ``<button>``/``<select>`` with no signal above it is nav: the page's controls). The
   page's tokens are aligned with the DOM's token stream (SequenceMatcher again) and
   a line takes the class that holds at least half of its matched tokens. Then text
   rules ("Advertisement", "$75 at Amazon" → ad, "Share" → nav, "©"/"All rights
   reserved" in a short line → footer), promotions of the site's newsletter or offers
   after the start of the body → ad, a heading such as "Related posts" or "Most read"
   → related-story with the rest of its DOM block. The rest: text inside the
   article's DOM container (the element holding the body) → article; a byline or date
   next to the body → article; before the body → nav; inside the body's span →
   article; after it, a link of ``HEADLINE_MIN_TOKENS`` tokens or more →
   related-story, a shorter link → nav, prose of ``AFTER_PROSE_TOKENS`` tokens or more
   → article, other text → footer. Token-less lines take their neighbours' label.
   These rules were measured against the hand-labelled gold set
   (``python -m training.gold_eval``; training/README.md, "Automatic labels against
   the gold set").
"""
from __future__ import annotations

import argparse
import ast
import bisect
import gzip
import hashlib
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path
from urllib.parse import urlsplit

from noiseclf.atomic import atomic_write_bytes  # noqa: E402
from noiseclf.labels import LABELS, write_labels_file  # noqa: E402
from noiseclf.text import clean_scrape  # noqa: E402,F401  (the corpus's scrapes are made safe as the package makes them)

NOISE = tuple(lab for lab in LABELS if lab != "article")
DEFAULT_TOOLS = ("html-text", "inscriptis", "html2text", "bs4")

# --- thresholds of the article rule (documented in training/README.md) ---
MIN_BLOCK = 3          # a token counts as "aligned" when its matching block is >= this long
MAJORITY = 0.5         # share of a line's tokens that must be aligned
SHINGLE_N = 5          # n of the ground-truth n-grams used for unaligned copies
SHINGLE_MIN_TOKENS = 8
SHINGLE_COVER = 0.8
TITLE_IN_LINE = 0.75   # share of the title's tokens that a headline line must hold
LINE_IN_TITLE = 0.6    # share of the line's tokens that must be title tokens (room for " - Site name")
LOW_ALIGNMENT = 0.5    # manifest flag: less than this share of GT tokens found in article lines
TEST_SHARE = 20        # percent of domains (by hash) in the test split
CONTAINER_TRIM = 0.05  # the content container holds the body's tokens but this share at either end
ANCHOR_ID_WORDS = 4    # an id of this many words or more is a heading anchor: no signal
HEADING_BLOCK_SLACK = 2  # a heading's block: its nearest ancestor with more than this many extra tokens
HEADLINE_MIN_TOKENS = 4  # a link after the article with this many tokens is another story's headline
AFTER_PROSE_TOKENS = 12  # unclassified prose of this many tokens after the article is article
PROMO_MIN_TOKENS = 3     # a promotion line (newsletter, sign-up, offer) has at least this many tokens
DATELINE_MAX_TOKENS = 12  # a byline/date line: at most this many tokens ...
DATELINE_WINDOW = 4       # ... within this many lines of the body
FOOTER_TEXT_MAX_TOKENS = 20  # "copyright" / "all rights reserved" marks a footer line only in a short line

# ---------------------------------------------------------------------------
# Tokens used for alignment
# ---------------------------------------------------------------------------
_SPLIT_CHARS = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_ATOK = re.compile(rf"[{_SPLIT_CHARS}]|[^\W_{_SPLIT_CHARS}]+", re.UNICODE)
_URLS = re.compile(
    r"\]\([^)\s]*(?:\s+\"[^\"]*\")?\)"   # markdown link/image target ](url "title")
    r"|<(?:https?|mailto|ftp):[^>\s]*>"   # markdown autolink
    r"|(?:https?|ftp)://\S+|www\.\S+|mailto:\S+",
    re.IGNORECASE,
)


def align_tokens(text: str) -> list[str]:
    """Tokens for alignment: NFKC + casefold, \\w runs without "_" (CJK/Thai per char), no URLs."""
    text = _URLS.sub(" ", text)
    text = unicodedata.normalize("NFKC", text).casefold()
    return _ATOK.findall(text)


# ---------------------------------------------------------------------------
# HTML-to-text tools, each used the way a scraper would
# ---------------------------------------------------------------------------
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


def _no_xml_decl(html: str) -> str:
    # lxml refuses str input that declares an encoding; scrapers strip it.
    return _XML_DECL.sub("", html, count=1)


def tool_html_text(html: str) -> str:
    import html_text

    return html_text.extract_text(_no_xml_decl(html), guess_layout=True)


def tool_inscriptis(html: str) -> str:
    import inscriptis

    return inscriptis.get_text(_no_xml_decl(html))


def tool_html2text(html: str) -> str:
    import html2text

    h = html2text.HTML2Text()
    h.body_width = 0
    return h.handle(html)


def tool_bs4(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for el in soup(["script", "style", "noscript"]):
        el.decompose()
    return soup.get_text("\n")


TOOLS = {
    "html-text": tool_html_text,
    "inscriptis": tool_inscriptis,
    "html2text": tool_html2text,
    "bs4": tool_bs4,
}


# ---------------------------------------------------------------------------
# DOM classes
# ---------------------------------------------------------------------------
_SKIP_TAGS = {"script", "style", "noscript", "template"}
_SEMANTIC = {"nav", "header", "footer", "aside", "menu"}
_CONTENT_TAGS = {"article", "main"}

# Whole tokens of id/class/role/aria-label values (split on non-alphanumerics and
# camelCase). "strong" signals win over "weak" ones on the same element.
_AD_TOKENS = {
    "ad", "ads", "adv", "advert", "adverts", "advertisement", "advertisements",
    "advertising", "adsense", "adsbygoogle", "adslot", "adunit", "adzone", "adbox",
    "adcontainer", "adwrapper", "dfp", "sponsor", "sponsors", "sponsored", "promo",
    "promos", "promoted", "promotion", "promotions", "newsletter", "newsletters",
    "subscribe", "subscription", "taboola", "outbrain", "paywall", "affiliate",
}
_AD_TOKEN_RE = re.compile(r"^(ads?\d+\w*|advert\w*|adslot\w*|adunit\w*|sponsor\w*|newsletter\w*|taboola\w*|outbrain\w*)$")
_FOOTER_TOKENS = {
    "footer", "footers", "sitefooter", "copyright", "colophon", "contentinfo",
    "legal", "comment", "comments", "commentlist", "disqus", "respond", "cookie",
    "cookies", "consent", "gdpr",
}
_RELATED_TOKENS = {
    "related", "relatedposts", "recommended", "recommendation", "recommendations",
    "recommend", "trending", "popular", "mostread", "mostpopular", "morestories",
    "readmore", "yarpp", "crp",
}
_RELATED_PAIRS = {
    ("more", "stories"), ("read", "more"), ("most", "read"), ("most", "popular"),
    ("also", "read"), ("recent", "posts"), ("latest", "posts"), ("latest", "news"),
    ("you", "may"), ("more", "news"), ("more", "articles"), ("also", "like"),
}
_NAV_TOKENS = {
    "nav", "navbar", "navigation", "navmenu", "mainnav", "topnav", "menu", "menus",
    "menubar", "megamenu", "submenu", "mainmenu", "breadcrumb", "breadcrumbs",
    "crumbs", "masthead", "topbar", "skiplink", "skiplinks", "pagination", "pager",
}
_WEAK_NAV_TOKENS = {"share", "sharing", "social", "sharedaddy", "addthis", "sharethis",
                    "search", "searchform", "tags", "tagcloud", "toolbar", "skip"}
# "widget" is not a signal: Elementor puts elementor-widget on every block of a page.
_WEAK_AD_TOKENS = {"banner"}
_AUTHOR_BOX = re.compile(r"author[-_]?(box|bio|info|card|profile|details)|about[-_]?(the[-_]?)?author")
_SKIP_CLASS_PREFIX = ("category-", "tag-", "has-", "no-", "with-", "without-")
# Tailwind-style utilities with arbitrary values, "lg:h-[calc(100vh-var(--nav-height))]":
# CSS, not a name for the block
_UTILITY_CLASS = re.compile(r"[\[\](){}]|--")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

_ROLE = {
    "navigation": "nav", "banner": "nav", "menu": "nav", "menubar": "nav",
    "search": "nav", "contentinfo": "footer",
}
_PRIORITY = ("ad", "footer", "related-story", "nav")
# interactive controls: their text is the page's machinery (share, play, show more, copy)
_CONTROL_TAGS = {"button", "select", "option"}
_CONTROL_ROLES = {"button"}


def _words(value: str) -> list[str]:
    return [w for w in _NON_ALNUM.split(_CAMEL.sub(r"\1 \2", value).lower()) if w]


def _element_signal(tag: str, attrs, in_content: bool):
    """(class, detail) that an element gives to the text under it, or None.

    ``attrs`` is the element's attribute mapping. Tag names: nav/menu → nav,
    header → nav (not inside <article>/<main>: that is the article's own header),
    footer → footer; <aside>, role=complementary and "sidebar" give nothing (a
    sidebar holds menus, promos and forms as often as other stories). role:
    navigation/banner/menu/search → nav, contentinfo → footer; a nav landmark (tag or
    role) beats a "related" class on the same element (Sphinx's navigation bar). Class
    names are split into whole tokens (``ad-slot`` → ad, slot; ``shadow`` and
    ``header`` never give "ad"); WordPress taxonomy/state classes (category-*, tag-*,
    has-*, no-*), Tailwind arbitrary-value utilities (``lg:h-[calc(...--nav-height)]``)
    and ids of ``ANCHOR_ID_WORDS`` or more words (heading anchors) are ignored. The
    detail is "breadcrumb", "author", "newsletter" (an ad signal only from
    newsletter/subscribe words: inside a menu it stays nav), "weak" or "".
    """
    strong: set[str] = set()
    weak: set[str] = set()
    detail = ""
    if tag in ("nav", "menu"):
        strong.add("nav")
    elif tag == "header" and not in_content:
        strong.add("nav")
    elif tag == "footer":
        strong.add("footer")
    # <aside>, role=complementary and "sidebar" give no class: a sidebar holds menus,
    # promos and forms as often as other stories
    role = (attrs.get("role") or "").strip().lower()
    landmark_nav = tag in ("nav", "menu") or role in ("navigation", "menu", "menubar")
    if role in _ROLE:
        cls = _ROLE[role]
        if not (role == "banner" and in_content):
            strong.add(cls)
    values = []
    for name in ("id", "class"):
        v = attrs.get(name)
        if v:
            for c in v.split():
                if c.lower().startswith(_SKIP_CLASS_PREFIX) or _UTILITY_CLASS.search(c):
                    continue
                if name == "id" and len(_words(c)) >= ANCHOR_ID_WORDS:
                    continue  # a heading anchor made from its text ("sql-for-update-share")
                values.append(c)
    label = attrs.get("aria-label")
    if label:
        values.append(label)
    for value in values:
        low = value.lower()
        if _AUTHOR_BOX.search(low):
            strong.add("footer")
            detail = "author"
        words = _words(value)
        for i, w in enumerate(words):
            if w in _AD_TOKENS or _AD_TOKEN_RE.match(w):
                strong.add("ad")
                if w.startswith(("newsletter", "subscri")) and detail == "":
                    detail = "newsletter"
                elif detail == "newsletter":
                    detail = "ad"
            elif w in _FOOTER_TOKENS:
                strong.add("footer")
            elif w in _RELATED_TOKENS:
                strong.add("related-story")
            elif w in _NAV_TOKENS:
                strong.add("nav")
                if w.startswith(("breadcrumb", "crumb")):
                    detail = "breadcrumb"
            elif w == "header" and not in_content:
                strong.add("nav")
            elif w in _WEAK_NAV_TOKENS:
                weak.add("nav")
            elif w in _WEAK_AD_TOKENS:
                weak.add("ad")
            if i + 1 < len(words) and (w, words[i + 1]) in _RELATED_PAIRS:
                strong.add("related-story")
    if landmark_nav:
        strong.discard("related-story")  # Sphinx: <div class="related" role="navigation">
    for pool in (strong, weak):
        for cls in _PRIORITY:
            if cls in pool:
                if (cls, detail) in (("nav", "breadcrumb"), ("footer", "author"), ("ad", "newsletter")):
                    return cls, detail
                return cls, ("weak" if pool is weak else "")
    return None


class Dom(tuple):
    """What ``dom_stream`` returns: (tokens, classes, details, owners, ends, parents, tags, spans).

    ``owners[i]`` is the document-order index of the element that holds token ``i``
    (for a tail, the parent element; -1 outside the root); element ``e`` contains
    element ``o`` when ``e <= o <= ends[e]``; ``parents[e]`` is -1 for the root;
    ``tags[e]`` is the lower-case tag name; the tokens of element ``e``'s subtree are
    ``tokens[spans[e][0]:spans[e][1]]``.
    """

    __slots__ = ()

    def __new__(cls, tokens=(), classes=(), details=(), owners=(), ends=(), parents=(), tags=(), spans=()):
        return super().__new__(cls, tuple(list(x) for x in (tokens, classes, details, owners, ends, parents, tags, spans)))


def dom_stream(html: str) -> Dom:
    """Token stream of the page's DOM text with each token's class.

    Returns a ``Dom`` (tokens, classes, details, owners, ends) where classes[i] is
    one of NOISE or None. Text under <script>/<style>/<noscript>/<template> and
    comments is left out; <img alt> text is included (html2text prints it). An
    element whose text is more than 60 % of the body's text is a layout wrapper: its
    id/class signals are ignored (not those of nav/header/footer/aside/menu tags).
    """
    import lxml.etree as etree
    import lxml.html

    data = html.encode("utf-8", "replace")
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(data, parser=parser)
    except Exception:
        return Dom()
    for el in list(root.iter(*_SKIP_TAGS)):
        el.drop_tree()

    # subtree text sizes, children before parents
    size: dict = {}
    for el in reversed(list(root.iter())):
        if not isinstance(el.tag, str):
            size[el] = 0
            continue
        n = len(el.text or "")
        for child in el:
            n += size.get(child, 0) + len(child.tail or "")
        size[el] = n
    body = root.find("body")
    body_size = size.get(body if body is not None else root, 0) or 1

    tokens: list[str] = []
    classes: list = []
    details: list[str] = []
    owners: list[int] = []
    ends: list[int] = []
    parents: list[int] = []
    tags: list[str] = []
    spans: list = []

    def emit(text, ctx, owner):
        if text:
            toks = align_tokens(text)
            tokens.extend(toks)
            classes.extend([ctx[0]] * len(toks))
            details.extend([ctx[1]] * len(toks))
            owners.extend([owner] * len(toks))

    stack = [((None, ""), False, -1)]
    for event, el in etree.iterwalk(root, events=("start", "end")):
        if not isinstance(el.tag, str):
            if event == "end":
                emit(el.tail, stack[-1][0], stack[-1][2])
            continue
        if event == "start":
            parent_ctx, in_content, _ = stack[-1]
            tag = el.tag.lower()
            ctx = parent_ctx
            if tag not in ("html", "body", "head"):
                sig = _element_signal(tag, el.attrib, in_content)
                if sig is not None and (tag in _SEMANTIC or size.get(el, 0) <= 0.6 * body_size):
                    # a menu inside the footer is a footer menu (labelling guideline 2); a
                    # "newsletter" item inside a menu is a menu link
                    if not (parent_ctx[0] == "footer" and sig[0] == "nav") and not (
                            parent_ctx[0] == "nav" and sig == ("ad", "newsletter")):
                        ctx = sig
            role = (el.get("role") or "").strip().lower()
            if ctx[0] is None and ((tag in _CONTROL_TAGS and role in ("", "button")) or role in _CONTROL_ROLES):
                # (a <button role="radio"> is a product option picker: content)
                ctx = ("nav", "control")  # a button or form control with no class above it: site chrome
            child_in_content = in_content or tag in _CONTENT_TAGS or (el.get("role") or "").lower() == "main"
            me = len(ends)
            ends.append(me)
            parents.append(stack[-1][2])
            tags.append(tag)
            spans.append((len(tokens), len(tokens)))
            if tag == "title" and stack[-1][2] >= 0 and tags[stack[-1][2]] == "head":
                ctx = (None, "title")  # the page's <title>: html-text and bs4 print it first
            stack.append((ctx, child_in_content, me))
            emit(el.text, ctx, me)
            if tag == "img":
                emit(el.get("alt"), ctx, me)
        else:
            me = stack.pop()[2]
            ends[me] = len(ends) - 1
            spans[me] = (spans[me][0], len(tokens))
            emit(el.tail, stack[-1][0], stack[-1][2])
    return Dom(tokens, classes, details, owners, ends, parents, tags, spans)


# ---------------------------------------------------------------------------
# Labelling
# ---------------------------------------------------------------------------
_AD_TEXT = re.compile(
    r"^\W*(advertisements?|advertising|sponsored( content| links?| stories| posts?)?|paid (content|post)"
    r"|promoted( content| stories)?|ads?|anzeige|werbung|publicit[ée]|publicidad|pubblicit[àa]|reklama"
    r"|(story|article|content) continues (below|after)( this)?( advertisement| ad)?"
    r"|continue reading (below|after (the )?(advertisement|ad))"
    r"|advertisement\W+(scroll|continue) (down )?to continue( reading)?)\W*$",
    re.IGNORECASE,
)
# short calls to action (buttons) with no DOM class, inside or after the article
_CTA_TEXT = re.compile(
    r"^\W*(get( started| a quote| a demo| the app| it now| your free| started free)|start( (your )?free trial| now| assessment)"
    r"|request (a |an )?(info|demo|quote|consultation)|try (it |for )?(free|now)|try \w+$|book (a |your |now)"
    r"|download( now| the app| (our|the) (free )?(guide|ebook|report))|buy now|shop now|order now|sign up|subscribe( now)?"
    r"|join (now|today|free)|register now|claim (your|offer)|schedule (a |your )?(demo|call|consultation)"
    r"|contact sales|free trial|see (pricing|plans))\b[^\n]{0,30}$",
    re.IGNORECASE,
)
# headings of lists of other stories (the whole line, a few words)
_RELATED_HEADING = re.compile(
    r"^\W*(related( posts?| articles?| stories| content| news| reading| links| guides| resources)?"
    r"|(you|we think you) (may|might|will|would) (also )?(like|love|enjoy|be interested in)( these| this)?"
    r"|(more|other|further|recent|latest|similar|popular|top|trending|recommended|featured) (stories|articles|posts|news|reads|blogs?|guides|reviews)"
    r"|the latest from [^\n]{1,40}|latest from [^\n]{1,40}"
    r"|most (read|popular|viewed|shared|recent)( stories| articles| posts| this week| today)?"
    r"|popular( now| this week| today| on [^\n]{1,30})?|trending( now| today| on [^\n]{1,30})?"
    r"|recommended( for you| reading)?|read (this )?next|what to read next|watch next|up next|keep reading"
    r"|further reading|also read|read also|see also|don'?t miss|editor'?s (picks?|choice)|top stories"
    r"|in case you missed it|you may have missed|also on [^\n]{1,30})\W*$",
    re.IGNORECASE,
)
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# a byline or a date line (the guidelines count both as article)
_DATELINE = re.compile(
    r"^\W*(by|written by|posted by|words by|author:?)\s+\w"
    r"|\b(published|updated|posted|modified|last updated)( on)?\b"
    r"|\b" + _MONTH + r"\s+\d{1,2}(st|nd|rd|th)?,?\s+(19|20)\d\d\b"
    r"|\b\d{1,2}(st|nd|rd|th)?\s+" + _MONTH + r",?\s+(19|20)\d\d\b"
    r"|\b(19|20)\d\d[-./]\d{1,2}[-./]\d{1,2}\b|\b\d{1,2}/\d{1,2}/(19|20)?\d\d\b"
    r"|\b\d+\s*min(ute)?s?\s+read\b",
    re.IGNORECASE,
)
# the site promoting itself: newsletters, sign-ups, memberships, donations, offers
_PROMO_TEXT = re.compile(
    r"\b(newsletters?|mailing list|(in|to) your inbox|sign(ing)? up (for|to|now|today|free)|subscribe (to|for|now|today)"
    r"|unsubscribe|free (gift|trial|course|e-?book|guide|download|consultation|quote|shipping)"
    r"|(stay|keep) (up to date|updated|informed|in the loop|on top)|get the latest|don'?t miss (out|a thing)"
    r"|donat(e|ion|ions)|become a (member|friend|patron|supporter)|support (us|our work|our mission|independent)"
    r"|coupon code|promo code|use code|sale ends|\d+ ?% off)\b",
    re.IGNORECASE,
)
# an affiliate product box's price link: "$75 at Amazon", "$32 $29 at Amazon"
_PRICE_AT_SHOP = re.compile(r"^\W*((now )?\d+% off\W*)?([$£€]\s?[\d.,]+\s+)+at\s+\S[^\n]{0,30}$", re.IGNORECASE)
# a share row's label (guidelines: share buttons are nav)
_SHARE_TEXT = re.compile(r"^\W*(share|share (this|the) (article|post|story|page|recipe)|share on \w+)\W*$", re.IGNORECASE)
_FOOTER_TEXT = re.compile(r"©|\(c\)\s*(19|20)\d\d|\bcopyright\b|all rights reserved", re.IGNORECASE)


def _content_container(positions, owners, parents, tags, spans):
    """The element holding the body: the deepest element (not html/body) whose tokens
    include the body's DOM positions from the CONTAINER_TRIM to the 1 - CONTAINER_TRIM
    quantile (so a stray match elsewhere does not widen it), or None."""
    if not positions:
        return None
    n = len(positions)
    lo = positions[min(n - 1, int(CONTAINER_TRIM * n))]
    hi = positions[max(0, min(n - 1, int((1 - CONTAINER_TRIM) * n) - 1))]
    lo, hi = min(lo, hi), max(lo, hi)
    e = owners[lo]
    while e >= 0 and not (spans[e][0] <= lo and hi < spans[e][1]):
        e = parents[e]
    if e < 0 or tags[e] in ("html", "body"):
        return None
    return e


def _heading_block(owners, n_tokens, parents, spans):
    """DOM token span of the block a heading line opens: its nearest ancestor holding more than the heading."""
    if not owners:
        return None
    e = Counter(owners).most_common(1)[0][0]
    while e >= 0 and spans[e][1] - spans[e][0] <= n_tokens + HEADING_BLOCK_SLACK:
        e = parents[e]
    return spans[e] if e >= 0 else None


def _majority_class(counter: Counter):
    total = sum(counter.values())
    if not total:
        return None
    best = None
    for cls in _PRIORITY:
        if counter.get(cls, 0) * 2 >= total and (best is None or counter[cls] > counter[best]):
            best = cls
    return best


def label_scrape(text: str, html: str, gt_main: str, gt_title: str = "", dom=None):
    """Label each non-blank line of ``text`` (a scrape of ``html``).

    Returns (records, stats): records in the labels format, in file order, and
    stats {"gt_tokens", "gt_recall"} where gt_recall is the share of ground-truth
    tokens matched by tokens of article lines. ``dom`` may be a precomputed
    ``dom_stream(html)`` (it does not depend on the tool).
    """
    lines = text.split("\n")
    idx = [i for i, line in enumerate(lines) if line.strip()]
    ltoks = {i: align_tokens(lines[i]) for i in idx}
    page: list[str] = []
    owner: list[int] = []
    for i in idx:
        page.extend(ltoks[i])
        owner.extend([i] * len(ltoks[i]))

    gt = align_tokens(gt_main or "")
    # 1. alignment with the ground truth
    blocksize = [0] * len(page)
    pairs = []
    if page and gt:
        for a, b, n in SequenceMatcher(None, page, gt, autojunk=False).get_matching_blocks():
            for k in range(n):
                blocksize[a + k] = n
                pairs.append((a + k, b + k))
    shingles = {tuple(gt[k:k + SHINGLE_N]) for k in range(len(gt) - SHINGLE_N + 1)}

    strong: dict[int, int] = Counter()
    matched: dict[int, int] = Counter()
    for pos, n in enumerate(blocksize):
        if n:
            matched[owner[pos]] += 1
            if n >= MIN_BLOCK:
                strong[owner[pos]] += 1

    article = set()
    for i in idx:
        toks = ltoks[i]
        n = len(toks)
        if not n:
            continue
        if strong[i] >= MAJORITY * n:
            article.add(i)
        elif n >= SHINGLE_MIN_TOKENS and len(toks) >= SHINGLE_N:
            covered = [False] * n
            for k in range(n - SHINGLE_N + 1):
                if tuple(toks[k:k + SHINGLE_N]) in shingles:
                    for m in range(k, k + SHINGLE_N):
                        covered[m] = True
            if sum(covered) >= SHINGLE_COVER * n:
                article.add(i)
    if article:
        first, last = min(article), max(article)
        for i in idx:
            n = len(ltoks[i])
            if n and i not in article and first < i < last and matched[i] == n:
                article.add(i)

    # 2. DOM classes of the lines
    if dom is None:
        dom = dom_stream(html)
    dtoks, dcls, ddet, downer, dends, dparents, dtags, dspans = dom
    line_cls: dict[int, Counter] = {}
    line_det: dict[int, Counter] = {}
    line_own: dict[int, list] = {}
    line_pos: dict[int, list] = {}
    if page and dtoks:
        for a, b, n in SequenceMatcher(None, page, dtoks, autojunk=True).get_matching_blocks():
            for k in range(n):
                i = owner[a + k]
                line_cls.setdefault(i, Counter())[dcls[b + k] or "none"] += 1
                line_own.setdefault(i, []).append(downer[b + k])
                line_pos.setdefault(i, []).append(b + k)
                if ddet[b + k]:
                    line_det.setdefault(i, Counter())[ddet[b + k]] += 1
    dom_class = {i: _majority_class(c) for i, c in line_cls.items()}

    # title (headline) lines
    title_lines: set[int] = set()
    title = Counter(align_tokens(gt_title or ""))
    n_title = sum(title.values())
    if n_title:
        last_art = max(article) if article else len(lines)
        for i in idx:
            toks = ltoks[i]
            if not toks or i in article or i > last_art:
                continue
            common = sum((Counter(toks) & title).values())
            if common >= LINE_IN_TITLE * len(toks) and common >= TITLE_IN_LINE * n_title:
                dc = dom_class.get(i)
                det = line_det.get(i, Counter())
                if dc in ("related-story", "ad", "footer"):
                    continue
                if dc == "nav" and det.get("breadcrumb", 0) * 2 >= len(toks):
                    continue
                article.add(i)
                title_lines.add(i)

    # token-less lines between article lines
    prev_art: dict[int, bool] = {}
    last_seen = None
    for i in idx:
        if ltoks[i]:
            last_seen = i
        else:
            prev_art[i] = last_seen is not None and last_seen in article
    last_seen = None
    for i in reversed(idx):
        if ltoks[i]:
            last_seen = i
        elif prev_art[i] and last_seen is not None and last_seen in article:
            article.add(i)

    # the content container: the element that holds the body (see _content_container)
    body_lines = (article - title_lines) or article
    container = _content_container(sorted(p for i in body_lines for p in line_pos.get(i, ())),
                                   downer, dparents, dtags, dspans)

    def in_container(i):
        own = line_own.get(i)
        if container is None or not own:
            return False
        end = dends[container]
        return sum(1 for o in own if container <= o <= end) * 2 > len(own)

    link_memo: dict[int, bool] = {}

    def owner_in_link(o):
        path = []
        found = False
        while o >= 0:
            if o in link_memo:
                found = link_memo[o]
                break
            path.append(o)
            if dtags[o] == "a":
                found = True
                break
            o = dparents[o]
        for e in path:
            link_memo[e] = found
        return found

    def link_share(i):
        own = line_own.get(i)
        return sum(1 for o in own if owner_in_link(o)) / len(own) if own else 0.0

    # the page's <title> line is the headline (with the site's suffix; guidelines: article)
    if article:
        for i in idx:
            if (i not in article and i < min(article) and ltoks[i]
                    and line_det.get(i, Counter()).get("title", 0) * 2 > len(ltoks[i])):
                article.add(i)
                title_lines.add(i)

    # 3. noise classes
    label: dict[int, str] = {i: "article" for i in article}
    rule: dict[int, str] = {i: "gt" for i in article}
    body = (article - title_lines) or article
    first = min(body) if body else None
    last = max(body) if body else None
    pending = []
    for i in idx:
        if i in article:
            continue
        line = lines[i]
        cls = dom_class.get(i)
        if (cls == "footer" and first is not None and i < last
                and line_det.get(i, Counter()).get("author", 0) * 2 >= len(ltoks[i])):
            cls = None  # an author box above or inside the body is the byline / a post's author
        if _AD_TEXT.match(line) or _PRICE_AT_SHOP.match(line):
            cls = "ad"
        elif cls is None and _SHARE_TEXT.match(line):
            cls = "nav"
        elif cls in (None, "nav") and _FOOTER_TEXT.search(line) and (
                "©" in line or len(ltoks[i]) <= FOOTER_TEXT_MAX_TOKENS):
            cls = "footer"
        if cls:
            label[i] = cls
            rule[i] = "dom" if cls == dom_class.get(i) else "text"
        else:
            pending.append(i)

    # promotions of the site's own newsletter, memberships, offers (guidelines: ad), after
    # the start of the body, in a DOM footer or unclassified
    if first is not None:
        for i in idx:
            if (i > first and i not in article and label.get(i) in (None, "footer")
                    and len(ltoks[i]) >= PROMO_MIN_TOKENS and _PROMO_TEXT.search(lines[i])
                    and (label.get(i) is None or link_share(i) < 0.5)):
                label[i] = "ad"
                rule[i] = "text"
        pending = [i for i in pending if i not in label]

    # a heading such as "Related posts" or "Most read" (no DOM nav/footer class) starts a
    # related-story block: the pending lines after it inside the heading's DOM block
    body_pos = [p for i in body for p in line_pos.get(i, ())]
    pos = {i: k for k, i in enumerate(idx)}
    for i in idx:
        if i in article or label.get(i) not in (None, "related-story") or not _RELATED_HEADING.match(lines[i]):
            continue
        label[i] = "related-story"
        rule[i] = "heading"
        block = _heading_block(line_own.get(i), len(ltoks[i]), dparents, dspans)
        if block is not None and any(block[0] <= p < block[1] for p in body_pos):
            block = None  # a wrapper around the article too: only the run of pending lines
        for j in idx[pos[i] + 1:]:
            if j in label and label[j] != "related-story":
                if block is None or label[j] in ("article", "nav", "footer"):
                    break
                continue
            own = line_pos.get(j)
            if block is not None and own and sum(1 for p in own if block[0] <= p < block[1]) * 2 <= len(own):
                break
            if j not in label:
                label[j] = "related-story"
                rule[j] = "heading"
    pending = [i for i in pending if i not in label]

    # token-less lines ("|", "•", "* * *") are decided last, by their neighbours
    tokenless = [i for i in pending if not ltoks[i]]
    pending = [i for i in pending if ltoks[i]]

    def body_gap(i):
        """Non-blank lines between line i and the body (0 inside the body span)."""
        if first is None or first <= i <= last:
            return 0
        k = pos[i]
        return pos[first] - k if i < first else k - pos[last]

    if pending:
        # where the page's footer starts: the first DOM-footer line after the article
        foot = [i for i in idx if dom_class.get(i) == "footer" and (last is None or i > last)]
        foot_start = min(foot) if foot else None
        for i in pending:
            if first is not None and i > first and (foot_start is None or i < foot_start) and _CTA_TEXT.match(lines[i]):
                label[i] = "ad"  # a call to action inside or after the article
                rule[i] = "text"
            elif in_container(i):
                label[i] = "article"  # unclassified text inside the article's own container
                rule[i] = "container"
            elif (first is not None and len(ltoks[i]) <= DATELINE_MAX_TOKENS and _DATELINE.search(lines[i])
                  and (0 < body_gap(i) <= DATELINE_WINDOW)):
                label[i] = "article"  # byline / date next to the body (guidelines: article)
                rule[i] = "text"
            elif first is None:
                label[i] = "nav" if pos[i] < len(idx) / 2 else "footer"
                rule[i] = "position"
            elif i < first:
                label[i] = "nav"
                rule[i] = "position"
            elif i > last:
                # after the article: a link of a few words or more is another story (a
                # headline list), a short link a menu item; other text is the footer's
                if link_share(i) >= 0.5:
                    label[i] = "related-story" if len(ltoks[i]) >= HEADLINE_MIN_TOKENS else "nav"
                elif len(ltoks[i]) >= AFTER_PROSE_TOKENS:
                    label[i] = "article"  # prose the ground truth cut off (its main text ends early)
                else:
                    label[i] = "footer"
                rule[i] = "position"
            else:
                label[i] = "article"
                rule[i] = "position"

    if tokenless:
        # the label of the nearest lines with tokens above and below when they agree,
        # else the one above (a separator closes the block it follows)
        decided = [i for i in idx if ltoks[i]]
        for i in tokenless:
            k = bisect.bisect_left(decided, i)
            above = label.get(decided[k - 1]) if k > 0 else None
            below = label.get(decided[k]) if k < len(decided) else None
            label[i] = above or below or "nav"
            rule[i] = "neighbours"

    records = [{"line": i + 1, "text": lines[i], "label": label[i]} for i in idx]
    art_pos = {p for p, _ in pairs if owner[p] in article}
    found = sum(1 for p, _ in pairs if p in art_pos)
    stats = {"gt_tokens": len(gt), "gt_recall": round(found / len(gt), 4) if gt else None,
             "rules": [rule[i] for i in idx]}
    return records, stats


# ---------------------------------------------------------------------------
# Pages, splits, files
# ---------------------------------------------------------------------------
def domain_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def split_of(domain: str) -> str:
    """Deterministic split by domain: sha1(domain) mod 100 < TEST_SHARE → test."""
    h = int(hashlib.sha1(domain.encode("utf-8")).hexdigest()[:8], 16)
    return "test" if h % 100 < TEST_SHARE else "train"


def page_type_of(gt_json: dict) -> str:
    internal = gt_json.get("_internal") or {}
    if isinstance(internal, str):
        try:
            internal = ast.literal_eval(internal)
        except (ValueError, SyntaxError):
            internal = {}
    pt = internal.get("page_type") if isinstance(internal, dict) else None
    if isinstance(pt, dict):
        pt = pt.get("primary")
    return pt or "unknown"


def file_ids(wcxb_dir) -> list[str]:
    return sorted(p.name[: -len(".html.gz")] for p in Path(wcxb_dir, "html").glob("*.html.gz"))


def load_page(wcxb_dir, file_id: str):
    """(html, ground-truth json) of one page."""
    with gzip.open(Path(wcxb_dir, "html", f"{file_id}.html.gz"), "rb") as fh:
        html = fh.read().decode("utf-8", "replace")
    with open(Path(wcxb_dir, "ground-truth", f"{file_id}.json"), encoding="utf-8") as fh:
        gt = json.load(fh)
    return html, gt


def write_labelled(out_dir, tool: str, file_id: str, text: str, records) -> None:
    d = Path(out_dir, tool)
    d.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(d / f"{file_id}.txt", text.encode("utf-8"))
    write_labels_file(d / f"{file_id}.jsonl", ((r["line"], r["text"], r["label"]) for r in records))


def label_page(html: str, gt_main: str, gt_title: str = "", tools=DEFAULT_TOOLS, errors=None):
    """Scrape ``html`` with each tool and label the lines.

    Returns {tool: (text, records, stats)}; a tool that raises or gives no
    non-blank line is left out (and counted in ``errors`` if a Counter is given).
    """
    out = {}
    dom = None
    for tool in tools:
        try:
            text = clean_scrape(TOOLS[tool](html) or "")
        except Exception:  # noqa: BLE001 - any tool failure skips the page for that tool
            if errors is not None:
                errors[(tool, "error")] += 1
            continue
        if not text.strip():
            if errors is not None:
                errors[(tool, "empty")] += 1
            continue
        if dom is None:
            dom = dom_stream(html)
        records, stats = label_scrape(text, html, gt_main, gt_title, dom=dom)
        out[tool] = (text, records, stats)
    return out


def build_corpus(wcxb_dir, out_dir, tools=DEFAULT_TOOLS, limit=None, ids=None, log=sys.stderr):
    t0 = time.time()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    all_ids = list(ids) if ids else file_ids(wcxb_dir)
    if limit:
        all_ids = all_ids[:limit]
    errors: Counter = Counter()
    per_tool = {t: Counter() for t in tools}
    tool_time = Counter()
    low = Counter()
    rows = []
    for n, fid in enumerate(all_ids, 1):
        try:
            html, gt = load_page(wcxb_dir, fid)
        except Exception:  # noqa: BLE001
            errors[("page", "unreadable")] += 1
            continue
        g = gt.get("ground_truth") or {}
        domain = domain_of(gt.get("url") or "")
        ptype = page_type_of(gt)
        for tool in tools:
            ts = time.time()
            res = label_page(html, g.get("main_content") or "", g.get("title") or "", (tool,), errors)
            tool_time[tool] += time.time() - ts
            if tool not in res:
                continue
            text, records, stats = res[tool]
            write_labelled(out_dir, tool, fid, text, records)
            counts = Counter(r["label"] for r in records)
            per_tool[tool].update(counts)
            flag = stats["gt_recall"] is not None and stats["gt_recall"] < LOW_ALIGNMENT
            low[tool] += flag
            rows.append({
                "file_id": fid, "tool": tool, "domain": domain, "page_type": ptype,
                "split": split_of(domain), "n_lines": len(records),
                "labels": {k: counts.get(k, 0) for k in LABELS},
                "gt_tokens": stats["gt_tokens"], "gt_recall": stats["gt_recall"],
                "low_alignment": flag,
                "rules": dict(sorted(Counter(stats["rules"]).items())),
            })
        if log and n % 100 == 0:
            print(f"  {n}/{len(all_ids)} pages, {time.time() - t0:.0f}s", file=log, flush=True)
    with open(out_dir / "manifest.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {
        "pages": len(all_ids), "rows": len(rows), "per_tool": per_tool, "errors": errors,
        "low_alignment": low, "tool_time": tool_time, "seconds": time.time() - t0,
        "splits": Counter(r["split"] for r in rows if r["tool"] == tools[0]),
    }


def print_summary(summary, file=sys.stdout) -> None:
    print(f"pages: {summary['pages']}   (page, tool) rows: {summary['rows']}   "
          f"time: {summary['seconds']:.0f}s", file=file)
    header = f"{'tool':<11}" + "".join(f"{lab:>14}" for lab in LABELS) + f"{'total':>10}{'low-align':>10}{'sec':>7}"
    print(header, file=file)
    for tool, c in summary["per_tool"].items():
        print(f"{tool:<11}" + "".join(f"{c.get(lab, 0):>14}" for lab in LABELS)
              + f"{sum(c.values()):>10}{summary['low_alignment'][tool]:>10}{summary['tool_time'][tool]:>7.0f}", file=file)
    if summary["errors"]:
        print("skipped (tool, reason): " + ", ".join(f"{k[0]}/{k[1]}={v}" for k, v in sorted(summary["errors"].items())), file=file)
    else:
        print("skipped: none", file=file)
    print(f"pages by split (first tool): {dict(summary['splits'])}", file=file)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wcxb", required=True, help="folder of the WCXB dev split (html/, ground-truth/)")
    ap.add_argument("--out", default="build/corpus")
    ap.add_argument("--tools", default=",".join(DEFAULT_TOOLS))
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--ids", default=None, help="comma-separated file ids (for debugging)")
    args = ap.parse_args(argv)
    tools = tuple(t.strip() for t in args.tools.split(",") if t.strip())
    unknown = [t for t in tools if t not in TOOLS]
    if unknown:
        ap.error(f"unknown tools {unknown}; choose from {list(TOOLS)}")
    ids = args.ids.split(",") if args.ids else None
    summary = build_corpus(args.wcxb, args.out, tools, args.limit, ids)
    print_summary(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
