"""The Scrapy pipeline in a real crawl: `scrapy runspider` against a local server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytest.importorskip("scrapy")

from noiseclf import load_model  # noqa: E402
from noiseclf.integrations.scrapy import NoiseclfPipeline  # noqa: E402

from conftest import SEEDS  # noqa: E402
from test_plain import markdown_of  # noqa: E402

SPIDER = '''
import scrapy

class Pages(scrapy.Spider):
    name = "pages"

    def __init__(self, start_url=None, **kwargs):
        super().__init__(**kwargs)
        self.start_urls = [start_url]

    def parse(self, response):
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href, self.parse_page)

    def parse_page(self, response):
        yield {"url": response.url, "text": response.text, "title": "kept as is"}
'''


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    names = []
    for p in sorted(SEEDS.glob("*.txt")):
        (root / p.name).write_bytes(p.read_bytes())
        names.append(p.name)
    links = "".join(f'<a href="{n}">{n}</a>' for n in names)
    (root / "index.html").write_text(f"<html><body>{links}</body></html>", encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", names
    finally:
        server.shutdown()
        server.server_close()


def crawl(tmp_path, start, *settings):
    spider = tmp_path / "spider.py"
    spider.write_text(SPIDER, encoding="utf-8")
    out = tmp_path / "items.jsonl"
    cmd = [sys.executable, "-m", "scrapy", "runspider", str(spider), "-a", f"start_url={start}", "-o", f"{out}:jsonlines",
           "-s", "ITEM_PIPELINES={\"noiseclf.integrations.scrapy.NoiseclfPipeline\": 300}",
           "-s", "LOG_LEVEL=ERROR", "-s", "TELNETCONSOLE_ENABLED=False", "-s", "ROBOTSTXT_OBEY=False",
           "-s", "HTTPCACHE_ENABLED=False",
           "-s", "REMOTE_CONTROL_ENABLED=False"]
    for s in settings:
        cmd += ["-s", s]
    env = dict(os.environ, SCRAPY_SETTINGS_MODULE="")
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=180, env=env)
    return proc, out


def test_a_real_crawl_yields_cleaned_items(tmp_path, site):
    start, names = site
    proc, out = crawl(tmp_path, start, "NOISECLF_COUNTS=True")
    assert proc.returncode == 0, proc.stderr
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(i["url"].rsplit("/", 1)[1] for i in items) == names
    model = load_model()
    for item in items:
        raw = (SEEDS / item["url"].rsplit("/", 1)[1]).read_text(encoding="utf-8")
        assert item["text"] == model.clean(raw)
        assert item["title"] == "kept as is"
        assert item["noiseclf_kept_lines"] > 0 and item["noiseclf_dropped_lines"] > 0
        assert len(item["text"]) < len(raw)


def test_crawl_with_output_field_and_keep(tmp_path, site):
    start, names = site
    proc, out = crawl(tmp_path, start, "NOISECLF_OUTPUT_FIELD=clean", "NOISECLF_KEEP=article,nav")
    assert proc.returncode == 0, proc.stderr
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    model = load_model()
    for item in items:
        raw = (SEEDS / item["url"].rsplit("/", 1)[1]).read_text(encoding="utf-8")
        assert item["text"] == raw  # the scraped text is left alone
        assert item["clean"] == model.clean(raw, keep=("article", "nav"))


def test_pipeline_settings_errors():
    with pytest.raises(ValueError, match="NOISECLF_KEEP: unknown label"):
        NoiseclfPipeline(keep=["articles"])
    pipe = NoiseclfPipeline(model="/nonexistent/model.noiseclf")
    with pytest.raises(Exception, match="NOISECLF_MODEL: .*no such model file"):
        pipe.open_spider()


def test_pipeline_in_process_items():
    import scrapy

    class Page(scrapy.Item):
        text = scrapy.Field()

    pipe = NoiseclfPipeline()
    pipe.open_spider()
    model = pipe.model
    raw = (SEEDS / "003_961445eb337fe995.txt").read_text(encoding="utf-8")
    assert pipe.process_item(Page(text=raw))["text"] == model.clean(raw)
    assert pipe.process_item({"other": 1}) == {"other": 1}  # no field: unchanged
    assert pipe.process_item({"text": raw.splitlines()})["text"] == model.clean(raw)
    assert pipe.process_item({"text": raw.encode("utf-8")})["text"] == model.clean(raw)
    with pytest.raises(KeyError, match="no field"):
        NoiseclfPipeline(counts=True).process_item(Page(text=raw))
    md = markdown_of(raw)  # NOISECLF_PLAIN: a Markdown field's kept lines as plain text
    plain = NoiseclfPipeline(plain=True).process_item({"text": md})["text"]
    assert plain == model.clean(md, plain=True) != model.clean(md) and "](" not in plain


class _Stats:
    """What the pipeline calls of Scrapy's stats collector."""

    def __init__(self):
        self.values = {}

    def inc_value(self, key, count=1):
        self.values[key] = self.values.get(key, 0) + count


def test_records_feeds_and_markdown_in_the_field_are_noticed(caplog):
    raw = (SEEDS / "003_961445eb337fe995.txt").read_text(encoding="utf-8")
    stats = _Stats()
    pipe = NoiseclfPipeline(stats=stats)
    pipe.open_spider()
    records = '{"url": "https://a.example/1", "text": "One"}\n{"url": "https://a.example/2", "text": "Two"}\n'
    feed = '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>News</title></channel></rss>\n'
    with caplog.at_level("WARNING", logger="noiseclf.integrations.scrapy"):
        for text in (records, records, feed):
            item = {"text": text, "url": "https://a.example/feed"}
            assert pipe.process_item(dict(item)) == item  # left as it is, not cleaned into "article" lines
        md = markdown_of(raw)
        assert pipe.process_item({"text": md})["text"] == pipe.model.clean(md)  # cleaned as before ...
        pipe.process_item({"text": md})
        assert pipe.process_item({"text": raw})["text"] == pipe.model.clean(raw)  # plain text: no notice
    assert stats.values["noiseclf/not_a_page"] == 3 and stats.values["noiseclf/markdown"] == 2
    assert stats.values["noiseclf/items"] == 3
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 3  # once per kind
    assert "is JSON Lines, not a page's text" in warnings[0] and "https://a.example/feed" in warnings[0]
    assert "is a feed (XML, <rss>)" in warnings[1]
    assert "NOISECLF_PLAIN = True" in warnings[2]  # ... and the setting named
    quiet = _Stats()
    NoiseclfPipeline(stats=quiet, plain=True).process_item({"text": md})
    assert "noiseclf/markdown" not in quiet.values
