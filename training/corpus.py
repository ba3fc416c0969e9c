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
   the last article line; a line without any token is article when the nearest lines
   with tokens above and below are both article.
2. *which noise class* -- from where the line's text sat in the HTML. Every DOM
   text node gets the class of its nearest ancestor that carries a signal (tag name,
   id, class, role, aria-label; whole-token matching, see ``_element_signal``). The
   page's tokens are aligned with the DOM's token stream (SequenceMatcher again) and
   a line takes the class that holds at least half of its matched tokens. Then text
   rules ("Advertisement" → ad, "©"/"All rights reserved" → footer), then a run of
   unclassified lines bounded above and below by the same class takes that class,
   and the rest by position: before the first article line → nav; after the last
   article line → related-story up to the first line the DOM puts in a footer, footer
   from there on (footer too when the page has no DOM footer); between article
   lines → related-story.
"""
from __future__ import annotations

import argparse
import ast
import gzip
import hashlib
import json
import os
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


def clean_scrape(text: str) -> str:
    """Make a scrape safe to store as UTF-8 and to split on "\\n".

    "\\r\\n" and lone "\\r" become "\\n" (a carriage return is a line break, and a text
    file read back in text mode would turn it into one anyway); NUL characters are
    dropped; lone surrogates become U+FFFD. Nothing else is touched: indentation,
    bullets, markdown and spacing stay as the tool wrote them.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


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
_WEAK_RELATED_TOKENS = {"sidebar", "aside", "complementary"}
_WEAK_AD_TOKENS = {"banner"}
_AUTHOR_BOX = re.compile(r"author[-_]?(box|bio|info|card|profile|details)|about[-_]?(the[-_]?)?author")
_SKIP_CLASS_PREFIX = ("category-", "tag-", "has-", "no-", "with-", "without-")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

_ROLE = {
    "navigation": "nav", "banner": "nav", "menu": "nav", "menubar": "nav",
    "search": "nav", "contentinfo": "footer", "complementary": "related-story",
}
_PRIORITY = ("ad", "footer", "related-story", "nav")


def _words(value: str) -> list[str]:
    return [w for w in _NON_ALNUM.split(_CAMEL.sub(r"\1 \2", value).lower()) if w]


def _element_signal(tag: str, attrs, in_content: bool):
    """(class, detail) that an element gives to the text under it, or None.

    ``attrs`` is the element's attribute mapping. Tag names: nav/menu → nav,
    header → nav (not inside <article>/<main>: that is the article's own header),
    footer → footer, aside → related-story (weak). role: navigation/banner/menu/search
    → nav, contentinfo → footer, complementary → related-story. Class names are
    split into whole tokens (``ad-slot`` → ad, slot; ``shadow`` and ``header`` never
    give "ad"), WordPress taxonomy/state classes (category-*, tag-*, has-*, no-*)
    are ignored.
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
    elif tag == "aside":
        weak.add("related-story")
    role = (attrs.get("role") or "").strip().lower()
    if role in _ROLE:
        cls = _ROLE[role]
        if not (role == "banner" and in_content):
            strong.add(cls)
    values = []
    for name in ("id", "class"):
        v = attrs.get(name)
        if v:
            values.extend(c for c in v.split() if not c.lower().startswith(_SKIP_CLASS_PREFIX))
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
            elif w in _WEAK_RELATED_TOKENS:
                weak.add("related-story")
            elif w in _WEAK_AD_TOKENS:
                weak.add("ad")
            if i + 1 < len(words) and (w, words[i + 1]) in _RELATED_PAIRS:
                strong.add("related-story")
    for pool in (strong, weak):
        for cls in _PRIORITY:
            if cls in pool:
                return cls, (detail if (cls, detail) in (("nav", "breadcrumb"), ("footer", "author")) else "")
    return None


def dom_stream(html: str):
    """Token stream of the page's DOM text with each token's class.

    Returns (tokens, classes, details) where classes[i] is one of NOISE or None.
    Text under <script>/<style>/<noscript>/<template> and comments is left out;
    <img alt> text is included (html2text prints it). An element whose text is more
    than 60 % of the body's text is a layout wrapper: its id/class signals are
    ignored (not those of nav/header/footer/aside/menu tags).
    """
    import lxml.etree as etree
    import lxml.html

    data = html.encode("utf-8", "replace")
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(data, parser=parser)
    except Exception:
        return [], [], []
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

    def emit(text, ctx):
        if text:
            toks = align_tokens(text)
            tokens.extend(toks)
            classes.extend([ctx[0]] * len(toks))
            details.extend([ctx[1]] * len(toks))

    stack = [((None, ""), False)]
    for event, el in etree.iterwalk(root, events=("start", "end")):
        if not isinstance(el.tag, str):
            if event == "end":
                emit(el.tail, stack[-1][0])
            continue
        if event == "start":
            parent_ctx, in_content = stack[-1]
            tag = el.tag.lower()
            ctx = parent_ctx
            if tag not in ("html", "body", "head"):
                sig = _element_signal(tag, el.attrib, in_content)
                if sig is not None and (tag in _SEMANTIC or size.get(el, 0) <= 0.6 * body_size):
                    # a menu inside the footer is a footer menu (labelling guideline 2)
                    if not (parent_ctx[0] == "footer" and sig[0] == "nav"):
                        ctx = sig
            child_in_content = in_content or tag in _CONTENT_TAGS or (el.get("role") or "").lower() == "main"
            stack.append((ctx, child_in_content))
            emit(el.text, ctx)
            if tag == "img":
                emit(el.get("alt"), ctx)
        else:
            stack.pop()
            emit(el.tail, stack[-1][0])
    return tokens, classes, details


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
_FOOTER_TEXT = re.compile(r"©|\(c\)\s*(19|20)\d\d|\bcopyright\b|all rights reserved", re.IGNORECASE)


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
    dtoks, dcls, ddet = dom
    line_cls: dict[int, Counter] = {}
    line_det: dict[int, Counter] = {}
    if page and dtoks:
        for a, b, n in SequenceMatcher(None, page, dtoks, autojunk=True).get_matching_blocks():
            for k in range(n):
                i = owner[a + k]
                line_cls.setdefault(i, Counter())[dcls[b + k] or "none"] += 1
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
    tokful = [i for i in idx if ltoks[i]]
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

    # 3. noise classes
    label: dict[int, str] = {i: "article" for i in article}
    rule: dict[int, str] = {i: "gt" for i in article}
    pending = []
    for i in idx:
        if i in article:
            continue
        line = lines[i]
        cls = dom_class.get(i)
        if cls == "footer" and article and i < min(article) and line_det.get(i, Counter()).get("author", 0) * 2 >= len(ltoks[i]):
            cls = None  # an author box above the article is the byline: decided by position
        if _AD_TEXT.match(line):
            cls = "ad"
        elif _FOOTER_TEXT.search(line) and cls in (None, "nav"):
            cls = "footer"
        if cls:
            label[i] = cls
            rule[i] = "dom" if cls == dom_class.get(i) else "text"
        else:
            pending.append(i)
    if pending:
        # position is judged against the body, not the headline: a byline between
        # the headline and the first paragraph is header chrome (nav)
        body = (article - title_lines) or article
        first = min(body) if body else None
        last = max(body) if body else None
        # where the page's footer starts: the first DOM-footer line after the article
        foot = [i for i in idx if dom_class.get(i) == "footer" and (last is None or i > last)]
        foot_start = min(foot) if foot else None
        pos = {i: k for k, i in enumerate(idx)}
        for i in pending:
            # nearest decided lines above and below, not crossing an article line
            above = below = None
            k = pos[i] - 1
            while k >= 0:
                j = idx[k]
                if j in label:
                    above = label[j]
                    break
                k -= 1
            k = pos[i] + 1
            while k < len(idx):
                j = idx[k]
                if j in label and j not in pending:
                    below = label[j]
                    break
                k += 1
            if above and above == below and above != "article":
                label[i] = above
                rule[i] = "neighbours"
            elif first is not None and i > first and (foot_start is None or i < foot_start) and _CTA_TEXT.match(lines[i]):
                label[i] = "ad"  # a call to action inside or after the article
                rule[i] = "text"
            elif first is None:
                label[i] = "nav" if pos[i] < len(idx) / 2 else "footer"
                rule[i] = "position"
            elif i < first:
                label[i] = "nav"
                rule[i] = "position"
            elif i > last:
                # after the article and before the footer block come related lists,
                # comments and author boxes; with no footer block on the page, footer
                label[i] = "related-story" if foot_start is not None and i < foot_start else "footer"
                rule[i] = "position"
            else:
                label[i] = "related-story"
                rule[i] = "position"

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
