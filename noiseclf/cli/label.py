"""``noiseclf label``: label scrapes in the terminal, starting from the model's suggestions."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from . import app
from ._common import fail, handles_errors, load, say, warn


@app.command("label")
@handles_errors
def label_cli(
    paths: List[Path] = typer.Argument(..., help="Scrapes to label (plain text), one after another."),
    labels_dir: Path = typer.Option(
        Path("labels"), "--labels-dir", "-l",
        help="Folder for NAME.jsonl labels (and NAME.progress.json, and a copy NAME.txt of the scrape "
        "when the labels could not find it otherwise).",
    ),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model that suggests labels (default: the shipped model)."),
    suggest: bool = typer.Option(
        False, "--suggest", help="Print the model's labels for every non-blank line (labels format) "
        "on stdout, for editing in any editor, instead of opening the labeller."),
) -> None:
    """Label the lines of scrapes, the model's suggestion first, saving after every key.

    The labeller shows every line with the model's label, coloured by label,
    and puts the cursor on the line the model is least sure of. Keys:

    \b
      a n r d f   article, nav, related-story, ad, footer (the line, or the marked run)
      A N R D F   the same label on every identical line
      space/enter accept the model's label;  =  its label on every identical line
      v           mark the start of a run, move, then press a label key
      u           undo          tab  next line the model is least sure of
      o           after a label: jump to the least sure line / go one line down
      up/down j k move          q, ctrl+c  quit (everything is already saved)

    Labels go to LABELS_DIR/NAME.jsonl, valid for `noiseclf train` at any
    moment; run the same command again to resume a half-labelled file.

    \b
    Examples:
      noiseclf label new-site/page1.txt                 # then: noiseclf train --out my.noiseclf
      noiseclf label page.txt --suggest > labels/page.jsonl
    """
    from ..label_session import LabelSession, label_command, suggest_records, train_command
    from ..features import featurizer

    # The labeller scores a page at a time, again after every key: it stays on the numpy
    # path, so that loading (and, after an install, compiling) the bulk kernel never
    # stalls the screen or a Ctrl-C for seconds.
    featurizer.KERNEL_MODE = "numpy"
    from ..modelfile import default_model_path

    clf = load(model)
    if suggest:
        for path in paths:
            sys.stdout.write(suggest_records(clf, path))
        sys.stdout.flush()
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise fail("the labeller needs a terminal; use --suggest to get pre-labelled records "
                   "to edit in any editor")
    from ..label_ui import LabelApp

    model_name = str(model) if model is not None else default_model_path().name
    for i, path in enumerate(paths):
        session = LabelSession(path, clf, labels_dir, model_name=model_name)
        for w in session.warnings:
            warn(w)
        ui = LabelApp(session)
        ui.run()
        say(f"noiseclf: {path}: {len(session.confirmed)}/{len(session.content)} lines confirmed, "
            f"saved in {session.labels_path}")
        # Ctrl-C stops before the scrapes not yet opened: the hint goes on with them too.
        rest = [path] if session.remaining else []
        if ui.stopped:
            rest += list(paths[i + 1:])
        if rest:
            if session.remaining:
                say(f"noiseclf: {session.remaining} line(s) still carry the model's suggestion")
            say(f"noiseclf: run `{label_command(rest, labels_dir, model)}` again to go on")
        if ui.stopped:
            break
    say(f"noiseclf: to teach the model: {train_command(labels_dir)}")
