"""Evaluate a model on held-out domains and write training/REPORT.md with a chart.

    python -m training.report --wcxb /path/to/wcxb-dev --corpus build/corpus

On the corpus's ``test`` split (domains the shipped model never saw):

* line labels: per-class precision/recall/F1 and macro-F1, overall and per
  scraping tool, against the corpus's automatic labels;
* main-text word F1 of ``noiseclf clean`` on every tool's scrape against the
  ground truth, beside trafilatura, jusText and readability-lxml on the HTML
  and C4-style line rules and keep-everything on the text — by page type and
  by tool, all in the same run;
* calibration: a reliability curve of the article probability on the held-out
  lines (the probability ``clean --min-probability`` compares), and word F1 at
  each ``--min-probability`` (the precision/recall control);
* the gold set's held-out pages (``training/gold/test``, human labels): what
  ``noiseclf evaluate --labels training/gold/test`` prints, plus keep/drop accuracy;
* the seeds: every hand-labelled article line must be kept.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

from noiseclf import load_model
from noiseclf.labels import load_labels
from noiseclf.text import split_lines
from noiseclf.train import evaluate

from .baselines import FAILURES, aggregate, evaluate_systems
from .build_model import TOOLS, load_rows, read_manifest, select

ROOT = Path(__file__).resolve().parent.parent


def _table(header: list[str], rows: list[list]) -> str:
    def fmt(v):
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(out)


def _class_tables(m: dict, truth: str) -> list[str]:
    """Per-class precision/recall/F1 and the confusion matrix of ``evaluate``'s metrics, as markdown."""
    labels = m["confusion"]["labels"]
    return [_table(["label", "precision", "recall", "F1", "support"],
                   [[lab, r["precision"], r["recall"], r["f1"], r["support"]] for lab, r in m["per_class"].items()]),
            "", f"Confusion matrix (rows: {truth}, columns: predicted):", "",
            _table(["", *labels], [[lab, *row] for lab, row in zip(labels, m["confusion"]["matrix"])])]


def seed_check(model, labels_dir: Path) -> dict:
    kept_all, missing = 0, []
    scrapes = load_labels([labels_dir])
    for s in scrapes:
        article = [t for _, t, lab in s.labelled_lines() if lab == "article"]
        kept = [l for l in split_lines(model.clean(s.text)) if l.strip()]
        lost = [t for t in article if t not in kept]
        extra = len(kept) - (len(article) - len(lost))
        if not lost:
            kept_all += 1
        missing.append({"seed": s.name, "article_lines": len(article), "lost": len(lost), "extra_kept": extra})
    return {"seeds_all_article_kept": kept_all, "seeds": len(scrapes), "detail": missing}


def gold_check(model, gold_dir: Path) -> dict:
    """Line labels on the gold set's held-out pages against the human labels (the same
    ``evaluate`` as ``noiseclf evaluate``), with keep/drop accuracy and macro-F1 by page type."""
    from .gold import labels_path, read_manifest

    rows = [r for r in read_manifest(gold_dir) if r["split"] == "test"]
    scrapes = load_labels([labels_path(gold_dir, r) for r in rows], [gold_dir / "scrapes"])
    res = evaluate(model, scrapes)
    m, a = res["confusion"]["matrix"], res["confusion"]["labels"].index("article")
    noise = [k for k in range(len(m)) if k != a]
    res["keep_drop_accuracy"] = (m[a][a] + sum(m[i][j] for i in noise for j in noise)) / res["lines"]
    # What `clean` keeps (the label, then the page-relative drop) against the human article lines.
    right = total = 0
    for s in scrapes:
        verdicts = model.classify(s.lines)
        pairs = [(v.keep, lab == "article") for v, lab in zip(verdicts, s.labels) if lab is not None]
        right += sum(k == t for k, t in pairs)
        total += len(pairs)
    res["kept_accuracy"] = right / total if total else float("nan")
    types = sorted({r["page_type"] for r in rows})
    res["macro_f1_by_page_type"] = {
        t: evaluate(model, [s for s, r in zip(scrapes, rows) if r["page_type"] == t])["macro_f1"] for t in types}
    res["pages"] = len(rows)
    return res


RELIABILITY_BINS = 10
MIN_PROBABILITIES = (None, 0.5, 0.6, 0.7, 0.8, 0.9)


def reliability(model, scrapes) -> dict:
    """Per bin of the predicted article probability: lines, mean probability, share truly article."""
    import numpy as np

    from noiseclf.features import Page

    art = list(model.labels).index("article")
    p_all, y_all = [], []
    for s in scrapes:
        page = Page(s.lines)
        labs = [s.labels[i] for i in page.content]
        p = model.predict([page])[:, art]
        known = np.array([lab is not None for lab in labs], dtype=bool)
        p_all.append(p[known])
        y_all.append(np.array([lab == "article" for lab, k in zip(labs, known) if k], dtype=bool))
    p, y = np.concatenate(p_all), np.concatenate(y_all)
    b = np.minimum((p * RELIABILITY_BINS).astype(int), RELIABILITY_BINS - 1)
    bins = []
    for k in range(RELIABILITY_BINS):
        m = b == k
        if m.any():
            bins.append({"bin": f"{k / RELIABILITY_BINS:.1f}-{(k + 1) / RELIABILITY_BINS:.1f}", "lines": int(m.sum()),
                         "mean_probability": float(p[m].mean()), "article_share": float(y[m].mean())})
    ece = sum(x["lines"] * abs(x["mean_probability"] - x["article_share"]) for x in bins) / len(p)
    return {"bins": bins, "ece": float(ece), "lines": int(len(p))}


def precision_control(model, scrapes, wcxb: Path) -> list[dict]:
    """Word F1 (article pages / all pages) of the html-text scrapes at each ``min_probability``."""
    import numpy as np

    from noiseclf.clean import Cleaner, Scrape

    from .corpus import load_page
    from .wordf1 import word_f1

    html_text = [s for s in scrapes if s.meta["tool"] == "html-text"]
    gold = {s.meta["file_id"]: (load_page(wcxb, s.meta["file_id"])[1].get("ground_truth") or {}).get("main_content") or ""
            for s in html_text}
    out = []
    for mp in MIN_PROBABILITIES:
        cleaner = Cleaner(model, drift=False, min_probability=mp)
        res = [word_f1(r.text, gold[s.meta["file_id"]])
               for s, r in zip(html_text, cleaner.clean(Scrape(s.text) for s in html_text))]
        arts = [r for r, s in zip(res, html_text) if s.meta.get("page_type") == "article"]
        out.append({"min_probability": mp, "article": [float(x) for x in np.mean(arts, axis=0)],
                    "all": [float(x) for x in np.mean(res, axis=0)], "pages": len(res)})
    return out


def reliability_chart(rel: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4.6))
    xs = [b["mean_probability"] for b in rel["bins"]]
    ys = [b["article_share"] for b in rel["bins"]]
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="calibrated")
    ax.plot(xs, ys, marker="o", color="#3b7dd8", label=f"noiseclf (ECE {rel['ece']:.3f})")
    for x, y, b in zip(xs, ys, rel["bins"]):
        ax.annotate(f"{b['lines']:,}", (x, y), textcoords="offset points", xytext=(4, -10), fontsize=6)
    ax.set_xlabel("predicted article probability (bin mean)")
    ax.set_ylabel("share of lines that are article")
    ax.set_title("Reliability on held-out domains")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def chart(agg: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = sorted(agg["overall"], key=lambda s: -agg["overall"][s]["all"][2])
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    ax = axes[0]
    width = 0.38
    xs = range(len(systems))
    art = [agg["overall"][s].get("article", (0, 0, 0, 0))[2] for s in systems]
    alls = [agg["overall"][s]["all"][2] for s in systems]
    ax.bar([x - width / 2 for x in xs], art, width, label="article pages", color="#3b7dd8")
    ax.bar([x + width / 2 for x in xs], alls, width, label="all page types", color="#9bbbe8")
    for x, a, b in zip(xs, art, alls):
        ax.text(x - width / 2, a + 0.01, f"{a:.2f}", ha="center", fontsize=7)
        ax.text(x + width / 2, b + 0.01, f"{b:.2f}", ha="center", fontsize=7)
    ax.set_xticks(list(xs), systems, rotation=20, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("mean main-text word F1")
    ax.set_title("Held-out domains: word F1 against the ground truth")
    ax.legend(loc="lower left", fontsize=8)

    ax = axes[1]
    tools = [t for t in TOOLS if t in agg["tool"].get("noiseclf", {})]
    text_systems = [s for s in systems if any(t in agg["tool"][s] for t in tools)]
    width = 0.8 / max(len(text_systems), 1)
    for i, s in enumerate(text_systems):
        ax.bar([j + i * width for j in range(len(tools))], [agg["tool"][s].get(t, 0) for t in tools],
               width, label=s)
    for s in systems:
        if "html" in agg["tool"][s]:
            ax.axhline(agg["tool"][s]["html"], ls="--", lw=1, label=f"{s} (HTML)",
                       color={"trafilatura": "black", "justext": "grey", "readability": "brown"}.get(s, "k"))
    ax.set_xticks([j + 0.4 - width / 2 for j in range(len(tools))], tools)
    ax.set_ylim(0, 1.05)
    ax.set_title("By HTML-to-text tool (dashed: extractors on the HTML)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wcxb", type=Path, required=True, help="the wcxb-dev folder (never committed)")
    ap.add_argument("--corpus", type=Path, default=ROOT / "build" / "corpus")
    ap.add_argument("--model", type=Path, default=None, help="model file (default: the shipped one)")
    ap.add_argument("--labels", type=Path, default=ROOT / "labels")
    ap.add_argument("--gold", type=Path, default=ROOT / "training" / "gold", help="the gold set (its test/ pages)")
    ap.add_argument("--out", type=Path, default=ROOT / "training" / "REPORT.md")
    ap.add_argument("--limit", type=int, default=None, help="at most this many held-out pages")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    model = load_model(args.model)
    manifest = read_manifest(args.corpus)
    test_rows = select(manifest, "test", drop_low_alignment=False)
    if args.limit:
        keep = sorted({r["file_id"] for r in test_rows})[: args.limit]
        test_rows = [r for r in test_rows if r["file_id"] in set(keep)]
    scrapes = load_rows(args.corpus, test_rows)
    lines_all = evaluate(model, scrapes)
    lines_by_tool = {t: evaluate(model, [s for s in scrapes if s.meta["tool"] == t]) for t in TOOLS}
    aligned = [s for s in scrapes if not s.meta.get("low_alignment")]
    lines_aligned = evaluate(model, aligned)
    print(f"line labels: macro-F1 {lines_all['macro_f1']:.3f} (aligned pages only: "
          f"{lines_aligned['macro_f1']:.3f})", file=sys.stderr)

    timings: dict = {}
    # `noiseclf --plain`: the kept lines as plain text (noiseclf/plain.py), what a user of a Markdown
    # scraper (html2text here) would ask for; the same lines are kept
    rows = evaluate_systems(args.wcxb, args.corpus, "test",
                            cleaners={"noiseclf": model.clean, "noiseclf --plain": partial(model.clean, plain=True)},
                            timings=timings, limit=args.limit)
    agg = aggregate(rows)
    seeds = seed_check(model, args.labels)
    gold = gold_check(model, args.gold)
    png = args.out.with_suffix(".png")
    chart(agg, png)
    rel = reliability(model, scrapes)
    rel_png = args.out.with_name(args.out.stem + "_reliability.png")
    reliability_chart(rel, rel_png)
    control = precision_control(model, scrapes, args.wcxb)

    pages = len({r["file_id"] for r in rows})
    domains = len({r["domain"] for r in rows})
    meta = model.meta
    systems = sorted(agg["overall"], key=lambda s: -agg["overall"][s]["all"][2])
    types = sorted({t for d in agg["page_type"].values() for t in d})
    md = [
        "# noiseclf on sites it has never seen",
        "",
        f"Regenerate: `python -m training.report --wcxb PATH/TO/wcxb-dev --corpus build/corpus` "
        f"(model: `{args.model or 'models/default.noiseclf'}`, trained on data hash "
        f"`{meta.get('training_data', {}).get('sha256', '?')[:23]}…`).",
        "",
        f"Held-out data: the `test` split of the corpus built from WCXB-dev (CC-BY-4.0), "
        f"{pages} pages from {domains} domains that have no page in the training split, "
        f"each scraped by {len(TOOLS)} HTML-to-text tools ({', '.join(TOOLS)}).",
        "",
        "![word F1 by system and tool](REPORT.png)",
        "",
        "## Main-text word F1 (mean over pages; text systems over page × tool)",
        "",
        "noiseclf, C4 rules and keep-everything get only the plain-text scrape; trafilatura, "
        "jusText and readability-lxml get the page's HTML. `noiseclf --plain` keeps the same lines and "
        "writes them as plain text (`clean --plain`: html2text's Markdown link targets and marks removed; "
        "on the other tools' scrapes next to nothing changes).",
        "",
        _table(["system", "article P", "article R", "article F1", "n", "all P", "all R", "all F1", "n", "seconds"],
               [[s, *agg["overall"][s].get("article", (float("nan"),) * 3 + (0,)),
                 *agg["overall"][s]["all"], round(timings.get(s, 0.0), 1)] for s in systems]),
        "",
        "### By page type (word F1)",
        "",
        _table(["system", *types], [[s, *[agg["page_type"][s].get(t, float("nan")) for t in types]] for s in systems]),
        "",
        "### By scraping tool (word F1; `html`: the extractor ran on the HTML)",
        "",
        _table(["system", *TOOLS, "html"],
               [[s, *[agg["tool"][s].get(t, "") for t in (*TOOLS, "html")]] for s in systems]),
        "",
        "## Line labels against the corpus's automatic labels",
        "",
        f"All held-out scrapes: macro-F1 **{lines_all['macro_f1']:.3f}**, accuracy {lines_all['accuracy']:.3f} "
        f"({lines_all['lines']} lines). Scrapes whose alignment with the ground truth succeeded "
        f"(`gt_recall ≥ 0.5`): macro-F1 {lines_aligned['macro_f1']:.3f}, accuracy {lines_aligned['accuracy']:.3f}.",
        "",
        *_class_tables(lines_all, "automatic label"),
        "",
        "Macro-F1 by tool: " + ", ".join(f"{t} {m['macro_f1']:.3f}" for t, m in lines_by_tool.items()) + ".",
        "",
        "## Line labels on the gold set's held-out pages (human labels)",
        "",
        f"The {gold['pages']} gold pages of held-out domains (`training/gold/test`, labelled by people following "
        f"`labels/GUIDELINES.md`; {gold['lines']} lines): 5-class macro-F1 **{gold['macro_f1']:.3f}**, accuracy "
        f"{gold['accuracy']:.3f}, keep/drop accuracy {gold['keep_drop_accuracy']:.3f} (of what `clean` keeps, "
        f"the page-relative drop included: {gold['kept_accuracy']:.3f}). The same figures: "
        "`noiseclf evaluate --labels training/gold/test`.",
        "",
        *_class_tables(gold, "human label"),
        "",
        "Macro-F1 by page type: " + ", ".join(f"{t} {v:.3f}" for t, v in gold["macro_f1_by_page_type"].items()) + ".",
        "",
        "## Calibration and the precision control",
        "",
        f"The article probability of every held-out line (the probability `clean --min-probability P` "
        f"compares with P) against the share of lines in its bin that are article by the automatic labels "
        f"({rel['lines']} lines). Expected calibration error **{rel['ece']:.3f}**.",
        "",
        f"![reliability curve]({rel_png.name})",
        "",
        _table(["article probability", "lines", "mean probability", "share article"],
               [[b["bin"], b["lines"], b["mean_probability"], b["article_share"]] for b in rel["bins"]]),
        "",
        f"Word F1 at each `--min-probability` (the {control[0]['pages']} html-text scrapes; "
        "P / R / F1; none: the most probable label decides; the model's page-relative drop applies to every row):",
        "",
        _table(["min probability", "article P", "article R", "article F1", "all P", "all R", "all F1"],
               [["none" if c["min_probability"] is None else c["min_probability"], *c["article"], *c["all"]]
                for c in control]),
        "",
        "## The seeds",
        "",
        f"{seeds['seeds_all_article_kept']} of {seeds['seeds']} seeds keep every hand-labelled article line "
        "(the seeds are in the training data: this checks the corpus did not teach the model to drop "
        "bylines, captions and subheadings that the labelling guidelines count as article).",
        "",
        _table(["seed", "article lines", "lost", "other lines kept"],
               [[d["seed"], d["article_lines"], d["lost"], d["extra_kept"]] for d in seeds["detail"]]),
        "",
        f"Extractor failures (returned empty text): {dict(FAILURES) or 'none'}. "
        f"Report built in {time.perf_counter() - started:.0f} s.",
        "",
    ]
    args.out.write_text("\n".join(md), encoding="utf-8")
    summary = {"lines": lines_all, "lines_aligned": lines_aligned, "word_f1": agg["overall"], "seeds": seeds,
               "reliability": rel, "min_probability": control, "gold_heldout": gold}
    args.out.with_suffix(".json").write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
    print(f"wrote {args.out} and {png}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
