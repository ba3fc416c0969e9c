"""Defects of the labeller, each checked the way a person meets it.

* the resume hint printed on quit must resume (with ``--labels-dir``, quoted);
* the five label colours must be the documented ones, and distinct, on 256-
  and 16-colour terminals (tmux-256color used to show ad and related-story in
  one colour, nav purple);
* the ``p`` column must not keep the model's probability once a person has
  given the line another label;
* every key binding must be on the key bar of an 80-column terminal.
"""

from __future__ import annotations

import asyncio
import colorsys
import json
import re
import shlex
import sys

import pytest

from noiseclf.label_session import LabelSession
from noiseclf.label_ui import LabelApp
from noiseclf import load_model

from test_label_terminal import Terminal, wait_until

DOCUMENTED = {"article": "green", "nav": "blue", "related-story": "magenta", "ad": "red", "footer": "yellow"}
CODE = "import sys; from noiseclf.cli import main; sys.argv[0] = 'noiseclf'; main()"


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture
def scrape(tmp_path):
    p = tmp_path / "in" / "page.txt"
    p.parent.mkdir()
    p.write_text("Home | News | Sport\n\nA headline about the moon\n\nThe first paragraph of the story, "
                 "with a full sentence.\nShare\nShare\nA second paragraph, also a sentence.\n\n"
                 "Copyright 2025 Example Ltd. All rights reserved.\n", encoding="utf-8")
    return p


def noiseclf_in_terminal(argv, cwd, **kw) -> Terminal:
    return Terminal([sys.executable, "-c", CODE, *map(str, argv)], cwd, **kw)


# -- a. the resume hint --------------------------------------------------------

def test_the_resume_hint_resumes_from_the_labels_dir_it_names(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "page.txt").write_text("Home | News\nThe story, in a sentence.\nMore of the story.\n"
                                   "Copyright 2025\n", encoding="utf-8")
    labs = tmp_path / "my labels"  # a space: the hint must quote it
    term = noiseclf_in_terminal(["label", "site/page.txt", "--labels-dir", "my labels"], tmp_path)
    try:
        term.wait_for("lines confirmed")
        term.send(b"n")
        assert wait_until(lambda: (labs / "page.progress.json").is_file()
                          and json.loads((labs / "page.progress.json").read_text())["confirmed"])
        term.send(b"q")
        assert term.proc.wait(30) == 0
        term.wait_for("again to go on")
    finally:
        term.close()
    hint = re.search(r"run `([^`]*)` again to go on", term.text().replace("\r\n", " "))
    assert hint, term.text()[-1500:]
    argv = shlex.split(hint.group(1))
    assert argv[:2] == ["noiseclf", "label"] and "site/page.txt" in argv
    assert argv[argv.index("--labels-dir") + 1] == "my labels"
    # running the printed command goes on where the person left off
    term = noiseclf_in_terminal(argv[1:], tmp_path)
    try:
        term.wait_for("resumed")
        term.wait_for("1/4 lines confirmed")
        term.send(b"q")
        assert term.proc.wait(30) == 0
    finally:
        term.close()
    assert not (tmp_path / "labels").exists()  # nothing started from zero in ./labels


# -- b. colours ----------------------------------------------------------------

_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_ANSI_NAMES = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]
_HUES = {"red": 0, "yellow": 60, "green": 120, "cyan": 180, "blue": 240, "magenta": 300}


def _rgb_name(rgb) -> str:
    h, s, v = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    if s < 0.3 or v < 0.3:
        return "grey"
    hue = h * 360
    for name, centre in _HUES.items():
        if min(abs(hue - centre), 360 - abs(hue - centre)) <= 25:
            return name
    return f"hue {hue:.0f}"  # between two named colours (purple, orange, ...)


def _colour_name(kind: str, value) -> str:
    if kind == "rgb":
        return _rgb_name(value)
    if value < 16:
        return _ANSI_NAMES[value % 8]
    if value < 232:
        levels = (0, 95, 135, 175, 215, 255)
        v = value - 16
        return _rgb_name((levels[v // 36], levels[v // 6 % 6], levels[v % 6]))
    return "grey"


def foreground_before(raw: str, needle: str) -> str:
    """The name of the foreground colour the terminal was told to draw ``needle`` in."""
    at = raw.find(needle)
    assert at >= 0, needle
    sgr = [m for m in _SGR.finditer(raw, 0, at)][-1]
    assert sgr.end() == at, repr(raw[at - 60:at + len(needle)])
    params = [int(p or 0) for p in sgr.group(1).split(";")]
    fg, k = None, 0
    while k < len(params):
        p = params[k]
        if p in (38, 48):
            width = 3 if params[k + 1] == 5 else 5
            if p == 38:
                fg = ("index", params[k + 2]) if width == 3 else ("rgb", tuple(params[k + 2:k + 5]))
            k += width
            continue
        if 30 <= p <= 37:
            fg = ("index", p - 30)
        elif 90 <= p <= 97:
            fg = ("index", p - 90 + 8)
        elif p in (0, 39):
            fg = None
        k += 1
    assert fg is not None, f"no foreground colour for {needle!r}"
    return _colour_name(*fg)


@pytest.mark.parametrize("term", ["tmux-256color", "xterm-16color"])
def test_label_colours_are_the_documented_ones_and_distinct(tmp_path, term):
    names = ["article"] + list(DOCUMENTED)  # the first line carries the cursor, which has its own colours
    lines = [f"zq{i}{name.replace('-', '')} line" for i, name in enumerate(names)]
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "page.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "labs").mkdir()
    (tmp_path / "labs" / "page.jsonl").write_text(  # labels without progress: all confirmed, drawn in colour
        "".join(json.dumps({"line": i + 1, "text": t, "label": n}) + "\n" for i, (t, n) in enumerate(zip(lines, names))))
    t = noiseclf_in_terminal(["label", "site/page.txt", "--labels-dir", "labs"], tmp_path, term=term)
    try:
        t.wait_for("6/6 lines confirmed")
        t.wait_for(lines[-1])
        raw = t.raw()
        t.send(b"q")
        t.proc.wait(30)
    finally:
        t.close()
    shown = {name: foreground_before(raw, line) for name, line in zip(names[1:], lines[1:])}
    assert shown == DOCUMENTED
    assert len(set(shown.values())) == 5


# -- c. the p column after a person's label ------------------------------------

def test_p_column_shows_the_users_label_not_the_stale_probability(scrape, model, tmp_path):
    labs = tmp_path / "labels"

    async def drive():
        s = LabelSession(scrape, model, labs)
        ui = LabelApp(s)
        async with ui.run_test(size=(120, 30)) as pilot:
            ui.action_toggle_order()
            table = ui.query_one("DataTable")
            n = next(n for n in s.content if s.suggested[n] != "footer")
            model_p = f"{s.confidence[n]:.2f}"

            def p_cell() -> str:
                return str(table.get_cell(str(n), "p")).strip()

            assert p_cell() == model_p
            table.move_cursor(row=s.content.index(n))
            await pilot.press("f")
            await pilot.pause()
            assert s.labels[n] == "footer"
            assert p_cell() in ("", "user")
            await pilot.press("u")
            await pilot.pause()
            assert p_cell() == model_p
            table.move_cursor(row=s.content.index(n))
            await pilot.press("space")  # accepted: still the model's label, and its probability
            await pilot.pause()
            assert n in s.confirmed and p_cell() == model_p
            table.move_cursor(row=s.content.index(n))
            await pilot.press("f")
            await pilot.pause()
            await pilot.press("q")
        return n

    n = asyncio.run(drive())

    async def resumed():
        s = LabelSession(scrape, model, labs)
        ui = LabelApp(s)
        async with ui.run_test(size=(120, 30)) as pilot:
            await pilot.pause()
            assert str(ui.query_one("DataTable").get_cell(str(n), "p")).strip() in ("", "user")
            await pilot.press("q")

    asyncio.run(resumed())


# -- d. the key bar at 80 columns ----------------------------------------------

_SHOWN_AS = {"space": ("space", "␣"), "enter": ("enter", "⏎"), "equals_sign": ("=",), "tab": ("tab", "⇥"),
             "ctrl+c": ("ctrl+c", "^c")}


def test_every_key_binding_is_on_the_key_bar_at_80_columns(scrape, model, tmp_path):
    async def drive():
        s = LabelSession(scrape, model, tmp_path / "labels")
        ui = LabelApp(s)
        async with ui.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            table = ui.query_one("DataTable")
            screen = [strip.text for strip in ui.screen._compositor.render_strips()]
            assert len(screen) == 24 and all(len(row) <= 80 for row in screen)
            bar = "\n".join(screen[table.region.bottom:])
            keys = [b.key for b in type(ui).BINDINGS]
            await pilot.press("q")
        return bar, keys

    bar, keys = asyncio.run(drive())
    tokens = set(re.split(r"[\s/,]+", bar))
    missing = [k for k in keys if not any(shown in tokens for shown in _SHOWN_AS.get(k, (k,)))]
    assert not missing, f"not on the key bar at 80 columns: {missing}; the bar reads:\n{bar}"
