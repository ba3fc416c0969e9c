"""Tests of the training corpus builder, word F1 and the C4 rule baseline.

They use a small inline page and ground truth, never the WCXB data.
"""
import gzip
import json

import pytest

from training import corpus
from training.baselines import c4_rules, keep_everything
from training.check_labels import read_labelled
from training.wordf1 import tokens, word_f1

PAGE = """<!DOCTYPE html>
<html lang="en"><head><title>Bridge reopens after repairs - Example News</title>
<style>.x { color: red }</style>
<script>var tracking = "should never show up";</script>
</head><body>
<header class="site-header">
  <nav class="main-nav"><ul>
    <li><a href="/">Home</a></li><li><a href="/world">World</a></li>
    <li><a href="/sports">Sports</a></li></ul></nav>
</header>
<main>
<article>
  <h1>Bridge reopens after repairs</h1>
  <p>The old river bridge reopened on Monday after eight months of repairs, the city council said.</p>
  <p>Commuters who had driven a long detour went home early to celebrate the shorter trip.</p>
  <p>Engineers replaced the steel cables and repainted the towers in the original green.</p>
</article>
<div class="ad-slot"><p>Buy the new SuperPhone today and save fifty dollars</p></div>
<aside class="related-posts"><h3>Related stories</h3><ul>
  <li><a href="/a">Council approves budget for new library branch</a></li>
  <li><a href="/b">Local team wins regional championship final</a></li></ul></aside>
</main>
<div class="shadow-box"><p>Thanks for reading our newspaper each morning</p></div>
<footer id="colophon"><p>Contact us</p><p>© 2025 Example News. All rights reserved.</p></footer>
</body></html>
"""

GT_MAIN = (
    "The old river bridge reopened on Monday after eight months of repairs, the city council said.\n\n"
    "Commuters who had driven a long detour went home early to celebrate the shorter trip.\n\n"
    "Engineers replaced the steel cables and repainted the towers in the original green."
)
GT_TITLE = "Bridge reopens after repairs"

EXPECTED = {
    "Home": "nav",
    "World": "nav",
    "Sports": "nav",
    "Bridge reopens after repairs": "article",
    "The old river bridge reopened": "article",
    "Commuters who had driven": "article",
    "Engineers replaced the steel": "article",
    "Buy the new SuperPhone": "ad",
    "Related stories": "related-story",
    "Council approves budget": "related-story",
    "Local team wins": "related-story",
    "Contact us": "footer",
    "© 2025 Example News": "footer",
}


def _label_of(records, start):
    hits = [r for r in records if r["text"].strip().lstrip("*#+-•o [").startswith(start)]
    assert hits, f"no line starting with {start!r}"
    return [r["label"] for r in hits]


@pytest.mark.parametrize("tool", ["html-text", "inscriptis", "bs4", "html2text"])
def test_labels_of_inline_page(tool):
    out = corpus.label_page(PAGE, GT_MAIN, GT_TITLE, tools=(tool,))
    text, records, stats = out[tool]
    assert "tracking" not in text
    for start, label in EXPECTED.items():
        got = _label_of(records, start)
        # bs4 keeps <title> as a first line: that headline copy is article too
        assert all(g == label for g in got), (tool, start, got)
    assert stats["gt_recall"] == 1.0
    # the nav "Home" must not be aligned to the "home" of the article text
    assert _label_of(records, "Home") == ["nav"]
    # "shadow-box" must not read as an ad: it has no class signal, so it falls
    # back to position (after the article, before the footer block)
    assert _label_of(records, "Thanks for reading") != ["ad"]


def test_records_match_text_lines():
    for tool, (text, records, _) in corpus.label_page(PAGE, GT_MAIN, GT_TITLE).items():
        lines = text.split("\n")
        nonblank = [i + 1 for i, line in enumerate(lines) if line.strip()]
        assert [r["line"] for r in records] == nonblank, tool
        for r in records:
            assert lines[r["line"] - 1] == r["text"]
            assert r["label"] in corpus.LABELS


def test_build_corpus_writes_labels_format(tmp_path):
    wcxb = tmp_path / "wcxb"
    (wcxb / "html").mkdir(parents=True)
    (wcxb / "ground-truth").mkdir()
    with gzip.open(wcxb / "html" / "0001.html.gz", "wt", encoding="utf-8") as fh:
        fh.write(PAGE.replace("Engineers replaced", "Engineers\rreplaced"))
    gt = {"url": "https://www.example.com/news/bridge", "file_id": "0001",
          "_internal": "{'page_type': {'primary': 'article'}}",
          "ground_truth": {"title": GT_TITLE, "main_content": GT_MAIN}}
    (wcxb / "ground-truth" / "0001.json").write_text(json.dumps(gt), encoding="utf-8")
    out = tmp_path / "corpus"
    summary = corpus.build_corpus(wcxb, out, tools=("html-text", "bs4"), log=None)
    assert summary["rows"] == 2 and not summary["errors"]
    manifest = [json.loads(line) for line in (out / "manifest.jsonl").read_text("utf-8").splitlines()]
    assert [(m["file_id"], m["tool"]) for m in manifest] == [("0001", "html-text"), ("0001", "bs4")]
    for m in manifest:
        assert m["domain"] == "example.com"
        assert m["page_type"] == "article"
        assert m["split"] in ("train", "test")
        assert m["split"] == corpus.split_of("example.com")
        assert sum(m["labels"].values()) == m["n_lines"]
        lines, records = read_labelled(out, m["tool"], "0001")  # raises if inconsistent
        assert len(records) == m["n_lines"]
        raw = (out / m["tool"] / "0001.txt").read_bytes().decode("utf-8")
        assert "\r" not in raw
        for line in (out / m["tool"] / "0001.jsonl").read_text("utf-8").splitlines():
            assert set(json.loads(line)) == {"line", "text", "label"}
    # deterministic: a second build writes the same bytes
    first = {p.name: p.read_bytes() for p in (out / "bs4").iterdir()}
    corpus.build_corpus(wcxb, out, tools=("html-text", "bs4"), log=None)
    assert first == {p.name: p.read_bytes() for p in (out / "bs4").iterdir()}


def test_clean_scrape_line_breaks():
    assert corpus.clean_scrape("a\r\nb\rc\x00d") == "a\nb\ncd"


def test_element_signal_whole_tokens():
    sig = corpus._element_signal
    assert sig("div", {"class": "ad-slot"}, False)[0] == "ad"
    assert sig("div", {"class": "ads"}, False)[0] == "ad"
    assert sig("div", {"class": "shadow"}, False) is None
    assert sig("div", {"class": "post-header"}, False)[0] == "nav"
    assert sig("div", {"class": "post-header"}, True) is None  # the article's own header
    assert sig("div", {"class": "loader add-to-cart"}, False) is None
    assert sig("div", {"id": "relatedPosts"}, False)[0] == "related-story"
    assert sig("div", {"role": "contentinfo"}, False)[0] == "footer"
    assert sig("article", {"class": "post category-ads tag-sidebar"}, False) is None


def test_split_is_deterministic_and_by_domain():
    assert corpus.split_of("example.com") == corpus.split_of("example.com")
    share = sum(corpus.split_of(f"site{i}.com") == "test" for i in range(2000)) / 2000
    assert 0.15 < share < 0.25
    assert corpus.domain_of("https://www.Example.com:8080/x") == "example.com"
    assert corpus.domain_of("https://news.example.com/") == "news.example.com"


def test_word_f1():
    assert tokens("The cat, the HAT!") == {"the": 2, "cat": 1, "hat": 1}
    assert word_f1("", "") == (1.0, 1.0, 1.0)
    assert word_f1("...", "") == (1.0, 1.0, 1.0)  # no tokens on either side
    assert word_f1("", "some gold") == (0.0, 0.0, 0.0)
    assert word_f1("some pred", "") == (0.0, 0.0, 0.0)
    assert word_f1("a b c", "a b c") == (1.0, 1.0, 1.0)
    p, r, f = word_f1("the the cat", "the cat sat")
    assert p == pytest.approx(2 / 3) and r == pytest.approx(2 / 3) and f == pytest.approx(2 / 3)
    p, r, f = word_f1("a b", "a b c d")
    assert (p, r) == (1.0, 0.5) and f == pytest.approx(2 / 3)
    assert word_f1("x y", "a b") == (0.0, 0.0, 0.0)
    assert word_f1("Ünïcode wörds", "ünïcode WÖRDS")[2] == 1.0


def test_c4_rules():
    text = "\n".join([
        "Home",
        "This line has enough words.",
        "Too short.",
        "This one has no terminal punctuation",
        "  She said “it is fine.”  ",
        "Is this a question?",
        "And an ellipsis here…",
        "He said 'yes it is'",
    ])
    assert c4_rules(text).split("\n") == [
        "This line has enough words.",
        "  She said “it is fine.”  ",
        "Is this a question?",
        "And an ellipsis here…",
        "He said 'yes it is'",
    ]
    assert c4_rules("") == ""
    assert keep_everything("x\ny") == "x\ny"


# --- rules checked against the hand-labelled gold set (training/README.md, "Automatic
# labels against the gold set") ---

PAGE2 = """<!DOCTYPE html>
<html><head><title>Garden beds that last | Green Pages</title></head><body>
<header><nav class="lg:h-[calc(100vh-var(--nav-height))]"><a href="/">Home</a> <a href="/beds">Beds</a></nav></header>
<div class="page"><div class="post-content">
  <h1>Garden beds that last</h1>
  <p class="meta">By Ann Gardner · March 3, 2025</p>
  <p>Cedar raised beds resist rot for many years without any chemical treatment at all.</p>
  <figure><img src="a.jpg"><figcaption>A cedar bed in its fifth summer, photographed in June</figcaption></figure>
  <p>Line the bottom with hardware cloth to keep burrowing animals out of the soil.</p>
  <p>Fill the bed with a mix of compost and topsoil and water it well before planting.</p>
  <button>Show more</button>
  <div class="product-card"><p>Cedar Bed Kit 4x8</p><p>$89 at Amazon</p></div>
  <p>Top the soil up with compost every spring and the bed will keep producing for a decade.</p>
</div></div>
<aside><p>Get our gardening tips delivered to your inbox every week</p></aside>
<section><h3>Related posts</h3><ul>
  <li>How to build a trellis</li><li>Winter care for perennials</li></ul></section>
<section id="how-we-test-every-product-share"><p>We test every product in our own garden for a full season</p></section>
<div class="links"><a href="/a">Ten vegetables you can grow in the shade this year</a></div>
<footer><p>About us</p><p>Every article on this site is protected by copyright law and may not be reproduced in any form without written permission from the publisher and the authors</p></footer>
</body></html>
"""

GT2 = (
    "Cedar raised beds resist rot for many years without any chemical treatment at all.\n\n"
    "Line the bottom with hardware cloth to keep burrowing animals out of the soil.\n\n"
    "Fill the bed with a mix of compost and topsoil and water it well before planting.\n\n"
    "Top the soil up with compost every spring and the bed will keep producing for a decade."
)

EXPECTED2 = {
    "Garden beds that last | Green Pages": "article",      # the <title> line is the headline
    "Home": "nav",
    "By Ann Gardner": "article",                           # byline/date next to the body
    "A cedar bed in its fifth summer": "article",          # caption inside the article's container
    "Show more": "nav",                                     # a button: page machinery
    "$89 at Amazon": "ad",                                  # an affiliate product box
    "Get our gardening tips": "ad",                         # the site's newsletter promo
    "Related posts": "related-story",                       # heading of a list of other stories
    "How to build a trellis": "related-story",
    "Winter care for perennials": "related-story",
    "Ten vegetables you can grow": "related-story",         # a headline-sized link after the article
    "About us": "footer",
}


@pytest.mark.parametrize("tool", ["html-text", "inscriptis", "bs4", "html2text"])
def test_gold_set_rules_on_inline_page(tool):
    text, records, stats = corpus.label_page(PAGE2, GT2, "Garden beds that last", tools=(tool,))[tool]
    for start, label in EXPECTED2.items():
        if start.startswith("Garden beds that last |") and tool in ("inscriptis", "html2text"):
            continue  # these tools do not print <title>
        got = [r["label"] for r in records if start in r["text"]]
        assert got and all(g == label for g in got), (tool, start, got)
    # a long sentence that mentions copyright is no copyright line (it is in the DOM footer anyway)
    assert [r["label"] for r in records if "Every article on this site" in r["text"]] == ["footer"]


def test_element_signal_ignores_css_utilities_anchor_ids_and_sidebars():
    sig = corpus._element_signal
    assert sig("div", {"class": "lg:h-[calc(100vh-var(--nav-height))]"}, False) is None
    assert sig("div", {"class": "site-nav"}, False)[0] == "nav"
    assert sig("section", {"id": "sql-for-update-share"}, False) is None  # a heading anchor
    assert sig("div", {"id": "share-bar"}, False)[0] == "nav"
    assert sig("aside", {}, False) is None
    assert sig("div", {"class": "sidebar"}, False) is None
    assert sig("div", {"role": "complementary"}, False) is None
    # Sphinx: the navigation bar is class "related" with role navigation
    assert sig("div", {"class": "related", "role": "navigation"}, False)[0] == "nav"
    assert sig("div", {"class": "related-posts"}, False)[0] == "related-story"
    assert sig("li", {"class": "menu-newsletter"}, False) == ("ad", "newsletter")
    assert sig("div", {"class": "newsletter promo"}, False) == ("ad", "")


def test_newsletter_link_inside_a_menu_stays_nav():
    page = ('<html><body><nav><ul><li><a href="/">Home</a></li><li class="newsletter">'
            '<a href="/n">Newsletters</a></li></ul></nav><article><p>' + GT2 + '</p></article></body></html>')
    text, records, _ = corpus.label_page(page, GT2, "", tools=("html-text",))["html-text"]
    assert _label_of(records, "Newsletters") == ["nav"]


def test_dom_stream_records_elements():
    dom = corpus.dom_stream("<html><body><div id='a'><p>one two</p></div><p>three</p></body></html>")
    tokens, classes, details, owners, ends, parents, tags, spans = dom
    assert tokens == ["one", "two", "three"]
    p1 = owners[0]
    assert tags[p1] == "p" and tags[parents[p1]] == "div"
    div = parents[p1]
    assert div <= owners[1] <= ends[div] and not (div <= owners[2] <= ends[div])
    assert tokens[spans[div][0]:spans[div][1]] == ["one", "two"]
    assert corpus.dom_stream("") == corpus.Dom()


def test_snippets_pin_the_lines_that_hold_them_or_lie_inside_them():
    from training.snippet_labels import pinned, snippet_split_of as split_of

    lines = ["Home", "Der Bundestag hat am Dienstag  beschlossen, dass", "die Reform kommt.", "",
             "Mehr zum Thema", "Kontakt Impressum"]
    with_ = ["Der Bundestag hat am Dienstag beschlossen, dass die Reform kommt."]
    assert pinned(lines, with_) == {1}  # "die Reform kommt." has 3 words: too short to pin from inside
    assert pinned(lines, ["Kontakt"]) == {5}
    assert pinned(lines, ["Home page of the site"]) == set()  # a one-word line inside a snippet is not pinned
    assert split_of("https://www.example.de/a") == split_of("https://example.de/b")  # by domain
    assert {split_of(f"https://site{i}.de/") for i in range(20)} == {"train", "eval"}


def test_trafilatura_teaches_the_unpinned_lines_of_snippet_pages(tmp_path, monkeypatch):
    """``snippet_scrapes(teacher=True)``: a second copy of each page whose lines no snippet
    pins are labelled from the teacher's extraction; pinned lines stay with the snippet copy."""
    from training import baselines, snippet_labels

    html = ("<html><body><nav><a href='/'>Startseite</a> <a href='/k'>Kontakt</a></nav>"
            "<article><h1>Die Reform kommt</h1><p>Der Bundestag hat am Dienstag beschlossen, dass die "
            "Reform kommt.</p><p>Die Opposition kritisierte den Zeitplan als zu knapp bemessen.</p></article>"
            "<footer><p>Impressum und Datenschutz der Seite</p></footer></body></html>")
    url = next(f"https://site{i}.de/a" for i in range(50) if snippet_labels.snippet_split_of(f"https://site{i}.de/a") == "train")
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "p1.gz").write_bytes(gzip.compress(html.encode("utf-8")))
    (tmp_path / "evaldata.json").write_text(json.dumps({url: {
        "file": "p1", "with": ["Der Bundestag hat am Dienstag beschlossen"], "without": ["Impressum und Datenschutz"]}}))
    monkeypatch.setattr(baselines, "trafilatura_text", lambda h: (
        "Die Reform kommt\nDer Bundestag hat am Dienstag beschlossen, dass die Reform kommt.\n"
        "Die Opposition kritisierte den Zeitplan als zu knapp bemessen."))

    assert [s.meta["source"] for s in snippet_labels.snippet_scrapes(tmp_path, "train")] == ["snippets"]
    taught, pinned_copy = sorted(snippet_labels.snippet_scrapes(tmp_path, "train", teacher=True),
                                 key=lambda s: s.meta["source"] != "trafilatura")
    assert (taught.meta["source"], pinned_copy.meta["source"]) == ("trafilatura", "snippets")
    assert taught.lines == pinned_copy.lines
    by_text = {line: (t, p) for line, t, p in zip(taught.lines, taught.labels, pinned_copy.labels) if line.strip()}
    bundestag = next(k for k in by_text if k.startswith("Der Bundestag"))
    assert by_text[bundestag] == (None, "article")  # pinned: the snippet copy decides, the teacher says nothing
    assert by_text[next(k for k in by_text if k.startswith("Impressum"))][0] is None
    assert by_text[next(k for k in by_text if k.startswith("Die Opposition"))] == ("article", None)
    assert by_text[next(k for k in by_text if "Startseite" in k)][0] not in (None, "article")

    # the teacher extracts nothing: no taught copy
    monkeypatch.setattr(baselines, "trafilatura_text", lambda h: "")
    assert [s.meta["source"] for s in snippet_labels.snippet_scrapes(tmp_path, "train", teacher=True)] == ["snippets"]


def test_gold_training_pages_leave_out_the_adaptation_sites():
    # The multi-page sites are what benchmarks/adaptation.py teaches and scores: a base
    # trained with --gold must not have seen their hand labels.
    from pathlib import Path

    from training.build_model import load_gold
    from training.gold import read_manifest

    gold = Path(__file__).resolve().parent.parent / "training" / "gold"
    manifest = {r["file_id"]: r for r in read_manifest(gold)}
    singles = load_gold(gold, ("html-text",))
    everything = load_gold(gold, ("html-text",), sites=True)
    assert singles and all(not manifest[s.name]["site_group"] and manifest[s.name]["split"] == "train" for s in singles)
    added = {s.name for s in everything} - {s.name for s in singles}
    assert added and all(manifest[n]["site_group"] for n in added)
    assert all(s.labels and len(s.labels) == len(s.lines) for s in singles)
