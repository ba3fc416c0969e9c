"""Odd bytes in, the same article lines out: every variant is generated from one seed.

Each variant of seeds/003 is cleaned with ``noiseclf clean`` and compared with
the cleaning of the plain UTF-8 file: identical wherever the text is the same,
a warning where bytes had to be replaced, never a traceback.
"""

from __future__ import annotations

import codecs
import json

import numpy as np
import pytest

from noiseclf import bounds, load_model
from noiseclf.features import Page
from noiseclf.text import decode_scrape, split_lines
from trust_support import SEED, assert_one_line_error, run_cli

PLAIN = SEED.read_bytes()
TEXT = PLAIN.decode("utf-8")


@pytest.fixture(scope="module")
def plain_output():
    proc = run_cli("clean", SEED)
    assert proc.returncode == 0 and proc.stderr == b""
    assert proc.stdout.count(b"\n") > 5  # a real article came out
    return proc.stdout


def _clean(tmp_path, data: bytes, name="variant.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    proc = run_cli("clean", path)
    assert "Traceback" not in proc.stderr.decode("utf-8", "replace")
    return proc


SAME_TEXT = {
    "crlf": lambda: TEXT.replace("\n", "\r\n").encode("utf-8"),
    "lone_cr": lambda: TEXT.replace("\n", "\r").encode("utf-8"),
    "mixed_endings": lambda: "".join(
        line + ("\r\n", "\n", "\r")[i % 3] for i, line in enumerate(TEXT.split("\n"))).encode("utf-8"),  # never CR then LF
    "utf8_bom": lambda: codecs.BOM_UTF8 + PLAIN,
    "utf8_bom_crlf": lambda: codecs.BOM_UTF8 + TEXT.replace("\n", "\r\n").encode("utf-8"),
    "utf16_le_bom": lambda: codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
    "utf16_be_bom": lambda: codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    "utf16_le_bom_crlf": lambda: codecs.BOM_UTF16_LE + TEXT.replace("\n", "\r\n").encode("utf-16-le"),
    "utf32_le_bom": lambda: codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"),
}


@pytest.mark.parametrize("variant", sorted(SAME_TEXT))
def test_same_text_same_output(tmp_path, plain_output, variant):
    proc = _clean(tmp_path, SAME_TEXT[variant]())
    assert proc.returncode == 0
    assert proc.stdout == plain_output
    assert proc.stderr == b""  # nothing was replaced, so nothing to warn about


def test_nul_bytes_are_removed_with_a_warning(tmp_path, plain_output):
    rng = np.random.default_rng(3)
    data = bytearray(PLAIN)
    ascii_positions = [i for i, b in enumerate(data) if b < 0x80]  # never inside a UTF-8 sequence
    for pos in sorted(rng.choice(ascii_positions, size=25, replace=False), reverse=True):
        data[pos:pos] = b"\x00"
    proc = _clean(tmp_path, bytes(data))
    assert proc.returncode == 0
    assert proc.stdout == plain_output
    assert b"warning" in proc.stderr and b"25 NUL" in proc.stderr


def test_invalid_utf8_is_replaced_with_a_warning(tmp_path, plain_output):
    """Bytes that are not UTF-8 become U+FFFD in their own line; every other line is unchanged."""
    kept = plain_output.decode("utf-8").split("\n")
    target = max((x for x in kept if x.strip()), key=len)  # the longest article line
    mangled_line = target[:40] + "\ufffd" + target[40:]
    data = PLAIN.replace(target.encode("utf-8"), target[:40].encode("utf-8") + b"\xff" + target[40:].encode("utf-8"), 1)
    proc = _clean(tmp_path, data)
    assert proc.returncode == 0
    assert "invalid UTF-8" in proc.stderr.decode() and proc.stderr.count(b"\n") == 1
    expected = "\n".join(mangled_line if x == target else x for x in kept)
    assert proc.stdout.decode("utf-8") == expected


def test_broken_utf16_is_replaced_with_a_warning(tmp_path, plain_output):
    data = codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le") + b"\x00\xd8"  # a lone high surrogate at the end
    proc = _clean(tmp_path, data)
    assert proc.returncode == 0 and b"warning" in proc.stderr
    assert proc.stdout.startswith(plain_output.rstrip(b"\n"))


@pytest.mark.parametrize("data", [b"", b"\n" * 5000, b"   \n\t\n\r\n" * 1000, codecs.BOM_UTF8, codecs.BOM_UTF16_LE],
                         ids=["empty", "blank_lines", "whitespace_lines", "bom_only", "utf16_bom_only"])
def test_nothing_to_keep(tmp_path, data):
    proc = _clean(tmp_path, data)
    assert proc.returncode == 0 and proc.stdout == b"" and proc.stderr == b""


def test_binary_is_refused_in_one_line(tmp_path):
    rng = np.random.default_rng(0)
    proc = _clean(tmp_path, rng.integers(0, 256, 100_000, dtype=np.uint8).tobytes())
    assert_one_line_error(proc, 1)


RECORD = {"url": "https://news.example/a", "text": "Harbour reopens\n\nThe harbour reopened on Monday."}


@pytest.mark.parametrize("data, name, says", [
    ((json.dumps(RECORD) + "\n") * 3, "pages.jsonl", "is JSON Lines (one record a line)"),
    (json.dumps(RECORD), "page.txt", "is JSON Lines"),  # one record, whatever the file is called
    (json.dumps([RECORD, RECORD], indent=2), "pages.json", "is JSON, not a text scrape"),
])
def test_records_given_as_a_scrape_are_refused_naming_corpus_mode(tmp_path, data, name, says):
    # cleaned as text, a record would come out as one "article" line of JSON
    line = assert_one_line_error(_clean(tmp_path, data.encode("utf-8"), name), 1)
    assert says in line and "noiseclf clean --corpus" in line
    proc = run_cli("clean", input=data.encode("utf-8"))  # the same on stdin
    stdin_line = assert_one_line_error(proc, 1)
    assert stdin_line.startswith("noiseclf: <stdin>: this") and says in stdin_line and "--corpus FILE" in stdin_line


def test_parquet_given_as_a_scrape_is_refused_naming_corpus_mode(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "pages.parquet"
    pq.write_table(pa.table({"text": ["a page", "another page"]}), path)
    line = assert_one_line_error(_clean(tmp_path, path.read_bytes(), "pages.parquet"), 1)
    assert "a Parquet file" in line and f"--corpus {tmp_path / 'pages.parquet'} --output OUT.parquet" in line


@pytest.mark.parametrize("data, says", [
    ('<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Coast News</title>\n<item><title>Harbour '
     'reopens</title></item></channel></rss>\n', "is a feed (XML, <rss>)"),
    ('<feed xmlns="http://www.w3.org/2005/Atom"><title>Coast News</title></feed>', "is a feed (XML, <feed>)"),
    ('<?xml version="1.0" encoding="UTF-8"?>\n<!-- generated -->\n<urlset xmlns="http://www.sitemaps.org/schemas/'
     'sitemap/0.9"><url><loc>https://news.example/a</loc></url></urlset>\n', "is a sitemap (XML, <urlset>)"),
])
def test_feeds_and_sitemaps_are_refused(tmp_path, data, says):
    # cleaned as text, the XML itself would be kept as the "article"
    line = assert_one_line_error(_clean(tmp_path, data.encode("utf-8"), "feed.xml"), 1)
    assert says in line and "fetch the pages it lists" in line
    assert says in assert_one_line_error(run_cli("clean", input=data.encode("utf-8")), 1)


def test_a_corpus_whose_field_holds_records_or_feeds_is_noted(tmp_path):
    seed = SEED.read_text(encoding="utf-8")
    src = tmp_path / "in.jsonl"
    feed = '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title></channel></rss>'
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in (seed, feed)), encoding="utf-8")
    result = run_cli("clean", "--corpus", src, "--output", tmp_path / "out.jsonl")
    assert result.returncode == 0
    err = result.stderr.decode()
    assert "field 'text' of some records holds a feed (XML, <rss>), not a page's text" in err
    plain = tmp_path / "plain.jsonl"
    plain.write_text(json.dumps({"text": seed}) + "\n", encoding="utf-8")
    assert "not a page" not in run_cli("clean", "--corpus", plain, "--output", tmp_path / "o2.jsonl").stderr.decode()


@pytest.mark.parametrize("text", [
    "[Home](/)\n[News](/news)\nThe harbour reopened on Monday after repairs.\n",  # Markdown
    "{Breaking} The harbour reopened on Monday.\n",
    "[1] A numbered note\nThe harbour reopened on Monday.\n",
    "[1]\nThe harbour reopened on Monday.\n",  # valid JSON, but not a record
    "{\"title\": \"Redis data types\"}\nRedis is a data structure server.\n",  # a page that starts with its metadata
    '["Home", "News"]\nThe harbour reopened on Monday.\n',
    '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\n",  # deeper than json reads: text, not a crash
])
def test_text_that_starts_like_json_is_cleaned(tmp_path, text):
    assert _clean(tmp_path, text.encode("utf-8")).returncode == 0


def test_stdin_and_file_agree(tmp_path, plain_output):
    for data in (SAME_TEXT["utf16_be_bom"](), SAME_TEXT["crlf"]()):
        proc = run_cli("clean", input=data)
        assert proc.returncode == 0 and proc.stdout == plain_output


# -- huge lines and huge pages ---------------------------------------------------

class Spy:
    """Wraps the unbounded prediction to record what the featuriser was given."""

    def __init__(self, model):
        self.model, self.real = model, model._predict_unbounded
        self.calls: list[tuple[int, int]] = []  # (rows, longest line)

    def __call__(self, pages, **kwargs):
        rows = sum(len(p) for p in pages)
        longest = max((len(x) for p in pages for x in p.lines), default=0)
        self.calls.append((rows, longest))
        return self.real(pages, **kwargs)


@pytest.fixture(scope="module")
def model():
    return load_model()


def test_20mb_single_line(model, monkeypatch):
    """The featuriser sees at most MAX_FEATURE_CHARS of it; the line is kept or dropped whole."""
    words = TEXT.split()
    rng = np.random.default_rng(3)
    line = " ".join(rng.choice(words, size=3_300_000))[:20_000_000]
    assert len(line) == 20_000_000
    spy = Spy(model)
    monkeypatch.setattr(model, "_predict_unbounded", spy)
    out = model.clean(line + "\n", keep=["article", "nav", "related-story", "ad", "footer"])
    assert out == line + "\n"  # kept whole, unchanged, under any label
    assert spy.calls and max(longest for _, longest in spy.calls) <= bounds.MAX_FEATURE_CHARS


def test_a_long_line_gets_the_label_of_its_first_part(model):
    long_line = ("The council voted on the budget after a long debate, and critics said it was not enough. " * 3000)
    capped = bounds._cap(long_line)
    assert len(capped) == bounds.MAX_FEATURE_CHARS
    assert model.classify([long_line])[0].label == model.classify([capped])[0].label
    indented = " " * 30_000 + "word"  # cutting must not make a line blank
    assert bounds._cap(indented).strip() == "word"
    assert model.classify([indented])[0].label is not None


@pytest.fixture
def small_bounds(monkeypatch):
    """The bounds scaled down 100x, so that a 10,000-line page exercises them quickly."""
    monkeypatch.setattr(bounds, "WINDOW_LINES", 200)
    monkeypatch.setattr(bounds, "WINDOW_MARGIN", 20)
    monkeypatch.setattr(bounds, "MAX_LINES_PER_CALL", 500)


def _many_lines(n):
    lines = split_lines(TEXT)
    return [lines[i % len(lines)] for i in range(n)]


def test_huge_page_is_classified_in_bounded_calls(model, monkeypatch, small_bounds):
    lines = _many_lines(10_000)
    spy = Spy(model)
    monkeypatch.setattr(model, "_predict_unbounded", spy)
    verdicts = model.classify(lines)
    assert [v.text for v in verdicts] == lines
    assert all((v.label is None) == (not v.text.strip()) for v in verdicts)
    assert len(spy.calls) > 10 and max(rows for rows, _ in spy.calls) <= 500


def test_bounds_change_nothing_within_them(model):
    """Pages inside the bounds get exactly the probabilities of a direct call."""
    pages = [Page(split_lines(decode_scrape(p.read_bytes()).text)) for p in sorted(SEED.parent.glob("*.txt"))]
    direct = model._predict_unbounded(pages)
    np.testing.assert_array_equal(bounds.bounded_predict(model._predict_unbounded, pages), direct)


def test_windows_see_their_neighbours(model, small_bounds):
    """A window's lines are classified with context on both sides: the middle of a long page
    gets the same labels as the same stretch classified alone with its margins."""
    lines = _many_lines(2_000)
    page = Page(lines)
    got = bounds.bounded_predict(model._predict_unbounded, [page])
    assert got.shape == (len(page), len(model.labels))
    # Rows 200..399 are scored in a window that also sees rows 180..419.
    sub = Page(lines[page.content[180]:page.content[419] + 1])
    alone = model._predict_unbounded([sub])[20:220]
    np.testing.assert_allclose(got[200:400], alone)


def test_many_files_are_batched_by_size(tmp_path, monkeypatch):
    """clean -o on many files keeps every output and bounds how much text one batch holds."""
    from noiseclf import clean as clean_mod

    monkeypatch.setattr(clean_mod, "BATCH_CHARS", 20_000)
    paths = []
    for i in range(12):
        p = tmp_path / f"p{i}.txt"
        p.write_bytes(PLAIN)
        paths.append(p)
    proc = run_cli("clean", *paths, "-o", tmp_path / "out")
    assert proc.returncode == 0
    single = run_cli("clean", SEED).stdout
    assert all((tmp_path / "out" / p.name).read_bytes() == single for p in paths)


def test_oversized_input_is_refused(tmp_path, monkeypatch):
    from noiseclf import text

    monkeypatch.setattr(text, "MAX_SCRAPE_BYTES", 1000)
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 1001)
    line = assert_one_line_error(run_cli("clean", big), 1)
    assert "split it" in line
    line = assert_one_line_error(run_cli("clean", input=b"x" * 1001), 1)
    assert "<stdin>" in line


@pytest.mark.parametrize("codec, name", [("utf-16-le", "UTF-16LE"), ("utf-16-be", "UTF-16BE")])
def test_utf16_without_bom_is_refused_in_one_line_with_the_fix(tmp_path, codec, name):
    proc = _clean(tmp_path, TEXT.encode(codec), name="nobom.txt")
    line = assert_one_line_error(proc, 1)
    path = tmp_path / "nobom.txt"
    assert str(path) in line and f"{name} without a byte-order mark" in line
    assert f"iconv -f {name} -t UTF-8 {path}" in line and proc.stdout == b""
    proc = run_cli("clean", input=TEXT.encode(codec))
    assert f"{name} without a byte-order mark" in assert_one_line_error(proc, 1)


def test_a_20mb_line_beside_a_page_of_the_same_site_stays_bounded(tmp_path):
    """Site memory goes through the same bounded prediction path: a 20 MB line cleaned with
    another scrape of its site takes about the memory it takes alone (it took 1.8 GB and 15 s
    when site memory bypassed the bounds)."""
    import subprocess
    import sys

    words = TEXT.split()
    rng = np.random.default_rng(7)
    huge = tmp_path / "site" / "a.txt"
    huge.parent.mkdir()
    huge.write_text(" ".join(rng.choice(words, size=3_300_000))[:20_000_000] + "\n", encoding="utf-8")
    other = huge.parent / "b.txt"
    other.write_bytes(SEED.read_bytes())
    code = ("import resource, sys; from noiseclf.cli import main; sys.argv = ['noiseclf'] + sys.argv[1:]\n"
            "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\nelse:\n    code = 0\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(code)")

    def peak_mb(*args) -> float:
        proc = subprocess.run([sys.executable, "-c", code, "clean", *map(str, args)], capture_output=True, timeout=120)
        assert proc.returncode == 0, proc.stderr.decode()
        return int(proc.stderr.decode().strip().splitlines()[-1]) / 1024

    alone = peak_mb(huge, "-o", tmp_path / "alone")
    together = peak_mb(huge, other, "--site", "example", "-o", tmp_path / "out")
    assert together < 1.3 * alone + 50, f"peak memory {together:.0f} MB beside another page, {alone:.0f} MB alone"
    assert (tmp_path / "out" / "b.txt").read_bytes() == run_cli("clean", other).stdout
    assert (tmp_path / "out" / "a.txt").read_bytes() == (tmp_path / "alone" / "a.txt").read_bytes()
