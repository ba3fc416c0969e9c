"""Choose the page-level stage by site-disjoint cross-validation.

    python -m training.page_stage --wcxb PATH/TO/wcxb-dev --corpus build/corpus

1. The training split's domains are dealt into ``--folds`` site-disjoint folds;
   for each fold, a first stage (the shipped settings, seeds at their weight) is
   fitted on the other folds and predicts it: out-of-fold probabilities, cached
   in ``build/page_stage/oof-KEY.npz``.
2. Every candidate second stage is then scored by a second, independent
   site-disjoint split of the same domains (``--cv`` folds, by another hash):
   fitted on the out-of-fold probabilities of the other folds' domains, scored
   on the held fold's pages. So every training page (272 pages, 1,090 scrapes
   with the shipped build's every-4th-page thinning) is scored once, by a stage
   and a first stage that never saw its domain. Main-text word F1 against
   WCXB's ground truth, by page type, beside the first stage alone.
3. The table goes to stdout (markdown) and ``--json``.

(An earlier protocol scored a fifth of the domains only, 56 pages; its noise
hid the stage's gain: see training/README.md.) Deterministic: fixed folds,
fixed seeds.
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
from noiseclf.labels import labels_hash, load_labels
from noiseclf.model import decide, render
from noiseclf.modelfile import save_model
from noiseclf.pagestage import stage_features
from noiseclf.settings import Settings
from noiseclf.train import fit, pages_and_targets

from .build_model import OOF_EVERY, OOF_FOLDS, OOF_SEED_WEIGHT, STAGE_C, load_rows, read_manifest, select
from .corpus import load_page
from .wordf1 import word_f1

ROOT = Path(__file__).resolve().parent.parent


OOF_JOBS = 2  # folds fitted at once (this machine's 2 cores; each fit uses one)


def _hash(s: str) -> int:
    return int(hashlib.sha1(s.encode("utf-8")).hexdigest()[:8], 16)


def fold_of(domain: str, folds: int) -> int:
    """The first stage's out-of-fold split."""
    return _hash("fold:" + domain) % folds


def cv_fold_of(domain: str, folds: int) -> int:
    """The second stage's cross-validation split (independent of :func:`fold_of`)."""
    return _hash("cv:" + domain) % folds


def _one_fold(scrapes, seeds, folds: int, k: int, settings: Settings, seed_weight: float):
    held = [i for i, s in enumerate(scrapes) if fold_of(s.meta["domain"], folds) == k]
    train = [s for i, s in enumerate(scrapes) if fold_of(s.meta["domain"], folds) != k]
    t = time.perf_counter()
    model = fit(train + seeds, settings, scrape_weights=[1.0] * len(train) + [seed_weight] * len(seeds),
                groups=[s.meta["domain"] for s in train] + [s.name for s in seeds])
    pages = [Page(scrapes[i].lines) for i in held]
    proba = model.predict(pages)
    parts, row = {}, 0
    for i, p in zip(held, pages):
        parts[i] = proba[row: row + len(p)]
        row += len(p)
    return model, parts, len(train), time.perf_counter() - t


def out_of_fold(scrapes, seeds, folds: int, settings: Settings, seed_weight: float, log,
                jobs: int = OOF_JOBS, models: list | None = None) -> list[np.ndarray]:
    """First-stage probabilities of every scrape from a model that never saw its domain (the
    folds' fits are independent: ``jobs`` of them at a time, the same numbers either way).
    ``models``, a list, receives the folds' fitted first stages."""
    from joblib import Parallel, delayed

    out: list[np.ndarray | None] = [None] * len(scrapes)
    results = Parallel(n_jobs=jobs)(delayed(_one_fold)(scrapes, seeds, folds, k, settings, seed_weight)
                                    for k in range(folds))
    labels = None
    for k, (model, parts, n_train, seconds) in enumerate(results):
        labels = model.labels
        if models is not None:
            models.append(model)
        for i, p in parts.items():
            out[i] = p
        log(f"fold {k + 1}/{folds}: fitted on {n_train} scrapes, predicted {len(parts)} in {seconds:.0f} s")
    return out, labels


def cached_out_of_fold(scrapes, seeds, folds: int, settings: Settings, seed_weight: float, cache_dir: Path, log):
    """:func:`out_of_fold`, remembered in ``cache_dir`` under a key of everything it depends on."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache = oof_cache_path(scrapes, seeds, folds, settings, seed_weight, cache_dir)
    if cache.is_file():
        data = np.load(cache, allow_pickle=False)
        log(f"out-of-fold probabilities from {cache}")
        return [data[f"p{i}"] for i in range(len(scrapes))], tuple(str(x) for x in data["labels"])
    models: list = []
    oof, labels = out_of_fold(scrapes, seeds, folds, settings, seed_weight, log, models=models)
    np.savez(cache, labels=np.array(labels), **{f"p{i}": p for i, p in enumerate(oof)})
    for k, model in enumerate(models):  # kept to score pages outside the corpus out of sample
        save_model(model, fold_model_path(cache, k))
    return oof, labels


def oof_cache_path(scrapes, seeds, folds: int, settings: Settings, seed_weight: float, cache_dir: Path) -> Path:
    """The cache file of :func:`cached_out_of_fold`, named by a key of everything it depends on."""
    # The labels too: corpora of two labelling rules hold the same pages (training/README.md).
    key = hashlib.sha1(json.dumps([folds, seed_weight, settings.fit_dict(),
                                   [(s.meta["file_id"], s.meta["tool"]) for s in scrapes],
                                   [s.name for s in seeds], labels_hash(list(scrapes) + list(seeds))]
                                  ).encode()).hexdigest()[:12]
    return cache_dir / f"oof-{key}.npz"


def fold_model_path(cache: Path, k: int) -> Path:
    """Where :func:`cached_out_of_fold` keeps fold ``k``'s first stage, beside its probabilities."""
    return cache.with_name(f"{cache.stem}-fold{k}.noiseclf")


def fit_stage(scrapes, oof, labels, C: float = STAGE_C, class_weight=None, mix: float = 1.0):
    """The page-level stage fitted on out-of-fold first-stage probabilities of ``scrapes``."""
    pages = [Page(s.lines) for s in scrapes]
    _, y = pages_and_targets(scrapes)
    stage = fit_lr(stage_features(np.vstack(oof), pages, labels), y, labels, C, class_weight)
    stage.mix = float(mix)
    return stage


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


def fit_crf(X, y, labels, lengths, c2: float, iterations: int = 150):
    """A linear-chain CRF (python-crfsuite) over the stage's standardised features, one sequence
    per scrape: the LR stage's per-line scores plus learned label transitions. Probabilities are
    the CRF's per-line marginals."""
    import tempfile

    import pycrfsuite

    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    names = [f"f{j}" for j in range(X.shape[1])]

    def items(Z):
        return pycrfsuite.ItemSequence([dict(zip(names, row)) for row in ((Z - mean) / scale).tolist()])

    trainer = pycrfsuite.Trainer(verbose=False)
    start = 0
    for n in lengths:
        trainer.append(items(X[start:start + n]), list(y[start:start + n]))
        start += n
    trainer.set_params({"c1": 0.0, "c2": c2, "max_iterations": iterations})
    path = tempfile.NamedTemporaryFile(suffix=".crfsuite", delete=False).name
    trainer.train(path)
    tagger = pycrfsuite.Tagger()
    tagger.open(path)

    class _CRF:
        def predict_proba(self, proba, pages_):
            tagger.set(items(stage_features(proba, pages_, labels)))
            known = set(tagger.labels())
            return np.array([[tagger.marginal(lab, t) if lab in known else 0.0 for lab in labels]
                             for t in range(len(proba))])
    return _CRF()


CANDIDATES = {
    "first stage alone": None,
    "first stage, min_probability 0.6": ("threshold", 0.6, None),
    "LR stage, C 0.1": ("lr", 0.1, None),
    "LR stage, C 1": ("lr", 1.0, None),
    "LR stage, C 0.1, mean with the first stage (stage 0.25)": ("lr", 0.1, None, 0.25),
    "LR stage, C 0.1, mean with the first stage (stage 0.5)": ("lr", 0.1, None, 0.5),
    "LR stage, C 0.1, mean with the first stage (stage 0.75)": ("lr", 0.1, None, 0.75),
    "LR stage, C 0.1, classes balanced": ("lr", 0.1, "balanced"),
    "LR stage, C 0.1, lines weighted by their words": ("lr-words", 0.1, None),
    "article-or-not LR stage, C 0.1": ("binary", 0.1, None),
    "gradient-boosted trees (HistGradientBoosting)": ("hgb", None, None),
    "the earlier stage's features (noiseclf/context.py), LR C 1, balanced": ("context", 1.0, "balanced"),
    "linear-chain CRF (python-crfsuite), c2 1": ("crf", 1.0, None),
}


def fit_candidate(spec, X, y, w, pages, P, labels):
    kind, C, cw, *mix = spec
    if kind == "crf":
        return fit_crf(X, y, labels, [len(p) for p in pages], C)
    if kind == "threshold":
        return _Threshold(C)
    if kind == "lr":
        stage = fit_lr(X, y, labels, C, cw)
        stage.mix = mix[0] if mix else 1.0
        return stage
    if kind == "lr-words":
        return fit_lr(X, y, labels, C, cw, w)
    if kind == "binary":
        return fit_binary_lr(X, y, labels, C)
    if kind == "context":
        return fit_context_lr(pages, P, y, labels, C, cw)
    return fit_hgb(X, y, labels, cw)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wcxb", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, default=ROOT / "build" / "corpus")
    ap.add_argument("--labels", type=Path, default=ROOT / "labels")
    ap.add_argument("--every", type=int, default=OOF_EVERY, help="every N-th training page (as the shipped build)")
    ap.add_argument("--folds", type=int, default=OOF_FOLDS, help="first stage's out-of-fold split")
    ap.add_argument("--cv", type=int, default=4, help="second stage's cross-validation folds")
    ap.add_argument("--seed-weight", type=float, default=OOF_SEED_WEIGHT)
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "page_stage")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--only", action="append", default=None, help="score only candidates whose name has this")
    ap.add_argument("--relative-drop", type=float, default=None,
                    help="score with the page-relative drop at this level (the shipped decision: 0.4)")
    args = ap.parse_args(argv)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    settings = Settings()
    rows = select(read_manifest(args.corpus), "train", every=args.every)
    scrapes = load_rows(args.corpus, rows)
    seeds = load_labels([args.labels])
    oof, labels = cached_out_of_fold(scrapes, seeds, args.folds, settings, args.seed_weight, args.cache, log)
    pages = [Page(s.lines) for s in scrapes]
    targets = [pages_and_targets([s])[1] for s in scrapes]
    feats = [stage_features(p, [pg], labels) for p, pg in zip(oof, pages)]
    words = [word_counts([s]) for s in scrapes]
    folds = [cv_fold_of(s.meta["domain"], args.cv) for s in scrapes]
    gold = {}
    for s in scrapes:
        fid = s.meta["file_id"]
        if fid not in gold:
            _, gt = load_page(args.wcxb, fid)
            gold[fid] = (gt.get("ground_truth") or {}).get("main_content") or ""
    log(f"{len(scrapes)} scrapes of {len(gold)} pages from {len({s.meta['domain'] for s in scrapes})} domains, "
        f"{args.cv} site-disjoint folds")

    results = {}
    for name, spec in CANDIDATES.items():
        if args.only and not any(o in name for o in args.only):
            continue
        t = time.perf_counter()
        proba = list(oof)
        if spec is not None:
            for f in range(args.cv):
                fit_i = [i for i in range(len(scrapes)) if folds[i] != f]
                stage = fit_candidate(spec, np.vstack([feats[i] for i in fit_i]),
                                      [y for i in fit_i for y in targets[i]],
                                      np.concatenate([words[i] for i in fit_i]),
                                      [pages[i] for i in fit_i], np.vstack([oof[i] for i in fit_i]), labels)
                for i in range(len(scrapes)):
                    if folds[i] == f:
                        proba[i] = (stage, stage.predict_proba(oof[i], [pages[i]]))
        fit_s = time.perf_counter() - t
        by_type = defaultdict(list)
        for i, s in enumerate(scrapes):
            stage, p_i = proba[i] if isinstance(proba[i], tuple) else (None, proba[i])
            minp = getattr(stage, "min_probability", None)
            keep = decide(p_i, labels, None, minp, pages=[pages[i]], relative_drop=args.relative_drop).keep
            prf = word_f1(render(pages[i], keep.tolist()), gold[s.meta["file_id"]])
            by_type[s.meta.get("page_type", "?")].append(prf)
            by_type["all"].append(prf)
        results[name] = {t_: [float(np.mean([x[j] for x in v])) for j in range(3)] + [len(v)]
                         for t_, v in by_type.items()}
        results[name]["fit_seconds"] = round(fit_s, 1)
        a = results[name].get("article", [0, 0, 0, 0])
        log(f"{name}: article F1 {a[2]:.4f} (P {a[0]:.3f} R {a[1]:.3f}), all {results[name]['all'][2]:.4f} "
            f"({fit_s:.0f} s)")

    types = sorted({t for r in results.values() for t in r if t not in ("all", "article", "fit_seconds")})
    print("| stage | article P | article R | article F1 | all F1 | " + " | ".join(types) + " |")
    print("|---|---|---|---|---|" + "---|" * len(types))
    for name, r in results.items():
        a = r.get("article", [float("nan")] * 3)
        print(f"| {name} | {a[0]:.3f} | {a[1]:.3f} | {a[2]:.3f} | {r['all'][2]:.3f} | "
              + " | ".join(f"{r[t][2]:.3f}" if t in r else "" for t in types) + " |")
    print(f"\n{len(scrapes)} scrapes of {len(gold)} training-split pages, each scored by a stage and a "
          f"first stage that never saw its domain ({args.cv} folds).")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
