"""``noiseclf clean``: keep the article lines of scrapes."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import InputError, OutputError
from ..labels import LABELS
from ..atomic import atomic_write_bytes
from ..model import Verdict, render_kept
from ..text import read_scrape, read_stdin
from . import app
from ._clean_extras import CleanExtras
from ._common import EXIT_INPUT, handles_errors, load, one_line, say, warn, write_out


class Format(str, Enum):
    text = "text"
    jsonl = "jsonl"


def _render(verdicts: list[Verdict], fmt: Format, keep: set[str], name: str | None) -> str:
    if fmt is Format.text:
        return render_kept(verdicts, keep)
    rows = []
    for v in verdicts:
        rec = v.as_record()
        rec["keep"] = v.label in keep
        if name is not None:
            rec = {"file": name, **rec}
        rows.append(json.dumps(rec, ensure_ascii=False))
    return "".join(r + "\n" for r in rows)


def _output_name(path: Path, fmt: Format) -> str:
    return path.name if fmt is Format.text else path.stem + ".jsonl"


BATCH = 64  # pages classified per call: amortises the model's per-call cost
BATCH_CHARS = 32_000_000  # ... unless they are large: then fewer, to bound memory


@app.command("clean")
@handles_errors
def clean_cli(
    paths: Optional[List[Path]] = typer.Argument(
        None, help="Scrape files (plain text). None: read stdin, write stdout.", show_default=False
    ),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model file (default: the shipped model)."),
    output_dir: Optional[Path] = typer.Option(
        None, "--output-dir", "-o",
        help="Write each cleaned file under its own name into this folder (created if missing) "
        "instead of stdout.",
    ),
    keep: Optional[List[str]] = typer.Option(
        None, "--keep", "-k",
        help=f"Label to keep; repeat for several (default: article). One of: {', '.join(LABELS)}.",
    ),
    fmt: Format = typer.Option(
        Format.text, "--format", "-f",
        help="text: the kept lines, unchanged, blank lines between paragraphs. "
        "jsonl: every line with its label, probability and whether it is kept.",
    ),
    corpus: Optional[Path] = typer.Option(
        None, "--corpus",
        help="Clean a corpus instead: a .jsonl (JSON Lines, may be .gz) or .parquet file, or a folder of them. "
        "Every record keeps its fields; the text field is cleaned and noiseclf_kept_lines / "
        "noiseclf_dropped_lines are added. Needs --output.",
    ),
    output: Optional[Path] = typer.Option(
        None, "--output", help="With --corpus: the cleaned corpus file (.jsonl or .parquet)."),
    text_field: str = typer.Option("text", "--text-field", help="With --corpus: the field holding the text."),
    num_proc: int = typer.Option(1, "--num-proc", min=1, help="With --corpus: worker processes."),
    site_memory: Optional[Path] = typer.Option(
        None, "--site-memory",
        help="JSON file remembering, per site, how often each line recurs across its pages "
        "(read, then updated atomically). Lines on many pages of a site are menus and footers.",
    ),
    site: Optional[str] = typer.Option(
        None, "--site", help="Site of all the scrapes, for recurrence (default: each scrape's folder name)."),
) -> None:
    """Clean scrapes: keep the article lines, unchanged and in order.

    \b
    Examples:
      noiseclf clean page.txt                      # cleaned text on stdout
      cat page.txt | noiseclf clean                # stdin to stdout
      noiseclf clean scrapes/*.txt -o cleaned/     # many files, one process
      noiseclf clean page.txt --format jsonl       # every line, labelled
      noiseclf clean --corpus pages.jsonl --output clean.jsonl --num-proc 2
    """
    keep_set = set(keep or ["article"])
    unknown = keep_set - set(LABELS)
    if unknown:
        raise typer.BadParameter(
            f"unknown label {', '.join(sorted(unknown))}; use one of {', '.join(LABELS)}", param_hint="--keep"
        )
    if corpus is not None and (site_memory is not None or site is not None):
        raise typer.BadParameter("--site-memory and --site work on scrape files, not with --corpus",
                                 param_hint="--site-memory")
    if corpus is not None or output is not None:
        _clean_corpus(corpus, output, paths, output_dir, model, keep_set, text_field, num_proc)
        return
    if output_dir is not None and not paths:
        raise typer.BadParameter("--output-dir needs input files; stdin is cleaned to stdout", param_hint="--output-dir")
    if output_dir is not None:
        if output_dir.exists() and not output_dir.is_dir():
            raise OutputError(f"{output_dir}: exists and is not a folder; pass a folder for --output-dir")
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{output_dir}: cannot create the folder ({exc.strerror}); pick another --output-dir") from None

    clf = load(model)
    extras = CleanExtras(clf, paths, site_memory, site)  # site memory and drift alert

    if not paths:
        decoded = read_stdin()
        for w in decoded.warnings:
            warn(w)
        verdicts = extras.classify([(None, decoded.text)])[0]
        write_out(_render(verdicts, fmt, keep_set, None))
        extras.finish()
        return

    failures = 0
    names_seen: dict[str, Path] = {}
    batch: list[tuple[Path, str]] = []
    batch_chars = 0

    def flush() -> None:
        results = extras.classify(batch)
        for (path, _), verdicts in zip(batch, results):
            rendered = _render(verdicts, fmt, keep_set, None if output_dir else str(path))
            if output_dir is not None:
                atomic_write_bytes(output_dir / _output_name(path, fmt), rendered.encode("utf-8"))
            else:
                write_out(rendered)

    for path in paths:
        try:
            decoded = read_scrape(path)
        except InputError as exc:
            say(f"noiseclf: {one_line(str(exc))}")
            failures += 1
            continue
        for w in decoded.warnings:
            warn(w)
        if output_dir is not None:
            out_name = _output_name(path, fmt)
            if out_name in names_seen:
                say(f"noiseclf: {one_line(str(path))}: same file name as {names_seen[out_name]}; "
                    "its output would overwrite that one, so it was skipped (clean them into separate folders)")
                failures += 1
                continue
            names_seen[out_name] = path
        batch.append((path, decoded.text))
        batch_chars += len(decoded.text)
        if len(batch) >= BATCH or batch_chars >= BATCH_CHARS:  # bounded memory per batch
            flush()
            batch, batch_chars = [], 0
    if batch:
        flush()
    extras.finish()
    if failures:
        if len(paths) > 1:
            say(f"noiseclf: {failures} of {len(paths)} files could not be cleaned (see above)")
        raise typer.Exit(EXIT_INPUT)


def _clean_corpus(corpus, output, paths, output_dir, model, keep_set, text_field, num_proc) -> None:
    """The --corpus mode (noiseclf.corpus does the work)."""
    from ..corpus import clean_corpus

    if corpus is None:
        raise typer.BadParameter("--output goes with --corpus (for scrape files use --output-dir)", param_hint="--output")
    if output is None:
        raise typer.BadParameter("--corpus needs --output FILE (.jsonl or .parquet)", param_hint="--output")
    if paths or output_dir is not None:
        raise typer.BadParameter("--corpus cleans one corpus; give no scrape files or --output-dir with it",
                                 param_hint="--corpus")
    stats = clean_corpus(corpus, output, load(model), text_field=text_field, keep=keep_set,
                         num_proc=num_proc, model_path=model)
    say(f"noiseclf: {stats.records} records cleaned into {output}: "
        f"{stats.kept_lines} lines kept, {stats.dropped_lines} dropped")
