"""HTML in: the one place where noiseclf tells HTML from a text scrape and turns it into text.

noiseclf classifies the lines of a plain-text scrape. Given a page's HTML
instead (a ``.html`` file, a corpus field or a Scrapy item holding
``response.text``), ``noiseclf clean``, ``--corpus``, the Scrapy pipeline and
the datatrove step first convert it here, then clean the text as usual::

    from noiseclf.html import looks_like_html, html_to_text
    if looks_like_html(page):          # by content, not by file name
        page = html_to_text(page)      # inscriptis, as the training corpus used it

The converter is inscriptis (``inscriptis.get_text``), called exactly as the
training corpus calls it (``training/corpus.py``: a leading ``<?xml …?>``
declaration removed first). Of the four HTML-to-text tools the corpus scrapes
every page with, the shipped model does best on inscriptis' text: held-out
word F1 0.817 (html-text 0.809, bs4 0.796, html2text 0.774) and line macro-F1
0.609 (html-text 0.597), ``training/REPORT.md``; ``benchmarks/html_input.py``
measures noiseclf on HTML beside trafilatura.

Detection looks at the first 16 KB: a document that starts (after a BOM,
white space and comments) with ``<!doctype html``, ``<html``, ``<head`` or
``<body``, an XML declaration followed by ``<html``, a fragment that starts
with a tag and holds at least two HTML tags, or text that is mostly HTML tags.
A text scrape (also html2text's markdown) has none of these.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from .errors import InputError
from .text import clean_scrape

TOOL = "inscriptis"  # named in messages: "converted to text with inscriptis"
SNIFF_CHARS = 16384

_DOC_START = re.compile(
    r"\A(?:\s|<!--.*?-->)*<(?:!doctype\s+html\b|html\b|head\b|body\b)", re.IGNORECASE | re.DOTALL)
_XML_START = re.compile(r"\A\s*<\?xml\b", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_TAG = re.compile(
    r"</?(?:html|head|body|div|p|span|a|meta|link|title|script|style|table|thead|tbody|tr|td|th|ul|ol|li|"
    r"dl|dt|dd|section|article|nav|header|footer|main|aside|h[1-6]|br|hr|img|picture|source|figure|"
    r"figcaption|form|input|button|select|option|label|iframe|noscript|svg|path|strong|em|b|i|blockquote|"
    r"pre|code|time)\b[^<>]*>",
    re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE)
# What browsers decode when a page declares these (WHATWG Encoding): a superset of the label.
_WHATWG = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
           "ascii": "cp1252", "iso-8859-9": "cp1254", "tis-620": "cp874", "gb2312": "gb18030",
           "gbk": "gb18030"}


def _sniff(page: str | bytes) -> str:
    head = page[:SNIFF_CHARS]
    if isinstance(head, bytes):
        if head.startswith(codecs.BOM_UTF8):
            head = head[3:]
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return page[:2 * SNIFF_CHARS].decode("utf-16", "replace")
        return head.decode("latin-1")  # (tags are ASCII in any ASCII-compatible encoding)
    return head.lstrip("\ufeff")


def looks_like_html(page: str | bytes | None) -> bool:
    """Whether ``page`` is HTML (a document or a fragment) rather than a text scrape; by content only."""
    if not page or not isinstance(page, (str, bytes)):
        return False
    head = _sniff(page)
    if _DOC_START.match(head):
        return True
    if _XML_START.match(head):
        return re.search(r"<html\b", head, re.IGNORECASE) is not None  # XHTML, not any XML
    tags = _TAG.findall(head)
    if head.lstrip().startswith("<") and len(tags) >= 2:
        return True
    if len(tags) >= 10:
        content = len(head.strip()) or 1
        return sum(len(t) for t in tags) / content >= 0.2
    return False


def declared_charset(data: bytes) -> str | None:
    """The Python codec for the page's byte-order mark or ``<meta charset>``, if it names a known one."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    m = _META_CHARSET.search(data[:SNIFF_CHARS])
    if not m:
        return None
    label = m.group(1).decode("ascii", "replace").lower()
    label = _WHATWG.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(data: bytes) -> str:
    """HTML bytes as text: by their BOM or ``<meta charset>``, else UTF-8 (bad bytes become U+FFFD)."""
    charset = declared_charset(data) or "utf-8"
    if charset == "utf-8" and data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    return data.decode(charset, errors="replace")


def html_to_text(page: str | bytes, source: str = "<html>") -> str:
    """The page's text as inscriptis gives it (as the training corpus made its scrapes), ``"\\n"`` line ends;
    a :class:`noiseclf.markup.MarkedText`, which also holds each line's markup for the markup stage."""
    try:
        import inscriptis
    except ImportError:
        raise InputError(f"{source}: this is HTML, and converting it needs inscriptis: "
                         "reinstall noiseclf (pip install noiseclf), which installs it, or give a text scrape") from None
    if isinstance(page, bytes):
        page = decode_html(page)
    from .markup import MarkedText, convert

    try:
        text, markup = convert(_XML_DECL.sub("", page.lstrip("\ufeff"), count=1))
    except Exception as exc:  # lxml refuses some documents outright
        raise InputError(f"{source}: looks like HTML but could not be converted to text "
                         f"({type(exc).__name__}: {str(exc)[:120]}); convert it yourself and pass the text") from None
    cleaned = clean_scrape(text)  # line ends, NULs, lone surrogates: as the training corpus's scrapes
    if cleaned.count("\n") != text.count("\n"):  # a carriage return made new lines: no markup rows for them
        return cleaned
    return MarkedText(cleaned, markup)


def as_text(page, source: str = "<html>"):
    """``page`` converted to text if it is HTML, else unchanged (``None`` and non-text values too)."""
    if isinstance(page, (str, bytes)) and looks_like_html(page):
        return html_to_text(page, source)
    return page


def texts_as_text(pages, source: str = "<html>") -> list:
    """:func:`as_text` of every page (a corpus batch)."""
    return [as_text(p, source) for p in pages]


def read_page(path: str | Path | None = None):
    """A scrape file (``None``: stdin) as :func:`noiseclf.text.read_scrape` reads it, HTML converted.

    Returns ``(decoded, was_html)``. A file that is HTML in a declared
    non-UTF-8 charset is decoded by that charset (stdin is read as UTF-8).
    """
    from .text import Decoded, read_scrape, read_stdin

    decoded = read_stdin() if path is None else read_scrape(path)
    if not looks_like_html(decoded.text):
        return decoded, False
    source = "<stdin>" if path is None else str(path)
    page = decoded.text
    if path is not None:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_CHARS)
        charset = declared_charset(head)
        if charset not in (None, "utf-8"):
            page = decode_html(Path(path).read_bytes())
            decoded = Decoded(page, [])  # decoded by its charset: the UTF-8 warnings do not apply
    return Decoded(html_to_text(page, source), decoded.warnings), True
