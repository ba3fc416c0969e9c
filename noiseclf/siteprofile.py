"""Site profiles: what a user's labels teach about one site, applied to that site only.

``noiseclf train`` (extending a model) does not move the base model's weights.
It stores, inside the model file, one *profile* per labelled site:

* the site's names (``--site``, ``--site-per-folder``; none when not said);
* the labelled pages as sequences of masked line keys (a 64-bit hash of the line
  after :func:`noiseclf.text.normalize_line`, with numbers, month and weekday names
  masked) and their labels: no text;
* an *adapter*: a residual logistic regression over the base's features, fitted
  on the labelled lines on top of the base's probabilities (:func:`noiseclf.adapt.fit_profile`).

:meth:`noiseclf.model.Model.predict` then decides, for each page, whether it
belongs to a profile (:func:`choose`): the site it is said to be from is one of
the profile's names; or, when no site is said (or the said site has no named
profile), the page shares enough of the profile's *template* lines (lines on
two or more of the labelled pages, or the noise lines of a single one). A page
of no profile gets the base model's probabilities, exactly.

For a page of a profile, each line gets site features (:func:`features`): the
label of the line it aligns with in each labelled page (a monotone alignment
of the masked keys, difflib), the labels of labelled lines with the same masked
key wherever they are (*labelled-line memory*), the labels of the labelled
page's lines in the gap an unaligned line sits in, the labels of the nearest
aligned lines above and below, the adapter's logits, the mean probabilities
over the line's unaligned run, and the labels of the labelled lines most like it in
*shape* (:func:`shape_vectors`: the base's probabilities of the line and of the lines
around it, its words and its place in the page; each labelled line's base
log-probabilities and words are kept in the profile for this, as numbers, no text).
The last is what reaches text the labelled pages do not have: a new page's sidebar
of links, unaligned, is like the labelled pages' sidebars, not like their prose.
The page's log-probabilities are moved by a learned linear map of these features::

    logit'_k = log p_k + sum_f phi_f * A[f, k]

(and a page that is one of the labelled pages, numbers and dates aside, gets
:data:`SELF_SHIFT` more on each line's label: the user's own labels decide there).

``A`` (the *site stage*: how far to trust each kind of evidence, the learned
confidence) is fitted by ``benchmarks/adaptation.py --fit-site-stage`` on
multi-page sites of the WCXB corpus, simulating a user who labels one or two
pages and cleans the others; it ships in ``noiseclf/site_stage_weights.json``
and is copied into each model that has profiles, so a model file alone decides
its predictions.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from importlib import resources
from typing import Sequence

import numpy as np

from .features import Page
from .text import normalize_line

STAGE_FILE = "site_stage_weights.json"
PROFILE_VERSION = 2  # 2: each labelled line's shape (base log-probabilities, words); 1 is read too
# The labelled lines most like a line (``knn`` evidence): this many, by the distance of
# :func:`shape_vectors`. Chosen on the gold set's multi-page sites (training/README.md,
# "How fast it learns a new site"): 5 / 10 / 20 neighbours, the place in the page weighted
# 0 to 40, the window's probabilities with it or not.
SHAPE_NEIGHBOURS = 10
SHAPE_PLACE = 10.0  # the place in the page (0 to 1) against log-probabilities and log words
SHAPE_WINDOW = 2  # the mean base log-probabilities over +-2 lines
# Recognition of a page by its template lines (no site said): chosen with
# benchmarks/adaptation.py (same-site pages against other sites' pages).
# On the gold set's 8 multi-page sites against 287 pages of other sites (WCXB test split and
# the gold set's single pages): other sites reach at most 0.104 (26 lines); 0.15 and 10 lines
# recognise 21 of 24 same-site pages from two labelled pages, 42 of 48 from one, 0 of 6,888 others.
RECOGNISE_SHARE = 0.15  # share of the page's distinct line keys that are the profile's template lines
RECOGNISE_MIN_LINES = 10  # ... and at least this many of them
# ... or this many template lines whatever their share: a long page under a big site's menus (apple.com:
# 76-78 template lines, 13-15 % of its lines). Other sites' pages reach 30 (against 1,366 WCXB and gold pages,
# every profile of 1 or 2 gold pages; training/README.md, "Site profiles").
RECOGNISE_MANY_LINES = 60
MAX_ALIGN_LINES = 5000  # longer pages are matched by memory only (alignment is quadratic at worst)
# A page that is one of the labelled pages (the same lines, numbers and dates aside) gets its labels:
# this many logits on each line's own label, on top of the site stage (the user's labels decide there).
SELF_SHIFT = 12.0


def recognised(share: float, hits: int) -> bool:
    """Whether a page whose distinct lines include ``hits`` template lines (``share`` of them) is the site's."""
    return (share >= RECOGNISE_SHARE and hits >= RECOGNISE_MIN_LINES) or hits >= RECOGNISE_MANY_LINES


_MONTHS_DAYS = re.compile(
    r"\b(jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?|sep(t(ember)?)?|oct(ober)?|"
    r"nov(ember)?|dec(ember)?|mon(day)?|tue(s(day)?)?|wed(nesday)?|thu(r(s(day)?)?)?|fri(day)?|"
    r"sat(urday)?|sun(day)?)\b")
_NUMBER = re.compile(r"0[0.,:/]*")


def mask_line(line: str) -> str:
    """A line as labelled-line memory compares it: normalised (digits are 0), number runs
    collapsed, month and weekday names masked; ``"March 3, 2024 10:42 AM"`` and
    ``"Apr 15, 2025 9:05 AM"`` are the same line."""
    x = normalize_line(line[:2000])
    x = _MONTHS_DAYS.sub("<d>", x)
    return _NUMBER.sub("0", x)


def line_keys(page: Page) -> list[str]:
    """The masked key (16 hex digits) of every non-blank line of a page, in row order."""
    return [hashlib.blake2b(mask_line(page.lines[i]).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()
            for i in page.content]


def site_key(name: str | None) -> str | None:
    """A site name as profiles compare it: lower case, no ``www.``, no scheme or path."""
    if not name:
        return None
    from .sites import site_of_url

    s = str(name).strip().lower()
    if "://" in s:
        s = site_of_url(s) or s
    s = s.split("/")[0]
    if s.startswith("www."):
        s = s[4:]
    return s or None


@dataclass
class SitePage:
    """A labelled page of a site, as the profile keeps it: keys and label indices, no text."""

    name: str
    keys: list[str]
    labels: list[int]  # index into the profile's labels
    # per line: the base model's log-probabilities then its words (shape_vectors); None in
    # profiles written before version 2, which then have no shape evidence
    points: np.ndarray | None = None


@dataclass
class SiteProfile:
    names: tuple[str, ...]
    labels: tuple[str, ...]
    pages: list[SitePage]
    cols: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # adapter columns
    delta: np.ndarray | None = None  # K x len(cols): adapter weights
    bias: np.ndarray | None = None  # K
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        K = len(self.labels)
        if self.delta is None:
            self.delta = np.zeros((K, len(self.cols)))
        if self.bias is None:
            self.bias = np.zeros(K)
        self.cols = np.asarray(self.cols, dtype=np.int64)
        self._derive()

    def _derive(self) -> None:
        K = len(self.labels)
        mem: dict[str, np.ndarray] = {}
        seen: Counter = Counter()
        for p in self.pages:
            for k, lab in zip(p.keys, p.labels):
                v = mem.get(k)
                if v is None:
                    v = mem[k] = np.zeros(K)
                v[lab] += 1.0
            seen.update(set(p.keys))
        self.memory = mem
        if len(self.pages) >= 2:
            self.template = {k for k, c in seen.items() if c >= 2}
        else:
            art = self.labels.index("article") if "article" in self.labels else -1
            self.template = {k for p in self.pages for k, lab in zip(p.keys, p.labels) if lab != art}
        self.page_index = {}  # a labelled page (its masked lines, in order) -> its first index
        for i, p in enumerate(self.pages):
            self.page_index.setdefault(_keys_id(p.keys), i)
        self._shapes = None

    def shapes(self):
        """(KD-tree of the labelled lines' shape vectors, their labels), or None without points."""
        if self._shapes is None:
            pages = self.pages  # all of them or none (as the model file keeps them: _points_rows)
            if not _points_rows(self) or not sum(len(p.labels) for p in pages):
                self._shapes = False
            else:
                from scipy.spatial import cKDTree

                K = len(self.labels)
                X = np.vstack([shape_vectors(p.points[:, :K], p.points[:, K]) for p in pages])
                self._shapes = (cKDTree(X), np.concatenate([np.asarray(p.labels, dtype=np.int64) for p in pages]))
        return self._shapes or None

    @property
    def has_adapter(self) -> bool:
        return len(self.cols) > 0

    def recognition(self, keys: Sequence[str]) -> tuple[float, int]:
        """(share of the page's distinct keys that are template lines, how many)."""
        distinct = set(keys)
        if not distinct:
            return 0.0, 0
        hits = len(distinct & self.template)
        return hits / len(distinct), hits


def _keys_id(keys: Sequence[str]) -> str:
    return hashlib.blake2b("".join(keys).encode("ascii"), digest_size=10).hexdigest()


def choose(profiles: Sequence[SiteProfile], keys: Sequence[str], site: str | None) -> int | None:
    """Which profile a page belongs to, or None (then the base model decides alone).

    A site said for the page picks the profile of that name. Otherwise (no site,
    or a site no profile is named after) the page is recognised by its template
    lines, among the profiles without a name and, when no site is said, all.
    """
    if not profiles:
        return None
    s = site_key(site)
    if s is not None:
        for i, p in enumerate(profiles):
            if s in p.names:
                return i
    best, best_share = None, 0.0
    for i, p in enumerate(profiles):
        if s is not None and p.names:
            continue  # the page is said to be of another site
        share, hits = p.recognition(keys)
        if recognised(share, hits) and share > best_share:
            best, best_share = i, share
    return best


# -- features ------------------------------------------------------------------

GROUPS = ("align", "best", "mem", "gpos", "gall", "edge", "above", "below", "run", "res", "knn")
FLAGS = ("aligned", "memhit", "ingap", "one")


def feature_names(labels: Sequence[str]) -> list[str]:
    return [f"{g}:{lab}" for g in GROUPS for lab in labels] + list(FLAGS)


def shape_vectors(logp: np.ndarray, words: np.ndarray) -> np.ndarray:
    """What the ``knn`` evidence compares of a line (rows: a page's non-blank lines): the base's
    log-probabilities, log(1 + words), the place in the page times :data:`SHAPE_PLACE`, and
    the mean log-probabilities over the lines within :data:`SHAPE_WINDOW`."""
    n = len(logp)
    rows = np.arange(n)
    csum = np.vstack([np.zeros((1, logp.shape[1])), np.cumsum(logp, axis=0)])
    lo, hi = np.maximum(rows - SHAPE_WINDOW, 0), np.minimum(rows + SHAPE_WINDOW + 1, n)
    return np.column_stack([logp, np.log1p(np.asarray(words, dtype=np.float64)),
                            SHAPE_PLACE * rows / max(n - 1, 1), (csum[hi] - csum[lo]) / (hi - lo)[:, None]])


def _shape_evidence(profile: "SiteProfile", logp: np.ndarray, words: np.ndarray | None) -> np.ndarray:
    """For every line, the label shares of the :data:`SHAPE_NEIGHBOURS` labelled lines most like it."""
    n, K = logp.shape
    out = np.zeros((n, K))
    found = profile.shapes() if words is not None and len(words) == n else None
    if found is None or n == 0:
        return out
    tree, labs = found
    k = min(SHAPE_NEIGHBOURS, len(labs))
    _, idx = tree.query(shape_vectors(logp, words), k=k)
    idx = np.asarray(idx).reshape(n, k)
    for c in range(K):
        out[:, c] = (labs[idx] == c).mean(axis=1)
    return out


def align(pkeys: Sequence[str], qkeys: Sequence[str]) -> np.ndarray:
    """For every line of the new page, the index of the labelled page's line it aligns with, or -1."""
    out = np.full(len(qkeys), -1, dtype=np.int64)
    if not pkeys or not qkeys or len(pkeys) > MAX_ALIGN_LINES or len(qkeys) > MAX_ALIGN_LINES:
        return out
    for a, b, n in SequenceMatcher(None, list(pkeys), list(qkeys), autojunk=False).get_matching_blocks():
        if n:
            out[b:b + n] = np.arange(a, a + n)
    return out


def _page_evidence(p: SitePage, qkeys: Sequence[str], K: int):
    """Alignment evidence from one labelled page: aligned one-hots, gap distributions, anchors."""
    n = len(qkeys)
    onehot = np.eye(K)
    plab = np.asarray(p.labels, dtype=np.int64)
    m = align(p.keys, qkeys)
    al = np.zeros((n, K))
    ok = m >= 0
    al[ok] = onehot[plab[m[ok]]]
    gpos, gall, edge = np.zeros((n, K)), np.zeros((n, K)), np.zeros((n, K))
    above, below = np.zeros((n, K)), np.zeros((n, K))
    ingap = np.zeros(n)
    anchors = np.flatnonzero(ok)
    # gaps between consecutive anchors (and the page's ends)
    bounds_q = np.concatenate([[-1], anchors, [n]])
    bounds_p = np.concatenate([[-1], m[anchors], [len(plab)]])
    for t in range(len(bounds_q) - 1):
        q0, q1 = bounds_q[t] + 1, bounds_q[t + 1]
        if q1 <= q0:
            continue
        p0, p1 = bounds_p[t] + 1, bounds_p[t + 1]
        rows = np.arange(q0, q1)
        if bounds_q[t] >= 0:
            above[rows] = onehot[plab[bounds_p[t]]]
        if bounds_q[t + 1] < n:
            below[rows] = onehot[plab[bounds_p[t + 1]]]
        if p1 > p0:
            seg = onehot[plab[p0:p1]]
            gall[rows] = seg.mean(axis=0)
            L = p1 - p0
            centres = np.arange(L) + 0.5
            pos = (np.arange(len(rows)) + 0.5) / len(rows) * L
            w = np.exp(-np.abs(centres[None, :] - pos[:, None]) / max(1.0, 0.15 * L))
            gpos[rows] = (w @ seg) / w.sum(axis=1, keepdims=True)
            ingap[rows] = 1.0
        else:
            d = np.zeros(K)
            if bounds_q[t] >= 0:
                d += onehot[plab[bounds_p[t]]]
            if bounds_q[t + 1] < n:
                d += onehot[plab[bounds_p[t + 1]]]
            edge[rows] = d / max(d.sum(), 1.0)
    return ok, al, gpos, gall, edge, above, below, ingap


def features(profile: SiteProfile, qkeys: Sequence[str], logp: np.ndarray,
             residual: np.ndarray | None, words: np.ndarray | None = None) -> np.ndarray:
    """The site features of every line of one page (rows: its non-blank lines; ``words``:
    each line's words, :attr:`noiseclf.features.Page.words`, for the shape evidence)."""
    K = len(profile.labels)
    n = len(qkeys)
    if n == 0:
        return np.zeros((0, len(GROUPS) * K + len(FLAGS)))
    ev = [_page_evidence(p, qkeys, K) for p in profile.pages]
    shares = np.array([e[0].mean() for e in ev])
    w = shares / shares.sum() if shares.sum() > 0 else np.full(len(ev), 1.0 / len(ev))
    aligned_any = np.zeros(n, dtype=bool)
    acc = {g: np.zeros((n, K)) for g in ("align", "gpos", "gall", "edge", "above", "below")}
    wsum = {g: np.zeros(n) for g in acc}
    ingap = np.zeros(n)
    for wi, (ok, al, gpos, gall, edge, above, below, ig) in zip(w, ev):
        aligned_any |= ok
        for g, arr in (("align", al), ("gpos", gpos), ("gall", gall), ("edge", edge), ("above", above),
                       ("below", below)):
            has = arr.sum(axis=1) > 0
            acc[g][has] += wi * arr[has]
            wsum[g][has] += wi
        ingap = np.maximum(ingap, ig)
    for g in acc:
        has = wsum[g] > 0
        acc[g][has] /= wsum[g][has][:, None]
    best_i = int(np.argmax(shares))
    best = ev[best_i][1]
    mem = np.zeros((n, K))
    memhit = np.zeros(n)
    for j, k in enumerate(qkeys):
        v = profile.memory.get(k)
        if v is not None:
            mem[j] = v / v.sum()
            memhit[j] = 1.0
    # mean probabilities over the run of unaligned lines a line sits in
    run = np.zeros((n, K))
    p = np.exp(logp)
    j = 0
    while j < n:
        if aligned_any[j]:
            j += 1
            continue
        e = j
        while e < n and not aligned_any[e]:
            e += 1
        run[j:e] = p[j:e].mean(axis=0)
        j = e
    res = residual if residual is not None else np.zeros((n, K))
    flags = np.column_stack([aligned_any.astype(float), memhit, ingap, np.ones(n)])
    return np.hstack([acc["align"], best, mem, acc["gpos"], acc["gall"], acc["edge"], acc["above"],
                      acc["below"], run, res, _shape_evidence(profile, logp, words), flags])


def stage_matrix(weights: dict, labels: Sequence[str]) -> np.ndarray:
    """The site stage's map A (features x labels) for a label set, from its JSON form
    ``{"feature": {"label": weight}}`` (feature names as in :func:`feature_names`)."""
    names = feature_names(labels)
    A = np.zeros((len(names), len(labels)))
    w = weights.get("A", {}) if isinstance(weights, dict) else {}
    for i, f in enumerate(names):
        row = w.get(f)
        if isinstance(row, dict):
            for k, lab in enumerate(labels):
                v = row.get(lab)
                if isinstance(v, (int, float)) and math.isfinite(v):
                    A[i, k] = float(v)
    return A


def shipped_stage() -> dict:
    try:
        return json.loads(resources.files("noiseclf").joinpath(STAGE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, OSError, json.JSONDecodeError):
        return {}


def adjust_page(profile: SiteProfile, A: np.ndarray, qkeys: Sequence[str], proba: np.ndarray,
                residual: np.ndarray | None, words: np.ndarray | None = None) -> np.ndarray:
    logp = np.log(np.clip(proba, 1e-12, 1.0))
    phi = features(profile, qkeys, logp, residual, words)
    from .model import softmax

    z = logp + phi @ A
    own = profile.page_index.get(_keys_id(qkeys))
    if own is not None:
        z[np.arange(len(qkeys)), np.asarray(profile.pages[own].labels, dtype=np.int64)] += SELF_SHIFT
    return softmax(z)


def residual_logits(featurizer, profile: SiteProfile, pages: Sequence[Page]) -> list[np.ndarray]:
    """The adapter's logits for every line of each page (one array per page)."""
    if not profile.has_adapter:
        return [np.zeros((len(p), len(profile.labels))) for p in pages]
    from .bounds import feature_page

    out = []
    for p in pages:
        if len(p) == 0:
            out.append(np.zeros((0, len(profile.labels))))
            continue
        X = featurizer.transform([feature_page(p)]).tocsc()[:, profile.cols]
        out.append(np.asarray(X @ profile.delta.T) + profile.bias)
    return out


def apply_profiles(model, pages: Sequence[Page], sites: Sequence[str | None] | None, proba: np.ndarray
                   ) -> np.ndarray:
    """Probabilities of the pages that belong to one of the model's profiles, moved by it."""
    profiles = model.profiles
    if not profiles:
        return proba
    if sites is not None and len(sites) != len(pages):
        from .errors import UsageError

        raise UsageError(f"predict() got {len(sites)} site(s) for {len(pages)} page(s); give one site (or None) per page")
    A = model.site_stage_matrix
    row = 0
    for i, page in enumerate(pages):
        m = len(page)
        if m:
            keys = line_keys(page)
            c = choose(profiles, keys, sites[i] if sites is not None else None)
            if c is not None:
                prof = profiles[c]
                res = residual_logits(model.featurizer, prof, [page])[0]
                proba[row:row + m] = adjust_page(prof, A, keys, proba[row:row + m], res, page.words)
        row += m
    return proba


# -- fitting the site stage ------------------------------------------------------

def fit_stage(logp: np.ndarray, phi: np.ndarray, y_idx: np.ndarray, labels: Sequence[str],
              l2: float = 1e-3, sample_weight: np.ndarray | None = None) -> dict:
    """Fit A by multinomial log-loss: logit = logp + phi @ A (rows: lines)."""
    import scipy.optimize

    n, K = logp.shape
    F = phi.shape[1]
    Y = np.zeros((n, K))
    Y[np.arange(n), y_idx] = 1.0
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    sw = sw / sw.mean()

    def f(theta):
        A = theta.reshape(F, K)
        Z = logp + phi @ A
        Z = Z - Z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(Z).sum(axis=1))
        P = np.exp(Z - lse[:, None])
        loss = float((sw * (lse - (Z * Y).sum(axis=1))).sum()) / n + l2 * float((theta ** 2).sum())
        G = phi.T @ (sw[:, None] * (P - Y)) / n
        return loss, G.ravel() + 2 * l2 * theta

    res = scipy.optimize.minimize(f, np.zeros(F * K), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    A = res.x.reshape(F, K)
    names = feature_names(labels)
    return {"A": {f_: {lab: round(float(A[i, k]), 5) for k, lab in enumerate(labels)} for i, f_ in enumerate(names)}}


# -- the model file ----------------------------------------------------------------

def to_meta(profiles: Sequence[SiteProfile], stage: dict) -> dict:
    """What the model's ``meta.json`` holds of its profiles (the adapters go to the arrays)."""
    return {
        "version": PROFILE_VERSION,
        "about": "site profiles (noiseclf/siteprofile.py): labelled pages as masked line hashes, no text",
        "stage": stage,
        "profiles": [{
            "names": list(p.names),
            # every line's 16-hex-digit key, one after the other, and its label's index
            "pages": [{"name": sp.name, "keys": "".join(sp.keys), "labels": "".join(str(x) for x in sp.labels)}
                      for sp in p.pages],
            "adapter_columns": int(len(p.cols)),
            "points": _points_rows(p),  # rows of site{i}_points: every labelled line's shape, or 0
            "info": p.info,
        } for p in profiles],
    }


def _points_rows(p: SiteProfile) -> int:
    """How many shape rows a profile stores: all its labelled lines, or none (a page without them)."""
    if all(sp.points is not None and len(sp.points) == len(sp.labels) for sp in p.pages):
        return int(sum(len(sp.labels) for sp in p.pages))
    return 0


def arrays(profiles: Sequence[SiteProfile]) -> dict[str, np.ndarray]:
    out = {}
    for i, p in enumerate(profiles):
        if p.has_adapter:
            out[f"site{i}_cols"] = p.cols.astype(np.float64)  # model arrays are floats (exact below 2**53)
            out[f"site{i}_delta"] = np.asarray(p.delta, dtype=np.float32)
            out[f"site{i}_bias"] = np.asarray(p.bias, dtype=np.float64)
        if _points_rows(p):
            out[f"site{i}_points"] = np.vstack([sp.points for sp in p.pages]).astype(np.float32)
    return out


def expected_shapes(meta: dict, n_labels: int) -> dict[str, tuple[int, ...]]:
    """The arrays the profiles of ``meta`` need, with their shapes (see :func:`check_meta`)."""
    shapes = {}
    for i, p in enumerate(meta["profiles"]):
        u = int(p["adapter_columns"])
        if u:
            shapes |= {f"site{i}_cols": (u,), f"site{i}_delta": (n_labels, u), f"site{i}_bias": (n_labels,)}
        if int(p.get("points", 0)):
            shapes[f"site{i}_points"] = (int(p["points"]), n_labels + 1)
    return shapes


_HEX = re.compile(r"^[0-9a-f]*$")


def check_meta(data: object, n_labels: int, n_features: int) -> str | None:
    """What is wrong with a model's ``site_profiles`` record, or None."""
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), list):
        return "not a list of profiles"
    if not isinstance(data.get("version"), int) or data["version"] > PROFILE_VERSION:
        return f"profile version {data.get('version')!r} is not one this noiseclf reads"
    if not isinstance(data.get("stage", {}), dict):
        return "the site stage is not readable"
    if len(data["profiles"]) > 10_000:
        return "too many profiles"
    for p in data["profiles"]:
        if not isinstance(p, dict) or not isinstance(p.get("names"), list) or not isinstance(p.get("pages"), list):
            return "a profile without names or pages"
        if not all(isinstance(s, str) and len(s) < 300 for s in p["names"]):
            return "a profile's names are not strings"
        u = p.get("adapter_columns")
        if isinstance(u, bool) or not isinstance(u, int) or not 0 <= u <= n_features:
            return "a profile's adapter size is out of range"
        rows = p.get("points", 0)
        lines = sum(len(sp["labels"]) for sp in p["pages"] if isinstance(sp, dict) and isinstance(sp.get("labels"), str))
        if isinstance(rows, bool) or not isinstance(rows, int) or rows not in (0, lines):
            return "a profile's shape rows are not its labelled lines"
        for sp in p["pages"]:
            if not isinstance(sp, dict) or not isinstance(sp.get("keys"), str) or not isinstance(sp.get("labels"), str):
                return "a labelled page without keys or labels"
            if len(sp["keys"]) != 16 * len(sp["labels"]):
                return "a labelled page whose keys and labels differ in number"
            if not _HEX.match(sp["keys"]):
                return "a labelled page's keys are not 64-bit hashes"
            if not isinstance(sp.get("name", ""), str):
                return "a labelled page's name is not a string"
            if any(not ch.isdigit() or int(ch) >= n_labels for ch in sp["labels"]):
                return "a labelled page's labels are out of range"
    return None


def from_meta(data: dict, labels: Sequence[str], arr: dict[str, np.ndarray], n_features: int) -> list[SiteProfile]:
    profiles = []
    for i, p in enumerate(data["profiles"]):
        pages = [SitePage(str(sp.get("name", "")), [sp["keys"][j:j + 16] for j in range(0, len(sp["keys"]), 16)],
                          [int(ch) for ch in sp["labels"]]) for sp in p["pages"]]
        kw = {}
        if int(p["adapter_columns"]):
            cols = arr[f"site{i}_cols"]
            if not (np.all(cols == np.round(cols)) and cols.min() >= 0 and cols.max() < n_features
                    and np.all(np.diff(cols) > 0)):
                raise ValueError(f"site{i}_cols")
            kw = {"cols": cols.astype(np.int64), "delta": arr[f"site{i}_delta"].astype(np.float64),
                  "bias": arr[f"site{i}_bias"].astype(np.float64)}
        if int(p.get("points", 0)):
            pts, row = arr[f"site{i}_points"].astype(np.float32), 0  # float32, as train made them
            if not np.all(np.isfinite(pts)):
                raise ValueError(f"site{i}_points")
            for sp in pages:
                sp.points = pts[row:row + len(sp.labels)]
                row += len(sp.labels)
        profiles.append(SiteProfile(tuple(site_key(s) or s for s in p["names"]), tuple(labels), pages,
                                    info=dict(p.get("info") or {}), **kw))
    return profiles


def profile_predict(model, profile: SiteProfile, pages: Sequence[Page]) -> np.ndarray:
    """The probabilities :meth:`noiseclf.model.Model.predict` gives pages that belong to
    ``profile`` (the same computation, with the profile given instead of chosen)."""
    from .bounds import bounded_predict

    proba = bounded_predict(model._predict_unbounded, pages)
    A = stage_matrix(model.site_stage, model.labels)
    residuals = residual_logits(model.featurizer, profile, pages)
    row = 0
    for page, res in zip(pages, residuals):
        m = len(page)
        if m:
            proba[row:row + m] = adjust_page(profile, A, line_keys(page), proba[row:row + m], res, page.words)
        row += m
    return proba


def contradictions(profile: SiteProfile) -> list[list[tuple[int, int, int]]]:
    """Lines with the same masked key labelled differently: per key, (page index, row, label) of each."""
    where: dict[str, list[tuple[int, int, int]]] = {}
    for pi, p in enumerate(profile.pages):
        for r, (k, lab) in enumerate(zip(p.keys, p.labels)):
            where.setdefault(k, []).append((pi, r, lab))
    return [v for v in where.values() if len({lab for _, _, lab in v}) > 1]


def same_site(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether two labelled pages look like one site's (used when no site is said at training):
    either shares enough of its distinct lines with the other, as recognition asks."""
    sa, sb = set(a), set(b)
    hits = len(sa & sb)
    return recognised(hits / max(1, min(len(sa), len(sb))), hits)
