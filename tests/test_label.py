"""The labeller: suggestions, saving, undo, resume, and the real terminal UI driven by keys."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from noiseclf.cli import app
from noiseclf.label_session import LabelSession, suggest_records
from noiseclf.label_ui import LabelApp
from noiseclf.labels import load_labels
from noiseclf.modelfile import load_model
from noiseclf.text import is_blank

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_4242c970553a3e99.txt"


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture
def scrape(tmp_path):
    p = tmp_path / "in" / "page.txt"
    p.parent.mkdir()
    p.write_text("Home | News | Sport\n\nA headline about the moon\n\nThe first paragraph of the story, "
                 "with a full sentence.\nShare\nShare\nA second paragraph, also a sentence.\n\n"
                 "Copyright 2025 Example Ltd. All rights reserved.\n", encoding="utf-8")
    return p


def records(path: Path) -> list[dict]:
    return [json.loads(r) for r in path.read_text(encoding="utf-8").splitlines() if r.strip()]


def progress(session_dir: Path, name: str = "page") -> dict:
    return json.loads((session_dir / f"{name}.progress.json").read_text())


def test_suggest_prints_a_record_for_every_nonblank_line(model):
    out = suggest_records(model, SEED)
    recs = [json.loads(r) for r in out.splitlines()]
    lines = SEED.read_text(encoding="utf-8").split("\n")
    assert [r["line"] for r in recs] == [i + 1 for i, t in enumerate(lines) if not is_blank(t)]
    assert all(r["text"] == lines[r["line"] - 1] for r in recs)
    assert all(set(r) == {"line", "text", "label"} for r in recs)


def test_suggest_cli_output_loads_as_labels(tmp_path, scrape):
    res = CliRunner().invoke(app, ["label", str(scrape), "--suggest"])
    assert res.exit_code == 0, res.output
    (tmp_path / "labs").mkdir()
    (tmp_path / "labs" / "page.jsonl").write_text(res.stdout)
    got = load_labels([tmp_path / "labs"], [scrape.parent])
    assert len(got[0].labelled_lines()) == 7


def test_label_without_a_terminal_says_what_to_do(scrape):
    res = CliRunner().invoke(app, ["label", str(scrape)])
    assert res.exit_code == 1
    assert "--suggest" in res.output and "Traceback" not in res.output


def test_label_missing_file_is_one_line(tmp_path):
    res = CliRunner().invoke(app, ["label", str(tmp_path / "nope.txt"), "--suggest"])
    assert res.exit_code == 1 and "nope.txt" in res.output and "Traceback" not in res.output


def test_session_files_are_valid_labels_from_the_start(tmp_path, scrape, model):
    labs = tmp_path / "labels"
    s = LabelSession(scrape, model, labs)
    assert (labs / "page.txt").read_bytes() == scrape.read_bytes()  # copied: load_labels finds it
    got = load_labels([labs])
    assert len(got[0].labelled_lines()) == len(s.content) == 7
    assert progress(labs)["confirmed"] == [] and s.remaining == 7


def test_session_asks_least_sure_first(scrape, model, tmp_path):
    s = LabelSession(scrape, model, tmp_path / "labels")
    order = []
    while (n := s.next_unsure()) is not None:
        order.append(n)
        s.set_labels([n])
    assert [s.confidence[n] for n in order] == sorted(s.confidence[n] for n in order)
    assert s.remaining == 0 and progress(tmp_path / "labels")["complete"]


def test_session_same_text_undo_and_resume(scrape, model, tmp_path):
    labs = tmp_path / "labels"
    s = LabelSession(scrape, model, labs)
    share = s.same_text(6)
    assert share == [6, 7]
    s.set_labels(share, "nav")
    s.set_labels([3], "article")
    assert s.undo() == [3]
    assert 3 not in s.confirmed
    again = LabelSession(scrape, model, labs)
    assert again.resumed and again.confirmed == {6, 7}
    assert again.labels[6] == again.labels[7] == "nav"


def test_a_different_scrape_with_the_same_name_is_refused(scrape, model, tmp_path):
    labs = tmp_path / "labels"
    labs.mkdir()
    (labs / "page.txt").write_text("something else\n")
    with pytest.raises(Exception, match="same name"):
        LabelSession(scrape, model, labs)


def test_changed_scrape_is_refused_on_resume(scrape, model, tmp_path):
    labs = tmp_path / "labels"
    LabelSession(scrape, model, labs)
    (labs / "page.txt").unlink()
    scrape.write_text("Totally new text\n")
    with pytest.raises(Exception, match="changed"):
        LabelSession(scrape, model, labs)


def test_a_seed_is_not_copied_when_load_labels_finds_it(model, tmp_path):
    root = tmp_path / "proj"
    (root / "seeds").mkdir(parents=True)
    shutil.copy(SEED, root / "seeds" / SEED.name)
    LabelSession(root / "seeds" / SEED.name, model, root / "labels")
    assert not (root / "labels" / SEED.name).exists()
    assert load_labels([root / "labels"])[0].name == SEED.stem


# -- the terminal UI, driven by its keys ------------------------------------

def run(coro):
    return asyncio.run(coro)


def test_ui_label_keys_run_same_and_undo(scrape, model, tmp_path):
    labs = tmp_path / "labels"

    async def drive():
        s = LabelSession(scrape, model, labs)
        ui = LabelApp(s)
        async with ui.run_test(size=(120, 30)) as pilot:
            ui.action_toggle_order()  # top to bottom: predictable for the test
            table = ui.query_one("DataTable")
            table.move_cursor(row=0)
            await pilot.press("n")  # line 1 -> nav, cursor moves to line 3
            await pilot.pause()
            assert s.labels[1] == "nav" and 1 in s.confirmed
            assert s.content[table.cursor_row] == 3
            await pilot.press("v", "down", "a")  # a run: lines 3 and 5 -> article
            await pilot.pause()
            assert s.labels[3] == s.labels[5] == "article" and {3, 5} <= s.confirmed
            table.move_cursor(row=s.content.index(6))
            await pilot.press("R")  # both "Share" lines
            await pilot.pause()
            assert s.labels[6] == s.labels[7] == "related-story" and {6, 7} <= s.confirmed
            await pilot.press("u")
            await pilot.pause()
            assert 6 not in s.confirmed and 7 not in s.confirmed
            status = str(ui.query_one("#status").render())
            assert "3/7 lines confirmed" in status and "4 left" in status
            await pilot.press("q")
        return s

    run(drive())
    saved = {r["line"]: r["label"] for r in records(labs / "page.jsonl")}
    assert saved[1] == "nav" and saved[3] == "article" and saved[5] == "article"
    assert progress(labs)["confirmed"] == [1, 3, 5]
    assert load_labels([labs])[0].labels[0] == "nav"


def test_ui_starts_at_the_least_sure_line_and_accepts(scrape, model, tmp_path):
    labs = tmp_path / "labels"

    async def drive():
        s = LabelSession(scrape, model, labs)
        ui = LabelApp(s)
        async with ui.run_test(size=(120, 30)) as pilot:
            table = ui.query_one("DataTable")
            first = s.next_unsure()
            assert s.content[table.cursor_row] == first
            assert s.confidence[first] == min(s.confidence.values())
            await pilot.press("space")
            await pilot.pause()
            assert first in s.confirmed and s.labels[first] == s.suggested[first]
            assert s.content[table.cursor_row] == s.next_unsure()
            await pilot.press("ctrl+c")
        return s

    run(drive())
    assert len(progress(labs)["confirmed"]) == 1


def test_ui_resume_shows_earlier_work(scrape, model, tmp_path):
    labs = tmp_path / "labels"
    LabelSession(scrape, model, labs).set_labels([10], "footer")

    async def drive():
        s = LabelSession(scrape, model, labs)
        ui = LabelApp(s)
        async with ui.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            status = str(ui.query_one("#status").render())
            assert "resumed" in status and "1/7" in status
            assert s.labels[10] == "footer"
            await pilot.press("q")

    run(drive())


def test_train_warns_about_a_half_labelled_file(scrape, model, tmp_path):
    labs = tmp_path / "labels"
    s = LabelSession(scrape, model, labs)
    s.set_labels([1], "nav")
    res = CliRunner().invoke(app, ["train", "--labels", str(labs), "--out", str(tmp_path / "m.noiseclf")])
    assert res.exit_code == 0, res.output
    assert "6 line(s) nobody confirmed" in res.stderr
    for n in s.content:
        s.set_labels([n])
    res = CliRunner().invoke(app, ["train", "--labels", str(labs), "--out", str(tmp_path / "m.noiseclf")])
    assert "nobody confirmed" not in res.stderr
