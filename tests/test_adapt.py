"""Fine-tuning a base model on a new site's labels: fits the site, keeps the rest."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from noiseclf.adapt import AdaptOptions, adapt, fine_tune
from noiseclf.cli import app
from noiseclf.labels import load_labels
from noiseclf.modelfile import load_model, save_model
from noiseclf.settings import Settings
from noiseclf.train import evaluate, fit

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "labels"


@pytest.fixture(scope="module")
def seeds():
    return load_labels([LABELS])


@pytest.fixture(scope="module")
def base(seeds):
    # A base model that has never seen seeds 3 and 4 ("new sites").
    return fit(seeds[:3], Settings())


def test_fine_tune_learns_the_new_site_and_keeps_the_old(seeds, base):
    old, new = seeds[:3], [seeds[3]]
    before_new = evaluate(base, new)["accuracy"]
    before_old = evaluate(base, old)["accuracy"]
    tuned = fine_tune(base, new, AdaptOptions())
    after_new = evaluate(tuned, new)["accuracy"]
    after_old = evaluate(tuned, old)["accuracy"]
    scratch_old = evaluate(fit(new + [seeds[4]]), old)["accuracy"]
    assert before_new < 0.9 and after_new > 0.97  # the new layout is learnt
    # a 3-page base holds little, so little protects its weights: allow a 20-point loss ...
    assert after_old >= before_old - 0.20
    assert after_old > scratch_old + 0.1  # ... and keep far more than training on the new labels alone


def test_untouched_columns_keep_the_base_weights(seeds, base):
    tuned = fine_tune(base, [seeds[3]], AdaptOptions())
    X = base.featurizer.transform([__import__("noiseclf.features", fromlist=["Page"]).Page(seeds[3].lines)])
    untouched = np.setdiff1d(np.arange(X.shape[1]), np.unique(X.indices))
    assert np.array_equal(tuned.classifier.coef_[:, untouched], base.classifier.coef_[:, untouched])
    assert not np.allclose(tuned.classifier.coef_, base.classifier.coef_)
    # the featuriser is the base's, unchanged
    assert tuned.featurizer is base.featurizer


def test_stronger_pull_keeps_more(seeds, base):
    old = seeds[:3]
    loose = fine_tune(base, [seeds[3]], AdaptOptions(C=30.0))
    tight = fine_tune(base, [seeds[3]], AdaptOptions(C=0.03))
    d_loose = np.abs(loose.classifier.coef_ - base.classifier.coef_).sum()
    d_tight = np.abs(tight.classifier.coef_ - base.classifier.coef_).sum()
    assert d_tight < d_loose
    assert evaluate(tight, old)["accuracy"] >= evaluate(loose, old)["accuracy"]


def test_a_label_the_base_never_saw_is_added(seeds):
    # a base trained without any "ad" line learns the class from the new labels
    no_ad = [s for s in seeds if "ad" not in s.labels]
    with_ad = [s for s in seeds if "ad" in s.labels]
    assert no_ad and with_ad
    b = fit(no_ad)
    assert "ad" not in b.labels
    tuned = fine_tune(b, with_ad[:1])
    assert "ad" in tuned.labels
    y = [lab for s in with_ad[:1] for lab in s.labels if lab]
    pred = [v.label for v in tuned.classify(with_ad[0].lines) if v.label]
    ad_hits = sum(1 for t, p in zip(y, pred) if t == "ad" and p == "ad")
    assert ad_hits >= 1


def test_adapt_records_where_the_model_came_from(tmp_path, seeds, base):
    base_path = save_model(base, tmp_path / "base.noiseclf")
    model, report = adapt(load_model(base_path), seeds[3:], base_path=base_path, check=seeds[:3])
    meta = model.meta["adaptation"]
    assert meta["base"]["name"] == "base.noiseclf"
    assert meta["base"]["sha256"].startswith("sha256:") and len(meta["base"]["sha256"]) == 71
    assert meta["new_data"]["scrapes"] == 2
    assert meta["new_data"]["sha256"].startswith("sha256:")
    ho = report["new_data_holdout"]
    assert len(ho["folds"]) == 2
    assert "retention" in meta["metrics"]
    out = save_model(model, tmp_path / "tuned.noiseclf")
    again = load_model(out)
    assert again.meta["adaptation"]["base"]["sha256"] == meta["base"]["sha256"]
    assert again.labels == model.labels
    assert [v.label for v in again.classify(seeds[3].lines)] == [v.label for v in model.classify(seeds[3].lines)]


def test_train_cli_extends_the_base_by_default(tmp_path, seeds, base):
    base_path = save_model(base, tmp_path / "base.noiseclf")
    out = tmp_path / "new.noiseclf"
    runner = CliRunner()
    res = runner.invoke(app, ["train", "--labels", str(LABELS / f"{seeds[3].name}.jsonl"),
                              "--labels", str(LABELS / f"{seeds[4].name}.jsonl"),
                              "--base", str(base_path), "--out", str(out),
                              "--check-labels", str(LABELS / f"{seeds[0].name}.jsonl")])
    assert res.exit_code == 0, res.output
    assert "extending" in res.output and "Kept on --check-labels" in res.output
    with zipfile.ZipFile(out) as zf:
        meta = json.loads(zf.read("meta.json"))
    assert meta["adaptation"]["base"]["name"] == "base.noiseclf"
    assert meta["adaptation"]["seconds"] < 60


def test_train_cli_from_scratch_ignores_the_base(tmp_path):
    out = tmp_path / "s.noiseclf"
    res = CliRunner().invoke(app, ["train", "--labels", str(LABELS), "--out", str(out),
                                   "--from-scratch", "--no-cv", "--base", str(tmp_path / "missing")])
    assert res.exit_code == 0, res.output
    assert "adaptation" not in load_model(out).meta


def test_train_cli_bad_base_is_one_line(tmp_path):
    bad = tmp_path / "bad.noiseclf"
    bad.write_bytes(b"not a model")
    res = CliRunner().invoke(app, ["train", "--labels", str(LABELS), "--out", str(tmp_path / "o"),
                                   "--base", str(bad)])
    assert res.exit_code == 3
    assert "Traceback" not in res.output and "bad.noiseclf" in res.output
    assert not (tmp_path / "o").exists()
