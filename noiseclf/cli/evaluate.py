"""``noiseclf evaluate``: a model's metrics on labelled scrapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from . import app
from ._common import handles_errors, load


@app.command("evaluate")
@handles_errors
def evaluate_cli(
    labels: List[Path] = typer.Option(..., "--labels", "-l", help="Labels folder or .jsonl file (repeatable)."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model file (default: the shipped model)."),
    scrapes: List[Path] = typer.Option([], "--scrapes", help="Folder holding the scrapes (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON instead of a table."),
) -> None:
    """Score a model against hand labels: per-class precision/recall/F1, confusion matrix.

    \b
    Example:
      noiseclf evaluate --labels labels/ --model my.noiseclf
    """
    from ..labels import load_labels
    from ..train import evaluate  # scikit-learn: only when evaluating
    from ._report import format_metrics

    scrape_set = load_labels(labels, scrapes)
    m = evaluate(load(model), scrape_set)
    if as_json:
        typer.echo(json.dumps(m, indent=2))
    else:
        typer.echo(format_metrics(m, f"Evaluation on {len(scrape_set)} labelled scrape(s):"))
