"""Where the time of cleaning goes: each stage of the fast path timed on its own.

    python benchmarks/profile.py --wcxb /work/shared/data/wcxb-dev [--pages 150] [--cprofile]
    python benchmarks/profile.py            # no data folder: the seeds

The pages are html-text scrapes of the folder's HTML (or the seeds). Each
stage is run alone on the distinct non-blank lines of all pages (as
``Model.clean_many`` runs it) and timed in CPU seconds (best of 3); "the
rest" is the whole ``clean_many`` minus the stages: expanding distinct lines
back to all lines, per-page numpy calls, softmax, rendering the kept text.
``--cprofile`` also prints the 25 most expensive functions of one run.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from speed import load_pages, machine  # noqa: E402


def best(fn, k: int = 3) -> float:
    runs = []
    for _ in range(k):
        c = time.process_time()
        fn()
        runs.append(time.process_time() - c)
    return min(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wcxb", type=Path)
    ap.add_argument("--pages", type=int, default=150)
    ap.add_argument("--cprofile", action="store_true")
    args = ap.parse_args()

    import html_text

    from noiseclf import load_model
    from noiseclf.features import Page, page_layout
    from noiseclf.features import hashing as fp
    from noiseclf.features.shape import line_shapes
    from noiseclf.text import normalize_lines, split_lines

    html, what = load_pages(args.wcxb, args.pages)
    texts = [html_text.extract_text(h) for h in html]
    model = load_model().set_cache(0)
    model.clean_many(texts)  # warm up
    pred, f, s = model.scorer, model.featurizer, model.settings
    pages = [Page(split_lines(t)) for t in texts]
    raws = [p.lines[i] for p in pages for i in p.content]
    uniq = list(dict.fromkeys(raws))
    norm = normalize_lines(uniq)
    short = [x[: s.char_max_len] for x in norm]
    shapes = line_shapes(uniq)
    words = fp.word_counts(norm, s.word_ngrams, f.n_word)
    chars = f._chars.counts(short)
    n_lines = sum(len(p.lines) for p in pages)

    def layouts():
        for p in pages:
            k = len(p.content)
            page_layout(p, shape=shapes[:k] if k <= len(shapes) else None, norm=norm[:k])

    stages = {
        "split into lines, find blank ones": lambda: [Page(split_lines(t)) for t in texts],
        "normalise (NFKC, case, digits)": lambda: normalize_lines(uniq),
        "shape features (23 a line)": lambda: line_shapes(uniq),
        "word n-grams: tokenise, hash, count": lambda: fp.word_counts(norm, s.word_ngrams, f.n_word),
        "char n-grams: per-word hashes, count": lambda: f._chars.counts(short),
        "tf-idf weighting": lambda: (fp.tfidf(words, f.idf_word, s.word_weight),
                                     fp.tfidf(chars, f.idf_char, s.char_weight)),
        "dot product with the coefficients": lambda: (words @ pred.coef_word, chars @ pred.coef_char),
        "page context (page_layout)": layouts,
    }
    times = {name: best(fn) for name, fn in stages.items()}
    total = best(lambda: model.clean_many(texts))
    times["the rest (see above)"] = max(total - sum(times.values()), 0.0)
    print(f"machine: {machine()}\npages:   {what}")
    print(f"{len(texts)} pages, {n_lines} lines, {len(raws)} non-blank, {len(uniq)} distinct; "
          f"clean_many: {total:.3f} CPU s = {n_lines / total:,.0f} lines/s\n")
    print(f"  {'stage':<40} {'us per non-blank line':>22} {'share':>7}")
    for name, t in times.items():
        print(f"  {name:<40} {t / len(raws) * 1e6:>22.2f} {100 * t / total:>6.1f}%")
    if args.cprofile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(model.clean_many, texts)
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
