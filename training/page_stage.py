"""Choose the page-level stage on site-disjoint validation domains.

    python -m training.page_stage --wcxb PATH/TO/wcxb-dev --corpus build/corpus

1. The training split's domains are dealt into ``--folds`` site-disjoint folds;
   for each fold, a first stage (the shipped settings, seeds at their weight) is
   fitted on the other folds and predicts it: out-of-fold probabilities, cached
   in ``build/page_stage/oof.npz``.
2. A fifth of the training domains (by hash) are *validation* domains: no
   second stage sees them. Second stages are fitted on the others' out-of-fold
   probabilities and scored on the validation pages by main-text word F1
   against WCXB's ground truth, by page type, beside the first stage alone.
3. The table goes to stdout (markdown) and ``--json``.

Deterministic: fixed folds, fixed seeds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from noiseclf.features import Page
from noiseclf.labels import load_labels
from noiseclf.model import decide, render
from noiseclf.pagestage import stage_features
from noiseclf.settings import Settings
from noiseclf.train import fit, pages_and_targets

from .build_model import load_rows, read_manifest, select
from .corpus import load_page
from .wordf1 import word_f1

ROOT = Path(__file__).resolve().parent.parent


def _hash(s: str) -> int:
    return int(hashlib.sha1(s.encode("utf-8")).hexdigest()[:8], 16)


def is_validation(domain: str) -> bool:
    return _hash("validation:" + domain) % 5 == 0


def fold_of(domain: str, folds: int) -> int:
    return _hash("fold:" + domain) % folds


def out_of_fold(scrapes, seeds, folds: int, settings: Settings, seed_weight: float, log) -> list[np.ndarray]:
    """First-stage probabilities of every scrape from a model that never saw its domain."""
    out: list[np.ndarray | None] = [None] * len(scrapes)
    labels = None
    for k in range(folds):
        held = [i for i, s in enumerate(scrapes) if fold_of(s.meta["domain"], folds) == k]
        train = [s for i, s in enumerate(scrapes) if fold_of(s.meta["domain"], folds) != k]
        t = time.perf_counter()
        model = fit(train + seeds, settings, scrape_weights=[1.0] * len(train) + [seed_weight] * len(seeds),
                    groups=[s.meta["domain"] for s in train] + [s.name for s in seeds])
        labels = model.labels
        pages = [Page(scrapes[i].lines) for i in held]
        proba = model.predict(pages)
        row = 0
        for i, p in zip(held, pages):
            out[i] = proba[row: row + len(p)]
            row += len(p)
        log(f"fold {k + 1}/{folds}: fitted on {len(train)} scrapes, predicted {len(held)} "
            f"in {time.perf_counter() - t:.0f} s")
    return out, labels


def cached_out_of_fold(scrapes, seeds, folds: int, settings: Settings, seed_weight: float, cache_dir: Path, log):
    """:func:`out_of_fold`, remembered in ``cache_dir`` under a key of everything it depends on."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha1(json.dumps([folds, seed_weight, settings.as_dict(),
                                   [(s.meta["file_id"], s.meta["tool"]) for s in scrapes],
                                   [s.name for s in seeds]]).encode()).hexdigest()[:12]
    cache = cache_dir / f"oof-{key}.npz"
    if cache.is_file():
        data = np.load(cache, allow_pickle=False)
        log(f"out-of-fold probabilities from {cache}")
        return [data[f"p{i}"] for i in range(len(scrapes))], tuple(str(x) for x in data["labels"])
    oof, labels = out_of_fold(scrapes, seeds, folds, settings, seed_weight, log)
    np.savez(cache, labels=np.array(labels), **{f"p{i}": p for i, p in enumerate(oof)})
    return oof, labels


def fit_stage(scrapes, oof, labels, C: float = 1.0, class_weight=None):
    """The page-level stage fitted on out-of-fold first-stage probabilities of ``scrapes``."""
    pages = [Page(s.lines) for s in scrapes]
    _, y = pages_and_targets(scrapes)
    return fit_lr(stage_features(np.vstack(oof), pages, labels), y, labels, C, class_weight)


def kept_text(page: Page, proba: np.ndarray, labels) -> str:
    return render(page, decide(proba, labels).keep.tolist())


def fit_lr(X, y, labels, C: float, class_weight, sample_weight=None):
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    clf = LogisticRegression(C=C, class_weight=class_weight, max_iter=3000, random_state=0)
    with threadpool_limits(1):
        clf.fit((X - mean) / scale, y, sample_weight=sample_weight)
    order = [list(clf.classes_).index(lab) for lab in labels]
    from noiseclf.pagestage import PageStage

    return PageStage(labels, mean, scale, clf.coef_[order], clf.intercept_[order])


def fit_context_lr(pages, P, y, labels, C: float, class_weight, sample_weight=None):
    """The earlier second stage (noiseclf/context.py): its features, a plain logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    from noiseclf.context import page_context_features

    clf = LogisticRegression(C=C, class_weight=class_weight, max_iter=3000, random_state=0)
    with threadpool_limits(1):
        clf.fit(page_context_features(P, pages, labels), y, sample_weight=sample_weight)
    order = [list(clf.classes_).index(lab) for lab in labels]

    class _Context:
        def predict_proba(self, proba, pages_):
            return clf.predict_proba(page_context_features(proba, pages_, labels))[:, order]
    return _Context()


def fit_binary_lr(X, y, labels, C: float, sample_weight=None):
    """Article or not, from the stage's features; the other labels keep the first stage's proportions."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    clf = LogisticRegression(C=C, max_iter=3000, random_state=0)
    with threadpool_limits(1):
        clf.fit((X - mean) / scale, (np.asarray(y) == "article").astype(int), sample_weight=sample_weight)
    art = list(labels).index("article")

    class _Binary:
        def predict_proba(self, proba, pages_):
            Xp = (stage_features(proba, pages_, labels) - mean) / scale
            pa = clf.predict_proba(Xp)[:, 1]
            rest = np.delete(proba, art, axis=1)
            rest = rest / np.maximum(rest.sum(axis=1, keepdims=True), 1e-12) * (1 - pa)[:, None]
            return np.insert(rest, art, pa, axis=1)
    return _Binary()


def word_counts(scrapes) -> np.ndarray:
    """Words of every labelled line: the weight a line has in main-text word F1."""
    return np.array([max(len(s.lines[i].split()), 1) for s in scrapes for i, lab in enumerate(s.labels)
                     if lab is not None], dtype=np.float64)


class _Threshold:
    def __init__(self, p):
        self.min_probability = p

    def predict_proba(self, proba, pages_):
        return proba


def fit_hgb(X, y, labels, class_weight):
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, max_leaf_nodes=31,
                                         class_weight=class_weight, random_state=0)
    clf.fit(X, y)
    order = [list(clf.classes_).index(lab) for lab in labels]

    class _HGB:
        def predict_proba(self, proba, pages):
            return clf.predict_proba(stage_features(proba, pages, labels))[:, order]
    return _HGB()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wcxb", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, default=ROOT / "build" / "corpus")
    ap.add_argument("--labels", type=Path, default=ROOT / "labels")
    ap.add_argument("--every", type=int, default=4, help="every N-th training page (as the shipped build)")
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--seed-weight", type=float, default=20.0)
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "page_stage")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--quick", action="store_true", help="leave out the slow gradient-boosted stage")
    args = ap.parse_args(argv)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    settings = Settings()
    rows = select(read_manifest(args.corpus), "train", every=args.every)
    scrapes = load_rows(args.corpus, rows)
    seeds = load_labels([args.labels])
    oof, labels = cached_out_of_fold(scrapes, seeds, args.folds, settings, args.seed_weight, args.cache, log)

    val = [i for i, s in enumerate(scrapes) if is_validation(s.meta["domain"])]
    fit_idx = [i for i, s in enumerate(scrapes) if not is_validation(s.meta["domain"])]
    log(f"{len(fit_idx)} scrapes to fit second stages, {len(val)} validation scrapes "
        f"({len({scrapes[i].meta['domain'] for i in val})} domains)")

    pages_fit = [Page(scrapes[i].lines) for i in fit_idx]
    _, y_fit = pages_and_targets([scrapes[i] for i in fit_idx])
    P_fit = np.vstack([oof[i] for i in fit_idx])
    X_fit = stage_features(P_fit, pages_fit, labels)

    gold = {}
    for i in val:
        fid = scrapes[i].meta["file_id"]
        if fid not in gold:
            _, gt = load_page(args.wcxb, fid)
            gold[fid] = (gt.get("ground_truth") or {}).get("main_content") or ""

    candidates = {"first stage alone": None}
    for p in (0.6, 0.7, 0.8):
        candidates[f"first stage, min_probability {p}"] = ("threshold", p, None)
    for C in (0.1, 1.0):
        for cw in (None, "balanced"):
            candidates[f"LR stage, C {C}, {cw or 'unweighted'}"] = ("lr", C, cw)
    candidates["LR stage, C 1, lines weighted by words"] = ("lr-words", 1.0, None)
    candidates["article-or-not LR stage, C 1, lines weighted by words"] = ("binary-words", 1.0, None)
    candidates["article-or-not LR stage, C 1"] = ("binary", 1.0, None)
    if not args.quick:
        candidates["gradient-boosted stage, unweighted"] = ("hgb", None, None)
    candidates["earlier second stage's features (context.py), C 1, balanced"] = ("context", 1.0, "balanced")
    w_fit = word_counts([scrapes[i] for i in fit_idx])

    results = {}
    for name, spec in candidates.items():
        t = time.perf_counter()
        stage = None
        if spec is not None and spec[0] == "threshold":
            stage = _Threshold(spec[1])
        elif spec is not None and spec[0] == "lr":
            stage = fit_lr(X_fit, y_fit, labels, spec[1], spec[2])
        elif spec is not None and spec[0] == "lr-words":
            stage = fit_lr(X_fit, y_fit, labels, spec[1], None, w_fit)
        elif spec is not None and spec[0] in ("binary", "binary-words"):
            stage = fit_binary_lr(X_fit, y_fit, labels, spec[1], w_fit if spec[0] == "binary-words" else None)
        elif spec is not None and spec[0] == "context":
            stage = fit_context_lr(pages_fit, P_fit, y_fit, labels, spec[1], spec[2])
        elif spec is not None:
            stage = fit_hgb(X_fit, y_fit, labels, spec[2])
        fit_s = time.perf_counter() - t
        by_type = defaultdict(list)
        for i in val:
            s = scrapes[i]
            page = Page(s.lines)
            proba = oof[i] if stage is None else stage.predict_proba(oof[i], [page])
            minp = getattr(stage, "min_probability", None)
            p, r, f = word_f1(render(page, decide(proba, labels, None, minp).keep.tolist()), gold[s.meta["file_id"]])
            by_type[s.meta.get("page_type", "?")].append((p, r, f))
            by_type["all"].append((p, r, f))
        results[name] = {t_: [float(np.mean([x[j] for x in v])) for j in range(3)] + [len(v)]
                         for t_, v in by_type.items()}
        results[name]["fit_seconds"] = round(fit_s, 1)
        a = results[name].get("article", [0, 0, 0, 0])
        log(f"{name}: article F1 {a[2]:.4f} (P {a[0]:.3f} R {a[1]:.3f}), all {results[name]['all'][2]:.4f}")

    types = sorted({t for r in results.values() for t in r if t not in ("all", "fit_seconds")})
    print("| stage | article P | article R | article F1 | all F1 | " + " | ".join(types) + " |")
    print("|---|---|---|---|---|" + "---|" * len(types))
    for name, r in results.items():
        a = r.get("article", [float("nan")] * 3)
        print(f"| {name} | {a[0]:.3f} | {a[1]:.3f} | {a[2]:.3f} | {r['all'][2]:.3f} | "
              + " | ".join(f"{r[t][2]:.3f}" if t in r else "" for t in types) + " |")
    n_pages = len({scrapes[i].meta["file_id"] for i in val})
    print(f"\n{len(val)} validation scrapes of {n_pages} pages from "
          f"{len({scrapes[i].meta['domain'] for i in val})} training-split domains no second stage saw.")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
