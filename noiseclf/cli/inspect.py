"""``noiseclf inspect``: a scrape with every line's label, coloured, for reading."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..text import read_scrape
from . import app
from ._common import handles_errors, load, warn

COLOURS = {
    "article": typer.colors.GREEN,
    "nav": typer.colors.BLUE,
    "related-story": typer.colors.MAGENTA,
    "ad": typer.colors.RED,
    "footer": typer.colors.YELLOW,
}


@app.command("inspect")
@handles_errors
def inspect_cli(
    path: Path = typer.Argument(..., help="The scrape to show."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model file (default: the shipped model)."),
    color: Optional[bool] = typer.Option(
        None, "--color/--no-color", help="Colour the labels (default: when writing to a terminal)."
    ),
    width: int = typer.Option(100, "--width", help="Cut each line's text to this many characters (0: no cut)."),
) -> None:
    """Show each line of a scrape with its label and probability, coloured by label.

    Columns: line number, label, probability of that label, the line's text.
    Article lines are green; nav blue; related-story magenta; ad red; footer yellow.
    """
    decoded = read_scrape(path)
    for w in decoded.warnings:
        warn(w)
    verdicts = load(model).classify_text(decoded.text)
    for v in verdicts:
        text = v.text if width <= 0 or len(v.text) <= width else v.text[: width - 1] + "\u2026"
        if v.label is None:
            typer.echo(f"{v.line:>5}", color=color)
            continue
        tag = typer.style(f"{v.label:<13}", fg=COLOURS.get(v.label), bold=v.label == "article")
        typer.echo(f"{v.line:>5} {tag} {v.probability:4.2f} \u2502 {text}", color=color)
