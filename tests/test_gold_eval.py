"""Tests of training/gold_eval.py: aligning other tools' scrapes with gold lines, and the
metrics of automatic labels against the gold.

Small inline data only; never the WCXB folder or the real gold set.
"""
import gzip
import io
import json

import pytest

from noiseclf.labels import load_labels, write_labels_file
from training import gold_eval as ge
from training.gold import labels_path

GOLD_LINES = [
    "Home",                                            # nav
    "World News",                                      # nav
    "",
    "Bridge reopens after repairs",                    # article
    "The old river bridge reopened on Monday after eight months of repairs.",  # article
    "Privacy NoticeTerms",                             # nav (html-text glued nothing here)
    "Related stories",                                 # related-story
    "Council approves budget for new library branch",  # related-story
    "© 2025 Example News",                             # footer
]
GOLD_LABELS = ["nav", "nav", None, "article", "article", "nav", "related-story", "related-story", "footer"]


def labels_of(tool_lines):
    res = ge.align_lines(tool_lines, GOLD_LINES, GOLD_LABELS)
    return {tool_lines[i]: res[i][0] for i in res}, res


def test_line_tokens_drop_markdown_targets_and_split_camel_case():
    assert ge.line_tokens("[Home](https://x.com/?u=a b&t=Bridge reopens)") == ["home"]
    assert ge.line_tokens("![logo](/img/logo.png) [World News](/world)") == ["world", "news"]
    assert ge.line_tokens("Privacy NoticeTerms Of Use") == ["privacy", "notice", "terms", "of", "use"]
    assert ge.line_tokens("* * *") == []


def test_split_lines_take_the_label_of_their_tokens():
    lab, res = labels_of([
        "Home", "World", "News",
        "The old river bridge reopened", "on Monday after eight months of repairs.",
    ])
    assert lab == {"Home": "nav", "World": "nav", "News": "nav",
                   "The old river bridge reopened": "article",
                   "on Monday after eight months of repairs.": "article"}
    assert res[0][1] == "same" and res[3][1] == "match"


def test_merged_lines_take_the_majority_label():
    merged = "Bridge reopens after repairs The old river bridge reopened on Monday after eight months of repairs. Privacy"
    lab, res = labels_of(["Home World News", merged, "NoticeTerms", "Related stories Council approves budget for new library branch"])
    assert lab["Home World News"] == "nav"
    assert lab[merged] == "article"  # 17 article tokens, 1 nav token
    assert res[1][2] == [3, 4, 5]  # aligned with three gold lines
    assert lab["NoticeTerms"] == "nav"
    assert lab["Related stories Council approves budget for new library branch"] == "related-story"


def test_markdown_and_bullets_still_align():
    lab, _ = labels_of([
        "* [Home](/)", "* [World News](/world)",
        "# Bridge reopens after repairs",
        "The old river bridge reopened on Monday after eight months of repairs.",
        "### Related stories", "  * [Council approves budget for new library branch](/a)",
        "© 2025 Example News",
    ])
    assert list(lab.values()) == ["nav", "nav", "article", "article", "related-story", "related-story", "footer"]


def test_unaligned_lines_take_neighbours_then_the_boundary_rule():
    lines = [
        "Home",
        "* * *",                                  # between nav and nav: nav
        "World News",
        "![A photo of the bridge](/b.jpg)",       # image at a boundary nav | article: below
        "Bridge reopens after repairs",
        "The old river bridge reopened on Monday after eight months of repairs.",
        "---",                                    # other line at a boundary article | related: above
        "Related stories",
        "Council approves budget for new library branch",
        "© 2025 Example News",
        "|",                                      # only one side: that side
    ]
    lab, res = labels_of(lines)
    hows = {lines[i]: res[i][1] for i in res}
    assert lab["* * *"] == "nav" and hows["* * *"] == "neighbours"
    assert lab["![A photo of the bridge](/b.jpg)"] == "article" and hows["![A photo of the bridge](/b.jpg)"] == "boundary"
    assert lab["---"] == "article" and hows["---"] == "boundary"
    assert lab["|"] == "footer"


def test_moved_text_is_found_near_where_it_is_expected():
    # inscriptis lays table cells side by side: the gold's order differs
    gold = ["Posts: 12", "Joined: Mar 2016", "I never had a similar issue with the old card.", "Forum Rules apply here"]
    glab = ["article", "article", "article", "nav"]
    tool = ["Posts: 12      I never had a similar issue with the old card.", "  Joined: Mar 2016 |", "Forum Rules apply here"]
    res = ge.align_lines(tool, gold, glab)
    assert [res[i][0] for i in range(3)] == ["article", "article", "nav"]
    assert res[1][2] == [1] and res[1][1] == "moved"  # found out of order (the monotone alignment skipped it)


def _write_gold(root, pages):
    """pages: {file_id: (lines, labels, page_type, split)}"""
    (root / "scrapes").mkdir(parents=True)
    with open(root / "manifest.jsonl", "w", encoding="utf-8") as fh:
        for fid, (lines, labels, ptype, split) in sorted(pages.items()):
            row = {"file_id": fid, "domain": f"site{fid}.com", "page_type": ptype, "split": split}
            fh.write(json.dumps(row) + "\n")
            (root / "scrapes" / f"{fid}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
            labels_path(root, row).parent.mkdir(exist_ok=True)
            write_labels_file(labels_path(root, row),
                              [(i + 1, line, lab) for i, (line, lab) in enumerate(zip(lines, labels)) if lab])


def test_align_all_writes_loadable_labels(tmp_path):
    gold = tmp_path / "gold"
    html = ("<html><head><title>Bridge</title></head><body><nav><a href='/'>Home</a> "
            "<a href='/w'>World News</a></nav><article><h1>Bridge reopens after repairs</h1>"
            "<p>The old river bridge reopened on Monday after eight months of repairs.</p></article>"
            "<footer>© 2025 Example News</footer></body></html>")
    from training import corpus
    text = corpus.clean_scrape(corpus.TOOLS["html-text"](html))
    lines = text.split("\n")
    labels = [None if not line.strip() else "nav" if "Home" in line else "footer" if "©" in line else "article"
              for line in lines]
    _write_gold(gold, {"0001": (lines, labels, "article", "train")})
    wcxb = tmp_path / "wcxb"
    (wcxb / "html").mkdir(parents=True)
    with gzip.open(wcxb / "html" / "0001.html.gz", "wt", encoding="utf-8") as fh:
        fh.write(html)
    ge.align_all(wcxb, gold, out=io.StringIO())
    first = {}
    for tool in ge.OTHER_TOOLS:
        scrapes = load_labels([gold / "tools" / tool])  # raises if a file does not match its scrape
        assert [s.name for s in scrapes] == ["0001"]
        for p in (gold / "tools" / tool).iterdir():
            first[p] = p.read_bytes()
        got = {line.strip(): lab for line, lab in zip(scrapes[0].lines, scrapes[0].labels) if lab}
        assert any(v == "footer" for k, v in got.items() if "2025" in k)
    ge.align_all(wcxb, gold, out=io.StringIO())
    assert first == {p: p.read_bytes() for p in first}  # deterministic


def test_metrics_confusion_and_evaluate(tmp_path):
    gold = tmp_path / "gold"
    lines = ["Home", "Body text of the story here", "More stories", "© 2025"]
    _write_gold(gold, {"0001": (lines, ["nav", "article", "related-story", "footer"], "article", "train"),
                       "0002": (lines, ["nav", "article", "related-story", "footer"], "listing", "test")})
    for tool in ge.OTHER_TOOLS:
        d = gold / "tools" / tool
        d.mkdir(parents=True)
        for fid in ("0001", "0002"):
            (d / f"{fid}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
            write_labels_file(d / f"{fid}.jsonl", [(1, "Home", "nav"), (2, lines[1], "article"),
                                                   (3, lines[2], "related-story"), (4, lines[3], "footer")])
    auto = tmp_path / "auto"
    for tool in ge.ALL_TOOLS:
        d = auto / tool
        d.mkdir(parents=True)
        for fid in ("0001", "0002"):
            (d / f"{fid}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
            write_labels_file(d / f"{fid}.jsonl", [(1, "Home", "nav"), (2, lines[1], "article"),
                                                   (3, lines[2], "footer"), (4, lines[3], "footer")])
    rows = ge.compare(auto, gold)
    assert len(rows) == 8
    res = ge.summarise(rows)
    ht = res["by_tool"]["html-text"]
    assert ht["nav"]["precision"] == 1.0 and ht["related-story"]["recall"] == 0.0
    assert ht["footer"]["precision"] == 0.5 and ht["footer"]["recall"] == 1.0
    assert ht["related-story"]["precision"] is None  # never predicted
    assert res["by_tool"]["all"]["lines"] == 32
    assert res["confusion"]["html-text"]["related-story"]["footer"] == 2
    assert set(res["by_split"]["all"]) == {"train", "test"}
    assert set(res["by_page_type"]["html-text"]) == {"article", "listing"}
    out = tmp_path / "eval.json"
    assert ge.main(["--gold", str(gold), "evaluate", "--corpus", f"x={auto}", "--json", str(out)]) == 0
    saved = json.loads(out.read_text("utf-8"))
    assert saved["x"]["by_tool"]["html-text"]["accuracy"] == 0.75
    # a corpus whose scrape differs from the gold's is refused
    (auto / "bs4" / "0001.txt").write_text("other\ntext\n", encoding="utf-8")
    write_labels_file(auto / "bs4" / "0001.jsonl", [(1, "other", "nav"), (2, "text", "nav")])
    with pytest.raises(SystemExit):
        ge.compare(auto, gold)


def test_check_pages_are_deterministic(tmp_path):
    gold = tmp_path / "gold"
    pages = {f"{n:04d}": (["a line", "another"], ["nav", "article"], "article", "train") for n in range(6)}
    _write_gold(gold, pages)
    for tool in ge.OTHER_TOOLS:
        d = gold / "tools" / tool
        d.mkdir(parents=True)
        for fid in pages:
            (d / f"{fid}.txt").write_text("a line\nanother\n", encoding="utf-8")
            write_labels_file(d / f"{fid}.jsonl", [(1, "a line", "nav"), (2, "another", "article")])
    a = ge.check_pages(gold, "bs4", 3)
    assert a == ge.check_pages(gold, "bs4", 3) and len(a) == 3
    assert len(set(a)) == 3
