"""noiseclf clean --corpus: JSON Lines and Parquet records in, the same records out."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from noiseclf.cli import app
from noiseclf.corpus import DROPPED_FIELD, KEPT_FIELD, clean_corpus
from noiseclf.model import render_kept

from conftest import SEEDS

runner = CliRunner()
SEED_TEXTS = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]


def records(n: int) -> list[dict]:
    out = []
    for i in range(n):
        out.append({
            "id": i,
            "url": f"https://example.org/{i}",
            "date": "2020-01-0%d" % (1 + i % 9),  # stays a string (no timestamp inference)
            "text": SEED_TEXTS[i % len(SEED_TEXTS)] if i % 7 != 6 else None,
            "meta": {"tags": ["a", "\u00e9"], "score": i / 3},
        })
    return out


def write_jsonl(path: Path, recs: list[dict], blank_every: int = 0) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i, r in enumerate(recs):
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
            if blank_every and i % blank_every == 0:
                fh.write("\n")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def expected(model, rec: dict) -> tuple[str | None, int, int]:
    if rec["text"] is None:
        return None, 0, 0
    verdicts = model.classify_text(rec["text"])
    kept = sum(1 for v in verdicts if v.label == "article")
    return render_kept(verdicts, {"article"}), kept, sum(1 for v in verdicts if v.label) - kept


def check(model, recs, out_recs):
    assert len(out_recs) == len(recs)
    for rec, got in zip(recs, out_recs):
        text, kept, dropped = expected(model, rec)
        assert got["text"] == text
        assert got[KEPT_FIELD] == kept and got[DROPPED_FIELD] == dropped
        assert {k: v for k, v in got.items() if k not in ("text", KEPT_FIELD, DROPPED_FIELD)} == \
            {k: v for k, v in rec.items() if k != "text"}
    assert any(r[KEPT_FIELD] > 0 for r in out_recs) and any(r[DROPPED_FIELD] > 0 for r in out_recs)


def test_jsonl_to_jsonl_keeps_every_field(tmp_path, shipped_model):
    recs = records(30)
    src = write_jsonl(tmp_path / "in.jsonl", recs, blank_every=10)  # blank lines are not records
    stats = clean_corpus(src, tmp_path / "out.jsonl", shipped_model, batch_size=8)
    out = read_jsonl(tmp_path / "out.jsonl")
    check(shipped_model, recs, out)
    assert list(out[0]) == ["id", "url", "date", "text", "meta", KEPT_FIELD, DROPPED_FIELD]
    assert stats.records == 30
    assert stats.kept_lines == sum(r[KEPT_FIELD] for r in out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]  # no temporary left


def test_parquet_to_parquet_keeps_the_schema(tmp_path, shipped_model):
    recs = records(25)
    table = pa.Table.from_pylist(recs)
    pq.write_table(table, tmp_path / "in.parquet", row_group_size=7)
    clean_corpus(tmp_path / "in.parquet", tmp_path / "out.parquet", shipped_model, batch_size=6)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.names == table.schema.names + [KEPT_FIELD, DROPPED_FIELD]
    for name in table.schema.names:
        assert out.schema.field(name).type == table.schema.field(name).type
    check(shipped_model, recs, out.to_pylist())


def test_jsonl_to_parquet_with_another_text_field(tmp_path, shipped_model):
    recs = [{"body": r["text"], "id": r["id"]} for r in records(9)]
    src = write_jsonl(tmp_path / "in.jsonl", recs)
    clean_corpus(src, tmp_path / "out.parquet", shipped_model, text_field="body")
    out = pq.read_table(tmp_path / "out.parquet").to_pylist()
    assert [r["id"] for r in out] == list(range(9))
    assert out[0]["body"] == expected(shipped_model, {"text": recs[0]["body"]})[0]


def test_two_worker_processes_give_the_same_output(tmp_path, shipped_model):
    src = write_jsonl(tmp_path / "in.jsonl", records(40))
    clean_corpus(src, tmp_path / "one.jsonl", shipped_model, batch_size=5)
    clean_corpus(src, tmp_path / "two.jsonl", shipped_model, batch_size=5, num_proc=2)
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()


def invoke(*args):
    return runner.invoke(app, ["clean", *[str(a) for a in args]])


def test_cli_corpus(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", records(12))
    result = invoke("--corpus", src, "--output", tmp_path / "out.jsonl")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # a summary on stderr, no progress bar (not a terminal)
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "12 records" in result.stderr
    assert len(read_jsonl(tmp_path / "out.jsonl")) == 12


@pytest.mark.parametrize("case", ["missing_field", "bad_json", "not_text", "no_file", "bad_suffix"])
def test_cli_corpus_errors_are_one_line_and_leave_no_output(tmp_path, case):
    recs = records(40)
    src = tmp_path / "in.jsonl"
    hint = "--text-field"
    if case == "missing_field":
        recs[33] = {"id": 33, "body": "x"}
        write_jsonl(src, recs)
        where = f"{src}:34"
    elif case == "bad_json":
        write_jsonl(src, recs)
        lines = src.read_text(encoding="utf-8").splitlines()
        lines[30] = lines[30][:-5]
        src.write_text("\n".join(lines) + "\n", encoding="utf-8")
        where, hint = f"{src}:31", "fix or remove the line"
    elif case == "not_text":
        recs[2]["text"] = 5
        write_jsonl(src, recs)
        where = f"{src}:3"
    elif case == "no_file":
        where, hint = str(tmp_path / "nope.jsonl"), "check the path"
        src = tmp_path / "nope.jsonl"
    else:
        src = tmp_path / "in.csv"
        src.write_text("a,b\n")
        where, hint = str(src), ".parquet"
    out = tmp_path / "out.jsonl"
    out.write_text("old output\n")  # an earlier run's result stays intact
    result = invoke("--corpus", src, "--output", out)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("noiseclf: ") and where in lines[0] and hint in lines[0], lines
    assert "Traceback" not in result.output
    assert out.read_text() == "old output\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_parquet_missing_field_names_the_fields(tmp_path):
    pq.write_table(pa.table({"id": [1], "body": ["x"]}), tmp_path / "in.parquet")
    result = invoke("--corpus", tmp_path / "in.parquet", "--output", tmp_path / "o.parquet")
    assert result.exit_code == 1
    assert "no field 'text' (fields: id, body)" in result.stderr and "--text-field" in result.stderr
    assert not (tmp_path / "o.parquet").exists()


def test_cli_corpus_usage_errors(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", records(2))
    assert invoke("--corpus", src).exit_code == 2
    assert invoke("--output", tmp_path / "o.jsonl").exit_code == 2
    assert invoke("--corpus", src, "--output", src).exit_code == 1


@pytest.mark.parametrize("num_proc", [1, 2])
def test_corpus_min_probability_is_the_one_clean_uses(tmp_path, shipped_model, num_proc):
    recs = [{k: v for k, v in r.items() if k != "url"} for r in records(14)]  # no site memory
    src = write_jsonl(tmp_path / "in.jsonl", recs)
    result = invoke("--corpus", src, "--output", tmp_path / "out.jsonl", "--min-probability", "0.9",
                    "--num-proc", num_proc)
    assert result.exit_code == 0, result.output
    out = read_jsonl(tmp_path / "out.jsonl")
    assert invoke("--corpus", src, "--output", tmp_path / "plain.jsonl").exit_code == 0
    plain = read_jsonl(tmp_path / "plain.jsonl")
    for rec, got, base in zip(recs, out, plain):
        want = None if rec["text"] is None else shipped_model.clean(rec["text"], min_probability=0.9)
        assert got["text"] == want
        assert got[KEPT_FIELD] <= base[KEPT_FIELD]
    assert sum(g[KEPT_FIELD] for g in out) < sum(b[KEPT_FIELD] for b in plain)  # stricter: fewer lines kept
