import json

import pytest

from noiseclf.errors import LabelsError
from noiseclf.labels import LABELS, dump_labels, load_labels
from noiseclf.text import read_scrape, split_lines

from conftest import LABELS_DIR, SEEDS


def test_every_seed_has_labels_for_exactly_its_nonblank_lines(seed_scrapes):
    assert sorted(s.name for s in seed_scrapes) == sorted(p.stem for p in SEEDS.glob("*.txt"))
    for scrape in seed_scrapes:
        lines = split_lines(read_scrape(SEEDS / f"{scrape.name}.txt").text)
        labelled = scrape.labelled_lines()
        assert [n for n, _, _ in labelled] == [i + 1 for i, line in enumerate(lines) if line.strip()]
        assert all(text == lines[n - 1] for n, text, _ in labelled)
        assert {label for _, _, label in labelled} <= set(LABELS)


def test_seed_labels_use_every_label(seed_scrapes):
    used = {label for s in seed_scrapes for _, _, label in s.labelled_lines()}
    assert used == set(LABELS)


def _rewrite(path, edit):
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    records = edit(records)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def _error(folder) -> str:
    with pytest.raises(LabelsError) as info:
        load_labels([folder])
    return str(info.value)


def test_text_that_no_longer_matches_the_scrape_names_file_and_line(labelled_copy):
    folder, name = labelled_copy

    def edit(records):
        records[4]["text"] = "something else"
        return records

    _rewrite(folder / f"{name}.jsonl", edit)
    message = _error(folder)
    assert f"{name}.jsonl:5:" in message and "does not match" in message


def test_unknown_label_is_refused_with_the_valid_ones(labelled_copy):
    folder, name = labelled_copy

    def edit(records):
        records[2]["label"] = "menu"
        return records

    _rewrite(folder / f"{name}.jsonl", edit)
    message = _error(folder)
    assert f"{name}.jsonl:3:" in message and "'menu'" in message and "related-story" in message


def test_duplicate_line_is_refused(labelled_copy):
    folder, name = labelled_copy
    _rewrite(folder / f"{name}.jsonl", lambda r: r[:3] + [dict(r[2])] + r[3:])
    message = _error(folder)
    assert f"{name}.jsonl:4:" in message and "twice" in message


def test_missing_line_is_refused(labelled_copy):
    folder, name = labelled_copy
    _rewrite(folder / f"{name}.jsonl", lambda r: r[:7] + r[8:])
    message = _error(folder)
    assert "has no label" in message and name in message


def test_broken_json_names_the_line(labelled_copy):
    folder, name = labelled_copy
    path = folder / f"{name}.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[9] = lines[9][:-3]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = _error(folder)
    assert f"{name}.jsonl:10:" in message and "broken JSON" in message


def test_missing_scrape_says_where_it_was_looked_for(tmp_path):
    (tmp_path / "orphan.jsonl").write_text('{"line": 1, "text": "x", "label": "nav"}\n')
    assert "orphan.txt was not found" in _error(tmp_path)


def test_dump_labels_round_trips_through_the_loader(tmp_path):
    (tmp_path / "page.txt").write_text("Home | News\n\nA paragraph of the story.\n", encoding="utf-8")
    (tmp_path / "page.jsonl").write_text(
        dump_labels([(1, "Home | News", "nav"), (3, "A paragraph of the story.", "article")]), encoding="utf-8"
    )
    [scrape] = load_labels([tmp_path])
    assert scrape.labelled_lines() == [(1, "Home | News", "nav"), (3, "A paragraph of the story.", "article")]


def test_labels_dir_is_the_projects_own(seed_scrapes):
    assert all(s.labels_path.parent == LABELS_DIR for s in seed_scrapes)
