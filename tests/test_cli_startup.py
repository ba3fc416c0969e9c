"""Start-up: a command imports only what it uses (scikit-learn etc. only where needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("sklearn", "datasets", "textual", "scipy.optimize", "noiseclf.train", "noiseclf.adapt",
         "noiseclf.label_ui", "pandas", "pyarrow")


def _imported_after(code: str) -> set[str]:
    probe = (f"import sys\n{code}\n"
             f"import json; print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_loading_the_command_line_imports_nothing_heavy():
    assert _imported_after("import noiseclf.cli") == set()


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["check", "--help"], ["train", "--help"],
                                  ["evaluate", "--help"], ["label", "--help"], ["inspect", "--help"]])
def test_help_and_version_import_nothing_heavy(args):
    code = ("import sys\nfrom noiseclf.cli import app\n"
            f"try:\n    app({args!r})\nexcept SystemExit:\n    pass")
    assert _imported_after(code) == set()


def test_clean_inspect_and_check_import_nothing_heavy():
    seed = ROOT / "seeds" / "003_961445eb337fe995.txt"
    for cmd in (["clean", str(seed)], ["inspect", str(seed)], ["check", str(seed)]):
        code = ("from noiseclf.cli import app\n"
                f"try:\n    app({cmd!r})\nexcept SystemExit:\n    pass")
        assert _imported_after(code) == set(), cmd


def test_train_option_default_is_the_training_default():
    # noiseclf/cli/train.py takes the default of --C from noiseclf.settings, not from
    # noiseclf.train (which imports scikit-learn); it must stay the shipped settings' C.
    import typer.main

    from noiseclf.cli import app
    from noiseclf.settings import Settings

    train = typer.main.get_command(app).commands["train"]
    (c,) = [p for p in train.params if p.name == "c"]
    assert c.default == Settings().C


def test_teaching_a_site_imports_neither_sklearn_nor_datasets(tmp_path):
    # `noiseclf train` (site scope) is waited for: reading labels through datasets and
    # importing sklearn (for metrics, for its version) made a cold run 16 s.
    labels = tmp_path / "labels"
    labels.mkdir()
    seed = ROOT / "labels" / "003_961445eb337fe995.jsonl"
    (labels / seed.name).write_bytes(seed.read_bytes())
    (labels / "003_961445eb337fe995.txt").write_bytes((ROOT / "seeds" / "003_961445eb337fe995.txt").read_bytes())
    out = tmp_path / "site.noiseclf"
    cmd = ["train", "--labels", str(labels), "--out", str(out), "--site", "example.org", "--force"]
    code = ("from noiseclf.cli import app\n"
            f"try:\n    app({cmd!r})\nexcept SystemExit:\n    pass")
    imported = _imported_after(code)
    assert out.is_file()
    assert imported & {"sklearn", "datasets", "scipy.optimize", "pandas", "pyarrow"} == set()
