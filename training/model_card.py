"""Write models/README.md, the shipped model's card, from the model's own metadata.

    python -m training.model_card [--model models/default.noiseclf] [--report training/REPORT.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from noiseclf.modelfile import read_meta

ROOT = Path(__file__).resolve().parent.parent


def render(meta: dict, size_bytes: int, report: dict | None) -> str:
    td = meta.get("training_data", {})
    m = meta.get("metrics", {})
    held = m.get("heldout_domains") or {}
    opts = meta.get("options", {})
    lines = [
        "# The shipped model: `default.noiseclf`",
        "",
        "The model `noiseclf clean` uses when no `--model` is given. It labels every non-blank line of a "
        "plain-text scrape as article, nav, related-story, ad or footer.",
        "",
        "## Data",
        "",
        *[f"- {s}" for s in td.get("sources", [])],
        f"- {td.get('scrapes', '?')} scrapes, {td.get('lines', '?')} labelled lines; labels: "
        + ", ".join(f"{k} {v}" for k, v in sorted(td.get("label_counts", {}).items())),
        f"- training-data hash: `{td.get('sha256', '?')}`",
        "",
        "The corpus lines were labelled automatically by aligning each scrape with WCXB's reviewed "
        "main text and reading the page's HTML for the noise class (see `training/README.md`). "
        "**Credit:** WCXB — Web Content Extraction Benchmark, development split, licensed CC-BY-4.0. "
        "None of its files are in this repository.",
        *(["",
           "The trafilatura-eval-dev lines are weak labels: of the pages of half its domains "
           "(`training/snippet_labels.py`), the lines that hold one of the dataset's snippets of main "
           "text are article, those that hold a boilerplate snippet are noise (class from the DOM); "
           + ("the other lines of those pages are labelled by the corpus builder's rules with trafilatura's "
              "extraction of the page standing in for the main text (trafilatura as a teacher, at a lower "
              "weight). " if any("trafilatura's extraction" in src for src in td.get("sources", []))
              else "every other line of those pages is context only. ")
           + "**Credit:** the evaluation data of "
           "trafilatura (adbar/trafilatura, `tests/evaldata.json`), Apache-2.0. None of its files are "
           "in this repository."] if any("trafilatura-eval-dev" in src for src in td.get("sources", [])) else []),
        "",
        "## Settings",
        "",
        "```json",
        json.dumps({"options": opts, "featurizer": meta.get("featurizer"),
                    **({"page_stage": meta["page_stage_training"]} if meta.get("page_stage_training") else {})},
                   indent=1, sort_keys=True),
        "```",
        "",
        "## Metrics on held-out domains",
        "",
    ]
    if held:
        lines += [
            f"Line labels on {m.get('heldout_pages', '?')} pages of domains absent from training "
            f"(automatic labels): macro-F1 **{held['macro_f1']:.3f}**, accuracy {held['accuracy']:.3f}.",
            "",
            "| label | precision | recall | F1 | support |",
            "|---|---|---|---|---|",
            *[f"| {k} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
              for k, v in held["per_class"].items()],
            "",
            "Macro-F1 by scraping tool: " + ", ".join(
                f"{t} {v:.3f}" for t, v in (m.get("heldout_macro_f1_by_tool") or {}).items()) + ".",
            "",
        ]
    if report:
        wf = report.get("word_f1", {})
        lines += [
            "Main-text word F1 against the ground truth on the same pages (full table and chart in "
            "`training/REPORT.md`):",
            "",
            "| system | article pages | all pages |",
            "|---|---|---|",
            *[f"| {s} | {v.get('article', [0, 0, float('nan')])[2]:.3f} | {v['all'][2]:.3f} |"
              for s, v in sorted(wf.items(), key=lambda kv: -kv[1]["all"][2])],
            "",
        ]
    lines += [
        "## File",
        "",
        f"- size {size_bytes / 1e6:.1f} MB; format `{meta.get('format')}` version {meta.get('format_version')} "
        "(zip of `meta.json` and `arrays.npz`, no pickle)",
        "- trained with " + ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items()),
        "",
        "## Rebuild",
        "",
        "```sh",
        "pip install -e '.[train]'",
        "# the corpus rules the shipped model was trained on (training/README.md, \"Which corpus\")",
        "git worktree add build/rules-fa3d99a fa3d99a",
        "(cd build/rules-fa3d99a && python -m training.corpus --wcxb PATH/TO/wcxb-dev --out ../corpus)",
        "# about 26 minutes on 2 cores (the gold set: training/gold, by default); the same data gives the same file",
        "python -m training.build_model --corpus build/corpus --snippets PATH/TO/trafilatura-eval-dev "
        "--out models/default.noiseclf",
        "python -m training.report --wcxb PATH/TO/wcxb-dev --corpus build/corpus",
        "python -m training.model_card",
        "```",
        "",
        "## Limits",
        "",
        "- Trained on English-heavy web pages; other languages rely on layout features more than words.",
        "- WCXB's main text leaves out bylines and dates; the corpus labels them non-article, the seeds "
        "label them article. The seeds are up-weighted so bylines next to a headline are kept.",
        "- Pages whose scrape lacks the main text (pages rendered by JavaScript) cannot be cleaned by any "
        "text-only tool.",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "default.noiseclf")
    ap.add_argument("--report", type=Path, default=ROOT / "training" / "REPORT.json")
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "README.md")
    args = ap.parse_args(argv)
    report = json.loads(args.report.read_text()) if args.report.is_file() else None
    args.out.write_text(render(read_meta(args.model), args.model.stat().st_size, report), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
