"""What a model file may contain, and how files of other versions are read.

A model file is data, never code: :func:`noiseclf.model.load_model` reads it
with the checks here and refuses anything else with a :class:`ModelError`
(exit code 3) that says what to do.

Compatibility policy (also in the README):

* The file's ``format_version`` decides how it is read. Files written by an
  older noiseclf in an older format have their metadata brought up to date
  by the migrations in :data:`MIGRATIONS` (one step per version); formats older than
  :data:`MIN_FORMAT_VERSION` cannot be migrated and are refused with
  "retrain". A file from a *newer* format is refused with "upgrade noiseclf".
* The scikit-learn, NumPy, SciPy and Python versions recorded in a model are
  informative only: the arrays are plain numbers and the classifier is rebuilt
  from them, so a model trained under other library versions loads and
  predicts the same.
* A model carries a *self-check*: a few fixed lines and the probabilities the
  model gave them when it was saved. Loading recomputes them; if the features
  of this noiseclf no longer produce the same numbers, the model is refused
  instead of giving silently wrong predictions.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .errors import ModelError

FORMAT_NAME = "noiseclf-model"
FORMAT_VERSION = 4  # the format this noiseclf writes
MIN_FORMAT_VERSION = 1  # the oldest format it can read (directly or by migration)


def _page_stage_absent(meta: dict) -> dict:
    """Format 2 added the page-level stage (``page_stage``) and site profiles (``site_profiles``,
    noiseclf/siteprofile.py); format 1 files have neither."""
    return {**meta, "page_stage": None}


def _no_neighbour_words(meta: dict) -> dict:
    """Format 3 added the neighbours' word block (``neighbour_words``, noiseclf/settings.py);
    format 2 files have none (radius 0)."""
    featurizer = meta.get("featurizer")
    if isinstance(featurizer, dict):
        featurizer = {"neighbour_words": 0, "neighbour_words_weight": 1.0, **featurizer}
    return {**meta, "featurizer": featurizer}


def _markup_stage_absent(meta: dict) -> dict:
    """Format 4 added the markup stage (``markup_stage``, noiseclf/markup.py); format 3 files have none."""
    return {**meta, "markup_stage": None}


# MIGRATIONS[n] rewrites the metadata of a format-n file as format n+1 (e.g. a
# renamed setting, or a new setting with the value that reproduces the old
# behaviour). A change that makes old *arrays* unusable raises MIN_FORMAT_VERSION
# instead: such models are refused with "retrain", never reinterpreted. A file
# of a newer format than this noiseclf reads (one with a page-level stage, for a
# noiseclf before format 2) is refused with "upgrade", never half-read.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _page_stage_absent, 2: _no_neighbour_words,
                                                 3: _markup_stage_absent}

# Bounds on what a model file may ask us to read or allocate (zip bombs,
# absurd shapes). The shipped model has 2**18 hashed columns per block.
MAX_META_BYTES = 4 << 20
MAX_HASH_BITS = 24
MAX_NGRAM = 8
MAX_CHAR_MAX_LEN = 1 << 20
MAX_NEIGHBOUR_WORDS = 50

RETRAIN = "retrain it with this noiseclf (`noiseclf train --labels LABELS --out FILE`)"
UPGRADE = "upgrade noiseclf (pip install -U noiseclf)"

# Lines the self-check classifies: a little of every kind of line.
SELFCHECK_LINES = [
    "Home | World | Politics | Business | Tech | Sport",
    "",
    "City council approves new budget after long debate",
    "By Jane Doe, Staff Writer - March 3, 2024 10:42 AM",
    "",
    "The city council voted 7-2 on Tuesday to approve a budget that raises spending on "
    "parks and public transport, ending months of negotiation between the mayor's office "
    "and the council's finance committee.",
    "Critics said the plan leaves too little in reserve for emergencies.",
    "",
    "ADVERTISEMENT",
    "Related: Mayor announces new bus routes",
    "- Five things to know about the new tax",
    "",
    "\u00a9 2024 Example News. All rights reserved. Privacy Policy | Terms of Use",
    "Contact us  Careers  Newsletter",
]
SELFCHECK_TOLERANCE = 1e-3


def _version_tuple(v: object) -> tuple[int, ...] | None:
    if not isinstance(v, str):
        return None
    parts = []
    for piece in v.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit()) if piece[:1].isdigit() else ""
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) or None


def written_by_newer(meta: dict) -> bool:
    """True when the model says it was written by a newer noiseclf than this one."""
    from . import __version__

    versions = meta.get("versions")
    theirs = _version_tuple(versions.get("noiseclf")) if isinstance(versions, dict) else None
    ours = _version_tuple(__version__)
    return theirs is not None and ours is not None and theirs > ours


def writer(meta: dict) -> str:
    versions = meta.get("versions")
    v = versions.get("noiseclf") if isinstance(versions, dict) else None
    return f"noiseclf {v}" if isinstance(v, str) and len(v) < 40 else "another noiseclf"


def check_format(path: object, meta: dict) -> int:
    """The file's format version, or a ModelError saying whether to upgrade or retrain."""
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ModelError(
            f"{path}: the model has no valid format_version ({version!r}); it was not written by "
            f"`noiseclf train` or is damaged: {RETRAIN}"
        )
    if version > FORMAT_VERSION:
        raise ModelError(
            f"{path}: model format {version} was written by {writer(meta)}; this noiseclf reads "
            f"formats {MIN_FORMAT_VERSION} to {FORMAT_VERSION}: {UPGRADE}"
        )
    if version < MIN_FORMAT_VERSION:
        raise ModelError(
            f"{path}: model format {version} (written by {writer(meta)}) is too old for this "
            f"noiseclf, which reads formats {MIN_FORMAT_VERSION} to {FORMAT_VERSION}: {RETRAIN}; "
            "your labels files still work"
        )
    return version


def migrate(path: object, meta: dict) -> dict:
    """Bring the metadata of a readable older-format model up to :data:`FORMAT_VERSION`."""
    version = check_format(path, meta)
    original = version
    while version < FORMAT_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise ModelError(f"{path}: no way to read model format {version} with this noiseclf: {RETRAIN}")
        meta = step(dict(meta))
        version += 1
        meta["format_version"] = version
    if original != version:
        meta["migrated_from_format"] = original
    return meta


def check_labels(path: object, meta: dict, known: tuple[str, ...]) -> list[str]:
    labels = meta.get("labels")
    if (
        not isinstance(labels, list)
        or len(labels) < 2
        or not all(isinstance(x, str) for x in labels)
        or len(set(labels)) != len(labels)
        or not set(labels) <= set(known)
    ):
        shown = repr(labels)[:120]
        if isinstance(labels, list) and written_by_newer(meta):
            raise ModelError(f"{path}: the model's labels {shown} include ones this noiseclf does not know: {UPGRADE}")
        raise ModelError(
            f"{path}: the model's label set {shown} is not two or more distinct labels of "
            f"{', '.join(known)}: {RETRAIN}"
        )
    return labels


def _is_int(v: object, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _is_ngram(v: object) -> bool:
    return (
        isinstance(v, (list, tuple)) and len(v) == 2
        and _is_int(v[0], 1, MAX_NGRAM) and _is_int(v[1], 1, MAX_NGRAM) and v[0] <= v[1]
    )


def _is_weight(v: object) -> bool:
    return (
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and 0 <= v <= 1e6
    )


def featurizer_params(path: object, meta: dict, defaults: dict) -> dict:
    """The featuriser settings recorded in the model, checked one by one.

    Every setting this noiseclf has must be recorded (a default could have
    changed since the model was trained: filling it in could silently change
    predictions), and none may be unknown.
    """
    params = meta.get("featurizer")
    if not isinstance(params, dict):
        raise ModelError(f"{path}: the model records no feature settings: {RETRAIN}")
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        fix = UPGRADE if written_by_newer(meta) else RETRAIN
        raise ModelError(
            f"{path}: the model uses feature settings this noiseclf does not have "
            f"({', '.join(map(str, unknown))[:80]}): {fix}"
        )
    missing = sorted(set(defaults) - set(params))
    if missing:
        raise ModelError(
            f"{path}: the model does not record the feature settings {', '.join(missing)} "
            f"(written by {writer(meta)}): {RETRAIN}"
        )
    checks = {
        "word_ngrams": _is_ngram,
        "char_ngrams": _is_ngram,
        "word_bits": lambda v: _is_int(v, 1, MAX_HASH_BITS),
        "char_bits": lambda v: _is_int(v, 1, MAX_HASH_BITS),
        "char_max_len": lambda v: _is_int(v, 1, MAX_CHAR_MAX_LEN),
        "neighbour_words": lambda v: _is_int(v, 0, MAX_NEIGHBOUR_WORDS),
    }
    out = {}
    for key, value in params.items():
        ok = checks.get(key, _is_weight)(value)
        if not ok:
            raise ModelError(f"{path}: the model's feature setting {key}={value!r:.60} is out of range: {RETRAIN}")
        out[key] = tuple(value) if isinstance(value, list) else value
    return out


def check_arrays(path: object, arrays: dict, expected: dict[str, tuple[int, ...]]) -> None:
    """Every expected array present, of a real floating type, the right shape, finite."""
    for name, shape in expected.items():
        a = arrays.get(name)
        if not isinstance(a, np.ndarray):
            raise ModelError(f"{path}: the model has no array {name}; the file is damaged or not from noiseclf: {RETRAIN}")
        if a.dtype.kind != "f":
            raise ModelError(f"{path}: array {name} holds {a.dtype} values, not numbers; the file is damaged or altered: {RETRAIN}")
        if a.shape != shape:
            raise ModelError(
                f"{path}: array {name} has shape {a.shape}, the model's feature settings need "
                f"{shape} (the arrays do not belong to these settings): {RETRAIN}"
            )
        if not np.isfinite(a).all():
            raise ModelError(f"{path}: array {name} holds NaN or infinite values; the model is broken: {RETRAIN}")
    if "layout_scale" in expected and (arrays["layout_scale"] <= 0).any():
        raise ModelError(f"{path}: array layout_scale has values <= 0; the model is broken: {RETRAIN}")


def selfcheck_record(proba: np.ndarray) -> dict:
    """What :func:`noiseclf.model.save_model` stores for the self-check."""
    return {"lines": list(SELFCHECK_LINES), "proba": np.round(proba, 6).tolist()}


def selfcheck_lines(path: object, meta: dict) -> list[str] | None:
    rec = meta.get("selfcheck")
    if rec is None:
        return None  # models saved before the self-check existed
    lines = rec.get("lines") if isinstance(rec, dict) else None
    if not isinstance(lines, list) or not all(isinstance(x, str) and "\n" not in x for x in lines) or len(lines) > 200:
        raise ModelError(f"{path}: the model's self-check record is damaged: {RETRAIN}")
    return lines


def verify_selfcheck(path: object, meta: dict, proba: np.ndarray) -> None:
    """Refuse a model whose predictions here differ from those recorded when it was saved."""
    expected = meta["selfcheck"].get("proba")
    try:
        exp = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        exp = None
    if exp is None or exp.shape != proba.shape:
        raise ModelError(f"{path}: the model's self-check record is damaged: {RETRAIN}")
    diff = float(np.max(np.abs(exp - proba))) if proba.size else 0.0
    if not diff <= SELFCHECK_TOLERANCE:
        versions = meta.get("versions") if isinstance(meta.get("versions"), dict) else {}
        sk = versions.get("scikit-learn", "?")
        raise ModelError(
            f"{path}: the model predicts differently here than when it was saved by {writer(meta)} "
            f"(scikit-learn {str(sk)[:20]}; probabilities differ by up to {diff:.3g}), so its "
            f"predictions would be wrong: {RETRAIN}, or use the noiseclf it was trained with"
        )
