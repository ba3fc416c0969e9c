import json
import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from noiseclf.cli import app
from noiseclf.modelfile import read_meta
from noiseclf.text import split_lines

from conftest import LABELS_DIR, SEED_003, SEEDS

runner = CliRunner()


def invoke(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def test_clean_a_file_prints_the_article_lines(seed_scrapes):
    result = invoke("clean", SEED_003)
    assert result.exit_code == 0, result.stderr
    scrape = next(s for s in seed_scrapes if s.name == SEED_003.stem)
    article = [t for _, t, lab in scrape.labelled_lines() if lab == "article"]
    assert [l for l in split_lines(result.stdout) if l.strip()] == article


def test_clean_stdin_to_stdout():
    result = invoke("clean", input=SEED_003.read_text(encoding="utf-8"))
    assert result.exit_code == 0
    assert "Still, the ongoing ISS partnership" in result.stdout
    assert "Latest Posts" not in result.stdout


def test_clean_many_files_into_a_folder(tmp_path):
    out = tmp_path / "cleaned"
    result = invoke("clean", *sorted(SEEDS.glob("*.txt")), "--output-dir", out)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in SEEDS.glob("*.txt"))
    single = invoke("clean", SEED_003).stdout
    assert (out / SEED_003.name).read_text(encoding="utf-8") == single


def test_clean_jsonl_gives_every_line_with_label_and_probability():
    result = invoke("clean", SEED_003, "--format", "jsonl")
    assert result.exit_code == 0
    rows = [json.loads(l) for l in result.stdout.splitlines()]
    lines = split_lines(SEED_003.read_text(encoding="utf-8"))
    assert [r["line"] for r in rows] == list(range(1, len(lines) + 1))
    assert all((r["label"] is None) == (not r["text"].strip()) for r in rows)
    assert all(r["keep"] == (r["label"] == "article") for r in rows)


def test_clean_keep_adds_labels():
    plain = invoke("clean", SEED_003).stdout
    more = invoke("clean", SEED_003, "--keep", "article", "--keep", "nav").stdout
    assert set(split_lines(plain)) < set(split_lines(more))


def test_train_prints_cross_validation_and_writes_a_model(tmp_path):
    out = tmp_path / "m.noiseclf"
    result = invoke("train", "--labels", LABELS_DIR, "--out", out, "--from-scratch")
    assert result.exit_code == 0, result.stderr
    assert "Cross-validation, leaving one scrape out" in result.stdout
    assert "confusion matrix" in result.stdout and "macro-F1" in result.stdout
    meta = read_meta(out)
    assert meta["metrics"]["cross_validation"]["lines"] == 239
    assert len(meta["metrics"]["folds"]) == 5


def test_evaluate_reports_metrics_as_table_and_json(seed_model_path):
    table = invoke("evaluate", "--labels", LABELS_DIR, "--model", seed_model_path)
    assert table.exit_code == 0 and "precision" in table.stdout
    data = json.loads(invoke("evaluate", "--labels", LABELS_DIR, "--model", seed_model_path, "--json").stdout)
    assert data["lines"] == 239 and set(data["per_class"]) == {"article", "nav", "related-story", "ad", "footer"}


def test_inspect_shows_each_line_with_its_label():
    result = invoke("inspect", SEED_003, "--no-color")
    assert result.exit_code == 0
    first = result.stdout.splitlines()[0]
    assert first.split()[0] == "1" and first.split()[1] in {"nav", "article", "related-story", "ad", "footer"}
    assert "\x1b[" not in result.stdout


@pytest.mark.parametrize("command", ["clean", "train", "evaluate", "inspect"])
def test_every_command_has_help(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "Usage" in result.stdout


# -- bad input -----------------------------------------------------------

def test_missing_path_is_one_line_naming_it(tmp_path):
    result = invoke("clean", tmp_path / "nope.txt")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"noiseclf: {tmp_path / 'nope.txt'}: no such file; check the path"


def test_directory_is_refused_with_a_hint(tmp_path):
    result = invoke("clean", tmp_path)
    assert result.exit_code == 1 and "is a directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_binary_file_is_refused(tmp_path):
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    result = invoke("clean", binary)
    assert result.exit_code == 1 and "PNG" in result.stderr


def test_undecodable_bytes_are_replaced_with_a_warning(tmp_path):
    page = tmp_path / "latin1.txt"
    page.write_bytes(SEED_003.read_bytes().replace("’".encode(), b"\x92"))
    result = invoke("clean", page)
    assert result.exit_code == 0
    assert "warning" in result.stderr and "invalid UTF-8" in result.stderr and str(page) in result.stderr


def test_empty_input_gives_empty_output_and_success(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = invoke("clean", empty)
    assert result.exit_code == 0 and result.stdout == ""
    assert invoke("clean", input="").stdout == ""


def test_missing_model_exit_3(tmp_path):
    result = invoke("clean", SEED_003, "--model", tmp_path / "none.noiseclf")
    assert result.exit_code == 3 and "no such model file" in result.stderr


def test_corrupt_model_exit_3_and_no_output_file(tmp_path):
    corrupt = tmp_path / "corrupt.noiseclf"
    corrupt.write_bytes(b"PK\x03\x04 truncated zip")
    out = tmp_path / "out"
    result = invoke("clean", SEED_003, "--model", corrupt, "--output-dir", out)
    assert result.exit_code == 3 and result.stderr.count("\n") == 1
    assert not (out / SEED_003.name).exists()


def test_one_bad_file_among_many_does_not_stop_the_others(tmp_path):
    out = tmp_path / "out"
    result = invoke("clean", SEED_003, tmp_path / "nope.txt", "--output-dir", out)
    assert result.exit_code == 1
    assert (out / SEED_003.name).exists() and "nope.txt" in result.stderr


def test_train_on_bad_labels_writes_no_model(labelled_copy, tmp_path):
    folder, name = labelled_copy
    path = folder / f"{name}.jsonl"
    path.write_text(path.read_text(encoding="utf-8").replace('"nav"', '"navigation"', 1), encoding="utf-8")
    out = tmp_path / "m.noiseclf"
    result = invoke("train", "--labels", folder, "--out", out)
    assert result.exit_code == 1 and "unknown label 'navigation'" in result.stderr
    assert not out.exists()


def test_unknown_keep_label_is_a_usage_error():
    result = invoke("clean", SEED_003, "--keep", "menu")
    assert result.exit_code == 2


# -- the installed entry point ----------------------------------------------

def test_installed_entry_point_cleans_a_seed(tmp_path):
    exe = shutil.which("noiseclf", path=os.path.dirname(sys.executable)) or shutil.which("noiseclf")
    assert exe, "the noiseclf command is not installed in this environment"
    done = subprocess.run([exe, "clean", str(SEED_003)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == invoke("clean", SEED_003).stdout
    bad = subprocess.run([exe, "clean", str(tmp_path / "missing.txt")], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and bad.stderr.startswith("noiseclf: ") and "Traceback" not in bad.stderr
