"""``noiseclf inspect``: a scrape with every line's label, coloured, for reading (``--html``: as a page)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..labels import LABEL_COLOURS
from . import app
from ._common import check_output_file, handles_errors, load, say, warn


@app.command("inspect")
@handles_errors
def inspect_cli(
    path: Path = typer.Argument(..., help="The scrape to show (plain text, or HTML: converted to text first)."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model file (default: the shipped model)."),
    color: Optional[bool] = typer.Option(
        None, "--color/--no-color", help="Colour the labels (default: when writing to a terminal)."
    ),
    width: int = typer.Option(100, "--width", help="Cut each line's text to this many characters (0: no cut)."),
    html_out: Optional[Path] = typer.Option(
        None, "--html",
        help="Write one self-contained HTML page instead: every line coloured by label (probability on hover), "
        "the kept text beside it, a legend.",
    ),
) -> None:
    """Show each line of a scrape with its label and probability, coloured by label.

    Columns: line number, label, probability of that label, the line's text.
    Article lines are green; nav blue; related-story magenta; ad red; footer yellow.

    \b
    Examples:
      noiseclf inspect page.txt
      noiseclf inspect page.html --html page.report.html   # open it in a browser
    """
    from ..html import TOOL, read_page

    check_output_file(html_out)
    decoded, was_html = read_page(path)
    for w in decoded.warnings:
        warn(w)
    if was_html:
        say(f"noiseclf: {path}: HTML, converted to text with {TOOL} before labelling")
    m = load(model)
    verdicts = m.classify_text(decoded.text)
    if html_out is not None:
        from ..labels import LABELS
        from ..model import render_kept
        from ..report import inspect_html, write_report

        labels = [lab for lab in LABELS if lab in m.labels]
        page = inspect_html(str(path), verdicts, render_kept(verdicts), labels,
                            model_name=str(model) if model else "shipped",
                            note=f"HTML converted to text with {TOOL}" if was_html else None)
        write_report(html_out, page)
        say(f"noiseclf: wrote {html_out}")
        return
    for v in verdicts:
        text = v.text if width <= 0 or len(v.text) <= width else v.text[: width - 1] + "\u2026"
        if v.label is None:
            typer.echo(f"{v.line:>5}", color=color)
            continue
        tag = typer.style(f"{v.label:<13}", fg=LABEL_COLOURS.get(v.label), bold=v.label == "article")
        typer.echo(f"{v.line:>5} {tag} {v.probability:4.2f} \u2502 {text}", color=color)
