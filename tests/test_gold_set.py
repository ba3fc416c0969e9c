"""The committed gold set (training/gold), without ../shared: every labels file checks against
its scrape, the manifest says what is there, and the held-out pages score through the CLI."""

import json
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from noiseclf.cli import app
from noiseclf.labels import LABELS, load_labels
from noiseclf.text import is_blank
from training.gold import labels_path, read_manifest

GOLD = Path(__file__).resolve().parent.parent / "training" / "gold"
ROWS = read_manifest(GOLD)


def test_every_page_labels_each_nonblank_line_of_its_scrape():
    scrapes = load_labels([labels_path(GOLD, r) for r in ROWS], [GOLD / "scrapes"])  # raises on any mismatch
    assert [s.name for s in scrapes] == [r["file_id"] for r in ROWS]
    for row, s in zip(ROWS, scrapes):
        nonblank = [i for i, line in enumerate(s.lines) if not is_blank(line)]
        assert [i for i, lab in enumerate(s.labels) if lab is not None] == nonblank, row["file_id"]
        assert len(nonblank) == row["nonblank_lines"], row["file_id"]
        assert set(s.labels) - {None} <= set(LABELS)


def test_labels_sit_in_the_folder_of_their_split_and_nowhere_else():
    found = sorted(p.relative_to(GOLD).as_posix() for split in ("train", "test") for p in (GOLD / split).glob("*"))
    assert found == sorted(f"{r['split']}/{r['file_id']}.jsonl" for r in ROWS)
    assert sorted(p.stem for p in (GOLD / "scrapes").glob("*.txt")) == sorted(r["file_id"] for r in ROWS)


def test_the_set_covers_page_types_splits_and_whole_sites():
    assert len(ROWS) >= 60
    types = Counter(r["page_type"] for r in ROWS)
    assert types["article"] >= 30
    assert {"forum", "product", "service", "listing", "collection", "documentation"} <= set(types)
    assert {r["split"] for r in ROWS} == {"train", "test"}
    sites = Counter(r["site_group"] for r in ROWS if r["site_group"])
    assert sum(1 for n in sites.values() if n >= 3) >= 8
    assert all(r["domain"] == r["site_group"] for r in ROWS if r["site_group"])
    singles = [r["domain"] for r in ROWS if not r["site_group"]]
    assert len(singles) == len(set(singles)) and not set(singles) & set(sites)


def test_evaluate_scores_exactly_the_held_out_pages():
    res = CliRunner().invoke(app, ["evaluate", "--labels", str(GOLD / "test"), "--json"])
    assert res.exit_code == 0, res.output
    metrics = json.loads(res.output)
    held = [r for r in ROWS if r["split"] == "test"]
    assert metrics["lines"] == sum(r["nonblank_lines"] for r in held)
    matrix = metrics["confusion"]["matrix"]
    assert sum(map(sum, matrix)) == metrics["lines"]
    assert set(metrics["per_class"]) == set(LABELS)
