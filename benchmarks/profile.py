"""Where the time of cleaning goes: each stage timed on its own, per non-blank line.

    python benchmarks/profile.py --wcxb /work/shared/data/wcxb-dev [--pages 150] [--path kernel|numpy] [--cprofile]
    python benchmarks/profile.py            # no data folder: the seeds

The pages are html-text scrapes of the folder's HTML (or the seeds), cleaned
with ``Model.clean_many`` in batches of 64 pages, as ``benchmarks/speed.py``
does. ``--path kernel`` (the default) profiles the compiled kernel
(:mod:`noiseclf.features.kernel`), ``--path numpy`` the numpy path it replaced
(what ``clean_many`` ran before, and still runs for small jobs). Each stage is
run alone on the same input as ``clean_many`` gives it (distinct non-blank
lines of each batch) and timed in CPU seconds (best of 3); "the rest" is the
whole ``clean_many`` minus the stages (softmax, the page stage, decide,
rendering the kept text, the Cleaner). The kernel's parts are measured by
leaving each out. The I/O of ``clean --corpus`` (reading and parsing JSON
Lines, writing them, Arrow conversions) is timed on the same scrapes as
records. ``--cprofile`` also prints the 25 most expensive functions of one run.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from speed import load_pages, machine  # noqa: E402

BATCH = 64


def best(fn, k: int = 3) -> float:
    runs = []
    for _ in range(k):
        c = time.process_time()
        fn()
        runs.append(time.process_time() - c)
    return min(runs)


def batches(items: list, n: int = BATCH) -> list[list]:
    return [items[i:i + n] for i in range(0, len(items), n)]


def numpy_stages(model, texts, pages) -> dict:
    from noiseclf.features import hashing as fp
    from noiseclf.features import page_layout
    from noiseclf.features.shape import line_shapes
    from noiseclf.model import as_page
    from noiseclf.text import normalize_lines

    f, s, sc = model.featurizer, model.settings, model.scorer
    groups = []
    for group in batches(pages):
        raws = [p.lines[i] for p in group for i in p.content]
        uniq = list(dict.fromkeys(raws))
        norm = normalize_lines(uniq)
        shapes = line_shapes(uniq)
        words = fp.word_counts_raw(norm, s.word_ngrams, f.n_word)
        chars = f._chars.raw_counts([x[: s.char_max_len] for x in norm])
        groups.append((group, raws, uniq, norm, shapes, words, chars))

    def each(fn):
        return lambda: [fn(*g) for g in groups]

    def layouts(group, raws, uniq, norm, shapes, *_):
        pos = {r: i for i, r in enumerate(uniq)}
        row = 0
        for p in group:
            k = len(p.content)
            idx = [pos[r] for r in raws[row: row + k]]
            page_layout(p, shape=shapes[idx], norm=[norm[i] for i in idx])
            row += k

    return {
        "split into lines, find blank ones": lambda: [as_page(t) for t in texts],
        "distinct lines of each batch": each(lambda g, raws, *_: list(dict.fromkeys(raws))),
        "normalise (NFKC, case, digits)": each(lambda g, r, uniq, *_: normalize_lines(uniq)),
        "shape features (23 a line)": each(lambda g, r, uniq, *_: line_shapes(uniq)),
        "word n-grams: tokenise, hash, count": each(
            lambda g, r, u, norm, *_: fp.word_counts_raw(norm, s.word_ngrams, f.n_word)),
        "char n-grams: per-word hashes, count": each(
            lambda g, r, u, norm, *_: f._chars.raw_counts([x[: s.char_max_len] for x in norm])),
        "tf-idf weighting": each(lambda g, r, u, n, sh, words, chars: (
            fp.tfidf(words, f.idf_word, s.word_weight), fp.tfidf(chars, f.idf_char, s.char_weight))),
        "dot product with the coefficients": each(lambda g, r, u, n, sh, words, chars: (
            words.dot(sc.coef_word), chars.dot(sc.coef_char))),
        "page context (page_layout) and its dot product": each(layouts),
    }


def kernel_stages(model, texts, pages) -> dict:
    from itertools import chain

    import numpy as np

    from noiseclf.features import kernel as K
    from noiseclf.model import as_page

    ks = model.scorer._kernel
    groups = []
    for group in batches(pages):
        raws = [p.lines[i] for p in group for i in p.content]
        groups.append((group, raws, list(dict.fromkeys(raws))))

    def each(fn):
        return lambda: [fn(*g) for g in groups]

    orig = K.score_lines

    def lines_with(parts):
        def run():
            K.score_lines = lambda *a: orig(*a, parts)
            try:
                for _, _, uniq in groups:
                    ks.lines(uniq)
            finally:
                K.score_lines = orig
        return run

    def prep(group, raws, uniq):
        u = len(uniq)
        np.fromiter(map(len, uniq), dtype=np.int64, count=u)
        np.frombuffer("".join(uniq).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return [i for i, x in enumerate(uniq) if not x.isascii()]

    wides = [[g[2][i] for i in prep(*g)] for g in groups]
    t_none = best(lines_with(0))
    t = {p: best(lines_with(p)) for p in (1, 2, 4)}
    t_prep = best(each(prep))
    t_wide = best(lambda: [K._normalize_but_digits(w) for w in wides])
    parts = {
        "kernel: shape features (23 a line, patterns by hand)": t[1] - t_none,
        "kernel: word n-grams: tokens, MurmurHash3, count, TF-IDF, dot": t[2] - t_none,
        "kernel: char n-grams: MurmurHash3, count, TF-IDF, dot": t[4] - t_none,
        "kernel: ASCII normalisation, word tokens, text ids (the rest of lines())": t_none - t_prep - t_wide,
    }

    def layout(group, raws, uniq):
        ids: dict[str, int] = {}
        row_line = np.fromiter((ids.setdefault(r, len(ids)) for r in raws), dtype=np.int64, count=len(raws))
        text, shapes, nid, _ = ks.lines(uniq)
        chars = np.expm1(shapes[:, ks.log_chars_col])
        page_rows = np.fromiter((len(p.content) for p in group), dtype=np.int64, count=len(group))
        page_lines = np.fromiter((len(p.lines) for p in group), dtype=np.int64, count=len(group))
        content = np.fromiter(chain.from_iterable(p.content for p in group), dtype=np.int64, count=len(raws))
        out = np.empty((len(raws), ks.k))
        return (page_rows, page_lines, content, row_line, shapes, chars, nid, ks.mean, ks.scale, ks.weight,
                model.scorer.coef_layout, model.scorer.intercept, text, ks.neighbour_cols, ks.log_chars_col,
                ks.terminal_col, out)

    args = [layout(*g) for g in groups]
    stages = {
        "split into lines, find blank ones": lambda: [as_page(t) for t in texts],
        "distinct lines of each batch, rows to lines": each(lambda g, raws, u: np.fromiter(
            (d.setdefault(r, len(d)) for d in [{}] for r in raws), dtype=np.int64, count=len(raws))),
        "code points of the batch (UTF-32), ASCII test": t_prep,
        "normalise non-ASCII lines (NFKC, case) in Python": t_wide,
    }
    stages.update(parts)
    stages["page context and its dot product (layout_decision)"] = lambda: [K.layout_decision(*a) for a in args]
    return stages


def io_stages(texts) -> dict:
    """The corpus mode's reading and writing, per record (each scrape one JSON Lines record)."""
    import tempfile

    from noiseclf.corpus import _jsonl_lines

    recs = [{"id": i, "url": f"https://example.org/{i}", "text": t} for i, t in enumerate(texts)]
    raw = [json.dumps(r, ensure_ascii=False) for r in recs]
    tmp = Path(tempfile.mkdtemp()) / "records.jsonl"
    tmp.write_text("".join(x + "\n" for x in raw), encoding="utf-8")
    stages = {
        "read JSON Lines (chunks of 8 MB)": lambda: sum(len(b) for _, _, b in _jsonl_lines([tmp], 256)),
        "json.loads": lambda: [json.loads(x) for x in raw],
        "json.dumps (ensure_ascii=False)": lambda: [json.dumps(r, ensure_ascii=False) for r in recs],
    }
    try:
        import pyarrow as pa

        table = pa.Table.from_pylist(recs)
        stages["Arrow column to Python strings and back"] = lambda: pa.array(table.column("text").to_pylist())
    except ImportError:
        pass
    out = {name: best(fn) for name, fn in stages.items()}
    tmp.unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wcxb", type=Path)
    ap.add_argument("--pages", type=int, default=150)
    ap.add_argument("--path", choices=["kernel", "numpy"], default="kernel")
    ap.add_argument("--cprofile", action="store_true")
    args = ap.parse_args()

    import html_text

    from noiseclf import load_model
    from noiseclf.features import featurizer as featurizer_mod
    from noiseclf.model import as_page

    featurizer_mod.KERNEL_MODE = args.path
    html, what, _ = load_pages(args.wcxb, args.pages)
    texts = [html_text.extract_text(h) for h in html]
    model = load_model().set_cache(0)

    def clean_all():
        for group in batches(texts):
            model.clean_many(group)

    clean_all()  # warm up (code-point table, compiled code)
    pages = [as_page(t) for t in texts]
    n_lines = sum(len(p.lines) for p in pages)
    n_rows = sum(len(p.content) for p in pages)
    n_uniq = sum(len(set(p.lines[i] for p in g for i in p.content)) for g in batches(pages))
    stages = (kernel_stages if args.path == "kernel" else numpy_stages)(model, texts, pages)
    times = {name: fn if isinstance(fn, float) else best(fn) for name, fn in stages.items()}
    total = best(clean_all)
    times["the rest: softmax, page stage, decide, render, Cleaner"] = max(total - sum(times.values()), 0.0)
    print(f"machine: {machine()}\npages:   {what}\npath:    {args.path}")
    print(f"{len(texts)} pages, {n_lines} lines, {n_rows} non-blank, {n_uniq} distinct within their batch of "
          f"{BATCH}; clean_many: {total:.3f} CPU s = {n_lines / total:,.0f} lines/s "
          f"({total / n_rows * 1e6:.2f} us per non-blank line)\n")
    print(f"  {'stage':<72} {'us per non-blank line':>22} {'share':>7}")
    for name, t in times.items():
        print(f"  {name:<72} {t / n_rows * 1e6:>22.2f} {100 * t / total:>6.1f}%")
    io = io_stages(texts)
    print(f"\nI/O of clean --corpus ({len(texts)} records, one a scrape):")
    for name, t in io.items():
        print(f"  {name:<72} {t / n_rows * 1e6:>22.2f}   ({t / len(texts) * 1e6:,.0f} us a record)")
    if args.cprofile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(clean_all)
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
