"""A datatrove pipeline step that keeps the article lines of every Document.

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from noiseclf.integrations.datatrove import NoiseclfFilter

    LocalPipelineExecutor(pipeline=[
        JsonlReader("pages/"),                       # or WarcReader: HTML is converted (noiseclf.html)
        NoiseclfFilter(keep=["article"]),            # model=..., drop_empty=True, exclusion_writer=...
        JsonlWriter("clean/"),
    ], tasks=4).run()

Each Document's text is cleaned by :class:`noiseclf.Cleaner` (the one path
every entry point uses), with ``Scrape(text, url=doc.metadata["url"])`` when
the document has a URL, so pages of one site share site memory within a
worker. A text that is HTML (by content, :func:`noiseclf.html.looks_like_html`)
is converted first. The model is loaded once per worker process, on the first
batch, never pickled with the pipeline.

In ``doc.metadata``: ``noiseclf_kept_by_label`` and ``noiseclf_dropped_by_label``
(non-blank lines per label, every label of the model present). In datatrove's
stats, as its own filters count: ``total``, ``forwarded``, ``dropped`` and
``dropped_<reason>`` (from :class:`BaseFilter`), plus per document
``lines_kept``, ``lines_dropped`` and ``lines_<label>`` (non-blank lines of each
label), and ``html_converted``. With ``drop_empty`` (the default) a document left with
no kept line is dropped under ``drop_reason`` (``noiseclf_no_article``); an
``exclusion_writer`` then gets it with its original text.

Input that is not what it seems is noticed, not silently cleaned: a document whose text is a
feed, a sitemap or JSON records (:func:`noiseclf.text.not_a_page`) is dropped under
``noiseclf_not_a_page`` (the exclusion writer gets it as it was), and Markdown with link
targets while ``plain`` is off is cleaned as before and counted in ``markdown``; each is
named in one warning per worker.
"""

from __future__ import annotations

from typing import Iterable

try:
    from datatrove.data import Document
    from datatrove.pipeline.filters.base_filter import BaseFilter
    from datatrove.pipeline.writers.disk_base import DiskWriter
except ImportError as exc:  # pragma: no cover - the extra is missing
    raise ImportError("noiseclf.integrations.datatrove needs datatrove: pip install 'noiseclf[datatrove]'") from exc

from ..clean import BATCH_PAGES, Cleaner, Scrape
from ..errors import NoiseclfError, UsageError
from ..model import DEFAULT_CACHE_LINES, check_keep

KEPT_FIELD = "noiseclf_kept_by_label"
DROPPED_FIELD = "noiseclf_dropped_by_label"
DROP_REASON = "noiseclf_no_article"
NOT_A_PAGE = "noiseclf_not_a_page"  # the drop reason of records and feeds given as a page's text

_MODELS: dict = {}  # in each worker process: (model file, cache size) -> loaded Model


def worker_model(model: str | None = None, cache_lines: int = DEFAULT_CACHE_LINES):
    """The model for this process, loaded on first use and then kept."""
    key = (model or "", int(cache_lines))
    if key not in _MODELS:
        from ..modelfile import load_model

        try:
            _MODELS[key] = load_model(model).set_cache(cache_lines)
        except NoiseclfError as exc:  # name the argument to change
            raise NoiseclfError(f"NoiseclfFilter(model=...): {exc}") from None
    return _MODELS[key]


class NoiseclfFilter(BaseFilter):
    """Clean each Document's text with noiseclf; optionally drop those left without article.

    Args:
        model: a model file (default: the shipped model), loaded once per worker.
        keep: labels whose lines are kept (default: article).
        drop_empty: drop a document with no kept line left (under ``drop_reason``).
        drop_reason: the reason datatrove records (``dropped_<reason>`` in the stats).
        html: ``None`` (default): convert a text that is HTML (by content); ``True``: every
            text is HTML; ``False``: never convert.
        url_key: the metadata key of the page's URL (its host is the site, for site memory).
        plain: Markdown texts (html2text, markdownify): the kept lines as plain text (:mod:`noiseclf.plain`).
        batch_size: documents cleaned per call into the model.
        cache_lines: lines whose features the model remembers (menus repeat).
        exclusion_writer: a datatrove writer for the dropped documents (original text).
    """

    name = "\U0001f9f9 noiseclf"

    def __init__(self, model: str | None = None, keep: Iterable[str] | str | None = ("article",),
                 drop_empty: bool = True, drop_reason: str = DROP_REASON, html: bool | None = None,
                 url_key: str | None = "url", batch_size: int = BATCH_PAGES,
                 cache_lines: int = DEFAULT_CACHE_LINES, exclusion_writer: DiskWriter | None = None,
                 plain: bool = False):
        super().__init__(exclusion_writer=exclusion_writer, batch_size=batch_size)
        try:
            self.keep = check_keep(keep)
        except UsageError as exc:
            raise UsageError(f"NoiseclfFilter(keep=...): {exc}") from None
        self.model_path = None if model is None else str(model)
        self.drop_empty = drop_empty
        self.drop_reason = drop_reason
        self.html = html
        self.url_key = url_key
        self.plain = bool(plain)
        self.cache_lines = int(cache_lines)
        self._cleaner: Cleaner | None = None
        self._warned: set[str] = set()  # kinds of odd input already named in a warning

    def __getstate__(self):  # the pipeline is pickled to the workers: the model is loaded there
        state = dict(self.__dict__)
        state["_cleaner"] = None
        return state

    @property
    def cleaner(self) -> Cleaner:
        if self._cleaner is None:
            self._cleaner = Cleaner(worker_model(self.model_path, self.cache_lines), self.keep, drift=False,
                                    plain=self.plain)
        return self._cleaner

    def _text(self, doc: Document):
        from ..html import html_to_text, looks_like_html
        from ..plain import looks_like_markdown

        text = doc.text
        if isinstance(text, (str, bytes)) and (self.html or (self.html is None and looks_like_html(text))):
            self.stat_update("html_converted")
            return html_to_text(text, f"document {doc.id}")
        if not self.plain and isinstance(text, str) and looks_like_markdown(text):
            self.stat_update("markdown")
            self._warn("markdown", f"noiseclf: document {doc.id} is Markdown with link targets; NoiseclfFilter("
                                   "plain=True) writes the kept lines as plain text (their URLs are not the page's words)")
        return text

    def _not_a_page(self, doc: Document) -> str | None:
        from ..text import not_a_page

        kind = not_a_page(doc.text) if isinstance(doc.text, str) and self.html is not True else None
        if kind is not None:
            self._warn(kind, f"noiseclf: document {doc.id} is {kind}, not a page's text; dropped as {NOT_A_PAGE}: "
                             "check what the reader puts in the text")
        return kind

    def _warn(self, kind: str, message: str) -> None:
        if kind not in self._warned:
            from datatrove.utils.logging import logger

            self._warned.add(kind)
            logger.warning(f"{message} (said once a worker)")

    def _url(self, doc: Document) -> str | None:
        url = doc.metadata.get(self.url_key) if self.url_key else None
        return url if isinstance(url, str) else None

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return self.filter_batch([doc])[0]

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        cleaner = self.cleaner
        labels = cleaner.model.labels
        odd = [self._not_a_page(d) is not None for d in batch]
        pages = [d for d, o in zip(batch, odd) if not o]
        cleaned = iter(cleaner.clean_batch([Scrape(self._text(d), name=str(d.id), url=self._url(d)) for d in pages]))
        verdicts = []
        for doc, is_odd in zip(batch, odd):
            if is_odd:  # cleaned, it would come out as JSON or XML kept as "article"
                verdicts.append((False, NOT_A_PAGE))
                continue
            page = next(cleaned)
            kept = {lab: (page.counts.get(lab, 0) if lab in self.keep else 0) for lab in labels}
            dropped = {lab: (0 if lab in self.keep else page.counts.get(lab, 0)) for lab in labels}
            doc.metadata[KEPT_FIELD] = kept
            doc.metadata[DROPPED_FIELD] = dropped
            self.stat_update("lines_kept", value=page.kept)
            self.stat_update("lines_dropped", value=page.dropped)
            for lab in labels:
                self.stat_update(f"lines_{lab}", value=page.counts.get(lab, 0))
            if self.drop_empty and page.kept == 0:
                verdicts.append((False, self.drop_reason))  # (the exclusion writer gets the original text)
                continue
            doc.text = page.text if page.text is not None else ""
            verdicts.append(True)
        return verdicts
