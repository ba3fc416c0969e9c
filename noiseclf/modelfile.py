"""The model file: a zip archive of two members, nothing executable.

* ``meta.json``: format version, label set, every setting (:class:`noiseclf.settings.Settings`),
  the library versions it was trained with, the training-data hash, metrics,
  and a self-check (fixed lines and the probabilities the model gave them);
* ``arrays.npz``: the learned numbers (IDF weights, layout scaling,
  coefficients), read with ``allow_pickle=False``.

Loading checks the metadata first (:mod:`noiseclf.compat`: versions,
migrations, settings), verifies the arrays against the SHA-256 recorded in it,
checks their headers and shapes before reading them, rebuilds the model from
plain numbers and recomputes the self-check. A model never depends on the
pickle layout of a library version, and a crafted file cannot run code.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import zipfile
from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np

from . import compat
from .atomic import atomic_write_bytes
from .compat import FORMAT_NAME, FORMAT_VERSION
from .context import context_dim
from .pagestage import PageStage, feature_dim
from .errors import ModelError, OutputError
from .features import LAYOUT_DIM, Featurizer, Page
from .features.featurizer import n_features as features_of
from .labels import LABELS
from .model import LinearStage, Model
from .settings import Settings, feature_defaults

DEFAULT_MODEL_NAME = "default.noiseclf"


def library_versions() -> dict[str, str]:
    """The versions a model records (informative: the arrays are plain numbers)."""
    import scipy

    from . import __version__

    versions = {"noiseclf": __version__, "numpy": np.__version__, "scipy": scipy.__version__,
                "python": platform.python_version()}
    # It fitted the weights; prediction does not need it. Read from the installed
    # distribution: importing sklearn costs 2 s that `noiseclf train` would wait for.
    from importlib import metadata

    try:
        versions["scikit-learn"] = metadata.version("scikit-learn")
    except metadata.PackageNotFoundError:
        pass
    return dict(sorted(versions.items()))


def _arrays(model: Model) -> dict[str, np.ndarray]:
    extra = {}
    if model.context is not None:
        extra = {"context_coef": np.asarray(model.context.coef_, dtype=np.float64),
                 "context_intercept": np.asarray(model.context.intercept_, dtype=np.float64)}
    for stage in (model.stage, model.markup_stage):
        if stage is not None:
            extra |= stage.arrays()
    if model.profiles:
        from .siteprofile import arrays as profile_arrays

        extra |= profile_arrays(model.profiles)
    return extra | model.featurizer.arrays() | {
        "coef": np.asarray(model.classifier.coef_, dtype=np.float32),
        "intercept": np.asarray(model.classifier.intercept_, dtype=np.float64),
    }


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """The arrays as an .npz (a zip of .npy files, as ``np.savez_compressed`` writes it).

    Deflate level 1, not numpy's default 6: the float32 weights barely compress, so level 1
    writes the shipped model's arrays in 0.75 s against 1.21 s for 14.23 MB against 13.98
    (every adapted model is written by `noiseclf train`, which the user waits for)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, value in arrays.items():
            with z.open(name + ".npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asanyarray(value), allow_pickle=False)
    return buf.getvalue()


def save_model(model: Model, path: str | Path) -> Path:
    """Write the model atomically: the old file stays intact until the new one is complete."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a directory; give a file name such as {path}/model.noiseclf")
    blob = _npz_bytes(_arrays(model))
    meta = {k: v for k, v in model.meta.items() if k != "site_profiles"}  # written from model.profiles
    meta.update(
        {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "labels": list(model.labels),
            "featurizer": model.settings.features(),
            "classifier": {"type": "LogisticRegression", "n_features": int(model.classifier.coef_.shape[1])},
            "context": None if model.context is None else {
                "type": "LogisticRegression", "n_features": int(model.context.coef_.shape[1])},
            "page_stage": None if model.stage is None else {
                "type": "LogisticRegression over noiseclf.pagestage features",
                "n_features": int(model.stage.coef.shape[1]), "mix": model.stage.mix},
            "markup_stage": None if model.markup_stage is None else {
                "type": "LogisticRegression over noiseclf.pagestage features and noiseclf.markup shares",
                "n_features": int(model.markup_stage.coef.shape[1]), "mix": model.markup_stage.mix,
                "converter": "inscriptis"},
            "arrays_sha256": hashlib.sha256(blob).hexdigest(),
            **_profiles_meta(model),
            # What the saved numbers give on fixed lines: loading recomputes it.
            "selfcheck": compat.selfcheck_record(model.predict([Page(list(compat.SELFCHECK_LINES))])),
        }
    )
    meta.setdefault("versions", library_versions())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        info = zipfile.ZipInfo("meta.json", date_time=(2020, 1, 1, 0, 0, 0))
        zf.writestr(info, json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False))
        info = zipfile.ZipInfo("arrays.npz", date_time=(2020, 1, 1, 0, 0, 0))
        zf.writestr(info, blob)
    model.meta = meta
    return atomic_write_bytes(path, buf.getvalue())


def _profiles_meta(model: Model) -> dict:
    """``site_profiles`` for a model with site profiles; nothing for one without (its file
    stays as it was before profiles existed)."""
    if not model.profiles:
        return {}
    from .siteprofile import to_meta

    return {"site_profiles": to_meta(model.profiles, model.site_stage)}


def default_model_path() -> Path:
    """The shipped model: installed as package data, or in a source checkout's models/."""
    try:
        installed = Path(str(resources.files("noiseclf.models").joinpath(DEFAULT_MODEL_NAME)))
        if installed.is_file():
            return installed
    except ModuleNotFoundError:
        pass
    checkout = Path(__file__).resolve().parent.parent / "models" / DEFAULT_MODEL_NAME
    if checkout.is_file():
        return checkout
    raise ModelError(
        "the shipped model is not installed with this copy of noiseclf; "
        "reinstall it (pip install .) or pass --model PATH"
    )


def read_meta(path: str | Path) -> dict:
    """Read and check a model file's metadata without loading its arrays."""
    meta, _ = _open_model(Path(path), arrays=False)
    return meta


_HINT = "pass a model written by `noiseclf train`"


def _sniff(head: bytes) -> str:
    """Say what a file that is not a model looks like, without parsing it."""
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "it is a Python pickle, which can run code when loaded; noiseclf never loads pickles"
    if head[:2] in (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda") or head[:2] == b"ZF":
        return "it looks like a compressed joblib/pickle file; noiseclf never loads pickles"
    return "it is not a noiseclf model archive"


def _open_model(path: Path, arrays: bool = True) -> tuple[dict, bytes | None]:
    """Read and check the metadata (and the raw arrays member) of a model file.

    Nothing in the file is executed or unpickled: the archive is read as a
    zip, ``meta.json`` as JSON (size-capped), ``arrays.npz`` as bytes checked
    against the SHA-256 in the metadata.
    """
    if not path.exists():
        raise ModelError(f"{path}: no such model file; {_HINT}, or omit --model to use the shipped one")
    if path.is_dir():
        raise ModelError(f"{path}: is a directory, not a model file; {_HINT}")
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
        is_zip = zipfile.is_zipfile(path)
    except OSError as exc:
        raise ModelError(f"{path}: cannot be read ({exc.strerror}); check the path and permissions") from None
    if not is_zip:
        raise ModelError(f"{path}: not a noiseclf model file ({_sniff(head)}); refused without loading it; {_HINT}")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if not {"meta.json", "arrays.npz"} <= names:
                raise ModelError(f"{path}: not a noiseclf model file (no meta.json and arrays.npz inside); refused; {_HINT}")
            if zf.getinfo("meta.json").file_size > compat.MAX_META_BYTES:
                raise ModelError(f"{path}: the model's meta.json is implausibly large; refused; {_HINT}")
            meta = json.loads(zf.read("meta.json").decode("utf-8"))
            blob = None
            if arrays:
                meta = _check_meta(path, meta)
                limit = _arrays_limit(meta)
                if zf.getinfo("arrays.npz").file_size > limit:
                    raise ModelError(
                        f"{path}: the model's arrays are larger than its feature settings allow; "
                        f"the file is damaged or altered: {compat.RETRAIN}"
                    )
                blob = zf.read("arrays.npz")
    except ModelError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError,
            UnicodeDecodeError, ValueError, RecursionError, RuntimeError) as exc:
        raise ModelError(f"{path}: the model file is corrupt ({type(exc).__name__}); download it again or {compat.RETRAIN}") from None
    if blob is None:
        meta = _check_meta(path, meta)
    elif hashlib.sha256(blob).hexdigest() != meta.get("arrays_sha256"):
        raise ModelError(
            f"{path}: the model's arrays do not match the checksum in its metadata (corrupt or "
            f"altered file); download it again or {compat.RETRAIN}"
        )
    return meta, blob


def _check_meta(path: Path, meta: object) -> dict:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ModelError(f"{path}: not a noiseclf model file (unknown format); {_HINT}")
    meta = compat.migrate(path, meta)
    compat.check_labels(path, meta, LABELS)
    compat.featurizer_params(path, meta, feature_defaults())
    for part in ("context", "page_stage", "markup_stage"):
        if meta.get(part) is not None and not isinstance(meta.get(part), dict):
            raise ModelError(f"{path}: the model's {part} settings {meta.get(part)!r:.60} are not readable: {compat.RETRAIN}")
    for part, name in (("page_stage", "page-stage"), ("markup_stage", "markup-stage")):
        mix = (meta.get(part) or {}).get("mix", 1.0)
        if isinstance(mix, bool) or not isinstance(mix, (int, float)) or not 0 < mix <= 1:
            raise ModelError(f"{path}: the model's {name} mix {mix!r:.60} is not a number over 0 and at most 1: "
                             f"{compat.RETRAIN}")
    drop = (meta.get("options") or {}).get("relative_drop") if isinstance(meta.get("options"), dict) else None
    if drop is not None and (isinstance(drop, bool) or not isinstance(drop, (int, float)) or not 0 <= drop <= 1):
        raise ModelError(f"{path}: the model's page-relative drop {drop!r:.60} is not a number from 0 to 1: "
                         f"{compat.RETRAIN}")
    if meta.get("site_profiles") is not None:
        from .siteprofile import check_meta

        n_features = features_of(Settings.from_features(meta["featurizer"]))
        problem = check_meta(meta["site_profiles"], len(meta["labels"]), n_features)
        if problem:
            raise ModelError(f"{path}: the model's site profiles are not readable ({problem}): {compat.RETRAIN}")
    return meta


def _expected_shapes(params: dict, labels: Sequence[str], context: bool, stage: bool = False,
                     profiles: dict | None = None, markup: bool = False) -> dict[str, tuple[int, ...]]:
    n_word, n_char = 2 ** params["word_bits"], 2 ** params["char_bits"]
    rows = 1 if len(labels) == 2 else len(labels)  # a binary logistic regression has one row
    shapes = {
        "idf_word": (n_word,), "idf_char": (n_char,), "layout_mean": (LAYOUT_DIM,),
        "layout_scale": (LAYOUT_DIM,), "coef": (rows, features_of(Settings.from_features(params))),
        "intercept": (rows,),
    }
    if context:
        shapes["context_coef"] = (rows, context_dim(len(labels)))
        shapes["context_intercept"] = (rows,)
    if stage:
        d = feature_dim(len(labels))
        shapes |= {"stage_mean": (d,), "stage_scale": (d,), "stage_coef": (rows, d), "stage_intercept": (rows,)}
    if markup:
        d = feature_dim(len(labels), markup=True)
        shapes |= {"markup_mean": (d,), "markup_scale": (d,), "markup_coef": (rows, d), "markup_intercept": (rows,)}
    if profiles is not None:
        from .siteprofile import expected_shapes

        shapes |= expected_shapes(profiles, len(labels))
    return shapes


def _arrays_limit(meta: dict) -> int:
    params = compat.featurizer_params("", meta, feature_defaults())
    shapes = _expected_shapes(params, meta["labels"], bool(meta.get("context")), bool(meta.get("page_stage")),
                              meta.get("site_profiles"), bool(meta.get("markup_stage")))
    return sum(8 * int(np.prod(s)) + 4096 for s in shapes.values()) + 65536


def _read_npz(path: Path, blob: bytes, expected: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Read the expected arrays from the npz bytes: headers checked first, never a pickle."""
    from numpy.lib import format as npy

    out: dict[str, np.ndarray] = {}
    bad = f"{path}: the model's arrays cannot be read"
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            names = set(zf.namelist())
            for name, shape in expected.items():
                member = name + ".npy"
                if member not in names:
                    continue  # reported by check_arrays
                with zf.open(member) as fh:
                    version = npy.read_magic(fh)
                    if version == (1, 0):
                        got_shape, _, dtype = npy.read_array_header_1_0(fh)
                    elif version == (2, 0):
                        got_shape, _, dtype = npy.read_array_header_2_0(fh)
                    else:
                        raise ModelError(f"{bad} (array {name} uses .npy version {version}): {compat.RETRAIN}")
                if dtype.hasobject or dtype.kind != "f":
                    raise ModelError(
                        f"{path}: array {name} holds {dtype} values, not plain numbers (refused without "
                        f"loading it; the file is damaged or altered): {compat.RETRAIN}"
                    )
                if tuple(got_shape) != shape:
                    raise ModelError(
                        f"{path}: array {name} has shape {tuple(got_shape)}, the model's feature settings "
                        f"need {shape} (the arrays do not belong to these settings): {compat.RETRAIN}"
                    )
                with zf.open(member) as fh:
                    out[name] = npy.read_array(fh, allow_pickle=False)
    except ModelError:
        raise
    except (zipfile.BadZipFile, NotImplementedError, ValueError, OSError, EOFError, TypeError,
            SyntaxError, MemoryError, RuntimeError) as exc:
        raise ModelError(f"{bad} ({type(exc).__name__}); download it again or {compat.RETRAIN}") from None
    return out


def load_model(path: str | Path | None = None) -> Model:
    """Load a model file (the shipped model when ``path`` is None).

    Raises :class:`ModelError` for anything that is not a model this noiseclf
    can use exactly as it was trained: never runs code from the file. Loading
    does not import scikit-learn: predictions go through :mod:`noiseclf.fastpath`.
    """
    path = Path(path) if path is not None else default_model_path()
    meta, blob = _open_model(path)
    params = compat.featurizer_params(path, meta, feature_defaults())
    labels = meta["labels"]
    expected = _expected_shapes(params, labels, bool(meta.get("context")), bool(meta.get("page_stage")),
                                meta.get("site_profiles"), bool(meta.get("markup_stage")))
    arr = _read_npz(path, blob, expected)
    compat.check_arrays(path, arr, expected)
    settings = Settings.from_features(params)
    context = None
    if meta.get("context"):
        context = LinearStage(labels, arr["context_coef"], arr["context_intercept"])
    stage = None
    if meta.get("page_stage"):
        stage = PageStage(labels, arr["stage_mean"], arr["stage_scale"], arr["stage_coef"], arr["stage_intercept"],
                          mix=meta["page_stage"].get("mix", 1.0))
    markup_stage = None
    if meta.get("markup_stage"):
        markup_stage = PageStage(labels, arr["markup_mean"], arr["markup_scale"], arr["markup_coef"],
                                 arr["markup_intercept"], mix=meta["markup_stage"].get("mix", 1.0), markup=True)
    model = Model(Featurizer(settings, arr), LinearStage(labels, arr["coef"], arr["intercept"]), meta,
                  context=context, path=path, stage=stage, markup_stage=markup_stage)
    if meta.get("site_profiles") is not None:
        from .siteprofile import from_meta

        try:
            model.profiles = from_meta(meta["site_profiles"], labels, arr, model.featurizer.n_features)
        except (ValueError, KeyError, TypeError):
            raise ModelError(f"{path}: the model's site profile adapters do not fit its features: {compat.RETRAIN}") from None
        model.site_stage = meta["site_profiles"].get("stage") or {}
    check_lines = compat.selfcheck_lines(path, meta)
    if check_lines is not None:
        compat.verify_selfcheck(path, meta, model.predict([Page(check_lines)]))
    return model
