"""Accuracy against speed for feature settings that change the model.

    python benchmarks/feature_tradeoff.py --corpus build/corpus [--pages 90] [--folds 3]

For each setting: site-disjoint cross-validation (first stage only) on the
first ``--pages`` training pages of the corpus's html-text scrapes (labels from
``training/corpus.py``), then a model fitted on all of them cleans 150
test-split scrapes, timed in CPU seconds. Prints one JSON line per setting.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

# The comparison was made from the settings of the time (C 4, layout weight 1, character
# n-grams on 160 characters); the shipped ones (noiseclf.settings) came out of it.
BEFORE = {"C": 4.0, "layout_weight": 1.0, "char_max_len": 160}
VARIANTS = {
    "baseline: word (1,2), char (2,4), 160 chars": BEFORE,
    "char (3,4)": BEFORE | {"char_ngrams": (3, 4)},
    "char (3,5)": BEFORE | {"char_ngrams": (3, 5)},
    "char on the first 80 chars": BEFORE | {"char_max_len": 80},
    "word (1,1)": BEFORE | {"word_ngrams": (1, 1)},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, required=True, help="output folder of training/corpus.py")
    ap.add_argument("--pages", type=int, default=90)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--tool", default="html-text")
    args = ap.parse_args()

    from noiseclf.labels import load_labels
    from noiseclf.settings import Settings
    from noiseclf.train import cross_validate, fit

    manifest = [json.loads(line) for line in open(args.corpus / "manifest.jsonl", encoding="utf-8")]
    mine = [m for m in manifest if m["tool"] == args.tool]
    train = [m for m in mine if m["split"] == "train" and not m.get("low_alignment")][: args.pages]
    test = [m for m in mine if m["split"] == "test"][:150]
    folder = args.corpus / args.tool
    scrapes = load_labels([folder / f"{m['file_id']}.jsonl" for m in train], [folder])
    domain = {m["file_id"]: m["domain"] for m in train}
    groups = [domain[s.name] for s in scrapes]
    texts = [(folder / f"{m['file_id']}.txt").read_text(encoding="utf-8") for m in test]
    n_lines = sum(t.count("\n") + 1 for t in texts)

    for name, settings in VARIANTS.items():
        opts = Settings(**settings)
        started = time.time()
        cv = cross_validate(scrapes, opts, groups, max_folds=args.folds)
        model = fit(scrapes, opts, groups=groups)
        model.set_cache(0)
        model.clean_many(texts[:5])
        c = time.process_time()
        for i in range(0, len(texts), 64):
            model.clean_many(texts[i:i + 64])
        seconds = time.process_time() - c
        m = cv.metrics
        print(json.dumps({
            "setting": name, "macro_f1": m.get("macro_f1"), "accuracy": m.get("accuracy"),
            "article_f1": m.get("per_class", {}).get("article", {}).get("f1"),
            "lines_per_cpu_s": round(n_lines / seconds), "train_wall_s": round(time.time() - started),
        }), flush=True)


if __name__ == "__main__":
    main()
