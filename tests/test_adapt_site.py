"""Site-scoped adaptation: what a site's labels teach applies to that site's pages only.

Hand-labelled data from the repository only: the gold set's multi-page sites
(training/gold), the seeds (labels/, seeds/) and the shipped harm sample.
"""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from noiseclf import siteprofile as SP
from noiseclf.adapt import adapt_site, fit_profile, site_groups
from noiseclf.clean import Cleaner, Scrape
from noiseclf.cli import app
from noiseclf.errors import ModelError
from noiseclf.features import Page
from noiseclf.harmcheck import harm_check, load_sample
from noiseclf.labels import load_labels
from noiseclf.modelfile import load_model, save_model
from noiseclf.train import pages_and_targets
from training.gold import labels_path, read_manifest

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "training" / "gold"
LABELS = ROOT / "labels"
SITE = "upliftdesk.com"  # gold pages 0602 (product), 0640 and 0643 (collections)
TRAIN_IDS, HELD_ID = ("0602", "0640"), "0643"


ROWS = {r["file_id"]: r for r in read_manifest(GOLD)}


def gold(fid):
    return load_labels([labels_path(GOLD, ROWS[fid])], [GOLD / "scrapes"])[0]


def keep_accuracy(model, scrape, site=None):
    pages, y = pages_and_targets([scrape])
    pred = np.array(model.labels, dtype=object)[model.predict(pages, sites=[site]).argmax(axis=1)]
    return float(np.mean((pred == "article") == (y == "article")))


@pytest.fixture(scope="module")
def base():
    return load_model()


@pytest.fixture(scope="module")
def taught(base):
    labelled = [gold(f) for f in TRAIN_IDS]
    model, report = adapt_site(base, labelled, [((SITE,), labelled)])
    return model, report, labelled


@pytest.fixture(scope="module")
def others():
    """Pages of other sites: the seeds and the gold set's single-page sites."""
    return load_labels([LABELS]) + [gold(f) for f, r in ROWS.items() if not r["site_group"]][:20]


def test_masked_lines_match_across_numbers_and_dates():
    assert SP.mask_line("March 3, 2024 10:42 AM") == SP.mask_line("Apr 15, 2025 9:05 AM")
    assert SP.mask_line("Updated 3 hours ago") == SP.mask_line("Updated 12 hours ago")
    assert SP.mask_line("Home") != SP.mask_line("About us")
    assert SP.site_key("https://www.Example.com/a/b") == "example.com" == SP.site_key("www.example.com")


def test_the_site_learns_from_two_pages(base, taught):
    model, report, _ = taught
    held = gold(HELD_ID)
    before = keep_accuracy(base, held)
    after = keep_accuracy(model, held, SITE)
    assert before < 0.7 and after > 0.9, (before, after)
    # the same with the site said as a URL host, or not said at all (recognised by its menus)
    assert keep_accuracy(model, held, "https://www.upliftdesk.com/standing-desks/") == after
    assert keep_accuracy(model, held, None) == after


def same(a, b) -> bool:
    """The same probabilities (the featuriser's compiled kernel and numpy path agree to rounding)."""
    return np.allclose(a, b, rtol=0, atol=1e-9) and np.array_equal(a.argmax(axis=1), b.argmax(axis=1))


def test_other_sites_get_the_base_models_labels_exactly(base, taught, others):
    model, _, _ = taught
    pages = [Page(s.lines) for s in others]
    expected = base.predict(pages)
    assert same(model.predict(pages), expected)  # no site said
    assert same(model.predict(pages, sites=["example.org"] * len(pages)), expected)
    assert same(model.predict(pages, sites=[None] * len(pages)), expected)
    assert all(SP.choose(model.profiles, SP.line_keys(p), None) is None for p in pages)


def test_recognition_by_share_or_by_many_template_lines():
    labels = ("article", "nav", "related-story", "ad", "footer")
    menu = [f"{i:016x}" for i in range(70)]  # one labelled page: 70 menu lines, 10 article lines
    prof = SP.SiteProfile((), labels, [SP.SitePage("p", menu + [f"{i + 500:016x}" for i in range(10)],
                                                   [1] * 70 + [0] * 10)])

    def page(shared, new):
        return menu[:shared] + [f"{i + 1000:016x}" for i in range(new)]

    assert SP.choose([prof], page(20, 80), None) == 0  # 20 % of its lines
    assert SP.choose([prof], page(70, 480), None) == 0  # 70 lines, 13 %: a long page under big menus
    assert SP.choose([prof], page(30, 320), None) is None  # 30 lines, 9 %: what other sites reach
    assert SP.choose([prof], page(9, 1), None) is None  # too few lines, whatever the share


def test_a_page_said_to_be_of_another_site_is_not_recognised(taught):
    model, _, _ = taught
    held = gold(HELD_ID)
    page = Page(held.lines)
    assert not np.array_equal(model.predict([page], sites=["other.example"]), model.predict([page], sites=[SITE]))
    assert SP.choose(model.profiles, SP.line_keys(page), "other.example") is None
    assert SP.choose(model.profiles, SP.line_keys(page), None) == 0


def test_the_users_own_pages_are_fitted(taught):
    _, report, _ = taught
    assert report["new_data_fit"]["after"]["accuracy"] >= 0.98
    assert report["new_data_fit"]["before"]["accuracy"] < 0.7  # the base is far from them: the fit has work to do
    assert report["new_data_holdout"]["keep_accuracy_after"] > report["new_data_holdout"]["keep_accuracy_before"]


def test_labelled_line_memory_carries_labels_to_other_pages(base):
    """A menu line labelled on one page is labelled so on another page of the site."""
    labelled = [gold("0602")]
    prof = fit_profile(base, labelled, ("upliftdesk.com",))
    held = gold("0643")
    keys = SP.line_keys(Page(held.lines))
    hits = [j for j, k in enumerate(keys) if k in prof.memory]
    assert len(hits) >= 10


def test_model_file_round_trip_keeps_the_profiles(tmp_path, taught, others):
    model, _, _ = taught
    path = save_model(model, tmp_path / "site.noiseclf")
    again = load_model(path)
    assert len(again.profiles) == 1 and again.profiles[0].names == (SITE,)
    held = Page(gold(HELD_ID).lines)
    assert np.allclose(again.predict([held], sites=[SITE]), model.predict([held], sites=[SITE]))
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read("meta.json"))
        text = zf.read("meta.json").decode()
    assert meta["site_profiles"]["profiles"][0]["names"] == [SITE]
    assert "Standing desks" not in text  # hashes of lines, no text
    assert meta["adaptation"]["scope"] == "site"
    # every labelled line's shape (base log-probabilities, words) is kept, as numbers
    lines = sum(len(sp.labels) for sp in model.profiles[0].pages)
    assert meta["site_profiles"]["profiles"][0]["points"] == lines
    for a, b in zip(again.profiles[0].pages, model.profiles[0].pages):
        assert np.array_equal(a.points, b.points) and a.points.dtype == b.points.dtype
        assert a.points.shape == (len(a.labels), len(model.labels) + 1)
    assert same(again.predict([held], sites=[SITE]), model.predict([held], sites=[SITE]))


def test_a_model_without_profiles_is_written_as_before(tmp_path, base):
    path = save_model(base, tmp_path / "plain.noiseclf")
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read("meta.json"))
        names = zf.namelist()
    assert "site_profiles" not in meta and names == ["meta.json", "arrays.npz"]
    assert load_model(path).profiles == []


def _rewrite_meta(src: Path, dst: Path, change) -> None:
    with zipfile.ZipFile(src) as zin:
        meta = json.loads(zin.read("meta.json"))
        blob = zin.read("arrays.npz")
    change(meta)
    with zipfile.ZipFile(dst, "w") as zout:
        zout.writestr("meta.json", json.dumps(meta))
        zout.writestr("arrays.npz", blob)


def test_damaged_profiles_are_refused(tmp_path, taught):
    model, _, _ = taught
    good = save_model(model, tmp_path / "good.noiseclf")

    def bad_keys(meta):
        meta["site_profiles"]["profiles"][0]["pages"][0]["keys"] = "zz" * 8

    def bad_labels(meta):
        p = meta["site_profiles"]["profiles"][0]["pages"][0]
        p["labels"] = "9" * len(p["labels"])

    def bad_size(meta):
        meta["site_profiles"]["profiles"][0]["adapter_columns"] = 7  # arrays the file does not hold

    def bad_points(meta):
        meta["site_profiles"]["profiles"][0]["points"] += 1  # more shape rows than labelled lines

    for i, change in enumerate((bad_keys, bad_labels, bad_size, bad_points)):
        bad = tmp_path / f"bad{i}.noiseclf"
        _rewrite_meta(good, bad, change)
        with pytest.raises(ModelError, match=f"bad{i}.noiseclf"):
            load_model(bad)


def test_a_version_1_profile_without_shapes_still_loads(tmp_path, taught):
    """Files written before the shape evidence: their profiles work from alignment and memory."""
    from dataclasses import replace

    from noiseclf.adapt import with_profiles

    model, _, _ = taught
    old = with_profiles(model, [SP.SiteProfile(p.names, p.labels, [replace(sp, points=None) for sp in p.pages],
                                               p.cols, p.delta, p.bias, info=p.info) for p in model.profiles],
                        model.site_stage)

    def as_version_1(meta):
        meta["site_profiles"]["version"] = 1
        for p in meta["site_profiles"]["profiles"]:
            assert p.pop("points") == 0

    v1 = tmp_path / "v1.noiseclf"
    _rewrite_meta(save_model(old, tmp_path / "old.noiseclf"), v1, as_version_1)
    again = load_model(v1)
    held = gold(HELD_ID)
    page = Page(held.lines)
    assert again.profiles[0].shapes() is None
    assert np.allclose(again.predict([page], sites=[SITE]), old.predict([page], sites=[SITE]))
    assert not np.allclose(again.predict([page], sites=[SITE]), model.predict([page], sites=[SITE]))
    assert keep_accuracy(again, held, SITE) > 0.85


def test_shape_evidence_labels_new_lines_like_the_labelled_lines_of_their_shape():
    """A line the labelled pages do not have gets the labels of the labelled lines most like it."""
    labels = ("article", "nav", "related-story", "ad", "footer")
    K = len(labels)

    def logp(p_article, n):
        rows = np.full((n, K), np.log((1 - p_article) / (K - 1)))
        rows[:, 0] = np.log(p_article)
        return rows

    # one labelled page: 20 short menu lines (nav), then 20 long lines (article)
    points = np.column_stack([np.vstack([logp(0.3, 20), logp(0.9, 20)]), np.r_[np.full(20, 2), np.full(20, 30)]])
    page = SP.SitePage("p", [f"{i:016x}" for i in range(40)], [1] * 20 + [0] * 20, points.astype(np.float32))
    prof = SP.SiteProfile(("example.com",), labels, [page])
    # a new page sharing no line with it: ten short lines at the top, ten long ones below
    q, words = np.vstack([logp(0.35, 10), logp(0.85, 10)]), np.r_[np.full(10, 3), np.full(10, 25)]
    keys = [f"{i + 100:016x}" for i in range(20)]
    g = SP.GROUPS.index("knn") * K
    shape = SP.features(prof, keys, q, None, words)[:, g:g + K]
    assert (shape[:10].argmax(axis=1) == 1).all() and (shape[10:].argmax(axis=1) == 0).all()
    assert np.allclose(shape.sum(axis=1), 1.0)
    assert not SP.features(prof, keys, q, None)[:, g:g + K].any()  # no words given: no shape evidence


def test_an_adapter_round_trips_and_only_moves_its_site(tmp_path, base, others):
    labelled = [gold(f) for f in TRAIN_IDS]
    from noiseclf.adapt import ProfileOptions

    model, _ = adapt_site(base, labelled, [((SITE,), labelled)], options=ProfileOptions(adapter=True, max_iter=30),
                          holdout=False)
    assert model.profiles[0].has_adapter
    again = load_model(save_model(model, tmp_path / "a.noiseclf"))
    held = Page(gold(HELD_ID).lines)
    assert np.allclose(again.predict([held], sites=[SITE]), model.predict([held], sites=[SITE]), atol=1e-5)
    pages = [Page(s.lines) for s in others[:5]]
    assert same(again.predict(pages), base.predict(pages))


def test_the_cleaner_passes_each_pages_site(taught):
    model, _, _ = taught
    held = gold(HELD_ID)
    text = "\n".join(held.lines) + "\n"
    by_site = Cleaner(model, verdicts=True, drift=False).clean_batch(
        [Scrape(text, site=SITE), Scrape(text, url="https://upliftdesk.com/standing-desks/"),
         Scrape(text, site="other.example")])
    labels = [[v.label for v in r.verdicts] for r in by_site]
    assert labels[0] == labels[1] != labels[2]
    assert labels[2] == [v.label for v in load_model().classify(held.lines)]


def test_pages_are_grouped_into_sites_by_their_template(base):
    a, b = gold("0602"), gold("0640")
    c = gold("0161")  # npr.org
    groups = site_groups([a, b, c])
    assert sorted(len(g) for _, g in groups) == [1, 2] and all(names == () for names, _ in groups)
    assert site_groups([a, c], site="x.com") == [(("x.com",), [a, c])]


def test_harm_check_sees_no_change_for_a_site_profile(base, taught):
    model, _, labelled = taught
    h = harm_check(base, model, [s.lines for s in labelled])
    assert h["pages"] >= 40 and h["lines"] > 3000
    assert h["lines_changed"] == 0 and not h["worse"]
    assert len(load_sample()) == 49


def test_train_cli_site_scope_writes_a_model_quickly(tmp_path):
    d = tmp_path / "labels"
    d.mkdir()
    for f in TRAIN_IDS:
        shutil.copy(labels_path(GOLD, ROWS[f]), d)
        shutil.copy(GOLD / "scrapes" / f"{f}.txt", d)
    out = tmp_path / "m.noiseclf"
    t0 = time.perf_counter()
    res = CliRunner().invoke(app, ["train", "--labels", str(d), "--out", str(out), "--site", SITE])
    seconds = time.perf_counter() - t0
    assert res.exit_code == 0, res.output
    assert "site profile for upliftdesk.com" in res.output
    assert "check on the shipped sample" in res.output and "0 line(s) change" in res.output
    assert load_model(out).profiles[0].names == (SITE,)
    assert seconds < 30  # 2-4 s on an idle machine; the budget for the whole command is 10 s


def test_train_cli_refuses_a_model_that_harms_the_sample(tmp_path):
    """Two pages whose every line is labelled article (a careless user: menus, footers and all),
    fine-tuned globally, would keep other sites' menus: the harm check refuses the model."""
    d = tmp_path / "labels"
    d.mkdir()
    for f in TRAIN_IDS:
        records = [json.loads(x) for x in labels_path(GOLD, ROWS[f]).read_text(encoding="utf-8").splitlines() if x]
        (d / f"{f}.jsonl").write_text("".join(json.dumps({**r, "label": "article"}, ensure_ascii=False) + "\n"
                                              for r in records), encoding="utf-8")
        shutil.copy(GOLD / "scrapes" / f"{f}.txt", d)
    out = tmp_path / "g.noiseclf"
    res = CliRunner().invoke(app, ["train", "--labels", str(d), "--out", str(out), "--scope", "global", "--no-cv"])
    assert res.exit_code == 1, res.output
    assert "not written" in res.output and "--force" in res.output and not out.exists()
    res = CliRunner().invoke(app, ["train", "--labels", str(d), "--out", str(out), "--scope", "global", "--no-cv",
                                   "--force"])
    assert res.exit_code == 0, res.output
    assert out.exists() and load_model(out).meta["adaptation"]["scope"] == "global"


def test_train_cli_names_contradicting_labels(tmp_path):
    d = tmp_path / "labels"
    d.mkdir()
    name = "000_4242c970553a3e99"
    records = [json.loads(x) for x in (LABELS / f"{name}.jsonl").read_text().splitlines() if x]
    for copy, flip in (("a", False), ("b", True)):
        shutil.copy(ROOT / "seeds" / f"{name}.txt", d / f"{copy}.txt")
        out = []
        for r in records:
            if flip and r["label"] == "related-story":
                r = {**r, "label": "article"}  # the same lines, labelled otherwise on the second copy
            out.append(json.dumps(r))
        (d / f"{copy}.jsonl").write_text("\n".join(out) + "\n")
    res = CliRunner().invoke(app, ["train", "--labels", str(d), "--out", str(tmp_path / "m.noiseclf"),
                                   "--site", "anewz.tv", "--no-cv"])
    assert res.exit_code == 0, res.output
    assert "contradict" in res.output
    assert "a.txt:" in res.output and "b.txt:" in res.output


def test_train_cli_site_options_are_checked(tmp_path):
    res = CliRunner().invoke(app, ["train", "--labels", str(LABELS), "--out", str(tmp_path / "m"),
                                   "--site", "a", "--site-per-folder"])
    assert res.exit_code == 2
    res = CliRunner().invoke(app, ["train", "--labels", str(LABELS), "--out", str(tmp_path / "m"),
                                   "--scope", "everywhere"])
    assert res.exit_code == 2
