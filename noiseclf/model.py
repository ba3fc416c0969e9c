"""A trained noiseclf model: the one prediction path, the one decision, the one renderer.

Every caller (the CLI, the Python API, the corpus mode, Scrapy, Spark, the
labeller, evaluation) goes through :meth:`Model.predict`, which keeps the input
bounds (:mod:`noiseclf.bounds`) and applies site memory as an adjustment of the
probabilities; then :func:`decide` picks each line's label and whether it is
kept, and :func:`render` writes the kept lines. Saving and loading are in
:mod:`noiseclf.modelfile`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .context import page_context_features
from .errors import UsageError
from .features import Featurizer, LineScorer, Page
from .labels import LABELS
from .settings import Settings
from .text import decode_scrape, split_lines

DEFAULT_CACHE_LINES = 20_000  # distinct lines whose features a model remembers (see Model.set_cache)
DEFAULT_KEEP = ("article",)


@dataclass(frozen=True)
class Verdict:
    """The model's decision for one line. Blank lines get ``label=None``."""

    line: int  # 1-based line number
    text: str
    label: str | None
    probability: float | None  # probability of ``label``
    keep: bool | None = None  # whether the line is kept (None for blank lines)

    def as_record(self) -> dict:
        return {"line": self.line, "text": self.text, "label": self.label,
                "probability": None if self.probability is None else round(self.probability, 4)}


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax (a copy; stable for any magnitude)."""
    d = np.array(z, dtype=np.float64)
    d -= d.max(axis=1, keepdims=True)
    np.exp(d, out=d)
    d /= d.sum(axis=1, keepdims=True)
    return d


def probabilities(decision: np.ndarray, n_labels: int) -> np.ndarray:
    """Logistic regression probabilities from decision values, as scikit-learn
    computes them: softmax, or for two classes the logistic function of the one
    decision value."""
    d = np.array(decision, dtype=np.float64)
    if n_labels == 2:
        p = 1.0 / (1.0 + np.exp(-d.reshape(len(d), -1)[:, 0]))
        return np.column_stack([1.0 - p, p])
    return softmax(d)


class LinearStage:
    """A fitted logistic regression as plain numbers: ``classes_``, ``coef_``,
    ``intercept_`` and ``predict_proba``, without scikit-learn."""

    def __init__(self, classes, coef: np.ndarray, intercept: np.ndarray):
        self.classes_ = np.array(classes)
        self.coef_ = np.asarray(coef, dtype=np.float64)
        self.intercept_ = np.asarray(intercept, dtype=np.float64)
        self.n_features_in_ = self.coef_.shape[1]

    @classmethod
    def of(cls, fitted) -> "LinearStage":
        """The numbers of a fitted scikit-learn LogisticRegression."""
        return cls(fitted.classes_, fitted.coef_, fitted.intercept_)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return probabilities(np.asarray(X) @ self.coef_.T + self.intercept_, len(self.classes_))


def check_keep(keep: Iterable[str] | str | None) -> frozenset[str]:
    """The labels to keep, checked: a comma-separated string or any iterable of labels."""
    if keep is None:
        return frozenset(DEFAULT_KEEP)
    items = keep.split(",") if isinstance(keep, str) else list(keep)
    out = set()
    for item in items:
        if not isinstance(item, str):
            raise UsageError(f"labels to keep must be strings, not {type(item).__name__}; use {', '.join(LABELS)}")
        out.update(x.strip() for x in item.split(",") if x.strip())
    unknown = out - set(LABELS)
    if unknown:
        raise UsageError(f"unknown label(s) to keep: {', '.join(sorted(unknown))}; use {', '.join(LABELS)}")
    return frozenset(out)  # (empty: keep nothing)


@dataclass
class Decision:
    """What :func:`decide` says of the rows of a probability matrix."""

    best: np.ndarray  # column of the chosen label
    probability: np.ndarray  # its probability
    keep: np.ndarray  # bool: is the chosen label one to keep


def check_min_probability(p: float | None) -> float | None:
    if p is None:
        return None
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise UsageError(f"min_probability must be a number from 0 to 1, not {p!r}")
    return float(p)


# The page-relative drop (``relative_drop``, a model's ``Settings.relative_drop``): the page's
# own prose is its kept lines of REFERENCE_WORDS words or more (at least REFERENCE_LINES of
# them, else the rule does nothing), and its level the median of their kept probability,
# counted by words. Lines under DROP_MIN_WORDS words (headings, dates, bylines, code) are never
# dropped by it: they score lower than prose on every page. Chosen on out-of-fold
# probabilities (training/README.md, "The page-relative drop").
REFERENCE_WORDS = 10
REFERENCE_LINES = 3
DROP_MIN_WORDS = 5


def _relative_drop(kept: np.ndarray, p_keep: np.ndarray, pages: Sequence[Page], drop: float) -> np.ndarray:
    """``kept`` less each page's lines whose kept probability is over ``drop`` below its prose level."""
    kept = kept.copy()
    row = 0
    for page in pages:
        start = row
        row += len(page)
        rows = np.flatnonzero(kept[start:row])  # only kept lines are counted, or dropped
        if len(rows) < REFERENCE_LINES:
            continue
        words = page.words[rows]
        p = p_keep[start + rows]
        prose = words >= REFERENCE_WORDS
        if prose.sum() < REFERENCE_LINES:
            continue
        order = np.argsort(p[prose], kind="stable")
        cum = np.cumsum(words[prose][order])
        level = p[prose][order][np.searchsorted(cum, 0.5 * cum[-1])]
        kept[start + rows[(p < level - drop) & (words >= DROP_MIN_WORDS)]] = False
    if row != len(kept):
        raise ValueError(f"pages hold {row} lines, the probabilities {len(kept)}")
    return kept


def decide(proba: np.ndarray, labels: Sequence[str], keep: Iterable[str] | str | None = None,
           min_probability: float | None = None, pages: Sequence[Page] | None = None,
           relative_drop: float | None = None) -> Decision:
    """The one place where a line's label and keep/drop are decided.

    A line's label is its most probable one. It is kept when that label is one
    to keep and, with ``min_probability``, when the labels to keep together have
    at least that probability (higher: fewer lines kept, more precision). With
    ``pages`` (the pages the rows are, in order) and ``relative_drop``, a kept
    line is also dropped when that probability is more than ``relative_drop``
    below its page's prose (the rule above); its label stays.
    """
    keep = check_keep(keep)
    min_probability = check_min_probability(min_probability)
    if len(proba) == 0:
        return Decision(np.zeros(0, dtype=int), np.zeros(0), np.zeros(0, dtype=bool))
    best = proba.argmax(axis=1)
    keeps = np.array([lab in keep for lab in labels], dtype=bool)
    kept = keeps[best]
    p_keep = proba[:, keeps].sum(axis=1)
    if min_probability is not None:
        kept = kept & (p_keep >= min_probability)
    if relative_drop is not None and pages is not None:
        kept = _relative_drop(kept, p_keep, pages, float(relative_drop))
    return Decision(best, proba[np.arange(len(best)), best], kept)


def render(page: Page, keep_rows: Sequence[bool], plain: bool = False) -> str:
    """The kept lines of a page, unchanged and in order (``keep_rows``: one flag per non-blank line).

    A blank line is kept between two kept lines wherever the original had one
    between them, so paragraphs stay paragraphs. ``plain``: each kept line as the
    plain text of its Markdown (:mod:`noiseclf.plain`; a line with none is left out).
    """
    if plain:
        from .plain import plain_line
    lines, parts, prev, prev_j = page.lines, [], -1, -1
    for j, (i, keep_it) in enumerate(zip(page.content, keep_rows)):
        if keep_it:
            text = plain_line(lines[i]) if plain else lines[i]
            if not text:
                continue
            if parts and i - prev > j - prev_j:  # was any line between the two kept ones blank?
                parts.append("")
            parts.append(text)
            prev, prev_j = i, j
    return "\n".join(parts) + "\n" if parts else ""


def render_kept(verdicts: Sequence[Verdict], keep: Iterable[str] | None = None) -> str:
    """:func:`render` of a page's verdicts (``keep`` given: by label, else by each verdict's ``keep``)."""
    page = Page([v.text for v in verdicts])
    keep = None if keep is None else check_keep(keep)
    flags = [(v.label in keep) if keep is not None else bool(v.keep) for v in verdicts if v.label is not None]
    return render(page, flags)


def as_text(text: str | bytes) -> str:
    """A page's text with ``"\\n"`` line endings (bytes are decoded as a scrape file is)."""
    if isinstance(text, bytes):
        return decode_scrape(text).text
    if not isinstance(text, str):
        raise UsageError(f"a page must be text (str or bytes), not {type(text).__name__}; "
                         "pass the scrape's text, or its lines to classify()")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def as_page(text: str | bytes) -> Page:
    page = Page(split_lines(as_text(text)))
    markup = getattr(text, "line_markup", None)  # HTML converted by noiseclf.html (noiseclf.markup)
    if markup is not None and len(markup) >= len(page.lines):
        page.markup = markup[page.content]
    return page


class Model:
    """A featuriser and a logistic regression (plus an optional second stage), with metadata."""

    def __init__(self, featurizer: Featurizer, classifier: LinearStage, meta: dict | None = None,
                 context: LinearStage | None = None, path: Path | None = None, stage=None, markup_stage=None):
        self.featurizer = featurizer
        self.classifier = classifier
        self.context = context  # the earlier second stage (noiseclf.context), or None
        self.stage = stage  # the page-level stage (noiseclf.pagestage.PageStage), or None
        self.markup_stage = markup_stage  # the same over pages from HTML, with their markup, or None
        self.meta = dict(meta or {})
        self.labels: tuple[str, ...] = tuple(str(c) for c in classifier.classes_)
        self.path = path
        self.cache_lines = DEFAULT_CACHE_LINES
        self._scorer: LineScorer | None = None
        self._memory_weights: dict | None = None
        self.profiles: list = []  # site profiles (noiseclf.siteprofile.SiteProfile), from `noiseclf train`
        self.site_stage: dict = {}  # how a profile moves its site's probabilities (noiseclf.siteprofile)
        self._stage_matrix = None

    @property
    def settings(self) -> Settings:
        return self.featurizer.settings

    @property
    def scorer(self) -> LineScorer:
        if self._scorer is None:
            self._scorer = LineScorer(self.featurizer, self.classifier.coef_, self.classifier.intercept_,
                                      self.cache_lines)
        return self._scorer

    def set_cache(self, lines: int) -> "Model":
        """Remember the features of up to ``lines`` distinct lines (0: no cache).

        Menus, footers and bylines repeat across the pages of a crawl; a line
        seen before costs a dictionary look-up. Results are the same either way.
        """
        self.cache_lines = int(lines)
        if self._scorer is not None:
            self._scorer.set_cache_size(self.cache_lines)
        return self

    @property
    def memory_weights(self) -> dict:
        """How site memory shifts each label (:func:`noiseclf.memory.load_weights`)."""
        if self._memory_weights is None:
            from .memory import load_weights

            self._memory_weights = load_weights(self)
        return self._memory_weights

    @property
    def site_stage_matrix(self) -> np.ndarray:
        """The site stage's map for this model's labels (:func:`noiseclf.siteprofile.stage_matrix`)."""
        if self._stage_matrix is None:
            from .siteprofile import stage_matrix

            self._stage_matrix = stage_matrix(self.site_stage, self.labels)
        return self._stage_matrix

    # -- prediction -----------------------------------------------------
    def predict_lines(self, pages: Sequence[Page]) -> np.ndarray:
        """First-stage probabilities, each line from its own features (no bounds: training's use)."""
        if sum(len(p) for p in pages) == 0:
            return np.zeros((0, len(self.labels)))
        return probabilities(self.scorer.decision(pages), len(self.labels))

    def _predict_unbounded(self, pages: Sequence[Page]) -> np.ndarray:
        """Every stage over whole pages as given: what :mod:`noiseclf.bounds` calls in pieces."""
        proba = self.predict_lines(pages)
        if len(proba) == 0:
            return proba
        if self.context is not None:
            proba = self.context.predict_proba(page_context_features(proba, pages, self.labels))
        marked = [p.markup is not None for p in pages] if self.markup_stage is not None else [False] * len(pages)
        if not any(marked):
            return proba if self.stage is None else self.stage.predict_proba(proba, pages)
        # pages from HTML go through the markup stage, the others through the page stage
        out = proba.copy()
        ends = np.cumsum([len(p) for p in pages])
        for stage, want in ((self.markup_stage, True), (self.stage, False)):
            idx = [i for i, m in enumerate(marked) if m == want and len(pages[i])]
            if stage is None or not idx:
                continue
            rows = np.concatenate([np.arange(ends[i] - len(pages[i]), ends[i]) for i in idx])
            out[rows] = stage.predict_proba(proba[rows], [pages[i] for i in idx])
        return out

    def predict(self, pages: Sequence[Page], recurrence: Sequence[tuple[np.ndarray, int]] | None = None,
                sites: Sequence[str | None] | None = None) -> np.ndarray:
        """Class probabilities, one row per non-blank line of every page: the one prediction path.

        Huge lines and pages are classified within the bounds of
        :mod:`noiseclf.bounds`. A page that belongs to one of the model's site
        profiles (by ``sites``, one site name or None per page, or recognised by
        its template lines: :mod:`noiseclf.siteprofile`) has its probabilities
        moved by what the site's labels taught; other pages are untouched.
        ``recurrence`` (site memory), one ``(share, other_pages)`` per page,
        shifts each page's probabilities by how often its lines recur on the
        site's other pages.
        """
        from .bounds import bounded_predict

        proba = bounded_predict(self._predict_unbounded, pages)
        if self.profiles:
            from .siteprofile import apply_profiles

            proba = apply_profiles(self, pages, sites, proba)
        if recurrence is None:
            return proba
        from .memory import adjust

        row = 0
        for page, (share, others) in zip(pages, recurrence):
            m = len(page)
            if m and others > 0:
                proba[row:row + m] = adjust(proba[row:row + m], share, others, self.labels, self.memory_weights)
            row += m
        return proba

    @property
    def relative_drop(self) -> float | None:
        """The page-relative drop this model was built with (``Settings.relative_drop``; :func:`decide`).

        ``None`` (off) for model files written before it, so that they clean as they did."""
        value = (self.meta.get("options") or {}).get("relative_drop")
        return None if value is None else float(value)

    def decide(self, pages: Sequence[Page], proba: np.ndarray, keep: Iterable[str] | str | None = None,
               min_probability: float | None = None, page_relative: bool = True) -> Decision:
        """:func:`decide` for ``pages`` with this model's labels and page-relative drop."""
        return decide(proba, self.labels, keep, min_probability, pages,
                      self.relative_drop if page_relative else None)

    def verdicts(self, pages: Sequence[Page], proba: np.ndarray, keep: Iterable[str] | str | None = None,
                 min_probability: float | None = None, page_relative: bool = True) -> list[list[Verdict]]:
        """A Verdict for every line of every page, from :meth:`predict`'s probabilities."""
        return self.verdicts_of(pages, self.decide(pages, proba, keep, min_probability, page_relative))

    def verdicts_of(self, pages: Sequence[Page], d: Decision) -> list[list[Verdict]]:
        """A Verdict for every line of every page, from a :meth:`decide` already made for their rows."""
        best, top, kept = d.best.tolist(), d.probability.tolist(), d.keep.tolist()
        out, row = [], 0
        for page in pages:
            verdicts = [Verdict(i + 1, line, None, None) for i, line in enumerate(page.lines)]
            for i in page.content:
                verdicts[i] = Verdict(i + 1, page.lines[i], self.labels[best[row]], top[row], kept[row])
                row += 1
            out.append(verdicts)
        return out

    def classify(self, lines: Sequence[str], keep: Iterable[str] | str | None = None) -> list[Verdict]:
        """Label every line of one page (give all its lines, in order)."""
        if isinstance(lines, (str, bytes)):
            raise UsageError("classify() takes the page's lines (a list of str); use classify_text() for text")
        lines = list(lines)
        if not all(isinstance(line, str) for line in lines):
            raise UsageError("classify() takes the page's lines as str; decode bytes first or use classify_text()")
        if any("\n" in line for line in lines):
            raise UsageError("classify() takes lines without newlines; use classify_text() for text")
        pages = [Page(lines)]
        return self.verdicts(pages, self.predict(pages), keep)[0]

    def classify_text(self, text: str | bytes, keep: Iterable[str] | str | None = None) -> list[Verdict]:
        """Label every line of one page given as text."""
        return self.classify_many([text], keep)[0]

    def classify_many(self, texts: Sequence[str | bytes], keep: Iterable[str] | str | None = None
                      ) -> list[list[Verdict]]:
        """Label the lines of many pages with one call into the classifier."""
        pages = [as_page(t) for t in _texts(texts, "classify_many")]
        return self.verdicts(pages, self.predict(pages), keep)

    def clean(self, text: str | bytes, keep: Iterable[str] | str | None = None,
              min_probability: float | None = None, page_relative: bool = True, plain: bool = False) -> str:
        """The lines of ``text`` whose label is in ``keep`` (default: article), unchanged and in order.

        A blank line is kept between two kept lines wherever the original had
        one between them, so paragraphs stay paragraphs. ``min_probability``,
        ``page_relative`` (the model's page-relative drop; False: off): see :func:`decide`.
        ``plain``: Markdown scrapes as plain text (:mod:`noiseclf.plain`).
        """
        if isinstance(text, (list, tuple)):
            raise UsageError("clean() takes a page's text (str); for lines use classify(lines), "
                             "for many pages clean_many(texts)")
        return self.clean_many([text], keep, min_probability, page_relative, plain)[0]

    def clean_many(self, texts: Sequence[str | bytes], keep: Iterable[str] | str | None = None,
                   min_probability: float | None = None, page_relative: bool = True,
                   plain: bool = False) -> list[str]:
        """Clean many pages with one call into the classifier (faster in bulk)."""
        return self.clean_counted(texts, keep, min_probability, page_relative, plain)[0]

    def clean_counted(self, texts: Sequence[str | bytes], keep: Iterable[str] | str | None = None,
                      min_probability: float | None = None,
                      page_relative: bool = True,
                      plain: bool = False) -> tuple[list[str], list[int], list[int]]:
        """Cleaned texts, and for each the number of non-blank lines kept and dropped."""
        from .clean import Cleaner, Scrape

        results = Cleaner(self, keep, drift=False, min_probability=min_probability,
                          page_relative=page_relative, plain=plain).clean_batch(
            [Scrape(t) for t in _texts(texts, "clean_many")])
        return [r.text for r in results], [r.kept for r in results], [r.dropped for r in results]

    # -- persistence ----------------------------------------------------
    def save(self, path: str | Path) -> Path:
        from .modelfile import save_model

        return save_model(self, path)


def _texts(texts, what: str) -> list:
    if isinstance(texts, (str, bytes)):
        raise UsageError(f"{what}() takes a list of page texts; for one page use clean() or classify_text()")
    return list(texts)
