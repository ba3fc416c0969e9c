"""Time and peak memory of `noiseclf clean` on hostile inputs made from one seed.

    python benchmarks/hostile_input.py [--seed seeds/003_961445eb337fe995.txt] [--quick]

Each input is written to a temporary folder and cleaned by a separate
`noiseclf clean FILE` process run under `/usr/bin/time -v` (when present), so
the figures are those of the real command: wall time, peak resident memory
(RSS), exit code, warnings, and whether the output equals the plain file's
where the text is the same. Inputs: the plain seed, CRLF, lone CR, UTF-8 BOM,
UTF-16 LE/BE with BOM, invalid UTF-8, NUL bytes, a file of blank lines, a
20 MB single line and a million-line file (``--quick``: 2 MB and 100,000 lines).
"""

from __future__ import annotations

import argparse
import codecs
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from noiseclf.cli import main; main()"]


def make_inputs(seed: Path, big_line_mb: int, many_lines: int) -> dict[str, tuple[bytes, bool]]:
    """name -> (bytes, whether the text equals the plain seed's)."""
    plain = seed.read_bytes()
    text = plain.decode("utf-8")
    rng = random.Random(3)
    words = text.split()
    line = []
    size = 0
    while size < big_line_mb * 1_000_000:
        w = rng.choice(words)
        line.append(w)
        size += len(w.encode("utf-8")) + 1
    big = (" ".join(line).encode("utf-8")[: big_line_mb * 1_000_000]).decode("utf-8", "ignore") + "\n"
    lines = text.split("\n")
    many = "\n".join(lines[i % len(lines)] for i in range(many_lines)) + "\n"
    nul = bytearray(plain)
    for pos in sorted(rng.sample([i for i, b in enumerate(plain) if b < 0x80], 25), reverse=True):
        nul[pos:pos] = b"\x00"
    return {
        "plain": (plain, True),
        "crlf": (text.replace("\n", "\r\n").encode("utf-8"), True),
        "lone_cr": (text.replace("\n", "\r").encode("utf-8"), True),
        "utf8_bom": (codecs.BOM_UTF8 + plain, True),
        "utf16_le_bom": (codecs.BOM_UTF16_LE + text.encode("utf-16-le"), True),
        "utf16_be_bom": (codecs.BOM_UTF16_BE + text.encode("utf-16-be"), True),
        "nul_bytes": (bytes(nul), True),
        "invalid_utf8": (plain.replace(b"NASA", b"NA\xffSA", 3), False),
        "blank_lines": (b"\n" * 100_000, False),
        f"single_line_{big_line_mb}mb": (big.encode("utf-8"), False),
        f"{many_lines}_lines": (many.encode("utf-8"), False),
    }


def run(path: Path) -> dict:
    timer = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    cmd = CLI + ["clean", str(path)]
    if timer:
        cmd = [timer, "-v"] + cmd
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True)
    wall = time.perf_counter() - start
    err = proc.stderr.decode("utf-8", "replace")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    own = [x for x in err.splitlines() if x.startswith("noiseclf")]
    return {
        "rc": proc.returncode,
        "wall": wall,
        "rss_mb": int(rss.group(1)) / 1024 if rss else float("nan"),
        "stdout": proc.stdout,
        "messages": own,
        "traceback": "Traceback" in err,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=Path, default=ROOT / "seeds" / "003_961445eb337fe995.txt")
    ap.add_argument("--quick", action="store_true", help="2 MB line and 100,000 lines instead of 20 MB and 1,000,000")
    args = ap.parse_args()
    big, many = (2, 100_000) if args.quick else (20, 1_000_000)
    inputs = make_inputs(args.seed, big, many)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="noiseclf-hostile-") as tmp:
        results = {}
        print(f"{'input':<22}{'size MB':>9}{'exit':>6}{'wall s':>9}{'peak RSS MB':>13}{'out KB':>9}  "
              "same as plain / messages")
        for name, (data, same) in inputs.items():
            path = Path(tmp) / f"{name}.txt"
            path.write_bytes(data)
            r = results[name] = run(path)
            note = ""
            if same:
                ok = r["stdout"] == results["plain"]["stdout"]
                note = "same" if ok else "DIFFERENT"
                failures += not ok
            if r["traceback"] or r["rc"] != 0:
                failures += 1
                note += " FAILED"
            msgs = "; ".join(m[:70] for m in r["messages"])
            print(f"{name:<22}{len(data) / 1e6:>9.2f}{r['rc']:>6}{r['wall']:>9.2f}{r['rss_mb']:>13.0f}"
                  f"{len(r['stdout']) / 1e3:>9.1f}  {note} {msgs}".rstrip())
            path.unlink()
    print(f"\n{failures} problem(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
