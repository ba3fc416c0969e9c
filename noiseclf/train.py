"""Training, site-disjoint cross-validation and evaluation.

Everything here is deterministic: the logistic regression's solver is
seeded, folds are formed from sorted scrape names, and no step samples.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from .context import page_context_features
from .errors import LabelsError
from .features import Featurizer, Page
from .labels import LABELS, LabelledScrape, labels_hash
from .model import LinearStage, Model, decide
from .modelfile import library_versions
from .settings import Settings


def pages_and_targets(scrapes: Sequence[LabelledScrape]) -> tuple[list[Page], np.ndarray]:
    pages = [Page(s.lines) for s in scrapes]
    y = np.array([s.labels[i] for s, p in zip(scrapes, pages) for i in p.content], dtype=object)
    return pages, y


def _with_word_dropout(X, y, sample_weight, n_word: int, options: Settings):
    """X with a copy of a random ``options.word_dropout`` share of its rows, word n-gram columns zeroed."""
    import scipy.sparse as sp

    rng = np.random.default_rng(options.random_state)
    rows = np.flatnonzero(rng.random(X.shape[0]) < options.word_dropout)
    copy = X[rows].tocsr(copy=True)
    copy.data[copy.indices < n_word] = 0.0
    copy.eliminate_zeros()
    w = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    return sp.vstack([X, copy], format="csr"), np.concatenate([y, y[rows]]), np.concatenate([w, w[rows]])


def _fit_lines(pages: Sequence[Page], y: np.ndarray, options: Settings,
               sample_weight: np.ndarray | None) -> tuple[Featurizer, LinearStage]:
    """The first stage: featuriser and logistic regression over single lines."""
    from sklearn.linear_model import LogisticRegression

    featurizer = Featurizer(options)
    X = featurizer.fit_transform(pages)
    known = np.array([v is not None for v in y], dtype=bool)
    if not known.all():  # weak labels: unlabelled lines are their neighbours' context, not examples
        X, y = X[known], y[known]
        sample_weight = None if sample_weight is None else np.asarray(sample_weight)[known]
    if options.word_dropout > 0:
        X, y, sample_weight = _with_word_dropout(X, y, sample_weight, featurizer.n_word, options)
    clf = LogisticRegression(
        C=options.C, class_weight=options.class_weight, max_iter=options.max_iter,
        random_state=options.random_state,
    )
    # Hashed columns that no training line touches get a zero weight under L2
    # anyway; fitting on the used columns only gives the same model, much faster.
    used = np.unique(X.indices)
    # The work is sparse products; BLAS threads only contend with each other here.
    with threadpool_limits(1):
        clf.fit(X[:, used], y, sample_weight=sample_weight)
    coef = np.zeros((clf.coef_.shape[0], X.shape[1]))
    coef[:, used] = clf.coef_
    return featurizer, LinearStage(clf.classes_, coef, clf.intercept_)


def fit(
    scrapes: Sequence[LabelledScrape],
    options: Settings | None = None,
    scrape_weights: Sequence[float] | None = None,
    groups: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Model:
    """Fit a model on labelled scrapes (no metadata beyond the basics).

    ``scrape_weights`` gives every line of a scrape that weight (e.g. to make
    a few hand-labelled pages count against a large automatic corpus).
    ``groups`` names each scrape's site, so that the second stage is trained
    on first-stage probabilities of sites held out of the first stage's fit.
    """
    from sklearn.linear_model import LogisticRegression

    options = options or Settings()
    pages, y = pages_and_targets(scrapes)
    present = sorted({v for v in y if v is not None}, key=LABELS.index)
    if len(present) < 2:
        raise LabelsError(
            f"the labels hold only {present or 'no'} lines; training needs at least two labels "
            "(label some noise lines too)"
        )
    weights = list(scrape_weights) if scrape_weights is not None else [1.0] * len(scrapes)
    row_weight = np.concatenate([np.full(len(p), w, dtype=np.float64) for p, w in zip(pages, weights)])
    featurizer, clf = _fit_lines(pages, y, options, row_weight)
    model = Model(featurizer, clf, {"options": options.as_dict()})
    groups = list(groups) if groups is not None else [s.name for s in scrapes]
    folds = site_folds(groups, options.context_folds) if options.context and all(v is not None for v in y) else []
    if len(folds) < 2:
        return model

    # Out-of-fold first-stage probabilities, in the row order of ``pages``.
    offsets = np.r_[0, np.cumsum([len(p) for p in pages])]
    oof = np.zeros((len(y), len(clf.classes_)))
    for n, held in enumerate(folds, 1):
        held_set = set(held)
        rest = [i for i in range(len(pages)) if i not in held_set]
        sub_rows = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in rest])
        f_k, c_k = _fit_lines([pages[i] for i in rest], y[sub_rows], options, row_weight[sub_rows])
        fold_model = Model(f_k, c_k)
        held_sorted = sorted(held)
        proba = fold_model.predict_lines([pages[i] for i in held_sorted])
        # Columns follow the fold model's classes; align them with the full model's.
        aligned = np.zeros((len(proba), len(clf.classes_)))
        for j, c in enumerate(c_k.classes_):
            aligned[:, list(clf.classes_).index(c)] = proba[:, j]
        at = 0
        for i in held_sorted:
            m = len(pages[i])
            oof[offsets[i]:offsets[i + 1]] = aligned[at:at + m]
            at += m
        if progress:
            progress(f"second stage: out-of-fold probabilities {n}/{len(folds)}")
    ctx = LogisticRegression(C=options.context_C, class_weight=options.class_weight,
                             max_iter=options.max_iter, random_state=options.random_state)
    with threadpool_limits(1):
        ctx.fit(page_context_features(oof, pages, list(clf.classes_)), y, sample_weight=row_weight)
    model.context = LinearStage.of(ctx)
    return model


def metrics(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] = LABELS) -> dict:
    """Per-class precision/recall/F1, macro-F1 over the classes present, accuracy, confusion matrix."""
    # numpy, not sklearn.metrics: importing sklearn was 2 s of every `noiseclf train` (the same
    # formulas as sklearn's precision_recall_fscore_support with zero_division=0).
    labels = [lab for lab in labels if lab in set(y_true) | set(y_pred)]
    index = {lab: i for i, lab in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(cm, ([index[v] for v in y_true], [index[v] for v in y_pred]), 1)
    tp, s, predicted = np.diag(cm).astype(float), cm.sum(axis=1), cm.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(predicted > 0, tp / predicted, 0.0)
        r = np.where(s > 0, tp / s, 0.0)
        f = np.where(s + predicted > 0, 2 * tp / (s + predicted), 0.0)
    in_truth = [i for i, lab in enumerate(labels) if s[i] > 0]
    return {
        "per_class": {
            lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                  "f1": round(float(f[i]), 4), "support": int(s[i])}
            for i, lab in enumerate(labels)
        },
        "macro_f1": round(float(np.mean([f[i] for i in in_truth])), 4) if in_truth else 0.0,
        "accuracy": round(float(np.mean(np.asarray(y_true) == np.asarray(y_pred))), 4),
        "article_recall": round(float(r[labels.index("article")]), 4) if "article" in labels else None,
        "confusion": {"labels": list(labels), "matrix": cm.tolist()},
        "lines": int(len(y_true)),
    }


def predict_labels(model: Model, scrapes: Sequence[LabelledScrape]) -> tuple[np.ndarray, np.ndarray]:
    """(true labels, predicted labels) of every labelled line, through the one prediction path.
    Non-blank lines without a label (context only, as ``fit`` reads them) are predicted with
    their page and left out of the pairs."""
    pages, y = pages_and_targets(scrapes)
    best = decide(model.predict(pages), model.labels).best
    pred = np.array(model.labels, dtype=object)[best] if len(best) else np.array([], dtype=object)
    known = np.array([v is not None for v in y], dtype=bool)
    return y[known], pred[known]


def evaluate(model: Model, scrapes: Sequence[LabelledScrape]) -> dict:
    y, pred = predict_labels(model, scrapes)
    return metrics(list(y), list(pred))


def site_folds(groups: Sequence[str], max_folds: int = 10) -> list[list[int]]:
    """Folds of scrape indices such that no group (site) is in two folds.

    With up to ``max_folds`` groups, each group is its own fold (leave one
    site out); with more, groups are dealt round-robin in sorted order.
    """
    names = sorted(set(groups))
    k = min(len(names), max_folds)
    fold_of = {g: i % k for i, g in enumerate(names)}
    folds: list[list[int]] = [[] for _ in range(k)]
    for i, g in enumerate(groups):
        folds[fold_of[g]].append(i)
    return folds


@dataclass
class CrossValidation:
    metrics: dict
    folds: list[dict] = field(default_factory=list)


def cross_validate(
    scrapes: Sequence[LabelledScrape],
    options: Settings | None = None,
    groups: Sequence[str] | None = None,
    max_folds: int = 10,
    progress: Callable[[str], None] | None = None,
) -> CrossValidation:
    """Site-disjoint cross-validation: each fold's scrapes are unseen in its training."""
    groups = list(groups) if groups is not None else [s.name for s in scrapes]
    folds = site_folds(groups, max_folds)
    if len(folds) < 2:
        raise LabelsError("cross-validation needs labels from at least two scrapes (sites); add another")
    all_true: list[str] = []
    all_pred: list[str] = []
    fold_reports = []
    for n, held in enumerate(folds, 1):
        held_set = set(held)
        train = [s for i, s in enumerate(scrapes) if i not in held_set]
        test = [scrapes[i] for i in held]
        model = fit(train, options, groups=[g for i, g in enumerate(groups) if i not in held_set])
        y, pred = predict_labels(model, test)
        all_true.extend(y)
        all_pred.extend(pred)
        m = metrics(list(y), list(pred))
        names = sorted({groups[i] for i in held})
        fold_reports.append({"held_out": names, "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                             "article_recall": m["article_recall"], "lines": m["lines"]})
        if progress:
            progress(f"fold {n}/{len(folds)} held out {', '.join(names)[:60]}: "
                     f"accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}")
    return CrossValidation(metrics(all_true, all_pred), fold_reports)


def training_data_summary(scrapes: Sequence[LabelledScrape], sources: list[str] | None = None) -> dict:
    """What a model's metadata says of its training data (hash, sizes, label counts, sources)."""
    return {
        "sha256": labels_hash(scrapes),
        "scrapes": len(scrapes),
        "lines": int(sum(len(s.labelled_lines()) for s in scrapes)),
        "label_counts": dict(Counter(lab for s in scrapes for lab in s.labels if lab)),
        "sources": sources if sources is not None else sorted(s.name for s in scrapes)[:50],
    }


def train(
    scrapes: Sequence[LabelledScrape],
    options: Settings | None = None,
    cross_validation: bool = True,
    groups: Sequence[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[Model, CrossValidation | None]:
    """Cross-validate (optionally), then fit on everything, with full metadata.

    The metadata holds nothing that differs between two runs on the same labels
    (no timings), so the same labels give the same model file, byte for byte.
    """
    options = options or Settings()
    cv = cross_validate(scrapes, options, groups, progress=progress) if cross_validation else None
    model = fit(scrapes, options, groups=groups)
    model.meta.update(
        {
            "versions": library_versions(),
            "training_data": training_data_summary(scrapes),
            "metrics": {"cross_validation": cv.metrics if cv else None,
                        "folds": cv.folds if cv else None},
        }
    )
    return model, cv
