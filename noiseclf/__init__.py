"""noiseclf: keep the article, drop the noise, line by line.

    >>> import noiseclf
    >>> model = noiseclf.load_model()          # the shipped model; load once
    >>> model.clean(scraped_text)              # the article lines, unchanged
    >>> model.classify(lines)                  # a Verdict (label, probability) per line
"""

__version__ = "0.1.0"

from .errors import InputError, LabelsError, ModelError, NoiseclfError, OutputError  # noqa: E402
from .labels import LABELS, load_labels  # noqa: E402
from .model import Model, Verdict, load_model, save_model  # noqa: E402

__all__ = [
    "LABELS", "InputError", "LabelsError", "Model", "ModelError", "NoiseclfError", "OutputError",
    "Verdict", "load_labels", "load_model", "save_model", "__version__",
]
