"""Raw bytes -> text -> lines, and the one definition of line normalisation.

Every path into noiseclf (cleaning, training, labelling, evaluation) reads
scrapes through :func:`read_scrape` / :func:`decode_scrape` and splits them with
:func:`split_lines`, so a line number means the same thing everywhere: the
1-based index of the line when the decoded text is split on ``"\\n"``.
Feature extraction normalises a line with :func:`normalize_line` and nothing
else, in training and in cleaning alike.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .errors import InputError

# Signatures of files that are certainly not text scrapes.
_BINARY_MAGIC = (
    (b"\x1f\x8b", "a gzip archive"),
    (b"PK\x03\x04", "a zip archive"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x7fELF", "an executable"),
    (b"\x80\x04", "a Python pickle"),
    (b"\x80\x05", "a Python pickle"),
    (b"PAR1", "a Parquet file"),
)
_CONTROL = bytes(sorted(set(range(0, 9)) | {11, 12} | set(range(14, 32))))  # C0 controls but tab, LF, CR

# The largest scrape read at once (a web page is rarely over a few MB; a file
# this size is a crawl dump to be split, and cleaning it whole would need
# several GB of memory).
MAX_SCRAPE_BYTES = 256 * 1024 * 1024


def _too_large(source: str, size: int) -> InputError:
    return InputError(
        f"{source}: {size / 2**20:.0f} MB is more than noiseclf reads at once "
        f"({MAX_SCRAPE_BYTES / 2**20:.0f} MB); split it into pages (one scrape per file)"
    )


def _decode_wide(data: bytes, codec: str, source: str, warnings: list[str]) -> str:
    """Decode UTF-16/32 (with BOM); bad code units are replaced, with a warning."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        text = data.decode(codec, errors="replace")
        warnings.append(
            f"{source}: {codec.upper()} text with undecodable bytes (first at byte {exc.start}) "
            "replaced by U+FFFD; re-save the file as UTF-8 to keep them"
        )
        return text


def _utf16_without_bom(head: bytes) -> str | None:
    """``"UTF-16LE"``/``"UTF-16BE"`` when ``head`` reads as UTF-16 that lost its byte-order mark.

    Text in a Latin script saved as UTF-16 has a NUL in every other byte (the
    high byte of each code unit): most odd bytes NUL and hardly any even ones
    is little-endian, the reverse big-endian. Binary data and UTF-32 have NULs
    on both sides; UTF-8 text has a stray NUL at most.
    """
    if len(head) < 2:
        return None
    even, odd = head[0::2], head[1::2]
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_odd > 0.5 and nul_even < 0.1:
        return "UTF-16LE"
    if nul_even > 0.5 and nul_odd < 0.1:
        return "UTF-16BE"
    return None


def _utf16_message(source: str, codec: str) -> str:
    import shlex

    if source == "<stdin>":
        fix = f"iconv -f {codec} -t UTF-8 FILE > FILE.utf8.txt"
    else:
        p = Path(source)
        fix = f"iconv -f {codec} -t UTF-8 {shlex.quote(source)} > {shlex.quote(str(p.with_name(p.stem + '.utf8' + p.suffix)))}"
    return (f"{source}: this looks like {codec} without a byte-order mark (every other byte is NUL); "
            f"noiseclf does not guess encodings: re-save it as UTF-8, e.g. `{fix}`")


@dataclass
class Decoded:
    """Text decoded from a scrape's bytes, and what had to be mended to get it."""

    text: str
    warnings: list[str] = field(default_factory=list)


def decode_scrape(data: bytes, source: str = "<stdin>") -> Decoded:
    """Decode a scrape's bytes to text with ``"\\n"`` line endings.

    Accepts UTF-8 (with or without BOM) and UTF-16/32 with a BOM. Invalid UTF-8
    bytes are replaced (U+FFFD) and NUL bytes removed, each with a warning.
    CRLF and lone CR become LF. Raises :class:`InputError` for binary files,
    and for UTF-16 without a BOM (named, with the fix: it is not guessed).
    """
    warnings: list[str] = []
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            fix = (_corpus_fix(source, "parquet") if magic == b"PAR1"
                   else "pass a plain-text file (UTF-8 or UTF-16 with BOM)")
            raise InputError(f"{source}: this looks like {what}, not a text scrape; {fix}")
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        text = _decode_wide(data, "utf-32", source, warnings)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode_wide(data, "utf-16", source, warnings)
    else:
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
        head = data[:8192]
        wide = _utf16_without_bom(head)
        if wide:
            raise InputError(_utf16_message(source, wide))
        if head:
            controls = len(head) - len(head.translate(None, _CONTROL))  # one C pass, not a loop per byte
            if controls / len(head) > 0.10:
                raise InputError(
                    f"{source}: this looks like a binary file ({controls} control bytes in "
                    f"the first {len(head)}), not a text scrape; pass a plain-text file"
                )
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = data.decode("utf-8", errors="replace")
            bad = text.count("\ufffd") - data.count("\ufffd".encode("utf-8"))
            warnings.append(
                f"{source}: {bad} invalid UTF-8 byte sequence(s) replaced, first at byte "
                f"{exc.start}; re-save the file as UTF-8 to keep them"
            )
    if "\x00" in text:
        warnings.append(f"{source}: {text.count(chr(0))} NUL character(s) removed")
        text = text.replace("\x00", "")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Decoded(text, warnings)


def read_scrape(path: str | Path) -> Decoded:
    """Read and decode a scrape file, with an :class:`InputError` naming the fix."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file; check the path")
    if p.is_dir():
        raise InputError(f"{p}: is a directory; pass the scrape files inside it (e.g. {p}/*.txt)")
    try:
        size = p.stat().st_size
        if size > MAX_SCRAPE_BYTES:
            raise _too_large(str(p), size)
        with open(p, "rb") as fh:
            data = fh.read(MAX_SCRAPE_BYTES + 1)  # a file still growing is capped too
        if len(data) > MAX_SCRAPE_BYTES:
            raise _too_large(str(p), len(data))
    except PermissionError:
        raise InputError(f"{p}: permission denied; make the file readable") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot be read ({exc.strerror}); check the file") from None
    return _refuse_non_pages(decode_scrape(data, str(p)), str(p))


_JSON_START = re.compile(r"\s*(?=[\[{])")
MAX_JSON_CHECK = 16 * 1024 * 1024  # longer text starting like JSON is judged by its shape, not parsed
JSON_LINES_CHECKED = 20  # a file is JSON Lines when its first 20 non-blank lines (or all) are objects
# Feeds and sitemaps (what a crawler fetches besides pages): XML whose root is not a page
_FEED = re.compile(r"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*|<\?[^>]*>\s*)*<(rss|feed|rdf:RDF|urlset|sitemapindex)\b",
                   re.IGNORECASE | re.DOTALL)


def _corpus_fix(source: str, fmt: str) -> str:
    where = "save it to a file and clean" if source == "<stdin>" else "clean"
    name = "FILE" if source == "<stdin>" else source
    return f"to clean a corpus of records, {where} it with `noiseclf clean --corpus {name} --output OUT.{fmt}`"


def not_a_page(text: str) -> str | None:
    """What ``text`` is when it is not a page's text but records or a feed, else None:
    ``"a feed (XML, <rss>)"``, ``"a sitemap (XML, <urlset>)"``, ``"JSON Lines"`` or ``"JSON"``.
    Cleaned as text, any of these would come out as lines of JSON or XML kept as "article".
    (Parquet is told by its magic bytes, when a file is read.)"""
    feed = _FEED.match(text[:4096])
    if feed is not None:
        root = feed.group(1).lower()
        what = "a sitemap" if root in ("urlset", "sitemapindex") else "a feed"
        return f"{what} (XML, <{feed.group(1)}>)"
    start = _JSON_START.match(text)
    if start is None:  # the common case, without copying the text
        return None
    if _json_lines(text, start.end()):
        return "JSON Lines"
    rest = text[start.end():]
    if len(rest) <= MAX_JSON_CHECK:
        import json

        try:
            value = json.loads(rest)
        except (ValueError, RecursionError):
            value = None
        if isinstance(value, dict) or (isinstance(value, list) and value and isinstance(value[0], dict)):
            return "JSON"
    return None


def _refuse_non_pages(decoded: Decoded, source: str) -> Decoded:
    """Refuse a file of records (JSON, JSON Lines) or a feed or sitemap given where a scrape goes
    (:func:`not_a_page`), naming the fix."""
    kind = not_a_page(decoded.text)
    if kind is None:
        return decoded
    if kind == "JSON Lines":
        raise InputError(f"{source}: this is JSON Lines (one record a line), not a text scrape; "
                         f"{_corpus_fix(source, 'jsonl')}, or pass the page's text")
    if kind == "JSON":
        raise InputError(f"{source}: this is JSON, not a text scrape; to clean its records, write them one "
                         "a line (JSON Lines) and clean that file with `noiseclf clean --corpus FILE.jsonl "
                         "--output OUT.jsonl`, or pass the page's text")
    raise InputError(f"{source}: this is {kind}, not a page; "
                     "fetch the pages it lists and clean those (HTML or their text)")


def _json_lines(text: str, pos: int, lines: int = JSON_LINES_CHECKED) -> bool:
    """Whether the first ``lines`` non-blank lines from ``pos`` on (all of them, if fewer) are each
    a JSON object: a page whose text merely starts with one (a metadata blob) is text."""
    import json

    seen = 0
    while pos < len(text) and seen < lines:
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[pos:end].strip()
        pos = end + 1
        if not line:
            continue
        if len(line) > MAX_JSON_CHECK:  # not parsed (time, memory): an object's shape will do
            if not (line.startswith('{"') and line.endswith("}")):
                return False
        else:
            try:
                if not isinstance(json.loads(line), dict):
                    return False
            except (ValueError, RecursionError):  # RecursionError: nested deeper than json reads
                return False
        seen += 1
    return seen > 0


def read_stdin(stream=None) -> Decoded:
    """Read and decode a scrape from standard input (bytes), capped like a file."""
    import sys

    stream = stream if stream is not None else sys.stdin.buffer
    data = stream.read(MAX_SCRAPE_BYTES + 1)
    if len(data) > MAX_SCRAPE_BYTES:
        raise _too_large("<stdin>", len(data))
    return _refuse_non_pages(decode_scrape(data, "<stdin>"), "<stdin>")


def split_lines(text: str) -> list[str]:
    """Split decoded text into lines exactly as line numbers are counted.

    A trailing newline does not start a new line, so ``"a\\nb\\n"`` and
    ``"a\\nb"`` both have two lines.
    """
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def is_blank(line: str) -> bool:
    return not line.strip()


_DIGIT = re.compile(r"\d")
_ASCII_DIGITS = bytes.maketrans(b"123456789", b"000000000")
# ASCII lines in one pass over bytes: lower case, digits to 0, and the four
# separators str.split() treats as white space but bytes.split() does not
# (\x1c-\x1f) to spaces, so that bytes.split() splits where str.split() does.
_ASCII_NORMAL = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ123456789\x1c\x1d\x1e\x1f",
                                b"abcdefghijklmnopqrstuvwxyz000000000    ")


def normalize_lines(lines: Sequence[str]) -> list[str]:
    """The text each line's word and character features are computed from.

    Unicode NFKC, white space collapsed (runs of what ``str.split`` calls white
    space become one space, none at the ends), lower case, every digit mapped
    to ``0`` (dates and counts differ from page to page; their shape does not).
    ASCII lines skip NFKC, which changes no ASCII text.
    """
    out = []
    append = out.append
    for x in lines:
        if x.isascii():
            append(b" ".join(x.encode("ascii").translate(_ASCII_NORMAL).split()).decode("ascii"))
            continue
        x = " ".join(unicodedata.normalize("NFKC", x).split()).lower()
        append(x.encode("ascii").translate(_ASCII_DIGITS).decode("ascii") if x.isascii() else _DIGIT.sub("0", x))
    return out


def normalize_line(line: str) -> str:
    """:func:`normalize_lines` of one line."""
    return normalize_lines([line])[0]


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
