"""A trained noiseclf model: classify lines, clean pages, save and load safely.

A model file is a zip archive holding two members and nothing executable:

* ``meta.json`` — format version, label set, feature and classifier settings,
  the library versions it was trained with, the training-data hash, metrics;
* ``arrays.npz`` — the learned numbers (IDF weights, layout scaling,
  coefficients), read with ``allow_pickle=False``.

Loading reads and checks the metadata first, verifies the arrays against the
SHA-256 recorded in it, and rebuilds the scikit-learn objects from plain
numbers, so a model never depends on the pickle layout of a library version
and a crafted file cannot run code.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from .errors import ModelError, OutputError
from .context import context_dim, context_features
from .features import LAYOUT_DIM, Page
from .labels import LABELS
from .text import decode_scrape, is_blank, split_lines

if TYPE_CHECKING:
    from .features import LineFeaturizer

FORMAT_NAME = "noiseclf-model"
FORMAT_VERSION = 1
DEFAULT_MODEL_NAME = "default.noiseclf"
DEFAULT_CACHE_LINES = 20_000  # distinct lines whose features a model remembers (see Model.set_cache)


@dataclass(frozen=True)
class Verdict:
    """The model's decision for one line. Blank lines get ``label=None``."""

    line: int  # 1-based line number
    text: str
    label: str | None
    probability: float | None  # probability of ``label``

    def as_record(self) -> dict:
        return {"line": self.line, "text": self.text, "label": self.label,
                "probability": None if self.probability is None else round(self.probability, 4)}


def library_versions() -> dict[str, str]:
    import scipy
    import sklearn

    from . import __version__

    return {
        "noiseclf": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "python": platform.python_version(),
    }


class LinearStage:
    """A fitted logistic regression's prediction, without scikit-learn: the same
    ``classes_``, ``coef_``, ``intercept_`` and ``predict_proba`` (softmax, or the
    logistic function for two classes)."""

    def __init__(self, classes, coef: np.ndarray, intercept: np.ndarray):
        self.classes_ = np.array(classes)
        self.coef_ = np.asarray(coef, dtype=np.float64)
        self.intercept_ = np.asarray(intercept, dtype=np.float64)
        self.n_features_in_ = self.coef_.shape[1]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        from .fastpath import probabilities

        return probabilities(np.asarray(X) @ self.coef_.T + self.intercept_, len(self.classes_))


class Model:
    """A featuriser and a logistic regression, with the metadata that describes them."""

    def __init__(self, featurizer: LineFeaturizer, classifier, meta: dict | None = None, context=None):
        self._featurizer = featurizer
        self._classifier = classifier
        self.context = context  # second stage over neighbours' probabilities, or None
        self.meta = dict(meta or {})
        self.labels: tuple[str, ...] = tuple(str(c) for c in classifier.classes_)
        self._saved: tuple[dict, dict] | None = None  # (featurizer params, arrays) of a loaded model
        self._fast = None
        self.cache_lines = DEFAULT_CACHE_LINES

    # -- the reference objects are built only when asked for -------------
    # A loaded model predicts through noiseclf.fastpath, which needs neither
    # scikit-learn nor these objects; training, inspection and the reference
    # path (predict_pages_reference) get them on first use.
    @property
    def featurizer(self) -> LineFeaturizer:
        if self._featurizer is None:
            self._build_reference()
        return self._featurizer

    @featurizer.setter
    def featurizer(self, value) -> None:
        self._featurizer, self._fast = value, None

    @property
    def classifier(self):
        if self._classifier is None:
            self._build_reference()
        return self._classifier

    @classifier.setter
    def classifier(self, value) -> None:
        self._classifier, self._fast = value, None

    def _build_reference(self) -> None:
        from sklearn.linear_model import LogisticRegression

        from .features import LineFeaturizer

        params, arr = self._saved
        featurizer = LineFeaturizer(**params)
        featurizer.idf_word_ = arr["idf_word"]
        featurizer.idf_char_ = arr["idf_char"]
        featurizer.layout_mean_ = arr["layout_mean"]
        featurizer.layout_scale_ = arr["layout_scale"]
        featurizer.n_features_out_ = arr["coef"].shape[1]
        clf = LogisticRegression()
        clf.classes_ = np.array(self.labels)
        clf.coef_ = arr["coef"].astype(np.float64)
        clf.intercept_ = arr["intercept"]
        clf.n_features_in_ = clf.coef_.shape[1]
        self._featurizer, self._classifier = featurizer, clf

    @property
    def fast(self):
        """The fast predictor (:mod:`noiseclf.fastpath`), or None when this model's
        features are ones it does not compute (then the reference path is used)."""
        if self._fast is None:
            from .fastpath import FastPredictor

            if self._saved is not None:
                params, arr = self._saved
            else:  # a model fresh from training: its float64 coefficients, not the saved float32
                params, arr = self._featurizer.get_params(), _arrays(self)
                arr["coef"] = np.asarray(self._classifier.coef_, dtype=np.float64)
            self._fast = (FastPredictor(params, arr, self.labels, cache_size=self.cache_lines)
                          if FastPredictor.supports(params, arr, len(self.labels)) else False)
        return self._fast or None

    def set_cache(self, lines: int) -> "Model":
        """Remember the features of up to ``lines`` distinct lines (0: no cache).

        Menus, footers and bylines repeat across the pages of a crawl; a line
        seen before costs a dictionary look-up. Results are the same either way.
        """
        self.cache_lines = int(lines)
        if self._fast:
            self._fast.set_cache_size(self.cache_lines)
        return self

    # -- prediction -----------------------------------------------------
    def predict_lines(self, pages: Sequence[Page]) -> np.ndarray:
        """First-stage probabilities: each line from its own features alone."""
        if sum(len(p) for p in pages) == 0:
            return np.zeros((0, len(self.labels)))
        fast = self.fast
        if fast is not None:
            return fast.predict_proba(pages)
        return self.predict_lines_reference(pages)

    def predict_lines_reference(self, pages: Sequence[Page]) -> np.ndarray:
        """:meth:`predict_lines` through the featuriser and scikit-learn (slow; the reference)."""
        if sum(len(p) for p in pages) == 0:
            return np.zeros((0, len(self.labels)))
        return self.classifier.predict_proba(self.featurizer.transform(pages))

    def predict_pages(self, pages: Sequence[Page], reference: bool = False) -> np.ndarray:
        """Class probabilities, one row per non-blank line of every page.

        ``reference=True`` computes the first stage through the featuriser and
        scikit-learn instead of the fast path (same numbers, slower).
        """
        proba = self.predict_lines_reference(pages) if reference else self.predict_lines(pages)
        if self.context is None or len(proba) == 0:
            return proba
        lengths = np.array([len(p) for p in pages], dtype=np.int64)
        return self.context.predict_proba(context_features(proba, lengths))

    def classify(self, lines: Sequence[str]) -> list[Verdict]:
        """Label every line of one page (give all its lines, in order)."""
        lines = list(lines)
        if any("\n" in line for line in lines):
            raise ValueError("classify() takes lines without newlines; use classify_text() for text")
        return self._classify_pages([Page(lines)])[0]

    def classify_text(self, text: str) -> list[Verdict]:
        """Label every line of one page given as text."""
        return self.classify_many([text])[0]

    def classify_many(self, texts: Sequence[str]) -> list[list[Verdict]]:
        """Label the lines of many pages with one call into the classifier."""
        return self._classify_pages([Page(split_lines(_as_text(t))) for t in texts])

    def _classify_pages(self, pages: Sequence[Page]) -> list[list[Verdict]]:
        proba = self.predict_pages(pages)
        best = proba.argmax(axis=1) if len(proba) else np.zeros(0, dtype=int)
        top = proba[np.arange(len(best)), best] if len(proba) else np.zeros(0)
        out, row = [], 0
        for page in pages:
            verdicts = [Verdict(i + 1, line, None, None) for i, line in enumerate(page.lines)]
            for i in page.content:
                verdicts[i] = Verdict(i + 1, page.lines[i], self.labels[best[row]], float(top[row]))
                row += 1
            out.append(verdicts)
        return out

    def clean(self, text: str, keep: Iterable[str] = ("article",)) -> str:
        """The lines of ``text`` whose label is in ``keep``, unchanged and in order.

        A blank line is kept between two kept lines wherever the original had
        one between them, so paragraphs stay paragraphs.
        """
        return self.clean_many([text], keep)[0]

    def clean_many(self, texts: Sequence[str], keep: Iterable[str] = ("article",)) -> list[str]:
        """Clean many pages with one call into the classifier (faster in bulk)."""
        keep = _check_keep(keep, LABELS)
        return [render_kept(v, keep) for v in self.classify_many(texts)]

    # -- persistence ----------------------------------------------------
    def save(self, path: str | Path) -> Path:
        return save_model(self, path)


def _as_text(text: str | bytes) -> str:
    if isinstance(text, bytes):
        return decode_scrape(text).text
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _check_keep(keep: Iterable[str], labels: Sequence[str]) -> set[str]:
    keep = set(keep)
    unknown = keep - set(labels)
    if unknown:
        raise ValueError(f"unknown label(s) to keep: {', '.join(sorted(unknown))}; use {', '.join(labels)}")
    return keep


def render_kept(verdicts: Sequence[Verdict], keep: Iterable[str]) -> str:
    keep = set(keep)
    out: list[str] = []
    gap_has_blank = False
    for v in verdicts:
        if v.label is None:
            gap_has_blank = True
        elif v.label in keep:
            if out and gap_has_blank:
                out.append("")
            out.append(v.text)
            gap_has_blank = False
    return "\n".join(out) + "\n" if out else ""


# -- saving and loading --------------------------------------------------

def _arrays(model: Model) -> dict[str, np.ndarray]:
    f, c = model.featurizer, model.classifier
    extra = {}
    if model.context is not None:
        extra = {"context_coef": np.asarray(model.context.coef_, dtype=np.float64),
                 "context_intercept": np.asarray(model.context.intercept_, dtype=np.float64)}
    return extra | {
        "idf_word": np.asarray(f.idf_word_, dtype=np.float32),
        "idf_char": np.asarray(f.idf_char_, dtype=np.float32),
        "layout_mean": np.asarray(f.layout_mean_, dtype=np.float64),
        "layout_scale": np.asarray(f.layout_scale_, dtype=np.float64),
        "coef": np.asarray(c.coef_, dtype=np.float32),
        "intercept": np.asarray(c.intercept_, dtype=np.float64),
    }


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{path}: folder {parent} does not exist; create it first")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def save_model(model: Model, path: str | Path) -> Path:
    """Write the model atomically: the old file stays intact until the new one is complete."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a directory; give a file name such as {path}/model.noiseclf")
    blob = _npz_bytes(_arrays(model))
    meta = dict(model.meta)
    meta.update(
        {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "labels": list(model.labels),
            "featurizer": {k: (list(v) if isinstance(v, tuple) else v)
                           for k, v in model.featurizer.get_params().items()},
            "classifier": {"type": "LogisticRegression", "n_features": int(model.classifier.coef_.shape[1])},
            "context": None if model.context is None else {
                "type": "LogisticRegression", "n_features": int(model.context.coef_.shape[1])},
            "arrays_sha256": hashlib.sha256(blob).hexdigest(),
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


def _open_model(path: Path, arrays: bool = True) -> tuple[dict, bytes | None]:
    hint = "pass a model written by `noiseclf train`"
    if not path.exists():
        raise ModelError(f"{path}: no such model file; {hint}, or omit --model to use the shipped one")
    if path.is_dir():
        raise ModelError(f"{path}: is a directory, not a model file; {hint}")
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path}: not a noiseclf model file (refused without loading it); {hint}")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if not {"meta.json", "arrays.npz"} <= names:
                raise ModelError(f"{path}: not a noiseclf model file (missing meta.json or arrays.npz); {hint}")
            meta = json.loads(zf.read("meta.json").decode("utf-8"))
            blob = zf.read("arrays.npz") if arrays else None
    except ModelError:
        raise
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, json.JSONDecodeError, EOFError) as exc:
        raise ModelError(f"{path}: the model file is corrupt ({exc}); retrain it or download it again") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ModelError(f"{path}: not a noiseclf model file (unknown format); {hint}")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        written_by = meta.get("versions", {}).get("noiseclf", "a newer noiseclf")
        raise ModelError(
            f"{path}: model format {version!r} was written by noiseclf {written_by}; "
            f"this noiseclf reads format {FORMAT_VERSION}: upgrade noiseclf (pip install -U noiseclf)"
        )
    labels = meta.get("labels")
    if not isinstance(labels, list) or not labels or not set(labels) <= set(LABELS):
        raise ModelError(f"{path}: the model's label set {labels!r} is not a subset of {list(LABELS)}; {hint}")
    if blob is not None and hashlib.sha256(blob).hexdigest() != meta.get("arrays_sha256"):
        raise ModelError(f"{path}: the model's arrays do not match the checksum in its metadata (corrupt or altered file); retrain it or download it again")
    return meta, blob


def load_model(path: str | Path | None = None) -> Model:
    """Load a model file (the shipped model when ``path`` is None).

    Loading does not import scikit-learn: predictions go through
    :mod:`noiseclf.fastpath`.
    """
    import inspect

    from .features import _LineFeaturizer

    path = Path(path) if path is not None else default_model_path()
    meta, blob = _open_model(path)
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            arr = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path}: the model's arrays cannot be read ({exc}); retrain it") from None
    params = dict(meta.get("featurizer", {}))
    for key in ("word_ngrams", "char_ngrams"):
        if key in params and isinstance(params[key], list):
            params[key] = tuple(params[key])
    known = set(inspect.signature(_LineFeaturizer.__init__).parameters) - {"self"}
    unknown = sorted(set(params) - known)
    try:
        if unknown:
            raise TypeError(f"unexpected keyword argument(s) {', '.join(unknown)}")
        n_word, n_char = 2 ** int(params.get("word_bits", 18)), 2 ** int(params.get("char_bits", 18))
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{path}: unknown feature settings ({exc}); retrain the model with this noiseclf") from None
    labels = meta["labels"]
    rows = 1 if len(labels) == 2 else len(labels)  # a binary logistic regression has one row
    expected = {
        "idf_word": (n_word,), "idf_char": (n_char,), "layout_mean": (LAYOUT_DIM,),
        "layout_scale": (LAYOUT_DIM,), "coef": (rows, n_word + n_char + LAYOUT_DIM),
        "intercept": (rows,),
    }
    if meta.get("context"):
        expected["context_coef"] = (rows, context_dim(len(labels)))
        expected["context_intercept"] = (rows,)
    for name, shape in expected.items():
        if name not in arr or arr[name].shape != shape:
            got = arr[name].shape if name in arr else "missing"
            raise ModelError(
                f"{path}: array {name} has shape {got}, this noiseclf expects {shape} "
                "(the model was trained with different features); retrain it with this noiseclf"
            )
    model = Model.__new__(Model)
    model._featurizer = model._classifier = None
    model.context = None
    if meta.get("context"):
        model.context = LinearStage(labels, arr["context_coef"], arr["context_intercept"])
    model.meta = meta
    model.labels = tuple(str(x) for x in labels)
    model._saved = (params, arr)
    model._fast = None
    model.cache_lines = DEFAULT_CACHE_LINES
    model.path = path
    return model


def nonblank_count(text: str) -> int:
    return sum(1 for line in split_lines(text) if not is_blank(line))
