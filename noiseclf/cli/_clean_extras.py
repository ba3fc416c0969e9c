"""What ``noiseclf clean`` adds around the classifier: site memory and the drift alert.

Kept out of clean.py so that file stays about cleaning:

* recurrence across the scrapes of a site (noiseclf/memory.py): used when a
  run holds two or more scrapes of a site (the folder a scrape sits in, or
  ``--site``), or when ``--site-memory FILE`` remembers earlier runs; the file
  is updated atomically at the end of the run;
* the drift alert (noiseclf/drift.py): scrapes that look unfamiliar to the
  model are named on stderr at the end of the run.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Sequence

from ..errors import InputError
from ..model import Model, Verdict
from ..text import read_scrape
from ._common import warn

MAX_NAMED = 10


class CleanExtras:
    def __init__(self, model: Model, paths: Sequence[Path] | None, memory_path: Path | None = None,
                 site: str | None = None):
        from ..drift import thresholds_for
        from ..memory import SiteContext, SiteMemory
        from ..sites import site_of_folder as site_of

        self.model = model
        self.memory_path = memory_path
        self.site = site
        self._site_of = site_of
        self.memory = SiteMemory.load(memory_path) if memory_path is not None else SiteMemory()
        paths = list(paths or [])
        per_site = Counter(self.site_for(p) for p in paths)
        self.active = memory_path is not None or any(n >= 2 for n in per_site.values())
        self.context = SiteContext(self.memory) if self.active else None
        if self.active and paths:
            items = []
            for p in paths:
                try:
                    items.append((self.site_for(p), read_scrape(p).text))
                except InputError:
                    pass  # reported by the cleaning loop
            self.context.observe_texts(items)
        self.th = thresholds_for(model)
        self.unfamiliar: list[str] = []
        self.checked = 0

    def site_for(self, path: Path | None) -> str:
        if self.site:
            return self.site
        return self._site_of(path) if path is not None else "<stdin>"

    def classify(self, batch: Sequence[tuple[Path | None, str]]) -> list[list[Verdict]]:
        from ..drift import judge, page_stats

        texts = [t for _, t in batch]
        if self.context is not None:
            if self.memory_path is not None:  # stdin, or a page not seen in the pre-pass
                self.context.observe_texts([(self.site_for(p), t) for p, t in batch if p is None])
            results = self.context.classify_many(self.model, [self.site_for(p) for p, _ in batch], texts)
        else:
            results = self.model.classify_many(texts)
        for (p, _), verdicts in zip(batch, results):
            stats = judge(page_stats(str(p) if p is not None else "<stdin>", verdicts, self.th["unsure_below"]), self.th)
            self.checked += 1
            if stats.unfamiliar:
                self.unfamiliar.append(stats.name)
        return results

    def finish(self) -> None:
        if self.memory_path is not None:
            self.memory.save(self.memory_path)
        if self.unfamiliar:
            names = ", ".join(self.unfamiliar[:MAX_NAMED])
            more = f" and {len(self.unfamiliar) - MAX_NAMED} more" if len(self.unfamiliar) > MAX_NAMED else ""
            warn(f"{len(self.unfamiliar)} of {self.checked} scrape(s) look unfamiliar to the model "
                 f"(mean confidence below {self.th['confidence_floor']:.2f} or an unusual share of article "
                 f"lines): {names}{more}; see `noiseclf check`, and label one with `noiseclf label`")
