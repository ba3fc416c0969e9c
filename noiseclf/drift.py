"""Drift: notice scrapes whose layout the model does not know, and rank what to label next.

For every scrape we compute, from the model's verdicts alone:

* ``mean_confidence`` — the mean probability of the chosen label over its lines;
* ``article_share`` — the share of its lines labelled article;
* ``unsure_share`` — the share of lines whose confidence is below ``unsure_below``;
* ``expected_errors`` — the sum over lines of (1 − confidence): how many lines
  the model itself expects to get wrong; it ranks files worth labelling.

A scrape *looks unfamiliar* when its mean confidence is below
``confidence_floor`` or its article share is outside
[``article_share_low``, ``article_share_high``]; a page of fewer than
``MIN_JUDGED_LINES`` non-blank lines is too short to judge and never looks
unfamiliar. The thresholds are not
guesses: :func:`calibrate` takes them from the distribution of these
statistics over labelled pages the model did not train on (the 5th
percentile of mean confidence; the 1st and 99th percentiles of the article
share), and ``unsure_below`` is the upper edge of the most confident decile of
line confidence in which the model was right less than half the time on
those pages (clamped to [0.4, 0.8]). They are read from the
model's metadata (``drift``) when it has them, else from
``noiseclf/drift_thresholds.json`` (written by
``benchmarks/adaptation.py --fit-drift`` for the shipped model), else from
conservative defaults.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Sequence

import numpy as np

from .model import Model, Verdict

THRESHOLDS_FILE = "drift_thresholds.json"
DEFAULTS = {"confidence_floor": 0.6, "article_share_low": 0.0, "article_share_high": 0.97, "unsure_below": 0.5}

# The fewest non-blank lines a page needs before it is judged. One line is not
# a layout: its article share is 0 % or 100 % (outside any calibrated band) and
# its "mean" confidence is that one line's, so every one-line scrape would
# trip a threshold fitted on whole pages (dozens of lines; the seeds have
# 20-93). A shorter page is reported, never called unfamiliar. Two, not more:
# from two lines on the statistics can fall inside the bands, and a short page
# that is truly unfamiliar should still be named (tests/test_drift.py judges a
# two-line page).
MIN_JUDGED_LINES = 2


@dataclass
class PageStats:
    name: str
    lines: int
    mean_confidence: float
    article_share: float
    unsure_share: float
    expected_errors: float
    site: str = ""
    unfamiliar: bool = False
    reasons: tuple[str, ...] = ()

    def as_record(self) -> dict:
        d = asdict(self)
        d["reasons"] = list(self.reasons)
        for k in ("mean_confidence", "article_share", "unsure_share", "expected_errors"):
            d[k] = round(d[k], 4)
        return d


def page_stats(name: str, verdicts: Sequence[Verdict], unsure_below: float = DEFAULTS["unsure_below"],
               site: str = "") -> PageStats:
    """The statistics of a page's verdicts (see :func:`stats_of`)."""
    judged_ = [v for v in verdicts if v.label is not None]
    return stats_of(name, np.array([v.probability for v in judged_], dtype=float),
                    np.array([v.label == "article" for v in judged_], dtype=bool), unsure_below, site)


def stats_of(name: str, confidence: np.ndarray, article: np.ndarray, unsure_below: float = DEFAULTS["unsure_below"],
             site: str = "") -> PageStats:
    """A page's statistics from its non-blank lines' top probabilities and whether each is labelled article.

    The one formula; :class:`noiseclf.Cleaner` calls it with the arrays it already has.
    """
    conf = np.asarray(confidence, dtype=float)
    if len(conf) == 0:
        return PageStats(name, 0, 1.0, 0.0, 0.0, 0.0, site)
    return PageStats(
        name=name, lines=len(conf), mean_confidence=float(conf.mean()),
        article_share=float(np.mean(article)),
        unsure_share=float(np.mean(conf < unsure_below)),
        expected_errors=float((1.0 - conf).sum()), site=site,
    )


def thresholds_for(model: Model) -> dict:
    """The model's own thresholds, else the shipped file's, else the defaults (with their source)."""
    own = model.meta.get("drift")
    if isinstance(own, dict) and "confidence_floor" in own:
        return {**DEFAULTS, **own, "source": "model metadata"}
    try:
        data = json.loads(resources.files("noiseclf").joinpath(THRESHOLDS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, OSError, json.JSONDecodeError):
        data = None
    if isinstance(data, dict) and "confidence_floor" in data:
        same = data.get("model_arrays_sha256") == model.meta.get("arrays_sha256")
        return {**DEFAULTS, **data, "source": THRESHOLDS_FILE + ("" if same else " (fitted for another model)")}
    return {**DEFAULTS, "source": "defaults"}


def judged(stats: PageStats) -> bool:
    """Whether the page has enough lines for a verdict (see MIN_JUDGED_LINES)."""
    return stats.lines >= MIN_JUDGED_LINES


def compare(value: float, op: str, limit: float, percent: bool = False) -> str:
    """``value op limit`` with just enough decimals that the comparison shown is true.

    ``op`` is ``"<"`` or ``">"`` and must hold for the numbers given; two
    decimals (whole percents) when they suffice, more when they would show
    e.g. ``0.62 < 0.62`` for 0.6151 and 0.6155.
    """
    holds = (lambda a, b: a < b) if op == "<" else (lambda a, b: a > b)
    scale, unit = (100.0, "%") if percent else (1.0, "")
    x, y = value * scale, limit * scale
    for digits in range(0 if percent else 2, 16):
        sx, sy = f"{x:.{digits}f}", f"{y:.{digits}f}"
        if holds(float(sx), float(sy)):
            return f"{sx}{unit} {op} {sy}{unit}"
    return f"{value!r} {op} {limit!r}"


def judge(stats: PageStats, th: dict) -> PageStats:
    reasons = []
    if not judged(stats):
        return stats
    if stats.mean_confidence < th["confidence_floor"]:
        reasons.append("mean confidence " + compare(stats.mean_confidence, "<", th["confidence_floor"]))
    if stats.article_share < th["article_share_low"]:
        reasons.append("article share " + compare(stats.article_share, "<", th["article_share_low"], percent=True))
    if stats.article_share > th["article_share_high"]:
        reasons.append("article share " + compare(stats.article_share, ">", th["article_share_high"], percent=True))
    stats.reasons = tuple(reasons)
    stats.unfamiliar = bool(reasons)
    return stats


def rank(stats: Sequence[PageStats]) -> list[PageStats]:
    """Files worth labelling first: most expected errors, unfamiliar ones first, one site at a time.

    A second page of a site already in the ranking counts half (a third a
    quarter, ...): labelling one page of a site teaches most of what its
    other pages would. Pages with no non-blank lines (nothing to label) come last.
    """
    remaining = list(stats)
    seen: dict[str, int] = {}
    out = []
    while remaining:
        def score(s):
            return (s.lines > 0, s.unfamiliar, s.expected_errors * 0.5 ** seen.get(s.site, 0))
        best = max(remaining, key=score)
        remaining.remove(best)
        seen[best.site] = seen.get(best.site, 0) + 1
        out.append(best)
    return out


def calibrate(model: Model, scrapes: Sequence, low_pct: float = 1.0, high_pct: float = 99.0,
              confidence_pct: float = 5.0) -> dict:
    """Thresholds from labelled pages the model did not train on (see module doc)."""
    from .train import pages_and_targets

    mean_conf, art_share, all_conf, all_ok = [], [], [], []
    for s in scrapes:
        pages, y = pages_and_targets([s])
        if not len(y):
            continue
        proba = model.predict(pages)
        best = proba.argmax(axis=1)
        conf = proba[np.arange(len(best)), best]
        pred = np.array(model.labels, dtype=object)[best]
        mean_conf.append(conf.mean())
        art_share.append(np.mean(pred == "article"))
        all_conf.append(conf)
        all_ok.append(pred == y)
    conf = np.concatenate(all_conf)
    ok = np.concatenate(all_ok)
    # Lines in ten confidence bins (deciles): unsure_below is the upper edge of the most
    # confident bin where the model was right less than half the time, clamped to
    # [0.4, 0.8] (a model that is wrong on most lines would otherwise call every line unsure).
    edges = np.unique(np.percentile(conf, np.linspace(0, 100, 11)))
    unsure = 0.4
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (conf >= lo) & (conf <= hi)
        if inside.any() and ok[inside].mean() < 0.5:
            unsure = float(hi)
    unsure = min(max(unsure, 0.4), 0.8)
    return {
        "confidence_floor": round(float(np.percentile(mean_conf, confidence_pct)), 4),
        "article_share_low": round(float(np.percentile(art_share, low_pct)), 4),
        "article_share_high": round(float(np.percentile(art_share, high_pct)), 4),
        "unsure_below": round(unsure, 4),
        "reference": {
            "pages": len(mean_conf),
            "mean_confidence_median": round(float(np.median(mean_conf)), 4),
            "article_share_median": round(float(np.median(art_share)), 4),
            "line_accuracy": round(float(ok.mean()), 4),
        },
        "model_arrays_sha256": model.meta.get("arrays_sha256"),
    }


def check_files(model: Model, items: Sequence[tuple[str, str, str]], verdicts: Sequence[Sequence[Verdict]] | None = None,
                th: dict | None = None) -> list[PageStats]:
    """Stats and verdict for (name, site, text) items (``verdicts`` when already classified)."""
    th = th or thresholds_for(model)
    if verdicts is None:
        verdicts = model.classify_many([t for _, _, t in items])
    return [judge(page_stats(name, v, th["unsure_below"], site), th) for (name, site, _), v in zip(items, verdicts)]
