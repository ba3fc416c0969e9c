"""Reports to look at: one self-contained HTML file, for ``inspect --html`` and ``evaluate --html``.

No server, no script: the files are static HTML with their CSS inline, so they
open in any browser, from disk or as an attachment. Every line of a scrape is
coloured by its label (the colours of :data:`noiseclf.labels.LABEL_COLOURS`,
the one place they are chosen; here each colour name becomes a strong shade
and a pale tint), its label and probability show on hover (the ``title``), the
kept text stands beside the scrape, and a legend names the colours.

* :func:`inspect_html` — one scrape: every line, the kept text, the legend.
* :func:`evaluation_html` — per-class bars, the confusion matrix as a heat map,
  and the worst pages, each linked to its inspected view further down the file
  (predicted colours, with the hand label beside every wrong line).
* :func:`write_report` — written atomically (:mod:`noiseclf.atomic`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .labels import LABEL_COLOURS, LABELS

# Each terminal colour name of LABEL_COLOURS as (strong shade, pale tint) for a white page:
# the strong one for the label chips, bars and line edges, the tint behind the line's text.
SHADES: dict[str, tuple[str, str]] = {
    "black": ("#37474f", "#eceff1"),
    "red": ("#c62828", "#fdecea"),
    "green": ("#2e7d32", "#e8f5e9"),
    "yellow": ("#9a7400", "#fff5d1"),
    "blue": ("#1f5fbf", "#e7effc"),
    "magenta": ("#a3217a", "#fbe8f5"),
    "cyan": ("#00798c", "#e0f5f8"),
    "white": ("#757575", "#f5f5f5"),
}
_UNKNOWN = ("#616161", "#f0f0f0")
_HEAT = (31, 95, 191)  # the confusion matrix's one hue (rgb)


def shades(label: str) -> tuple[str, str]:
    """(strong, tint) CSS colours of a label, from its LABEL_COLOURS name."""
    name = LABEL_COLOURS.get(label, "").lower().removeprefix("bright_")
    return SHADES.get(name, _UNKNOWN)


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _css(labels: Sequence[str]) -> str:
    per_label = "\n".join(
        f".lab-{lab} {{ --c: {shades(lab)[0]}; --t: {shades(lab)[1]}; }}" for lab in labels)
    return per_label + """
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #1b1b1b; background: #fff; margin: 0; padding: 1.2rem 1.6rem 3rem; }
h1 { font-size: 1.35rem; margin: 0 0 .2rem; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 .6rem; }
h3 { font-size: 1rem; margin: 0 0 .5rem; }
a { color: #1f5fbf; }
.summary { color: #444; margin: .2rem 0 .8rem; }
.legend { display: flex; flex-wrap: wrap; gap: .45rem .9rem; list-style: none; padding: .55rem .8rem; margin: 0 0 .4rem;
          border: 1px solid #ddd; border-radius: 6px; background: #fafafa; align-items: center; }
.legend li { display: flex; align-items: center; gap: .35rem; }
.legend .count { color: #555; font-variant-numeric: tabular-nums; }
.legend .hint { color: #555; margin-left: auto; font-size: .88rem; }
.chip { display: inline-block; min-width: 7.2em; padding: 0 .45em; border-radius: 4px; background: var(--c);
        color: #fff; font-size: .78rem; font-weight: 600; line-height: 1.55; text-align: center; white-space: nowrap; }
.view { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 1.2rem; align-items: start; }
@media (max-width: 900px) { .view { grid-template-columns: minmax(0, 1fr); } }
.panel { border: 1px solid #ddd; border-radius: 6px; overflow: hidden; }
.panel > h3 { background: #f3f3f3; padding: .45rem .7rem; margin: 0; border-bottom: 1px solid #ddd; }
ol.lines { list-style: none; margin: 0; padding: 0; font: 13px/1.5 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
.line { display: grid; grid-template-columns: 3.3em 8em 1.3em minmax(0, 1fr); gap: .5em; padding: .08rem .6rem .08rem .4rem;
        background: var(--t, #fff); border-left: 5px solid var(--c, transparent); }
.line + .line { border-top: 1px solid rgba(0, 0, 0, .04); }
.line .no { color: #777; text-align: right; font-variant-numeric: tabular-nums; }
.line .mark { color: var(--c); font-weight: 700; text-align: center; }
.line .text { white-space: pre-wrap; overflow-wrap: anywhere; }
.line.dropped .text { color: #3d3d3d; }
.line.blank { background: #fff; border-left-color: transparent; min-height: .9em; }
.line.wrong { outline: 2px dashed #b00020; outline-offset: -2px; }
.line .truth { display: block; font: 600 .75rem/1.6 system-ui, "DejaVu Sans", sans-serif; color: #b00020; }
.line .truth .chip { min-width: 0; }
.kept-text { margin: 0; padding: .7rem .9rem; white-space: pre-wrap; overflow-wrap: anywhere;
        font: 14px/1.55 Georgia, "DejaVu Serif", serif; max-height: none; }
.kept-text.empty { color: #777; font-style: italic; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: .3rem .55rem; border: 1px solid #ddd; text-align: right; }
th { background: #f3f3f3; font-weight: 600; }
th.row, td.name { text-align: left; }
.bars td { border: none; padding: .18rem .5rem; }
.bar { position: relative; width: 22rem; height: 1.05rem; background: #eee; border-radius: 3px; overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--c); }
.bar.p > span { opacity: .55; } .bar.r > span { opacity: .78; }
.bar > b { position: absolute; left: .4rem; top: 0; font-size: .75rem; line-height: 1.05rem; color: #111;
           text-shadow: 0 0 2px #fff, 0 0 2px #fff; }
.heat td { min-width: 4.6rem; }
.heat td.diag { font-weight: 700; }
.axis { color: #555; font-size: .88rem; }
.inspected { margin-top: 2.2rem; padding-top: .6rem; border-top: 3px solid #ddd; }
.top { font-size: .85rem; margin-left: .6rem; }
"""


def _legend(labels: Sequence[str], counts: dict[str, int] | None = None, hint: str = "") -> str:
    items = []
    for lab in labels:
        n = f' <span class="count">{counts.get(lab, 0)}</span>' if counts is not None else ""
        items.append(f'<li class="lab-{_e(lab)}"><span class="chip">{_e(lab)}</span>{n}</li>')
    if hint:
        items.append(f'<li class="hint">{hint}</li>')
    return f'<ul class="legend" id="legend">{"".join(items)}</ul>'


def _document(title: str, body: str, labels: Sequence[str]) -> str:
    from . import __version__

    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<meta name=\"generator\" content=\"noiseclf {_e(__version__)}\">\n"
            f"<title>{_e(title)}</title>\n<style>\n{_css(labels)}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def _lines(verdicts, truth: Sequence[str | None] | None = None) -> str:
    rows = []
    for j, v in enumerate(verdicts):
        if v.label is None:
            rows.append(f'<li class="line blank"><span class="no">{v.line}</span></li>')
            continue
        kept = bool(v.keep)
        state = "kept" if kept else "dropped"
        true = truth[j] if truth is not None else None
        wrong = true is not None and true != v.label
        tip = f"line {v.line}: {v.label} {v.probability:.2f}, {state}"
        if wrong:
            tip += f"; hand label {true}"
        extra = (f'<span class="truth lab-{_e(true)}">hand label <span class="chip">{_e(true)}</span></span>'
                 if wrong else "")
        rows.append(
            f'<li class="line lab-{_e(v.label)} {state}{" wrong" if wrong else ""}" title="{_e(tip)}" '
            f'data-label="{_e(v.label)}" data-probability="{v.probability:.4f}">'
            f'<span class="no">{v.line}</span><span><span class="chip">{_e(v.label)}</span></span>'
            f'<span class="mark">{"&#10003;" if kept else ""}</span><span class="text">{extra}{_e(v.text)}</span></li>')
    return f'<ol class="lines">{"".join(rows)}</ol>'


def _view(verdicts, kept_text: str, truth=None) -> str:
    kept = (f'<pre class="kept-text">{_e(kept_text)}</pre>' if kept_text.strip()
            else '<pre class="kept-text empty">(no line kept)</pre>')
    return (f'<div class="view"><section class="panel scrape"><h3>The scrape, line by line</h3>{_lines(verdicts, truth)}'
            f'</section><section class="panel"><h3>Kept text</h3>{kept}</section></div>')


def _counts(verdicts) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in verdicts:
        if v.label is not None:
            out[v.label] = out.get(v.label, 0) + 1
    return out


def inspect_html(name: str, verdicts, kept_text: str, labels: Sequence[str] = LABELS,
                 model_name: str | None = None, note: str | None = None) -> str:
    """One scrape as a page: every line coloured by label (probability on hover), the kept text, a legend."""
    content = [v for v in verdicts if v.label is not None]
    kept = sum(1 for v in content if v.keep)
    summary = (f"{len(content)} non-blank lines: {kept} kept, {len(content) - kept} dropped"
               + (f" &middot; model {_e(model_name)}" if model_name else "")
               + (f" &middot; {_e(note)}" if note else ""))
    body = (f"<header><h1>{_e(name)}</h1><p class=\"summary\">{summary}</p>"
            f"{_legend(labels, _counts(verdicts), 'hover a line for its label and probability; &#10003; kept')}</header>"
            f"<main>{_view(verdicts, kept_text)}</main>")
    return _document(f"noiseclf inspect: {name}", body, labels)


@dataclass
class EvaluatedPage:
    """One labelled scrape as evaluated: the model's verdicts and the hand label of every line."""

    name: str
    verdicts: list  # noiseclf.model.Verdict per line
    truth: list  # hand label per line (None: blank)
    kept_text: str

    @property
    def lines(self) -> int:
        return sum(1 for t in self.truth if t is not None)

    @property
    def wrong(self) -> int:
        return sum(1 for v, t in zip(self.verdicts, self.truth) if t is not None and v.label != t)

    @property
    def article_lost(self) -> int:
        return sum(1 for v, t in zip(self.verdicts, self.truth) if t == "article" and not v.keep)

    @property
    def noise_kept(self) -> int:
        return sum(1 for v, t in zip(self.verdicts, self.truth) if t not in (None, "article") and v.keep)


def evaluate_pages(model, scrapes) -> tuple[dict, list[EvaluatedPage]]:
    """The metrics ``noiseclf evaluate`` prints, and every page's verdicts, from one prediction."""
    from .model import render_kept
    from .train import metrics, pages_and_targets

    pages, y = pages_and_targets(scrapes)
    all_verdicts = model.verdicts(pages, model.predict(pages))
    pred = [vs[i].label for p, vs in zip(pages, all_verdicts) for i in p.content]
    out = [EvaluatedPage(s.name, vs, list(s.labels), render_kept(vs))
           for s, vs in zip(scrapes, all_verdicts)]
    return metrics(list(y), pred), out


def _bars(m: dict) -> str:
    rows = []
    for lab, r in m["per_class"].items():
        cells = "".join(
            f'<td><div class="bar {k[0]}" title="{lab} {k} {r[k]:.3f}"><span style="width:{100 * r[k]:.1f}%"></span>'
            f'<b>{k} {r[k]:.3f}</b></div></td>' for k in ("precision", "recall", "f1"))
        rows.append(f'<tr class="lab-{_e(lab)}"><td class="name"><span class="chip">{_e(lab)}</span></td>{cells}'
                    f'<td>{r["support"]} lines</td></tr>')
    return f'<table class="bars" id="per-class">{"".join(rows)}</table>'


def _heat(m: dict) -> str:
    labels = m["confusion"]["labels"]
    matrix = m["confusion"]["matrix"]
    head = "".join(f'<th class="lab-{_e(lab)}"><span class="chip">{_e(lab)}</span></th>' for lab in labels)
    rows = []
    for i, (lab, row) in enumerate(zip(labels, matrix)):
        total = sum(row) or 1
        cells = []
        for j, n in enumerate(row):
            share = n / total
            colour = f"rgba({_HEAT[0]}, {_HEAT[1]}, {_HEAT[2]}, {share:.3f})"
            ink = "#fff" if share > 0.5 else "#111"
            cells.append(
                f'<td class="{"diag" if i == j else "off"}" style="background:{colour};color:{ink}" '
                f'title="hand label {_e(lab)}, predicted {_e(labels[j])}: {n} lines ({100 * share:.0f}% of {_e(lab)})">'
                f"{n}</td>")
        rows.append(f'<tr><th class="row lab-{_e(lab)}"><span class="chip">{_e(lab)}</span></th>{"".join(cells)}'
                    f"<td>{sum(row)}</td></tr>")
    return (f'<p class="axis">rows: hand label; columns: predicted; shade: share of the row</p>'
            f'<table class="heat" id="confusion"><tr><th></th>{head}<th>lines</th></tr>{"".join(rows)}</table>')


def evaluation_html(m: dict, pages: Sequence[EvaluatedPage], labels: Sequence[str] = LABELS,
                    worst: int = 10, model_name: str | None = None) -> str:
    """The evaluation as a page: per-class bars, the confusion heat map, the worst pages and their views."""
    ranked = sorted(pages, key=lambda p: (-p.wrong, -(p.wrong / p.lines if p.lines else 0), p.name))
    shown = [p for p in ranked[:max(0, worst)]]
    rows = []
    for k, p in enumerate(shown, 1):
        acc = 1 - p.wrong / p.lines if p.lines else 1.0
        rows.append(f'<tr><td>{k}</td><td class="name"><a href="#page-{k}">{_e(p.name)}</a></td><td>{p.lines}</td>'
                    f"<td>{p.wrong}</td><td>{acc:.3f}</td><td>{p.article_lost}</td><td>{p.noise_kept}</td></tr>")
    table = ('<table id="worst-pages"><tr><th>#</th><th class="row">page</th><th>lines</th><th>wrong</th>'
             '<th>accuracy</th><th>article lines dropped</th><th>noise lines kept</th></tr>'
             f'{"".join(rows)}</table>') if rows else "<p>No labelled pages.</p>"
    views = []
    for k, p in enumerate(shown, 1):
        acc = 1 - p.wrong / p.lines if p.lines else 1.0
        views.append(
            f'<section class="inspected" id="page-{k}"><h2>{k}. {_e(p.name)}<a class="top" href="#top">back to the top</a></h2>'
            f'<p class="summary">{p.lines} labelled lines, {p.wrong} wrong (accuracy {acc:.3f}); '
            f"colours: the model's labels; a dashed line is wrong, with its hand label beside it</p>"
            f"{_view(p.verdicts, p.kept_text, p.truth)}</section>")
    summary = (f"macro-F1 <b>{m['macro_f1']:.3f}</b> &middot; accuracy {m['accuracy']:.3f} &middot; "
               f"{m['lines']} lines in {len(pages)} labelled scrape(s)"
               + (f" &middot; model {_e(model_name)}" if model_name else ""))
    body = (f'<header id="top"><h1>noiseclf evaluate</h1><p class="summary">{summary}</p>'
            f"{_legend(labels, None, 'hover a bar, cell or line for its numbers')}</header><main>"
            f"<h2>Per class</h2>{_bars(m)}<h2>Confusion matrix</h2>{_heat(m)}"
            f"<h2>Worst pages</h2>{table}{''.join(views)}</main>")
    return _document("noiseclf evaluate", body, labels)


def write_report(path: str | Path, page: str) -> Path:
    """Write a report page atomically: the whole file, or the previous one left as it was."""
    from .atomic import atomic_write_bytes

    return atomic_write_bytes(Path(path), page.encode("utf-8"))
