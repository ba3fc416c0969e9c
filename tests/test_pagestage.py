"""The page-level stage: its features, its place in the prediction path, its file format; min_probability."""

from __future__ import annotations

import numpy as np
import pytest

import noiseclf
from conftest import SEEDS
from noiseclf import compat
from noiseclf.features import Page
from noiseclf.modelfile import load_model, read_meta, save_model
from noiseclf.pagestage import PageStage, feature_dim, stage_features
from noiseclf.text import split_lines


def _pages():
    return [Page(split_lines(p.read_text(encoding="utf-8"))) for p in sorted(SEEDS.glob("*.txt"))]


def test_features_are_per_page_whatever_the_batch(shipped_model):
    pages = _pages()
    proba = shipped_model.predict(pages)
    together = stage_features(proba, pages, shipped_model.labels)
    assert together.shape == (len(proba), feature_dim(len(shipped_model.labels)))
    assert np.isfinite(together).all()
    row = 0
    for p in pages:
        alone = stage_features(proba[row:row + len(p)], [p], shipped_model.labels)
        np.testing.assert_allclose(together[row:row + len(p)], alone, rtol=0, atol=1e-12)
        row += len(p)


def test_features_see_the_main_article_segment(shipped_model):
    art = shipped_model.labels.index("article")
    lines = ["Home", "News", "Sport"] + [f"Paragraph {w} of the story, a full sentence." for w in "abcdefgh"] + [
        "Other headline one", "Other headline two", "Other headline three"]
    page = Page(lines)
    proba = np.full((len(lines), len(shipped_model.labels)), 0.05)
    proba[3:11, art] = 0.8
    proba /= proba.sum(axis=1, keepdims=True)
    X = stage_features(proba, [page], shipped_model.labels)
    k = len(shipped_model.labels)
    in_main = X[:, k + 3 * k + k + 2]
    assert in_main.tolist() == [0.0] * 3 + [1.0] * 8 + [0.0] * 3
    head = X[:, k + 3 * k + k + 8]
    assert head[-3:].tolist() == [1.0, 1.0, 1.0] and head[5] == 0.0


def test_headline_like_lines_have_2_to_20_words_and_no_final_punctuation():
    from noiseclf.pagestage import _headline_like

    cases = {"Other story headline here": True, "One": False, "A full sentence ends here.": False,
             'He said "stop."': False, "Is this a question? \u201d": True, "Is this a question?\u201d": False,
             "Read more (video)": True, "Ends with a colon:": False, "  spaced   out  words  ": True,
             " ".join(["w"] * 21): False, " ".join(["w"] * 20): True}
    page = Page(list(cases) + ["", "Second page line"])
    assert _headline_like([page, Page(["Two words"])]).tolist() == list(cases.values()) + [True, True]
    assert page.words.tolist() == [len(x.split()) for x in cases] + [3]


def _identity_stage(labels):
    """A stage that gives back the first stage's probabilities: softmax(log p) = p."""
    k = len(labels)
    d = feature_dim(k)
    coef = np.zeros((k, d))
    coef[:, :k] = np.eye(k)
    return PageStage(labels, np.zeros(d), np.ones(d), coef, np.zeros(k))


def test_the_stage_sits_in_the_one_prediction_path_and_in_the_model_file(tmp_path, shipped_model):
    model = load_model()
    pages = _pages()
    model.stage = None
    before = model.predict(pages)
    model.stage = _identity_stage(model.labels)
    np.testing.assert_allclose(model.predict(pages), before, atol=1e-6)
    path = save_model(model, tmp_path / "staged.noiseclf")
    meta = read_meta(path)
    assert meta["format_version"] == compat.FORMAT_VERSION and meta["page_stage"]["n_features"] == feature_dim(len(model.labels))
    again = load_model(path)
    assert again.stage is not None
    np.testing.assert_allclose(again.predict(pages), model.predict(pages), atol=1e-9)
    # a stage that prefers article everywhere changes the labels through every entry point
    bias = _identity_stage(model.labels)
    bias.intercept[model.labels.index("article")] = 50.0
    model.stage = bias
    text = SEEDS.joinpath("000_4242c970553a3e99.txt").read_text(encoding="utf-8")
    assert all(v.label == "article" for v in model.classify_text(text) if v.label)
    assert model.clean(text) == noiseclf.Cleaner(model).clean_batch([noiseclf.Scrape(text)])[0].text


def test_the_stage_is_averaged_with_the_first_stage_by_its_mix(tmp_path):
    model = load_model()
    pages = _pages()
    model.stage = None
    first = model.predict(pages)
    art = model.labels.index("article")
    biased = _identity_stage(model.labels)
    biased.intercept[art] = 50.0  # alone, this stage calls every line article
    model.stage = biased
    alone = model.predict(pages)
    assert (alone.argmax(axis=1) == art).all()
    biased.mix = 0.25
    mixed = model.predict(pages)
    np.testing.assert_allclose(mixed, 0.25 * alone + 0.75 * first, atol=1e-9)
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0)
    path = save_model(model, tmp_path / "mixed.noiseclf")
    assert read_meta(path)["page_stage"]["mix"] == 0.25
    again = load_model(path)
    assert again.stage.mix == 0.25
    np.testing.assert_allclose(again.predict(pages), mixed, atol=1e-9)


def test_a_stage_without_a_mix_is_the_stage_alone(tmp_path):
    """Files from before the mix carry a stage that gave the final probabilities by itself."""
    from trust_support import read_model_zip, write_model_zip

    model = load_model()
    pages = _pages()
    stage = _identity_stage(model.labels)
    stage.intercept[model.labels.index("nav")] = 3.0
    model.stage = stage
    alone = model.predict(pages)
    meta, blob = read_model_zip(save_model(model, tmp_path / "m.noiseclf"))
    del meta["page_stage"]["mix"]
    old = load_model(write_model_zip(tmp_path / "old.noiseclf", meta, blob))
    assert old.stage.mix == 1.0
    np.testing.assert_allclose(old.predict(pages), alone, atol=1e-9)


def test_min_probability_trades_recall_for_precision(shipped_model):
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        plain = shipped_model.clean(text)
        assert shipped_model.clean(text, min_probability=0.0) == plain
        strict = [x for x in shipped_model.clean(text, min_probability=0.95).split("\n") if x]
        assert set(strict) <= set(plain.split("\n"))
        proba = [v for v in shipped_model.classify_text(text) if v.label == "article"]
        assert len(strict) == sum(v.probability >= 0.95 for v in proba)
    with pytest.raises(noiseclf.UsageError):
        shipped_model.clean("x\n", min_probability=1.5)


def test_clean_min_probability_on_the_command_line(shipped_model):
    from typer.testing import CliRunner

    from noiseclf.cli import app

    seed = SEEDS / "003_961445eb337fe995.txt"
    r = CliRunner().invoke(app, ["clean", str(seed), "--min-probability", "0.9"])
    assert r.exit_code == 0
    assert r.stdout == shipped_model.clean(seed.read_text(encoding="utf-8"), min_probability=0.9)
    bad = CliRunner().invoke(app, ["clean", str(seed), "--min-probability", "2"])
    assert bad.exit_code == 2


def test_fit_stage_learns_from_out_of_fold_probabilities(seed_scrapes, shipped_model):
    """training.page_stage.fit_stage on the seeds: a stage that fits them at least as well as the first stage."""
    from training.page_stage import fit_stage

    from noiseclf.train import pages_and_targets

    pages, y = pages_and_targets(seed_scrapes)
    oof = [shipped_model.predict([Page(s.lines)]) for s in seed_scrapes]
    stage = fit_stage(seed_scrapes, oof, shipped_model.labels, C=1.0)
    before = np.array(shipped_model.labels, dtype=object)[np.vstack(oof).argmax(axis=1)]
    after_p = np.vstack([stage.predict_proba(p, [Page(s.lines)]) for p, s in zip(oof, seed_scrapes)])
    after = np.array(shipped_model.labels, dtype=object)[after_p.argmax(axis=1)]
    assert np.mean(after == y) >= np.mean(before == y)
    np.testing.assert_allclose(after_p.sum(axis=1), 1.0)


def test_out_of_fold_fits_give_the_same_numbers_one_or_two_at_a_time(seed_scrapes):
    """training.page_stage.out_of_fold runs its folds' fits in parallel: each is independent."""
    import copy

    from training.page_stage import out_of_fold

    from noiseclf.settings import Settings

    scrapes = []
    for s in seed_scrapes:
        s = copy.copy(s)
        s.meta = {**getattr(s, "meta", {}), "domain": s.name}
        scrapes.append(s)
    settings = Settings(word_bits=12, char_bits=12)
    one, labels = out_of_fold(scrapes, [], 2, settings, 1.0, lambda m: None, jobs=1)
    two, labels2 = out_of_fold(scrapes, [], 2, settings, 1.0, lambda m: None, jobs=2)
    assert labels == labels2 and all(p is not None for p in one)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


def test_cached_out_of_fold_keeps_the_fold_models_that_made_the_probabilities(seed_scrapes, tmp_path):
    """The folds' first stages are kept beside the cache, so that pages outside the corpus
    (the snippet pages of training/markup_stage.py) can be scored by a model that never saw them."""
    import copy

    from training.page_stage import cached_out_of_fold, fold_model_path, fold_of

    from noiseclf import load_model
    from noiseclf.features import Page
    from noiseclf.settings import Settings

    scrapes = []
    for s in seed_scrapes:
        s = copy.copy(s)
        s.meta = {**getattr(s, "meta", {}), "domain": s.name, "file_id": s.name, "tool": "seed"}
        scrapes.append(s)
    settings = Settings(word_bits=12, char_bits=12)
    oof, _ = cached_out_of_fold(scrapes, [], 2, settings, 1.0, tmp_path, lambda m: None)
    (cache,) = tmp_path.glob("oof-*.npz")
    assert sorted(p.name for p in tmp_path.glob("*.noiseclf")) == [f"{cache.stem}-fold{k}.noiseclf" for k in (0, 1)]
    for i, s in enumerate(scrapes):
        model = load_model(fold_model_path(cache, fold_of(s.meta["domain"], 2)))
        np.testing.assert_allclose(model.predict([Page(s.lines)]), oof[i], atol=1e-9)
