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
import platform
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from .atomic import atomic_write_bytes
from .errors import ModelError, OutputError
from .context import context_dim, page_context_features
from .features import LAYOUT_DIM, Page
from .labels import LABELS
from .text import decode_scrape, split_lines

if TYPE_CHECKING:
    from .features import LineFeaturizer

from . import compat
from .compat import FORMAT_NAME, FORMAT_VERSION  # noqa: F401  (re-exported)

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
        return self.context.predict_proba(page_context_features(proba, pages, self.labels))

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
        from .bounds import bounded_predict  # huge lines and pages in bounded time and memory

        proba = bounded_predict(self.predict_pages, pages)
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
        return self.clean_counted(texts, keep)[0]

    def clean_counted(self, texts: Sequence[str | bytes], keep: Iterable[str] = ("article",)
                      ) -> tuple[list[str], list[int], list[int]]:
        """Cleaned texts, and for each the number of non-blank lines kept and dropped.

        The same text as :meth:`clean_many`, without building a Verdict per line.
        """
        from .bounds import bounded_predict  # huge lines and pages in bounded time and memory

        keep = _check_keep(keep, LABELS)
        pages = [Page(split_lines(_as_text(t))) for t in texts]
        proba = bounded_predict(self.predict_pages, pages)
        keeps = np.array([lab in keep for lab in self.labels], dtype=bool)
        kept_rows = keeps[proba.argmax(axis=1)].tolist() if len(proba) else []
        out, kept, dropped, row = [], [], [], 0
        for page in pages:
            m = len(page.content)
            flags = kept_rows[row:row + m]
            row += m
            lines, parts, prev, prev_j = page.lines, [], -1, -1
            for j, (i, keep_it) in enumerate(zip(page.content, flags)):
                if keep_it:
                    # a blank line between two kept lines stays: was any line between them blank?
                    if parts and i - prev > j - prev_j:
                        parts.append("")
                    parts.append(lines[i])
                    prev, prev_j = i, j
            out.append("\n".join(parts) + "\n" if parts else "")
            k = sum(flags)
            kept.append(k)
            dropped.append(m - k)
        return out, kept, dropped

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
            # What the saved numbers give on fixed lines: loading recomputes it.
            "selfcheck": compat.selfcheck_record(model.predict_pages([Page(list(compat.SELFCHECK_LINES))])),
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


def _featurizer_defaults() -> dict:
    """The featuriser's settings and their defaults (without importing scikit-learn)."""
    import inspect

    from .features import _LineFeaturizer

    return {k: p.default for k, p in inspect.signature(_LineFeaturizer.__init__).parameters.items() if k != "self"}


def _check_meta(path: Path, meta: object) -> dict:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise ModelError(f"{path}: not a noiseclf model file (unknown format); {_HINT}")
    meta = compat.migrate(path, meta)
    compat.check_labels(path, meta, LABELS)
    compat.featurizer_params(path, meta, _featurizer_defaults())
    if meta.get("context") is not None and not isinstance(meta.get("context"), dict):
        raise ModelError(f"{path}: the model's context settings {meta.get('context')!r:.60} are not readable: {compat.RETRAIN}")
    return meta


def _expected_shapes(params: dict, labels: Sequence[str], context: bool) -> dict[str, tuple[int, ...]]:
    n_word, n_char = 2 ** params["word_bits"], 2 ** params["char_bits"]
    rows = 1 if len(labels) == 2 else len(labels)  # a binary logistic regression has one row
    shapes = {
        "idf_word": (n_word,), "idf_char": (n_char,), "layout_mean": (LAYOUT_DIM,),
        "layout_scale": (LAYOUT_DIM,), "coef": (rows, n_word + n_char + LAYOUT_DIM),
        "intercept": (rows,),
    }
    if context:
        shapes["context_coef"] = (rows, context_dim(len(labels)))
        shapes["context_intercept"] = (rows,)
    return shapes


def _arrays_limit(meta: dict) -> int:
    params = compat.featurizer_params("", meta, _featurizer_defaults())
    shapes = _expected_shapes(params, meta["labels"], bool(meta.get("context")))
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
    params = compat.featurizer_params(path, meta, _featurizer_defaults())
    labels = meta["labels"]
    expected = _expected_shapes(params, labels, bool(meta.get("context")))
    arr = _read_npz(path, blob, expected)
    compat.check_arrays(path, arr, expected)
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
    check_lines = compat.selfcheck_lines(path, meta)
    if check_lines is not None:
        compat.verify_selfcheck(path, meta, model.predict_pages([Page(check_lines)]))
    return model
