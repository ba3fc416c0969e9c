"""The page-relative drop (noiseclf.model.decide, Settings.relative_drop): a kept line far below
its page's prose is dropped; short lines, pages with little prose and old model files are left alone."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import noiseclf
from conftest import ROOT, SEEDS
from noiseclf.cli import app
from noiseclf.features import Page
from noiseclf.model import DROP_MIN_WORDS, REFERENCE_LINES, REFERENCE_WORDS, as_page, decide
from noiseclf.modelfile import read_meta, save_model
from noiseclf.settings import Settings

LABELS = ("article", "nav", "related-story", "ad", "footer")
PROSE = " ".join(["word"] * REFERENCE_WORDS)  # a line long enough to be the page's prose
TEASER = " ".join(["other"] * max(DROP_MIN_WORDS, 8))
HEADING = " ".join(["Head"] * (DROP_MIN_WORDS - 1))  # too short to be dropped by the rule


def rows(article: list[float]) -> np.ndarray:
    """Probabilities with the given article column, the rest spread evenly over the other labels."""
    a = np.asarray(article, dtype=float)[:, None]
    return np.hstack([a, np.repeat((1 - a) / 4, 4, axis=1)])


def test_a_teaser_far_below_the_pages_prose_is_dropped_and_keeps_its_label():
    page = Page([PROSE] * 4 + [TEASER, HEADING])
    proba = rows([0.99, 0.98, 0.99, 0.97, 0.55, 0.45])
    plain = decide(proba, LABELS, pages=[page])  # no relative_drop: the most probable label decides
    assert plain.keep.tolist() == [True] * 6
    d = decide(proba, LABELS, pages=[page], relative_drop=0.4)
    assert d.keep.tolist() == [True] * 4 + [False, True]  # the heading is short: never dropped by the rule
    assert (d.best == plain.best).all()  # labels do not change, only what is kept


def test_the_drop_is_relative_to_each_page():
    prose_high = Page([PROSE] * 3 + [TEASER])
    prose_low = Page([PROSE] * 3 + [TEASER])  # a grid of items: every kept line at about 0.6
    proba = np.vstack([rows([0.99, 0.99, 0.99, 0.55]), rows([0.62, 0.6, 0.64, 0.55])])
    d = decide(proba, LABELS, pages=[prose_high, prose_low], relative_drop=0.4)
    assert d.keep.tolist() == [True, True, True, False] + [True] * 4


def test_too_little_prose_leaves_the_page_alone():
    page = Page([PROSE] * (REFERENCE_LINES - 1) + [TEASER])
    d = decide(rows([0.99] * (REFERENCE_LINES - 1) + [0.51]), LABELS, pages=[page], relative_drop=0.4)
    assert d.keep.all()


def test_the_level_is_the_median_by_words_of_the_kept_prose():
    long_line = " ".join(["word"] * (REFERENCE_WORDS * 5))
    # most of the prose's words are in the 0.7 line, so the level is 0.7 and 0.5 is within 0.4 of it
    page = Page([long_line, PROSE, PROSE, TEASER])
    d = decide(rows([0.7, 0.99, 0.99, 0.5]), LABELS, pages=[page], relative_drop=0.4)
    assert d.keep.all()
    d = decide(rows([0.7, 0.99, 0.99, 0.29]), LABELS, pages=[page], relative_drop=0.4)
    assert d.keep.tolist() == [True, True, True, False]


def test_kept_labels_together_set_the_probability():
    page = Page([PROSE] * 3 + [TEASER])
    proba = rows([0.99, 0.99, 0.99, 0.3])
    proba[3] = [0.3, 0.05, 0.6, 0.03, 0.02]  # a teaser: related-story, kept with --keep article,related-story
    d = decide(proba, LABELS, keep=("article", "related-story"), pages=[page], relative_drop=0.4)
    assert d.keep.all()  # 0.9 together: within 0.4 of the prose


def test_pages_must_cover_the_rows():
    with pytest.raises(ValueError):
        decide(rows([0.99] * 5), LABELS, pages=[Page([PROSE] * 3)], relative_drop=0.4)


def test_the_shipped_model_carries_the_setting_and_an_older_file_cleans_as_before(shipped_model, tmp_path):
    assert shipped_model.relative_drop == Settings.relative_drop
    assert read_meta(noiseclf.modelfile.default_model_path())["options"]["relative_drop"] == Settings.relative_drop
    older = noiseclf.load_model()
    del older.meta["options"]["relative_drop"]  # as every model file written before the rule
    save_model(older, tmp_path / "older.noiseclf")
    older = noiseclf.load_model(tmp_path / "older.noiseclf")
    assert older.relative_drop is None
    text = (ROOT / "tests" / "fixtures" / "corpus_style" / "wcxb_0006_html-text.txt").read_text(encoding="utf-8")
    assert older.clean(text) == shipped_model.clean(text, page_relative=False)


def test_it_only_ever_drops_lines_and_keeps_every_seed_article_line(shipped_model, seed_scrapes):
    for path in sorted((ROOT / "tests" / "fixtures" / "corpus_style").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        page = as_page(text)  # the page classify_text makes (a final newline ends the last line)
        on, off = shipped_model.classify_text(text), shipped_model.verdicts(
            [page], shipped_model.predict([page]), page_relative=False)[0]
        assert all(a.label == b.label for a, b in zip(on, off))
        assert all(b.keep or not a.keep for a, b in zip(on, off))  # kept with the rule: kept without it
    for s in seed_scrapes:
        verdicts = shipped_model.classify(s.lines)
        assert all(verdicts[i].keep for i, lab in enumerate(s.labels) if lab == "article")


def test_no_page_relative_on_the_command_line(shipped_model):
    path = ROOT / "tests" / "fixtures" / "corpus_style" / "wcxb_0006_html-text.txt"
    text = path.read_text(encoding="utf-8")
    on = CliRunner().invoke(app, ["clean", str(path)])
    off = CliRunner().invoke(app, ["clean", str(path), "--no-page-relative"])
    assert on.exit_code == 0 and off.exit_code == 0
    assert on.stdout == shipped_model.clean(text) and off.stdout == shipped_model.clean(text, page_relative=False)
    assert len(on.stdout.splitlines()) < len(off.stdout.splitlines())  # this page has teasers below its prose
    seed = SEEDS / "003_961445eb337fe995.txt"
    jsonl = CliRunner().invoke(app, ["clean", str(seed), "--no-page-relative", "--format", "jsonl"])
    assert jsonl.exit_code == 0 and '"keep": true' in jsonl.stdout


def test_the_reports_kept_accuracy_is_keep_drop_by_label_when_the_rule_is_off(shipped_model, tmp_path):
    from training.report import gold_check

    older = noiseclf.load_model()
    del older.meta["options"]["relative_drop"]
    off = gold_check(older, ROOT / "training" / "gold")
    assert off["kept_accuracy"] == pytest.approx(off["keep_drop_accuracy"])
    on = gold_check(shipped_model, ROOT / "training" / "gold")
    assert on["keep_drop_accuracy"] == pytest.approx(off["keep_drop_accuracy"])  # labels do not change
    assert on["kept_accuracy"] != on["keep_drop_accuracy"]  # the rule drops some of these pages' lines
