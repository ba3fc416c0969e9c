"""A Scrapy item pipeline that keeps the article lines of a scraped text field.

Enable it in the project's ``settings.py``::

    ITEM_PIPELINES = {"noiseclf.integrations.scrapy.NoiseclfPipeline": 300}
    NOISECLF_FIELD = "text"            # the item field holding the scraped text
    NOISECLF_OUTPUT_FIELD = "text"     # where the cleaned text goes (default: NOISECLF_FIELD)
    NOISECLF_MODEL = None              # a model file (default: the shipped model)
    NOISECLF_KEEP = ["article"]        # labels to keep
    NOISECLF_COUNTS = False            # also set noiseclf_kept_lines / noiseclf_dropped_lines
    NOISECLF_CACHE_LINES = 20000       # lines whose features are remembered (menus repeat)
    NOISECLF_URL_FIELD = "url"         # the item field with the page's URL: its host is the site
    NOISECLF_PLAIN = False             # Markdown text (html2text, markdownify): kept lines as plain text

The model is loaded once, when the spider opens. Items without the field (or
with ``None``) pass through unchanged. Counts go to the crawl stats
(``noiseclf/items``, ``noiseclf/lines_kept``, ``noiseclf/lines_dropped``).
Pages whose items carry a URL are cleaned with site memory: lines that recur
on the site's other pages of the crawl lean towards menu and footer.
Works with dicts, ``scrapy.Item``, dataclass and attrs items (via itemadapter).
A field holding HTML (``response.text``) is converted to text first (:mod:`noiseclf.html`).

Input that is not what it seems is noticed, not silently cleaned: a field holding a feed, a
sitemap or JSON records (:func:`noiseclf.text.not_a_page`) is left as it is, counted in
``noiseclf/not_a_page`` and named in a warning (once per kind and crawl); Markdown with link
targets while ``NOISECLF_PLAIN`` is off is cleaned as before, counted in ``noiseclf/markdown``
and named in one warning that suggests the setting.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

from ..clean import Cleaner, Scrape
from ..errors import NoiseclfError, UsageError
from ..html import as_text as html_as_text
from ..model import DEFAULT_CACHE_LINES, Model, check_keep
from ..modelfile import load_model
from ..plain import looks_like_markdown
from ..text import not_a_page

logger = logging.getLogger(__name__)

KEPT_FIELD = "noiseclf_kept_lines"
DROPPED_FIELD = "noiseclf_dropped_lines"


class NoiseclfPipeline:
    def __init__(
        self,
        field: str = "text",
        output_field: str | None = None,
        model: str | None = None,
        keep: Iterable[str] = ("article",),
        counts: bool = False,
        cache_lines: int = DEFAULT_CACHE_LINES,
        stats: Any = None,
        url_field: str | None = "url",
        plain: bool = False,
    ):
        try:
            keep = check_keep(keep)
        except UsageError as exc:
            raise UsageError(f"NOISECLF_KEEP: {exc}") from None
        self.url_field = url_field
        self.plain = bool(plain)
        self.cleaner: Cleaner | None = None
        self.field = field
        self.output_field = output_field or field
        self.model_path = model or None
        self.keep = set(keep)
        self.counts = counts
        self.cache_lines = int(cache_lines)
        self.stats = stats
        self.model: Model | None = None
        self._warned: set[str] = set()  # kinds of odd input already named in a warning

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(
            field=s.get("NOISECLF_FIELD", "text"),
            output_field=s.get("NOISECLF_OUTPUT_FIELD"),
            model=s.get("NOISECLF_MODEL"),
            keep=s.getlist("NOISECLF_KEEP", ["article"]),
            counts=s.getbool("NOISECLF_COUNTS", False),
            cache_lines=s.getint("NOISECLF_CACHE_LINES", DEFAULT_CACHE_LINES),
            stats=crawler.stats,
            url_field=s.get("NOISECLF_URL_FIELD", "url"),
            plain=s.getbool("NOISECLF_PLAIN", False),
        )

    def open_spider(self, spider=None) -> None:
        if self.model is None:
            try:
                self.model = load_model(self.model_path).set_cache(self.cache_lines)
            except NoiseclfError as exc:  # name the setting to change
                raise NoiseclfError(f"NOISECLF_MODEL: {exc}") from None
        if self.cleaner is None:
            self.cleaner = Cleaner(self.model, self.keep, drift=False, plain=self.plain)

    def process_item(self, item: Any, spider=None) -> Any:
        from itemadapter import ItemAdapter

        if self.model is None:
            self.open_spider(spider)
        adapter = ItemAdapter(item)
        text = adapter.get(self.field)
        if text is None:
            return item
        if isinstance(text, (list, tuple)):  # e.g. response.css("p::text").getall()
            text = "\n".join(str(t) for t in text)
        url = adapter.get(self.url_field) if self.url_field and self.url_field in adapter.field_names() else None
        url = url if isinstance(url, str) else None
        kind = not_a_page(text) if isinstance(text, str) else None
        if kind is not None:  # cleaned, it would come out as JSON or XML kept as "article"
            self._notice("not_a_page", kind, f"noiseclf: the {self.field!r} field of an item ({url or 'no URL'}) "
                                             f"is {kind}, not a page's text; it is left as it is: check what "
                                             "the spider puts in the field")
            return item
        converted = html_as_text(text)  # HTML (e.g. response.text) becomes text first: noiseclf.html
        if converted is text and not self.plain and isinstance(text, str) and looks_like_markdown(text):
            self._notice("markdown", "Markdown", f"noiseclf: the {self.field!r} field of an item ({url or 'no URL'}) "
                                                 "is Markdown with link targets; set NOISECLF_PLAIN = True to write "
                                                 "the kept lines as plain text (their URLs are not the page's words)")
        text = converted
        (page,) = self.cleaner.clean_batch([Scrape(text, url=url)])
        cleaned, kept, dropped = page.text, page.kept, page.dropped  # bytes decoded like a scrape file
        try:
            adapter[self.output_field] = cleaned
            if self.counts:
                adapter[KEPT_FIELD] = kept
                adapter[DROPPED_FIELD] = dropped
        except KeyError as exc:
            raise KeyError(f"noiseclf: the item type has no field {exc}; declare it on the Item "
                           "or set NOISECLF_OUTPUT_FIELD / NOISECLF_COUNTS") from None
        if self.stats is not None:
            self.stats.inc_value("noiseclf/items")
            self.stats.inc_value("noiseclf/lines_kept", kept)
            self.stats.inc_value("noiseclf/lines_dropped", dropped)
        return item

    def _notice(self, stat: str, kind: str, message: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"noiseclf/{stat}")
        if kind not in self._warned:
            self._warned.add(kind)
            logger.warning("%s (said once a crawl; counted in the stats as noiseclf/%s)", message, stat)
