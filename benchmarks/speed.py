"""How fast noiseclf cleans, side by side with trafilatura on the same pages.

    python benchmarks/speed.py --wcxb /work/shared/data/wcxb-dev [--pages 400] [--chart out.png]
    python benchmarks/speed.py            # no data folder: the seeds, so it always runs

Pages: every ``html/NNNN.html.gz`` of the folder (up to ``--pages``). noiseclf
gets the text scrape html-text makes of each page; trafilatura gets the HTML.
Figures (one process, one core: BLAS/OpenMP threads are pinned to 1):

* model load time (in a fresh interpreter, so imports count);
* batch cleaning (``Model.clean_many``, 64 pages a call) in lines per second,
  counting every line of the scrapes, blank ones included -- with the per-line
  cache off (every line computed) and on (lines repeated across pages, such as
  menus, are looked up), and the reference scikit-learn path for comparison;
* one 200-line page through ``Model.clean`` after loading (median);
* per page: trafilatura (HTML in), noiseclf (scrape in), html-text + noiseclf
  (HTML in), and the ratio trafilatura / noiseclf.

Times are CPU seconds of this process (``time.process_time``), so other
programs on a shared machine do not inflate them; wall-clock figures are
printed too. A chart (PNG) is written to ``--chart``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import gzip  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from reference_features import predict_first_stage  # noqa: E402  (scikit-learn, the reference)

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc), {cpu}, Python {platform.python_version()}"


def load_pages(wcxb: Path | None, limit: int) -> tuple[list[str], str]:
    if wcxb is None:
        pages = []
        for p in sorted((ROOT / "seeds").glob("*.txt")):
            body = "".join(f"<p>{line}</p>\n" if line.strip() else "\n"
                           for line in p.read_text(encoding="utf-8").splitlines())
            pages.append(f"<html><head><title>{p.stem}</title></head><body>{body}</body></html>")
        return pages * 8, "the five seeds (wrapped in minimal HTML), 8 times over"
    files = sorted((wcxb / "html").glob("*.html.gz"))[:limit]
    if not files:
        sys.exit(f"speed.py: {wcxb}/html holds no *.html.gz pages; pass the WCXB folder with --wcxb")
    return [gzip.decompress(f.read_bytes()).decode("utf-8", "replace") for f in files], \
        f"{len(files)} pages of {wcxb}"


def cpu_and_wall(fn) -> tuple[float, float, object]:
    c, w = time.process_time(), time.perf_counter()
    out = fn()
    return time.process_time() - c, time.perf_counter() - w, out


def best_of(n: int, fn) -> tuple[float, float]:
    runs = [cpu_and_wall(fn)[:2] for _ in range(n)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def load_time() -> tuple[float, float]:
    code = ("import time; c=time.process_time(); w=time.perf_counter(); import noiseclf; "
            "m=noiseclf.load_model(); print(time.process_time()-c, time.perf_counter()-w)")
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        runs.append(tuple(float(x) for x in out.stdout.split()))
    return min(r[0] for r in runs), min(r[1] for r in runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wcxb", type=Path, help="folder with html/NNNN.html.gz pages (default: the seeds)")
    ap.add_argument("--pages", type=int, default=400, help="pages to use (default 400)")
    ap.add_argument("--trafilatura-pages", type=int, default=150,
                    help="pages to time trafilatura and the reference path on (they are slow; default 150)")
    ap.add_argument("--chart", type=Path, default=ROOT / "build" / "bench" / "speed.png")
    args = ap.parse_args()

    import html_text
    import trafilatura

    from noiseclf import load_model
    from noiseclf.text import split_lines

    html, what = load_pages(args.wcxb, args.pages)
    print(f"machine: {machine()}")
    print(f"pages:   {what}")

    c_ht, w_ht, texts = cpu_and_wall(lambda: [html_text.extract_text(h) for h in html])
    n_lines = sum(len(split_lines(t)) for t in texts)
    n_content = sum(1 for t in texts for line in split_lines(t) if line.strip())
    print(f"scrapes: {len(texts)} pages, {n_lines} lines ({n_content} non-blank), "
          f"{n_lines / len(texts):.0f} lines a page; html-text took {c_ht * 1000 / len(html):.1f} ms a page")

    lc, lw = load_time()
    print(f"\nmodel load (fresh interpreter, imports included): {lc:.2f} s CPU, {lw:.2f} s wall")

    model = load_model()
    batch = 64

    def clean_all(m, pages):
        for i in range(0, len(pages), batch):
            m.clean_many(pages[i:i + batch])

    model.set_cache(0)
    clean_all(model, texts[:batch])  # warm up (code-point table, imports)
    c_nc, w_nc = best_of(2, lambda: clean_all(model.set_cache(0), texts))
    model.set_cache(100_000)

    def cached():
        model.scorer.clear_cache()
        clean_all(model, texts)

    c_cache, w_cache = best_of(2, cached)
    c_warm, w_warm = best_of(1, lambda: clean_all(model, texts))  # the same pages again: every line cached
    model.set_cache(0)
    sub = texts[: args.trafilatura_pages]
    sub_lines = sum(len(split_lines(t)) for t in sub)

    def reference():
        for i in range(0, len(sub), batch):
            predict_first_stage(model, _pages(sub[i:i + batch]))

    c_ref, w_ref = best_of(1, reference)
    rate = {"noiseclf, no cache": n_lines / c_nc, "noiseclf, line cache (cold)": n_lines / c_cache,
            "noiseclf, line cache (pages seen before)": n_lines / c_warm,
            "reference path (scikit-learn)": sub_lines / c_ref}
    print("\nbatch cleaning (clean_many, 64 pages a call), lines per CPU second:")
    print(f"  no cache:            {rate['noiseclf, no cache']:>10,.0f} lines/s   ({n_lines / w_nc:,.0f} by the wall clock)")
    print(f"  line cache, cold:    {rate['noiseclf, line cache (cold)']:>10,.0f} lines/s   "
          f"({n_lines / w_cache:,.0f} by the wall clock; cache emptied first: only repeats within the run hit)")
    print(f"  line cache, warm:    {rate['noiseclf, line cache (pages seen before)']:>10,.0f} lines/s   "
          f"({n_lines / w_warm:,.0f} by the wall clock; the same pages again, every line cached: a best case)")
    print(f"  reference path:      {rate['reference path (scikit-learn)']:>10,.0f} lines/s   (first {len(sub)} pages)")

    # One 200-line page after loading.
    page = next((t for t in texts if len(split_lines(t)) >= 200), None)
    page = "\n".join(split_lines(page)[:200]) if page else "\n".join((texts * 200)[0].splitlines()[:200])
    fresh = load_model().set_cache(0)
    fresh.clean(page)
    single = []
    for _ in range(30):
        c0 = time.process_time()
        fresh.clean(page)
        single.append(time.process_time() - c0)
    print(f"\none 200-line page through Model.clean: {statistics.median(single) * 1000:.2f} ms (median of 30, no cache)")

    # Per page, on the same pages: trafilatura from HTML, noiseclf from the scrape.
    hsub = html[: len(sub)]
    c_tr, w_tr = best_of(1, lambda: [trafilatura.extract(h) for h in hsub])
    c_one, w_one = best_of(1, lambda: [model.clean(t) for t in sub])
    ms = {
        "trafilatura (HTML)": c_tr * 1000 / len(sub),
        "noiseclf (scrape), one page a call": c_one * 1000 / len(sub),
        "noiseclf (scrape), batches": c_nc * 1000 / len(texts),
        "html-text + noiseclf (HTML)": (c_ht / len(html) + c_one / len(sub)) * 1000,
    }
    print(f"\nper page (first {len(sub)} pages), CPU ms:")
    for k, v in ms.items():
        print(f"  {k:<38} {v:8.2f} ms")
    print(f"  trafilatura / noiseclf:               {ms['trafilatura (HTML)'] / ms['noiseclf (scrape), one page a call']:8.1f} x "
          f"(one page a call), {ms['trafilatura (HTML)'] / ms['noiseclf (scrape), batches']:.1f} x (batches), "
          f"{ms['trafilatura (HTML)'] / ms['html-text + noiseclf (HTML)']:.1f} x (html-text + noiseclf)")

    chart(args.chart, rate, ms, machine(), what)
    print(f"\nchart: {args.chart}")


def _pages(texts):
    from noiseclf.features import Page
    from noiseclf.text import split_lines

    return [Page(split_lines(t)) for t in texts]


def chart(path: Path, rate: dict, ms: dict, where: str, what: str) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    names, vals = list(rate), list(rate.values())
    a.barh(names, vals, color=["#2a7", "#5c9", "#9db", "#aaa"])
    a.axvline(100_000, color="#c33", ls="--", lw=1)
    a.text(100_000, len(names) - 0.5, " target 100k", color="#c33", va="center", fontsize=8)
    a.set_xlabel("lines per CPU second (one core)")
    a.set_title("batch cleaning")
    for i, v in enumerate(vals):
        a.text(v, i, f" {v:,.0f}", va="center", fontsize=8)
    names, vals = list(ms), list(ms.values())
    b.barh(names, vals, color=["#c63", "#2a7", "#5c9", "#7ab"])
    b.set_xscale("log")
    b.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    b.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    b.set_xlabel("CPU ms per page (log scale)")
    b.set_title("per page, same pages")
    for i, v in enumerate(vals):
        b.text(v, i, f" {v:.2f}", va="center", fontsize=8)
    fig.suptitle(f"noiseclf speed - {what}\n{where}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
