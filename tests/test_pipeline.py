"""The one pipeline: settings, determinism, the library's errors, site identity, the Cleaner, CLI habits."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

import noiseclf
from conftest import LABELS_DIR, ROOT, SEEDS
from noiseclf.cli import app
from noiseclf.settings import Settings
from test_memory import page
from trust_support import CLI

runner = CliRunner()


def _noiseclf(*args, **kwargs):
    return subprocess.run(CLI + [str(a) for a in args], capture_output=True, **kwargs)


# -- settings: one object, the shipped model's ------------------------------------------

def test_the_settings_defaults_are_the_shipped_models(shipped_model):
    shipped = shipped_model.meta["featurizer"]
    assert Settings().features() == shipped
    options = shipped_model.meta["options"]
    for name in ("C", "class_weight", "max_iter", "random_state", "context"):
        assert getattr(Settings(), name) == options[name], name


def test_build_model_and_train_from_scratch_use_the_same_settings(tmp_path):
    import argparse

    from training import build_model

    seen = {}

    def stop(self, args=None, namespace=None):
        ns = real(self, args, namespace)
        seen.update(vars(ns))
        raise SystemExit(0)

    real = argparse.ArgumentParser.parse_args
    argparse.ArgumentParser.parse_args = stop
    try:
        with pytest.raises(SystemExit):
            build_model.main([])
    finally:
        argparse.ArgumentParser.parse_args = real
    assert (seen["C"], seen["layout_weight"], seen["char_max_len"], seen["context"]) == (
        Settings.C, Settings.layout_weight, Settings.char_max_len, Settings.context)

    out = tmp_path / "m.noiseclf"
    r = runner.invoke(app, ["train", "--labels", str(LABELS_DIR), "--out", str(out), "--from-scratch", "--no-cv"])
    assert r.exit_code == 0, r.output
    meta = noiseclf.modelfile.read_meta(out)
    assert meta["options"] == Settings().as_dict()
    assert meta["context"] is None  # the second stage only when asked for


def test_train_from_scratch_twice_gives_the_same_file_byte_for_byte(tmp_path):
    """Defect 1: meta.json recorded the training time."""
    a, b = tmp_path / "a.noiseclf", tmp_path / "b.noiseclf"
    for out in (a, b):
        r = runner.invoke(app, ["train", "--labels", str(LABELS_DIR), "--out", str(out), "--from-scratch"])
        assert r.exit_code == 0, r.output
    assert a.read_bytes() == b.read_bytes()


# -- the library's own errors ------------------------------------------------------------

def test_clean_given_lines_or_a_bad_keep_raises_the_librarys_error(shipped_model):
    """Defect 5: a raw AttributeError for a list, a plain ValueError for a bad keep."""
    with pytest.raises(noiseclf.UsageError, match="classify"):
        shipped_model.clean(["Home", "The story."])
    with pytest.raises(noiseclf.NoiseclfError, match="unknown label"):
        shipped_model.clean("The story.\n", keep=["articles"])
    with pytest.raises(noiseclf.UsageError, match="lines"):
        shipped_model.classify("a whole text\nof two lines")
    # comma-separated keeps are the same as a list
    text = SEEDS.joinpath("000_4242c970553a3e99.txt").read_text(encoding="utf-8")
    assert shipped_model.clean(text, keep="article,related-story") == shipped_model.clean(
        text, keep=["article", "related-story"])


# -- site identity is explicit -------------------------------------------------------------

def test_files_in_one_folder_are_not_one_site(tmp_path):
    """Cleaning the five seeds together (one folder) gives each what it gets alone."""
    out = tmp_path / "out"
    seeds = sorted(SEEDS.glob("*.txt"))
    r = runner.invoke(app, ["clean", *map(str, seeds), "-o", str(out)])
    assert r.exit_code == 0, r.output
    for s in seeds:
        alone = runner.invoke(app, ["clean", str(s)])
        assert (out / s.name).read_text(encoding="utf-8") == alone.stdout, s.name


def test_a_named_site_turns_site_memory_on(tmp_path):
    model = noiseclf.load_model()
    model.meta["site_memory"] = {"weights": {"article": (0.0, 0.0), "nav": (8.0, 2.0), "footer": (0.0, 0.0),
                                             "related-story": (0.0, 0.0), "ad": (0.0, 0.0)}}
    texts = ["\n".join(page(i)) + "\n" for i in range(4)]
    plain = noiseclf.Cleaner(model, verdicts=True).clean([noiseclf.Scrape(t) for t in texts])
    by_site = noiseclf.Cleaner(model, verdicts=True).clean([noiseclf.Scrape(t, site="ex") for t in texts])
    by_url = noiseclf.Cleaner(model, verdicts=True).clean(
        [noiseclf.Scrape(t, url=f"https://www.ex.org/{i}") for i, t in enumerate(texts)])
    home = [[v for v in r.verdicts if v.text == "Home"][0] for r in (next(plain), next(by_site), next(by_url))]
    assert home[1].label == home[2].label == "nav"
    assert home[1].probability > home[0].probability or home[0].label != "nav"
    assert home[1] == home[2]


def test_the_cleaner_matches_the_model_and_reads_its_input_once(shipped_model):
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    reads = []

    def scrapes():
        for i, t in enumerate(texts):
            reads.append(i)
            yield noiseclf.Scrape(t, name=f"p{i}")

    cleaner = noiseclf.Cleaner(shipped_model, verdicts=True)
    results = list(cleaner.clean(scrapes()))
    assert reads == list(range(len(texts)))
    assert [r.text for r in results] == shipped_model.clean_many(texts)
    for r, t in zip(results, texts):
        assert [v.label for v in r.verdicts] == [v.label for v in shipped_model.classify_text(t)]
        assert r.kept == sum(v.keep for v in r.verdicts if v.label) and r.kept + r.dropped == sum(r.counts.values())
    assert cleaner.finish() == [r.name for r in results if r.unfamiliar]
    assert cleaner.checked == len(texts)


def test_site_memory_needs_a_site(tmp_path):
    f = tmp_path / "p.txt"
    f.write_text("\n".join(page(1)) + "\n")
    r = runner.invoke(app, ["clean", str(f), "--site-memory", str(tmp_path / "m.json")])
    assert r.exit_code == 2 and "--site" in r.output
    assert not (tmp_path / "m.json").exists()


def test_corpus_records_of_one_host_share_site_memory(tmp_path):
    from noiseclf.corpus import clean_texts

    model = noiseclf.load_model()
    model.meta["site_memory"] = {"weights": {"article": (0.0, 0.0), "nav": (8.0, 2.0), "footer": (0.0, 0.0),
                                             "related-story": (0.0, 0.0), "ad": (0.0, 0.0)}}
    texts = ["\n".join(page(i)) + "\n" for i in range(4)]
    alone = clean_texts(model, texts, ["article", "nav"])
    same_host = clean_texts(model, texts, ["article", "footer", "related-story", "ad"],
                            [f"https://ex.org/{i}" for i in range(4)])
    assert all("Home" not in t.split("\n") for t in same_host[0])  # the recurring menu went to nav
    assert alone[1] != [0] * 4


# -- CLI habits ------------------------------------------------------------------------------

def test_dash_is_stdin():
    data = (SEEDS / "003_961445eb337fe995.txt").read_bytes()
    dash = _noiseclf("clean", "-", input=data)
    plain = _noiseclf("clean", SEEDS / "003_961445eb337fe995.txt")
    assert dash.returncode == 0 and dash.stdout == plain.stdout and dash.stdout


def test_keep_takes_a_comma_separated_list():
    seed = str(SEEDS / "000_4242c970553a3e99.txt")
    a = runner.invoke(app, ["clean", seed, "--keep", "article,related-story"])
    b = runner.invoke(app, ["clean", seed, "--keep", "article", "--keep", "related-story"])
    assert a.exit_code == 0 and a.stdout == b.stdout
    assert len(a.stdout) > len(runner.invoke(app, ["clean", seed]).stdout)
    bad = runner.invoke(app, ["clean", seed, "--keep", "article,articles"])
    assert bad.exit_code == 2 and "articles" in bad.output


def test_clean_with_no_input_on_a_terminal_says_how_instead_of_waiting():
    main, secondary = pty.openpty()
    try:
        proc = subprocess.run(CLI + ["clean"], stdin=secondary,
                              capture_output=True, timeout=60, cwd=ROOT, env={**os.environ, "NOISECLF_DEBUG": ""})
    finally:
        os.close(main)
        os.close(secondary)
    assert proc.returncode == 2
    assert b"noiseclf clean page.txt" in proc.stderr and proc.stdout == b""


def test_jsonl_names_the_file_and_gives_the_models_probabilities(shipped_model):
    seed = SEEDS / "000_4242c970553a3e99.txt"
    r = runner.invoke(app, ["clean", str(seed), "--format", "jsonl"])
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    verdicts = [v for v in shipped_model.classify_text(seed.read_text(encoding="utf-8"))]
    assert [row["file"] for row in rows] == [str(seed)] * len(rows)
    assert [(row["line"], row["label"], row["probability"], row["keep"]) for row in rows] == [
        (v.line, v.label, None if v.probability is None else round(v.probability, 4), bool(v.keep)) for v in verdicts]
    assert Path(rows[0]["file"]).exists()
