"""The markup stage: HTML in keeps each line's markup (noiseclf/markup.py), and a model with a
markup stage reads it for those pages only, through every entry point and the model file."""

from __future__ import annotations

import numpy as np
import pytest

import noiseclf
from noiseclf import load_model
from noiseclf.features import Page
from noiseclf.html import html_to_text
from noiseclf.markup import KINDS, MARKUP_DIM, MarkedText, convert, line_shares, markup_features
from noiseclf.model import as_page
from noiseclf.modelfile import read_meta, save_model
from noiseclf.pagestage import PageStage, feature_dim

from test_html_input import ARTICLE, PAGE

pytest.importorskip("inscriptis")


def _line(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.split("\n")) if line.strip().startswith(start))


def test_the_text_is_inscriptis_text_and_each_line_has_its_markup():
    import inscriptis

    text, shares = convert(PAGE)
    assert text == inscriptis.get_text(PAGE)
    assert shares.shape == (len(text.split("\n")), len(KINDS))
    col = {k: shares[:, i] for i, k in enumerate(KINDS)}
    home = _line(text, "* Home")
    assert col["link"][home] == 1.0 and col["nav"][home] == 1.0 and col["header"][home] == 1.0
    body = _line(text, ARTICLE[:20])
    assert col["article"][body] == 1.0 and col["main"][body] == 1.0 and col["link"][body] == 0.0
    assert col["heading"][_line(text, "Harbour reopens")] == 1.0
    assert col["aside"][_line(text, "* Council approves")] == 1.0
    assert col["footer"][_line(text, "Copyright 2025")] == 1.0 and col["link"][_line(text, "Copyright 2025")] == 0.0
    blank = next(i for i, line in enumerate(text.split("\n")) if not line.strip())
    assert not shares[blank].any()


def test_a_partly_linked_line_counts_its_linked_characters():
    text = "Read the full report here"
    spans = [(text.index("full"), len(text), "link")]
    shares = line_shares(text, spans)
    assert shares[0, KINDS.index("link")] == pytest.approx(len("fullreporthere") / len("Readthefullreporthere"))


def test_markup_features_add_the_links_around_and_the_page_flags():
    shares = np.zeros((8, len(KINDS)))
    shares[:4, KINDS.index("link")] = 1.0
    shares[6, KINDS.index("article")] = 1.0
    f = markup_features(shares)
    assert f.shape == (8, MARKUP_DIM)
    assert f[0, len(KINDS)] == 1.0  # lines 0-3 are all links
    assert f[7, len(KINDS)] == 0.0  # lines 4-7: none
    assert (f[:, -3] == 1.0).all() and (f[:, -2] == 0.0).all() and f[0, -1] == pytest.approx(0.5)
    assert markup_features(np.zeros((0, len(KINDS)))).shape == (0, MARKUP_DIM)


def test_html_in_carries_the_markup_to_the_page_and_plain_text_does_not():
    text = html_to_text(PAGE)
    assert isinstance(text, MarkedText) and len(text.line_markup) == len(text.split("\n"))
    page = as_page(text)
    assert page.markup is not None and len(page.markup) == len(page)
    assert as_page(str(text)).markup is None  # any str operation drops it: a scrape again
    assert as_page(text.strip()).markup is None
    # a carriage return in the text makes lines the markup has no row for: no markup
    cr = html_to_text(PAGE.replace("Engineers rebuilt", "Engineers&#13;rebuilt"))
    assert not isinstance(cr, MarkedText) or len(cr.line_markup) == len(cr.split("\n"))


def test_a_page_refuses_markup_of_another_length():
    with pytest.raises(ValueError, match="markup has 1 rows for 2"):
        Page(["a", "b"], np.zeros((1, len(KINDS))))


def _stage(labels, markup, nav_bias=0.0):
    k = len(labels)
    d = feature_dim(k, markup=markup)
    coef = np.zeros((k, d))
    coef[:, :k] = np.eye(k)  # softmax(log p) = p: the first stage's probabilities back
    intercept = np.zeros(k)
    intercept[labels.index("nav")] = nav_bias
    return PageStage(labels, np.zeros(d), np.ones(d), coef, intercept, mix=1.0, markup=markup)


def test_the_markup_stage_decides_html_pages_only(tmp_path):
    model = load_model()
    html = html_to_text(PAGE)
    plain = str(html)
    model.markup_stage = None
    before_html = model.predict([as_page(html)])
    before_text = model.predict([as_page(plain)])
    np.testing.assert_allclose(before_html, before_text)  # without a markup stage, markup is not read
    model.markup_stage = _stage(model.labels, markup=True, nav_bias=50.0)  # calls every HTML line nav
    both = model.predict([as_page(plain), as_page(html), as_page(plain)])
    n = len(as_page(plain))
    np.testing.assert_allclose(both[:n], before_text, atol=1e-9)
    np.testing.assert_allclose(both[2 * n:], before_text, atol=1e-9)
    assert (both[n:2 * n].argmax(axis=1) == model.labels.index("nav")).all()
    # through the file, the Cleaner and the CLI's reader the same
    path = save_model(model, tmp_path / "markup.noiseclf")
    meta = read_meta(path)
    assert meta["markup_stage"]["n_features"] == feature_dim(len(model.labels), markup=True)
    again = load_model(path)
    assert again.markup_stage is not None and again.markup_stage.markup
    np.testing.assert_allclose(again.predict([as_page(html)]), both[n:2 * n], atol=1e-9)
    cleaner = noiseclf.Cleaner(again, drift=False)
    assert cleaner.clean_batch([noiseclf.Scrape(html)])[0].kept == 0
    assert cleaner.clean_batch([noiseclf.Scrape(plain)])[0].kept > 0


def test_a_model_file_without_a_markup_stage_reads_html_through_the_page_stage(tmp_path):
    """Format-3 files (before the markup stage) migrate with none."""
    from trust_support import read_model_zip, write_model_zip

    model = load_model()
    model.markup_stage = None
    meta, blob = read_model_zip(save_model(model, tmp_path / "m.noiseclf"))
    meta["format_version"] = 3
    del meta["markup_stage"]
    old = load_model(write_model_zip(tmp_path / "old.noiseclf", meta, blob))
    assert old.markup_stage is None
    html = html_to_text(PAGE)
    np.testing.assert_allclose(old.predict([as_page(html)]), old.predict([as_page(str(html))]))


def test_a_markup_stage_without_its_arrays_is_refused(tmp_path):
    from trust_support import read_model_zip, write_model_zip
    from noiseclf.errors import ModelError

    model = load_model()
    model.markup_stage = None
    meta, blob = read_model_zip(save_model(model, tmp_path / "m.noiseclf"))
    meta["markup_stage"] = {"type": "LogisticRegression", "n_features": 3, "mix": 0.75}
    with pytest.raises(ModelError, match="no array markup_mean.*retrain"):
        load_model(write_model_zip(tmp_path / "bad.noiseclf", meta, blob))


def test_a_long_html_page_keeps_its_markup_in_every_window(monkeypatch):
    from noiseclf import bounds

    model = load_model()
    model.markup_stage = _stage(model.labels, markup=True, nav_bias=50.0)
    page = as_page(html_to_text(PAGE))
    monkeypatch.setattr(bounds, "WINDOW_LINES", 5)
    monkeypatch.setattr(bounds, "WINDOW_MARGIN", 2)
    proba = model.predict([page])
    assert len(proba) == len(page) > 10
    assert (proba.argmax(axis=1) == model.labels.index("nav")).all()
