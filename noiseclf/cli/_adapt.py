"""``noiseclf train`` without --from-scratch: extend a base model with new labels."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ._common import load, say


def train_adapted(scrape_set, out: Path, base: Path | None, c: float | None, holdout: bool,
                  check, metrics_json: Path | None) -> None:
    from ..adapt import AdaptOptions, DEFAULT_C, adapt  # scipy.optimize: only when adapting
    from ..atomic import atomic_write_bytes
    from ..modelfile import default_model_path, save_model
    from ._report import format_metrics

    base_path = base if base is not None else default_model_path()
    base_model = load(base)
    n_lines = sum(len(s.labelled_lines()) for s in scrape_set)
    say(f"noiseclf: extending {'the shipped model' if base is None else base} with {n_lines} labelled "
        f"lines from {len(scrape_set)} scrape(s) (--from-scratch trains on these labels alone)")
    options = AdaptOptions(C=c if c is not None else DEFAULT_C)
    model, report = adapt(base_model, scrape_set, options, base_path=base_path, holdout=holdout,
                          check=check, progress=lambda m: say(f"  {m}"))
    ho = report.get("new_data_holdout")
    if ho:
        typer.echo(format_metrics(ho["before"], "Base model on each new scrape (leave one scrape out):"))
        typer.echo(format_metrics(ho["after"], "Extended model on each new scrape, taught on the others:"))
    elif holdout:
        say("noiseclf: one scrape only, so no held-out check; label a second page to measure one")
    if "retention" in report:
        r = report["retention"]
        typer.echo(f"Kept on --check-labels ({r['after']['lines']} lines): accuracy "
                   f"{r['before']['accuracy']:.3f} before, {r['after']['accuracy']:.3f} after; "
                   f"macro-F1 {r['before']['macro_f1']:.3f} before, {r['after']['macro_f1']:.3f} after\n")
    fit = report["new_data_fit"]
    say(f"noiseclf: accuracy on the new labels {fit['before']['accuracy']:.3f} before, "
        f"{fit['after']['accuracy']:.3f} after; retrained in {model.meta['adaptation']['fit_seconds']:.1f} s")
    path = save_model(model, out)
    if metrics_json is not None:
        atomic_write_bytes(metrics_json, json.dumps(model.meta["adaptation"]["metrics"], indent=2).encode())
    say(f"noiseclf: model written to {path} ({path.stat().st_size / 1e6:.1f} MB)")
