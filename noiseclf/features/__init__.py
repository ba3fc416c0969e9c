"""Features of a line: its words, its characters, its shape and its neighbours.

One implementation, used to fit and to predict:

* :mod:`.shape`: the per-line shape features (:func:`line_shapes`, names beside formulas);
* :mod:`.layout`: :class:`Page`, and where a line sits in its page (:func:`page_layout`);
* :mod:`.hashing`: hashed word and character n-grams and their TF-IDF;
* :mod:`.featurizer`: :class:`Featurizer` (pages to feature rows) and
  :class:`LineScorer` (the first stage's decision values, with a line cache).

Lines are normalised in one place, :func:`noiseclf.text.normalize_lines`.
"""

from .featurizer import Featurizer, LineScorer
from .layout import CONTEXT_NAMES, LAYOUT_DIM, LAYOUT_NAMES, Page, page_layout
from .shape import SHAPE_NAMES, line_shapes

__all__ = ["CONTEXT_NAMES", "Featurizer", "LAYOUT_DIM", "LAYOUT_NAMES", "LineScorer", "Page", "SHAPE_NAMES",
           "line_shapes", "page_layout"]
