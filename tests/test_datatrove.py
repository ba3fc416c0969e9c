"""The datatrove step in a real LocalPipelineExecutor run: JsonlReader -> NoiseclfFilter -> JsonlWriter."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

pytest.importorskip("datatrove")
pytest.importorskip("orjson")  # datatrove's JsonlReader needs it (datatrove[io])

from datatrove.data import Document  # noqa: E402
from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from datatrove.pipeline.readers import JsonlReader  # noqa: E402
from datatrove.pipeline.writers import JsonlWriter  # noqa: E402

from noiseclf import Cleaner, Scrape  # noqa: E402
from noiseclf.html import html_to_text  # noqa: E402
from noiseclf.integrations.datatrove import (  # noqa: E402
    DROP_REASON, DROPPED_FIELD, KEPT_FIELD, NoiseclfFilter, worker_model)

from conftest import SEED_003, SEEDS  # noqa: E402
from test_plain import markdown_of  # noqa: E402

HTML = """<!DOCTYPE html><html><head><title>Harbour reopens</title></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li></ul></nav>
<article><h1>Harbour reopens after storm repairs</h1>
<p>The harbour reopened on Monday after three months of repairs to the sea wall, the port authority said.</p>
<p>Fishing boats returned to their moorings in the morning, and the ferry to the islands will run again from Friday.</p>
<p>Engineers rebuilt forty metres of the wall, which the January storm had breached in two places.</p></article>
<footer><p>Copyright 2025 Coast News. All rights reserved.</p><p>Privacy policy | Terms of use</p></footer>
</body></html>"""


def noise_only(model) -> str:
    """The lines of a seed that the model does not call article: a page with no article left."""
    seed = (SEEDS / "002_e58d6d24ef488dbe.txt").read_text(encoding="utf-8")
    lines = [v.text for v in model.classify_text(seed) if v.label not in (None, "article")]
    for _ in range(5):  # alone, a line's context changes: drop what the model still keeps, until nothing
        kept = {x for x in model.clean("\n".join(lines)).split("\n") if x.strip()}
        if not kept:
            break
        lines = [x for x in lines if x not in kept]
    noise = "\n".join(lines)
    assert len(lines) > 10 and model.clean(noise) == "", "precondition: the model keeps nothing of these lines"
    return noise


def write_input(folder: Path, model) -> list[dict]:
    folder.mkdir()
    records = []
    for part in range(2):  # two files: each of the two tasks gets one
        rows = [{"id": f"{part}-{p.stem}", "text": p.read_text(encoding="utf-8"),
                 "url": f"https://site{i}.example/{part}", "lang": "en"}
                for i, p in enumerate(sorted(SEEDS.glob("*.txt")))]
        rows.append({"id": f"{part}-html", "text": HTML, "url": f"https://coast.example/{part}"})
        rows.append({"id": f"{part}-noise", "text": noise_only(model)})  # no url: no site
        with open(folder / f"part{part}.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in rows)
        records += rows
    return records


def read_jsonl(folder: Path) -> dict:
    out = {}
    for p in sorted(folder.glob("*.jsonl")):
        for line in p.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            out[rec["id"]] = rec
    return out


def filter_stats(logging_dir: Path) -> dict:
    steps = json.loads((logging_dir / "stats.json").read_text(encoding="utf-8"))
    (step,) = [s for s in steps if "noiseclf" in s["name"]]
    return step["stats"]


def total(stat) -> int:
    return stat["total"] if isinstance(stat, dict) else stat


def test_local_pipeline_cleans_counts_and_drops(tmp_path, shipped_model):
    records = write_input(tmp_path / "in", shipped_model)
    LocalPipelineExecutor(
        pipeline=[
            JsonlReader(str(tmp_path / "in")),
            NoiseclfFilter(exclusion_writer=JsonlWriter(str(tmp_path / "dropped"), compression=None)),
            JsonlWriter(str(tmp_path / "out"), compression=None),
        ],
        tasks=2, workers=2, logging_dir=str(tmp_path / "logs"),
    ).run()

    out = read_jsonl(tmp_path / "out")
    dropped = read_jsonl(tmp_path / "dropped")
    assert sorted(out) == sorted(r["id"] for r in records if not r["id"].endswith("noise"))
    assert sorted(dropped) == ["0-noise", "1-noise"]

    # Every kept document is what the Cleaner makes of it (pages of different sites: no recurrence).
    reference = Cleaner(shipped_model, drift=False)
    want_kept = want_dropped = 0
    for rec in records:
        text = html_to_text(rec["text"]) if rec["id"].endswith("html") else rec["text"]
        (page,) = reference.clean_batch([Scrape(text)])
        want_kept += page.kept
        want_dropped += page.dropped
        if rec["id"].endswith("noise"):
            got = dropped[rec["id"]]
            assert got["text"] == rec["text"]  # the exclusion writer gets the page as it was
            assert got["metadata"]["filter_reason"] == DROP_REASON
            assert sum(got["metadata"][KEPT_FIELD].values()) == 0
            continue
        got = out[rec["id"]]
        assert got["text"] == page.text
        meta = got["metadata"]
        assert meta.get("url") == rec.get("url") and meta.get("lang") == rec.get("lang")  # other fields kept
        assert meta[KEPT_FIELD] == {lab: (n if lab == "article" else 0) for lab, n in page.counts.items()}
        assert meta[DROPPED_FIELD] == {lab: (0 if lab == "article" else n) for lab, n in page.counts.items()}
        assert sum(meta[KEPT_FIELD].values()) == page.kept > 0
    assert "Harbour reopens after storm repairs" in out["0-html"]["text"]
    assert "<p>" not in out["0-html"]["text"] and "Privacy policy" not in out["0-html"]["text"]

    stats = filter_stats(tmp_path / "logs")
    assert total(stats["total"]) == len(records)
    assert total(stats["forwarded"]) == len(records) - 2
    assert total(stats["dropped"]) == 2
    assert total(stats[f"dropped_{DROP_REASON}"]) == 2
    assert total(stats["html_converted"]) == 2
    assert total(stats["lines_kept"]) == want_kept
    assert total(stats["lines_dropped"]) == want_dropped
    assert sum(total(stats.get(f"lines_{lab}", 0)) for lab in shipped_model.labels) == want_kept + want_dropped


def test_without_drop_empty_the_document_stays_with_empty_text(shipped_model):
    noise = noise_only(shipped_model)
    step = NoiseclfFilter(drop_empty=False)
    docs = [Document(text=noise, id="n"), Document(text=HTML, id="h", metadata={"url": "https://coast.example/"})]
    out = list(step.run(iter(docs)))
    assert [d.id for d in out] == ["n", "h"]
    assert out[0].text == "" and sum(out[0].metadata[DROPPED_FIELD].values()) > 0
    assert "Harbour reopens after storm repairs" in out[1].text and "<" not in out[1].text
    assert step.stats["dropped"].n == 0 and step.stats["forwarded"].total == 2


def test_html_false_leaves_markup_as_text(shipped_model):
    step = NoiseclfFilter(html=False, drop_empty=False)
    (doc,) = step.run(iter([Document(text=HTML, id="h")]))
    assert "html_converted" not in step.stats.stats
    assert doc.text == shipped_model.clean(HTML)


def test_plain_writes_markdown_as_plain_text(shipped_model):
    md = markdown_of(SEED_003.read_text(encoding="utf-8"))
    (doc,) = NoiseclfFilter(plain=True, drop_empty=False).run(iter([Document(text=md, id="m")]))
    assert doc.text == shipped_model.clean(md, plain=True) != shipped_model.clean(md)
    assert "](" not in doc.text and "Still, the ongoing ISS partnership" in doc.text


def test_the_model_is_loaded_once_per_process_and_never_pickled(shipped_model):
    step = NoiseclfFilter(drop_empty=False)
    list(step.run(iter([Document(text="Hello world.", id="a")])))
    assert step.cleaner.model is worker_model(None)
    assert NoiseclfFilter().cleaner.model is step.cleaner.model  # a second step in the worker: same model
    blob = pickle.dumps(step)
    assert len(blob) < 50_000  # the model (megabytes) stays behind
    again = pickle.loads(blob)
    assert again._cleaner is None and again.keep == step.keep


def test_bad_keep_names_the_argument():
    from noiseclf.errors import UsageError

    with pytest.raises(UsageError, match=r"NoiseclfFilter\(keep=...\).*unknown label"):
        NoiseclfFilter(keep=["articles"])


def test_records_and_feeds_are_dropped_and_markdown_counted(tmp_path, shipped_model):
    from noiseclf.integrations.datatrove import NOT_A_PAGE

    seed = SEED_003.read_text(encoding="utf-8")
    md = markdown_of(seed)
    docs = [Document(text='{"id": 1, "text": "One"}\n{"id": 2, "text": "Two"}\n', id="records"),
            Document(text='<?xml version="1.0"?><urlset><url><loc>https://a.example/</loc></url></urlset>', id="map"),
            Document(text=md, id="md"), Document(text=seed, id="seed")]
    writer = JsonlWriter(str(tmp_path / "dropped"), compression=None)
    step = NoiseclfFilter(drop_empty=False, exclusion_writer=writer)
    out = list(step.run(iter(docs)))
    writer.close()
    assert [d.id for d in out] == ["md", "seed"]
    assert out[0].text == shipped_model.clean(md) and out[1].text == shipped_model.clean(seed)
    assert step.stats[f"dropped_{NOT_A_PAGE}"].n == 2 and step.stats["markdown"].n == 1
    dropped = read_jsonl(tmp_path / "dropped")
    assert sorted(dropped) == ["map", "records"] and dropped["map"]["text"] == docs[1].text  # as it was
    step = NoiseclfFilter(drop_empty=False, plain=True)
    list(step.run(iter([Document(text=md, id="md")])))
    assert "markdown" not in step.stats.stats
