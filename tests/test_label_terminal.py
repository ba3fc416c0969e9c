"""The real `noiseclf label` in a pseudo-terminal: keys, Ctrl-C, a crash, resume."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "003_961445eb337fe995.txt"
ANSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1b\][^\x07]*\x07")


class Terminal:
    """A process on a pseudo-terminal (120x30 unless told), with its screen output collected."""

    def __init__(self, args, cwd, term="xterm-256color", size=(120, 30)):
        self.master, slave = pty.openpty()
        cols, rows = size
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = dict(os.environ, TERM=term, COLUMNS=str(cols), LINES=str(rows))
        for name in ("TEXTUAL", "COLORTERM", "NO_COLOR", "TEXTUAL_COLOR_SYSTEM"):
            env.pop(name, None)
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.out = bytearray()
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self.lock:
                self.out.extend(data)

    def raw(self) -> str:
        with self.lock:
            return bytes(self.out).decode("utf-8", "replace")

    def text(self) -> str:
        return ANSI.sub("", self.raw())

    def wait_for(self, needle: str, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if needle in self.text():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{needle!r} never appeared on screen; got: {self.text()[-2000:]!r}")

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        try:
            os.close(self.master)
        except OSError:
            pass


def wait_until(cond, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False


def confirmed(labs: Path) -> list[int]:
    try:
        return json.loads((labs / f"{SEED.stem}.progress.json").read_text())["confirmed"]
    except (FileNotFoundError, json.JSONDecodeError):
        return []


def labels(labs: Path) -> dict[int, str]:
    rows = (labs / f"{SEED.stem}.jsonl").read_text(encoding="utf-8").splitlines()
    return {json.loads(r)["line"]: json.loads(r)["label"] for r in rows if r.strip()}


@pytest.fixture
def project(tmp_path):
    scrape = tmp_path / "site" / SEED.name
    scrape.parent.mkdir()
    scrape.write_bytes(SEED.read_bytes())
    return tmp_path, scrape


def start(tmp_path, *scrapes):
    code = "import sys; from noiseclf.cli import main; sys.argv[0] = 'noiseclf'; main()"
    return Terminal([sys.executable, "-c", code, "label", *map(str, scrapes), "--labels-dir", "labs"], tmp_path)


def test_ctrl_c_in_the_middle_keeps_every_label_then_resume(project):
    tmp_path, scrape = project
    labs = tmp_path / "labs"
    second = scrape.with_name("second.txt")
    second.write_text("Another page\nwith two lines\n")
    term = start(tmp_path, scrape, second)
    try:
        term.wait_for("lines confirmed")
        term.send(b"o")  # top to bottom
        term.send(b"\x1b[H")  # home: first line
        time.sleep(0.5)
        term.send(b"n")
        assert wait_until(lambda: len(confirmed(labs)) == 1)
        term.send(b"f")
        assert wait_until(lambda: len(confirmed(labs)) == 2)
        first_two = sorted(confirmed(labs))
        term.send(b"\x03")  # Ctrl-C, as the terminal sends it
        assert term.proc.wait(30) == 0
    finally:
        term.close()
    saved = labels(labs)
    assert saved[first_two[0]] == "nav" and saved[first_two[1]] == "footer"
    assert not (labs / "second.jsonl").exists()  # Ctrl-C stops labelling, not just this file
    assert "2/" in term.text() or "lines confirmed" in term.text()
    # the files are valid labels right away
    from noiseclf.labels import load_labels

    assert load_labels([labs])[0].name == SEED.stem
    # resume: the earlier work is there, and more can be added
    term = start(tmp_path, scrape)
    try:
        term.wait_for("resumed")
        term.wait_for("2/")
        term.send(b" ")
        assert wait_until(lambda: len(confirmed(labs)) == 3)
        term.send(b"q")
        assert term.proc.wait(30) == 0
    finally:
        term.close()
    assert set(first_two) < set(confirmed(labs))


def test_a_crash_loses_nothing_that_was_saved(project):
    tmp_path, scrape = project
    labs = tmp_path / "labs"
    term = start(tmp_path, scrape)
    try:
        term.wait_for("lines confirmed")
        term.send(b"a")
        assert wait_until(lambda: len(confirmed(labs)) == 1)
        line = confirmed(labs)[0]
        os.killpg(term.proc.pid, signal.SIGKILL)  # no chance to clean up
        term.proc.wait(10)
    finally:
        term.close()
    assert labels(labs)[line] == "article"
    assert not [p for p in labs.iterdir() if p.name.endswith(".tmp")]
    from noiseclf.labels import load_labels

    assert len(load_labels([labs])[0].labelled_lines()) == len(labels(labs))


def test_sigint_from_outside_keeps_the_labels(project):
    tmp_path, scrape = project
    labs = tmp_path / "labs"
    term = start(tmp_path, scrape)
    try:
        term.wait_for("lines confirmed")
        term.send(b"d")
        assert wait_until(lambda: len(confirmed(labs)) == 1)
        line = confirmed(labs)[0]
        os.killpg(term.proc.pid, signal.SIGINT)
        term.proc.wait(30)
    finally:
        term.close()
    assert labels(labs)[line] == "ad"
    assert "Traceback" not in term.text()
