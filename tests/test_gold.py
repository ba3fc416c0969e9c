"""Tests of training/gold.py: fill, validate, agreement (Cohen's kappa), merge, packets, selection.

Everything runs on tiny files made in tmp_path; the WCXB data is never needed.
"""
import json

import pytest

from noiseclf.labels import load_labels
from training import gold

# Page "p1" (page type article): 6 non-blank lines, with a blank line, a line of
# spaces, leading and trailing spaces, and no final newline.
P1 = "Site Name\n\nHeadline here\n   \n  indented body line\nbody line with trailing space \nworldโ€™s Other story\n© 2025 Site"
P1_NONBLANK = [1, 3, 5, 6, 7, 8]
# Page "p2" (page type forum): 4 non-blank lines.
P2 = "Home\nQuestion title\n\nFirst answer\nSecond answer\n"
P2_NONBLANK = [1, 2, 4, 5]


@pytest.fixture
def golddir(tmp_path):
    g = tmp_path / "gold"
    (g / "scrapes").mkdir(parents=True)
    (g / "scrapes" / "p1.txt").write_text(P1, encoding="utf-8", newline="")
    (g / "scrapes" / "p2.txt").write_text(P2, encoding="utf-8", newline="")
    rows = [
        {"id": "x-p1", "file_id": "p1", "url": "https://a.example/1", "domain": "a.example",
         "page_type": "article", "split": "train", "site_group": None, "nonblank_lines": 6},
        {"id": "x-p2", "file_id": "p2", "url": "https://b.example/2", "domain": "b.example",
         "page_type": "forum", "split": "test", "site_group": None, "nonblank_lines": 4},
    ]
    (g / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return g


def write_labels(path, page_text, labels_by_line):
    lines = page_text.split("\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for n, lab in labels_by_line:
            fh.write(json.dumps({"line": n, "text": lines[n - 1], "label": lab}, ensure_ascii=False) + "\n")


def labelled(page_text, nonblank, labels):
    assert len(nonblank) == len(labels)
    return list(zip(nonblank, labels))


def run(capsys, *argv):
    code = gold.main([str(a) for a in argv])
    return code, capsys.readouterr().out


# ---------------------------------------------------------------------------
# fill
# ---------------------------------------------------------------------------
def test_fill_writes_exact_texts_and_skips_blank_lines(golddir, tmp_path, capsys):
    spec = tmp_path / "p1.spec"
    spec.write_text("# header\n1 nav\n3-6 article   # blank lines 2 and 4 skipped\n7 related-story\n8 footer\n")
    code, out = run(capsys, "fill", "--gold", golddir, tmp_path / "pass1", "p1", spec)
    assert code == 0, out
    recs = [json.loads(x) for x in (tmp_path / "pass1" / "p1.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in recs] == P1_NONBLANK
    assert [r["label"] for r in recs] == ["nav", "article", "article", "article", "related-story", "footer"]
    assert recs[2]["text"] == "  indented body line"
    assert recs[3]["text"] == "body line with trailing space "
    assert recs[4]["text"] == "worldโ€™s Other story"
    # the project's loader accepts it
    (scrape,) = load_labels([tmp_path / "pass1" / "p1.jsonl"], scrape_dirs=[golddir / "scrapes"])
    assert scrape.labels[1] is None and scrape.labels[0] == "nav"
    code, out = run(capsys, "validate", "--gold", golddir, tmp_path / "pass1", "p1")
    assert code == 0, out


@pytest.mark.parametrize("spec_text, message", [
    ("1-6 article\n6-8 footer\n", "line 6 is already labelled article"),
    ("1-6 article\n8 footer\n", "scrape line 7 not labelled"),
    ("1-7 article\n8 foot\n", "unknown label 'foot'"),
    ("1-8 article\n2 nav\n", "line 2 is blank"),
    ("1-8 article\n9 nav\n", "outside the scrape"),
    ("1 to 8 article\n", "expected `A-B label`"),
    ("8-1 article\n", "runs backwards"),
])
def test_fill_refuses_bad_specs_and_writes_nothing(golddir, tmp_path, capsys, spec_text, message):
    spec = tmp_path / "bad.spec"
    spec.write_text(spec_text)
    code, out = run(capsys, "fill", "--gold", golddir, tmp_path / "pass1", "p1", spec)
    assert code == 1
    assert message in out
    assert f"{spec}:" in out or "bad.spec:" in out
    assert not (tmp_path / "pass1" / "p1.jsonl").exists()


def test_fill_unknown_page(golddir, tmp_path, capsys):
    spec = tmp_path / "s.spec"
    spec.write_text("1 nav\n")
    code, out = run(capsys, "fill", "--gold", golddir, tmp_path / "pass1", "nope", spec)
    assert code == 1 and "no such scrape" in out


# ---------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------
def test_validate_reports_each_problem_with_file_and_line(golddir, tmp_path, capsys):
    lines = P1.split("\n")
    recs = [
        {"line": 1, "text": lines[0], "label": "nav"},              # fine
        {"line": 3, "text": lines[2] + " ", "label": "article"},    # file line 2: text differs
        {"line": 5, "text": lines[4], "label": "menu"},             # file line 3: unknown label
        {"line": 5, "text": lines[4], "label": "article"},          # file line 4: twice
        {"line": 2, "text": "", "label": "nav"},                    # file line 5: blank line, out of order
        {"line": 8, "text": lines[7], "label": "footer", "x": 1},   # file line 6: extra key
    ]
    path = tmp_path / "pass1" / "p1.jsonl"
    path.parent.mkdir()
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs) + "{broken\n"  # file line 7
    path.write_text(body, encoding="utf-8")
    code, out = run(capsys, "validate", "--gold", golddir, tmp_path / "pass1")
    assert code == 1
    assert "p1.jsonl:2: text is not line 3" in out
    assert "p1.jsonl:3: unknown label 'menu'" in out
    assert "p1.jsonl:4: line 5 is labelled twice" in out
    assert "p1.jsonl:5: line 2 is blank" in out
    assert "p1.jsonl:6: unexpected key 'x'" in out
    assert "p1.jsonl:7: broken JSON" in out
    # lines 6 and 7 of the scrape have no record
    assert "p1.txt:6: non-blank line has no record" in out
    assert "p1.txt:7: non-blank line has no record" in out
    assert "p1.txt:1:" not in out


def test_validate_order_and_missing_file(golddir, tmp_path, capsys):
    path = tmp_path / "pass1" / "p2.jsonl"
    write_labels(path, P2, [(2, "article"), (1, "nav"), (4, "article"), (5, "article")])
    code, out = run(capsys, "validate", "--gold", golddir, tmp_path / "pass1", "p2", "p1")
    assert code == 1
    assert "p2.jsonl:2: line 1 comes after line 2" in out
    assert "p1.jsonl: missing" in out


def test_validate_good_pass(golddir, tmp_path, capsys):
    write_labels(tmp_path / "pass1" / "p2.jsonl", P2, labelled(P2, P2_NONBLANK, ["nav", "article", "article", "article"]))
    code, out = run(capsys, "validate", "--gold", golddir, tmp_path / "pass1")
    assert code == 0
    assert "1 labels file(s) valid, 0 problem(s); 1 gold page(s) not labelled yet" in out


# ---------------------------------------------------------------------------
# agreement
# ---------------------------------------------------------------------------
def test_cohen_kappa_by_hand():
    # 10 lines. Both article 5, pass1 article/pass2 nav 1, pass1 nav/pass2 article 1, both nav 3.
    # p_o = 8/10 = 0.8. Each pass: article 6/10, nav 4/10, so p_e = 0.6*0.6 + 0.4*0.4 = 0.52.
    # kappa = (0.8 - 0.52) / (1 - 0.52) = 0.28 / 0.48 = 7/12 = 0.58333...
    a = ["article"] * 5 + ["article"] + ["nav"] + ["nav"] * 3
    b = ["article"] * 5 + ["nav"] + ["article"] + ["nav"] * 3
    assert gold.cohen_kappa(a, b) == pytest.approx(7 / 12)
    assert gold.cohen_kappa(a, a) == pytest.approx(1.0)
    # one label everywhere in both: p_e = 1, kappa undefined
    assert gold.cohen_kappa(["nav"] * 3, ["nav"] * 3) is None
    # agreement at chance level: p_o = 0.5, p_e = 0.5*0.5 + 0.5*0.5 = 0.5 -> 0
    assert gold.cohen_kappa(["a", "a", "b", "b"], ["a", "b", "a", "b"]) == pytest.approx(0.0)


@pytest.fixture
def two_passes(golddir, tmp_path):
    """The 10 lines of test_cohen_kappa_by_hand, spread over the two pages.

    p1 (article): pass1 a a a a a n, pass2 a a a a n n  -> both a 4, a/n 1, both n 1.
        p_o = 5/6; pass1 a 5/6 n 1/6, pass2 a 4/6 n 2/6; p_e = (5*4 + 1*2)/36 = 22/36;
        kappa = (30/36 - 22/36) / (14/36) = 8/14 = 4/7.
    p2 (forum): pass1 a n n n, pass2 a a n n -> both a 1, n/a 1, both n 2.
        p_o = 3/4; pass1 a 1/4 n 3/4, pass2 a 2/4 n 2/4; p_e = (1*2 + 3*2)/16 = 1/2;
        kappa = (3/4 - 1/2) / (1/2) = 1/2.
    """
    one, two = tmp_path / "pass1", tmp_path / "pass2"
    write_labels(one / "p1.jsonl", P1, labelled(P1, P1_NONBLANK, ["article"] * 5 + ["nav"]))
    write_labels(two / "p1.jsonl", P1, labelled(P1, P1_NONBLANK, ["article"] * 4 + ["nav"] * 2))
    write_labels(one / "p2.jsonl", P2, labelled(P2, P2_NONBLANK, ["article", "nav", "nav", "nav"]))
    write_labels(two / "p2.jsonl", P2, labelled(P2, P2_NONBLANK, ["article", "article", "nav", "nav"]))
    return one, two


def test_agreement_figures(golddir, two_passes):
    res = gold.agreement(*two_passes, golddir)
    assert res["pages"] == 2 and res["lines"] == 10
    assert res["accuracy"] == pytest.approx(0.8)
    assert res["kappa"] == pytest.approx(7 / 12, abs=1e-6)
    # with two labels in use, one-vs-rest kappa of each equals the overall kappa
    assert res["per_class"]["article"]["kappa"] == pytest.approx(7 / 12, abs=1e-6)
    assert res["per_class"]["nav"]["kappa"] == pytest.approx(7 / 12, abs=1e-6)
    assert res["per_class"]["nav"] | {"kappa": None} == {
        "pass1": 4, "pass2": 4, "both": 3, "specific_agreement": 0.75, "kappa": None}
    assert res["per_class"]["footer"]["kappa"] is None  # never used
    assert res["per_page_type"]["article"] == {"pages": 1, "lines": 6, "accuracy": pytest.approx(5 / 6, abs=1e-6),
                                               "kappa": pytest.approx(4 / 7, abs=1e-6)}
    assert res["per_page_type"]["forum"]["kappa"] == pytest.approx(0.5)
    m = res["confusion"]["matrix"]
    labels = res["confusion"]["labels"]
    ai, ni = labels.index("article"), labels.index("nav")
    assert (m[ai][ai], m[ai][ni], m[ni][ai], m[ni][ni]) == (5, 1, 1, 3)
    assert sum(map(sum, m)) == 10
    # keep/drop: with only article and nav in use it is the 5-class figure; no multi-page site here
    assert res["keep_drop"]["accuracy"] == pytest.approx(0.8) and res["keep_drop_per_site"] == {}


def test_keep_drop_agreement_per_site_is_the_mean_over_its_pages(golddir, two_passes):
    rows = [json.loads(x) for x in (golddir / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    for r in rows:
        r["site_group"] = "a.example"
    (golddir / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    res = gold.agreement(*two_passes, golddir)
    per_page = [res["per_page"][f]["accuracy"] for f in ("p1", "p2")]
    assert res["keep_drop_per_site"] == {"a.example": {"pages": 2, "accuracy": pytest.approx(sum(per_page) / 2)}}
    assert res["keep_drop_per_site"]["a.example"]["accuracy"] != pytest.approx(res["keep_drop"]["accuracy"])


def test_agreement_cli_json_and_disagreements(golddir, two_passes, tmp_path, capsys):
    out_json = tmp_path / "agreement.json"
    code, out = run(capsys, "agreement", "--gold", golddir, *two_passes, "--json", out_json)
    assert code == 0
    assert "kappa 0.583" in out
    assert json.loads(out_json.read_text())["kappa"] == pytest.approx(7 / 12, abs=1e-6)
    code, out = run(capsys, "disagreements", "--gold", golddir, *two_passes)
    assert code == 0
    assert "== p1:7  pass1=article  pass2=nav" in out
    assert "== p2:2  pass1=nav  pass2=article" in out
    assert "2 disagreeing line(s)" in out
    # two non-blank lines of context on each side of p1:7, both passes' labels shown
    block = out.split("== p1:7")[1].split("==")[0]
    assert "  indented body line" in block and "© 2025 Site" in block and "Headline here" not in block


def test_agreement_refuses_invalid_pass(golddir, two_passes, capsys):
    one, _two = two_passes
    (one / "p2.jsonl").write_text('{"line": 1, "text": "Home", "label": "nav"}\n', encoding="utf-8")
    code, out = run(capsys, "agreement", "--gold", golddir, *two_passes)
    assert code == 1 and "p2.txt:2: non-blank line has no record" in out


# ---------------------------------------------------------------------------
# merge
# ---------------------------------------------------------------------------
def test_merge_uses_agreed_and_settled_labels(golddir, two_passes, tmp_path, capsys):
    settled, out_dir = tmp_path / "settled", tmp_path / "labels"
    code, out = run(capsys, "merge", "--gold", golddir, *two_passes, "--settled", settled, "--out", out_dir)
    assert code == 1
    assert "p1.txt:7: unsettled (pass1 article, pass2 nav)" in out
    assert "p2.txt:2: unsettled (pass1 nav, pass2 article)" in out
    assert not out_dir.exists()

    write_labels(settled / "p1.jsonl", P1, [(7, "related-story")])
    write_labels(settled / "p2.jsonl", P2, [(2, "article")])
    code, out = run(capsys, "merge", "--gold", golddir, *two_passes, "--settled", settled, "--out", out_dir)
    assert code == 0, out
    merged = {s.name: s for s in load_labels([out_dir], scrape_dirs=[golddir / "scrapes"])}
    assert [lab for _, _, lab in merged["p1"].labelled_lines()] == ["article"] * 4 + ["related-story", "nav"]
    assert [lab for _, _, lab in merged["p2"].labelled_lines()] == ["article", "article", "nav", "nav"]


def test_merge_refuses_settling_an_agreed_line_or_one_pass_only(golddir, two_passes, tmp_path, capsys):
    one, two = two_passes
    settled, out_dir = tmp_path / "settled", tmp_path / "labels"
    write_labels(settled / "p1.jsonl", P1, [(7, "nav"), (1, "nav")])  # line 1: both passes said article
    write_labels(settled / "p2.jsonl", P2, [(2, "nav")])
    code, out = run(capsys, "merge", "--gold", golddir, one, two, "--settled", settled, "--out", out_dir)
    assert code == 1 and "line 1 was not disputed (both passes say article)" in out
    assert not out_dir.exists()

    write_labels(settled / "p1.jsonl", P1, [(7, "nav")])
    (two / "p2.jsonl").unlink()
    code, out = run(capsys, "merge", "--gold", golddir, one, two, "--settled", settled, "--out", out_dir)
    assert code == 1 and "page p2 is labelled in pass1 only" in out
    assert not out_dir.exists()


# ---------------------------------------------------------------------------
# packets and selection
# ---------------------------------------------------------------------------
def test_packets(golddir, tmp_path, capsys):
    work = tmp_path / "work"
    code, _ = run(capsys, "packets", "--gold", golddir, "--work", work)
    assert code == 0
    text = (work / "packets" / "p1.txt").read_text(encoding="utf-8")
    assert "URL:        https://a.example/1" in text and "page type:  article" in text
    body = text.split("-" * 72 + "\n")[1].split("\n")
    assert body[:5] == ["   1| Site Name", "   2|", "   3| Headline here", "   4|", "   5|   indented body line"]
    assert len([x for x in body if x]) == 8  # every scrape line, blank ones too
    assert "labels/GUIDELINES.md" in (work / "ANNOTATOR.md").read_text()
    assert gold.packet_text({"file_id": "x", "url": "u", "page_type": "t"}, ["a\u2028b"]).endswith("   1| a<U+2028>b\n")


def _page(fid, domain, ptype, split, n):
    return {"file_id": fid, "url": f"https://{domain}/{fid}", "domain": domain, "page_type": ptype,
            "split": split, "nonblank_lines": n}


def test_choose_sites_prefers_small_cheap_sites_and_test_sites():
    pages = []
    for i, (dom, split, k, n) in enumerate([
        ("big.example", "train", 6, 30), ("cheap.example", "train", 3, 30), ("costly.example", "train", 3, 200),
        ("short.example", "train", 3, 10), ("t1.example", "test", 4, 100), ("t2.example", "test", 3, 300),
        ("t3.example", "test", 5, 50), ("t4.example", "test", 3, 900), ("huge.example", "train", 7, 30),
    ]):
        pages += [_page(f"{i}{j}", dom, "article", split, n) for j in range(k)]
    old = gold.N_SITES
    try:
        gold.N_SITES = 5
        chosen = gold.choose_sites(pages)
        again = gold.choose_sites(list(reversed(pages)))
    finally:
        gold.N_SITES = old
    # 3 best test sites first, then the cheapest 3-5-page site; short pages and >6 pages never
    assert chosen == sorted(["t1.example", "t2.example", "t3.example", "cheap.example", "costly.example"])
    assert again == chosen  # the input order does not matter


def test_choose_singles_one_page_per_domain_and_in_range():
    pages = [_page(f"{i:03d}", f"d{i % 40}.example", ["article", "forum"][i % 2], ["train", "test"][i % 3 == 0],
                   [10, 50, 300][i % 3] if i % 5 else 100) for i in range(200)]
    singles = gold.choose_singles(pages, ["d0.example"])
    doms = [p["domain"] for p in singles]
    assert len(doms) == len(set(doms)) and "d0.example" not in doms
    assert all(gold.MIN_LINES <= p["nonblank_lines"] <= gold.MAX_LINES for p in singles)
    assert singles == gold.choose_singles(list(reversed(pages)), ["d0.example"])
