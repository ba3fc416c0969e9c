"""Teach an existing model a new site layout from a page or two of labels.

Two ways, chosen with ``noiseclf train --scope``:

* ``site`` (the default): :func:`adapt_site`. The base model's arrays stay as
  they are; the model gains a *site profile* per labelled site
  (:mod:`noiseclf.siteprofile`: the labelled pages as masked line hashes, their
  labels, the site's names), which moves the probabilities of that site's pages
  only. Pages of other sites get exactly the base model's labels.
  :func:`fit_profile` builds a profile (optionally with a residual adapter,
  off by default: measured no better, training/README.md).
* ``global``: :func:`adapt` / :func:`fine_tune`, below. The weights move for
  every page, so other sites can get worse; ``train``'s harm check then
  usually refuses to write the model.

Global fine-tuning: a user who labels a few pages of a new site has a few hundred lines; the
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
``benchmarks/adaptation_wcxb.py`` (WCXB's automatic labels); ``training/README.md``
gives the comparison, and why site-scoped adaptation replaced it as the default.
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
              pull: np.ndarray | None = None, offset: np.ndarray | None = None,
              max_iter: int | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Minimise the penalised loss over W (K x u) and b (K), starting at the base.

    ``pull`` (one value per column, default 1) scales the penalty column by column;
    ``offset`` (n x K), when given, is added to every line's logits (a residual fit).
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
        if offset is not None:
            Z = Z + offset
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
        import scipy.optimize  # here: a second of import that only --scope global needs

        res = scipy.optimize.minimize(
            loss_grad, theta0, jac=True, method="L-BFGS-B",
            options={"maxiter": max_iter or options.max_iter, "gtol": options.tol},
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


# -- site-scoped adaptation (noiseclf/siteprofile.py) ----------------------------

@dataclass
class ProfileOptions:
    """How a site profile's adapter is fitted (chosen with benchmarks/adaptation.py)."""

    C: float = 4.0  # weight of the site's labelled lines against the pull towards the base
    importance: float = 1.0  # the per-column pull, as in AdaptOptions
    max_iter: int = 150
    adapter: bool = False  # True: also a residual logistic regression (measured: no better; see training/README.md)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def base_probabilities(model: Model, pages) -> np.ndarray:
    """The model's probabilities without its site profiles and site memory (what a profile adjusts)."""
    from .bounds import bounded_predict

    return bounded_predict(model._predict_unbounded, pages)


def fit_profile(base: Model, scrapes: Sequence[LabelledScrape], names: Sequence[str] = (),
                options: ProfileOptions | None = None):
    """A site profile from the labelled pages of one site (see noiseclf/siteprofile.py).

    The adapter is a residual logistic regression: the base model's log-probabilities
    are its offset, its weights start at zero and are pulled towards zero (so towards
    the base's behaviour) as firmly as the base data behind each column, and only the
    columns the site's lines use are fitted.
    """
    from .siteprofile import SitePage, SiteProfile, line_keys, site_key

    options = options or ProfileOptions()
    pages, y = pages_and_targets(scrapes)
    if len(y) == 0:
        raise LabelsError("the labels hold no labelled lines; label some lines first")
    labels = tuple(base.labels)
    unknown = sorted(set(y) - set(labels))
    if unknown:
        raise LabelsError(f"the base model has no label {', '.join(unknown)}; train --from-scratch to add one")
    K = len(labels)
    y_idx = np.array([labels.index(lab) for lab in y])
    offset = np.log(np.clip(base_probabilities(base, pages), 1e-12, 1.0))
    site_pages, row = [], 0
    for s, p in zip(scrapes, pages):
        # the shape evidence's points: the base's log-probabilities and the words of each line
        points = np.column_stack([offset[row:row + len(p)], p.words]).astype(np.float32)
        site_pages.append(SitePage(s.name, line_keys(p), y_idx[row:row + len(p)].tolist(), points))
        row += len(p)
    info: dict = {"pages": len(scrapes), "lines": int(len(y))}
    kw = {}
    if options.adapter:
        t0 = time.perf_counter()
        X = base.featurizer.transform(pages).tocsr()
        used = np.unique(X.indices)
        Xu = X[:, used].astype(np.float64).tocsr()
        counts = np.bincount(y_idx, minlength=K).astype(np.float64)
        present = counts > 0
        per_class = np.zeros(K)
        per_class[present] = len(y_idx) / (present.sum() * counts[present])
        n_text = base.featurizer.n_word + base.featurizer.n_char
        pull = np.ones(len(used))
        if options.importance > 0:
            pull = pull + options.importance * _base_support(base.featurizer, Xu, used, n_text)
        fit_opts = AdaptOptions(C=options.C)
        W, b, fit = _fit_near(Xu, y_idx, per_class[y_idx], np.zeros((K, len(used))), np.zeros(K), fit_opts,
                              pull, offset=offset, max_iter=options.max_iter)
        keep = np.abs(W).max(axis=0) > 1e-7
        kw = {"cols": used[keep], "delta": W[:, keep], "bias": b}
        info |= {"adapter": {**fit, "columns": int(keep.sum()), "seconds": round(time.perf_counter() - t0, 3)}}
    names = tuple(dict.fromkeys(n for n in (site_key(x) for x in names) if n))
    return SiteProfile(names, labels, site_pages, info=info, **kw)


def site_groups(scrapes: Sequence[LabelledScrape], site: str | None = None, per_folder: bool = False
                ) -> list[tuple[tuple[str, ...], list[LabelledScrape]]]:
    """The labelled scrapes as sites: (names, scrapes) per site.

    ``site``: all are pages of that site; ``per_folder``: each labels folder is a site
    (named after the folder); neither: pages that share their template lines (menus,
    footers: :func:`noiseclf.siteprofile.same_site`) are one site without a name,
    recognised by those lines when cleaning.
    """
    from .siteprofile import line_keys, same_site
    from .features import Page

    if site:
        return [((site,), list(scrapes))]
    if per_folder:
        by: dict[str, list] = {}
        for s in scrapes:
            by.setdefault(Path(s.labels_path).resolve().parent.name, []).append(s)
        return [((name,), group) for name, group in sorted(by.items())]
    keys = [line_keys(Page(s.lines)) for s in scrapes]
    parent = list(range(len(scrapes)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(scrapes)):
        for j in range(i + 1, len(scrapes)):
            if find(i) != find(j) and same_site(keys[i], keys[j]):
                parent[find(j)] = find(i)
    groups: dict[int, list] = {}
    for i, s in enumerate(scrapes):
        groups.setdefault(find(i), []).append(s)
    return [((), g) for _, g in sorted(groups.items())]


def _profile_labels(model: Model, profile, scrapes) -> tuple[np.ndarray, np.ndarray]:
    from .siteprofile import profile_predict

    pages, y = pages_and_targets(scrapes)
    proba = profile_predict(model, profile, pages)
    return y, np.array(model.labels, dtype=object)[proba.argmax(axis=1)]


def _keep_accuracy(y, pred) -> float:
    y, pred = np.asarray(y), np.asarray(pred)
    return float(np.mean((y == "article") == (pred == "article"))) if len(y) else 0.0


def site_holdout_report(base: Model, stage: dict, groups, options: ProfileOptions) -> dict | None:
    """Each labelled page of a site with two or more, held out in turn: the base model
    against the profile of the site's other labelled pages, on it."""
    t_all, before_all, after_all, rows = [], [], [], []
    probe = Model(base.featurizer, base.classifier, {}, context=base.context, stage=base.stage,
                  markup_stage=base.markup_stage)
    probe.site_stage = stage
    for names, scrapes in groups:
        if len(scrapes) < 2:
            continue
        for i, held in enumerate(scrapes):
            rest = [s for j, s in enumerate(scrapes) if j != i]
            prof = fit_profile(base, rest, names, options)
            y, before = predict_labels(base, [held])
            _, after = _profile_labels(probe, prof, [held])
            t_all += list(y)
            before_all += list(before)
            after_all += list(after)
            rows.append({"held_out": [held.name], "lines": int(len(y)),
                         "accuracy_before": round(float(np.mean(y == before)), 4),
                         "accuracy_after": round(float(np.mean(y == after)), 4),
                         "keep_accuracy_before": round(_keep_accuracy(y, before), 4),
                         "keep_accuracy_after": round(_keep_accuracy(y, after), 4)})
    if not rows:
        return None
    return {"before": metrics(t_all, before_all), "after": metrics(t_all, after_all), "folds": rows,
            "keep_accuracy_before": round(_keep_accuracy(t_all, before_all), 4),
            "keep_accuracy_after": round(_keep_accuracy(t_all, after_all), 4)}


def with_profiles(base: Model, profiles, stage: dict) -> Model:
    """A copy of ``base`` (the same arrays) whose site profiles are ``profiles``."""
    meta = {k: v for k, v in base.meta.items()
            if k not in ("arrays_sha256", "labels", "classifier", "featurizer", "format", "format_version",
                         "site_profiles")}
    model = Model(base.featurizer, base.classifier, meta, context=base.context, stage=base.stage,
                  markup_stage=base.markup_stage)
    model._scorer = base._scorer  # same weights: share the line cache
    model.profiles = list(profiles)
    model.site_stage = stage
    return model


def merge_profiles(old, new) -> list:
    """The base's profiles with the new ones: a new profile takes the place of an old one of
    the same name (keeping the old one's labelled pages that were not given again)."""
    from .siteprofile import SiteProfile

    out = list(old)
    for p in new:
        hit = next((i for i, q in enumerate(out) if p.names and set(p.names) & set(q.names)), None)
        if hit is None:
            out.append(p)
            continue
        q = out[hit]
        given = {tuple(sp.keys) for sp in p.pages}
        kept = [sp for sp in q.pages if tuple(sp.keys) not in given]
        names = tuple(dict.fromkeys(p.names + q.names))
        out[hit] = SiteProfile(names, p.labels, kept + p.pages, p.cols, p.delta, p.bias,
                               info={**p.info, "pages": len(kept) + len(p.pages)})
    return out


def _unfitted(profile, scrapes, y, pred) -> list[dict]:
    """The labelled lines the new model gets wrong on their own page, each with the lines of the
    same text (numbers and dates masked) that were given another label: the contradictions."""
    where: dict[str, list[tuple[int, int]]] = {}
    for pi, p in enumerate(profile.pages):
        for r, k in enumerate(p.keys):
            where.setdefault(k, []).append((pi, r))
    numbers = [[n for n, _, _ in s.labelled_lines()] for s in scrapes]
    out, row = [], 0
    for pi, p in enumerate(profile.pages):
        for r in range(len(p.keys)):
            if y[row + r] != pred[row + r]:
                others = [{"scrape": str(scrapes[qi].scrape_path), "line": numbers[qi][qr],
                           "label": profile.labels[profile.pages[qi].labels[qr]]}
                          for qi, qr in where[p.keys[r]] if profile.pages[qi].labels[qr] != p.labels[r]]
                out.append({"scrape": str(scrapes[pi].scrape_path), "line": numbers[pi][r], "label": str(y[row + r]),
                            "predicted": str(pred[row + r]), "contradicted_by": others})
        row += len(p.keys)
    return out


def adapt_site(
    base: Model,
    scrapes: Sequence[LabelledScrape],
    groups: Sequence[tuple[tuple[str, ...], list[LabelledScrape]]] | None = None,
    options: ProfileOptions | None = None,
    base_path: str | Path | None = None,
    holdout: bool = True,
    check: Sequence[LabelledScrape] = (),
    stage: dict | None = None,
) -> tuple[Model, dict]:
    """Site-scoped adaptation: ``base`` plus a profile per labelled site (noiseclf/siteprofile.py).

    The base's arrays are not changed, so pages of other sites get exactly the base's
    predictions. Returns the model and a report: the fit on the labelled pages (each
    with its site's profile), leave-one-page-out within each site of two or more
    labelled pages, the labelled lines not fitted with the labels contradicting them,
    and, with ``check``, the accuracy kept there. ``stage``: the site stage's weights
    (default: the base's, else the shipped ``noiseclf/site_stage_weights.json``).
    """
    from .siteprofile import shipped_stage

    options = options or ProfileOptions()
    started = time.perf_counter()
    groups = list(groups) if groups is not None else site_groups(scrapes)
    stage = stage or base.site_stage or shipped_stage()
    report: dict = {}
    if holdout:
        report["new_data_holdout"] = site_holdout_report(base, stage, groups, options)
    t0 = time.perf_counter()
    profiles = [fit_profile(base, g, names, options) for names, g in groups]
    fit_seconds = time.perf_counter() - t0
    model = with_profiles(base, merge_profiles(base.profiles, profiles), stage)
    y_all, before_all, after_all, unfitted = [], [], [], []
    for prof, (names, g) in zip(profiles, groups):
        y, before = predict_labels(base, g)
        _, after = _profile_labels(model, prof, g)
        y_all += list(y)
        before_all += list(before)
        after_all += list(after)
        unfitted += _unfitted(prof, g, y, after)
    report["new_data_fit"] = {"before": metrics(y_all, before_all), "after": metrics(y_all, after_all),
                              "keep_accuracy_before": round(_keep_accuracy(y_all, before_all), 4),
                              "keep_accuracy_after": round(_keep_accuracy(y_all, after_all), 4)}
    report["unfitted"] = unfitted
    report["profiles"] = [{"names": list(p.names), "pages": len(p.pages), "lines": int(sum(len(sp.keys) for sp in p.pages)),
                           "memory_lines": len(p.memory), "template_lines": len(p.template)} for p in profiles]
    if check:
        report["retention"] = retention_report(base, model, check)
    base_info = {
        "name": Path(base_path).name if base_path else "default.noiseclf",
        "sha256": file_sha256(base_path) if base_path and Path(base_path).is_file() else None,
        "arrays_sha256": base.meta.get("arrays_sha256"),
        "training_data_sha256": (base.meta.get("training_data") or {}).get("sha256"),
    }
    lineage = list(base.meta.get("lineage", []))
    if "adaptation" in base.meta:
        lineage.append(base.meta["adaptation"])
    model.meta["lineage"] = lineage
    model.meta["versions"] = library_versions()
    model.meta["adaptation"] = {
        "method": "site profiles: labelled-line memory, alignment with the labelled pages and a learned "
                  "site stage, applied to the labelled sites' pages only (noiseclf/siteprofile.py)",
        "scope": "site",
        "base": base_info,
        "new_data": _data_summary(scrapes),
        "sites": [{"names": list(n), "pages": sorted(s.name for s in g)[:50]} for n, g in groups],
        "options": options.as_dict(),
        "fit_seconds": round(fit_seconds, 3),
        "seconds": round(time.perf_counter() - started, 3),
        "metrics": _compact({k: v for k, v in report.items() if k != "unfitted"}),
    }
    return model, report
