"""Inconsistent labels are reported as file:line and training never starts on them."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from noiseclf import LabelsError, load_labels
from trust_support import LABELS_DIR, SEEDS, assert_one_line_error, run_cli

NAMES = ["000_4242c970553a3e99", "004_e6477bceacb7f61a"]
TARGET = NAMES[0]


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "labels").mkdir()
    (tmp_path / "seeds").mkdir()
    for name in NAMES:
        shutil.copy(LABELS_DIR / f"{name}.jsonl", tmp_path / "labels")
        shutil.copy(SEEDS / f"{name}.txt", tmp_path / "seeds")
    return tmp_path


def _records(ws):
    return [json.loads(x) for x in (ws / "labels" / f"{TARGET}.jsonl").read_text().splitlines()]


def _write(ws, content):
    path = ws / "labels" / f"{TARGET}.jsonl"
    if isinstance(content, list):
        content = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in content)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def _dump(records):
    return "".join(json.dumps(r) + "\n" for r in records)


def _break(kind, records):
    """(file content, the labels-file line the error must name, a word the message must hold)."""
    r = [dict(x) for x in records]
    if kind == "unknown_label":
        r[5]["label"] = "advert"
        return r, 6, "unknown label"
    if kind == "label_not_string":
        r[5]["label"] = 3
        return r, 6, "unknown label"
    if kind == "text_changed":
        r[4]["text"] = r[4]["text"].replace("NASA", "ESA", 1)
        return r, 5, "does not match"
    if kind == "scrape_line_gone":
        r[7]["line"] = 400
        return r, 8, "outside"
    if kind == "duplicate_line":
        r.insert(9, dict(r[3]))
        return r, 10, "labelled twice"
    if kind == "broken_json":
        return _dump(r[:6]) + '{"line": 7, "text": "unterminated\n' + _dump(r[6:]), 7, "broken JSON"
    if kind == "not_an_object":
        return _dump(r[:2]) + "[1, 2, 3]\n" + _dump(r[2:]), 3, "expected an object"
    if kind == "missing_key":
        del r[3]["label"]
        return r, 4, "missing label"
    if kind == "line_as_string":  # Arrow would quietly turn "6" into 6
        r[5]["line"] = str(r[5]["line"])
        return r, 6, "whole number"
    if kind == "line_as_float":  # ... and every line of the file into a float
        r[8]["line"] = float(r[8]["line"])
        return r, 9, "whole number"
    if kind == "text_not_string":
        r[2]["text"] = 12
        return r, 3, "must be a string"
    if kind == "duplicate_key":
        return _dump(r[:4]) + '{"line": 5, "line": 6, "text": "x", "label": "ad"}\n' + _dump(r[5:]), 5, "twice"
    if kind == "deep_nesting":
        return _dump(r[:1]) + "[" * 50000 + "\n" + _dump(r[1:]), 2, "broken JSON"
    if kind == "invalid_utf8":
        return _dump(r[:3]).encode() + b'{"line": 4, "text": "\xff", "label": "ad"}\n' + _dump(r[4:]).encode(), 4, "UTF-8"
    if kind == "blank_line_labelled":
        r.append({"line": 999, "text": "", "label": "ad"})
        return r, len(r), "outside"
    raise AssertionError(kind)


KINDS = ["unknown_label", "label_not_string", "text_changed", "scrape_line_gone", "duplicate_line",
         "broken_json", "not_an_object", "missing_key", "line_as_string", "line_as_float",
         "text_not_string", "duplicate_key", "deep_nesting", "invalid_utf8", "blank_line_labelled"]


@pytest.mark.parametrize("kind", KINDS)
def test_loader_names_file_and_line(workspace, kind):
    content, line, word = _break(kind, _records(workspace))
    path = _write(workspace, content)
    with pytest.raises(LabelsError) as info:
        load_labels([workspace / "labels"])
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert word in message
    assert "\n" not in message


def test_missing_record_names_the_scrape_line(workspace):
    records = _records(workspace)
    missing = records.pop(6)
    _write(workspace, records)
    with pytest.raises(LabelsError) as info:
        load_labels([workspace / "labels"])
    scrape = workspace / "seeds" / f"{TARGET}.txt"
    assert f"{scrape}:{missing['line']}" in str(info.value)
    assert "has no label" in str(info.value)


def test_consistent_variants_still_load(workspace):
    """A BOM, CRLF line ends and blank lines in a labels file are not errors."""
    good = load_labels([workspace / "labels"])
    text = _dump(_records(workspace))
    for variant in ("\ufeff" + text, text.replace("\n", "\r\n"), "\n\n" + text.replace("\n", "\n\n")):
        _write(workspace, variant)
        again = load_labels([workspace / "labels"])
        assert [s.labels for s in again] == [s.labels for s in good]


@pytest.mark.parametrize("kind", ["unknown_label", "text_changed", "duplicate_line", "broken_json", "missing"])
def test_train_refuses_inconsistent_labels(workspace, kind):
    records = _records(workspace)
    if kind == "missing":
        del records[6]
        content, line = records, None
    else:
        content, line, _ = _break(kind, records)
    path = _write(workspace, content)
    out = workspace / "model.noiseclf"
    previous = workspace / "previous.noiseclf"
    previous.write_bytes(b"an earlier model, to be left alone")
    for target in (out, previous):
        before = sorted(p.name for p in workspace.iterdir())
        proc = run_cli("train", "--labels", workspace / "labels", "--out", target, "--no-cv",
                       process=kind == "broken_json" and target == out)
        message = assert_one_line_error(proc, 1)
        if line is not None:
            assert message.startswith(f"noiseclf: {path}:{line}: "), message
        else:
            assert re.search(rf"{re.escape(str(workspace / 'seeds' / TARGET))}\.txt:\d+", message), message
        assert "training on" not in proc.stderr.decode()  # it never started
        assert sorted(p.name for p in workspace.iterdir()) == before  # nothing written
    assert not out.exists()
    assert previous.read_bytes() == b"an earlier model, to be left alone"
