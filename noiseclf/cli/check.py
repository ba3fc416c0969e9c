"""``noiseclf check``: how sure the model is about each scrape, and what to label next."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import InputError
from ..text import read_scrape
from . import app
from ._common import EXIT_INPUT, handles_errors, load, say, warn


@app.command("check")
@handles_errors
def check_cli(
    paths: List[Path] = typer.Argument(..., help="Scrape files (plain text)."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model file (default: the shipped model)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per file (JSONL) instead of a table."),
    top: int = typer.Option(0, "--top", help="Show only the first N files of the ranking (0: all)."),
) -> None:
    """Report, per scrape, how confident the model is, and rank the files worth labelling next.

    Columns: rank, expected wrong lines (sum of 1 - confidence), mean
    confidence, share of unsure lines, share of article lines, the file, and
    why it looks unfamiliar. Files are ranked unfamiliar first, then by
    expected wrong lines, one site (folder) at a time. Thresholds come from the
    model (see README, "Drift").

    \b
    Example:
      noiseclf check new-site/*.txt --top 3     # then: noiseclf label <first file>
    """
    from ..drift import MIN_JUDGED_LINES, check_files, judged, rank, thresholds_for
    from ..sites import site_of_folder as site_of

    clf = load(model)
    th = thresholds_for(clf)
    items, failures = [], 0
    for path in paths:
        try:
            decoded = read_scrape(path)
        except InputError as exc:
            say(f"noiseclf: {exc}")
            failures += 1
            continue
        for w in decoded.warnings:
            warn(w)
        items.append((str(path), site_of(path), decoded.text))
    stats = []
    for start in range(0, len(items), 64):
        stats += check_files(clf, items[start:start + 64], th=th)
    ranked = rank(stats)
    shown = ranked[:top] if top > 0 else ranked
    if as_json:
        for i, s in enumerate(shown, 1):
            typer.echo(json.dumps({"rank": i, **s.as_record()}, ensure_ascii=False))
    else:
        typer.echo(f"{'rank':>4} {'exp.wrong':>9} {'conf':>5} {'unsure':>6} {'article':>7}  file")
        for i, s in enumerate(shown, 1):
            if s.unfamiliar:
                flag = f"  <- unfamiliar: {'; '.join(s.reasons)}"
            elif s.lines == 0:
                flag = "  (no non-blank lines)"
            elif not judged(s):
                flag = f"  (too short to judge: {s.lines} line{'s' if s.lines > 1 else ''})"
            else:
                flag = ""
            typer.echo(f"{i:>4} {s.expected_errors:>9.1f} {s.mean_confidence:>5.2f} {s.unsure_share:>6.0%} "
                       f"{s.article_share:>7.0%}  {s.name}{flag}")
        n_unf = sum(s.unfamiliar for s in stats)
        # The thresholds as they are (rounding them could state a limit a page is on the wrong side of).
        say(f"noiseclf: {len(stats)} file(s) checked, {n_unf} look unfamiliar (thresholds: {th['source']}: "
            f"mean confidence < {th['confidence_floor']:g}, article share outside "
            f"{_percent(th['article_share_low'])}-{_percent(th['article_share_high'])}; "
            f"pages under {MIN_JUDGED_LINES} lines are not judged)")
        best = next((s for s in ranked if s.lines > 0), None)  # never an empty file: nothing to label
        if best is not None:
            say(f"noiseclf: worth labelling next: noiseclf label {best.name}")
        elif ranked:
            say("noiseclf: nothing to label: the files have no non-blank lines")
    if failures:
        raise typer.Exit(EXIT_INPUT)


def _percent(share: float) -> str:
    return f"{share * 100:.4g}%"
