"""``noiseclf train`` without --from-scratch: extend a base model with new labels."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from ._common import load, say

MIN_FIT = 0.98  # accuracy on the user's own labelled pages below which train explains why
SHOW_CONTRADICTIONS = 10


def train_adapted(scrape_set, out: Path, base: Path | None, c: float | None, holdout: bool,
                  check, metrics_json: Path | None, site: str | None = None, site_per_folder: bool = False,
                  scope: str = "site", force: bool = False) -> None:
    from ..adapt import AdaptOptions, DEFAULT_C, adapt, adapt_site, site_groups  # scipy: only when adapting
    from ..atomic import atomic_write_bytes
    from ..harmcheck import harm_check
    from ..modelfile import default_model_path, save_model
    from ._report import format_metrics

    started = time.perf_counter()
    base_path = base if base is not None else default_model_path()
    base_model = load(base)
    n_lines = sum(len(s.labelled_lines()) for s in scrape_set)
    say(f"noiseclf: extending {'the shipped model' if base is None else base} with {n_lines} labelled "
        f"lines from {len(scrape_set)} scrape(s) (--from-scratch trains on these labels alone)")
    if scope == "site":
        groups = site_groups(scrape_set, site, site_per_folder)
        model, report = adapt_site(base_model, scrape_set, groups, base_path=base_path, holdout=holdout,
                                   check=check)
        for p in report["profiles"]:
            who = ", ".join(p["names"]) if p["names"] else "a site without a name (recognised by its menus and footers; name it with --site)"
            say(f"noiseclf: site profile for {who}: {p['pages']} labelled page(s), {p['lines']} lines, "
                f"{p['template_lines']} template lines")
    else:
        options = AdaptOptions(C=c if c is not None else DEFAULT_C)
        model, report = adapt(base_model, scrape_set, options, base_path=base_path, holdout=holdout,
                              check=check, progress=lambda m: say(f"  {m}"))
        model.meta["adaptation"]["scope"] = "global"
    ho = report.get("new_data_holdout")
    if ho:
        typer.echo(format_metrics(ho["before"], "Base model on each new scrape (leave one scrape out):"))
        typer.echo(format_metrics(ho["after"], "Extended model on each new scrape, taught on the others:"))
        if "keep_accuracy_before" in ho:
            say(f"noiseclf: held out one labelled page at a time: keep/drop accuracy "
                f"{ho['keep_accuracy_before']:.3f} before, {ho['keep_accuracy_after']:.3f} after")
    elif holdout:
        say("noiseclf: one scrape per site only, so no held-out check; label a second page of the site to measure one")
    if "retention" in report:
        r = report["retention"]
        typer.echo(f"Kept on --check-labels ({r['after']['lines']} lines): accuracy "
                   f"{r['before']['accuracy']:.3f} before, {r['after']['accuracy']:.3f} after; "
                   f"macro-F1 {r['before']['macro_f1']:.3f} before, {r['after']['macro_f1']:.3f} after\n")
    fit = report["new_data_fit"]
    seconds = model.meta["adaptation"].get("fit_seconds", 0.0)
    say(f"noiseclf: accuracy on the new labels {fit['before']['accuracy']:.3f} before, "
        f"{fit['after']['accuracy']:.3f} after; retrained in {seconds:.1f} s")
    _explain_fit(fit["after"]["accuracy"], report.get("unfitted") or [])

    harm = harm_check(base_model, model, [s.lines for s in scrape_set])
    model.meta["adaptation"]["harm_check"] = {k: v for k, v in harm.items() if k != "pages_changed"}
    if harm["pages"]:
        say(f"noiseclf: check on the shipped sample ({harm['pages']} pages of other sites, {harm['lines']} lines, "
            f"no site said): {harm['lines_changed']} line(s) change; keep/drop accuracy "
            f"{harm['keep_accuracy_before']:.4f} -> {harm['keep_accuracy_after']:.4f}, labels "
            f"{harm['accuracy_before']:.4f} -> {harm['accuracy_after']:.4f}")
        if harm["pages_changed"]:
            shown = ", ".join(f"{p['page']} ({p['lines_changed']})" for p in harm["pages_changed"][:5])
            more = len(harm["pages_changed"]) - 5
            say(f"noiseclf: changed on: {shown}{f' and {more} more page(s)' if more > 0 else ''}")
    if harm["worse"]:
        if not force:
            say(f"noiseclf: not written: the new model cleans the sample worse than its base "
                f"({_more_wrong(harm, 'keep')} kept or dropped wrongly, {_more_wrong(harm, 'label')} labelled wrongly); "
                + ("train with the default --scope site, or " if scope == "global" else "")
                + "pass --force to write it anyway")
            raise typer.Exit(1)
        say("noiseclf: warning: the new model cleans the sample worse than its base; written because of --force")
    path = save_model(model, out)
    if metrics_json is not None:
        atomic_write_bytes(metrics_json, json.dumps(model.meta["adaptation"]["metrics"], indent=2).encode())
    say(f"noiseclf: model written to {path} ({path.stat().st_size / 1e6:.1f} MB) in "
        f"{time.perf_counter() - started:.1f} s")


def _more_wrong(harm: dict, what: str) -> str:
    d = harm[f"{what}_correct_before"] - harm[f"{what}_correct_after"]
    return f"{d} more line(s)" if d >= 0 else f"{-d} fewer line(s)"


def _explain_fit(accuracy: float, unfitted: list) -> None:
    """Below MIN_FIT on the user's own pages: name the labelled lines not fitted, and the lines
    whose labels contradict theirs (the same line, numbers and dates aside, labelled otherwise)."""
    if accuracy >= MIN_FIT or not unfitted:
        return
    contradicted = [u for u in unfitted if u["contradicted_by"]]
    if contradicted:
        shown = "; ".join(f"{u['scrape']}:{u['line']} {u['label']} vs "
                          + ", ".join(f"{o['scrape']}:{o['line']} {o['label']}" for o in u["contradicted_by"][:2])
                          for u in contradicted[:SHOW_CONTRADICTIONS])
        more = len(contradicted) - SHOW_CONTRADICTIONS
        say(f"noiseclf: accuracy on the new labels is below {MIN_FIT}: {len(contradicted)} labelled line(s) "
            f"contradict other labels (the same line, numbers and dates aside, labelled otherwise): "
            f"{shown}{f'; and {more} more' if more > 0 else ''}")
    rest = len(unfitted) - len(contradicted)
    if rest:
        say(f"noiseclf: warning: {rest} other labelled line(s) are not fitted although no label contradicts them, "
            f"e.g. {unfitted[[u['contradicted_by'] == [] for u in unfitted].index(True)]['scrape']}:"
            f"{unfitted[[u['contradicted_by'] == [] for u in unfitted].index(True)]['line']}")
