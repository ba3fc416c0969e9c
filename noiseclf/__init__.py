"""noiseclf: keep the article, drop the noise, line by line.

    >>> import noiseclf
    >>> model = noiseclf.load_model()          # the shipped model; load once
    >>> model.clean(scraped_text)              # the article lines, unchanged
    >>> model.classify(lines)                  # a Verdict (label, probability, keep) per line
    >>> cleaner = noiseclf.Cleaner(model)      # many pages: batching, site memory, drift alert
    >>> for page in cleaner.clean([noiseclf.Scrape(text, name="a.txt", site="example.com")]): ...
"""

__version__ = "0.1.0"

from .clean import Cleaned, Cleaner, Scrape  # noqa: E402
from .errors import InputError, LabelsError, ModelError, NoiseclfError, OutputError, UsageError  # noqa: E402
from .labels import LABELS, load_labels  # noqa: E402
from .model import Model, Verdict  # noqa: E402
from .modelfile import load_model, save_model  # noqa: E402
from .settings import Settings  # noqa: E402

__all__ = [
    "LABELS", "Cleaned", "Cleaner", "InputError", "LabelsError", "Model", "ModelError", "NoiseclfError",
    "OutputError", "Scrape", "Settings", "UsageError", "Verdict", "load_labels", "load_model", "save_model",
    "__version__",
]
