"""Start-up time of the `noiseclf` command, as a user runs it.

    python benchmarks/startup.py [--runs 10] [--noiseclf PATH]

Each command runs in a fresh process, ``--runs`` times (the commands take
turns); the table gives the median and the fastest wall-clock time, and the ratio of each to the time of
``python -c "import numpy, scipy.sparse"`` (the floor: cleaning needs both).
Commands: that import, ``noiseclf --help``, ``noiseclf --version`` and
``noiseclf clean`` of a three-line file written to a temporary folder.

The ``noiseclf`` run is the console script beside this Python (the venv's
``bin/noiseclf``), else the one on PATH, else ``python -c "from noiseclf.cli
import main; main()"``. To see which imports take the time:
``python -X importtime -c "from noiseclf.cli import main; main()" --help``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SMALL_PAGE = (
    "Council approves the new tram line after a year of debate\n"
    "The city council voted on Tuesday to build a tram line from the station to the harbour.\n"
    "Home | News | Sport | Contact\n"
)


def noiseclf_command(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    beside = Path(sys.executable).with_name("noiseclf")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("noiseclf")
    if found:
        return [found]
    return [sys.executable, "-c", "from noiseclf.cli import main; main()"]


def time_once(cmd: list[str]) -> float | str:
    """Wall-clock seconds of one run in a fresh process, or why the command failed."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        said = [ln for ln in proc.stderr.decode(errors="replace").splitlines() if any(c.isalnum() for c in ln)]
        return f"exit {proc.returncode}: {(said or [''])[-1].strip(' │')[:60]}"
    return elapsed


def time_commands(commands: list[tuple[str, list[str]]], runs: int) -> list[tuple[str, list[float] | str]]:
    """Each command ``runs`` times, taking turns (a change in the machine's load hits all alike)."""
    times: dict[str, list[float] | str] = {name: [] for name, _ in commands}
    for _ in range(runs):
        for name, cmd in commands:
            if isinstance(times[name], str):
                continue
            t = time_once(cmd)
            if isinstance(t, str):
                times[name] = t
            else:
                times[name].append(t)
    return [(name, times[name]) for name, _ in commands]


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.1f}"
    return f"{os.cpu_count()} CPUs, {cpu}, Python {platform.python_version()}{load}"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10, help="Fresh processes per command (default 10).")
    ap.add_argument("--noiseclf", help="The noiseclf executable to time (default: beside this Python).")
    args = ap.parse_args(argv)
    cli = noiseclf_command(args.noiseclf)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "page.txt"
        page.write_text(SMALL_PAGE, encoding="utf-8")
        commands = [
            ('python -c "import numpy, scipy.sparse"', [sys.executable, "-c", "import numpy, scipy.sparse"]),
            ("noiseclf --help", cli + ["--help"]),
            ("noiseclf --version", cli + ["--version"]),
            ("noiseclf clean page.txt (3 lines)", cli + ["clean", str(page)]),
        ]
        for _, cmd in commands:  # warm the file cache (and .pyc files) once
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results = time_commands(commands, args.runs)
    if isinstance(results[0][1], str):
        sys.exit(f"startup.py: the numpy/scipy import failed ({results[0][1]})")
    base_median = statistics.median(results[0][1])
    base_min = min(results[0][1])
    print(f"Machine: {machine()}; {args.runs} runs each, wall clock, in turns")
    print()
    print(f"| {'command':<40} | median s | min s | median / import | min / import |")
    print(f"|{'-' * 42}|---------:|------:|----------------:|-------------:|")
    for name, times in results:
        if isinstance(times, str):
            print(f"| {name:<40} | failed ({times}) |")
            continue
        med, low = statistics.median(times), min(times)
        print(f"| {name:<40} | {med:8.3f} | {low:5.3f} | {med / base_median:15.2f} | {low / base_min:12.2f} |")


if __name__ == "__main__":
    main()
