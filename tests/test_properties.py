"""Properties that hold for any input (Hypothesis, derandomised: the same examples every run).

* ``Model.clean`` (str or bytes): the output lines are a subsequence of the
  input lines, unchanged; nothing but a refusal of binary bytes is raised.
* ``decode_scrape``: any bytes give text without CR or NUL, or an InputError.
* ``split_lines``: joining the lines gives the text back.
* ``load_labels``: any labels file is loaded consistently or refused with a
  LabelsError naming the file; nothing else escapes.
"""

from __future__ import annotations

import codecs
import json
import shutil

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from noiseclf import InputError, LabelsError, load_labels, load_model
from noiseclf.labels import LABELS
from noiseclf.text import decode_scrape, is_blank, split_lines
from trust_support import LABELS_DIR, SEEDS

SEED_LINES = split_lines(decode_scrape((SEEDS / "003_961445eb337fe995.txt").read_bytes()).text)
PROPS = settings(derandomize=True, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_MODEL = []


def model():
    if not _MODEL:
        _MODEL.append(load_model())
    return _MODEL[0]


# Lines: real seed lines (so that some are kept), odd characters, line-ending debris.
odd_text = st.text(alphabet=st.characters(codec="utf-8", categories=None), max_size=60)
a_line = st.one_of(st.sampled_from(SEED_LINES), odd_text, st.sampled_from(["", " ", "\t", "\x00", "\ufeff", "\u2028", "\x85"]))
endings = st.sampled_from(["\n", "\r\n", "\r", "\n\n"])


@st.composite
def pages(draw):
    lines = draw(st.lists(a_line, max_size=60))
    return "".join(line + draw(endings) for line in lines)


def _subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


def _kept_lines(out: str) -> list[str]:
    assert out == "" or out.endswith("\n")
    return [x for x in out.split("\n") if x != ""]


@settings(PROPS, max_examples=150)
@given(pages())
@example("a\rb\r\nc\n")
@example("\n" * 50)
def test_clean_text_keeps_input_lines_unchanged_in_order(text):
    out = model().clean(text, keep=("article", "related-story"))
    lines = split_lines(text.replace("\r\n", "\n").replace("\r", "\n"))
    kept = _kept_lines(out)
    assert all(not is_blank(x) for x in kept)
    assert _subsequence(kept, lines)


@settings(PROPS, max_examples=150)
@given(st.one_of(
    pages().map(lambda t: t.encode("utf-8")),
    pages().map(lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le", "surrogatepass")),
    st.binary(max_size=400),
    st.tuples(pages(), st.binary(max_size=8)).map(lambda p: p[0].encode("utf-8") + p[1]),
))
@example(b"\xff\xfe\x00")  # a UTF-16 BOM and half a code unit
@example(b"\xef\xbb\xbf\r")
def test_clean_bytes_keeps_decoded_lines(data):
    try:
        decoded = decode_scrape(data)
    except InputError:
        with pytest.raises(InputError):
            model().clean(data)
        return
    out = model().clean(data, keep=LABELS)
    kept = _kept_lines(out)
    assert _subsequence(kept, split_lines(decoded.text))
    # every non-blank line is kept under some label: the output holds all of them
    assert kept == [x for x in split_lines(decoded.text) if not is_blank(x)]


@settings(PROPS, max_examples=400)
@given(st.binary(max_size=2000))
@example(b"\x80\x04\x95")
@example(codecs.BOM_UTF32_LE + b"\x00\x00\x11\x00")  # beyond U+10FFFF
@example(codecs.BOM_UTF16_BE + b"\xdc\x00")  # a lone low surrogate
def test_decode_scrape_never_fails_unexpectedly(data):
    try:
        decoded = decode_scrape(data, "x.txt")
    except InputError as exc:
        assert str(exc).startswith("x.txt: ")
        return
    assert "\r" not in decoded.text and "\x00" not in decoded.text
    decoded.text.encode("utf-8")  # no lone surrogates: the output can always be written
    if decoded.warnings:
        assert all(w.startswith("x.txt: ") for w in decoded.warnings)


@settings(PROPS, max_examples=300)
@given(st.text(max_size=300))
def test_split_lines_round_trips(text):
    lines = split_lines(text)
    assert all("\n" not in x for x in lines)
    joined = "\n".join(lines)
    assert joined == (text[:-1] if text.endswith("\n") else text)


_json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
).map(json.dumps)


@settings(PROPS, max_examples=300)
@given(st.lists(st.one_of(_json_like, a_line, st.sampled_from(["[", "{", "<rss>", "<?xml version='1.0'?>"])),
                max_size=8))
@example(['{"a": ' + "[" * 50_000 + "]" * 50_000 + "}"])
def test_reading_a_scrape_that_looks_like_records_never_fails_unexpectedly(lines):
    """What a scrape file is (noiseclf/text.py: records, feeds and sitemaps are refused): text or
    a one-line InputError naming the source, never anything else."""
    import io

    from noiseclf.text import read_stdin

    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    try:
        decoded = read_stdin(io.BytesIO(data))
    except InputError as exc:
        assert str(exc).startswith("<stdin>: ") and "\n" not in str(exc)
        return
    assert isinstance(decoded.text, str)


# -- labels files ----------------------------------------------------------------

NAME = "000_4242c970553a3e99"
RECORDS = [json.loads(x) for x in (LABELS_DIR / f"{NAME}.jsonl").read_text(encoding="utf-8").splitlines()]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 40) | st.floats(allow_nan=True) | st.text(max_size=20)
    | st.sampled_from(list(LABELS)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@st.composite
def label_files(draw):
    """A labels file: the real records, some of them mutated, reordered, dropped or replaced by junk."""
    out = []
    for rec in RECORDS:
        action = draw(st.sampled_from(["keep"] * 6 + ["mutate", "drop", "duplicate", "junk"]))
        if action == "keep":
            out.append(json.dumps(rec, ensure_ascii=draw(st.booleans())))
        elif action == "mutate":
            rec = dict(rec)
            key = draw(st.sampled_from(["line", "text", "label", "extra"]))
            rec[key] = draw(json_values)
            if draw(st.booleans()):
                rec.pop(draw(st.sampled_from(["line", "text", "label"])), None)
            out.append(json.dumps(rec))
        elif action == "duplicate":
            out += [json.dumps(rec)] * 2
        elif action == "junk":
            out.append(draw(st.text(max_size=40)).replace("\n", " "))
    sep = draw(st.sampled_from(["\n", "\r\n", "\n\n"]))
    data = sep.join(out).encode("utf-8", "surrogatepass") + draw(st.sampled_from([b"", b"\n", b"\xff", b"\x00"]))
    if draw(st.booleans()):
        data = codecs.BOM_UTF8 + data
    return data


@pytest.fixture(scope="module")
def label_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("labels-prop")
    shutil.copy(SEEDS / f"{NAME}.txt", d / f"{NAME}.txt")
    return d


@settings(PROPS, max_examples=60)
@given(st.one_of(label_files(), st.binary(max_size=300)))
@example(data=(LABELS_DIR / f"{NAME}.jsonl").read_bytes())  # the real file loads
@example(data=(LABELS_DIR / f"{NAME}.jsonl").read_bytes().replace(b"\n", b"\r\n"))
def test_load_labels_loads_or_names_the_file(label_dir, data):
    path = label_dir / f"{NAME}.jsonl"
    path.write_bytes(data)
    try:
        [scrape] = load_labels([path])
    except LabelsError as exc:
        assert str(exc).startswith(str(path)), str(exc)
        assert "\n" not in str(exc)
        return
    # Accepted: then every non-blank line has exactly one known label, matching the records.
    assert all((lab is None) == is_blank(line) for line, lab in zip(scrape.lines, scrape.labels))
    assert all(lab in LABELS for lab in scrape.labels if lab is not None)
