"""The labels format, and the loader that checks labels against their scrapes.

A labels file ``NAME.jsonl`` holds one JSON object per non-blank line of the
scrape ``NAME.txt``, in file order::

    {"line": 12, "text": "the exact line", "label": "nav"}

``line`` is 1-based, counted as :func:`noiseclf.text.split_lines` counts.
The scrape is looked for beside the labels file, then in each folder given
as ``scrape_dirs`` (by default a ``seeds/`` or ``scrapes/`` folder beside the
labels folder).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .errors import LabelsError
from .text import is_blank, read_scrape, split_lines

LABELS: tuple[str, ...] = ("article", "nav", "related-story", "ad", "footer")


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


def _locate_scrape(labels_path: Path, scrape_dirs: Sequence[Path]) -> Path:
    name = labels_path.stem + ".txt"
    candidates = [labels_path.parent / name]
    candidates += [Path(d) / name for d in scrape_dirs]
    candidates += [labels_path.parent.parent / sub / name for sub in ("seeds", "scrapes")]
    for c in candidates:
        if c.is_file():
            return c
    raise LabelsError(
        f"{labels_path}: its scrape {name} was not found beside it or in "
        f"{', '.join(str(Path(d)) for d in scrape_dirs) or 'seeds/ or scrapes/'}; "
        "put the scrape beside the labels file or pass --scrapes DIR"
    )


def _read_records_with_datasets(files: list[Path]) -> list[list[dict]] | None:
    """Read all labels files in one pass through the ``datasets`` JSON loader.

    Returns the records grouped per file, or None when Arrow could not parse
    the files (broken JSON, mixed types): the caller then finds the bad line.
    """
    import datasets  # imported here: loading it costs a second and only labels need it

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    counts = []
    for f in files:
        with open(f, "rb") as fh:
            counts.append(sum(1 for raw in fh if raw.strip()))
    if sum(counts) == 0:
        return [[] for _ in files]
    nonempty = [f for f, c in zip(files, counts) if c]
    with tempfile.TemporaryDirectory(prefix="noiseclf-labels-") as cache:
        try:
            ds = datasets.load_dataset(
                "json",
                data_files=[str(f) for f in nonempty],
                split="train",
                cache_dir=cache,
                keep_in_memory=True,
            )
        except Exception:  # Arrow's errors carry no line number; locate it ourselves
            return None
        columns = set(ds.column_names)
        if not {"line", "text", "label"} <= columns:
            return None
        rows = ds.select_columns(["line", "text", "label"]).to_dict()
    if len(rows["line"]) != sum(counts):
        return None
    grouped, start = [], 0
    for c in counts:
        grouped.append(
            [
                {"line": rows["line"][i], "text": rows["text"][i], "label": rows["label"][i]}
                for i in range(start, start + c)
            ]
        )
        start += c
    return grouped


def _read_records_strictly(path: Path) -> list[tuple[int, dict]]:
    """Parse one file line by line, raising on the first bad line."""
    records = []
    try:
        raw_lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise LabelsError(f"{path}: not UTF-8 (byte {exc.start}); save the labels file as UTF-8") from None
    for n, raw in enumerate(raw_lines, 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise LabelsError(f"{path}:{n}: broken JSON ({exc.msg}); fix or delete this line") from None
        if not isinstance(obj, dict):
            raise LabelsError(f'{path}:{n}: expected an object {{"line", "text", "label"}}; fix this line')
        records.append((n, obj))
    return records


def _check_record(path: Path, n: int, obj: dict, lines: list[str], scrape: Path) -> tuple[int, str]:
    missing = [k for k in ("line", "text", "label") if obj.get(k) is None]
    if missing:
        raise LabelsError(f"{path}:{n}: missing {', '.join(missing)}; every record needs line, text and label")
    line_no, text, label = obj["line"], obj["text"], obj["label"]
    if isinstance(line_no, bool) or not isinstance(line_no, int):
        raise LabelsError(f"{path}:{n}: line must be a whole number, got {line_no!r}; fix this record")
    if label not in LABELS:
        raise LabelsError(
            f"{path}:{n}: unknown label {label!r}; use one of {', '.join(LABELS)}"
        )
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
    grouped = _read_records_with_datasets(files)
    result = []
    for i, path in enumerate(files):
        scrape = _locate_scrape(path, dirs)
        decoded = read_scrape(scrape)
        lines = split_lines(decoded.text)
        if grouped is None:
            numbered = _read_records_strictly(path)
        else:
            # Record k sits on the k-th non-blank line of the file.
            with open(path, "rb") as fh:
                record_lines = [n for n, raw in enumerate(fh, 1) if raw.strip()]
            numbered = list(zip(record_lines, grouped[i]))
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
        for j, line in enumerate(lines):
            if not is_blank(line) and labels[j] is None:
                raise LabelsError(
                    f"{path}: line {j + 1} of {scrape} has no label ({line.strip()[:40]!r}); "
                    "add a record for it"
                )
        result.append(LabelledScrape(path.stem, scrape, path, lines, labels))
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
