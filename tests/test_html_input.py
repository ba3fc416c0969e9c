"""HTML in: detected by content, converted by noiseclf.html (inscriptis), then cleaned as usual,
through `noiseclf clean` (files, stdin, --corpus) and the Scrapy pipeline on response.text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from noiseclf.cli import app
from noiseclf.errors import InputError
from noiseclf.html import html_to_text, looks_like_html, read_page

from conftest import SEEDS

pytest.importorskip("inscriptis")

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Harbour reopens after storm repairs | Coast News</title>
<style>body { font-family: serif; }</style><script>var tracking = "not text";</script></head>
<body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/weather">Weather</a></li><li><a href="/contact">Contact us</a></li></ul></nav></header>
<main><article>
<h1>Harbour reopens after storm repairs</h1>
<p>The harbour reopened on Monday after three months of repairs to the sea wall, the port authority said in a statement.</p>
<p>Fishing boats returned to their moorings early in the morning, and the ferry to the islands will run again from Friday, its operator confirmed.</p>
<p>Engineers rebuilt forty metres of the wall, which the January storm had breached in two places, flooding the quay and the fish market.</p>
<p>"We are relieved to be back at sea," said one skipper, who had moved his boat to a neighbouring port for the winter.</p>
</article>
<aside><h2>Most read</h2><ul><li><a href="/a">Council approves new cycle lanes on the seafront</a></li>
<li><a href="/b">Local school wins national robotics prize</a></li></ul></aside></main>
<footer><p>Copyright 2025 Coast News. All rights reserved.</p><p><a href="/privacy">Privacy policy</a> | <a href="/terms">Terms of use</a></p></footer>
</body></html>
"""
ARTICLE = "The harbour reopened on Monday after three months of repairs to the sea wall"


def invoke(*args, input=None):
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


# -- detection ------------------------------------------------------------------

@pytest.mark.parametrize("page", [
    PAGE,
    PAGE.encode("utf-8"),
    "\ufeff" + PAGE,
    "<!-- saved from a browser -->\n<html><body><p>Hello</p></body></html>",
    '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Hi</p></body></html>',
    "<div class='story'><p>First paragraph.</p><p>Second paragraph.</p></div>",  # a fragment (response.css(...).get())
    "  <BODY><P>upper case</P></BODY>",
])
def test_html_is_recognised_by_its_content(page):
    assert looks_like_html(page)


@pytest.mark.parametrize("text", [
    "",
    None,
    "Home\nNews\nThe council met on <Monday> to discuss a < b and c > d.\n",
    "# Heading\n\nSome **markdown** from html2text with a [link](https://example.com) and <b>one tag</b>.\n",
    '<?xml version="1.0"?><rss><channel><title>A feed</title></channel></rss>',
])
def test_text_scrapes_are_not_html(text):
    assert not looks_like_html(text)


def test_no_seed_scrape_looks_like_html():
    for p in SEEDS.glob("*.txt"):
        assert not looks_like_html(p.read_bytes()), p


def test_conversion_is_the_training_corpus_call():
    import inscriptis

    xml = '<?xml version="1.0" encoding="utf-8"?>\n' + PAGE
    assert html_to_text(xml) == inscriptis.get_text(PAGE.replace("\r", ""))
    text = html_to_text(PAGE)
    assert ARTICLE in text and "<p>" not in text and "tracking" not in text


def test_a_declared_charset_is_honoured(tmp_path):
    page = PAGE.replace('charset="utf-8"', 'charset="windows-1252"').replace("relieved", "soulagés, café")
    path = tmp_path / "latin.txt"  # named .txt: HTML is found by content
    path.write_bytes(page.encode("cp1252"))
    decoded, was_html = read_page(path)
    assert was_html and "soulagés, café" in decoded.text and not decoded.warnings


def test_without_inscriptis_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "inscriptis", None)
    with pytest.raises(InputError, match=r"page\.html: this is HTML.*reinstall noiseclf"):
        html_to_text(PAGE, "page.html")


# -- noiseclf clean -------------------------------------------------------------

@pytest.mark.parametrize("name", ["page.html", "page.txt", "saved-page"])
def test_clean_converts_an_html_file_and_says_so(tmp_path, shipped_model, name):
    path = tmp_path / name
    path.write_text(PAGE, encoding="utf-8")
    r = invoke("clean", str(path))
    assert r.exit_code == 0, r.output
    assert r.stdout == shipped_model.clean(html_to_text(PAGE))
    assert ARTICLE in r.stdout and "<" not in r.stdout
    assert f"noiseclf: {path}: HTML, converted to text with inscriptis before cleaning" in r.stderr


def test_clean_converts_html_on_stdin_and_leaves_text_alone(tmp_path, shipped_model):
    r = invoke("clean", "-", input=PAGE)
    assert r.exit_code == 0 and r.stdout == shipped_model.clean(html_to_text(PAGE))
    assert "<stdin>: HTML, converted" in r.stderr
    seed = SEEDS / "000_4242c970553a3e99.txt"
    (tmp_path / "page.html").write_text(PAGE, encoding="utf-8")
    r = invoke("clean", str(seed), str(tmp_path / "page.html"), "--format", "jsonl")
    assert r.exit_code == 0
    assert "1 of 2 inputs" not in r.stderr and f"{tmp_path / 'page.html'}: HTML, converted" in r.stderr
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert all("<" not in row["text"] for row in rows if row["file"].endswith(".html"))
    r = invoke("clean", str(seed))
    assert "HTML" not in r.stderr


def test_clean_corpus_with_an_html_field(tmp_path, shipped_model):
    src = tmp_path / "pages.jsonl"
    seed = (SEEDS / "000_4242c970553a3e99.txt").read_text(encoding="utf-8")
    rows = [{"url": "https://coast.example/harbour", "html": PAGE},
            {"url": "https://other.example/a", "html": seed},  # a text record in the same field stays text
            {"url": "https://coast.example/none", "html": None}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "clean.jsonl"
    r = invoke("clean", "--corpus", str(src), "--output", str(out), "--text-field", "html")
    assert r.exit_code == 0, r.output
    assert "field 'html' holds HTML; each HTML record is converted to text with inscriptis" in r.stderr
    got = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert got[0]["html"] == shipped_model.clean(html_to_text(PAGE)) and ARTICLE in got[0]["html"]
    assert got[1]["html"] == shipped_model.clean(seed)
    assert got[2]["html"] is None
    assert got[0]["noiseclf_kept_lines"] > 0


# -- the Scrapy pipeline on response.text -----------------------------------------

SPIDER = '''
import scrapy

class Pages(scrapy.Spider):
    name = "pages"

    def __init__(self, start_url=None, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [start_url]

    def parse(self, response):
        yield {"url": response.url, "text": response.text}
'''


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_scrapy_pipeline_cleans_response_text_of_an_html_page(tmp_path, shipped_model):
    pytest.importorskip("scrapy")
    root = tmp_path / "site"
    root.mkdir()
    (root / "harbour.html").write_text(PAGE, encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        (tmp_path / "spider.py").write_text(SPIDER, encoding="utf-8")
        out = tmp_path / "items.jsonl"
        url = f"http://127.0.0.1:{server.server_address[1]}/harbour.html"
        cmd = [sys.executable, "-m", "scrapy", "runspider", str(tmp_path / "spider.py"), "-a", f"start_url={url}",
               "-o", f"{out}:jsonlines", "-s", 'ITEM_PIPELINES={"noiseclf.integrations.scrapy.NoiseclfPipeline": 300}',
               "-s", "LOG_LEVEL=ERROR", "-s", "TELNETCONSOLE_ENABLED=False", "-s", "ROBOTSTXT_OBEY=False",
               "-s", "NOISECLF_COUNTS=True"]
        proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=180,
                              env=dict(os.environ, SCRAPY_SETTINGS_MODULE=""))
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0, proc.stderr
    (item,) = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert item["text"] == shipped_model.clean(html_to_text(PAGE))
    assert ARTICLE in item["text"] and "<" not in item["text"] and item["noiseclf_kept_lines"] > 0


def test_scrapy_pipeline_in_process_html_and_text_fields(shipped_model):
    pytest.importorskip("itemadapter")
    from noiseclf.integrations.scrapy import NoiseclfPipeline

    pipe = NoiseclfPipeline()
    pipe.model = shipped_model  # (the shipped one, already loaded)
    pipe.open_spider()
    seed = (SEEDS / "000_4242c970553a3e99.txt").read_text(encoding="utf-8")
    html_item = pipe.process_item({"url": "https://coast.example/a", "text": PAGE.encode("utf-8")})
    text_item = pipe.process_item({"url": "https://other.example/b", "text": seed})
    assert html_item["text"] == shipped_model.clean(html_to_text(PAGE))
    assert text_item["text"] == shipped_model.clean(seed)
