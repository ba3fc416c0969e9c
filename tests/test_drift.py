"""Drift: unfamiliar scrapes are named by clean, and check ranks files worth labelling."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from noiseclf.cli import app
from noiseclf import drift
from noiseclf.drift import PageStats, calibrate, judge, page_stats, rank, thresholds_for
from noiseclf.labels import load_labels
from noiseclf.model import Verdict
from noiseclf.modelfile import load_model

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))

# A scrape that looks like nothing the model has seen: a table of numbers and symbols.
ODD = "\n".join(f"{i:04d} ;; {i * 7 % 13} || {i * 3 % 11} ## {'x' * (i % 5)}" for i in range(60)) + "\n"


def test_page_stats_and_judge():
    v = [Verdict(1, "a", "article", 0.9), Verdict(2, "", None, None), Verdict(3, "b", "nav", 0.3)]
    s = page_stats("p", v, unsure_below=0.5)
    assert s.lines == 2 and abs(s.mean_confidence - 0.6) < 1e-9 and s.article_share == 0.5
    assert s.unsure_share == 0.5 and abs(s.expected_errors - 0.8) < 1e-9
    th = {"confidence_floor": 0.7, "article_share_low": 0.0, "article_share_high": 0.9, "unsure_below": 0.5}
    assert judge(s, th).unfamiliar and "mean confidence" in s.reasons[0]


def test_rank_puts_unfamiliar_and_uncertain_first_one_site_at_a_time():
    a = PageStats("a1", 10, 0.9, 0.3, 0.0, 5.0, site="A")
    a2 = PageStats("a2", 10, 0.9, 0.3, 0.0, 4.0, site="A")
    b = PageStats("b1", 10, 0.9, 0.3, 0.0, 3.0, site="B")
    c = PageStats("c1", 10, 0.5, 0.3, 0.0, 1.0, site="C", unfamiliar=True)
    assert [s.name for s in rank([a, a2, b, c])] == ["c1", "a1", "b1", "a2"]


def test_calibrate_derives_thresholds_from_data():
    model = load_model()
    th = calibrate(model, load_labels([ROOT / "labels"]))
    assert 0 < th["confidence_floor"] <= th["reference"]["mean_confidence_median"] <= 1
    assert th["article_share_low"] <= th["reference"]["article_share_median"] <= th["article_share_high"]
    assert th["reference"]["pages"] == 5


def test_thresholds_come_from_the_model_first():
    model = load_model()
    model.meta["drift"] = {"confidence_floor": 0.99, "article_share_low": 0.0, "article_share_high": 1.0,
                           "unsure_below": 0.5}
    assert thresholds_for(model)["source"] == "model metadata"


def test_check_ranks_files_and_flags_the_odd_one(tmp_path):
    odd = tmp_path / "odd" / "table.txt"
    odd.parent.mkdir()
    odd.write_text(ODD)
    model = load_model()
    th = thresholds_for(model)
    r = CliRunner().invoke(app, ["check", *map(str, SEEDS[:3]), str(odd), "--json"])
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["rank"] for x in rows] == [1, 2, 3, 4]
    by_name = {Path(x["name"]).name: x for x in rows}
    seeds_conf = [by_name[p.name]["mean_confidence"] for p in SEEDS[:3]]
    assert by_name["table.txt"]["mean_confidence"] < min(seeds_conf)
    assert all(not by_name[p.name]["unfamiliar"] for p in SEEDS[:3])  # the training pages look familiar
    assert by_name["table.txt"]["unfamiliar"] == (by_name["table.txt"]["mean_confidence"] < th["confidence_floor"]
                                                  or not th["article_share_low"] <= by_name["table.txt"]["article_share"] <= th["article_share_high"])


def test_check_table_and_bad_file(tmp_path):
    r = CliRunner().invoke(app, ["check", str(SEEDS[0]), str(tmp_path / "missing.txt")])
    assert r.exit_code == 1
    assert "missing.txt" in r.stderr and "exp.wrong" in r.stdout and "Traceback" not in r.output


def test_clean_names_unfamiliar_scrapes_on_stderr(tmp_path):
    model = load_model()
    model_path = tmp_path / "strict.noiseclf"
    model.meta["drift"] = {"confidence_floor": 0.999, "article_share_low": 0.0, "article_share_high": 1.0,
                           "unsure_below": 0.5}
    model.save(model_path)
    odd = tmp_path / "table.txt"
    odd.write_text(ODD)
    r = CliRunner().invoke(app, ["clean", str(odd), "--model", str(model_path)])
    assert r.exit_code == 0
    assert "unfamiliar" in r.stderr and "table.txt" in r.stderr
    assert "unfamiliar" not in r.stdout
    model.meta["drift"]["confidence_floor"] = 0.0
    model.save(model_path)
    r = CliRunner().invoke(app, ["clean", str(SEEDS[0]), "--model", str(model_path)])
    assert "unfamiliar" not in r.stderr


# -- reasons state true comparisons; short pages are not judged; nothing empty is recommended --

_COMPARISON = re.compile(r"(-?\d+(?:\.\d+)?)(%?) ([<>]) (-?\d+(?:\.\d+)?)(%?)")


def _comparison_holds(reason: str) -> bool:
    m = _COMPARISON.search(reason)
    assert m, reason
    left, lp, op, right, rp = m.groups()
    assert lp == rp, reason  # both sides in the same unit
    a, b = float(left), float(right)
    return a < b if op == "<" else a > b


@pytest.mark.parametrize("conf, share, th", [
    (0.6151, 0.3, {"confidence_floor": 0.6155}),            # 0.62 < 0.62 with two decimals
    (0.61549, 0.3, {"confidence_floor": 0.6155}),
    (0.5, 0.3, {"confidence_floor": 0.7831}),
    (0.9, 0.9712, {"article_share_high": 0.9705}),         # 97% > 97% as a whole percent
    (0.9, 0.0402, {"article_share_low": 0.0405}),          # 4% < 4%
    (0.9, 0.71391, {"article_share_high": 0.7139}),
])
def test_reasons_never_state_a_false_comparison(conf, share, th):
    th = {"confidence_floor": 0.6, "article_share_low": 0.0, "article_share_high": 0.97, "unsure_below": 0.5, **th}
    s = judge(PageStats("p", 50, conf, share, 0.1, 5.0), th)
    assert s.unfamiliar and s.reasons
    for reason in s.reasons:
        assert _comparison_holds(reason), reason


def test_check_table_states_true_comparisons(tmp_path):
    model = load_model()
    r = CliRunner().invoke(app, ["check", str(SEEDS[0]), "--json"])
    conf = json.loads(r.stdout)["mean_confidence"]
    model.meta["drift"] = {"confidence_floor": round(conf + 0.0003, 4), "article_share_low": 0.0,
                           "article_share_high": 1.0, "unsure_below": 0.5}
    model_path = tmp_path / "m.noiseclf"
    model.save(model_path)
    r = CliRunner().invoke(app, ["check", str(SEEDS[0]), "--model", str(model_path)])
    assert r.exit_code == 0, r.output
    assert "unfamiliar: mean confidence" in r.stdout
    reason = r.stdout.split("unfamiliar: ", 1)[1].splitlines()[0]
    assert _comparison_holds(reason), reason
    # the summary states the threshold as it is, not rounded past it
    assert f"mean confidence < {model.meta['drift']['confidence_floor']}" in r.stderr


def test_a_page_too_short_to_judge_is_never_unfamiliar():
    th = {"confidence_floor": 0.99, "article_share_low": 0.4, "article_share_high": 0.5, "unsure_below": 0.5}
    for n in range(1, drift.MIN_JUDGED_LINES):
        v = [Verdict(i, "x", "article", 0.3) for i in range(1, n + 1)]
        s = judge(page_stats("p", v), th)
        assert not s.unfamiliar and s.reasons == (), n
    v = [Verdict(i, "x", "article", 0.3) for i in range(1, drift.MIN_JUDGED_LINES + 1)]
    assert judge(page_stats("p", v), th).unfamiliar  # from MIN_JUDGED_LINES lines on, judged


def test_one_line_file_is_not_called_unfamiliar_by_clean_or_check(tmp_path):
    model = load_model()
    model.meta["drift"] = {"confidence_floor": 0.999, "article_share_low": 0.0, "article_share_high": 1.0,
                           "unsure_below": 0.5}
    model_path = tmp_path / "strict.noiseclf"
    model.save(model_path)
    one = tmp_path / "one.txt"
    one.write_text("Subscribe to our newsletter\n")
    r = CliRunner().invoke(app, ["clean", str(one), "--model", str(model_path)])
    assert r.exit_code == 0 and "unfamiliar" not in r.stderr, r.stderr
    r = CliRunner().invoke(app, ["check", str(one), "--model", str(model_path), "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["unfamiliar"] is False
    r = CliRunner().invoke(app, ["check", str(one), "--model", str(model_path)])
    assert "0 look unfamiliar" in r.stderr and "<- unfamiliar" not in r.stdout
    odd = tmp_path / "table.txt"  # a long page is still judged with the same model
    odd.write_text(ODD)
    r = CliRunner().invoke(app, ["clean", str(odd), "--model", str(model_path)])
    assert "unfamiliar" in r.stderr


def test_check_never_recommends_a_file_without_lines(tmp_path):
    empty, blank = tmp_path / "empty.txt", tmp_path / "blank.txt"
    empty.write_text("")
    blank.write_text("\n   \n\t\n")
    r = CliRunner().invoke(app, ["check", str(empty), str(blank)])
    assert r.exit_code == 0, r.output
    assert "noiseclf label" not in r.stderr
    assert "no non-blank lines" in r.stderr
    r = CliRunner().invoke(app, ["check", str(empty), str(SEEDS[0])])
    assert f"worth labelling next: noiseclf label {SEEDS[0]}" in r.stderr


def test_rank_puts_pages_without_lines_last():
    empty = PageStats("e", 0, 1.0, 0.0, 0.0, 0.0, site="E")
    tiny = PageStats("t", 1, 0.9, 1.0, 0.0, 0.0, site="T")  # expected errors rounded to 0, but a real line
    assert [s.name for s in rank([empty, tiny])] == ["t", "e"]


def test_cleaner_judges_a_page_as_check_does_from_its_verdicts():
    # The Cleaner computes the statistics from its arrays, without building a
    # Verdict per line; they must be the ones the verdicts give.
    from noiseclf.clean import Cleaner, Scrape

    model = load_model()
    texts = [p.read_text(encoding="utf-8") for p in SEEDS] + [ODD]
    cleaner = Cleaner(model, verdicts=True)
    results = list(cleaner.clean(Scrape(t, name=f"p{i}") for i, t in enumerate(texts)))
    th = cleaner.thresholds
    for r in results:
        want = judge(page_stats(r.name, r.verdicts, th["unsure_below"], ""), th)
        assert r.stats.as_record() == want.as_record()
    assert len(results) == len(texts) and all(r.stats.lines > 0 for r in results)
