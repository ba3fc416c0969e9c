"""The shipped model labels the seeds and corpus-style scrapes as it did before
the package was restructured (tests/fixtures/shipped_predictions.json)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import ROOT

GOLDEN = json.loads((ROOT / "tests" / "fixtures" / "shipped_predictions.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_labels_and_probabilities_are_unchanged(shipped_model, name):
    text = (ROOT / name).read_text(encoding="utf-8")
    want = GOLDEN[name]
    assert list(shipped_model.labels) == want["labels"]
    verdicts = [v for v in shipped_model.classify_text(text) if v.label is not None]
    assert [[v.line, v.label] for v in verdicts] == [r[:2] for r in want["rows"]]
    expected = np.array([r[2:] for r in want["rows"]])
    got_top = np.array([v.probability for v in verdicts])
    assert np.abs(got_top - expected.max(axis=1)).max() < 2e-6
    # what is kept: the article lines, less those the page-relative drop takes (noiseclf.model.decide)
    from noiseclf.model import as_page, decide

    keep = decide(expected, want["labels"], pages=[as_page(text)], relative_drop=shipped_model.relative_drop).keep
    kept = shipped_model.clean(text)
    assert [line for line in kept.split("\n") if line.strip()] == [v.text for v, k in zip(verdicts, keep) if k]
