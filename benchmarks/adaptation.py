"""Benchmark: teaching noiseclf a site from one or two hand-labelled pages.

    python benchmarks/adaptation.py [--wcxb /work/shared/data/wcxb-dev] [--corpus build/corpus] \\
        [--chart benchmarks/adaptation.png] [--json build/adaptation.json] [--cli-timing [--first-run]] \\
        [--fit-site-stage] [--write-harm-sample] [--stage-grid]

What a user does: label k pages of a site (``noiseclf label``), run ``noiseclf
train --labels DIR --out M --site SITE``, clean the site's other pages with M.

Data. The site's pages and their truth are the gold set's multi-page sites
(``training/gold``: 8 sites x 3 pages and 2 sites x 6 pages, every line labelled by
people; the gold labels are the user's labels).

For every site and k in 0, 1, 2, 5 (k = 5 on the six-page sites): every choice of k
labelled pages, the model is built by the function ``noiseclf train`` runs
(:func:`noiseclf.adapt.adapt_site`) and scored on the site's other pages:

* keep/drop accuracy (article or not: what cleaning keeps) and 5-class line
  accuracy, with the site said (``--site``/URL) and without (recognised by its
  template lines, or the base model's labels when it is not recognised);
  mean over the site's runs, then mean over sites, and the lowest site (and the same
  on the six-page sites alone, the only ones with k = 5);
* other sites with the adapted model, no site said: the word F1 of the cleaned
  text on the WCXB test split's pages (``--wcxb``: html-text scrapes from the
  corpus, ``training/corpus.py``'s ``split_of``; ground truth ``main_content``;
  ``training/wordf1.py``), against the base model's; and keep/drop accuracy on the
  gold set's other pages (the 7 other sites' pages and the 44 single-page sites);
* the retraining time: wall time of ``adapt_site`` (the whole of ``train``'s work
  but loading the base and writing the file), and with ``--cli-timing`` of the
  whole ``noiseclf train`` command (start-up included) for every 2-page choice; with
  ``--first-run`` also the first runs right after ``pip install .`` into a new venv.

The site stage (how far each kind of site evidence is trusted,
``noiseclf/site_stage_weights.json``) is learned from data that includes gold
sites, so every gold site is scored with a stage fitted *without* it (leave one
site out): on the other gold sites (weight ``GOLD_WEIGHT`` per line, scaled so that
every site weighs as much as a three-page site: a six-page site gives ten times the
rows) and, with
``--corpus``, WCXB multi-page sites with the corpus builder's automatic labels
(``build/corpus``, html-text; the gold sites left out). ``--fit-site-stage``
writes the stage fitted on all of them, which ships.

Design comparison (``choose with numbers``), k = 1 and 2 on the same runs: the
base; the earlier global fine-tuning (``noiseclf.adapt.fine_tune``: weights moved
for every site); labelled-line memory alone (a line with the masked text of a
labelled line takes its majority label); memory plus alignment with the labelled
pages taken as hard labels; the site stage (the chosen design); with
``--compare-adapter`` also the site stage with a residual adapter.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from noiseclf import siteprofile as SP  # noqa: E402
from noiseclf.adapt import AdaptOptions, ProfileOptions, adapt_site, base_probabilities, fine_tune, fit_profile  # noqa: E402
from noiseclf.labels import load_labels  # noqa: E402
from noiseclf.modelfile import load_model  # noqa: E402
from noiseclf.train import pages_and_targets  # noqa: E402
from training.gold import labels_path, read_manifest  # noqa: E402

GOLD = ROOT / "training" / "gold"
KS = (0, 1, 2, 5)
GOLD_WEIGHT = 100.0  # a gold (hand-labelled) line against an automatically labelled WCXB line, in the stage fit
STAGE_L2 = 1e-4
WCXB_MAX_PAGES = 6  # per WCXB site used for the stage fit
HARM_HEAD, HARM_TAIL = 90, 30  # non-blank lines of each gold single page kept in the harm sample


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- data -------------------------------------------------------------------------

def manifest(gold: Path = GOLD) -> list[dict]:
    return read_manifest(gold)


def load_gold(row: dict, gold: Path = GOLD):
    return load_labels([labels_path(gold, row)], [gold / "scrapes"])[0]


def gold_sites(gold: Path = GOLD) -> dict[str, list]:
    sites = defaultdict(list)
    for r in manifest(gold):
        if r["site_group"]:
            sites[r["site_group"]].append(load_gold(r, gold))
    return dict(sorted(sites.items()))


def gold_singles(gold: Path = GOLD) -> list[tuple[dict, object]]:
    return [(r, load_gold(r, gold)) for r in manifest(gold) if not r["site_group"]]


def wcxb_stage_sites(corpus: Path, exclude: set[str]) -> dict[str, list]:
    """Multi-page WCXB sites of the corpus (html-text, automatic labels), the gold sites left out."""
    rows = [json.loads(line) for line in (corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines() if line]
    by = defaultdict(list)
    for r in rows:
        if r["tool"] == "html-text" and not r["low_alignment"] and r["domain"] not in exclude:
            by[r["domain"]].append(r["file_id"])
    folder = corpus / "html-text"
    return {d: [load_labels([folder / f"{f}.jsonl"], [folder])[0] for f in sorted(ids)[:WCXB_MAX_PAGES]]
            for d, ids in sorted(by.items()) if len(ids) >= 2}


# -- the site stage's training rows ------------------------------------------------------

def rows_for(base, sites: dict[str, list], all_combos: bool, adapter: bool = False) -> list[dict]:
    """For each site, test page and choice of 1 or 2 other pages as the labelled ones: the
    base's log-probabilities on the test page, its site features and its labels."""
    out = []
    labels = list(base.labels)
    for dom, S in sites.items():
        n = len(S)
        for t in range(n if all_combos else min(n, 4)):
            others = [i for i in range(n) if i != t]
            for k in (1, 2):
                combos = list(itertools.combinations(others, k))
                if not combos:
                    continue
                if not all_combos:
                    combos = combos[:1]
                for combo in combos:
                    prof = fit_profile(base, [S[i] for i in combo], (), ProfileOptions(adapter=adapter))
                    pages, y = pages_and_targets([S[t]])
                    logp = np.log(np.clip(base_probabilities(base, pages), 1e-12, 1.0))
                    res = SP.residual_logits(base.featurizer, prof, pages)[0] if adapter else None
                    out.append({"site": dom, "k": k, "t": t, "combo": combo, "logp": logp,
                                "phi": SP.features(prof, SP.line_keys(pages[0]), logp, res, pages[0].words),
                                "y": np.array([labels.index(lab) for lab in y])})
    return out


def fit_stage_on(base, rows: list[dict], weights: list[float], l2: float = STAGE_L2) -> dict:
    lp = np.vstack([r["logp"] for r in rows])
    ph = np.vstack([r["phi"] for r in rows])
    y = np.concatenate([r["y"] for r in rows])
    sw = np.concatenate([np.full(len(r["y"]), w) for r, w in zip(rows, weights)])
    return SP.fit_stage(lp, ph, y, base.labels, l2=l2, sample_weight=sw)


def gold_row_weights(rows: list[dict], gold_weight: float) -> list[float]:
    """``gold_weight`` per line, scaled per site so that every site weighs as much as a
    three-page site (whose 3 test pages x 3 choices give 9 rows)."""
    per_site = defaultdict(int)
    for r in rows:
        per_site[r["site"]] += 1
    return [gold_weight * min(1.0, 9 / per_site[r["site"]]) for r in rows]


def loso_stages(base, gold_rows, wc_rows, gold_weight=GOLD_WEIGHT, l2=STAGE_L2) -> dict[str, dict]:
    stages = {}
    for s in sorted({r["site"] for r in gold_rows}):
        rows = [r for r in gold_rows if r["site"] != s]
        stages[s] = fit_stage_on(base, rows + wc_rows, gold_row_weights(rows, gold_weight) + [1.0] * len(wc_rows), l2)
    return stages


def loso_score(base, gold_rows, stages) -> dict:
    """Keep/drop accuracy per k from the rows (a quick estimate, used by --stage-grid)."""
    per = defaultdict(lambda: defaultdict(list))
    art = list(base.labels).index("article")
    for r in gold_rows:
        A = SP.stage_matrix(stages[r["site"]], base.labels)
        p = (r["logp"] + r["phi"] @ A).argmax(axis=1)
        per[r["k"]][r["site"]].append(float(np.mean((p == art) == (r["y"] == art))))
    return {k: {s: float(np.mean(v)) for s, v in d.items()} for k, d in per.items()}


# -- scoring ----------------------------------------------------------------------------

def keep_acc(y, pred) -> float:
    return float(np.mean((np.asarray(y) == "article") == (np.asarray(pred) == "article")))


def predicted(model, scrapes, sites=None) -> tuple[np.ndarray, np.ndarray]:
    pages, y = pages_and_targets(scrapes)
    proba = model.predict(pages, sites=sites)
    return y, np.array(model.labels, dtype=object)[proba.argmax(axis=1)]


def hard_transfer(base, labelled, test, alignment: bool) -> np.ndarray:
    """Labelled-line memory (and, with ``alignment``, the aligned labelled line) as hard labels."""
    prof = fit_profile(base, labelled, (), ProfileOptions(adapter=False))
    pages, _ = pages_and_targets([test])
    pred = np.array(base.labels, dtype=object)[base_probabilities(base, pages).argmax(axis=1)]
    keys = SP.line_keys(pages[0])
    for j, k in enumerate(keys):
        v = prof.memory.get(k)
        if v is not None:
            pred[j] = base.labels[int(np.argmax(v))]
    if alignment:
        K = len(base.labels)
        votes = np.zeros((len(keys), K))
        for p in prof.pages:
            m = SP.align(p.keys, keys)
            for j in np.flatnonzero(m >= 0):
                votes[j, p.labels[m[j]]] += 1
        hit = votes.sum(axis=1) > 0
        pred[hit] = np.array(base.labels, dtype=object)[votes[hit].argmax(axis=1)]
    return pred


def recognition(base, sites: dict[str, list], corpus: Path) -> dict:
    """How a page is recognised as a profile's site when no site is said (``siteprofile.recognised``):
    every profile of 1 or 2 pages of each gold site against its other pages and against every
    html-text page of the corpus of other domains and the gold single pages."""
    from noiseclf.features import Page
    from noiseclf.text import split_lines

    others = [set(SP.line_keys(Page(s.lines))) for _, s in gold_singles()]
    if (corpus / "manifest.jsonl").is_file():
        for line in (corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
            r = json.loads(line) if line else None
            if r and r["tool"] == "html-text" and r["domain"] not in sites:
                text = (corpus / "html-text" / f"{r['file_id']}.txt").read_text(encoding="utf-8")
                others.append(set(SP.line_keys(Page(split_lines(text)))))
    same, other = [], []
    for S in sites.values():
        keys = [set(SP.line_keys(Page(s.lines))) for s in S]
        for k in (1, 2):
            for combo in itertools.combinations(range(len(S)), k):
                T = fit_profile(base, [S[i] for i in combo]).template
                same += [(len(keys[t] & T), len(keys[t])) for t in range(len(S)) if t not in combo]
                other += [(len(q & T), len(q)) for q in others]

    def count(pairs, rule):
        return sum(1 for h, n in pairs if rule(h / max(n, 1), h))

    share_only = lambda sh, h: sh >= SP.RECOGNISE_SHARE and h >= SP.RECOGNISE_MIN_LINES  # noqa: E731
    return {"same_site_pairs": len(same), "other_pairs": len(other), "other_pages": len(others),
            "same_recognised": count(same, SP.recognised), "same_recognised_by_share": count(same, share_only),
            "other_recognised": count(other, SP.recognised), "other_recognised_by_share": count(other, share_only),
            "other_most_lines_unrecognised": max((h for h, n in other if not share_only(h / max(n, 1), h)), default=0)}


def word_f1_pages(wcxb: Path, corpus: Path, exclude: set[str]) -> list[tuple[str, str, str]]:
    """(domain, scrape text, ground-truth main text) of the WCXB test split's html-text pages."""
    from training.corpus import load_page, split_of

    rows = [json.loads(line) for line in (corpus / "manifest.jsonl").read_text(encoding="utf-8").splitlines() if line]
    out = []
    for r in sorted(rows, key=lambda r: r["file_id"]):
        if r["tool"] != "html-text" or split_of(r["domain"]) != "test" or r["domain"] in exclude:
            continue
        _, gt = load_page(wcxb, r["file_id"])
        gold = (gt.get("ground_truth") or {}).get("main_content") or ""
        out.append((r["domain"], (corpus / "html-text" / f"{r['file_id']}.txt").read_bytes().decode("utf-8"), gold))
    return out


def mean_word_f1(model, pages) -> float:
    from training.wordf1 import word_f1

    cleaned = model.clean_many([text for _, text, _ in pages])
    return float(np.mean([word_f1(c, g)[2] for c, (_, _, g) in zip(cleaned, pages)]))


def cli_run(labelled, site: str, exe: Path | None = None) -> dict:
    """The whole ``noiseclf train`` command for these labelled pages: its wall time, its CPU
    time (so that a slow run shows whether it computed or waited) and the time it reports
    itself from its start to the written model (the rest is start-up and imports)."""
    import re
    import resource

    exe = exe or Path(sys.executable).with_name("noiseclf")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "labels"
        d.mkdir()
        for s in labelled:
            shutil.copy(s.labels_path, d / s.labels_path.name)
            shutil.copy(s.scrape_path, d / (s.labels_path.stem + ".txt"))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run([str(exe), "train", "--labels", str(d), "--out", str(Path(tmp) / "m.noiseclf"),
                            "--site", site], capture_output=True, text=True, cwd=tmp)
        secs = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode != 0:
            log(f"noiseclf train failed ({r.returncode}): {r.stderr[-400:]}")
    inside = re.search(r"model written to .* in ([0-9.]+) s", r.stderr)
    return {"seconds": secs,
            "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "inside": float(inside.group(1)) if inside else None,
            "major_faults": after.ru_majflt - before.ru_majflt}


def cli_seconds(labelled, site: str, exe: Path | None = None) -> float:
    """Wall time of the whole ``noiseclf train`` command for these labelled pages."""
    return cli_run(labelled, site, exe)["seconds"]


def first_runs(labelled, site: str, runs: int = 3) -> list[float]:
    """``noiseclf train`` right after ``pip install .`` into a new venv: the first run (nothing
    compiled or cached by noiseclf yet), then ``runs - 1`` more. As root the page cache is
    dropped before each run, as after a reboot."""
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(ROOT)], check=True, capture_output=True)
        out = []
        for _ in range(runs):
            try:
                os.sync()
                Path("/proc/sys/vm/drop_caches").write_text("3\n")
            except OSError:
                pass  # not root: the page cache stays warm
            out.append(cli_seconds(labelled, site, venv / "bin" / "noiseclf"))
        return out


# -- the harm sample ----------------------------------------------------------------------

def write_harm_sample(out: Path) -> None:
    pages = [{"name": f"seeds/{s.name}.txt", "lines": s.lines, "labels": s.labels}
             for s in load_labels([ROOT / "labels"])]
    for r, s in gold_singles():
        content = [i for i, x in enumerate(s.labels) if x is not None]
        if len(content) > HARM_HEAD + HARM_TAIL:
            idx = sorted(set(range(content[HARM_HEAD - 1] + 1)) | set(range(content[-HARM_TAIL], len(s.lines))))
        else:
            idx = list(range(len(s.lines)))
        pages.append({"name": f"training/gold/scrapes/{r['file_id']}.txt", "domain": r["domain"],
                      "lines": [s.lines[i] for i in idx], "labels": [s.labels[i] for i in idx]})
    data = {"about": "noiseclf's harm-check sample (noiseclf/harmcheck.py): the five seeds (labels/), and excerpts "
            f"(the first {HARM_HEAD} and last {HARM_TAIL} non-blank lines) of the gold set's {len(pages) - 5} "
            "single-page sites (training/gold/, hand labels). Gold scrapes derived from WCXB v1.0 dev split, "
            "CC-BY-4.0, by Murrough Foley; html-text conversion. Written by benchmarks/adaptation.py "
            "--write-harm-sample.", "pages": pages}
    out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    log(f"wrote {out}: {len(pages)} pages, {sum(sum(1 for x in p['labels'] if x) for p in pages)} lines")


# -- main ---------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wcxb", type=Path, default=None, help="WCXB dev folder: other sites' word F1 on its test split")
    ap.add_argument("--corpus", type=Path, default=ROOT / "build" / "corpus",
                    help="corpus built by training/corpus.py (WCXB multi-page sites for the stage fit; scrapes "
                    "of the test split for word F1)")
    ap.add_argument("--chart", type=Path, default=ROOT / "benchmarks" / "adaptation.png")
    ap.add_argument("--json", type=Path, default=ROOT / "build" / "adaptation.json")
    ap.add_argument("--cli-timing", action="store_true", help="time the whole `noiseclf train` command (k=2)")
    ap.add_argument("--first-run", action="store_true",
                    help="with --cli-timing: also the first `noiseclf train` after `pip install .` into a new venv")
    ap.add_argument("--fit-site-stage", action="store_true", help="write noiseclf/site_stage_weights.json")
    ap.add_argument("--stage-grid", action="store_true", help="compare stage-fit settings (leave one site out)")
    ap.add_argument("--compare-adapter", action="store_true", help="also measure a residual adapter per site")
    ap.add_argument("--write-harm-sample", action="store_true", help="write noiseclf/harm_sample.json and stop")
    ap.add_argument("--fit-memory", action="store_true", help="(benchmarks/adaptation_wcxb.py) site-memory weights")
    ap.add_argument("--fit-drift", action="store_true", help="(benchmarks/adaptation_wcxb.py) drift thresholds")
    ap.add_argument("--only-drift", action="store_true", help="(benchmarks/adaptation_wcxb.py)")
    args, rest = ap.parse_known_args(argv)
    if args.fit_memory or args.fit_drift or args.only_drift:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import adaptation_wcxb  # the earlier benchmark, on automatic labels

        return adaptation_wcxb.main(argv)
    if rest:
        ap.error(f"unrecognised arguments: {' '.join(rest)}")
    if args.write_harm_sample:
        write_harm_sample(ROOT / "noiseclf" / "harm_sample.json")
        return 0

    t_start = time.time()
    load1 = os.getloadavg()[0]
    base = load_model()
    sites = gold_sites()
    names = sorted(sites)
    log(f"{len(names)} gold sites ({sum(len(v) for v in sites.values())} pages); load average {load1:.2f} "
        f"on {os.cpu_count()} cores")

    # -- the site stage, leave one site out --------------------------------------------
    gold_rows = rows_for(base, sites, all_combos=True)
    wc_rows = []
    if (args.corpus / "manifest.jsonl").is_file():
        wc_sites = wcxb_stage_sites(args.corpus, set(names))
        wc_rows = rows_for(base, wc_sites, all_combos=False)
        log(f"stage rows: {len(gold_rows)} gold, {len(wc_rows)} from {len(wc_sites)} WCXB sites (automatic labels)")
    else:
        log(f"no corpus at {args.corpus}: the site stage is fitted on the gold sites alone")
    recog = recognition(base, sites, args.corpus)
    log(f"recognition {recog}")
    stage_grid = []
    if args.stage_grid:
        for gw, use_wc, l2 in ((1, True, 1e-3), (1, True, 1e-4), (20, True, 1e-4), (100, True, 1e-4),
                               (1, False, 1e-4), (1, False, 1e-3)):
            sc = loso_score(base, gold_rows, loso_stages(base, gold_rows, wc_rows if use_wc else [], gw, l2))
            row = {"gold_weight": gw, "wcxb": use_wc and bool(wc_rows), "l2": l2,
                   **{f"k{k}_mean": float(np.mean(list(v.values()))) for k, v in sc.items()},
                   **{f"k{k}_min": float(min(v.values())) for k, v in sc.items()}}
            stage_grid.append(row)
            log(f"stage grid {row}")
    stages = loso_stages(base, gold_rows, wc_rows)
    if args.fit_site_stage:
        w = fit_stage_on(base, gold_rows + wc_rows, gold_row_weights(gold_rows, GOLD_WEIGHT) + [1.0] * len(wc_rows))
        w["about"] = ("the site stage (noiseclf/siteprofile.py): logit += phi @ A; fitted by benchmarks/adaptation.py "
                      "--fit-site-stage (multinomial log-loss, L2 %g)" % STAGE_L2)
        w["fitted_on"] = {"gold_sites": names, "gold_rows": len(gold_rows), "gold_weight": GOLD_WEIGHT,
                          "wcxb_rows": len(wc_rows), "wcxb_labels": "automatic (training/corpus.py), html-text"}
        out = ROOT / "noiseclf" / SP.STAGE_FILE
        out.write_text(json.dumps(w, indent=1) + "\n", encoding="utf-8")
        log(f"wrote {out}")

    # -- other sites -------------------------------------------------------------------
    singles = [s for _, s in gold_singles()]
    wf_pages = []
    if args.wcxb is not None:
        wf_pages = word_f1_pages(args.wcxb, args.corpus, set(names))
        base_f1 = mean_word_f1(base, wf_pages)
        log(f"word F1 on {len(wf_pages)} WCXB test-split pages of other sites: base {base_f1:.4f}")
    y_single, p_single = predicted(base, singles)
    base_single_keep = keep_acc(y_single, p_single)

    # -- runs ------------------------------------------------------------------------------
    runs = []
    for site in names:
        S = sites[site]
        n = len(S)
        other_gold = singles + [s for o in names if o != site for s in sites[o]]
        y_o, p_o = predicted(base, other_gold)
        base_other_keep = keep_acc(y_o, p_o)
        for k in KS:
            if k >= n:
                continue
            # k = 0: the base on each page alone, as every k > 0 run scores its pages
            combos = [(i,) for i in range(n)] if k == 0 else list(itertools.combinations(range(n), k))
            for combo in combos:
                labelled = [S[i] for i in combo] if k else []
                scored = [S[i] for i in range(n) if i not in combo] if k else [S[combo[0]]]
                common = {"site": site, "k": k, "labelled": [s.name for s in labelled]}
                if k == 0:
                    model, secs = base, 0.0
                else:
                    t0 = time.perf_counter()
                    model, report = adapt_site(base, labelled, [((site,), labelled)], stage=stages[site])
                    secs = time.perf_counter() - t0
                    common["fit_own_pages"] = report["new_data_fit"]["after"]["accuracy"]
                    # other sites, once per trained model
                    _, po = predicted(model, other_gold)
                    common["other_gold_keep_delta"] = keep_acc(y_o, po) - base_other_keep
                    common["other_gold_lines_changed"] = int(np.sum(po != p_o))
                    if wf_pages:
                        common["other_word_f1_delta"] = mean_word_f1(model, wf_pages) - base_f1
                    # the design comparison: the earlier global fine-tuning
                    tuned = fine_tune(base, labelled, AdaptOptions())
                    _, pgo = predicted(tuned, other_gold)
                    common["global_other_gold_keep_delta"] = keep_acc(y_o, pgo) - base_other_keep
                    if wf_pages:
                        common["global_other_word_f1_delta"] = mean_word_f1(tuned, wf_pages) - base_f1
                common["seconds"] = secs
                for page in scored:  # every scored page is a run
                    rec = {**common, "scored": page.name}
                    y, pred = predicted(model, [page], sites=[site])
                    _, pred_none = predicted(model, [page])
                    rec |= {"lines": int(len(y)), "keep": keep_acc(y, pred), "acc5": float(np.mean(y == pred)),
                            "keep_unsaid": keep_acc(y, pred_none), "acc5_unsaid": float(np.mean(y == pred_none))}
                    if k:
                        yg, pg = predicted(tuned, [page])
                        rec["global_keep"], rec["global_acc5"] = keep_acc(yg, pg), float(np.mean(yg == pg))
                        for name, alignment in (("memory", False), ("align", True)):
                            hp = hard_transfer(base, labelled, page, alignment)
                            rec[f"{name}_keep"], rec[f"{name}_acc5"] = keep_acc(y, hp), float(np.mean(y == hp))
                    runs.append(rec)
        log(f"{site}: " + ", ".join(f"k={k} keep {np.mean([r['keep'] for r in runs if r['site'] == site and r['k'] == k]):.3f}"
                                    for k in KS if any(r["site"] == site and r["k"] == k for r in runs)))

    cli = []
    if args.cli_timing:
        for site in names:
            for combo in itertools.combinations(range(len(sites[site])), 2):
                cli.append({"site": site, **cli_run([sites[site][i] for i in combo], site),
                            "load": os.getloadavg()[0]})
        slow = max(cli, key=lambda c: c["seconds"])
        log(f"noiseclf train, 2 pages: {np.mean([c['seconds'] for c in cli]):.2f} s mean, "
            f"{slow['seconds']:.2f} s max (run {cli.index(slow) + 1} of {len(cli)}: {slow['cpu']:.2f} s CPU, "
            f"{slow['inside']} s from its start to the written model, {slow['major_faults']} major page faults)")
    first = []
    if args.cli_timing and args.first_run:
        site = names[0]
        first = first_runs([sites[site][0], sites[site][1]], site)
        log(f"noiseclf train after a fresh install ({site}, 2 pages): " + ", ".join(f"{x:.2f}" for x in first) + " s")

    adapter_rows = None
    if args.compare_adapter:
        g_ad = rows_for(base, sites, all_combos=True, adapter=True)
        w_ad = rows_for(base, wcxb_stage_sites(args.corpus, set(names)), all_combos=False, adapter=True) if wc_rows else []
        sc = loso_score(base, g_ad, loso_stages(base, g_ad, w_ad))
        sc0 = loso_score(base, gold_rows, stages)
        adapter_rows = {f"k{k}": {"with_adapter": float(np.mean(list(sc[k].values()))),
                                  "without": float(np.mean(list(sc0[k].values())))} for k in (1, 2)}
        log(f"adapter comparison (keep/drop, rows estimate): {adapter_rows}")

    # -- tables ----------------------------------------------------------------------------
    def per_site(k, key):
        d = defaultdict(list)
        for r in runs:
            if r["k"] == k and key in r:
                d[r["site"]].append(r[key])
        return {s: float(np.mean(v)) for s, v in d.items()}

    trained = list({(r["site"], r["k"], tuple(r["labelled"])): r for r in runs}.values())  # one per model
    table = []
    for k in KS:
        if not any(r["k"] == k for r in runs):
            table.append({"k": k, "sites": 0})
            continue
        kd, a5 = per_site(k, "keep"), per_site(k, "acc5")
        row = {"k": k, "sites": len(kd), "runs": sum(1 for r in runs if r["k"] == k),
               "keep_mean": float(np.mean(list(kd.values()))), "keep_min": float(min(kd.values())),
               "keep_min_site": min(kd, key=kd.get), "acc5_mean": float(np.mean(list(a5.values()))),
               "acc5_min": float(min(a5.values())),
               "keep_unsaid_mean": float(np.mean(list(per_site(k, "keep_unsaid").values()))),
               "seconds_mean": float(np.mean([r["seconds"] for r in trained if r["k"] == k] or [0.0])),
               "seconds_max": float(np.max([r["seconds"] for r in trained if r["k"] == k] or [0.0])), "per_site": kd,
               "models": sum(1 for r in trained if r["k"] == k)}
        if k:
            og = [r["other_gold_keep_delta"] for r in trained if r["k"] == k]
            row["other_gold_keep_delta_mean"] = float(np.mean(og))
            row["other_gold_keep_delta_worst"] = float(min(og))
            row["other_gold_lines_changed"] = int(sum(r["other_gold_lines_changed"] for r in trained if r["k"] == k))
            row["fit_own_pages_min"] = float(min(r["fit_own_pages"] for r in trained if r["k"] == k))
            row["fit_own_pages_mean"] = float(np.mean([r["fit_own_pages"] for r in trained if r["k"] == k]))
            if wf_pages:
                wf = [r["other_word_f1_delta"] for r in trained if r["k"] == k]
                row["other_word_f1_delta_mean"], row["other_word_f1_delta_worst"] = float(np.mean(wf)), float(min(wf))
            for name in ("global", "memory", "align"):
                row[f"{name}_keep_mean"] = float(np.mean(list(per_site(k, f"{name}_keep").values())))
                row[f"{name}_keep_min"] = float(min(per_site(k, f"{name}_keep").values()))
                row[f"{name}_acc5_mean"] = float(np.mean(list(per_site(k, f"{name}_acc5").values())))
            row["global_other_gold_keep_delta_mean"] = float(np.mean([r["global_other_gold_keep_delta"] for r in trained if r["k"] == k]))
            if wf_pages:
                row["global_other_word_f1_delta_mean"] = float(np.mean([r["global_other_word_f1_delta"] for r in trained if r["k"] == k]))
        table.append(row)

    # the sites with pages enough for every k: the same sites at every k
    six_sites = [s for s in names if len(sites[s]) > max(KS)]
    six = {k: {"keep": {s: per_site(k, "keep")[s] for s in six_sites},
               "acc5": {s: per_site(k, "acc5")[s] for s in six_sites}} for k in KS} if six_sites else {}

    load2 = os.getloadavg()[0]
    pages_per = ", ".join(f"{sum(1 for s in names if len(sites[s]) == n)} x {n}" for n in sorted({len(v) for v in sites.values()}))
    print(f"\nTeaching a site from hand-labelled pages: {len(names)} gold sites ({pages_per} pages); base {base.path.name}; "
          f"site stage fitted leaving the scored site out; load average {load1:.2f} -> {load2:.2f} on "
          f"{os.cpu_count()} cores\n")
    wf_head = "other sites word F1 delta (mean / worst)" if wf_pages else "(no --wcxb: no word F1)"
    print(f"| pages labelled | sites | runs (models) | keep/drop, mean over sites | lowest site | 5-class | lowest | "
          f"keep/drop, site not said | {wf_head} | other gold pages keep/drop delta | retrain s (mean / max) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t in table:
        if not t["sites"]:
            print(f"| {t['k']} | 0 | – | no gold site has {t['k'] + 1} pages | | | | | | | |")
            continue
        wf = (f"{t['other_word_f1_delta_mean']:+.4f} / {t['other_word_f1_delta_worst']:+.4f}"
              if "other_word_f1_delta_mean" in t else "–")
        og = f"{t['other_gold_keep_delta_mean']:+.4f} ({t['other_gold_lines_changed']} lines changed)" if t["k"] else "–"
        secs = f"{t['seconds_mean']:.2f} / {t['seconds_max']:.2f}" if t["k"] else "–"
        print(f"| {t['k']} | {t['sites']} | {t['runs']} ({t['models']}) | {t['keep_mean']:.3f} | {t['keep_min']:.3f} ({t['keep_min_site']}) | "
              f"{t['acc5_mean']:.3f} | {t['acc5_min']:.3f} | {t['keep_unsaid_mean']:.3f} | {wf} | {og} | {secs} |")
    print("\nper site, keep/drop after 2 labelled pages: " + ", ".join(
        f"{s} {v:.3f}" for s, v in sorted(table[2]["per_site"].items(), key=lambda kv: kv[1])))
    if six:
        print(f"\nThe sites with {max(KS) + 1} or more pages alone ({', '.join(six_sites)}), keep/drop (5-class) per site:\n")
        print("| pages labelled | " + " | ".join(six_sites) + " | mean |")
        print("|---:|" + "---:|" * (len(six_sites) + 1))
        for k in KS:
            kd, a5 = six[k]["keep"], six[k]["acc5"]
            print(f"| {k} | " + " | ".join(f"{kd[s]:.3f} ({a5[s]:.3f})" for s in six_sites)
                  + f" | {np.mean(list(kd.values())):.3f} ({np.mean(list(a5.values())):.3f}) |")
    print("\nDesign comparison (same runs; keep/drop mean over sites / lowest site, 5-class; other sites):\n")
    print("| design | k=1 keep/drop | k=2 keep/drop | k=2 5-class | other gold pages keep/drop delta (k=2) | other sites word F1 delta (k=2) |")
    print("|---|---:|---:|---:|---:|---:|")
    t1, t2 = table[1], table[2]
    print(f"| base, nothing learned | {table[0]['keep_mean']:.3f} / {table[0]['keep_min']:.3f} | {table[0]['keep_mean']:.3f} / "
          f"{table[0]['keep_min']:.3f} | {table[0]['acc5_mean']:.3f} | 0 | 0 |")
    for name, label in (("global", "global fine-tuning (the earlier `train`)"), ("memory", "labelled-line memory alone, hard labels"),
                        ("align", "memory + alignment, hard labels")):
        o = (f"{t2['global_other_gold_keep_delta_mean']:+.4f}" if name == "global" else "0")
        w = (f"{t2.get('global_other_word_f1_delta_mean', float('nan')):+.4f}" if name == "global" and wf_pages
             else ("0" if name != "global" else "–"))
        print(f"| {label} | {t1[f'{name}_keep_mean']:.3f} / {t1[f'{name}_keep_min']:.3f} | {t2[f'{name}_keep_mean']:.3f} / "
              f"{t2[f'{name}_keep_min']:.3f} | {t2[f'{name}_acc5_mean']:.3f} | {o} | {w} |")
    w = f"{t2['other_word_f1_delta_mean']:+.4f}" if wf_pages else "–"
    print(f"| **site profile + learned site stage (chosen)** | {t1['keep_mean']:.3f} / {t1['keep_min']:.3f} | "
          f"{t2['keep_mean']:.3f} / {t2['keep_min']:.3f} | {t2['acc5_mean']:.3f} | {t2['other_gold_keep_delta_mean']:+.4f} | {w} |")
    if adapter_rows:
        print(f"| site stage + residual adapter (rows estimate) | {adapter_rows['k1']['with_adapter']:.3f} | "
              f"{adapter_rows['k2']['with_adapter']:.3f} | | 0 | 0 |  (same estimate without: "
              f"{adapter_rows['k1']['without']:.3f}, {adapter_rows['k2']['without']:.3f})")
    if stage_grid:
        print("\nSite stage fit settings (leave one site out, keep/drop from the rows):\n")
        print("| gold weight | WCXB rows | L2 | k=1 mean / lowest | k=2 mean / lowest |")
        print("|---:|---|---:|---:|---:|")
        for g in stage_grid:
            print(f"| {g['gold_weight']} | {'yes' if g['wcxb'] else 'no'} | {g['l2']:g} | {g['k1_mean']:.3f} / {g['k1_min']:.3f} | "
                  f"{g['k2_mean']:.3f} / {g['k2_min']:.3f} |")
    print(f"\nRecognised when no site is said (profiles of 1 or 2 pages of each gold site): "
          f"{recog['same_recognised']} of {recog['same_site_pairs']} same-site pages ({recog['same_recognised_by_share']} "
          f"by the share alone), {recog['other_recognised']} of {recog['other_pairs']} (profile, other page) pairs over "
          f"{recog['other_pages']} pages of other domains ({recog['other_recognised_by_share']} by the share alone); "
          f"unrecognised by the share, other pages hold at most {recog['other_most_lines_unrecognised']} template lines")
    if cli:
        print(f"\n`noiseclf train` for 2 labelled pages, start-up included ({len(cli)} runs): "
              f"{np.mean([c['seconds'] for c in cli]):.2f} s mean, {max(c['seconds'] for c in cli):.2f} s max "
              f"(load average during the runs {np.mean([c['load'] for c in cli]):.2f} on {os.cpu_count()} cores)")
        slow = max(cli, key=lambda c: c["seconds"])
        print(f"the slowest, run {cli.index(slow) + 1}: {slow['seconds']:.2f} s wall, {slow['cpu']:.2f} s CPU, "
              f"{slow['inside']} s from the command's start to the written model, {slow['major_faults']} major page "
              f"faults; the median run: {np.median([c['cpu'] for c in cli]):.2f} s CPU, "
              f"{np.median([c['inside'] or 0 for c in cli]):.2f} s inside")
    if first:
        print(f"right after `pip install .` into a new venv, page cache dropped: first run {first[0]:.2f} s, "
              f"then {', '.join(f'{x:.2f}' for x in first[1:])} s")
    print("\naccuracy on the user's own labelled pages after training: "
          + ", ".join(f"k={t['k']} mean {t['fit_own_pages_mean']:.3f}, lowest {t['fit_own_pages_min']:.3f}" for t in table if t.get('k') and t['sites'])
          + "; "
          f"gold single-page sites keep/drop with the base {base_single_keep:.3f}; total {time.time() - t_start:.0f} s")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"table": table, "six_page_sites": six, "runs": runs, "cli": cli, "first_run": first, "stage_grid": stage_grid,
                                     "recognition": recog, "adapter": adapter_rows, "load": [load1, load2]}, indent=1, default=str))
    chart(table, six, cli, args.chart, bool(wf_pages))
    return 0


def chart(table, six, cli, path: Path, word_f1: bool) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib is not installed (pip install '.[train]'): no chart")
        return
    every = max(t["sites"] for t in table)
    rows = [t for t in table if t["sites"] == every]  # the k that every site has pages for
    ks = [t["k"] for t in rows]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    ax.plot(ks, [t["keep_mean"] for t in rows], "o-", label="keep/drop, mean over sites (site said)")
    ax.plot(ks, [t["keep_min"] for t in rows], "v--", label="keep/drop, lowest site")
    ax.plot(ks, [t["acc5_mean"] for t in rows], "s-", label="5-class accuracy, mean over sites")
    ax.plot(ks, [t["keep_unsaid_mean"] for t in rows], "d:", label="keep/drop, site not said")
    ks_g = [t["k"] for t in rows if t["k"]]
    ax.plot(ks_g, [t["global_keep_mean"] for t in rows if t["k"]], "x:", color="grey",
            label="keep/drop with the earlier global fine-tuning")
    if six:
        ax.plot(list(six), [np.mean(list(v["keep"].values())) for v in six.values()], "P-", color="tab:purple",
                label=f"keep/drop, the {len(next(iter(six.values()))['keep'])} six-page sites")
    ax.axhline(0.98, color="green", lw=0.8, ls="--")
    ax.axhline(0.95, color="grey", lw=0.8, ls="--")
    for t in rows:
        if t["k"]:
            ax.annotate(f"{t['seconds_mean']:.2f}s", (t["k"], t["keep_mean"]), textcoords="offset points",
                        xytext=(4, 6), fontsize=8)
    ax.set_xticks(sorted(set(ks) | set(six)))
    ax.set_xlabel("pages of the site labelled")
    ax.set_ylabel("accuracy on the site's other pages")
    ax.set_ylim(0.4, 1.0)
    ax.set_title(f"{rows[0]['sites']} hand-labelled sites (retraining time annotated)", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    labels, vals = [], []
    for t in rows:
        if t["k"]:
            if word_f1:
                labels.append(f"site profile\nk={t['k']}")
                vals.append(t["other_word_f1_delta_mean"])
                labels.append(f"global\nk={t['k']}")
                vals.append(t.get("global_other_word_f1_delta_mean", 0.0))
            else:
                labels += [f"site profile\nk={t['k']}", f"global\nk={t['k']}"]
                vals += [t["other_gold_keep_delta_mean"], t["global_other_gold_keep_delta_mean"]]
    ax2.bar(range(len(vals)), vals, color=["tab:blue", "tab:grey"] * (len(vals) // 2))
    for i, v in enumerate(vals):
        ax2.annotate(f"{v:+.4f}", (i, v), textcoords="offset points", xytext=(0, 3 if v >= 0 else -10),
                     ha="center", fontsize=7)
    ax2.axhline(-0.005, color="red", lw=0.8, ls="--")
    ax2.axhline(0, color="black", lw=0.6)
    ax2.set_xticks(range(len(vals)))
    ax2.set_xticklabels(labels, fontsize=7)
    ax2.set_ylabel("other sites' pages: word F1 change" if word_f1 else "other gold pages: keep/drop change")
    ax2.set_ylim(min(-0.01, min(vals) - 0.002), 0.003)
    if cli:
        ax2.set_title(f"`noiseclf train`, 2 pages: {np.mean([c['seconds'] for c in cli]):.1f} s mean", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    log(f"chart written to {path}")


if __name__ == "__main__":
    sys.exit(main())
