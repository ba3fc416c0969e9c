"""The documented exit codes, each checked through the command line."""

from __future__ import annotations

import pytest

from trust_support import LABELS_DIR, SEED, assert_one_line_error, run_cli


def test_exit_0_success(tmp_path):
    proc = run_cli("clean", SEED, process=True)
    assert proc.returncode == 0 and proc.stdout and proc.stderr == b""
    proc = run_cli("clean", input=SEED.read_bytes())
    assert proc.returncode == 0 and proc.stdout
    proc = run_cli("clean", SEED, "-o", tmp_path / "out")
    assert proc.returncode == 0 and (tmp_path / "out" / SEED.name).read_bytes()


def _png(tmp_path):
    p = tmp_path / "image.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    return p


def _file(tmp_path):
    p = tmp_path / "a-file"
    p.write_text("x")
    return p


@pytest.mark.parametrize(
    "case",
    ["missing_scrape", "binary_scrape", "directory_as_scrape", "output_dir_is_a_file", "bad_labels",
     "missing_labels", "some_files_bad", "train_out_in_missing_folder", "train_out_is_a_folder"],
)
def test_exit_1_bad_input(tmp_path, case):
    args = {
        "missing_scrape": lambda: ("clean", tmp_path / "nope.txt"),
        "binary_scrape": lambda: ("clean", _png(tmp_path)),
        "directory_as_scrape": lambda: ("clean", tmp_path),
        "output_dir_is_a_file": lambda: ("clean", SEED, "-o", _file(tmp_path)),
        "bad_labels": lambda: ("evaluate", "--labels", _file(tmp_path)),
        "missing_labels": lambda: ("train", "--labels", tmp_path / "none", "--out", tmp_path / "m.noiseclf"),
        "some_files_bad": lambda: ("clean", SEED, tmp_path / "nope.txt"),
        "train_out_in_missing_folder": lambda: ("train", "--labels", LABELS_DIR, "--out", tmp_path / "no" / "m.noiseclf"),
        "train_out_is_a_folder": lambda: ("train", "--labels", LABELS_DIR, "--out", tmp_path),
    }[case]()
    proc = run_cli(*args)
    if case == "some_files_bad":  # the good file is still cleaned; the run reports the failure
        assert proc.returncode == 1 and proc.stdout
        assert "Traceback" not in proc.stderr.decode()
    else:
        assert_one_line_error(proc, 1)


@pytest.mark.parametrize(
    "args",
    [("clean", "--no-such-option"), ("clean", SEED, "--keep", "adverts"), ("train",),
     ("clean", "-o", "somewhere"), ("frobnicate",), ("inspect", SEED, "--width", "wide")],
    ids=["unknown_option", "unknown_keep_label", "missing_required", "output_dir_without_files",
         "unknown_command", "bad_number"],
)
def test_exit_2_usage(args):
    proc = run_cli(*args, process=args == ("frobnicate",))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr.decode()


@pytest.mark.parametrize("case", ["missing", "text", "directory", "empty_zip"])
def test_exit_3_bad_model(tmp_path, case):
    import zipfile

    model = tmp_path / "model.noiseclf"
    if case == "text":
        model.write_text("not a model\n")
    elif case == "directory":
        model.mkdir()
    elif case == "empty_zip":
        zipfile.ZipFile(model, "w").close()
    line = assert_one_line_error(run_cli("clean", SEED, "--model", model, process=case == "text"), 3)
    assert str(model) in line


def test_exit_3_bad_model_for_evaluate(tmp_path):
    model = tmp_path / "m.noiseclf"
    model.write_bytes(b"\x80\x04garbage")
    assert_one_line_error(run_cli("evaluate", "--labels", LABELS_DIR, "--model", model), 3)


def test_unexpected_error_is_one_line_not_a_traceback(monkeypatch):
    """A bug still gives one line (and exit 1); NOISECLF_DEBUG=1 shows the traceback."""
    from typer.testing import CliRunner

    from noiseclf.cli import app, clean

    def broken(_):
        raise RuntimeError("something\nunexpected")

    monkeypatch.setattr(clean, "load", broken)
    monkeypatch.delenv("NOISECLF_DEBUG", raising=False)
    result = CliRunner().invoke(app, ["clean", str(SEED)])
    assert result.exit_code == 1
    out = result.output.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("noiseclf: internal error (RuntimeError")
    monkeypatch.setenv("NOISECLF_DEBUG", "1")
    result = CliRunner().invoke(app, ["clean", str(SEED)])
    assert isinstance(result.exception, RuntimeError)
