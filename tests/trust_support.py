"""Helpers shared by the trust tests: running the CLI, small models, rewriting model files."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
LABELS_DIR = ROOT / "labels"
SEED = SEEDS / "003_961445eb337fe995.txt"
CLI = [sys.executable, "-c", "from noiseclf.cli import main; main()"]


def run_cli(*args, input: bytes | None = None, env: dict | None = None, process: bool = False):
    """Run ``noiseclf ARGS``: in this process (fast) or, with ``process=True``, in a new one.

    Returns an object with ``returncode``, ``stdout`` and ``stderr`` (bytes) either way.
    """
    if process:
        return run_process(*args, input=input, env=env)
    from typer.testing import CliRunner

    from noiseclf.cli import app

    runner = CliRunner()
    result = runner.invoke(app, [str(a) for a in args], input=input, env={"NOISECLF_DEBUG": None, **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback the real command would have printed
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout_bytes, result.stderr_bytes)


def run_process(*args, input: bytes | None = None, env: dict | None = None, cwd=None, timeout=180):
    """Run ``noiseclf ARGS`` in a fresh process; returns the CompletedProcess (bytes)."""
    full_env = dict(os.environ)
    full_env.pop("NOISECLF_DEBUG", None)
    full_env.update(env or {})
    return subprocess.run(
        CLI + [str(a) for a in args], input=input, capture_output=True, env=full_env, cwd=cwd,
        timeout=timeout,
    )


def assert_one_line_error(proc, code: int) -> str:
    """The process failed with ``code`` and said why in one ``noiseclf:`` line, no traceback."""
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == code, (proc.returncode, err)
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("noiseclf: "), err
    return lines[0]


def small_options():
    from noiseclf.settings import Settings

    # Small hash spaces: a model of a few hundred KB that trains in a second or two.
    return Settings(word_bits=12, char_bits=12)


def train_small_model(path: Path) -> Path:
    from noiseclf.labels import load_labels
    from noiseclf.modelfile import save_model
    from noiseclf.train import fit

    model = fit(load_labels([LABELS_DIR]), small_options())
    return save_model(model, path)


def read_model_zip(path: Path) -> tuple[dict, bytes]:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("meta.json")), zf.read("arrays.npz")


def write_model_zip(path: Path, meta: dict, blob: bytes, fix_sha: bool = True) -> Path:
    """Write a model archive with the given members (the checksum made to match by default)."""
    meta = dict(meta)
    if fix_sha:
        meta["arrays_sha256"] = hashlib.sha256(blob).hexdigest()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("meta.json", json.dumps(meta))
        zf.writestr("arrays.npz", blob)
    path.write_bytes(buf.getvalue())
    return path


def npz_arrays(blob: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def npz_bytes(arrays: dict, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, arr in arrays.items():
            member = io.BytesIO()
            np.save(member, arr, allow_pickle=allow_pickle)
            zf.writestr(name + ".npy", member.getvalue())
    return buf.getvalue()
