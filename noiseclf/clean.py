"""Cleaning many pages in one pass: batching, site memory and the drift alert.

:class:`Cleaner` is what ``noiseclf clean`` (files, stdin and ``--corpus``),
the Scrapy pipeline and Spark run, and what a Python caller uses for more
than one page::

    cleaner = Cleaner(model, keep=("article",), site_memory="memory.json")
    for page in cleaner.clean(Scrape(text, name=..., site=...) for ...):
        page.text, page.kept, page.dropped, page.verdicts, page.unfamiliar
    cleaner.finish()  # saves the site memory; the names of unfamiliar pages

Scrapes are read from the iterable lazily and cleaned in batches (at most
:data:`BATCH_PAGES` pages or :data:`BATCH_CHARS` characters), each through the
model's one prediction path. Site memory applies to a scrape only when its
site is known (``site``, or the host of ``url``; never a file's folder unless
the caller says so): every page of a batch is counted for its site before the
batch is classified, so a page sees the site's pages of earlier batches, of
its own batch, and of earlier runs kept in a memory file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from .model import Decision, Model, Verdict, as_page, check_keep, check_min_probability, render
from .memory import page_line_keys
from .sites import site_of_url

BATCH_PAGES = 64  # pages classified per call: amortises the model's per-call cost
BATCH_CHARS = 32_000_000  # ... unless they are large: then fewer, to bound memory


@dataclass
class Scrape:
    """One page to clean: its text, a name for messages, and its site if known."""

    text: str | bytes | None
    name: str | None = None
    site: str | None = None
    url: str | None = None  # its host is the site when ``site`` is not given

    @property
    def site_name(self) -> str | None:
        return self.site if self.site else site_of_url(self.url)


@dataclass
class Cleaned:
    """A cleaned page."""

    name: str | None
    site: str | None
    text: str | None  # the kept lines (None when the scrape's text was None)
    kept: int  # non-blank lines kept
    dropped: int  # non-blank lines dropped
    verdicts: list[Verdict] | None = None  # every line, when the cleaner was asked for them
    stats: object | None = None  # noiseclf.drift.PageStats, with the drift verdict
    counts: dict[str, int] = field(default_factory=dict)  # non-blank lines per label

    @property
    def unfamiliar(self) -> bool:
        return bool(self.stats is not None and self.stats.unfamiliar)


class Cleaner:
    """Cleans scrapes with a model: see the module doc.

    ``site_memory``: a memory file (read now, written by :meth:`finish`) or a
    :class:`noiseclf.memory.SiteMemory`; without it, recurrence is counted
    over this cleaner's pages only. ``verdicts``: keep every line's Verdict
    in the results. ``drift``: judge every page (:mod:`noiseclf.drift`).
    ``min_probability``: keep a line only when the labels to keep have at least
    this probability together; ``page_relative``: apply the model's page-relative
    drop (False: off; both :func:`noiseclf.model.decide`). ``plain``: the kept lines
    of Markdown scrapes as plain text (:mod:`noiseclf.plain`; HTML, converted to plain
    text already, is left as it is).
    """

    def __init__(self, model: Model, keep: Iterable[str] | str | None = None, site_memory=None,
                 verdicts: bool = False, drift: bool = True, min_probability: float | None = None,
                 page_relative: bool = True, plain: bool = False):
        from .memory import SiteMemory

        self.model = model
        self.keep = check_keep(keep)
        self.min_probability = check_min_probability(min_probability)
        self.page_relative = bool(page_relative)
        self.plain = bool(plain)
        self.memory_path: Path | None = None
        if isinstance(site_memory, SiteMemory):
            self.memory = site_memory
        elif site_memory is not None:
            self.memory_path = Path(site_memory)
            self.memory = SiteMemory.load(self.memory_path)
        else:
            self.memory = SiteMemory()
        self.want_verdicts = verdicts
        self.drift = drift
        self._article = list(model.labels).index("article") if "article" in model.labels else -1
        self.thresholds = None
        if drift:
            from .drift import thresholds_for

            self.thresholds = thresholds_for(model)
        self.unfamiliar: list[str] = []
        self.checked = 0

    def clean(self, scrapes: Iterable[Scrape]) -> Iterator[Cleaned]:
        """Clean scrapes in batches, yielding a result per scrape in input order."""
        batch: list[Scrape] = []
        chars = 0
        for scrape in scrapes:
            batch.append(scrape)
            chars += len(scrape.text or "")
            if len(batch) >= BATCH_PAGES or chars >= BATCH_CHARS:
                yield from self.clean_batch(batch)
                batch, chars = [], 0
        if batch:
            yield from self.clean_batch(batch)

    def clean_batch(self, scrapes: Sequence[Scrape]) -> list[Cleaned]:
        """Clean scrapes with one call into the model."""
        present = [i for i, s in enumerate(scrapes) if s.text is not None]
        pages = [as_page(scrapes[i].text) for i in present]
        sites = [scrapes[i].site_name for i in present]
        keys = [page_line_keys(page) if site is not None else None for site, page in zip(sites, pages)]
        for site, page, k in zip(sites, pages, keys):
            if site is not None:
                self.memory.observe(site, page, k)
        recurrence = [self.memory.recurrence(site, page, k) if site is not None else (None, 0)
                      for site, page, k in zip(sites, pages, keys)]
        use_memory = any(others > 0 for _, others in recurrence)
        proba = self.model.predict(pages, recurrence if use_memory else None, sites)
        d = self.model.decide(pages, proba, self.keep, self.min_probability, self.page_relative)
        out: list[Cleaned] = [Cleaned(s.name, s.site_name, None, 0, 0) for s in scrapes]
        row = 0
        for i, site, page in zip(present, sites, pages):
            m = len(page)
            rows = slice(row, row + m)
            row += m
            keep_rows = d.keep[rows]
            k = int(keep_rows.sum())
            plain = self.plain and page.markup is None  # HTML came through inscriptis: plain text already
            result = Cleaned(scrapes[i].name, site, render(page, keep_rows.tolist(), plain), k, m - k)
            result.counts = _label_counts(d.best[rows], self.model.labels)
            if self.want_verdicts:
                result.verdicts = self.model.verdicts_of(
                    [page], Decision(d.best[rows], d.probability[rows], keep_rows))[0]
            if self.drift:
                self._judge(result, d.probability[rows], d.best[rows] == self._article)
            out[i] = result
        return out

    def _judge(self, result: Cleaned, confidence: np.ndarray, article: np.ndarray) -> None:
        from .drift import judge, stats_of

        name = result.name if result.name is not None else "<stdin>"
        result.stats = judge(stats_of(name, confidence, article, self.thresholds["unsure_below"], result.site or ""),
                             self.thresholds)
        self.checked += 1
        if result.stats.unfamiliar:
            self.unfamiliar.append(name)

    def finish(self) -> list[str]:
        """Save the site memory file (if one was given); the names of pages that looked unfamiliar."""
        if self.memory_path is not None:
            self.memory.save(self.memory_path)
        return list(self.unfamiliar)


def _label_counts(best: np.ndarray, labels: Sequence[str]) -> dict[str, int]:
    counts = np.bincount(best, minlength=len(labels)) if len(best) else np.zeros(len(labels), dtype=int)
    return {lab: int(c) for lab, c in zip(labels, counts)}

