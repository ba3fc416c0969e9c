"""The earlier adaptation benchmark, on WCXB's automatic line labels (global fine-tuning).

``benchmarks/adaptation.py`` (hand labels, site profiles) is the adaptation
benchmark now; this one is kept because it fits the site-memory weights
(``--fit-memory``) and the drift thresholds (``--fit-drift``, ``--only-drift``),
which ``benchmarks/adaptation.py`` hands over to it.

    python benchmarks/adaptation_wcxb.py --wcxb /work/shared/data/wcxb-dev \\
        [--corpus build/corpus] [--tool html-text] [--base-pages 300] \\
        [--chart build/adaptation.png] [--json build/adaptation.json] \\
        [--fit-memory] [--fit-drift]

The data (never committed) is the WCXB dev split. Pages are turned into
scrapes with one HTML-to-text tool (html-text by default) and labelled line by
line *automatically* by the corpus builder (``training/corpus.py``: alignment
with WCXB's human-reviewed main text, DOM position for the noise class). Those
automatic labels stand in for "the user" who labels pages, and for the truth
on the pages we score: they are good but not perfect, so the figures measure
agreement with the corpus labels.

Method
------
1. The *base model*, one the evaluated sites are new to:

   * ``--base shipped`` (default): the shipped model, which is trained on the
     corpus's ``train`` split (training/build_model.py); the evaluated sites
     are the multi-page sites of the ``test`` split (``training.corpus.split_of``),
     so it has seen none of their pages;
   * ``--base holdout``: a model trained here from scratch on the seeds plus
     ``--base-pages`` WCXB pages of sites with a single page in WCXB, so every
     multi-page site, of either split, can be evaluated;
   * ``--base PATH``: a model file (evaluated on the test-split sites).
2. For each evaluated site and each k in 0, 1, 2, 5 (when the site has more
   than k pages): the base is fine-tuned (``noiseclf.adapt.fine_tune``) on k
   of its pages and scored on the site's other pages (line accuracy). Every
   k uses the same scored pages for a site, and the choice of pages rotates
   (up to 3 rotations per site). Retraining time is the wall time of
   ``fine_tune``.
3. "+ memory": the same, with the recurrence of lines across the site's pages
   (``noiseclf.memory``) as the cleaner uses it when a site's pages are
   cleaned together.
4. Kept knowledge: accuracy on *other* unseen sites before and after each
   fine-tuning (the model must not get worse elsewhere), and on the seeds.
5. The fine-tuning strength C is chosen on a grid at k = 2 (first rotation),
   weighing the site's accuracy against the accuracy kept elsewhere.

``--fit-memory`` fits the site-memory weights (noiseclf/site_memory_weights.json)
on the base's predictions for these unseen sites, with a 2-fold split by
site to report their effect honestly before fitting on all of them.
``--fit-drift`` writes the drift thresholds (noiseclf/drift_thresholds.json)
from the shipped model's per-page statistics on these pages.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from noiseclf.adapt import AdaptOptions, DEFAULT_C, fine_tune  # noqa: E402
from noiseclf.features import Page  # noqa: E402
from noiseclf.labels import load_labels  # noqa: E402
from noiseclf.memory import SiteMemory, adjust, fit_weights  # noqa: E402
from noiseclf.model import decide  # noqa: E402
from noiseclf.settings import Settings  # noqa: E402
from noiseclf.train import fit, pages_and_targets  # noqa: E402

KS = (0, 1, 2, 5)
ROTATIONS = 3
ELSEWHERE = 5  # pages of other unseen sites scored to measure what fine-tuning costs elsewhere


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def domains(wcxb: Path) -> dict[str, str]:
    meta = json.loads((wcxb / "metadata.json").read_text(encoding="utf-8"))["files"]
    return {fid: v.get("domain") or "" for fid, v in meta.items()}


def ensure_corpus(wcxb: Path, corpus_dirs: list[Path], tool: str, ids: list[str], cache: Path) -> dict[str, Path]:
    """{file id: folder holding <id>.txt and <id>.jsonl}; builds the missing pages into ``cache``."""
    where: dict[str, Path] = {}
    for d in corpus_dirs + [cache]:
        folder = d / tool
        for fid in ids:
            if fid not in where and (folder / f"{fid}.txt").is_file() and (folder / f"{fid}.jsonl").is_file():
                where[fid] = folder
    missing = [fid for fid in ids if fid not in where]
    if missing:
        log(f"building {len(missing)} missing page(s) with {tool} into {cache} (training/corpus.py)")
        from training.corpus import build_corpus

        build_corpus(wcxb, cache, tools=(tool,), ids=missing, log=sys.stderr)
        for fid in missing:
            if (cache / tool / f"{fid}.jsonl").is_file():
                where[fid] = cache / tool
    return where


def load_pages(where: dict[str, Path], ids: list[str]):
    out = {}
    for fid in ids:
        if fid in where:
            try:
                out[fid] = load_labels([where[fid] / f"{fid}.jsonl"], [where[fid]])[0]
            except Exception as exc:  # noqa: BLE001 - a page the tool mangled is skipped, and said so
                log(f"skipped {fid}: {exc}")
    return out


ACC_KEEP: list[float] = []  # keep/drop (article or not) accuracy of the latest acc() call, at [-1]


def acc(model, scrapes, weights=None, site_pages=None):
    """Pooled line accuracy and line count; with ``weights`` also the accuracy with the
    site memory of ``site_pages`` (returned as a third value)."""
    pages, y = pages_and_targets(scrapes)
    if not len(y):
        return (0.0, 0) if weights is None else (0.0, 0, 0.0)
    proba = model.predict(pages)
    labels = np.array(model.labels, dtype=object)
    pred = labels[decide(proba, model.labels).best]
    plain = float(np.mean(pred == y))
    ACC_KEEP.append(float(np.mean((pred == "article") == (y == "article"))))
    if weights is None:
        return plain, int(len(y))
    mem = SiteMemory()
    for s in site_pages or []:
        mem.observe("site", Page(s.lines))
    row, parts = 0, []
    for p in pages:
        share, others = mem.recurrence("site", p)
        parts.append(adjust(proba[row:row + len(p)], share, others, model.labels, weights))
        row += len(p)
    with_mem = float(np.mean(labels[decide(np.vstack(parts), model.labels).best] == y))
    return plain, int(len(y)), with_mem


def plan(pages: list, rotation: int, k_max: int):
    """(labelled pool order, scored pages): scored = the pages not among the first k_max of the rotation."""
    n = len(pages)
    order = pages[rotation:] + pages[:rotation]
    k_max = min(k_max, n - 1)
    return order[:k_max], order[k_max:]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wcxb", type=Path, required=True, help="WCXB dev folder (html/, ground-truth/, metadata.json)")
    ap.add_argument("--corpus", type=Path, action="append", default=[],
                    help="corpus folder(s) already built by training/corpus.py (reused when they hold a page)")
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "adaptation-corpus",
                    help="where missing pages are built")
    ap.add_argument("--tool", default="html-text")
    ap.add_argument("--base", default="shipped", help="shipped, holdout, or a model file (see above)")
    ap.add_argument("--base-pages", type=int, default=150, help="pages the holdout base is trained on")
    ap.add_argument("--min-pages", type=int, default=2)
    ap.add_argument("--grid", default="0.3,1,3,10", help="values of C tried at k=2")
    ap.add_argument("--pull-grid", default="1,10", help="values of layout_pull tried at k=2")
    ap.add_argument("--chart", type=Path, default=ROOT / "build" / "adaptation.png")
    ap.add_argument("--json", type=Path, default=ROOT / "build" / "adaptation.json")
    ap.add_argument("--fit-memory", action="store_true", help="write noiseclf/site_memory_weights.json")
    ap.add_argument("--fit-drift", action="store_true", help="write noiseclf/drift_thresholds.json")
    ap.add_argument("--only-drift", action="store_true",
                    help="only refit the drift thresholds for the shipped model (after it is retrained), "
                    "on the test-split pages of the corpus")
    args = ap.parse_args(argv)

    t_start = time.time()
    dom = domains(args.wcxb)
    by_site = defaultdict(list)
    for fid, d in sorted(dom.items()):
        by_site[d].append(fid)
    holdout = args.base == "holdout"
    if not holdout:
        from training.corpus import split_of
    sites = {d: ids for d, ids in by_site.items()
             if d and len(ids) >= args.min_pages and (holdout or split_of(d) == "test")}
    singles = sorted((ids[0] for d, ids in by_site.items() if d and len(ids) == 1),
                     key=lambda f: hashlib.sha1(f.encode()).hexdigest())
    corpus_dirs = [d for d in args.corpus] or [ROOT / "build" / "corpus"]
    need = sorted({f for ids in sites.values() for f in ids})
    where = ensure_corpus(args.wcxb, corpus_dirs, args.tool, need, args.cache)
    # the base's pages: single-page sites already in a corpus folder first, then built ones
    have = [f for f in singles if any((d / args.tool / f"{f}.jsonl").is_file() for d in corpus_dirs + [args.cache])]
    base_ids = (have + [f for f in singles if f not in have])[: args.base_pages] if holdout else []
    where.update(ensure_corpus(args.wcxb, corpus_dirs, args.tool, base_ids, args.cache))
    site_pages = {d: [s for s in load_pages(where, ids).values()] for d, ids in sites.items()}
    site_pages = {d: v for d, v in site_pages.items() if len(v) >= args.min_pages}
    base_scrapes = list(load_pages(where, base_ids).values())
    seeds = load_labels([ROOT / "labels"])
    log(f"{len(site_pages)} evaluated sites ({sum(len(v) for v in site_pages.values())} pages); "
        f"base trained on {len(base_scrapes)} single-site pages + {len(seeds)} seeds")

    if args.only_drift:
        fit_drift(site_pages, [], args.tool)
        return 0
    t0 = time.time()
    if holdout:
        from noiseclf.labels import labels_hash
        from noiseclf.modelfile import load_model, save_model

        key = labels_hash(base_scrapes + seeds).split(":")[1][:16]
        cached = args.cache / f"base-{key}.noiseclf"
        if cached.is_file():
            base = load_model(cached)
        else:
            base = fit(base_scrapes + seeds, Settings())
            save_model(base, cached)
        base_name = f"trained here on {len(base_scrapes)} single-site pages + seeds ({cached.name})"
    else:
        from noiseclf.modelfile import default_model_path, load_model

        base_path = default_model_path() if args.base == "shipped" else Path(args.base)
        base = load_model(base_path)
        td = base.meta.get("training_data") or {}
        base_name = f"{base_path.name} ({td.get('scrapes', '?')} scrapes, {td.get('lines', '?')} lines)"
    base_seconds = time.time() - t0
    log(f"base model: {base_name}, {base_seconds:.0f} s")

    names = sorted(site_pages)
    # scored pages of the other sites, to measure what fine-tuning costs elsewhere
    elsewhere = {d: [s for e in names if e != d for s in site_pages[e][:1]] for d in names}

    # -- choose C -------------------------------------------------------------
    grid = [(float(c), float(p)) for c in args.grid.split(",") if c for p in args.pull_grid.split(",") if p]
    choice = []
    for C, pull in grid:
        site_acc, other_acc = [], []
        for d in names:
            pool, scored = plan(site_pages[d], 0, 5)
            if len(pool) < 2:
                continue
            tuned = fine_tune(base, pool[:2], AdaptOptions(C=C, layout_pull=pull))
            a, n = acc(tuned, scored)
            site_acc.append(a)
            other_acc.append(acc(tuned, elsewhere[d][:ELSEWHERE])[0])
        choice.append({"C": C, "layout_pull": pull, "site_accuracy": float(np.mean(site_acc)), "elsewhere_accuracy": float(np.mean(other_acc))})
        log(f"C={C:g} pull={pull:g}: site {choice[-1]['site_accuracy']:.4f}, elsewhere {choice[-1]['elsewhere_accuracy']:.4f}")
    base_elsewhere = float(np.mean([acc(base, elsewhere[d][:ELSEWHERE])[0] for d in names]))
    # best site accuracy among the C that lose at most 1 point elsewhere
    ok = [c for c in choice if c["elsewhere_accuracy"] >= base_elsewhere - 0.01] or choice
    best = max(ok, key=lambda c: c["site_accuracy"])
    best_C, best_pull = best["C"], best["layout_pull"]
    log(f"base elsewhere {base_elsewhere:.4f}; chosen C = {best_C:g}, layout_pull = {best_pull:g} "
        f"(shipped defaults {DEFAULT_C:g}, {AdaptOptions().layout_pull:g})")

    # -- memory weights: 2-fold by site, then on all ----------------------------
    def memory_rows(ds):
        rows = []
        for d in ds:
            pages = site_pages[d]
            for m in sorted({2, 3, len(pages)}):
                if m > len(pages):
                    continue
                subset = pages[:m]
                mem = SiteMemory()
                for s in subset:
                    mem.observe(d, Page(s.lines))
                for s in subset:
                    p = Page(s.lines)
                    share, others = mem.recurrence(d, p)
                    _, y = pages_and_targets([s])
                    rows.append((np.log(np.clip(base.predict([p]), 1e-12, 1)), share,
                                 np.full(len(share), math.log1p(others)),
                                 np.array([base.labels.index(lab) for lab in y])))
        return [np.concatenate(c) for c in zip(*rows)]

    folds = [names[0::2], names[1::2]]
    mem_report = []
    fold_weights = []
    for i, train_sites in enumerate(folds):
        lp, sh, gp, yy = memory_rows(train_sites)
        w = fit_weights(lp, sh, gp, yy, base.labels)
        fold_weights.append(w)
        lp2, sh2, gp2, yy2 = memory_rows(folds[1 - i])
        wt = {k: tuple(v) for k, v in w.items()}
        before = float(np.mean(lp2.argmax(1) == yy2))
        shift = np.array([[wt[lab][0] + wt[lab][1] * g for lab in base.labels] for g in gp2])
        after = float(np.mean((lp2 + sh2[:, None] * shift).argmax(1) == yy2))
        mem_report.append({"fit_on": len(train_sites), "scored_sites": len(folds[1 - i]),
                           "accuracy_without": before, "accuracy_with": after, "weights": w})
        log(f"memory fold {i}: unseen-site accuracy {before:.4f} -> {after:.4f} with recurrence")
    lp, sh, gp, yy = memory_rows(names)
    weights_all = fit_weights(lp, sh, gp, yy, base.labels)
    wtuple = {k: tuple(v) for k, v in weights_all.items()}
    if args.fit_memory:
        out = ROOT / "noiseclf" / "site_memory_weights.json"
        out.write_text(json.dumps({
            "about": "site-memory weights (a, b) per label: logit += share * (a + b * log(1 + other pages)); "
                     "fitted by benchmarks/adaptation.py --fit-memory",
            "fitted_on": {"sites": len(names), "pages": sum(len(site_pages[d]) for d in names),
                          "tool": args.tool, "labels": "automatic WCXB line labels (training/corpus.py)"},
            "cross_fitted": [{k: v for k, v in r.items() if k != "weights"} for r in mem_report],
            "weights": weights_all,
        }, indent=1) + "\n", encoding="utf-8")
        log(f"wrote {out}")

    # -- the adaptation table ---------------------------------------------------
    results = []
    for d in names:
        pages = site_pages[d]
        for r in range(min(ROTATIONS, len(pages))):
            pool, scored = plan(pages, r, 5)
            all_site = pool + scored
            for k in KS:
                if k > len(pool):
                    continue
                if k == 0:
                    model, secs = base, 0.0
                else:
                    t0 = time.perf_counter()
                    model = fine_tune(base, pool[:k], AdaptOptions(C=best_C, layout_pull=best_pull))
                    secs = time.perf_counter() - t0
                a, n, am = acc(model, scored, weights=wtuple, site_pages=all_site)
                akeep = ACC_KEEP[-1]
                other = acc(model, elsewhere[d][:ELSEWHERE])[0]
                seeds_acc = acc(model, seeds)[0]
                results.append({"site": d, "rotation": r, "k": k, "accuracy": a, "accuracy_memory": am, "keep_accuracy": akeep,
                                "lines": n, "seconds": secs, "elsewhere": other, "seeds": seeds_acc,
                                "pages": len(pages)})
        log(f"{d}: " + ", ".join(f"k={x['k']} {x['accuracy']:.3f}" for x in results if x["site"] == d and x["rotation"] == 0))

    # -- report -----------------------------------------------------------------
    def summary(k, key):
        rows = [x for x in results if x["k"] == k]
        if not rows:
            return None
        per_site = defaultdict(list)
        for x in rows:
            per_site[x["site"]].append(x[key])
        pooled = sum(x[key] * x["lines"] for x in rows) / max(1, sum(x["lines"] for x in rows))
        return {"sites": len(per_site), "runs": len(rows), "mean_site": float(np.mean([np.mean(v) for v in per_site.values()])),
                "pooled": float(pooled), "median_site": float(np.median([np.mean(v) for v in per_site.values()]))}

    table = []
    for k in KS:
        s, m, kd = summary(k, "accuracy"), summary(k, "accuracy_memory"), summary(k, "keep_accuracy")
        if not s:
            continue
        rows = [x for x in results if x["k"] == k]
        table.append({"k": k, **{f"acc_{a}": b for a, b in s.items()}, "acc_memory_mean_site": m["mean_site"],
                      "keep_mean_site": kd["mean_site"], "keep_pooled": kd["pooled"],
                      "acc_memory_pooled": m["pooled"],
                      "seconds_mean": float(np.mean([x["seconds"] for x in rows])),
                      "seconds_max": float(np.max([x["seconds"] for x in rows])),
                      "elsewhere": float(np.mean([x["elsewhere"] for x in rows])),
                      "seeds": float(np.mean([x["seeds"] for x in rows])),
                      "sites_at_95": int(sum(1 for dd in {x['site'] for x in rows}
                                             if np.mean([x['accuracy'] for x in rows if x['site'] == dd]) >= 0.95))})
    print(f"\nAdaptation to unseen sites ({len(names)} sites with >= {args.min_pages} pages, tool {args.tool}, "
          f"C = {best_C:g}, layout_pull = {best_pull:g}; base: {base_name})\n")
    print(f"{'pages labelled':>14} {'sites':>6} {'runs':>5} {'acc (mean/site)':>16} {'median':>7} {'pooled':>7} "
          f"{'+memory':>8} {'keep/drop':>9} {'sites>=95%':>10} {'elsewhere':>10} {'seeds':>6} {'retrain s (mean/max)':>21}")
    for t in table:
        print(f"{t['k']:>14} {t['acc_sites']:>6} {t['acc_runs']:>5} {t['acc_mean_site']:>16.4f} {t['acc_median_site']:>7.4f} "
              f"{t['acc_pooled']:>7.4f} {t['acc_memory_mean_site']:>8.4f} {t['keep_mean_site']:>9.4f} {t['sites_at_95']:>10} {t['elsewhere']:>10.4f} "
              f"{t['seeds']:>6.4f} {t['seconds_mean']:>10.2f}/{t['seconds_max']:<10.2f}")
    print("\nC grid at k=2 (first rotation): " + "; ".join(
        f"C={c['C']:g}/pull {c['layout_pull']:g} site {c['site_accuracy']:.4f} elsewhere {c['elsewhere_accuracy']:.4f}" for c in choice)
        + f"; base elsewhere {base_elsewhere:.4f}")
    print("site memory, fitted on half the sites, scored on the other half: " + "; ".join(
        f"{r['accuracy_without']:.4f} -> {r['accuracy_with']:.4f}" for r in mem_report))
    per_site_k2 = defaultdict(list)
    for x in results:
        if x["k"] == 2:
            per_site_k2[x["site"]].append(x["accuracy"])
    print("per site at k=2: " + ", ".join(f"{d} {np.mean(v):.3f}" for d, v in sorted(per_site_k2.items(), key=lambda kv: np.mean(kv[1]))))
    print(f"\ntotal {time.time() - t_start:.0f} s")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"table": table, "C_grid": choice, "C": best_C, "layout_pull": best_pull, "memory": mem_report,
                                     "memory_weights": weights_all, "runs": results,
                                     "base": base_name, "base_seconds": base_seconds}, indent=1))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.2))
        ks = [t["k"] for t in table]
        ax.plot(ks, [t["acc_mean_site"] for t in table], "o-", label="line accuracy on the site's other pages")
        ax.plot(ks, [t["acc_memory_mean_site"] for t in table], "s--", label="... with site memory")
        ax.plot(ks, [t["keep_mean_site"] for t in table], "d-", label="keep/drop accuracy (article or not)")
        ax.plot(ks, [t["elsewhere"] for t in table], "^:", label="accuracy on other unseen sites")
        ax.axhline(0.95, color="grey", lw=0.8, ls="--")
        for t in table:
            ax.annotate(f"{t['seconds_mean']:.1f}s", (t["k"], t["acc_mean_site"]), textcoords="offset points",
                        xytext=(4, -12), fontsize=8)
        ax.set_xlabel("pages of the site labelled")
        ax.set_ylabel("line accuracy (mean over sites)")
        ax.set_xticks(ks)
        ax.set_ylim(min(0.5, min(t["acc_mean_site"] for t in table) - 0.05), 1.0)
        ax.set_title(f"Adapting to {len(names)} unseen WCXB sites (retraining time annotated)")
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        args.chart.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.chart, dpi=120)
        log(f"chart written to {args.chart}")
    except ImportError:
        log("matplotlib is not installed (pip install '.[train]'): no chart")

    if args.fit_drift:
        fit_drift(site_pages, base_scrapes if not holdout else [], args.tool)
    return 0


def fit_drift(site_pages: dict, extra: list, tool: str) -> None:
    """Drift thresholds of the shipped model, from pages of sites it did not train on."""
    from noiseclf.drift import calibrate
    from noiseclf.modelfile import load_model

    shipped = load_model()
    scored = [s for pages in site_pages.values() for s in pages] + list(extra)
    th = calibrate(shipped, scored)
    th["fitted_on"] = {"pages": len(scored), "tool": tool,
                       "source": "WCXB dev pages of sites the model did not train on (benchmarks/adaptation.py --fit-drift)"}
    out = ROOT / "noiseclf" / "drift_thresholds.json"
    out.write_text(json.dumps(th, indent=1) + "\n", encoding="utf-8")
    log(f"wrote {out}: {th}")


if __name__ == "__main__":
    sys.exit(main())
