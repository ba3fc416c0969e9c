"""Every setting of a model, in one object: its defaults are the shipped model's.

:class:`Settings` is what ``noiseclf train`` and ``training/build_model.py``
fit with, and what a model file records: the feature settings under
``featurizer`` (the featuriser needs all of them to reproduce its columns) and
all of them under ``options``. ``noiseclf train --from-scratch`` therefore trains
the same configuration as the shipped model.

The values were chosen on validation domains of the training split
(``training/README.md`` has the table): C 0.5 (against 0.25-4); layout weight
0.3 (the same accuracy as 1.0, converging three times faster); character
n-grams on the first 80 characters of a line (the same accuracy as 160, a third
faster to clean); the neighbours' words within 3 lines as a block of weight 1
(+0.005 word F1 over all page types on two validation folds); no second stage
(it lowered validation word F1); the page-relative drop at 0.4. The page-level
stage's settings are the shipped build's (``training/build_model.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

# The settings the featuriser needs to compute a model's columns; a model file
# records each of them (noiseclf.compat checks that none is missing or unknown).
FEATURE_KEYS = ("word_ngrams", "char_ngrams", "word_bits", "char_bits", "char_max_len",
                "word_weight", "char_weight", "layout_weight", "neighbour_words", "neighbour_words_weight")
# The settings read only when deciding what to keep, never by a fit (so caches of fits ignore them).
DECISION_KEYS = ("relative_drop",)


@dataclass(frozen=True)
class Settings:
    # -- features ------------------------------------------------------------
    word_ngrams: tuple[int, int] = (1, 2)  # word n-grams of the normalised line
    char_ngrams: tuple[int, int] = (2, 4)  # char_wb n-grams (within words, padded by a space)
    word_bits: int = 18  # 2**bits hashed columns per block: no vocabulary to store or grow
    char_bits: int = 18
    char_max_len: int = 80  # character n-grams of the first 80 characters only
    word_weight: float = 1.0  # each block is L2-normalised, then scaled by its weight
    char_weight: float = 1.0
    layout_weight: float = 0.3
    # The neighbours' words: a block of its own, the mean of the word blocks of the lines
    # within ``neighbour_words`` lines of a line (same page, the line left out), times
    # ``neighbour_words_weight``. It tells which section a line sits in ("Reply" or "Subscribe"
    # beside it) where its own words and the neighbours' shapes do not. 0: no such block.
    neighbour_words: int = 3
    neighbour_words_weight: float = 1.0
    # -- the logistic regression ------------------------------------------------
    C: float = 0.5
    class_weight: str | None = "balanced"
    max_iter: int = 2000
    random_state: int = 0
    # Share of training lines also given a second time without their word
    # n-grams (characters and layout only): so that the layout and character
    # weights can carry a page in a language whose words the model never saw.
    word_dropout: float = 0.0
    # -- the decision --------------------------------------------------------------
    # The page-relative drop (the rule and its word limits: noiseclf.model.decide): a kept
    # line whose kept probability is more than this below the page's own prose is dropped
    # (other stories' teasers, comments, pitches beside an article at 0.99). Chosen on
    # out-of-fold probabilities of site-disjoint folds (training/README.md, "The page-relative
    # drop"). None: off, as in model files from before it.
    relative_drop: float | None = 0.4
    # -- the second stage over neighbours' probabilities (off: see the module doc) --
    context: bool = False
    context_C: float = 1.0
    context_folds: int = 3  # out-of-fold first-stage probabilities it is trained on

    def features(self) -> dict:
        """The feature settings, as a model file records them."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items() if k in FEATURE_KEYS}

    def as_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    def fit_dict(self) -> dict:
        """What a fit depends on: every setting but the decision's."""
        return {k: v for k, v in self.as_dict().items() if k not in DECISION_KEYS}

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def from_features(cls, params: dict) -> "Settings":
        """Settings whose feature part is ``params`` (as read from a model file)."""
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items() if k in FEATURE_KEYS})

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


def feature_defaults() -> dict:
    """{feature setting: default}: the key set a model file's ``featurizer`` must have."""
    return Settings().features()
