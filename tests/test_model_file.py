import json
import zipfile

import numpy as np
import pytest

from noiseclf import LABELS, ModelError, load_model
from noiseclf import compat
from noiseclf.modelfile import read_meta, save_model
from noiseclf.settings import Settings
from noiseclf.train import fit


def test_saved_model_predicts_exactly_as_before_saving(seed_scrapes, tmp_path):
    model = fit(seed_scrapes[:4])
    path = save_model(model, tmp_path / "m.noiseclf")
    loaded = load_model(path)
    pages_text = [s.text for s in seed_scrapes]
    from noiseclf.features import Page
    from noiseclf.text import split_lines

    pages = [Page(split_lines(t)) for t in pages_text]
    np.testing.assert_allclose(loaded.predict(pages), model.predict(pages), rtol=1e-5, atol=1e-6)


def test_model_file_carries_its_metadata(seed_model_path):
    meta = read_meta(seed_model_path)
    assert meta["format"] == "noiseclf-model" and meta["format_version"] == compat.FORMAT_VERSION
    assert sorted(meta["labels"]) == sorted(LABELS)
    assert {"noiseclf", "scikit-learn", "numpy", "scipy", "python"} <= set(meta["versions"])
    assert meta["training_data"]["sha256"].startswith("sha256:")
    assert meta["training_data"]["lines"] == 239
    assert "featurizer" in meta and "arrays_sha256" in meta


def test_training_is_deterministic(seed_scrapes, tmp_path):
    a = save_model(fit(seed_scrapes), tmp_path / "a.noiseclf").read_bytes()
    b = save_model(fit(seed_scrapes), tmp_path / "b.noiseclf").read_bytes()
    assert a == b


def test_shipped_model_loads_and_is_small():
    model = load_model()
    assert set(model.labels) == set(LABELS)
    assert model.path.stat().st_size <= 25_000_000


def test_altered_arrays_are_refused(seed_model_path, tmp_path):
    bad = tmp_path / "bad.noiseclf"
    with zipfile.ZipFile(seed_model_path) as src, zipfile.ZipFile(bad, "w") as dst:
        dst.writestr("meta.json", src.read("meta.json"))
        dst.writestr("arrays.npz", src.read("arrays.npz")[:-10] + b"0123456789")
    with pytest.raises(ModelError, match="checksum"):
        load_model(bad)


def test_newer_format_asks_to_upgrade(seed_model_path, tmp_path):
    newer = tmp_path / "newer.noiseclf"
    with zipfile.ZipFile(seed_model_path) as src, zipfile.ZipFile(newer, "w") as dst:
        meta = json.loads(src.read("meta.json"))
        meta["format_version"] = 99
        dst.writestr("meta.json", json.dumps(meta))
        dst.writestr("arrays.npz", src.read("arrays.npz"))
    with pytest.raises(ModelError, match="upgrade noiseclf"):
        load_model(newer)


def test_non_model_files_are_refused_without_loading(tmp_path):
    text = tmp_path / "model.noiseclf"
    text.write_text("not a model")
    with pytest.raises(ModelError, match="not a noiseclf model"):
        load_model(text)
    with pytest.raises(ModelError, match="no such model"):
        load_model(tmp_path / "absent.noiseclf")


def test_training_needs_two_labels(seed_scrapes):
    from noiseclf.errors import LabelsError
    from noiseclf.labels import LabelledScrape

    s = seed_scrapes[0]
    only_article = LabelledScrape(s.name, s.scrape_path, s.labels_path, s.lines,
                                  ["article" if lab else None for lab in s.labels])
    with pytest.raises(LabelsError, match="at least two labels"):
        fit([only_article], Settings())


def test_word_dropout_trains_on_copies_without_word_ngrams(seed_scrapes):
    # The copies have layout and characters only, so the layout block must carry
    # more of the decision; training stays deterministic.
    import scipy.sparse as sp

    from noiseclf.train import _with_word_dropout

    opts = Settings(word_dropout=0.5)
    X = sp.csr_matrix(np.array([[1.0, 2.0, 0.0, 3.0], [0.0, 1.0, 4.0, 0.0], [5.0, 0.0, 6.0, 7.0]] * 20))
    y = np.array(["article", "nav", "footer"] * 20)
    X2, y2, w2 = _with_word_dropout(X, y, None, 2, opts)
    extra = X2.shape[0] - X.shape[0]
    assert 10 < extra < 50 and len(y2) == len(w2) == X2.shape[0]
    assert X2[X.shape[0]:, :2].nnz == 0 and X2[X.shape[0]:, 2:].nnz > 0  # word columns gone, the rest kept
    a, b = fit(seed_scrapes, opts), fit(seed_scrapes, opts)
    plain = fit(seed_scrapes)
    assert np.array_equal(a.classifier.coef_, b.classifier.coef_)
    assert not np.allclose(a.classifier.coef_, plain.classifier.coef_)
    assert a.meta["options"]["word_dropout"] == 0.5


def test_unlabelled_lines_are_context_not_examples(seed_scrapes):
    # Weak labels (training/snippet_labels.py) label a few lines of a page; the
    # rest stay in the page as context, with no label to learn from.
    import copy

    from noiseclf import LabelsError

    partial = copy.deepcopy(seed_scrapes)
    for s in partial:
        s.labels = [lab if (lab is None or i % 3 == 0) else None for i, lab in enumerate(s.labels)]
    model = fit(partial)
    assert set(model.labels) <= set(LABELS) and len(model.labels) >= 2
    from noiseclf.train import evaluate

    assert evaluate(model, seed_scrapes)["accuracy"] > 0.8  # learned from a third of the lines, scored on all
    # scored on the labelled third only: the unlabelled lines are predicted in their page, not counted
    third = evaluate(model, partial)
    assert third["lines"] == sum(1 for s in partial for lab in s.labels if lab is not None)
    assert third["lines"] < evaluate(model, seed_scrapes)["lines"] / 2
    only_article = copy.deepcopy(seed_scrapes)
    for s in only_article:
        s.labels = [lab if lab in (None, "article") else None for lab in s.labels]
    with pytest.raises(LabelsError, match="only"):
        fit(only_article)
