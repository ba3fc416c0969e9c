"""``noiseclf evaluate``: a model's metrics on labelled scrapes (``--html``: as a page to look at)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from . import app
from ._common import check_output_file, handles_errors, load, say


@app.command("evaluate")
@handles_errors
def evaluate_cli(
    labels: List[Path] = typer.Option(..., "--labels", "-l", help="Labels folder or .jsonl file (repeatable)."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model file (default: the shipped model)."),
    scrapes: List[Path] = typer.Option([], "--scrapes", help="Folder holding the scrapes (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON instead of a table."),
    html_out: Optional[Path] = typer.Option(
        None, "--html",
        help="Also write one self-contained HTML page: per-class bars, the confusion matrix as a heat map, "
        "and the worst pages, each linked to its line-by-line view.",
    ),
    worst: int = typer.Option(10, "--worst", min=0, help="With --html: how many of the worst pages to show."),
) -> None:
    """Score a model against hand labels: per-class precision/recall/F1, confusion matrix.

    \b
    Examples:
      noiseclf evaluate --labels labels/ --model my.noiseclf
      noiseclf evaluate --labels labels/ --html evaluation.html   # open it in a browser
    """
    from ..labels import load_labels
    from ._report import format_metrics

    check_output_file(html_out)
    scrape_set = load_labels(labels, scrapes)
    m_model = load(model)
    if html_out is None:
        from ..train import evaluate  # scikit-learn: only when evaluating

        m = evaluate(m_model, scrape_set)
    else:
        from ..labels import LABELS
        from ..report import evaluate_pages, evaluation_html, write_report

        m, pages = evaluate_pages(m_model, scrape_set)  # the same figures, and every page's lines
        write_report(html_out, evaluation_html(m, pages, [lab for lab in LABELS if lab in m_model.labels],
                                               worst=worst, model_name=str(model) if model else "shipped"))
        say(f"noiseclf: wrote {html_out}")
    if as_json:
        typer.echo(json.dumps(m, indent=2))
    else:
        typer.echo(format_metrics(m, f"Evaluation on {len(scrape_set)} labelled scrape(s):"))
