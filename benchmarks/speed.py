"""How fast noiseclf cleans: every speed target in one run, side by side with trafilatura.

    python benchmarks/speed.py --wcxb /work/shared/data/wcxb-dev [--pages 1000] [--cli-pages 400]
    python benchmarks/speed.py            # no data folder: the seeds, so it always runs

Pages: ``html/NNNN.html.gz`` of the folder. noiseclf gets the text scrape
html-text makes of each page, trafilatura gets the HTML. No page is used twice
within a measurement (``clean_many`` keeps no memory of pages either way: the
compiled kernel has no line cache, see benchmarks/README.md). Figures:

* model load: ``import noiseclf; noiseclf.load_model()`` in a fresh interpreter;
* API batch: ``Model.clean_many``, 64 pages a call, over pages never seen
  before, in lines per CPU second and per wall second (every line of the
  scrapes counts, blank ones included), and the numpy path it replaced;
* one 200-line page through ``Model.clean`` (median over distinct pages);
* ``noiseclf clean`` over hundreds of scrape files in one call (a fresh
  process: start-up, model load, reading and writing included), per page,
  against trafilatura on the same pages' HTML (in this process: its start-up
  is not counted);
* ``noiseclf clean --corpus`` on a JSON Lines file of the scrapes (id, url,
  text), with ``--num-proc 1`` and ``2``, in lines per wall second, and the
  peak resident memory of the run (the main process and each worker).

Times are CPU seconds (``time.process_time``, or ``getrusage`` of the child)
where said, else wall clock; BLAS/OpenMP threads are pinned to 1. The machine
is printed first: on a shared machine, compare figures of one run only.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shlex  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BATCH = 64


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = " (load average %.1f %.1f %.1f)" % os.getloadavg()
    except OSError:
        load = ""
    import numpy

    return (f"{os.cpu_count()} CPUs (nproc), {cpu}, Python {platform.python_version()}, numpy {numpy.__version__}"
            f"{load}")


def load_pages(wcxb: Path | None, limit: int) -> tuple[list[str], str, list[str]]:
    """(HTML pages, a description, the URL of each)."""
    if wcxb is None:
        pages = []
        for p in sorted((ROOT / "seeds").glob("*.txt")):
            body = "".join(f"<p>{line}</p>\n" if line.strip() else "\n"
                           for line in p.read_text(encoding="utf-8").splitlines())
            pages.append(f"<html><head><title>{p.stem}</title></head><body>{body}</body></html>")
        pages = pages * 8
        return pages, "the five seeds (wrapped in minimal HTML), 8 times over", \
            [f"https://seeds.example/{i}" for i in range(len(pages))]
    files = sorted((wcxb / "html").glob("*.html.gz"))[:limit]
    if not files:
        sys.exit(f"speed.py: {wcxb}/html holds no *.html.gz pages; pass the WCXB folder with --wcxb")
    urls = []
    for f in files:
        gt = wcxb / "ground-truth" / (f.name[: -len(".html.gz")] + ".json")
        try:
            urls.append(json.loads(gt.read_text(encoding="utf-8")).get("url"))
        except (OSError, ValueError):
            urls.append(None)
    return [gzip.decompress(f.read_bytes()).decode("utf-8", "replace") for f in files], \
        f"{len(files)} pages of {wcxb}", urls


def cpu_and_wall(fn) -> tuple[float, float, object]:
    c, w = time.process_time(), time.perf_counter()
    out = fn()
    return time.process_time() - c, time.perf_counter() - w, out


def load_time(runs: int = 5) -> tuple[float, float]:
    code = ("import time; c=time.process_time(); w=time.perf_counter(); import noiseclf; "
            "m=noiseclf.load_model(); print(time.process_time()-c, time.perf_counter()-w)")
    out = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        out.append(tuple(float(x) for x in done.stdout.split()))
    return statistics.median(r[0] for r in out), statistics.median(r[1] for r in out)


_PEAK = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
         "print('peak-rss-kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
         "sys.exit(r.returncode)")


def run_child(cmd: list[str]) -> tuple[float, float, float, str]:
    """Run a command; (CPU seconds of it and its workers, wall seconds, peak RSS in MiB of its
    largest process, its stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    w = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _PEAK, *cmd], capture_output=True, text=True,
                          env=dict(os.environ, TQDM_DISABLE="1"))
    wall = time.perf_counter() - w
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"speed.py: {shlex.join(cmd)} failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = done.stderr.strip().splitlines()
    peak = float(lines[-1].split()[1]) / 1024 if lines and lines[-1].startswith("peak-rss-kib") else float("nan")
    return cpu, wall, peak, "\n".join(lines[:-1])


def noiseclf_command() -> list[str]:
    exe = Path(sys.executable).with_name("noiseclf")
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from noiseclf.cli import main; main()"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wcxb", type=Path, help="folder with html/NNNN.html.gz pages (default: the seeds)")
    ap.add_argument("--pages", type=int, default=1358, help="pages to use (default: all 1,358 of WCXB dev)")
    ap.add_argument("--cli-pages", type=int, default=400,
                    help="pages for the noiseclf clean / trafilatura comparison (default 400)")
    ap.add_argument("--numpy-pages", type=int, default=300,
                    help="pages to time the numpy path on (it is slower; default 300)")
    args = ap.parse_args()

    import html_text
    import trafilatura

    from noiseclf import load_model
    from noiseclf.features import featurizer as featurizer_mod
    from noiseclf.text import split_lines

    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"machine: {machine()}")
    html, what, urls = load_pages(args.wcxb, args.pages)
    c_ht, _, texts = cpu_and_wall(lambda: [html_text.extract_text(h) for h in html])
    n_lines = [len(split_lines(t)) for t in texts]
    n_all = sum(n_lines)
    n_content = sum(1 for t in texts for line in split_lines(t) if line.strip())
    print(f"pages:   {what}: {len(texts)} html-text scrapes, {n_all:,} lines ({n_content:,} non-blank), "
          f"{n_all / len(texts):.0f} lines a page; html-text took {c_ht * 1000 / len(html):.1f} ms a page")
    results: list[tuple[str, str, str]] = []  # (target, measured, met?)

    # -- model load ------------------------------------------------------------
    lc, lw = load_time()
    print(f"\nmodel load (fresh interpreter, imports included; median of 5): {lc:.3f} s CPU, {lw:.3f} s wall")
    results.append(("model load <= 0.2 s", f"{lc:.2f} s CPU ({lw:.2f} s wall)", "yes" if lc <= 0.2 else "no"))

    # -- API batch on pages never seen before -------------------------------------
    model = load_model().set_cache(0)
    held_out = texts[-BATCH:] if len(texts) > 2 * BATCH else texts[:BATCH]
    measured = texts[: len(texts) - BATCH] if len(texts) > 2 * BATCH else texts
    measured_lines = sum(len(split_lines(t)) for t in measured)
    t0 = time.perf_counter()
    for _ in range(10):  # until the compiled kernel is loaded (after 10,000 lines; once per process)
        model.clean_many(held_out)
        if featurizer_mod._kernel_state["ready"]:
            break
    print(f"\nwarm-up on {len(held_out)} other pages: {time.perf_counter() - t0:.2f} s wall "
          "(numpy path for the first 10,000 lines, then loading numba and the cached machine code)")

    def clean_all(m, pages):
        for i in range(0, len(pages), BATCH):
            m.clean_many(pages[i:i + BATCH])

    c_api, w_api, _ = cpu_and_wall(lambda: clean_all(model, measured))
    featurizer_mod.KERNEL_MODE = "numpy"
    old = load_model().set_cache(0)
    sub = measured[: args.numpy_pages]
    sub_lines = sum(len(split_lines(t)) for t in sub)
    old.clean_many(held_out)
    c_old, w_old, _ = cpu_and_wall(lambda: clean_all(old, sub))
    featurizer_mod.KERNEL_MODE = "auto"
    api_rate = measured_lines / c_api
    print(f"batch cleaning (clean_many, {BATCH} pages a call, {len(measured)} pages never seen before, "
          f"{measured_lines:,} lines):")
    print(f"  compiled kernel:   {api_rate:>10,.0f} lines/s CPU   ({measured_lines / w_api:,.0f} by the wall clock)")
    print(f"  numpy path:        {sub_lines / c_old:>10,.0f} lines/s CPU   ({sub_lines / w_old:,.0f} by the wall clock; "
          f"first {len(sub)} pages; what clean_many ran before)")
    results.append(("API batch >= 200,000 lines/s, one core, unseen pages", f"{api_rate:,.0f} lines/s CPU",
                    "yes" if api_rate >= 200_000 else "no"))

    # -- one 200-line page -----------------------------------------------------------
    long_pages = ["\n".join(split_lines(t)[:200]) for t in measured if len(split_lines(t)) >= 200][:60]
    if not long_pages:
        long_pages = ["\n".join((split_lines(texts[0]) * 200)[:200])]
    fresh = load_model()
    fresh.clean(long_pages[0])
    single = []
    for p in long_pages:
        c0 = time.perf_counter()
        fresh.clean(p)
        single.append(time.perf_counter() - c0)
    ms = statistics.median(single) * 1000
    rows = statistics.median(sum(1 for x in p.split("\n") if x.strip()) for p in long_pages)
    print(f"\none 200-line page through Model.clean: {ms:.2f} ms wall (median over {len(long_pages)} distinct pages, "
          f"{rows:.0f} non-blank lines each)")
    results.append(("one 200-line page <= 1 ms", f"{ms:.2f} ms", "yes" if ms <= 1.0 else "no"))

    # -- noiseclf clean over hundreds of files against trafilatura ---------------------
    k = min(args.cli_pages, len(texts))
    tmp = Path(tempfile.mkdtemp(prefix="noiseclf-speed-"))
    src, out = tmp / "scrapes", tmp / "cleaned"
    src.mkdir()
    files = []
    for i, t in enumerate(texts[:k]):
        f = src / f"{i:04d}.txt"
        f.write_text(t, encoding="utf-8")
        files.append(str(f))
    cli = noiseclf_command() + ["clean", *files, "-o", str(out)]
    c_cli, w_cli, peak_cli, _ = run_child(cli)
    c_tr, w_tr, _ = cpu_and_wall(lambda: [trafilatura.extract(h) for h in html[:k]])
    tr_ms, cli_ms, cli_wall_ms = c_tr * 1000 / k, c_cli * 1000 / k, w_cli * 1000 / k
    print(f"\nper page, {k} pages, CPU ms: trafilatura (HTML, in this process) {tr_ms:.2f} ms; "
          f"`noiseclf clean FILES -o DIR` (scrapes, one call: process start, model load, I/O included) "
          f"{cli_ms:.2f} ms ({cli_wall_ms:.2f} ms wall; peak RSS {peak_cli:.0f} MiB)")
    print(f"  trafilatura / noiseclf clean: {tr_ms / cli_ms:.1f} x by CPU; html-text + noiseclf clean: "
          f"{tr_ms / (cli_ms + c_ht * 1000 / len(html)):.1f} x")
    print(f"  command: {shlex.join(cli[:2] + [str(src) + '/*.txt', '-o', str(out)])}")
    results.append((f"`noiseclf clean` over {k} pages >= 30 x faster per page than trafilatura",
                    f"{tr_ms / cli_ms:.1f} x ({cli_ms:.2f} against {tr_ms:.2f} ms a page)",
                    "yes" if tr_ms / cli_ms >= 30 else "no"))

    # -- the corpus mode ---------------------------------------------------------------
    corpus = tmp / "wcxb.jsonl"
    with open(corpus, "w", encoding="utf-8") as fh:
        for i, (t, u) in enumerate(zip(texts, urls)):
            fh.write(json.dumps({"id": i, "url": u, "text": t}, ensure_ascii=False) + "\n")
    corpus_rate, peaks = {}, {}
    for procs in (1, 2):
        cmd = noiseclf_command() + ["clean", "--corpus", str(corpus), "--output", str(tmp / f"out{procs}.jsonl"),
                                    "--num-proc", str(procs)]
        c, w, peak, msg = run_child(cmd)
        corpus_rate[procs], peaks[procs] = n_all / w, peak
        print(f"\n{shlex.join(cmd[:2] + ['--corpus', 'wcxb.jsonl', '--output', f'out{procs}.jsonl', '--num-proc', str(procs)])}"
              f"\n  {len(texts)} records, {n_all:,} lines ({corpus.stat().st_size / 2**20:.1f} MiB): "
              f"{w:.2f} s wall = {n_all / w:,.0f} lines/s ({n_all / c:,.0f} per CPU second, all processes); "
              f"peak RSS {peak:.0f} MiB (largest process)\n  {msg}")
    results.append(("--corpus, 1 process >= 150,000 lines/s", f"{corpus_rate[1]:,.0f} lines/s wall",
                    "yes" if corpus_rate[1] >= 150_000 else "no"))
    ratio = corpus_rate[2] / corpus_rate[1]
    results.append(("--corpus, --num-proc 2 >= 1.7 x one", f"{ratio:.2f} x ({corpus_rate[2]:,.0f} lines/s)",
                    "yes" if ratio >= 1.7 else "no"))
    most = max([peak_cli, *peaks.values()])
    results.append(("peak memory <= 1 GB (largest process of these runs)", f"{most:.0f} MiB",
                     "yes" if most <= 1024 else "no"))

    print("\ntargets:")
    for target, got, ok in results:
        print(f"  {target:<72} {got:<40} {ok}")
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
