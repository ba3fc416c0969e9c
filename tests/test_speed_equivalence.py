"""The featuriser (noiseclf.features) gives the reference's numbers (tests/reference_features.py).

The reference is scikit-learn's HashingVectorizer and LogisticRegression, a
per-line shape function and a regular-expression normaliser; the product
computes hashing, counting, the shape features and the dot product either with
numpy over whole batches or in the compiled kernel (noiseclf.features.kernel):
every prediction test runs on both paths. Counts and hashes must be identical;
probabilities equal to float32 rounding.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

import reference_features as ref_f
from noiseclf.features import LAYOUT_DIM, Page
from noiseclf.features import featurizer as featurizer_mod
from noiseclf.features import hashing as fp
from noiseclf.features import shape as shape_mod
from noiseclf.features.shape import line_shapes
from reference_features import line_shape, normalize_line
from noiseclf.features.featurizer import n_features
from noiseclf.modelfile import _npz_bytes, load_model, save_model
from noiseclf.settings import Settings
from noiseclf.text import normalize_lines, split_lines

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))

# Characters random lines are drawn from: ASCII, Latin-1, punctuation the shape
# features look for, several scripts, digits of other scripts, odd white space,
# astral characters (emoji, mathematical letters).
ALPHABET = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    + list(" \t  .,;:!?'\"()[]{}<>|/\\-_*+#@&%$=~^`")
    + list("\u00e9\u00fc\u00df\u00c9\u00d6\u00bb\u00b7\u00a9\u2022\u203a\u2013\u2014\u2019\u201c\u201d\u2026")
    + list("\u0391\u03b2\u0416\u0436\u05d0\u0627\u0660\u0663\u0967\u4e2d\u6587\u3042\u30ab\u0e01\ud55c")
    + list("\u00a0\u2003\u2028\u0085\x0b\x0c\x1c\x1f\x00\u00b2\u2460\u2167\ufb01\uff21\u1e9e\u0130")
    + ["\U0001F600", "\U0001D400", "\U0001D7D8", "\U00010400"]
)
WORDS = ["Jan 12", "12 March", "2025-01-02", "3/4/2025", "10:45", "ago", "Today", "\u00a9 2024",
         "All Rights Reserved", "Privacy", "terms of use", "https://x.com", "www.site", "@user",
         "](link)", "1. ", "2) ", "- ", "\u2022 ", "> ", "...", "\u2026", ":", "Read more.", "END.",
         "Hello. World", "A.  B", "|", "\u00bb", " / ", "HEADLINE", "#", "[", "!", "1.", "9)"]


def random_line(rng: np.random.Generator) -> str:
    parts = []
    for _ in range(int(rng.integers(0, 12))):
        if rng.random() < 0.3:
            parts.append(WORDS[int(rng.integers(len(WORDS)))])
        else:
            parts.append("".join(ALPHABET[int(i)] for i in rng.integers(0, len(ALPHABET), int(rng.integers(1, 9)))))
        parts.append(" " if rng.random() < 0.8 else ALPHABET[int(rng.integers(len(ALPHABET)))])
    return "".join(parts).replace("\n", " ").replace("\r", " ")


def random_pages(seed: int, n_pages: int = 12) -> list[Page]:
    rng = np.random.default_rng(seed)
    pages = []
    for _ in range(n_pages):
        lines = []
        for _ in range(int(rng.integers(0, 40))):
            lines.append("" if rng.random() < 0.15 else random_line(rng))
        if lines and rng.random() < 0.5:  # repeated lines (menus) and an indented one
            lines += [lines[0], "    " + lines[-1], "\t" + lines[0]]
        pages.append(Page(lines))
    return pages


@pytest.fixture(params=["numpy", "kernel"])
def path(request, monkeypatch):
    """Run the test on the numpy path and on the compiled kernel."""
    monkeypatch.setattr(featurizer_mod, "KERNEL_MODE", request.param)
    if request.param == "kernel":
        pytest.importorskip("numba")
    return request.param


def seed_pages() -> list[Page]:
    return [Page(split_lines(p.read_text(encoding="utf-8"))) for p in SEEDS]


def content_lines(pages: list[Page]) -> list[str]:
    return [p.lines[i] for p in pages for i in p.content]


def all_pages() -> list[Page]:
    return seed_pages() + random_pages(1) + random_pages(2)


def test_murmur_matches_scikit_learn():
    rng = np.random.default_rng(0)
    strings = ["", "a", "ab", "abc", "abcd", "abcde", " th", "\u00e9t\u00e9", "\U0001F600", "\u4e2d\u6587\u5b57"]
    strings += [random_line(rng).replace("\x00", "")[: int(rng.integers(0, 40))] for _ in range(500)]
    encoded = [s.encode("utf-8") for s in strings]
    lengths = np.array([len(b) for b in encoded])
    starts = np.cumsum(lengths) - lengths
    buf = np.frombuffer(b"".join(encoded) + b"\0\0\0\0", dtype=np.uint8)
    got = fp.murmur3_32(buf, starts, lengths)
    want = np.array([murmurhash3_32(b, seed=0) for b in encoded], dtype=np.int32)
    assert np.array_equal(got, want)
    # and the bucket, including the one hash whose abs() overflows
    h = np.array([-(2**31), -5, 0, 7, 2**31 - 1], dtype=np.int32)
    assert fp.buckets(h, 2**18).tolist() == [0, 5, 0, 7, (2**31 - 1) % 2**18]


@pytest.mark.parametrize("which", ["word", "char"])
def test_hashed_counts_identical(which):
    norm = [normalize_line(r) for r in content_lines(all_pages())]
    norm += ["", "a", "ab cd", "x" * 400, "\u00e9 \u4e2d\u6587 \U0001F600z"]
    for bits in (18, 10):
        if which == "word":
            ref = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=2**bits,
                                    token_pattern=r"(?u)\b\w+\b", alternate_sign=False, norm=None,
                                    lowercase=False, dtype=np.float32).transform(norm)
            got = fp.word_counts(norm, (1, 2), 2**bits)
        else:
            short = [t[:160] for t in norm]
            ref = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), n_features=2**bits,
                                    alternate_sign=False, norm=None, lowercase=False,
                                    dtype=np.float32).transform(short)
            got = fp.char_wb_counts(short, (2, 4), 2**bits)
        assert got.shape == ref.shape
        assert abs(got - ref).max() == 0
        assert got.nnz == ref.nnz


def test_other_ngram_ranges_identical():
    norm = [normalize_line(r) for r in content_lines(random_pages(3))] + ["a b c d e", "ab"]
    for rng_ in [(1, 1), (2, 3), (1, 3)]:
        ref = HashingVectorizer(analyzer="word", ngram_range=rng_, n_features=2**12, token_pattern=r"(?u)\b\w+\b",
                                alternate_sign=False, norm=None, lowercase=False).transform(norm)
        assert abs(fp.word_counts(norm, rng_, 2**12) - ref).max() == 0
    for rng_ in [(1, 3), (3, 5), (4, 4)]:
        ref = HashingVectorizer(analyzer="char_wb", ngram_range=rng_, n_features=2**12,
                                alternate_sign=False, norm=None, lowercase=False).transform(norm)
        assert abs(fp.char_wb_counts(norm, rng_, 2**12) - ref).max() == 0


@pytest.mark.parametrize("per_line_max", [0, 10**9])  # whole-batch scans, and line by line
def test_line_shapes_identical(monkeypatch, per_line_max):
    monkeypatch.setattr(shape_mod, "PER_LINE_REGEX_MAX", per_line_max)
    raws = content_lines(all_pages())
    raws += ["1.", "  2) item", "3.x", "x", "\u2022", "Jan", "12", "Jan 12", "a" * 3 + "B", "ABCD", "#!"]
    got = line_shapes(raws)
    want = np.array([line_shape(r) for r in raws])
    assert got.shape == want.shape
    bad = np.argwhere(~np.isclose(got, want, rtol=0, atol=1e-12))
    assert not len(bad), [(raws[i], j, got[i, j], want[i, j]) for i, j in bad[:5]]


def _random_model(tmp_path: Path, labels: list[str], seed: int, extra: dict | None = None) -> Path:
    """A model whose every column has a random weight, written in the model format."""
    rng = np.random.default_rng(seed)
    base = load_model()
    meta = dict(base.meta)
    meta.pop("selfcheck", None)  # the base's self-check speaks for its own arrays, not these
    meta.pop("context", None)  # first stage only: the random arrays have no second stage
    meta.pop("page_stage", None)  # ... nor a page stage
    meta.pop("markup_stage", None)  # ... nor a markup stage
    meta["labels"] = labels
    nw, nc = 2**12, 2**12
    meta["featurizer"] = dict(meta["featurizer"], word_bits=12, char_bits=12, word_weight=0.7, char_weight=1.3,
                              layout_weight=0.9, **(extra or {}))
    rows = 1 if len(labels) == 2 else len(labels)
    arrays = {
        "idf_word": rng.uniform(1, 6, nw).astype(np.float32),
        "idf_char": rng.uniform(1, 6, nc).astype(np.float32),
        "layout_mean": rng.normal(0, 1, LAYOUT_DIM),
        "layout_scale": rng.uniform(0.5, 2, LAYOUT_DIM),
        "coef": rng.normal(0, 2, (rows, n_features(Settings.from_features(meta["featurizer"])))).astype(np.float32),
        "intercept": rng.normal(0, 1, rows),
    }
    blob = _npz_bytes(arrays)
    meta["arrays_sha256"] = hashlib.sha256(blob).hexdigest()
    path = tmp_path / f"random{seed}.noiseclf"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("meta.json", json.dumps(meta))
        zf.writestr("arrays.npz", blob)
    return path


def _check_same(model, pages):
    fast = model.predict_lines(pages)
    ref = ref_f.predict_first_stage(model, pages)
    assert fast.shape == ref.shape
    assert np.abs(fast - ref).max() < 1e-6
    top2 = np.sort(ref, axis=1)[:, -2:] if ref.shape[1] > 1 else ref
    clear = (top2[:, -1] - top2[:, 0]) > 1e-5
    assert np.array_equal(fast.argmax(axis=1)[clear], ref.argmax(axis=1)[clear])


def test_shipped_model_fast_equals_reference(path):
    model = load_model()
    _check_same(model, all_pages())


@pytest.mark.parametrize("labels", [["ad", "article", "footer", "nav", "related-story"], ["article", "nav"]])
def test_random_models_fast_equals_reference(tmp_path, labels, path):
    model = load_model(_random_model(tmp_path, labels, seed=len(labels)))
    _check_same(model, all_pages())


def test_neighbour_words_fast_equals_reference_and_cache(tmp_path, path):
    """The neighbours' word block: numpy path and kernel equal the reference, cached or not, page
    by page or in a batch (a line's neighbours never cross into another page)."""
    model = load_model(_random_model(tmp_path, ["ad", "article", "footer", "nav", "related-story"], seed=4,
                                     extra={"neighbour_words": 2, "neighbour_words_weight": 0.8}))
    assert model.scorer.coef_near is not None and model.featurizer.n_features == 2 * 2**12 + 2**12 + LAYOUT_DIM
    pages = all_pages()
    _check_same(model, pages)
    batch = model.set_cache(40).predict_lines(pages)
    one_by_one = np.vstack([model.predict_lines([p]) for p in pages if len(p)])
    assert np.abs(batch - one_by_one).max() < 1e-9


def test_cache_gives_the_same_results(path):
    pages = all_pages()
    cached = load_model().set_cache(50)  # smaller than the number of lines: evictions happen
    plain = load_model().set_cache(0)
    want = plain.predict(pages)
    for _ in range(2):
        assert np.abs(cached.predict(pages) - want).max() < 1e-12
        for page in pages:  # one page at a time, as a crawler calls it
            if not len(page):
                continue
            assert np.abs(cached.predict([page]) - plain.predict([page])).max() < 1e-12
    assert len(cached.scorer._cache) <= 50


def test_saved_and_reloaded_model_predicts_the_same(tmp_path, path):
    model = load_model()
    pages = seed_pages()
    before = model.predict(pages)
    path = save_model(model, tmp_path / "copy.noiseclf")
    assert np.abs(load_model(path).predict(pages) - before).max() < 1e-12


def test_loading_does_not_import_scikit_learn():
    import subprocess
    import sys

    code = ("import sys, noiseclf; m = noiseclf.load_model(); m.clean('Hello world.\\n'); "
            "print(any(k == 'sklearn' or k.startswith('sklearn.') for k in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_blank_and_empty_pages(path):
    model = load_model()
    assert model.predict([Page([]), Page(["", "  "])]).shape == (0, len(model.labels))
    pages = [Page(["", "x"]), Page([]), Page(["Hello world.", "", "  "])]
    _check_same(model, pages)


def test_linear_stage_matches_scikit_learn():
    from sklearn.linear_model import LogisticRegression

    from noiseclf.model import LinearStage

    rng = np.random.default_rng(5)
    for k in (2, 3, 5):
        X = rng.normal(size=(200, 7))
        y = np.array(["ad", "article", "footer", "nav", "related-story"][:k])[rng.integers(0, k, 200)]
        clf = LogisticRegression(max_iter=500).fit(X, y)
        stage = LinearStage(clf.classes_, clf.coef_, clf.intercept_)
        assert np.abs(stage.predict_proba(X) - clf.predict_proba(X)).max() < 1e-12


def test_normalize_lines_identical():
    raws = content_lines(all_pages()) + ["  A\u00a0B\u2003C  ", "\uff21\uff11", "\u0663 1 \u00b2", "\u0130I", "x\x1cy"]
    assert normalize_lines(raws) == [normalize_line(r) for r in raws]


def test_clean_counted_matches_the_verdicts(path):
    from noiseclf.model import render_kept

    model = load_model()
    texts = [p.read_text(encoding="utf-8") for p in SEEDS]
    texts += ["\n".join(p.lines) for p in random_pages(4)] + ["", "\n\n", "a\n\n\nb\n", "x\r\ny\r\n"]
    for keep in (("article",), ("article", "nav"), ("footer",)):
        cleaned, kept, dropped = model.clean_counted(texts, keep)
        for text, c, k, d in zip(texts, cleaned, kept, dropped):
            verdicts = model.classify_text(text, keep)  # keep flags: the labels kept, less the page-relative drop
            assert c == render_kept(verdicts)
            assert k == sum(v.label is not None and bool(v.keep) for v in verdicts)
            assert d == sum(v.label is not None and not v.keep for v in verdicts)
            assert all(v.label in keep for v in verdicts if v.keep)
        assert model.clean_many(texts, keep) == cleaned


def test_char_memo_across_calls_and_clears():
    """The remembered words grow across calls and are dropped when full: counts stay exact."""
    norm = [normalize_line(r)[:160] for r in content_lines(all_pages())]
    ref = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), n_features=2**12,
                            alternate_sign=False, norm=None, lowercase=False, dtype=np.float32)
    memo = fp.CharNgrams((2, 4), 2**12, max_words=150)
    for start in range(0, len(norm), 37):
        batch = norm[start:start + 37]
        assert abs(memo.counts(batch) - ref.transform(batch)).max() == 0
    assert 0 < len(memo.ids) <= 150 + 37 * 12


@pytest.mark.parametrize("settings", [{}, {"word_bits": 10, "char_bits": 11, "char_max_len": 7, "layout_weight": 2.0,
                                           "word_ngrams": (1, 3), "char_ngrams": (3, 5)},
                                      {"word_bits": 10, "char_bits": 10, "neighbour_words": 2,
                                       "neighbour_words_weight": 0.7}])
def test_training_features_equal_the_reference(settings):
    """The featuriser training fits with is the one prediction uses, and both equal the reference."""
    from noiseclf.features import Featurizer
    from noiseclf.settings import Settings

    pages = all_pages()
    featurizer = Featurizer(Settings(**settings))
    fitted = featurizer.fit_transform(pages)
    again = featurizer.transform(pages)
    want = ref_f.transform(featurizer, pages)
    assert fitted.shape == want.shape == (sum(len(p) for p in pages), featurizer.n_features)
    assert abs(fitted - again).max() == 0
    assert abs(fitted - want).max() < 1e-6
    # IDF as scikit-learn's TfidfTransformer(smooth_idf=True) computes it from the counts
    words, _ = ref_f.hashers(featurizer.settings)
    counts = words.transform([normalize_line(r) for r in content_lines(pages)])
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    np.testing.assert_allclose(featurizer.idf_word, np.log((1 + counts.shape[0]) / (1 + df)) + 1, rtol=1e-6)


# -- the compiled kernel ---------------------------------------------------------

PATTERN_TOKENS = ["jan", "Sept", "SEP.", "ſep", "may", "Mayday", "dec", "12", "1", "123", "07", "2024-01-02",
                  "2024-1-02", "12024-01-02", "1/2/34", "12.3.2024", "1/2/34567", "3:45", "12:345", "123:45",
                  "ago", "AGO", "agos", "Today", "TODAY", "yesterday", "©", "(c)", "(C)", "copyright",
                  "COPYRIGHT", "All Rights Reserved", "all  rights", "privacy", "PRİVACY", "terms of", "Terms Of",
                  "http://", "HTTPS://", "https:/", "www.", "WWW.", ".com", ".COM", ".comx", ".com.", "@", "@x",
                  "@ ", "](", "]", "K", "ı", "İ", "_", "é", "\u0663", "\u00b2", "\u0967\u0968", "x", "a", ".", "/",
                  "-", ":", "!", "?", "A", "\u00c0", "\u00d7", "|", "\u00bb", "\u203a", "\u00b7", "\u2026", "...",
                  ",", "'", "\u201d", ")", "]", "\u2022", "1.", "2)", "#", "[", "ſ", "\u212a", "\U0001D7D8"]
PATTERN_GLUE = ["", " ", "  ", "\t", "\u00a0", ".", "x", "1", "_", "-", "/"]


def pattern_lines(seed: int, n: int) -> list[str]:
    """Lines built to sit on the edges of the shape patterns (dates, times, links, bullets...)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(int(rng.integers(1, 7))):
            parts.append(PATTERN_TOKENS[int(rng.integers(len(PATTERN_TOKENS)))])
            parts.append(PATTERN_GLUE[int(rng.integers(len(PATTERN_GLUE)))])
        line = "".join(parts)
        if rng.random() < 0.2:
            line = " " * int(rng.integers(1, 4)) + "\t" * int(rng.integers(0, 2)) + line
        if line.strip():
            out.append(line)
    return out


def kernel_scorer(model=None):
    pytest.importorskip("numba")
    from noiseclf.features import kernel

    model = model or load_model()
    assert kernel.supported(model.featurizer)
    return kernel.KernelScorer(model.scorer)


def test_kernel_shapes_equal_the_reference():
    """Every shape feature, the hand-written pattern matchers included, on random and edge-case lines."""
    raws = content_lines(all_pages()) + pattern_lines(0, 4000) + content_lines(random_pages(7, 30))
    raws += ["1.", "  2) item", "3.x", "x", "\u2022", "Jan", "12", "Jan 12", "aaaB", "ABCD", "#!", "\t\tx", " \r\tx"]
    raws = list(dict.fromkeys(raws))
    _, got, _, _ = kernel_scorer().lines(raws)
    want = np.array([line_shape(r) for r in raws])
    bad = np.argwhere(~np.isclose(got, want, rtol=0, atol=1e-12))
    assert not len(bad), [(raws[i], shape_mod.SHAPE_NAMES[j], got[i, j], want[i, j]) for i, j in bad[:5]]
    assert np.array_equal(got, line_shapes(raws))  # the numpy path, bit for bit


def test_kernel_normalised_text_ids():
    """Two lines share a normalised-text id exactly when normalize_lines makes them equal."""
    raws = ["Posted 3 days ago", "Posted 4 days ago", "posted  5 DAYS ago ", "\uff30osted 6 days ago", "Other",
            "\u00e9t\u00e9 12", "\u00c9t\u00e9 34", "e\u0301t\u00e9 56"] + pattern_lines(1, 500)
    raws = list(dict.fromkeys(raws))
    _, _, ids, _ = kernel_scorer().lines(raws)
    norm = normalize_lines(raws)
    first = {}
    want = [first.setdefault(t, i) for i, t in enumerate(norm)]
    assert ids.tolist() == want


def test_kernel_and_numpy_paths_agree_on_the_golden_pages(monkeypatch):
    pytest.importorskip("numba")
    golden = json.loads((ROOT / "tests" / "fixtures" / "shipped_predictions.json").read_text(encoding="utf-8"))
    pages = [Page(split_lines((ROOT / name).read_text(encoding="utf-8"))) for name in sorted(golden)]
    pages += [Page(pattern_lines(2, 300))]
    monkeypatch.setattr(featurizer_mod, "KERNEL_MODE", "numpy")
    want = load_model().set_cache(0).predict(pages)
    monkeypatch.setattr(featurizer_mod, "KERNEL_MODE", "kernel")
    got = load_model().set_cache(0).predict(pages)
    assert np.abs(got - want).max() < 1e-9


@pytest.mark.parametrize("settings", [{"word_ngrams": [1, 3], "char_ngrams": [3, 5], "char_max_len": 7},
                                      {"word_ngrams": [2, 2], "char_ngrams": [1, 1], "char_max_len": 300},
                                      {"neighbour_words": 3, "neighbour_words_weight": 1.5}])
def test_kernel_other_settings_equal_the_reference(tmp_path, monkeypatch, settings):
    pytest.importorskip("numba")
    monkeypatch.setattr(featurizer_mod, "KERNEL_MODE", "kernel")
    model = load_model(_random_model(tmp_path, ["ad", "article", "footer", "nav", "related-story"], seed=9,
                                     extra=settings))
    pages = all_pages() + [Page(pattern_lines(3, 200))]
    _check_same(model, pages)


def test_kernel_float64_coefficients_and_huge_counts(monkeypatch):
    """Coefficients float32 cannot hold (a model just fitted), and counts past the TF table."""
    pytest.importorskip("numba")
    from noiseclf.features import LineScorer

    base = load_model()
    rng = np.random.default_rng(3)
    coef = rng.normal(0, 1, base.classifier.coef_.shape)
    pages = all_pages() + [Page(["a " * 70_000, "x" * 30_000 + " y", "\u00e9" * 500])]
    monkeypatch.setattr(featurizer_mod, "KERNEL_MODE", "numpy")
    want = LineScorer(base.featurizer, coef, base.classifier.intercept_).decision(pages)
    monkeypatch.setattr(featurizer_mod, "KERNEL_MODE", "kernel")
    scorer = LineScorer(base.featurizer, coef, base.classifier.intercept_)
    got = scorer.decision(pages)
    assert scorer._kernel.rows_w.dtype == np.float64
    assert np.abs(got - want).max() < 1e-5


def test_auto_mode_switches_to_the_kernel_after_enough_lines(monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setattr(featurizer_mod, "KERNEL_MODE", "auto")
    monkeypatch.setitem(featurizer_mod._kernel_state, "ready", False)
    monkeypatch.setitem(featurizer_mod._kernel_state, "lines", 0)
    monkeypatch.setattr(featurizer_mod, "KERNEL_AFTER_LINES", 100)
    monkeypatch.setitem(featurizer_mod._kernel_state, "cached", True)  # compiled on this machine before
    model = load_model().set_cache(0)
    pages = seed_pages()
    small = [Page(["Hello world.", "Home | News"])]
    model.predict(small)
    assert model.scorer._kernel is None  # a few lines: the numpy path, numba not needed
    plain = load_model().set_cache(0)
    monkeypatch.setattr(featurizer_mod, "KERNEL_MODE", "numpy")
    want = plain.predict(pages)
    monkeypatch.setattr(featurizer_mod, "KERNEL_MODE", "auto")
    got = model.predict(pages)
    assert model.scorer._kernel not in (None, False)
    assert np.abs(got - want).max() < 1e-9
    assert featurizer_mod._kernel_state["ready"]
    fresh = load_model().set_cache(0)  # loaded once, the kernel serves every scorer from the first call
    fresh.predict(small)
    assert fresh.scorer._kernel not in (None, False)


def test_auto_mode_does_not_compile_the_kernel_for_a_short_job(monkeypatch):
    # Never compiled here (the first run after an install): a job of a few thousand lines
    # stays on the numpy path rather than wait for numba; past KERNEL_COMPILE_AFTER_LINES it compiles.
    pytest.importorskip("numba")
    monkeypatch.setattr(featurizer_mod, "KERNEL_MODE", "auto")
    monkeypatch.setitem(featurizer_mod._kernel_state, "ready", False)
    monkeypatch.setitem(featurizer_mod._kernel_state, "lines", 0)
    monkeypatch.setitem(featurizer_mod._kernel_state, "module", None)
    monkeypatch.setitem(featurizer_mod._kernel_state, "cached", False)
    monkeypatch.setattr(featurizer_mod, "KERNEL_AFTER_LINES", 100)
    pages = seed_pages()
    n = sum(len(p.content) for p in pages)
    monkeypatch.setattr(featurizer_mod, "KERNEL_COMPILE_AFTER_LINES", 3 * n)
    model = load_model().set_cache(0)
    model.predict(pages)
    model.predict(pages)
    assert model.scorer._kernel is None and featurizer_mod._kernel_state["module"] is None
    model.predict(pages)  # the third pass reaches KERNEL_COMPILE_AFTER_LINES
    assert model.scorer._kernel not in (None, False)


def test_numpy_path_without_numba_or_with_changed_patterns(monkeypatch):
    import re

    pages = seed_pages()
    monkeypatch.setattr(featurizer_mod, "KERNEL_MODE", "numpy")
    want = load_model().set_cache(0).predict(pages)
    monkeypatch.setattr(featurizer_mod, "KERNEL_MODE", "kernel")
    monkeypatch.setitem(featurizer_mod._kernel_state, "module", None)
    monkeypatch.setitem(featurizer_mod._kernel_state, "failed", True)  # as if numba could not be imported
    model = load_model().set_cache(0)
    assert np.abs(model.predict(pages) - want).max() < 1e-12
    assert model.scorer._kernel is False
    monkeypatch.setitem(featurizer_mod._kernel_state, "failed", False)
    changed = shape_mod.Pattern(re.compile(r"\bago\b|\bnow\b", re.IGNORECASE))
    monkeypatch.setattr(shape_mod, "TIME", changed)  # a pattern the kernel was not written for
    model._scorer = None
    got = model.predict(pages)
    assert model.scorer._kernel is False  # the numpy path, which uses the new pattern
    assert got.shape == want.shape


def test_flag_table_classes():
    """The kernel relies on these classes: \\d is str.isdecimal, and the characters it
    looks for among punctuation are punctuation."""
    for ch in ",.!?|/\u00bb\u203a\u00b7":
        assert fp._flags_of(ord(ch)) & fp.PUNCT, ch
    assert fp._flags_of(ord("\u0663")) & fp.DECIMAL and not fp._flags_of(ord("\u00b2")) & fp.DECIMAL
    assert fp._flags_of(ord("\u00b2")) & fp.DIGIT


def test_neighbour_mean_by_running_sums_equals_the_matrix():
    """Prediction's running sums give what training's matrix gives, page edges and one-line pages included."""
    from noiseclf.features.featurizer import neighbour_mean, neighbour_mean_of

    rng = np.random.default_rng(5)
    for lengths in ([1], [3, 1, 7], [0, 5, 0, 2], [40]):
        values = rng.normal(size=(sum(lengths), 5))
        for radius in (1, 3, 10):
            want = neighbour_mean(lengths, radius) @ values
            assert np.abs(neighbour_mean_of(lengths, radius, values) - want).max() < 1e-9
    m = neighbour_mean([3, 1], 1).toarray()
    assert m.tolist() == [[0, 1, 0, 0], [0.5, 0, 0.5, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
