"""``noiseclf clean``: keep the article lines of scrapes."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import InputError, OutputError, UsageError
from ..labels import LABELS
from . import app
from ._common import EXIT_INPUT, EXIT_USAGE, handles_errors, load, one_line, say, warn, write_out


class Format(str, Enum):
    text = "text"
    jsonl = "jsonl"


def _render(result, fmt: Format, name: str | None) -> str:
    """What the CLI writes for a cleaned page: its kept text, or every line as JSON."""
    if fmt is Format.text:
        return result.text
    rows = []
    for v in result.verdicts:
        rec = v.as_record()
        rec["keep"] = bool(v.keep)
        if name is not None:
            rec = {"file": name, **rec}
        rows.append(json.dumps(rec, ensure_ascii=False))
    return "".join(r + "\n" for r in rows)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # named when it is read


def _output_name(path: Path, fmt: Format) -> str:
    return path.name if fmt is Format.text else path.stem + ".jsonl"


MAX_NAMED = 10  # unfamiliar scrapes named in the warning at the end of a run
STDIN = Path("-")


@app.command("clean")
@handles_errors
def clean_cli(
    paths: Optional[List[Path]] = typer.Argument(
        None, help="Scrape files (plain text, or HTML: converted to text first); - is stdin. "
        "None: read stdin (when it is not a terminal).",
        show_default=False,
    ),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model file (default: the shipped model)."),
    output_dir: Optional[Path] = typer.Option(
        None, "--output-dir", "-o",
        help="Write each cleaned file under its own name into this folder (created if missing) "
        "instead of stdout.",
    ),
    keep: Optional[List[str]] = typer.Option(
        None, "--keep", "-k",
        help=f"Label(s) to keep: repeat, or separate with commas (default: article). Of: {', '.join(LABELS)}.",
    ),
    min_probability: Optional[float] = typer.Option(
        None, "--min-probability", min=0.0, max=1.0,
        help="Keep a line only when the model gives the kept labels at least this probability "
        "(higher: less noise kept, a little more article lost). Default: the most probable label decides.",
    ),
    page_relative: bool = typer.Option(
        True, "--page-relative/--no-page-relative",
        help="Drop a kept line whose probability is far below the page's own prose (other stories' teasers, "
        "comments beside an article); the model's setting. --no-page-relative: off, a little more recall.",
    ),
    plain: bool = typer.Option(
        False, "--plain",
        help="For Markdown scrapes (html2text, markdownify): write the kept lines as plain text, without "
        "link and image targets or emphasis, list and heading marks. Which lines are kept does not change.",
        show_default=False,
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
    url_field: str = typer.Option(
        "url", "--url-field", help="With --corpus: the field holding a record's URL, whose host is its site."),
    num_proc: int = typer.Option(1, "--num-proc", min=1, help="With --corpus: worker processes."),
    site: Optional[str] = typer.Option(
        None, "--site",
        help="All the scrapes are pages of this site: lines recurring across them are menus and footers.",
    ),
    site_per_folder: bool = typer.Option(
        False, "--site-per-folder", help="Each folder of scrapes is one site (see --site).", show_default=False),
    site_memory: Optional[Path] = typer.Option(
        None, "--site-memory",
        help="JSON file remembering, per site, how often each line recurs across its pages "
        "(read, then updated atomically). Needs --site or --site-per-folder.",
    ),
) -> None:
    """Clean scrapes: keep the article lines, unchanged and in order.

    \b
    Examples:
      noiseclf clean page.txt                      # cleaned text on stdout
      cat page.txt | noiseclf clean -              # stdin to stdout
      noiseclf clean scrapes/*.txt -o cleaned/     # many files, one process
      noiseclf clean page.txt --format jsonl       # every line, labelled
      noiseclf clean page.md --plain               # a Markdown scrape, kept lines as plain text
      noiseclf clean site/*.txt --site example.com -o out/   # pages of one site
      noiseclf clean --corpus pages.jsonl --output clean.jsonl --num-proc 2
    """
    from ..model import check_keep

    try:
        keep_set = check_keep(keep or None)
    except UsageError as exc:
        raise typer.BadParameter(str(exc), param_hint="--keep") from None
    if site is not None and site_per_folder:
        raise typer.BadParameter("give --site NAME or --site-per-folder, not both", param_hint="--site")
    if corpus is not None and (site_memory is not None or site is not None or site_per_folder):
        raise typer.BadParameter("--site, --site-per-folder and --site-memory work on scrape files; a corpus "
                                 "record's site is the host of its url field", param_hint="--site-memory")
    if site_memory is not None and site is None and not site_per_folder:
        raise typer.BadParameter("--site-memory needs to know which site the scrapes belong to: "
                                 "add --site NAME or --site-per-folder", param_hint="--site-memory")
    if plain and fmt is Format.jsonl:
        raise typer.BadParameter("--format jsonl writes every line as it is; --plain goes with text output",
                                 param_hint="--plain")
    if corpus is not None or output is not None:
        _clean_corpus(corpus, output, paths, output_dir, model, keep_set, text_field, num_proc, url_field,
                      min_probability, page_relative, plain)
        return
    paths = list(paths or [])
    if not paths:
        if sys.stdin.isatty():
            say("noiseclf: clean reads scrape files, or stdin when it is piped: "
                "`noiseclf clean page.txt` or `cat page.txt | noiseclf clean -` (see --help)")
            raise typer.Exit(EXIT_USAGE)
        paths = [STDIN]
    if paths.count(STDIN) > 1:
        raise typer.BadParameter("- (stdin) can be given once", param_hint="PATHS")
    if output_dir is not None and STDIN in paths:
        raise typer.BadParameter("--output-dir needs input files; stdin is cleaned to stdout", param_hint="--output-dir")
    if output_dir is not None:
        if output_dir.exists() and not output_dir.is_dir():
            raise OutputError(f"{output_dir}: exists and is not a folder; pass a folder for --output-dir")
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{output_dir}: cannot create the folder ({exc.strerror}); pick another --output-dir") from None

    from ..atomic import atomic_write_bytes, fsync_folder
    from ..clean import Cleaner
    from ..sites import site_of_folder

    from ..features.featurizer import expect_bytes

    expect_bytes(sum(_size(p) for p in paths if p != STDIN))
    cleaner = Cleaner(load(model), keep_set, site_memory=site_memory, verdicts=fmt is Format.jsonl,
                      min_probability=min_probability, page_relative=page_relative, plain=plain)
    failures = 0
    html_inputs: list[str] = []  # inputs that were HTML, converted by noiseclf.html
    markdown_inputs: list[str] = []  # Markdown with link targets, cleaned without --plain
    names_seen: dict[str, Path] = {}
    named = output_dir is None  # jsonl rows on stdout say which file they are from

    def scrapes():
        nonlocal failures
        from ..clean import Scrape
        from ..html import read_page
        from ..plain import looks_like_markdown

        for path in paths:
            try:
                decoded, was_html = read_page(None if path == STDIN else path)  # HTML becomes text
            except InputError as exc:
                say(f"noiseclf: {one_line(str(exc))}")
                failures += 1
                continue
            for w in decoded.warnings:
                warn(w)
            if was_html:
                html_inputs.append("<stdin>" if path == STDIN else one_line(str(path)))
            elif not plain and fmt is Format.text and looks_like_markdown(decoded.text):
                markdown_inputs.append("<stdin>" if path == STDIN else one_line(str(path)))
            if output_dir is not None:
                out_name = _output_name(path, fmt)
                if out_name in names_seen:
                    say(f"noiseclf: {one_line(str(path))}: same file name as {names_seen[out_name]}; "
                        "its output would overwrite that one, so it was skipped (clean them into separate folders)")
                    failures += 1
                    continue
                names_seen[out_name] = path
            page_site = site if site is not None else (site_of_folder(path) if site_per_folder and path != STDIN else None)
            yield Scrape(decoded.text, name=str(path) if path != STDIN else None, site=page_site)

    for result in cleaner.clean(scrapes()):
        rendered = _render(result, fmt, result.name if named else None)
        if output_dir is not None:
            atomic_write_bytes(output_dir / _output_name(Path(result.name), fmt), rendered.encode("utf-8"),
                               sync_folder=False)  # the folder is flushed once, below
        else:
            write_out(rendered)
    if output_dir is not None:
        fsync_folder(output_dir)
    if html_inputs:
        from ..html import TOOL

        which = html_inputs[0] if len(html_inputs) == 1 else f"{len(html_inputs)} of {len(paths)} inputs"
        say(f"noiseclf: {which}: HTML, converted to text with {TOOL} before cleaning")
    if markdown_inputs:
        which = markdown_inputs[0] if len(markdown_inputs) == 1 else f"{len(markdown_inputs)} of {len(paths)} inputs"
        say(f"noiseclf: {which}: Markdown, its kept lines written with their link targets; "
            "add --plain to write them as plain text")
    unfamiliar = cleaner.finish()
    if unfamiliar:
        th = cleaner.thresholds
        names = ", ".join(unfamiliar[:MAX_NAMED])
        more = f" and {len(unfamiliar) - MAX_NAMED} more" if len(unfamiliar) > MAX_NAMED else ""
        warn(f"{len(unfamiliar)} of {cleaner.checked} scrape(s) look unfamiliar to the model "
             f"(mean confidence below {th['confidence_floor']:.2f} or an unusual share of article "
             f"lines): {names}{more}; see `noiseclf check`, and label one with `noiseclf label`")
    if failures:
        if len(paths) > 1:
            say(f"noiseclf: {failures} of {len(paths)} files could not be cleaned (see above)")
        raise typer.Exit(EXIT_INPUT)


def _clean_corpus(corpus, output, paths, output_dir, model, keep_set, text_field, num_proc, url_field,
                  min_probability, page_relative, plain) -> None:
    """The --corpus mode (noiseclf.corpus does the work)."""
    from ..corpus import clean_corpus

    if corpus is None:
        raise typer.BadParameter("--output goes with --corpus (for scrape files use --output-dir)", param_hint="--output")
    if output is None:
        raise typer.BadParameter("--corpus needs --output FILE (.jsonl or .parquet)", param_hint="--output")
    if paths or output_dir is not None:
        raise typer.BadParameter("--corpus cleans one corpus; give no scrape files or --output-dir with it",
                                 param_hint="--corpus")
    from ..corpus import first_values
    from ..html import TOOL, looks_like_html
    from ..plain import looks_like_markdown
    from ..text import not_a_page

    sample = first_values(corpus, text_field)  # read once, for the notes
    if any(looks_like_html(v) for v in sample):
        say(f"noiseclf: {one_line(str(corpus))}: field {text_field!r} holds HTML; "
            f"each HTML record is converted to text with {TOOL} before cleaning")
    elif not plain and any(isinstance(v, str) and looks_like_markdown(v) for v in sample):
        say(f"noiseclf: {one_line(str(corpus))}: field {text_field!r} holds Markdown; its kept lines are "
            "written with their link targets; add --plain to write them as plain text")
    odd = next((k for k in (not_a_page(v) for v in sample if isinstance(v, str)) if k), None)
    if odd is not None:
        say(f"noiseclf: {one_line(str(corpus))}: field {text_field!r} of some records holds {odd}, not a page's "
            "text; those records are cleaned as text all the same: check what the field holds (--text-field)")
    stats = clean_corpus(corpus, output, load(model), text_field=text_field, keep=keep_set,
                         num_proc=num_proc, model_path=model, url_field=url_field, min_probability=min_probability,
                         page_relative=page_relative, plain=plain)
    say(f"noiseclf: {stats.records} records cleaned into {output}: "
        f"{stats.kept_lines} lines kept, {stats.dropped_lines} dropped")
