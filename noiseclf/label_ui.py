"""Label a scrape in the terminal, starting from the model's suggestions.

Two layers:

* :class:`LabelSession` — the labelling state of one scrape and how it is
  stored. No terminal code; the tests and ``noiseclf label --suggest`` use it
  directly.
* :class:`LabelApp` — the Textual terminal UI on top of a session.

Storage (in the labels folder, default ``labels/``)
---------------------------------------------------
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
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .errors import LabelsError, OutputError
from .features import Page
from .labels import LABELS, dump_labels
from .atomic import atomic_write_bytes
from .model import Model
from .text import is_blank, normalize_line, read_scrape, split_lines

PROGRESS_FORMAT = "noiseclf-label-progress"
PROGRESS_VERSION = 1
KEYS = {"a": "article", "n": "nav", "r": "related-story", "d": "ad", "f": "footer"}
COLOURS = {"article": "green", "nav": "blue", "related-story": "magenta", "ad": "red", "footer": "yellow"}


def suggestions(model: Model, lines: Sequence[str]) -> tuple[list[int], list[str], np.ndarray]:
    """(0-based indices of non-blank lines, suggested label, top probability) for one page."""
    page = Page(list(lines))
    proba = model.predict_pages([page])
    if len(proba) == 0:
        return [], [], np.zeros(0)
    best = proba.argmax(axis=1)
    return list(page.content), [model.labels[b] for b in best], proba[np.arange(len(best)), best]


def suggest_records(model: Model, path: str | Path) -> str:
    """The model's labels for every non-blank line of a scrape, in the labels format."""
    lines = split_lines(read_scrape(path).text)
    idx, labs, _ = suggestions(model, lines)
    return dump_labels((i + 1, lines[i], lab) for i, lab in zip(idx, labs))


@dataclass
class Change:
    """One undoable step: the lines it touched and what they were before."""

    before: list[tuple[int, str, bool]] = field(default_factory=list)  # (line, label, confirmed)


class LabelSession:
    """The labels of one scrape: the model's suggestions, a person's decisions, undo, saving."""

    def __init__(self, scrape: str | Path, model: Model, labels_dir: str | Path = "labels",
                 model_name: str = "default.noiseclf"):
        self.scrape = Path(scrape)
        self.labels_dir = Path(labels_dir)
        self.name = self.scrape.stem
        decoded = read_scrape(self.scrape)
        self.warnings = decoded.warnings
        self.text = decoded.text
        self.lines = split_lines(decoded.text)
        self.scrape_sha256 = "sha256:" + hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()
        idx, labs, top = suggestions(model, self.lines)
        self.content: list[int] = [i + 1 for i in idx]  # 1-based line numbers of non-blank lines
        if not self.content:
            raise LabelsError(f"{self.scrape}: has no non-blank line; there is nothing to label")
        self.suggested: dict[int, str] = dict(zip(self.content, labs))
        self.confidence: dict[int, float] = {n: float(p) for n, p in zip(self.content, top)}
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
        beside = self.labels_dir / f"{self.name}.txt"
        found = [beside] + [self.labels_dir.parent / sub / f"{self.name}.txt" for sub in ("seeds", "scrapes")]
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
        atomic_write_bytes(beside, self.scrape.read_bytes())

    def _resume(self) -> None:
        if not self.labels_path.exists():
            self.save()
            return
        self.resumed = True
        try:
            raw = self.labels_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LabelsError(f"{self.labels_path}: cannot be read ({exc}); move it away to start afresh") from None
        found: dict[int, str] = {}
        for n, row in enumerate(raw.split("\n"), 1):
            if not row.strip():
                continue
            try:
                obj = json.loads(row)
                line, text, label = obj["line"], obj["text"], obj["label"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise LabelsError(f"{self.labels_path}:{n}: not a labels record; fix or delete this line") from None
            if label not in LABELS:
                raise LabelsError(f"{self.labels_path}:{n}: unknown label {label!r}; use one of {', '.join(LABELS)}")
            if not isinstance(line, int) or line not in self.suggested or self.lines[line - 1] != text:
                raise LabelsError(
                    f"{self.labels_path}:{n}: does not match line {line} of {self.scrape} "
                    "(the scrape changed since labelling); move the labels file away to start afresh"
                )
            found[line] = label
        self.labels.update(found)
        progress = None
        if self.progress_path.exists():
            try:
                progress = json.loads(self.progress_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                progress = None
        if isinstance(progress, dict) and progress.get("format") == PROGRESS_FORMAT:
            if progress.get("scrape_sha256") not in (None, self.scrape_sha256):
                raise LabelsError(
                    f"{self.progress_path}: was made for a different version of {self.scrape.name}; "
                    "move it and the labels file away to start afresh"
                )
            self.confirmed = {n for n in progress.get("confirmed", []) if n in found}
        else:
            self.confirmed = set(found)  # a labels file without progress: a person wrote it
        self.save()

    def save(self) -> None:
        """Write the labels file, then the progress file, each atomically."""
        atomic_write_bytes(self.labels_path, self.records_text().encode("utf-8"))
        progress = {
            "format": PROGRESS_FORMAT,
            "version": PROGRESS_VERSION,
            "scrape": self.scrape.name,
            "scrape_sha256": self.scrape_sha256,
            "model": self.model_name,
            "lines": len(self.content),
            "confirmed_count": len(self.confirmed),
            "complete": self.remaining == 0,
            "confirmed": sorted(self.confirmed),
        }
        atomic_write_bytes(self.progress_path, (json.dumps(progress, indent=1) + "\n").encode("utf-8"))

    def records_text(self) -> str:
        return dump_labels((n, self.lines[n - 1], self.labels[n]) for n in self.content)

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


# ---------------------------------------------------------------------------
# The terminal UI
# ---------------------------------------------------------------------------

def _make_app():
    from rich.text import Text
    from textual.app import App, ComposeResult
    from textual.binding import Binding
    from textual.widgets import DataTable, Footer, Static

    class LabelApp(App):
        """Keys: a/n/r/d/f label (capital: every identical line too), space/enter accept,
        v mark a run, u undo, tab next unsure line, o order, q quit."""

        CSS = """
        #status { height: 2; padding: 0 1; background: $panel; }
        DataTable { height: 1fr; }
        """
        BINDINGS = [
            Binding("a", "label('article')", "article"),
            Binding("n", "label('nav')", "nav"),
            Binding("r", "label('related-story')", "related"),
            Binding("d", "label('ad')", "ad"),
            Binding("f", "label('footer')", "footer"),
            Binding("A", "label_same('article')", "all same", show=False),
            Binding("N", "label_same('nav')", show=False),
            Binding("R", "label_same('related-story')", show=False),
            Binding("D", "label_same('ad')", show=False),
            Binding("F", "label_same('footer')", show=False),
            Binding("space", "accept", "accept", priority=True),
            Binding("enter", "accept", "accept", show=False, priority=True),
            Binding("equals_sign", "accept_same", "=same", show=False),
            Binding("v", "mark", "mark run"),
            Binding("u", "undo", "undo"),
            Binding("tab", "next_unsure", "next unsure", priority=True),
            Binding("o", "toggle_order", "order"),
            Binding("j", "move(1)", show=False),
            Binding("k", "move(-1)", show=False),
            Binding("q", "quit", "quit"),
            Binding("ctrl+c", "stop", "quit", show=False, priority=True),
        ]

        def __init__(self, session: LabelSession):
            super().__init__()
            self.session = session
            self.mark: int | None = None  # row index where a run starts
            self.unsure_first = True
            self.row_of = {n: i for i, n in enumerate(session.content)}
            self.message = ""
            self.stopped = False  # ctrl+c: stop labelling altogether, not just this file

        def action_stop(self) -> None:
            self.stopped = True
            self.exit()

        def compose(self) -> ComposeResult:
            yield Static(id="status")
            yield DataTable(cursor_type="row", zebra_stripes=False)
            yield Footer()

        def on_mount(self) -> None:
            self.title = f"noiseclf label {self.session.scrape.name}"
            table = self.query_one(DataTable)
            for key, label in (("mark", " "), ("line", "line"), ("label", "label"), ("p", "p"), ("text", "text")):
                table.add_column(label, key=key)
            for n in self.session.content:
                table.add_row(*self._cells(n), key=str(n))
            first = self.session.next_unsure()
            if first is not None:
                table.move_cursor(row=self.row_of[first])
            table.focus()
            if self.session.resumed:
                self.message = "resumed: your earlier labels are kept"
            self._status()

        # -- drawing ----------------------------------------------------
        def _cells(self, n: int) -> list:
            s = self.session
            label = s.labels[n]
            ok = n in s.confirmed
            style = COLOURS.get(label, "white") + ("" if ok else " dim")
            marked = self._in_mark(n)
            return [
                Text("\u258c" if marked else ("\u2713" if ok else "?"), style="bold" if marked else ("green" if ok else "dim")),
                Text(f"{n:>5}", style="dim"),
                Text(label, style=style + (" bold" if ok else "")),
                Text(f"{s.confidence[n]:.2f}", style="dim" if ok else ("bold red" if s.confidence[n] < 0.6 else "")),
                Text(s.lines[n - 1].expandtabs(4)[:300], style=COLOURS.get(label, "white") if ok else ""),
            ]

        def _in_mark(self, n: int) -> bool:
            if self.mark is None:
                return False
            a, b = sorted((self.mark, self.query_one(DataTable).cursor_row))
            return a <= self.row_of[n] <= b

        def _redraw(self, lines: Iterable[int]) -> None:
            table = self.query_one(DataTable)
            for n in lines:
                for key, cell in zip(("mark", "line", "label", "p", "text"), self._cells(n)):
                    table.update_cell(str(n), key, cell)

        def _status(self) -> None:
            s = self.session
            left = s.remaining
            order = "least sure first" if self.unsure_first else "top to bottom"
            run = "  [run marked: press a label key]" if self.mark is not None else ""
            head = (f"{s.scrape.name}: {len(s.confirmed)}/{len(s.content)} lines confirmed, "
                    f"{left} left ({order}){run}")
            if left == 0:
                head += "  \u2014 all done: q to quit, then noiseclf train --labels " + str(s.labels_dir)
            self.query_one("#status", Static).update(head + "\n" + self.message)

        # -- the current line(s) ----------------------------------------
        def _current(self) -> int:
            return self.session.content[self.query_one(DataTable).cursor_row]

        def _targets(self) -> list[int]:
            table = self.query_one(DataTable)
            if self.mark is None:
                return [self._current()]
            a, b = sorted((self.mark, table.cursor_row))
            return self.session.content[a:b + 1]

        def _apply(self, lines: list[int], label: str | None, what: str) -> None:
            before_mark = self._targets() if self.mark is not None else []
            changed = self.session.set_labels(lines, label)
            self.mark = None
            self._redraw(set(lines) | set(before_mark))
            self.message = f"{what}: {changed} line(s) saved" if changed else f"{what}: nothing changed"
            self._advance(max(lines))
            self._status()

        def _advance(self, last: int) -> None:
            table = self.query_one(DataTable)
            if self.unsure_first:
                nxt = self.session.next_unsure()
            else:
                row = self.row_of[last] + 1
                nxt = self.session.content[row] if row < len(self.session.content) else None
            if nxt is not None:
                table.move_cursor(row=self.row_of[nxt])

        # -- actions ----------------------------------------------------
        def action_label(self, label: str) -> None:
            targets = self._targets()
            self._apply(targets, label, f"{label}" + (f" on a run of {len(targets)}" if len(targets) > 1 else ""))

        def action_label_same(self, label: str) -> None:
            same = self.session.same_text(self._current())
            self._apply(same, label, f"{label} on all {len(same)} identical line(s)")

        def action_accept(self) -> None:
            self._apply(self._targets(), None, "accepted")

        def action_accept_same(self) -> None:
            cur = self._current()
            same = self.session.same_text(cur)
            self._apply(same, self.session.labels[cur], f"{self.session.labels[cur]} on all {len(same)} identical line(s)")

        def action_mark(self) -> None:
            table = self.query_one(DataTable)
            if self.mark is None:
                self.mark = table.cursor_row
                self.message = "run started: move to its end and press a label key (v again to cancel)"
                self._redraw([self._current()])
            else:
                old = self._targets()
                self.mark = None
                self._redraw(old)
                self.message = "run cancelled"
            self._status()

        def on_data_table_row_highlighted(self, event) -> None:
            if self.mark is not None:
                self._redraw(self.session.content)
                self._status()

        def action_undo(self) -> None:
            lines = self.session.undo()
            if lines:
                self._redraw(lines)
                self.query_one(DataTable).move_cursor(row=self.row_of[min(lines)])
                self.message = f"undone: {len(lines)} line(s)"
            else:
                self.message = "nothing to undo"
            self._status()

        def action_next_unsure(self) -> None:
            nxt = self.session.next_unsure(after=self._current())
            if nxt is not None:
                self.query_one(DataTable).move_cursor(row=self.row_of[nxt])
                self.message = f"line {nxt}: the model is {self.session.confidence[nxt]:.0%} sure"
            else:
                self.message = "every line is confirmed"
            self._status()

        def action_toggle_order(self) -> None:
            self.unsure_first = not self.unsure_first
            self.message = "after each label: " + ("jump to the least sure line" if self.unsure_first else "go to the next line down")
            self._status()

        def action_move(self, step: int) -> None:
            table = self.query_one(DataTable)
            table.move_cursor(row=max(0, min(len(self.session.content) - 1, table.cursor_row + step)))

    return LabelApp


_APP_CLASS = None


def LabelApp(session: LabelSession):  # noqa: N802 - reads like the class it builds
    """The Textual app for a session (Textual is imported only when it is needed)."""
    global _APP_CLASS
    if _APP_CLASS is None:
        _APP_CLASS = _make_app()
    return _APP_CLASS(session)


def unconfirmed_counts(label_paths: Iterable[str | Path]) -> dict[str, int]:
    """{labels file: lines still carrying the model's suggestion} for half-labelled files."""
    out = {}
    for p in label_paths:
        p = Path(p)
        prog = p.with_name(p.stem + ".progress.json")
        try:
            data = json.loads(prog.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(data, dict) and data.get("format") == PROGRESS_FORMAT and not data.get("complete"):
            left = int(data.get("lines", 0)) - len(data.get("confirmed", []))
            if left > 0:
                out[str(p)] = left
    return out
