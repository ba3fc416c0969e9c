"""Site memory: lines that recur on many pages of a site are menus and footers.

A menu, a footer or a "most read" box is repeated on every page of a site,
while an article's sentences appear on one page. When several scrapes of a
site are cleaned together (:class:`noiseclf.clean.Cleaner`, with each page's
site said explicitly: :mod:`noiseclf.sites`), or a :class:`SiteMemory` file
remembers earlier runs, each line gets a *recurrence* signal::

    share = (pages of the site, other than this one, that contain the line)
            / (pages of the site other than this one)

Lines are compared by :func:`noiseclf.text.normalize_lines` (so dates and
counts do not matter), and stored as 64-bit hashes: the memory file holds no
text of the pages.

The signal is not a rule. :meth:`noiseclf.model.Model.predict` shifts the model's log-probabilities by a
learned amount per label that grows with the number of pages seen::

    logit'_k = log p_k + share * (a_k + b_k * log(1 + other_pages))

and ``a``, ``b`` are fitted (multinomial log-loss, small L2) on multi-page
sites of the WCXB corpus, with the model's probabilities taken from models
that never saw those sites (``benchmarks/adaptation.py --fit-memory``). They
ship in ``noiseclf/site_memory_weights.json``; a model may carry its own under
``site_memory`` in its metadata, which then wins.
"""

from __future__ import annotations

import hashlib
import json
import math
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from .errors import InputError
from .bounds import MAX_FEATURE_CHARS
from .features import Page
from .model import softmax
from .atomic import atomic_write_bytes
from .text import normalize_lines

if TYPE_CHECKING:
    from .model import Model

MEMORY_FORMAT = "noiseclf-site-memory"
MEMORY_VERSION = 1
WEIGHTS_FILE = "site_memory_weights.json"
MAX_LINES_PER_SITE = 200_000  # beyond this, lines seen on one page only are forgotten first


def line_keys(lines: Sequence[str]) -> list[str]:
    """The memory's key of each line: a hash of its normalised first MAX_FEATURE_CHARS characters
    (a line is known as the featuriser knows it). One normalisation call for all: 20 % faster."""
    blake2b = hashlib.blake2b
    return [blake2b(x.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
            for x in normalize_lines([line[:MAX_FEATURE_CHARS] for line in lines])]


def page_key(lines: Sequence[str]) -> str:
    return hashlib.blake2b("\n".join(lines).encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()


def page_line_keys(page: Page) -> list[str]:
    """The key of every non-blank line of a page, in row order."""
    return line_keys([page.lines[i] for i in page.content])


class SiteMemory:
    """Per site: which pages were seen (by hash) and on how many of them each line appeared."""

    def __init__(self) -> None:
        self.sites: dict[str, dict] = {}

    # -- counting -------------------------------------------------------
    def _site(self, site: str) -> dict:
        return self.sites.setdefault(site, {"pages": [], "lines": {}})

    def has_page(self, site: str, pkey: str) -> bool:
        return pkey in set(self.sites.get(site, {}).get("pages", ()))

    def observe(self, site: str, page: Page, keys: Sequence[str] | None = None) -> bool:
        """Count a page's lines for its site (once per distinct page). True if it was new.

        ``keys``: the page's :func:`page_line_keys`, when the caller has them."""
        entry = self._site(site)
        pkey = page_key(page.lines)
        if pkey in set(entry["pages"]):
            return False
        entry["pages"].append(pkey)
        counts = entry["lines"]
        for k in set(keys if keys is not None else page_line_keys(page)):
            counts[k] = counts.get(k, 0) + 1
        if len(counts) > MAX_LINES_PER_SITE:
            for k in [k for k, c in counts.items() if c <= 1][: len(counts) - MAX_LINES_PER_SITE]:
                del counts[k]
        return True

    def recurrence(self, site: str, page: Page, keys: Sequence[str] | None = None) -> tuple[np.ndarray, int]:
        """(share of the site's *other* pages holding each line, number of other pages)."""
        entry = self.sites.get(site)
        keys = keys if keys is not None else page_line_keys(page)
        if not entry:
            return np.zeros(len(keys)), 0
        counted = page_key(page.lines) in set(entry["pages"])
        others = len(entry["pages"]) - (1 if counted else 0)
        if others <= 0:
            return np.zeros(len(keys)), 0
        own = set(keys) if counted else set()
        counts = entry["lines"]
        share = np.array([(counts.get(k, 0) - (1 if k in own else 0)) / others for k in keys])
        return np.clip(share, 0.0, 1.0), others

    # -- files ----------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> "SiteMemory":
        """Read a memory file; a missing file is an empty memory."""
        path = Path(path)
        mem = cls()
        if not path.exists():
            return mem
        fix = "delete it to start a new memory, or pass another --site-memory file"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: not a readable site memory ({exc}); {fix}") from None
        if not isinstance(data, dict) or data.get("format") != MEMORY_FORMAT:
            raise InputError(f"{path}: not a noiseclf site memory file; {fix}")
        if data.get("version", 0) > MEMORY_VERSION:
            raise InputError(f"{path}: site memory version {data.get('version')} is newer than this "
                             "noiseclf reads; upgrade noiseclf")
        sites = data.get("sites", {})
        if not isinstance(sites, dict):
            raise InputError(f"{path}: malformed site memory; {fix}")
        for name, entry in sites.items():
            if not (isinstance(entry, dict) and isinstance(entry.get("pages"), list)
                    and isinstance(entry.get("lines"), dict)):
                raise InputError(f"{path}: malformed entry for site {name!r}; {fix}")
            mem.sites[name] = {"pages": [str(p) for p in entry["pages"]],
                               "lines": {str(k): int(v) for k, v in entry["lines"].items()}}
        return mem

    def save(self, path: str | Path) -> Path:
        data = {
            "format": MEMORY_FORMAT, "version": MEMORY_VERSION,
            "about": "per site: hashes of the pages seen, and on how many of them each normalised "
                     "line (64-bit blake2b hash) appeared",
            "sites": {s: {"pages_seen": len(e["pages"]), "pages": e["pages"], "lines": e["lines"]}
                      for s, e in sorted(self.sites.items())},
        }
        return atomic_write_bytes(path, json.dumps(data, separators=(",", ":")).encode("utf-8"))

    def summary(self) -> dict[str, int]:
        return {s: len(e["pages"]) for s, e in self.sites.items()}


# -- the learned weights -----------------------------------------------------

def load_weights(model: Model | None = None) -> dict[str, tuple[float, float]]:
    """{label: (a, b)}: the model's own (metadata ``site_memory``) or the shipped ones."""
    data = (model.meta.get("site_memory") if model is not None else None) or None
    if data is None:
        try:
            text = resources.files("noiseclf").joinpath(WEIGHTS_FILE).read_text(encoding="utf-8")
            data = json.loads(text)
        except (FileNotFoundError, OSError, json.JSONDecodeError):
            data = {}
    w = data.get("weights", {}) if isinstance(data, dict) else {}
    return {lab: (float(v[0]), float(v[1])) for lab, v in w.items()}


def adjust(proba: np.ndarray, share: np.ndarray, others: int, labels: Sequence[str],
           weights: dict[str, tuple[float, float]]) -> np.ndarray:
    """Probabilities after the recurrence shift (rows: lines of one page)."""
    if len(proba) == 0 or others <= 0 or not weights:
        return proba
    g = math.log1p(others)
    shift = np.array([weights.get(lab, (0.0, 0.0))[0] + weights.get(lab, (0.0, 0.0))[1] * g for lab in labels])
    return softmax(np.log(np.clip(proba, 1e-12, 1.0)) + share[:, None] * shift[None, :])


def fit_weights(logp: np.ndarray, share: np.ndarray, gpages: np.ndarray, y_idx: np.ndarray,
                labels: Sequence[str], l2: float = 1e-3, balanced: bool = False) -> dict:
    """Fit (a_k, b_k) by multinomial log-loss on lines with model log-probabilities ``logp``.

    ``share`` and ``gpages`` (= log(1 + other pages)) per line. Every line
    counts once (``balanced=True`` weighs classes equally instead; measured,
    that trades line accuracy for the rare classes). ``a_k`` of the first
    label is fixed at 0 (only differences between labels matter).
    """
    import scipy.optimize

    n, K = logp.shape
    Y = np.zeros((n, K))
    Y[np.arange(n), y_idx] = 1.0
    counts = np.bincount(y_idx, minlength=K).astype(float)
    cw = np.where(counts > 0, n / (K * np.maximum(counts, 1)), 0.0) if balanced else np.ones(K)
    sw = cw[y_idx]
    sw = sw / sw.mean()

    def f(theta):
        a = np.r_[0.0, theta[: K - 1]]
        b = np.r_[0.0, theta[K - 1:]]
        Z = logp + share[:, None] * (a[None, :] + gpages[:, None] * b[None, :])
        Z = Z - Z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(Z).sum(axis=1))
        P = np.exp(Z - lse[:, None])
        loss = float((sw * (lse - (Z * Y).sum(axis=1))).sum()) / n + l2 * float((theta ** 2).sum())
        R = sw[:, None] * (P - Y) / n
        ga = (R * share[:, None]).sum(axis=0)[1:]
        gb = (R * (share * gpages)[:, None]).sum(axis=0)[1:]
        return loss, np.r_[ga, gb] + 2 * l2 * theta

    res = scipy.optimize.minimize(f, np.zeros(2 * (K - 1)), jac=True, method="L-BFGS-B")
    a = np.r_[0.0, res.x[: K - 1]]
    b = np.r_[0.0, res.x[K - 1:]]
    return {lab: [round(float(a[k]), 4), round(float(b[k]), 4)] for k, lab in enumerate(labels)}
