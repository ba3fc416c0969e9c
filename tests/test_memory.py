"""Site memory: recurrence across a site's pages, the learned shift, the memory file, clean --site-memory."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from noiseclf.cli import app
from noiseclf.features import Page
from noiseclf.clean import Cleaner, Scrape
from noiseclf.memory import SiteMemory, adjust, fit_weights, load_weights
from noiseclf.modelfile import load_model

MENU = ["Home", "World", "Business", "Sport", "Subscribe to our newsletter"]
FOOT = ["About us", "Contact", "Privacy policy"]


TOPICS = ["moon", "harbour", "election", "orchard", "bridge", "glacier", "museum", "railway", "festival", "forest"]


def page(i: int) -> list[str]:
    t = TOPICS[i]  # (digits would not do: normalisation maps them all to 0)
    body = [f"A headline about the {t}",
            f"The first paragraph tells what happened at the {t} in some detail, with a full stop.",
            f"A second paragraph about the {t} adds quotes and context for the reader."]
    return MENU + [""] + body + [""] + FOOT


def test_recurrence_counts_other_pages_only():
    mem = SiteMemory()
    pages = [Page(page(i)) for i in range(4)]
    for p in pages:
        assert mem.observe("ex", p)
    assert not mem.observe("ex", pages[0])  # the same page twice is counted once
    share, others = mem.recurrence("ex", pages[0])
    assert others == 3
    rows = {pages[0].lines[i]: s for i, s in zip(pages[0].content, share)}
    assert rows["Home"] == 1.0 and rows["Privacy policy"] == 1.0
    assert rows[pages[0].lines[6]] == 0.0  # the story's own lines recur nowhere
    # a page not in the memory: every stored page counts as "other"
    new = Page(page(9))
    share, others = mem.recurrence("ex", new)
    assert others == 4 and share[0] == 1.0
    assert mem.recurrence("other-site", new)[1] == 0


def test_numbers_do_not_hide_recurrence():
    mem = SiteMemory()
    mem.observe("s", Page(["Updated 3 hours ago", "x"]))
    share, _ = mem.recurrence("s", Page(["Updated 5 hours ago", "y"]))
    assert share[0] == 1.0 and share[1] == 0.0


def test_adjust_moves_recurring_lines_towards_noise():
    labels = ("article", "nav")
    proba = np.array([[0.6, 0.4], [0.6, 0.4]])
    w = {"article": (0.0, 0.0), "nav": (1.0, 1.0)}
    out = adjust(proba, np.array([1.0, 0.0]), 3, labels, w)
    assert out[0, 1] > 0.5 > out[1, 1]
    assert np.allclose(out[1], proba[1])
    assert np.allclose(adjust(proba, np.array([1.0, 1.0]), 0, labels, w), proba)  # no other page: no change


def test_fit_weights_learns_the_direction_from_data():
    rng = np.random.default_rng(0)
    n = 4000
    y = rng.integers(0, 2, n)  # 0 article, 1 nav
    share = np.where(y == 1, rng.uniform(0.5, 1.0, n), rng.uniform(0.0, 0.2, n))
    logp = np.log(np.full((n, 2), 0.5))
    g = np.full(n, math.log1p(4))
    w = fit_weights(logp, share, g, y, ("article", "nav"))
    a_nav, b_nav = w["nav"]
    assert w["article"] == [0.0, 0.0]
    assert a_nav + b_nav * math.log1p(4) > 1.0  # recurring lines are pushed to nav


def test_shipped_weights_are_learned_and_push_recurring_lines_to_noise():
    w = load_weights()
    assert set(w) >= {"article", "nav", "footer"}
    g = math.log1p(5)
    shift = {lab: a + b * g for lab, (a, b) in w.items()}
    assert shift["nav"] > shift["article"] and shift["footer"] > shift["article"]


def test_memory_file_round_trip_and_bad_file(tmp_path):
    mem = SiteMemory()
    mem.observe("ex", Page(page(1)))
    path = mem.save(tmp_path / "m.json")
    again = SiteMemory.load(path)
    assert again.summary() == {"ex": 1}
    assert "Home" not in path.read_text()  # hashes only, no page text
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(Exception, match="bad.json"):
        SiteMemory.load(tmp_path / "bad.json")
    assert SiteMemory.load(tmp_path / "missing.json").summary() == {}


def test_site_context_uses_the_run(tmp_path):
    model = load_model()
    model.meta["site_memory"] = {"weights": {"article": (0.0, 0.0), "nav": (5.0, 1.0), "footer": (0.0, 0.0),
                                             "related-story": (0.0, 0.0), "ad": (0.0, 0.0)}}
    texts = ["\n".join(page(i)) + "\n" for i in range(5)]
    with_mem = [r.verdicts for r in Cleaner(model, verdicts=True).clean([Scrape(t, site="ex") for t in texts])]
    plain = model.classify_many(texts)
    home_with = [v for v in with_mem[0] if v.text == "Home"][0]
    home_plain = [v for v in plain[0] if v.text == "Home"][0]
    assert home_with.label == "nav"
    assert home_with.label != home_plain.label or home_with.probability > home_plain.probability


def test_clean_site_memory_is_kept_between_runs(tmp_path):
    site = tmp_path / "example"
    site.mkdir()
    for i in range(3):
        (site / f"p{i}.txt").write_text("\n".join(page(i)) + "\n")
    mem = tmp_path / "memory.json"
    runner = CliRunner()
    r = runner.invoke(app, ["clean", str(site / "p0.txt"), str(site / "p1.txt"), "--site-memory", str(mem), "--site-per-folder"])
    assert r.exit_code == 0, r.output
    data = json.loads(mem.read_text())
    assert data["sites"]["example"]["pages_seen"] == 2
    r = runner.invoke(app, ["clean", str(site / "p2.txt"), "--site-memory", str(mem), "--site-per-folder"])
    assert r.exit_code == 0
    assert json.loads(mem.read_text())["sites"]["example"]["pages_seen"] == 3
    # cleaning a page again does not count it twice
    runner.invoke(app, ["clean", str(site / "p2.txt"), "--site-memory", str(mem), "--site-per-folder"])
    assert json.loads(mem.read_text())["sites"]["example"]["pages_seen"] == 3
    r = runner.invoke(app, ["clean", str(site / "p2.txt"), "--site-memory", str(mem), "--site", "other"])
    assert set(json.loads(mem.read_text())["sites"]) == {"example", "other"}


def test_clean_refuses_a_broken_memory_file(tmp_path):
    bad = tmp_path / "m.json"
    bad.write_text('{"format": "something else"}')
    f = tmp_path / "p.txt"
    f.write_text("\n".join(page(1)))
    r = CliRunner().invoke(app, ["clean", str(f), "--site-memory", str(bad), "--site", "example"])
    assert r.exit_code == 1 and "m.json" in r.output and "Traceback" not in r.output
    assert bad.read_text() == '{"format": "something else"}'
