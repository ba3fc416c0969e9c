"""``noiseclf train``: fit a model on labelled scrapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from ..settings import Settings
from . import app
from ._common import check_output_file, handles_errors, say


@app.command("train")
@handles_errors
def train_cli(
    labels: List[Path] = typer.Option(
        [Path("labels")], "--labels", "-l",
        help="Labels folder or .jsonl file (repeatable). Each NAME.jsonl needs its scrape "
        "NAME.txt beside it, in --scrapes, or in a seeds/ or scrapes/ folder next to the labels folder.",
    ),
    out: Path = typer.Option(..., "--out", help="Where to write the model file (written atomically)."),
    scrapes: List[Path] = typer.Option([], "--scrapes", help="Folder holding the scrapes (repeatable)."),
    cv: bool = typer.Option(True, "--cv/--no-cv", help="Cross-validate leaving one scrape (site) out first."),
    c: float = typer.Option(Settings.C, "--C", help="Inverse regularisation strength of the logistic regression."),
    metrics_json: Optional[Path] = typer.Option(None, "--metrics-json", help="Also write the metrics as JSON here."),
    base: Optional[Path] = typer.Option(
        None, "--base", help="Model to extend with the new labels (default: the shipped model)."),
    from_scratch: bool = typer.Option(
        False, "--from-scratch", help="Train on the given labels alone instead of extending a base model."),
    adapt_c: Optional[float] = typer.Option(
        None, "--adapt-C", help="How hard fine-tuning fits the new labels against keeping the base "
        "model (default: chosen by benchmarks/adaptation.py)."),
    check: List[Path] = typer.Option(
        [], "--check-labels", help="Other labels (not trained on) to measure the accuracy the "
        "extended model keeps (repeatable)."),
    site: Optional[str] = typer.Option(
        None, "--site", help="All the labelled pages are of this site: the model applies what they teach to "
        "pages cleaned with --site NAME (or whose URL has this host), and to pages it recognises by the site's "
        "menus and footers."),
    site_per_folder: bool = typer.Option(
        False, "--site-per-folder", help="Each labels folder is one site, named after the folder (see --site).",
        show_default=False),
    scope: str = typer.Option(
        "site", "--scope", help="site: what the labels teach applies to their site's pages only, other pages "
        "get the base model's labels unchanged; global: fine-tune the base model's weights for every page "
        "(can make other sites worse: the harm check below then usually refuses)."),
    force: bool = typer.Option(
        False, "--force", help="Write the model even when it cleans the shipped check sample worse than the base.",
        show_default=False),
) -> None:
    """Train a model on labelled scrapes and write it with its metadata.

    By default the labels extend a base model (the shipped one, or --base)
    with a profile of their site: the labelled lines (and lines matching them
    once numbers and dates are masked) carry their labels onto the site's other
    pages, aligned with the labelled pages, with a learned confidence; pages
    of other sites get the base model's labels unchanged. Before writing, the
    model is compared with its base on a sample of hand-labelled pages that
    ships with noiseclf; a model that cleans it worse is not written unless
    --force. Pass --from-scratch to train on the given labels alone.

    With --from-scratch: prints site-disjoint cross-validation (each scrape held out in turn:
    per-class precision/recall/F1 and a confusion matrix), then fits on all
    the labels and writes the model: format version, label set, library
    versions, training-data hash and metrics travel inside the file.

    \b
    Example:
      noiseclf train --labels labels/ --out my.noiseclf --site example.com
      noiseclf clean page.txt --model my.noiseclf --site example.com
      noiseclf train --labels labels/ --out big.noiseclf --from-scratch
    """
    from ..atomic import atomic_write_bytes
    from ..labels import load_labels
    from ..modelfile import save_model
    from ..train import train  # scikit-learn: only when training
    from ._report import format_metrics

    if site is not None and site_per_folder:
        raise typer.BadParameter("give --site NAME or --site-per-folder, not both", param_hint="--site")
    if scope not in ("site", "global"):
        raise typer.BadParameter(f"{scope!r}: use site or global", param_hint="--scope")
    if from_scratch and (site is not None or site_per_folder or scope != "site"):
        raise typer.BadParameter("--site, --site-per-folder and --scope extend a base model; --from-scratch "
                                 "trains one on the labels alone", param_hint="--from-scratch")
    check_output_file(out)  # before the work, not after it
    check_output_file(metrics_json)
    scrape_set = load_labels(labels, scrapes)
    from ..labels import unconfirmed_counts

    for name, left in unconfirmed_counts(s.labels_path for s in scrape_set).items():
        say(f"noiseclf: warning: {name}: {left} line(s) nobody confirmed carry the model's suggestion "
            f"(finish with `noiseclf label`)")
    if not from_scratch:
        from ._adapt import train_adapted

        return train_adapted(scrape_set, out, base, adapt_c, cv, load_labels(check, scrapes) if check else [],
                             metrics_json, site=site, site_per_folder=site_per_folder, scope=scope, force=force)
    n_lines = sum(len(s.labelled_lines()) for s in scrape_set)
    say(f"noiseclf: training on {n_lines} labelled lines from {len(scrape_set)} scrape(s)")
    options = Settings(C=c)  # the shipped model's settings but C
    model, result = train(scrape_set, options, cross_validation=cv, progress=lambda m: say(f"  {m}"))
    if result is not None:
        typer.echo(format_metrics(result.metrics, "Cross-validation, leaving one scrape out:"))
    path = save_model(model, out)
    if metrics_json is not None:
        atomic_write_bytes(metrics_json, json.dumps(model.meta["metrics"], indent=2).encode())
    say(f"noiseclf: model written to {path} ({path.stat().st_size / 1e6:.1f} MB)")
