"""Nothing lost: a run killed while writing leaves the previous file intact.

The kills are real: ``noiseclf`` runs as a subprocess with
``NOISECLF_TEST_SLOW_WRITE`` set, which makes every atomic write go out in 4 KiB
chunks with a pause between them; the test waits until the temporary file has
appeared (the write is under way), then sends the signal.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from noiseclf import OutputError
from noiseclf.atomic import atomic_write_bytes
from trust_support import CLI, LABELS_DIR, SEEDS, run_cli

PREVIOUS = b"the previous file, which must survive\n" * 50


def _start(*args, slow: float):
    env = dict(os.environ, NOISECLF_TEST_SLOW_WRITE=str(slow))
    return subprocess.Popen(CLI + [str(a) for a in args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _temps(folder: Path, name: str | None = None) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.name.endswith(".tmp") and (name is None or p.name.startswith(f".{name}.")))


def _wait_for_temp(proc, folder: Path, name: str | None = None, timeout: float = 240) -> Path:
    """Wait until a temporary file with some bytes in it exists: the write is under way."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in _temps(folder, name):
            try:
                if p.stat().st_size > 0:
                    return p
            except FileNotFoundError:
                continue
        if proc.poll() is not None:
            raise AssertionError(f"exited before writing: {proc.returncode} {proc.stderr.read()!r}")
        time.sleep(0.01)
    proc.kill()
    raise AssertionError("no write started in time")


@pytest.fixture(scope="module")
def train_args():
    return ["train", "--labels", LABELS_DIR, "--from-scratch", "--no-cv"]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT, signal.SIGTERM], ids=["kill-9", "ctrl-c", "kill"])
def test_train_killed_mid_write_keeps_the_previous_model(tmp_path, train_args, sig):
    out = tmp_path / "existing.noiseclf"
    out.write_bytes(PREVIOUS)
    proc = _start(*train_args, "--out", out, slow=0.05)
    temp = _wait_for_temp(proc, tmp_path, out.name)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    err = proc.stderr.read().decode()
    assert out.read_bytes() == PREVIOUS  # byte-identical
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        assert temp.exists()  # nobody could clean up; the next write to this path does
        assert temp.name.startswith(f".{out.name}.{proc.pid}.")
    else:
        assert proc.returncode == 130, err
        assert "Traceback" not in err and "interrupted" in err
        assert _temps(tmp_path) == []  # removed on the way out
    if sig != signal.SIGKILL:
        return
    # The next run completes, replaces the file and removes the stale temporary file.
    proc = subprocess.run(CLI + [str(a) for a in train_args] + ["--out", str(out)], capture_output=True)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:2] == b"PK" and _temps(tmp_path) == []
    from noiseclf import load_model

    load_model(out)


def test_clean_many_files_killed_mid_run(tmp_path):
    """Every output is either the previous file or a complete new one; nothing partial."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    paths = []
    for i in range(40):
        p = inputs / f"page{i:02d}.txt"
        p.write_bytes(seeds[i % len(seeds)].read_bytes())
        paths.append(p)
    out = tmp_path / "out"
    out.mkdir()
    for p in paths:
        (out / p.name).write_bytes(PREVIOUS)
    expected = {}
    for seed in seeds:
        proc = run_cli("clean", seed)
        assert proc.returncode == 0
        expected[seed.read_bytes()] = proc.stdout

    proc = _start("clean", *paths, "-o", out, slow=0.3)
    _wait_for_temp(proc, out)
    time.sleep(1.0)  # let a few files complete
    _wait_for_temp(proc, out)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    done = 0
    for p in paths:
        got = (out / p.name).read_bytes()
        assert got in (PREVIOUS, expected[p.read_bytes()]), p.name
        done += got != PREVIOUS
    assert 0 < done < len(paths)  # the kill really landed mid-run
    assert len(_temps(out)) == 1  # the file being written when killed

    proc = run_cli("clean", *paths, "-o", out, process=True)
    assert proc.returncode == 0, proc.stderr
    assert _temps(out) == []
    assert all((out / p.name).read_bytes() == expected[p.read_bytes()] for p in paths)


# -- atomic_write_bytes in-process ----------------------------------------------

def test_failed_write_leaves_previous_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "model.noiseclf"
    target.write_bytes(PREVIOUS)

    def no_space(*_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OutputError, match="No space left"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == PREVIOUS and _temps(tmp_path) == []


def test_interrupt_during_write_removes_temp(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    target.write_bytes(PREVIOUS)
    real_fsync = os.fsync

    def interrupted(fd):
        real_fsync(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == PREVIOUS and _temps(tmp_path) == []


def test_stale_temps_of_dead_writers_go_live_ones_stay(tmp_path):
    target = tmp_path / "page.txt"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".page.txt.{dead_pid}.abcd1234.tmp"
    live = tmp_path / f".page.txt.{os.getppid()}.abcd1234.tmp"
    other = tmp_path / f".other.txt.{dead_pid}.abcd1234.tmp"
    for p in (stale, live, other):
        p.write_bytes(b"partial")
    atomic_write_bytes(target, b"complete\n")
    assert target.read_bytes() == b"complete\n"
    assert not stale.exists()
    assert live.exists() and other.exists()  # a running writer's file, another target's file


def test_permissions_follow_umask_or_the_replaced_file(tmp_path):
    old = os.umask(0o022)
    try:
        fresh = atomic_write_bytes(tmp_path / "fresh.txt", b"x")
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
        private = tmp_path / "private.txt"
        private.write_bytes(b"old")
        private.chmod(0o600)
        atomic_write_bytes(private, b"new")
        assert stat.S_IMODE(private.stat().st_mode) == 0o600 and private.read_bytes() == b"new"
    finally:
        os.umask(old)


@pytest.mark.parametrize("case", ["missing_folder", "is_a_folder"])
def test_unwritable_targets(tmp_path, case):
    target = tmp_path / "nope" / "x.txt" if case == "missing_folder" else tmp_path
    with pytest.raises(OutputError):
        atomic_write_bytes(target, b"x")


def test_every_writer_uses_atomic_write():
    """No module of the package opens a file for writing except into a temporary file.

    The allowed places: atomic_write_bytes itself, the corpus writer, which
    streams into a file made by new_temp_file and renames it when complete, and the
    model file's array members, written into an in-memory zip.
    """
    import re

    import noiseclf

    allowed = {("atomic.py", 'with open(tmp, "r+b") as fh:'),
               ("corpus.py", 'self.fh = open(path, "w", encoding="utf-8", newline="\\n") if fmt == "jsonl" else None'),
               ("modelfile.py", 'with z.open(name + ".npy", "w", force_zip64=True) as fh:')}
    root = Path(noiseclf.__file__).parent
    pattern = re.compile(r"""open\([^)]*['"](?:[wax]|r\+)b?['"]|\.write_text\(|\.write_bytes\(|np\.save\(|savez\(""")
    offenders = []
    for path in root.rglob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and (path.name, line.strip()) not in allowed:
                offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert offenders == []
    corpus = (root / "corpus.py").read_text(encoding="utf-8")
    assert "new_temp_file(path)" in corpus and "os.replace(self.tmp, self.path)" in corpus


def test_stale_temps_go_when_the_folder_was_already_written_to(tmp_path):
    # The folder is listed once per process; a later write to another path in
    # it still removes that path's stale temporary file.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    stale = tmp_path / f".second.txt.{int(dead.stdout)}.abcd1234.tmp"
    stale.write_bytes(b"partial")
    atomic_write_bytes(tmp_path / "first.txt", b"1\n")
    assert stale.exists()  # another target's file
    atomic_write_bytes(tmp_path / "second.txt", b"2\n", sync_folder=False)
    assert not stale.exists() and (tmp_path / "second.txt").read_bytes() == b"2\n"
