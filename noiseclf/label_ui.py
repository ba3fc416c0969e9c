"""The labeller's terminal UI: a Textual app on top of a :class:`~noiseclf.label_session.LabelSession`.

Everything that is not drawing or keys — the labels, undo, saving, resuming,
the order of questions — is in :mod:`noiseclf.label_session`; the files are
read and written by :mod:`noiseclf.labels`. Textual is imported only when an
app is made, so importing this module is cheap.

Colours are :data:`noiseclf.labels.LABEL_COLOURS`, drawn as the terminal's own
ANSI colours (Textual would otherwise turn them into RGB of its own theme,
where red and magenta are one colour and blue is purple).
"""

from __future__ import annotations

from typing import Iterable

from .label_session import LabelSession, suggest_records, train_command
from .labels import LABEL_COLOURS, unconfirmed_counts

# LabelSession, suggest_records and unconfirmed_counts lived here before the session and the
# progress files had modules of their own; they stay importable from here.
__all__ = ["KEYS", "KEY_BAR", "LabelApp", "LabelSession", "key_bar_lines", "suggest_records",
           "unconfirmed_counts"]

KEYS = {"a": "article", "n": "nav", "r": "related-story", "d": "ad", "f": "footer"}
SHORT = {"article": "article", "nav": "nav", "related-story": "related", "ad": "ad", "footer": "footer"}

# The key bar: two rows that fit 80 columns; a narrower terminal wraps each row.
KEY_BAR: list[list[tuple[str, str]]] = [
    [(key, SHORT[label]) for key, label in KEYS.items()] + [("space/enter", "accept"), ("u", "undo")],
    [("A/N/R/D/F/=", "all identical"), ("v", "mark"), ("tab", "unsure"), ("o", "order"),
     ("j/k", "move"), ("q/^c", "quit")],
]


def key_bar_lines(width: int) -> list[list[tuple[str, str]]]:
    """The key bar's items, row by row, wrapped to ``width`` columns."""
    out: list[list[tuple[str, str]]] = []
    for row in KEY_BAR:
        line: list[tuple[str, str]] = []
        used = 0
        for key, what in row:
            size = len(key) + 1 + len(what) + (2 if line else 0)
            if line and used + size > width:
                out.append(line)
                line, used = [], 0
                size -= 2
            line.append((key, what))
            used += size
        out.append(line)
    return out


# ---------------------------------------------------------------------------
# The terminal UI
# ---------------------------------------------------------------------------

def _make_app():
    from rich.text import Text
    from textual.app import App, ComposeResult
    from textual.binding import Binding
    from textual.widgets import DataTable, Static

    class LabelApp(App):
        """The labeller: the session's lines in a table, a status line and the key bar (KEY_BAR)."""

        CSS = """
        #status { height: 2; padding: 0 1; background: $panel; }
        DataTable { height: 1fr; }
        #keys { height: auto; padding: 0 1; background: $panel; }
        """
        ENABLE_COMMAND_PALETTE = False  # every key the labeller has is on its key bar
        BINDINGS = [
            *(Binding(key, f"label('{label}')", SHORT[label]) for key, label in KEYS.items()),
            *(Binding(key.upper(), f"label_same('{label}')", "all identical") for key, label in KEYS.items()),
            Binding("space", "accept", "accept", priority=True),
            Binding("enter", "accept", "accept", priority=True),
            Binding("equals_sign", "accept_same", "accept all identical"),
            Binding("v", "mark", "mark a run"),
            Binding("u", "undo", "undo"),
            Binding("tab", "next_unsure", "next unsure", priority=True),
            Binding("o", "toggle_order", "order"),
            Binding("j", "move(1)", "down"),
            Binding("k", "move(-1)", "up"),
            Binding("q", "quit", "quit (next scrape)"),
            Binding("ctrl+c", "stop", "stop labelling", priority=True),
        ]

        def __init__(self, session: LabelSession):
            # The label colours are the terminal's own: see LABEL_COLOURS.
            super().__init__(ansi_color=True)
            self.session = session
            self.mark: int | None = None  # row index where a run starts
            self.unsure_first = True
            self.row_of = {n: i for i, n in enumerate(session.content)}
            self.message = ""
            self.stopped = False  # ctrl+c: stop labelling altogether, not just this file

        def action_stop(self) -> None:
            self.stopped = True
            self.exit()

        def _stop_on_sigint(self) -> None:
            """A SIGINT from outside (``kill -INT``, the terminal's process group) stops as Ctrl-C does.

            asyncio's own SIGINT handling only cancels the app's main task, which the app can
            absorb while it waits for input; it then sat there (seen in the test suite, 3 runs of 4).
            The loop removes the handler when it closes. Labels are saved after every key anyway."""
            import asyncio
            import signal

            try:
                asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self.action_stop)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not a Unix event loop, or not the main thread: the default handling stays

        def compose(self) -> ComposeResult:
            yield Static(id="status")
            yield DataTable(cursor_type="row", zebra_stripes=False)
            yield Static(id="keys")

        def on_mount(self) -> None:
            self._stop_on_sigint()
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
            self._keys()

        def on_resize(self, event) -> None:
            self._keys()

        def _keys(self) -> None:
            bar = Text()
            width = max(10, self.size.width - 2)  # the padding of #keys
            for i, row in enumerate(key_bar_lines(width)):
                if i:
                    bar.append("\n")
                for j, (key, what) in enumerate(row):
                    if j:
                        bar.append("  ")
                    bar.append(key, style="bold")
                    label = KEYS.get(key)
                    bar.append(" " + what, style=LABEL_COLOURS[label] if label else "")
            self.query_one("#keys", Static).update(bar)

        # -- drawing ----------------------------------------------------
        def _cells(self, n: int) -> list:
            s = self.session
            label = s.labels[n]
            ok = n in s.confirmed
            colour = LABEL_COLOURS[label]
            style = colour + ("" if ok else " dim")
            marked = self._in_mark(n)
            p = s.model_probability(n)
            if p is None:  # a person chose another label: the model's probability is not about it
                shown_p = Text("user", style="italic")
            else:
                shown_p = Text(f"{p:.2f}", style="dim" if ok else ("bold red" if p < 0.6 else ""))
            return [
                Text("\u258c" if marked else ("\u2713" if ok else "?"), style="bold" if marked else ("green" if ok else "dim")),
                Text(f"{n:>5}", style="dim"),
                Text(label, style=style + (" bold" if ok else "")),
                shown_p,
                Text(s.lines[n - 1].expandtabs(4)[:300], style=colour if ok else ""),
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
                head += "  \u2014 all done: q to quit, then " + train_command(s.labels_dir)
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


