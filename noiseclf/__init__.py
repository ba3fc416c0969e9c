"""noiseclf: keep the article, drop the noise, line by line.

    >>> import noiseclf
    >>> model = noiseclf.load_model()          # the shipped model; load once
    >>> model.clean(scraped_text)              # the article lines, unchanged
    >>> model.classify(lines)                  # a Verdict (label, probability, keep) per line
    >>> cleaner = noiseclf.Cleaner(model)      # many pages: batching, site memory, drift alert
    >>> for page in cleaner.clean([noiseclf.Scrape(text, name="a.txt", site="example.com")]): ...

The names below are imported on first use, so that ``import noiseclf`` (and every
``noiseclf`` command's start-up) does not load numpy and SciPy before it needs them.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_HOMES = {
    "Cleaned": "clean", "Cleaner": "clean", "Scrape": "clean",
    "InputError": "errors", "LabelsError": "errors", "ModelError": "errors", "NoiseclfError": "errors",
    "OutputError": "errors", "UsageError": "errors",
    "LABELS": "labels", "load_labels": "labels",
    "Model": "model", "Verdict": "model",
    "load_model": "modelfile", "save_model": "modelfile",
    "Settings": "settings",
}
__all__ = sorted(_HOMES) + ["__version__"]


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'noiseclf' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
