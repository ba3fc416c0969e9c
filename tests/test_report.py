"""Reports to look at: `inspect --html` and `evaluate --html`, opened in headless Chromium.

The Chromium tests read the page's DOM as the browser built it (``--dump-dom``)
and take a screenshot into the test's tmp dir. Chromium is Debian's package
``chromium``: where /usr/bin/chromium is missing, the set-up installs it with
apt-get when running as root (it takes well under a minute), unless
NOISECLF_TEST_NO_APT=1; otherwise, or if that fails, those tests are skipped,
saying why. The browser only reads local files: it listens on nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from noiseclf.cli import app
from noiseclf.labels import LABEL_COLOURS, LABELS
from noiseclf.report import SHADES, evaluation_html, evaluate_pages, inspect_html, shades

from conftest import LABELS_DIR, SEEDS

SEED = SEEDS / "003_961445eb337fe995.txt"
CHROMIUM = "/usr/bin/chromium"


def invoke(*args):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


class Dom(HTMLParser):
    """Elements of a page with their attributes and text (enough to check a report's structure)."""

    def __init__(self, page: str):
        super().__init__()
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": ""}
        el["classes"] = set((el["attrs"].get("class") or "").split())
        self.elements.append(el)
        if tag not in ("meta", "br", "img", "link", "input"):
            self._open.append(el)

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for el in self._open:
            el["text"] += data

    def find(self, tag=None, cls=None, id=None) -> list[dict]:
        return [e for e in self.elements if (tag is None or e["tag"] == tag)
                and (cls is None or cls in e["classes"]) and (id is None or e["attrs"].get("id") == id)]


def check_inspect_dom(dom: Dom, verdicts) -> None:
    lines = dom.find("li", "line")
    assert len(lines) == len(verdicts)
    for el, v in zip(lines, verdicts):
        if v.label is None:
            assert "blank" in el["classes"]
            continue
        assert f"lab-{v.label}" in el["classes"]
        assert el["attrs"]["title"] == f"line {v.line}: {v.label} {v.probability:.2f}, {'kept' if v.keep else 'dropped'}"
        assert v.text.strip() in el["text"]
    (legend,) = dom.find("ul", id="legend")
    chips = [e for e in dom.find("li") if any(c.startswith("lab-") for c in e["classes"])
             and "line" not in e["classes"]]
    assert [e["text"].split()[0] for e in chips] == list(LABELS)
    assert dom.find("pre", "kept-text")


# -- the pages themselves -------------------------------------------------------

def test_inspect_page_colours_every_line_from_label_colours(shipped_model, monkeypatch):
    text = SEED.read_text(encoding="utf-8")
    verdicts = shipped_model.classify_text(text)
    page = inspect_html(SEED.name, verdicts, shipped_model.clean(text))
    check_inspect_dom(Dom(page), verdicts)
    for lab in LABELS:  # the CSS of each label is its LABEL_COLOURS colour
        strong, tint = SHADES[LABEL_COLOURS[lab]]
        assert f".lab-{lab} {{ --c: {strong}; --t: {tint}; }}" in page
    assert "<script" not in page.lower() and "http://" not in page and "https://" not in page  # self-contained
    monkeypatch.setitem(LABEL_COLOURS, "article", "cyan")  # one home: change it there, the page follows
    assert f".lab-article {{ --c: {SHADES['cyan'][0]};" in inspect_html(SEED.name, verdicts, "")
    assert shades("nav") == SHADES["blue"] and shades("unknown-label")


def test_inspect_page_escapes_the_scrape(shipped_model):
    text = 'A line with <script>alert("x")</script> & "quotes"\nSecond line\n'
    page = inspect_html("<b>name</b>", shipped_model.classify_text(text), text)
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "<b>name</b>" not in page


def test_evaluation_page_matches_the_printed_figures(shipped_model, seed_scrapes):
    from noiseclf.train import evaluate

    m, pages = evaluate_pages(shipped_model, seed_scrapes)
    assert m == evaluate(shipped_model, seed_scrapes)
    dom = Dom(evaluation_html(m, pages, worst=3))
    assert len(dom.find("table", id="confusion")) == 1
    heat = [e for e in dom.find("td") if e["classes"] & {"diag", "off"}]
    n = len(m["confusion"]["labels"])
    assert len(heat) == n * n
    assert [int(e["text"]) for e in heat] == [c for row in m["confusion"]["matrix"] for c in row]
    links = [e["attrs"]["href"] for e in dom.find("a") if e["attrs"].get("href", "").startswith("#page-")]
    assert links == ["#page-1", "#page-2", "#page-3"]
    for href in links:  # each worst page links to its inspected view in the same file
        (view,) = dom.find("section", id=href[1:])
        assert view["text"].count("The scrape, line by line") == 1
    first = [e for e in dom.find("a") if e["attrs"].get("href") == "#page-1"][0]
    assert first["text"] == max(pages, key=lambda p: p.wrong).name  # the worst page first
    assert len(dom.find("div", "bar")) == 3 * len(m["per_class"])


# -- the commands ---------------------------------------------------------------

def test_inspect_html_writes_the_page_atomically(tmp_path, shipped_model):
    out = tmp_path / "report.html"
    out.write_text("old", encoding="utf-8")
    r = invoke("inspect", str(SEED), "--html", str(out))
    assert r.exit_code == 0, r.output
    assert r.stdout == "" and f"wrote {out}" in r.stderr
    check_inspect_dom(Dom(out.read_text(encoding="utf-8")), shipped_model.classify_text(SEED.read_text(encoding="utf-8")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no temporary file left
    r = invoke("inspect", str(SEED), "--html", str(tmp_path / "missing" / "r.html"))
    assert r.exit_code == 1 and "does not exist" in r.stderr


def test_inspect_uses_label_colours_in_the_terminal(monkeypatch):
    import noiseclf.cli.inspect as inspect_mod

    assert not hasattr(inspect_mod, "COLOURS")  # one home: noiseclf.labels.LABEL_COLOURS
    r = invoke("inspect", str(SEED), "--color", "--width", "40")
    assert "\x1b[32m" in r.stdout and "\x1b[34m" in r.stdout  # green article, blue nav


def test_evaluate_html_keeps_the_table_and_writes_the_page(tmp_path):
    plain = invoke("evaluate", "--labels", str(LABELS_DIR))
    out = tmp_path / "eval.html"
    r = invoke("evaluate", "--labels", str(LABELS_DIR), "--html", str(out), "--worst", "2")
    assert r.exit_code == 0, r.output
    assert r.stdout == plain.stdout
    dom = Dom(out.read_text(encoding="utf-8"))
    assert dom.find("table", id="confusion") and dom.find("table", id="worst-pages")
    assert len(dom.find("section", "inspected")) == 2
    js = invoke("evaluate", "--labels", str(LABELS_DIR), "--json", "--html", str(out))
    assert json.loads(js.stdout)["lines"] > 0


# -- in a real browser ----------------------------------------------------------

def _install_chromium() -> str | None:
    """Install Debian's chromium with apt-get (as root); None when done, else why not."""
    if os.environ.get("NOISECLF_TEST_NO_APT"):
        return "NOISECLF_TEST_NO_APT is set"
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not root, so it is not installed here (as root: apt-get install chromium)"
    if shutil.which("apt-get") is None:
        return "no apt-get on this machine"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    try:
        if subprocess.run(install, capture_output=True, env=env, timeout=300).returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True, env=env, timeout=180)
            done = subprocess.run(install, capture_output=True, text=True, env=env, timeout=300)
            if done.returncode != 0:
                return f"apt-get install chromium failed: {done.stderr.strip()[-200:]}"
    except subprocess.TimeoutExpired:
        return "apt-get install chromium took more than 5 minutes"
    return None if Path(CHROMIUM).exists() else "apt-get install chromium gave no /usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        why = _install_chromium()
        if why is not None:
            pytest.skip(f"headless Chromium is needed to open the reports and {CHROMIUM} is missing: {why}")
    return CHROMIUM


def browse(chromium: str, tmp_path: Path, page: Path, *action: str) -> subprocess.CompletedProcess:
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
           "--disable-extensions", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--no-default-browser-check", f"--user-data-dir={tmp_path / 'chromium-profile'}",
           *action, page.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def test_inspect_report_in_chromium(chromium, tmp_path, shipped_model):
    out = tmp_path / "inspect.html"
    assert invoke("inspect", str(SEED), "--html", str(out)).exit_code == 0
    dom = Dom(browse(chromium, tmp_path, out, "--dump-dom").stdout)  # the DOM as the browser built it
    check_inspect_dom(dom, shipped_model.classify_text(SEED.read_text(encoding="utf-8")))
    shot = tmp_path / "inspect.png"
    browse(chromium, tmp_path, out, f"--screenshot={shot}", "--window-size=1400,1100")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_evaluate_report_in_chromium(chromium, tmp_path):
    out = tmp_path / "evaluate.html"
    assert invoke("evaluate", "--labels", str(LABELS_DIR), "--html", str(out), "--worst", "3").exit_code == 0
    dom = Dom(browse(chromium, tmp_path, out, "--dump-dom").stdout)
    assert len(dom.find("div", "bar")) == 3 * len(LABELS)
    assert len([e for e in dom.find("td") if "diag" in e["classes"]]) == len(LABELS)
    assert [e["attrs"]["href"] for e in dom.find("a") if e["attrs"].get("href", "").startswith("#page-")] == \
        ["#page-1", "#page-2", "#page-3"]
    assert len(dom.find("section", "inspected")) == 3 and dom.find("li", "line")
    shot = tmp_path / "evaluate.png"
    browse(chromium, tmp_path, out, f"--screenshot={shot}", "--window-size=1400,1800")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
