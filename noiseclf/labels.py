"""The labels format: the one reader and writer of labels and progress files.

A labels file ``NAME.jsonl`` holds one JSON object per non-blank line of the
scrape ``NAME.txt``, in file order::

    {"line": 12, "text": "the exact line", "label": "nav"}

``line`` is 1-based, counted as :func:`noiseclf.text.split_lines` counts.
The scrape is looked for beside the labels file, then in each folder given
as ``scrape_dirs`` (by default a ``seeds/`` or ``scrapes/`` folder beside the
labels folder).

Everything that reads or writes these files goes through this module:

* :data:`LABELS` (the label set) and :data:`LABEL_COLOURS` (how each label is shown);
* :func:`load_labels` — folders or files of labels, each checked against its scrape;
* :func:`read_labels_file` — one file against lines already read (strict parser,
  :func:`read_label_records`, then :func:`check_label_records`);
* :func:`dump_labels` / :func:`write_labels_file` — the format, written atomically;
* the labeller's progress files ``NAME.progress.json``: :class:`Progress`,
  :func:`read_progress`, :func:`write_progress`, :func:`unconfirmed_counts`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .atomic import atomic_write_bytes
from .errors import LabelsError
from .text import is_blank, read_scrape, split_lines

LABELS: tuple[str, ...] = ("article", "nav", "related-story", "ad", "footer")

LABEL_COLOURS: dict[str, str] = {
    "article": "green", "nav": "blue", "related-story": "magenta", "ad": "red", "footer": "yellow",
}
"""How each label is coloured wherever labels are shown (``noiseclf inspect``, ``noiseclf label``):
one of the terminal's eight ANSI colours, by name, so that it is the documented colour and the
five stay distinct on 16-colour, 256-colour and true-colour terminals alike."""

PROGRESS_FORMAT = "noiseclf-label-progress"
PROGRESS_VERSION = 1


@dataclass
class LabelledScrape:
    """A scrape with a label for each of its non-blank lines."""

    name: str
    scrape_path: Path
    labels_path: Path
    lines: list[str]  # every line of the scrape, blank ones included
    labels: list[str | None]  # one per line; None for blank lines

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def labelled_lines(self) -> list[tuple[int, str, str]]:
        """(1-based line number, text, label) for every non-blank line."""
        return [
            (i + 1, line, label)
            for i, (line, label) in enumerate(zip(self.lines, self.labels))
            if label is not None
        ]


def find_label_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders to their ``*.jsonl`` files, sorted by name."""
    files: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(p.glob("*.jsonl"))
            if not found:
                raise LabelsError(f"{p}: no *.jsonl labels files in this folder; pass a folder of labels")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise LabelsError(f"{p}: no such labels file or folder; check the path")
    return files


def scrape_candidates(labels_path: str | Path, scrape_dirs: Sequence[str | Path] = ()) -> list[Path]:
    """Where the scrape of a labels file is looked for, in order."""
    labels_path = Path(labels_path)
    name = labels_path.stem + ".txt"
    candidates = [labels_path.parent / name]
    candidates += [Path(d) / name for d in scrape_dirs]
    candidates += [labels_path.parent.parent / sub / name for sub in ("seeds", "scrapes")]
    return candidates


def _locate_scrape(labels_path: Path, scrape_dirs: Sequence[Path]) -> Path:
    name = labels_path.stem + ".txt"
    for c in scrape_candidates(labels_path, scrape_dirs):
        if c.is_file():
            return c
    raise LabelsError(
        f"{labels_path}: its scrape {name} was not found beside it or in "
        f"{', '.join(str(Path(d)) for d in scrape_dirs) or 'seeds/ or scrapes/'}; "
        "put the scrape beside the labels file or pass --scrapes DIR"
    )


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    obj: dict = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"key {key!r} appears twice")
        obj[key] = value
    return obj


def read_label_records(path: str | Path) -> list[tuple[int, dict]]:
    """Parse one labels file line by line: (line of the file, JSON object) per non-blank line.

    Raises :class:`LabelsError` naming ``file:line`` on the first line that is
    not a JSON object (the records' fields are checked by :func:`check_label_records`).
    """
    path = Path(path)
    records = []
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LabelsError(f"{path}: cannot be read ({exc.strerror}); check the file and its permissions") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        n = data.count(b"\n", 0, start) + 1
        raise LabelsError(
            f"{path}:{n}: not UTF-8 (byte {start}); save the labels file as UTF-8"
        ) from None
    for n, raw in enumerate(text.split("\n"), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw, object_pairs_hook=_no_duplicate_keys)
        except json.JSONDecodeError as exc:
            raise LabelsError(f"{path}:{n}: broken JSON ({exc.msg}); fix or delete this line") from None
        except (ValueError, RecursionError) as exc:
            why = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
            raise LabelsError(f"{path}:{n}: broken JSON ({why[:80]}); fix or delete this line") from None
        if not isinstance(obj, dict):
            raise LabelsError(f'{path}:{n}: expected an object {{"line", "text", "label"}}; fix this line')
        records.append((n, obj))
    return records


def _check_record(path: Path, n: int, obj: dict, lines: Sequence[str], scrape: Path) -> tuple[int, str]:
    missing = [k for k in ("line", "text", "label") if obj.get(k) is None]
    if missing:
        raise LabelsError(f"{path}:{n}: missing {', '.join(missing)}; every record needs line, text and label")
    line_no, text, label = obj["line"], obj["text"], obj["label"]
    if isinstance(line_no, bool) or not isinstance(line_no, int):
        raise LabelsError(f"{path}:{n}: line must be a whole number, got {line_no!r:.40}; fix this record")
    if not isinstance(label, str) or label not in LABELS:
        raise LabelsError(
            f"{path}:{n}: unknown label {label!r:.40}; use one of {', '.join(LABELS)}"
        )
    if not isinstance(text, str):
        raise LabelsError(f"{path}:{n}: text must be a string, got {text!r:.40}; fix this record")
    if not 1 <= line_no <= len(lines):
        raise LabelsError(
            f"{path}:{n}: line {line_no} is outside {scrape} ({len(lines)} lines); "
            "the scrape changed or the record is wrong: relabel this file"
        )
    if lines[line_no - 1] != text:
        raise LabelsError(
            f"{path}:{n}: text does not match line {line_no} of {scrape} "
            f"(labels say {text[:40]!r}, scrape has {lines[line_no - 1][:40]!r}); "
            "the scrape changed since labelling: relabel this file"
        )
    if is_blank(text):
        raise LabelsError(f"{path}:{n}: line {line_no} is blank; blank lines are not labelled, delete this record")
    return line_no, label


def check_label_records(path: str | Path, numbered: list[tuple[int, dict]], lines: Sequence[str],
                        scrape: str | Path, complete: bool = True) -> list[str | None]:
    """Check parsed records against the scrape's lines: the label of every line (None: none).

    Raises :class:`LabelsError` naming ``file:line`` for a bad record, a line
    labelled twice and, with ``complete`` (the default), a non-blank line
    without a record.
    """
    path, scrape = Path(path), Path(scrape)
    labels: list[str | None] = [None] * len(lines)
    seen: dict[int, int] = {}
    for n, obj in numbered:
        line_no, label = _check_record(path, n, obj, lines, scrape)
        if line_no in seen:
            raise LabelsError(
                f"{path}:{n}: line {line_no} is labelled twice (first at {path}:{seen[line_no]}); "
                "keep one of the two records"
            )
        seen[line_no] = n
        labels[line_no - 1] = label
    for j, line in enumerate(lines if complete else ()):
        if not is_blank(line) and labels[j] is None:
            raise LabelsError(
                f"{path}: line {j + 1} has no label, no record for {scrape}:{j + 1} ({line.strip()[:40]!r}); "
                "add a record for it (the scrape may have changed since labelling)"
            )
    return labels


def read_labels_file(path: str | Path, lines: Sequence[str], scrape: str | Path,
                     complete: bool = True) -> list[str | None]:
    """Read one labels file and check it against its scrape's ``lines``: the label of every line.

    The strict reader (no ``datasets``): errors name ``file:line``. With
    ``complete=False`` a non-blank line may lack a record (its label is None),
    as in a labels file a person has only begun.
    """
    return check_label_records(path, read_label_records(path), lines, scrape, complete)


# The names the fuzzer (benchmarks/fuzz.py) reaches for.
_read_records_strictly = read_label_records
_check_file = check_label_records


def load_labels(
    paths: Iterable[str | Path], scrape_dirs: Sequence[str | Path] = ()
) -> list[LabelledScrape]:
    """Load labels files (or folders of them) and check each against its scrape.

    Raises :class:`LabelsError` naming ``file:line`` for broken JSON, an
    unknown label, text that does not match the scrape, a duplicate line or a
    missing one. Nothing is returned unless every file is consistent.
    """
    files = find_label_files(paths)
    dirs = [Path(d) for d in scrape_dirs]
    # The strict reader for every file: it names file:line and it is faster than the
    # datasets JSON loader at every size measured (2 files 0.01 s against 1.8 s, 800 files /
    # 18.5 MB 1.3 s against 5.0 s), whose import alone was 1.2 s of every `noiseclf train`.
    result = []
    for path in files:
        scrape = _locate_scrape(path, dirs)
        lines = split_lines(read_scrape(scrape).text)
        result.append(LabelledScrape(path.stem, scrape, path, lines, read_labels_file(path, lines, scrape)))
    return result


def labels_hash(scrapes: Sequence[LabelledScrape]) -> str:
    """A SHA-256 over the training data: each scrape's name, lines and labels."""
    h = hashlib.sha256()
    for s in sorted(scrapes, key=lambda s: s.name):
        h.update(s.name.encode("utf-8") + b"\0")
        for line, label in zip(s.lines, s.labels):
            h.update(line.encode("utf-8", "surrogatepass") + b"\t" + (label or "").encode() + b"\n")
    return "sha256:" + h.hexdigest()


def dump_labels(records: Iterable[tuple[int, str, str]]) -> str:
    """Serialise (line, text, label) records in the labels format."""
    return "".join(
        json.dumps({"line": n, "text": t, "label": lab}, ensure_ascii=False) + "\n"
        for n, t, lab in records
    )


def write_labels_file(path: str | Path, records: Iterable[tuple[int, str, str]]) -> Path:
    """Write (line, text, label) records as a labels file, atomically."""
    return atomic_write_bytes(path, dump_labels(records).encode("utf-8"))


# ---------------------------------------------------------------------------
# The labeller's progress files
# ---------------------------------------------------------------------------

def progress_path(labels_path: str | Path) -> Path:
    """``NAME.progress.json`` beside ``NAME.jsonl``."""
    labels_path = Path(labels_path)
    return labels_path.with_name(labels_path.stem + ".progress.json")


@dataclass
class Progress:
    """Which lines of a labels file a person confirmed, and for which scrape and model.

    A labels file without a progress file counts as fully confirmed (a person wrote it).
    """

    scrape: str  # the scrape's file name
    scrape_sha256: str | None  # "sha256:..." of its decoded text
    model: str | None  # the model that suggested the unconfirmed labels
    lines: int  # non-blank lines, i.e. records
    confirmed: list[int]  # 1-based line numbers a person accepted or changed, sorted

    @property
    def remaining(self) -> int:
        return max(0, self.lines - len(self.confirmed))

    @property
    def complete(self) -> bool:
        return self.remaining == 0

    def to_json(self) -> str:
        return json.dumps({
            "format": PROGRESS_FORMAT,
            "version": PROGRESS_VERSION,
            "scrape": self.scrape,
            "scrape_sha256": self.scrape_sha256,
            "model": self.model,
            "lines": self.lines,
            "confirmed_count": len(self.confirmed),
            "complete": self.complete,
            "confirmed": sorted(self.confirmed),
        }, indent=1) + "\n"


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_progress(labels_path: str | Path) -> Progress | None:
    """The progress file of a labels file; None when there is none, or it is not a progress file."""
    try:
        data = json.loads(progress_path(labels_path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != PROGRESS_FORMAT:
        return None
    confirmed = data.get("confirmed")
    sha = data.get("scrape_sha256")
    model = data.get("model")
    return Progress(
        scrape=str(data.get("scrape") or ""),
        scrape_sha256=sha if isinstance(sha, str) else None,
        model=model if isinstance(model, str) else None,
        lines=data["lines"] if _whole(data.get("lines")) else 0,
        confirmed=sorted({n for n in confirmed if _whole(n)}) if isinstance(confirmed, list) else [],
    )


def write_progress(labels_path: str | Path, progress: Progress) -> Path:
    """Write the progress file of a labels file, atomically."""
    return atomic_write_bytes(progress_path(labels_path), progress.to_json().encode("utf-8"))


def write_labels_and_progress(labels_path: str | Path, records: Iterable[tuple[int, str, str]],
                              progress: Progress) -> None:
    """Save a half-labelled file: the labels first, then the progress, each atomically.

    A crash between the two leaves valid labels with the previous progress:
    at worst the last change counts as unconfirmed.
    """
    write_labels_file(labels_path, records)
    write_progress(labels_path, progress)


def unconfirmed_counts(label_paths: Iterable[str | Path]) -> dict[str, int]:
    """{labels file: lines still carrying the model's suggestion} for half-labelled files."""
    out = {}
    for p in label_paths:
        progress = read_progress(p)
        if progress is not None and progress.remaining > 0:
            out[str(p)] = progress.remaining
    return out
