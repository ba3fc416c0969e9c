"""Models from other versions load and predict the same, or fail saying what to do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import noiseclf
from noiseclf import ModelError, compat, load_model
from noiseclf.text import read_scrape
from trust_support import (
    SEED, SEEDS, assert_one_line_error, npz_arrays, npz_bytes, read_model_zip, run_cli,
    train_small_model, write_model_zip,
)


@pytest.fixture(scope="module")
def good_model(tmp_path_factory):
    return train_small_model(tmp_path_factory.mktemp("model") / "good.noiseclf")


def _texts():
    return [read_scrape(p).text for p in sorted(SEEDS.glob("*.txt"))]


def _probabilities(model):
    from noiseclf.features import Page
    from noiseclf.text import split_lines

    return model.predict([Page(split_lines(t)) for t in _texts()])


def test_saved_model_carries_versions_and_selfcheck(good_model):
    meta, _ = read_model_zip(good_model)
    assert meta["format_version"] == compat.FORMAT_VERSION
    assert set(meta["versions"]) >= {"noiseclf", "scikit-learn", "numpy", "python"}
    assert meta["selfcheck"]["lines"] == compat.SELFCHECK_LINES
    assert len(meta["selfcheck"]["proba"]) == sum(1 for x in compat.SELFCHECK_LINES if x.strip())


def test_other_library_versions_load_and_predict_identically(tmp_path, good_model):
    meta, blob = read_model_zip(good_model)
    meta["versions"] = {"noiseclf": "0.0.1", "scikit-learn": "0.24.2", "numpy": "1.19.5",
                        "scipy": "1.5.4", "python": "3.8.10"}
    old = write_model_zip(tmp_path / "old-libs.noiseclf", meta, blob)
    a, b = load_model(good_model), load_model(old)
    np.testing.assert_array_equal(_probabilities(a), _probabilities(b))
    assert [a.clean(t) for t in _texts()] == [b.clean(t) for t in _texts()]
    assert b.meta["versions"]["scikit-learn"] == "0.24.2"


def test_model_without_selfcheck_still_loads(tmp_path, good_model):
    """Files saved before the self-check existed (the shipped model among them) load as before."""
    meta, blob = read_model_zip(good_model)
    del meta["selfcheck"]
    older = write_model_zip(tmp_path / "older.noiseclf", meta, blob)
    np.testing.assert_array_equal(_probabilities(load_model(older)), _probabilities(load_model(good_model)))
    load_model()  # the shipped model


def test_features_that_changed_since_saving_are_caught(good_model, monkeypatch):
    """If this noiseclf computed features differently, the model is refused, not silently wrong."""
    import importlib

    # noiseclf.text.normalize_lines, as every module that featurises lines sees it
    for name in ("noiseclf.text", "noiseclf.features.featurizer", "noiseclf.features.layout"):
        module = importlib.import_module(name)
        if hasattr(module, "normalize_lines"):
            monkeypatch.setattr(module, "normalize_lines", lambda lines: [line[::-1] for line in lines])
    with pytest.raises(ModelError, match="predicts differently"):
        load_model(good_model)


def test_tampered_selfcheck_is_refused(tmp_path, good_model):
    meta, blob = read_model_zip(good_model)
    meta["selfcheck"]["proba"][0] = [0.2] * len(meta["selfcheck"]["proba"][0])
    bad = write_model_zip(tmp_path / "bad.noiseclf", meta, blob)
    line = assert_one_line_error(run_cli("clean", SEED, "--model", bad), 3)
    assert "predicts differently" in line and "retrain" in line


def test_format_zero_says_retrain(tmp_path, good_model):
    meta, blob = read_model_zip(good_model)
    meta["format_version"] = 0
    meta["versions"]["noiseclf"] = "0.0.1"
    old = write_model_zip(tmp_path / "format0.noiseclf", meta, blob)
    line = assert_one_line_error(run_cli("clean", SEED, "--model", old), 3)
    assert "format 0" in line and "too old" in line and "noiseclf train" in line


def test_missing_format_version_says_retrain(tmp_path, good_model):
    meta, blob = read_model_zip(good_model)
    del meta["format_version"]
    old = write_model_zip(tmp_path / "noversion.noiseclf", meta, blob)
    with pytest.raises(ModelError, match="no valid format_version.*noiseclf train"):
        load_model(old)


def test_newer_format_says_upgrade(tmp_path, good_model):
    meta, blob = read_model_zip(good_model)
    meta["format_version"] = compat.FORMAT_VERSION + 1
    meta["versions"]["noiseclf"] = "9.0.0"
    new = write_model_zip(tmp_path / "new.noiseclf", meta, blob)
    line = assert_one_line_error(run_cli("clean", SEED, "--model", new), 3)
    assert "upgrade noiseclf" in line and "9.0.0" in line


def test_unknown_feature_setting_from_newer_noiseclf_says_upgrade(tmp_path, good_model):
    meta, blob = read_model_zip(good_model)
    meta["featurizer"]["emoji_features"] = True
    meta["versions"]["noiseclf"] = "9.0.0"
    new = write_model_zip(tmp_path / "new.noiseclf", meta, blob)
    with pytest.raises(ModelError, match="emoji_features.*upgrade noiseclf"):
        load_model(new)
    meta["versions"]["noiseclf"] = noiseclf.__version__
    same = write_model_zip(tmp_path / "same.noiseclf", meta, blob)
    with pytest.raises(ModelError, match="emoji_features.*retrain"):
        load_model(same)


def test_missing_feature_setting_is_not_filled_with_a_default(tmp_path, good_model):
    meta, blob = read_model_zip(good_model)
    del meta["featurizer"]["char_max_len"]
    old = write_model_zip(tmp_path / "old.noiseclf", meta, blob)
    with pytest.raises(ModelError, match="char_max_len.*retrain"):
        load_model(old)


def test_arrays_that_do_not_match_the_feature_settings(tmp_path, good_model):
    meta, blob = read_model_zip(good_model)
    meta["featurizer"]["word_bits"] += 1
    bad = write_model_zip(tmp_path / "bad.noiseclf", meta, blob)
    line = assert_one_line_error(run_cli("clean", SEED, "--model", bad), 3)
    assert "idf_word has shape" in line and "retrain" in line


def test_arrays_from_another_label_set(tmp_path, good_model):
    meta, blob = read_model_zip(good_model)
    arrays = npz_arrays(blob)
    arrays["coef"] = arrays["coef"][:3]
    arrays["intercept"] = arrays["intercept"][:3]
    bad = write_model_zip(tmp_path / "bad.noiseclf", meta, npz_bytes(arrays))
    with pytest.raises(ModelError, match="coef has shape"):
        load_model(bad)


def test_migration_path_reads_an_older_format(tmp_path, good_model, monkeypatch):
    """A format bump with a migration step: today's files load through it, unchanged in effect."""
    meta, blob = read_model_zip(good_model)
    now = compat.FORMAT_VERSION
    # Pretend today's format stored the char n-gram cap under another name, and the next renames it.
    meta["featurizer"]["char_cap"] = meta["featurizer"].pop("char_max_len")
    old = write_model_zip(tmp_path / "v1.noiseclf", meta, blob)
    reference = _probabilities(load_model(good_model))

    def step(m):
        m["featurizer"] = dict(m["featurizer"])
        m["featurizer"]["char_max_len"] = m["featurizer"].pop("char_cap")
        return m

    monkeypatch.setattr(compat, "FORMAT_VERSION", now + 1)
    monkeypatch.setattr(compat, "MIGRATIONS", {**compat.MIGRATIONS, now: step})
    migrated = load_model(old)
    assert migrated.meta["format_version"] == now + 1 and migrated.meta["migrated_from_format"] == now
    np.testing.assert_array_equal(_probabilities(migrated), reference)

    monkeypatch.setattr(compat, "MIGRATIONS", {})
    with pytest.raises(ModelError, match=f"no way to read model format {now}"):
        load_model(old)


def test_a_format_1_model_loads_and_has_no_page_stage():
    """The model shipped before format 2 (no page-level stage) still loads, through the migration."""
    meta, blob = read_model_zip(Path(__file__).resolve().parent / "fixtures" / "format1.noiseclf")
    assert meta["format_version"] == 1
    model = load_model(Path(__file__).resolve().parent / "fixtures" / "format1.noiseclf")
    assert model.stage is None and model.meta["migrated_from_format"] == 1


def test_older_formats_load_without_the_neighbours_word_block():
    """Format 3 added the neighbours' word block and format 4 the markup stage; older files (format 1
    here, through every step) have neither."""
    fixture = Path(__file__).resolve().parent / "fixtures" / "format1.noiseclf"
    meta, _ = read_model_zip(fixture)
    assert "neighbour_words" not in meta["featurizer"]
    model = load_model(fixture)
    assert model.featurizer.settings.neighbour_words == 0 and model.scorer.coef_near is None
    assert model.meta["format_version"] == compat.FORMAT_VERSION == 4 and model.markup_stage is None
