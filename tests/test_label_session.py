"""The labeller's layers: the session (no terminal code), labels.py as the one reader and
writer of labels and progress files, the model's verdicts as the one decision path."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import noiseclf.label_session as label_session
import noiseclf.label_ui as label_ui
from noiseclf.errors import LabelsError
from noiseclf.label_session import LabelSession, label_command, suggest_records, train_command
from noiseclf.labels import (
    LABEL_COLOURS, LABELS, Progress, progress_path, read_labels_file, read_progress, unconfirmed_counts,
    write_labels_file, write_progress,
)
from noiseclf.model import Verdict
from noiseclf.text import is_blank, split_lines

ROOT = Path(__file__).resolve().parent.parent
PAGE = "Home | News\n\nThe story, in a sentence.\nShare\nShare\n\nCopyright 2025\n"


class VerdictsOnly:
    """A model that can only give verdicts: the labeller must need nothing else."""

    def __init__(self):
        self.calls = 0

    def classify(self, lines):
        self.calls += 1
        out = []
        for i, line in enumerate(lines):
            if is_blank(line):
                out.append(Verdict(i + 1, line, None, None))
            else:
                label = LABELS[i % len(LABELS)]
                out.append(Verdict(i + 1, line, label, 0.5 + i / 100))
        return out


@pytest.fixture
def scrape(tmp_path):
    p = tmp_path / "in" / "page.txt"
    p.parent.mkdir()
    p.write_text(PAGE, encoding="utf-8")
    return p


def test_the_session_module_has_no_terminal_code():
    code = ("import sys, noiseclf.label_session, noiseclf.labels, noiseclf.label_ui; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_suggestions_are_the_models_verdicts_and_nothing_else(scrape, tmp_path):
    model = VerdictsOnly()
    s = LabelSession(scrape, model, tmp_path / "labels")
    verdicts = [v for v in model.classify(split_lines(PAGE)) if v.label is not None]
    assert s.content == [v.line for v in verdicts]
    assert s.suggested == {v.line: v.label for v in verdicts}
    assert s.confidence == {v.line: v.probability for v in verdicts}
    recs = [json.loads(r) for r in suggest_records(model, scrape).splitlines()]
    assert [(r["line"], r["label"]) for r in recs] == [(v.line, v.label) for v in verdicts]


def test_the_labeller_decides_nothing_itself():
    for module in (label_session, label_ui):
        source = Path(module.__file__).read_text(encoding="utf-8")
        assert not re.search(r"argmax|softmax|predict_pages|predict_proba", source), module.__name__


def test_labels_and_colours_are_defined_once():
    assert LABEL_COLOURS == {"article": "green", "nav": "blue", "related-story": "magenta", "ad": "red",
                             "footer": "yellow"}
    assert tuple(LABEL_COLOURS) == LABELS and len(set(LABEL_COLOURS.values())) == len(LABELS)
    assert label_ui.LABEL_COLOURS is LABEL_COLOURS
    for path in sorted((ROOT / "noiseclf").rglob("*.py")):
        if path.name == "labels.py":
            continue
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*LABELS\s*[:=]", source, re.M), f"{path} defines LABELS itself"
        if path.parent.name != "cli":  # cli/inspect.py: see the labeller's report
            assert not re.search(r"\bCOLOURS\s*=", source), f"{path} defines label colours itself"


def test_progress_round_trips_and_counts_what_is_left(tmp_path):
    labels = tmp_path / "page.jsonl"
    assert progress_path(labels) == tmp_path / "page.progress.json"
    assert read_progress(labels) is None
    write_progress(labels, Progress("page.txt", "sha256:ab", "m.noiseclf", 4, [3, 1]))
    got = read_progress(labels)
    assert got == Progress("page.txt", "sha256:ab", "m.noiseclf", 4, [1, 3]) and got.remaining == 2
    assert json.loads(progress_path(labels).read_text())["confirmed_count"] == 2
    assert unconfirmed_counts([labels]) == {str(labels): 2}
    write_progress(labels, Progress("page.txt", None, None, 2, [1, 3]))
    assert unconfirmed_counts([labels]) == {}
    progress_path(labels).write_text("{not json")
    assert read_progress(labels) is None  # a labels file without a (readable) progress file


def test_a_half_written_labels_file_resumes_and_a_bad_record_names_its_line(scrape, tmp_path):
    labs = tmp_path / "labels"
    labs.mkdir()
    write_labels_file(labs / "page.jsonl", [(4, "Share", "related-story")])  # by hand, one record
    s = LabelSession(scrape, VerdictsOnly(), labs)
    assert s.resumed and s.confirmed == {4} and s.labels[4] == "related-story"
    lines = split_lines(PAGE)
    assert read_labels_file(labs / "page.jsonl", lines, scrape)[3] == "related-story"  # all records now
    (labs / "page.progress.json").unlink()
    (labs / "page.jsonl").write_text('{"line": 4, "text": "Share", "label": "menu"}\n')
    with pytest.raises(LabelsError, match=r"page\.jsonl:1: unknown label"):
        LabelSession(scrape, VerdictsOnly(), labs)


def test_commands_printed_for_the_person_are_quoted():
    cmd = label_command(["my page.txt"], "my labels", "m o.noiseclf")
    assert shlex.split(cmd) == ["noiseclf", "label", "my page.txt", "--labels-dir", "my labels",
                                "--model", "m o.noiseclf"]
    assert shlex.split(train_command("a b")) == ["noiseclf", "train", "--labels", "a b", "--out", "my.noiseclf"]
