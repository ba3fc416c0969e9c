"""Teach an existing model a new site layout from a page or two of labels.

A user who labels a few pages of a new site has a few hundred lines; the
shipped model was trained on a corpus the user does not have. Training on
the new lines alone would forget everything else, and retraining on both is
impossible. So we *fine-tune*: keep the base model's featuriser exactly as it
is (hashing, IDF weights, layout scaling) and move its logistic-regression
weights only as far as the new labels demand::

    minimise   C * sum_i s_i * CE(softmax(W x_i + b), y_i)
             + 1/2 * sum_j pull_j * ||W_j - W_base,j||^2 + 1/2 * ||b - b_base||^2

``CE`` is the multinomial cross-entropy and ``s_i`` a class weight (classes
balanced on the new lines, as in the base training). The penalty pulls every
weight towards the base model's value instead of towards zero, so a column the
new lines never touch keeps its base weight exactly, and the columns they do
touch move as little as fits them. ``pull_j = 1 + importance * df_j * E[x_j^2]``
holds a weight as firmly as the base data behind it (``df_j``: base lines that
used column j, read back from the IDF weights; see :func:`_base_support`): a
character n-gram or layout feature every line has barely moves, a site's own
menu words are free to. Only the columns the new lines touch and the
intercepts are optimised, with scipy's L-BFGS: a few thousand to a few tens of
thousands of parameters per class, a second or a few. The base's second stage
(neighbours' probabilities) is kept unchanged by default.

The defaults (C = 4, importance 1, second stage kept) were chosen with
``benchmarks/adaptation.py``; ``training/README.md`` gives the comparison.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import scipy.optimize
import scipy.sparse as sp

from .errors import LabelsError
from .labels import LabelledScrape, labels_hash
from .model import LinearStage, Model, softmax
from .modelfile import library_versions
from .train import metrics, pages_and_targets, predict_labels

# Chosen with benchmarks/adaptation.py (training/README.md). Not the base training's C
# (0.5, noiseclf.settings): a user's few new lines must count for more than a corpus line.
DEFAULT_C = 4.0
# A class the base model has never seen starts with zero weights and this intercept
# below the base's lowest one, so it is only predicted where the new labels push it.
NEW_CLASS_INTERCEPT_OFFSET = 2.0


@dataclass
class AdaptOptions:
    C: float = DEFAULT_C
    class_weight: str | None = "balanced"
    max_iter: int = 500
    tol: float = 1e-6
    # Multiplies the pull towards the base on the layout columns and intercepts: the
    # knowledge that carries across sites (line shape, position) moves less than the
    # site's own words (its menu items, footer text), which the new labels teach best.
    layout_pull: float = 1.0
    # The base's second stage (noiseclf/context.py, over neighbours' probabilities), if it
    # has one: "refit" fine-tunes it the same way on the new pages' fine-tuned first-stage
    # probabilities; "keep" leaves it; "drop" removes it. Chosen with the benchmark.
    context: str = "keep"
    # How much of the base's own training stands behind each weight (an elastic-weight-
    # consolidation style pull): a column used by many base lines (a common word, a
    # character n-gram every line has, a layout feature) is held firmly; a rare one (a
    # site's menu item) is free to move. 0 turns this off (uniform pull).
    importance: float = 1.0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def _multiclass_weights(model: Model) -> tuple[np.ndarray, np.ndarray]:
    """The base classifier as one weight row and one intercept per class."""
    coef = np.asarray(model.classifier.coef_, dtype=np.float64)
    intercept = np.asarray(model.classifier.intercept_, dtype=np.float64)
    if len(model.labels) == 2 and coef.shape[0] == 1:  # binary: p(class 1) = sigmoid(w x + b)
        coef = np.vstack([np.zeros_like(coef[0]), coef[0]])
        intercept = np.array([0.0, intercept[0]])
    return coef, intercept


def _fit_near(X: sp.csr_matrix, y_idx: np.ndarray, sample_weight: np.ndarray,
              W0: np.ndarray, b0: np.ndarray, options: AdaptOptions,
              pull: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Minimise the penalised loss over W (K x u) and b (K), starting at the base.

    ``pull`` (one value per column, default 1) scales the penalty column by column.
    """
    K, u = W0.shape
    pull = np.ones(u) if pull is None else np.asarray(pull, dtype=np.float64)
    pull_b = float(options.layout_pull)
    n = X.shape[0]
    Y = np.zeros((n, K))
    Y[np.arange(n), y_idx] = 1.0
    Xt = X.T.tocsr()
    C = options.C
    sw = sample_weight[:, None]

    def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        W = theta[: K * u].reshape(K, u)
        b = theta[K * u:]
        Z = np.asarray(X @ W.T) + b
        zmax = Z.max(axis=1, keepdims=True)
        logsum = zmax[:, 0] + np.log(np.exp(Z - zmax).sum(axis=1))
        ce = logsum - (Z * Y).sum(axis=1)
        P = softmax(Z)
        R = C * sw * (P - Y)  # n x K
        dW = np.asarray((Xt @ R).T) + (W - W0) * pull
        db = R.sum(axis=0) + (b - b0) * pull_b
        loss = (C * float(sample_weight @ ce) + 0.5 * float((((W - W0) ** 2) * pull).sum())
                + 0.5 * pull_b * float(((b - b0) ** 2).sum()))
        return loss, np.concatenate([dW.ravel(), db])

    theta0 = np.concatenate([W0.ravel(), b0])
    # The problem is small; BLAS threads only fight over the cores (10x slower on a busy machine).
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        res = scipy.optimize.minimize(
            loss_grad, theta0, jac=True, method="L-BFGS-B",
            options={"maxiter": options.max_iter, "gtol": options.tol},
        )
    theta = res.x
    info = {"iterations": int(res.nit), "converged": bool(res.success), "loss": round(float(res.fun), 4)}
    return theta[: K * u].reshape(K, u), theta[K * u:], info


def _base_support(featurizer, Xu: sp.csr_matrix, used: np.ndarray, n_text: int) -> np.ndarray:
    """Per used column: (estimated base lines using it) x (its typical squared value).

    The base's document frequencies are read back from its IDF weights
    (idf = ln((1 + n) / (1 + df)) + 1, and an unused hash bucket has df = 0, so
    n = e^(max idf - 1) - 1); layout columns are used by every line.
    """
    idf = np.concatenate([np.asarray(featurizer.idf_word, dtype=np.float64),
                          np.asarray(featurizer.idf_char, dtype=np.float64)])
    n_base = math.exp(float(idf.max()) - 1.0) - 1.0
    df = np.full(len(used), n_base)
    text = used < n_text
    df[text] = np.clip((1.0 + n_base) * np.exp(1.0 - idf[used[text]]) - 1.0, 0.0, n_base)
    sq = Xu.multiply(Xu).tocsc()
    nnz = np.maximum(np.diff(sq.indptr), 1)
    mean_sq = np.asarray(sq.sum(axis=0)).ravel() / nnz
    return df * mean_sq


def fine_tune(base: Model, scrapes: Sequence[LabelledScrape], options: AdaptOptions | None = None) -> Model:
    """A copy of ``base`` whose weights are moved to fit ``scrapes`` (see module doc)."""
    options = options or AdaptOptions()
    if not scrapes:
        raise LabelsError("no labelled scrapes to learn from; label a page first (noiseclf label PAGE)")
    pages, y = pages_and_targets(scrapes)
    if len(y) == 0:
        raise LabelsError("the labels hold no labelled lines; label some lines first")
    classes = sorted(set(base.labels) | set(y))
    W_base, b_base = _multiclass_weights(base)
    K, D = len(classes), W_base.shape[1]
    W_full = np.zeros((K, D))
    b_full = np.full(K, float(b_base.min()) - NEW_CLASS_INTERCEPT_OFFSET)
    for k, lab in enumerate(classes):
        if lab in base.labels:
            j = base.labels.index(lab)
            W_full[k] = W_base[j]
            b_full[k] = b_base[j]

    X = base.featurizer.transform(pages).tocsr()
    used = np.unique(X.indices)
    Xu = X[:, used].astype(np.float64).tocsr()
    y_idx = np.array([classes.index(lab) for lab in y])
    if options.class_weight == "balanced":
        counts = np.bincount(y_idx, minlength=K).astype(np.float64)
        present = counts > 0
        per_class = np.zeros(K)
        per_class[present] = len(y_idx) / (present.sum() * counts[present])
        sample_weight = per_class[y_idx]
    else:
        sample_weight = np.ones(len(y_idx))
    n_text = base.featurizer.n_word + base.featurizer.n_char
    pull = np.where(used >= n_text, options.layout_pull, 1.0)  # layout columns come after the n-grams
    if options.importance > 0:
        pull = pull + options.importance * _base_support(base.featurizer, Xu, used, n_text)
    W_used, b_new, info = _fit_near(Xu, y_idx, sample_weight, W_full[:, used], b_full, options, pull)
    W_full[:, used] = W_used

    if K == 2:  # a binary logistic regression has one row: p(class 1) = sigmoid(w x + b)
        clf = LinearStage(classes, (W_full[1] - W_full[0])[None, :], np.array([b_new[1] - b_new[0]]))
    else:
        clf = LinearStage(classes, W_full, b_new)
    meta = {k: v for k, v in base.meta.items()
            if k not in ("arrays_sha256", "labels", "classifier", "featurizer", "format", "format_version")}
    model = Model(base.featurizer, clf, meta)
    model.fit_info = {**info, "columns_updated": int(len(used))}
    if base.context is not None and options.context == "keep":
        model.context = base.context
    elif base.context is not None and options.context == "refit":
        model.context = _refit_context(base, model, pages, y, classes, options)
        model.fit_info["context"] = "refit"
    return model


def _refit_context(base: Model, tuned: Model, pages, y, classes, options: AdaptOptions):
    """Fine-tune the second stage towards its base weights on the tuned first stage's output."""
    from .context import page_context_features

    ctx = base.context
    if list(ctx.classes_) != list(classes):
        return None  # a new class: the base's second stage cannot speak for it
    proba = tuned.predict_lines(pages)
    F = sp.csr_matrix(page_context_features(proba, pages, list(classes)))
    W0, b0 = np.asarray(ctx.coef_, dtype=np.float64), np.asarray(ctx.intercept_, dtype=np.float64)
    if W0.shape[0] == 1:  # binary
        W0, b0 = np.vstack([np.zeros_like(W0[0]), W0[0]]), np.array([0.0, b0[0]])
    y_idx = np.array([classes.index(lab) for lab in y])
    W, b, _ = _fit_near(F, y_idx, np.ones(len(y_idx)), W0, b0, options)
    if len(classes) == 2:
        W, b = (W[1] - W[0])[None, :], np.array([b[1] - b[0]])
    return LinearStage(classes, W, b)


def _data_summary(scrapes: Sequence[LabelledScrape]) -> dict:
    return {
        "sha256": labels_hash(scrapes),
        "scrapes": len(scrapes),
        "lines": int(sum(len(s.labelled_lines()) for s in scrapes)),
        "label_counts": dict(Counter(lab for s in scrapes for lab in s.labels if lab)),
        "sources": sorted(s.name for s in scrapes)[:50],
    }


def holdout_report(base: Model, scrapes: Sequence[LabelledScrape], options: AdaptOptions,
                   groups: Sequence[str] | None = None, max_folds: int = 10,
                   progress: Callable[[str], None] | None = None) -> dict | None:
    """Leave one scrape (group) of the new labels out: base vs fine-tuned on it.

    Measures what a user cares about: how well the model labels a page of the
    new site that it was *not* taught, before and after fine-tuning on the rest.
    """
    from .train import site_folds

    groups = list(groups) if groups is not None else [s.name for s in scrapes]
    if len(set(groups)) < 2:
        return None
    folds = site_folds(groups, max_folds)
    t_all, before_all, after_all, rows = [], [], [], []
    for held in folds:
        held_set = set(held)
        train = [s for i, s in enumerate(scrapes) if i not in held_set]
        test = [scrapes[i] for i in held]
        tuned = fine_tune(base, train, options)
        y, before = predict_labels(base, test)
        _, after = predict_labels(tuned, test)
        t_all += list(y)
        before_all += list(before)
        after_all += list(after)
        acc_b = float(np.mean(y == before)) if len(y) else 0.0
        acc_a = float(np.mean(y == after)) if len(y) else 0.0
        names = sorted({groups[i] for i in held})
        rows.append({"held_out": names, "accuracy_before": round(acc_b, 4), "accuracy_after": round(acc_a, 4),
                     "lines": int(len(y))})
        if progress:
            progress(f"held out {', '.join(names)[:60]}: accuracy {acc_b:.3f} -> {acc_a:.3f}")
    return {"before": metrics(t_all, before_all), "after": metrics(t_all, after_all), "folds": rows}


def retention_report(base: Model, tuned: Model, other: Sequence[LabelledScrape]) -> dict:
    """Accuracy on labelled data that was *not* used for fine-tuning, before and after."""
    y, before = predict_labels(base, other)
    _, after = predict_labels(tuned, other)
    return {"before": metrics(list(y), list(before)), "after": metrics(list(y), list(after)),
            "sources": sorted(s.name for s in other)[:50]}


def adapt(
    base: Model,
    scrapes: Sequence[LabelledScrape],
    options: AdaptOptions | None = None,
    base_path: str | Path | None = None,
    holdout: bool = True,
    check: Sequence[LabelledScrape] = (),
    progress: Callable[[str], None] | None = None,
) -> tuple[Model, dict]:
    """Fine-tune ``base`` on ``scrapes`` and record where the model came from.

    Returns the model and a report: held-out accuracy on the new labels
    (leave one scrape out, before/after), the fit on all of them, and, when
    ``check`` is given, accuracy kept on that other labelled data.
    """
    options = options or AdaptOptions()
    started = time.perf_counter()
    report: dict = {}
    if holdout:
        report["new_data_holdout"] = holdout_report(base, scrapes, options, progress=progress)
    t0 = time.perf_counter()
    model = fine_tune(base, scrapes, options)
    fit_seconds = time.perf_counter() - t0
    report["new_data_fit"] = {"before": evaluate_on(base, scrapes), "after": evaluate_on(model, scrapes)}
    if check:
        report["retention"] = retention_report(base, model, check)
    base_meta = base.meta
    base_info = {
        "name": Path(base_path).name if base_path else "default.noiseclf",
        "sha256": file_sha256(base_path) if base_path and Path(base_path).is_file() else None,
        "arrays_sha256": base_meta.get("arrays_sha256"),
        "training_data_sha256": (base_meta.get("training_data") or {}).get("sha256"),
    }
    lineage = list(base_meta.get("lineage", []))
    if "adaptation" in base_meta:
        lineage.append(base_meta["adaptation"])
    model.meta["lineage"] = lineage
    model.meta["versions"] = library_versions()
    model.meta["adaptation"] = {
        "method": "fine-tune logistic regression towards the base weights (L2 to W_base, L-BFGS)",
        "base": base_info,
        "new_data": _data_summary(scrapes),
        "options": options.as_dict(),
        "fit": getattr(model, "fit_info", {}),
        "fit_seconds": round(fit_seconds, 3),
        "seconds": round(time.perf_counter() - started, 3),
        "metrics": _compact(report),
    }
    return model, report


def evaluate_on(model: Model, scrapes: Sequence[LabelledScrape]) -> dict:
    y, pred = predict_labels(model, scrapes)
    return metrics(list(y), list(pred))


def _compact(report: dict) -> dict:
    """The report without confusion matrices (they stay in the printed output)."""
    def strip(m):
        if isinstance(m, dict):
            return {k: strip(v) for k, v in m.items() if k != "confusion"}
        if isinstance(m, list):
            return [strip(v) for v in m]
        return m
    return strip(report)
