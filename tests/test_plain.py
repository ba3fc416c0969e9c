"""`clean --plain`: Markdown scrapes come out as plain text; which lines are kept does not change."""
import json
import re

import pytest
from typer.testing import CliRunner

from noiseclf.cli import app
from noiseclf.corpus import clean_corpus
from noiseclf.plain import looks_like_markdown, plain_line
from noiseclf.text import split_lines

from conftest import SEED_003

runner = CliRunner()


@pytest.mark.parametrize("line, plain", [
    ("  * [Health](https://www.example.com/health/)", "Health"),
    ("[![logo](/static/logo.svg)](https://example.com/)", "logo"),  # nested: the image's alt text
    ("## The _big_ **one**", "The big one"),
    ("  1. [Diets](/weight-loss/diets/)", "Diets"),
    ("      * nested [item](/x) of a list", "nested item of a list"),  # html2text indents nested items
    ("Price 5 * 3 = 15, see snake_case_name and a\\_b", "Price 5 * 3 = 15, see snake_case_name and a_b"),
    ("> quoted [text](http://a.example/b \"title\") here", "quoted text here"),
    ("Use `pip install x` now", "Use pip install x now"),
    ("<div class=\"ad\">", ""),  # an HTML block has no plain text
    ("    <h1>Welcome</h1>", "<h1>Welcome</h1>"),  # indented: code showing HTML, kept
    ("Use <b>x</b> here", "Use <b>x</b> here"),  # tags inside a line stay
    ("***", ""),  # a rule
    ("======", ""),  # a heading's underline
    ("| --- | :---: |", ""),  # a table's separator row
    ("|---|---|", ""),
    ("| Name | Price |", "| Name | Price |"),  # the cells stay
    ("Prices - - - rising", "Prices - - - rising"),
    ("Plain prose stays as it is.", "Plain prose stays as it is."),
])
def test_plain_line(line, plain):
    assert plain_line(line) == plain


def test_a_line_longer_than_the_parser_reads_is_made_plain_by_expressions():
    from noiseclf.plain import MAX_PARSED_CHARS

    line = "  * The **harbour** [reopened](https://news.example/a) on ![x](/x.png) Monday. " * 400
    assert len(line) > MAX_PARSED_CHARS
    out = plain_line(line)
    assert "](" not in out and "**" not in out and "https" not in out
    assert out.startswith("The harbour reopened on x Monday.")
    assert plain_line("![a](" * 100_000)  # linear: a target stops at the next bracket


@pytest.mark.parametrize("line, plain", [
    (" " * 100_000 + "x", "x"),  # the rule's pattern once took 84 s on this (white space matched two ways)
    ("-" * 100_000 + "x", "-" * 100_000 + "x"),
    ("* " * 10_000 + "x", "x"),
])
def test_hostile_lines_are_made_plain(line, plain):
    assert plain_line(line) == plain


def test_markdown_detection_on_hostile_lines():
    assert not looks_like_markdown("](/" * 300_000)  # no target ever closes: no link, and linear time
    assert looks_like_markdown("\n".join(["[a](/a " + '"t' * 1000] + ["[b](/b)"] * 3))


def markdown_of(text: str) -> str:
    """Seed 003 as a Markdown scrape: every line's first word a link, bullets on short lines."""
    out = []
    for line in split_lines(text):
        words = line.split()
        if not words:
            out.append(line)
            continue
        first = f"[{words[0]}](https://news.example/{len(out)}/{words[0].lower()})"
        out.append(("  * " if len(words) < 5 else "") + " ".join([first, *words[1:]]))
    return "\n".join(out) + "\n"


@pytest.fixture
def markdown_seed(tmp_path):
    path = tmp_path / "page.md"
    path.write_text(markdown_of(SEED_003.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def test_clean_plain_keeps_the_same_lines_as_plain_text(markdown_seed):
    as_written = runner.invoke(app, ["clean", str(markdown_seed)])
    plain = runner.invoke(app, ["clean", str(markdown_seed), "--plain"])
    assert as_written.exit_code == 0 and plain.exit_code == 0, plain.stderr
    kept = [l for l in split_lines(as_written.stdout) if l.strip()]
    assert len(kept) > 5 and any("](https://news.example/" in l for l in kept)
    # the same lines, each as its plain text, paragraphs as they were
    assert [l for l in split_lines(plain.stdout) if l.strip()] == [plain_line(l) for l in kept]
    assert split_lines(plain.stdout).count("") == split_lines(as_written.stdout).count("")
    assert "](" not in plain.stdout and "https://" not in plain.stdout
    assert "Still, the ongoing ISS partnership" in plain.stdout


def test_plain_with_jsonl_output_is_refused(markdown_seed):
    result = runner.invoke(app, ["clean", str(markdown_seed), "--plain", "--format", "jsonl"])
    assert result.exit_code == 2
    assert "--plain goes with text output" in result.output


def test_corpus_and_api_take_plain(tmp_path, markdown_seed, shipped_model):
    text = markdown_seed.read_text(encoding="utf-8")
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": text, "url": "https://news.example/a"}) + "\n", encoding="utf-8")
    clean_corpus(src, tmp_path / "plain.jsonl", shipped_model, plain=True)
    clean_corpus(src, tmp_path / "as-written.jsonl", shipped_model)
    plain = json.loads((tmp_path / "plain.jsonl").read_text(encoding="utf-8"))
    written = json.loads((tmp_path / "as-written.jsonl").read_text(encoding="utf-8"))
    assert plain["noiseclf_kept_lines"] == written["noiseclf_kept_lines"] > 0
    assert not re.search(r"\]\(https?://", plain["text"]) and re.search(r"\]\(https?://", written["text"])
    assert plain["text"] == shipped_model.clean(text, plain=True)
    cli = runner.invoke(app, ["clean", "--corpus", str(src), "--output", str(tmp_path / "cli.jsonl"), "--plain"])
    assert cli.exit_code == 0, cli.output
    assert json.loads((tmp_path / "cli.jsonl").read_text(encoding="utf-8"))["text"] == plain["text"]
    assert "Markdown" not in cli.stderr
    hinted = runner.invoke(app, ["clean", "--corpus", str(src), "--output", str(tmp_path / "cli2.jsonl")])
    assert hinted.exit_code == 0 and "field 'text' holds Markdown" in hinted.stderr and "--plain" in hinted.stderr


def test_clean_points_out_markdown_and_plain_text_is_not_flagged(markdown_seed):
    result = runner.invoke(app, ["clean", str(markdown_seed)])
    assert result.exit_code == 0
    assert f"{markdown_seed}: Markdown" in result.stderr and "add --plain" in result.stderr
    assert "Markdown" not in runner.invoke(app, ["clean", str(markdown_seed), "--plain"]).stderr
    assert "Markdown" not in runner.invoke(app, ["clean", str(SEED_003)]).stderr


def test_looks_like_markdown():
    assert looks_like_markdown(markdown_of(SEED_003.read_text(encoding="utf-8")))
    assert not looks_like_markdown(SEED_003.read_text(encoding="utf-8"))
    # two links are not enough, nor links on too few of many lines
    assert not looks_like_markdown("[a](https://x.example/a)\n[b](/b)\nplain\n")
    assert not looks_like_markdown("\n".join(["[a](/a)"] * 3 + ["prose line"] * 100))
    assert looks_like_markdown("\n".join(["[a](/a)"] * 5 + ["prose line"] * 50))


def test_html_input_is_left_as_converted(tmp_path):
    from test_html_input import PAGE

    steps = ("<ol><li>Engineers first drained the flooded quay and pumped the fish market dry again.</li>"
             "<li>Then they rebuilt forty metres of the sea wall with new granite blocks from the island.</li></ol>")
    page = tmp_path / "page.html"
    page.write_text(PAGE.replace("</article>", steps + "</article>"), encoding="utf-8")
    as_converted = runner.invoke(app, ["clean", str(page)])
    plain = runner.invoke(app, ["clean", str(page), "--plain"])
    assert "1. Engineers first drained" in as_converted.stdout  # the list's numbers are the page's text
    assert plain.stdout == as_converted.stdout
