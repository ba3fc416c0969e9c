"""The labelling session of one scrape: state, undo, saving, resuming, the order of questions.

No terminal code (no Textual, no Rich): the terminal UI (:mod:`noiseclf.label_ui`)
sits on top of a :class:`LabelSession`, and the tests and ``noiseclf label
--suggest`` use this module directly.

The suggestions are the model's verdicts (:meth:`noiseclf.model.Model.classify`),
the one path by which noiseclf decides a line's label; the session makes no
decision of its own.

Storage (in the labels folder, default ``labels/``), read and written by
:mod:`noiseclf.labels`
---------------------------------------------------------------------
``NAME.jsonl``
    The labels format: one ``{"line", "text", "label"}`` record for *every*
    non-blank line of ``NAME.txt``, always, so the file is valid for
    ``load_labels`` / ``noiseclf train`` at any moment. A line nobody has
    confirmed yet carries the model's suggestion.
``NAME.progress.json``
    Which lines a person has confirmed (accepted or changed), the scrape's
    SHA-256 and the model that made the suggestions. It is what makes a
    half-labelled file resumable, and what tells a person's labels from the
    model's. A ``NAME.jsonl`` without a progress file (written by hand, or by
    ``--suggest`` and edited) counts as fully confirmed.
``NAME.txt``
    A copy of the scrape, written only when ``load_labels`` would not find the
    scrape otherwise (beside the labels, or in ``seeds/`` / ``scrapes/`` next
    to the labels folder).

Every change is saved at once: the labels file first, then the progress file,
each written atomically (temporary file, fsync, rename), so Ctrl-C, a crash or
a power cut loses at most the keystroke in flight, and never leaves a
half-written file.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from .atomic import atomic_write_bytes
from .errors import LabelsError, OutputError
from .labels import (
    LABELS, Progress, dump_labels, read_labels_file, read_progress, scrape_candidates,
    write_labels_and_progress,
)
from .text import normalize_line, read_scrape, split_lines

if TYPE_CHECKING:  # the session needs only ``model.classify``
    from .model import Model, Verdict


def suggestions(model: "Model", lines: Sequence[str]) -> list["Verdict"]:
    """The model's verdicts for the non-blank lines of one page (1-based ``line``, label, probability)."""
    return [v for v in model.classify(list(lines)) if v.label is not None]


def suggest_records(model: "Model", path: str | Path) -> str:
    """The model's labels for every non-blank line of a scrape, in the labels format."""
    lines = split_lines(read_scrape(path).text)
    return dump_labels((v.line, v.text, v.label) for v in suggestions(model, lines))


def label_command(paths: Iterable[str | Path], labels_dir: str | Path, model: str | Path | None = None) -> str:
    """The shell command that opens (or resumes) these scrapes in the labeller, quoted."""
    argv = ["noiseclf", "label", *map(str, paths), "--labels-dir", str(labels_dir)]
    if model is not None:
        argv += ["--model", str(model)]
    return shlex.join(argv)


def train_command(labels_dir: str | Path, out: str = "my.noiseclf") -> str:
    """The shell command that teaches a model the labels in ``labels_dir``, quoted."""
    return shlex.join(["noiseclf", "train", "--labels", str(labels_dir), "--out", out])


@dataclass
class Change:
    """One undoable step: the lines it touched and what they were before."""

    before: list[tuple[int, str, bool]] = field(default_factory=list)  # (line, label, confirmed)


class LabelSession:
    """The labels of one scrape: the model's suggestions, a person's decisions, undo, saving."""

    def __init__(self, scrape: str | Path, model: "Model", labels_dir: str | Path = "labels",
                 model_name: str = "default.noiseclf"):
        self.scrape = Path(scrape)
        self.labels_dir = Path(labels_dir)
        self.name = self.scrape.stem
        decoded = read_scrape(self.scrape)
        self.warnings = decoded.warnings
        self.text = decoded.text
        self.lines = split_lines(decoded.text)
        self.scrape_sha256 = "sha256:" + hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()
        verdicts = suggestions(model, self.lines)
        self.content: list[int] = [v.line for v in verdicts]  # 1-based line numbers of non-blank lines
        if not self.content:
            raise LabelsError(f"{self.scrape}: has no non-blank line; there is nothing to label")
        self.suggested: dict[int, str] = {v.line: v.label for v in verdicts}
        self.confidence: dict[int, float] = {v.line: float(v.probability) for v in verdicts}
        self.labels: dict[int, str] = dict(self.suggested)
        self.confirmed: set[int] = set()
        self.undo_stack: list[Change] = []
        self.model_name = model_name
        # least sure first; ties by position
        self.queue: list[int] = sorted(self.content, key=lambda n: (self.confidence[n], n))
        self.resumed = False
        self._prepare_folder()
        self._resume()

    # -- files ----------------------------------------------------------
    @property
    def labels_path(self) -> Path:
        return self.labels_dir / f"{self.name}.jsonl"

    @property
    def progress_path(self) -> Path:
        return self.labels_dir / f"{self.name}.progress.json"

    def _prepare_folder(self) -> None:
        if self.labels_dir.exists() and not self.labels_dir.is_dir():
            raise OutputError(f"{self.labels_dir}: exists and is not a folder; pass a folder for --labels-dir")
        try:
            self.labels_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{self.labels_dir}: cannot create the folder ({exc.strerror}); "
                              "pick another --labels-dir") from None
        found = scrape_candidates(self.labels_path)  # where load_labels will look for the scrape
        for cand in found:
            if cand.is_file():
                if cand.resolve() == self.scrape.resolve():
                    return
                other = split_lines(read_scrape(cand).text)
                if other == self.lines:
                    return
                raise LabelsError(
                    f"{self.scrape}: a different scrape with the same name is already at {cand}; "
                    "rename one of the two, or use another --labels-dir"
                )
        # load_labels would not find the scrape: keep a copy beside the labels
        atomic_write_bytes(found[0], self.scrape.read_bytes())

    def _resume(self) -> None:
        if not self.labels_path.exists():
            self.save()
            return
        self.resumed = True
        # a half-labelled file may lack records; every record must match the scrape
        labels = read_labels_file(self.labels_path, self.lines, self.scrape, complete=False)
        found = {i + 1: label for i, label in enumerate(labels) if label is not None}
        self.labels.update(found)
        progress = read_progress(self.labels_path)
        if progress is not None:
            if progress.scrape_sha256 not in (None, self.scrape_sha256):
                raise LabelsError(
                    f"{self.progress_path}: was made for a different version of {self.scrape.name}; "
                    "move it and the labels file away to start afresh"
                )
            self.confirmed = {n for n in progress.confirmed if n in found}
        else:
            self.confirmed = set(found)  # a labels file without progress: a person wrote it
        self.save()

    def progress(self) -> Progress:
        return Progress(scrape=self.scrape.name, scrape_sha256=self.scrape_sha256, model=self.model_name,
                        lines=len(self.content), confirmed=sorted(self.confirmed))

    def records(self) -> list[tuple[int, str, str]]:
        """(line, text, label) for every non-blank line: what the labels file holds."""
        return [(n, self.lines[n - 1], self.labels[n]) for n in self.content]

    def save(self) -> None:
        """Write the labels file, then the progress file, each atomically."""
        write_labels_and_progress(self.labels_path, self.records(), self.progress())

    def records_text(self) -> str:
        return dump_labels(self.records())

    # -- questions ------------------------------------------------------
    @property
    def remaining(self) -> int:
        return len(self.content) - len(self.confirmed)

    def next_unsure(self, after: int | None = None) -> int | None:
        """The unconfirmed line the model is least sure of (None when all are confirmed)."""
        for n in self.queue:
            if n not in self.confirmed and n != after:
                return n
        return None

    def same_text(self, line: int) -> list[int]:
        key = normalize_line(self.lines[line - 1])
        return [n for n in self.content if normalize_line(self.lines[n - 1]) == key]

    def model_probability(self, line: int) -> float | None:
        """The model's probability for the line's label; None when the label is a person's, not the model's."""
        return self.confidence[line] if self.labels[line] == self.suggested[line] else None

    # -- changes --------------------------------------------------------
    def set_labels(self, lines: Iterable[int], label: str | None = None) -> int:
        """Confirm ``lines``, giving them ``label`` (None: keep their current label). Saves."""
        if label is not None and label not in LABELS:
            raise ValueError(f"unknown label {label!r}")
        change = Change()
        for n in sorted(set(lines)):
            if n not in self.suggested:
                continue  # blank line
            new = self.labels[n] if label is None else label
            if new == self.labels[n] and n in self.confirmed:
                continue
            change.before.append((n, self.labels[n], n in self.confirmed))
            self.labels[n] = new
            self.confirmed.add(n)
        if change.before:
            self.undo_stack.append(change)
            self.save()
        return len(change.before)

    def undo(self) -> list[int]:
        """Revert the last change; returns the lines it touched ([] when nothing to undo)."""
        if not self.undo_stack:
            return []
        change = self.undo_stack.pop()
        for n, label, was_confirmed in change.before:
            self.labels[n] = label
            if was_confirmed:
                self.confirmed.add(n)
            else:
                self.confirmed.discard(n)
        self.save()
        return [n for n, _, _ in change.before]
