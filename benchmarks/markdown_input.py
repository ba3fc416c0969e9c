"""noiseclf on Markdown scrapes (html2text, markdownify), as written and with ``clean --plain``, on sites it never saw.

    python benchmarks/markdown_input.py --wcxb /work/shared/data/wcxb-dev [--limit N] [--json out.json] [--no-cli]

Pages: the WCXB pages of the held-out domains (``benchmarks/html_input.py``'s
``held_out_pages``: the shipped model saw no page of them), each turned into
Markdown by html2text as the corpus does it (``training/corpus.py``
``tool_html2text``: ``body_width = 0``) and, when it is installed (the ``bench``
extra), by markdownify, a converter the model was never trained on
(``markdownify(html, heading_style="ATX")`` after ``script``, ``style`` and
``noscript`` are removed, as the corpus's bs4 tool does). Each scrape goes, in the
same run, to:

* ``noiseclf, as written``: ``noiseclf clean page.md`` (the kept lines unchanged:
  an inline link keeps its URL);
* ``noiseclf --plain``: ``noiseclf clean page.md --plain`` (:mod:`noiseclf.plain`,
  CommonMark by markdown-it-py);
* ``noiseclf, link targets cut by a regex``: the design ``--plain`` was chosen
  against (``](…)`` removed from the kept lines; marks and escapes left);

and ``trafilatura`` gets the page's HTML. Score: main-text word F1 against the
ground truth ``main_content`` (``training.wordf1``), mean over pages; CPU seconds
of this process (the model's line cache off, so that no system reuses another's features). Unless ``--no-cli``, the whole command is also timed as a user
runs it: ``noiseclf clean DIR/*.md -o OUT`` (start-up included) without and with
``--plain`` on all the pages, each run on a fresh output folder.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import json  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from html_input import arguments, held_out_pages, parse, table  # noqa: E402
from training.baselines import trafilatura_text  # noqa: E402
from training.corpus import page_type_of, tool_html2text  # noqa: E402
from training.wordf1 import word_f1  # noqa: E402

_LINK_TARGET = re.compile(r"\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")


def tool_markdownify(html: str) -> str:
    from bs4 import BeautifulSoup
    from markdownify import markdownify

    soup = BeautifulSoup(html, "lxml")
    for el in soup(["script", "style", "noscript"]):
        el.decompose()
    return markdownify(str(soup), heading_style="ATX")


def converters() -> dict:
    import importlib.util

    out = {"html2text": tool_html2text}
    if importlib.util.find_spec("markdownify") is None:
        sys.stderr.write("markdownify is not installed (pip install -e '.[bench]'): html2text only\n")
    else:
        out["markdownify"] = tool_markdownify
    return out


def systems(model):
    def as_written(md: str) -> str:
        return model.clean(md)

    return {
        "noiseclf, as written": as_written,
        "noiseclf --plain": lambda md: model.clean(md, plain=True),
        "noiseclf, link targets cut by a regex": lambda md: _LINK_TARGET.sub("]", as_written(md)),
    }


def run(wcxb: Path, limit: int | None = None, log=sys.stderr, model_path: Path | None = None,
        keep_scrapes: Path | None = None) -> dict:
    from noiseclf import load_model

    model = load_model(model_path).set_cache(0)  # each system computes its pages' features afresh
    fns = systems(model)
    tools = converters()
    names = [f"{tool}: {name}" for tool in tools for name in fns] + ["trafilatura (the HTML)"]
    rows, seconds = [], {name: 0.0 for name in names}

    def score(name, pred, fid, kind, gold):
        p, r, f = word_f1(pred or "", gold)
        rows.append({"file_id": fid, "page_type": kind, "system": name, "p": p, "r": r, "f1": f})

    for i, (fid, html, gt) in enumerate(held_out_pages(wcxb, limit), 1):
        gold = (gt.get("ground_truth") or {}).get("main_content") or ""
        kind = page_type_of(gt)
        for tool, convert in tools.items():
            md = convert(html)
            if keep_scrapes is not None and tool == "html2text":
                (keep_scrapes / f"{fid}.md").write_text(md, encoding="utf-8")
            for name, fn in fns.items():
                t = time.process_time()
                pred = fn(md)
                seconds[f"{tool}: {name}"] += time.process_time() - t
                score(f"{tool}: {name}", pred, fid, kind, gold)
        t = time.process_time()
        pred = trafilatura_text(html)
        seconds["trafilatura (the HTML)"] += time.process_time() - t
        score("trafilatura (the HTML)", pred, fid, kind, gold)
        if i % 50 == 0:
            log.write(f"{i} pages\n")
    return {"rows": rows, "seconds": seconds, "systems": names}


def cli_seconds(folder: Path, plain: bool) -> float:
    """Wall seconds of one ``noiseclf clean`` over every scrape of ``folder`` (start-up included)."""
    exe = Path(sys.executable).with_name("noiseclf")
    with tempfile.TemporaryDirectory() as out:
        cmd = [str(exe), "clean", *sorted(str(p) for p in folder.glob("*.md")), "-o", out]
        t = time.perf_counter()
        subprocess.run(cmd + (["--plain"] if plain else []), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        return time.perf_counter() - t


def main(argv=None) -> int:
    ap = arguments(__doc__)
    ap.add_argument("--no-cli", action="store_true", help="do not time the `noiseclf clean` command")
    args = parse(ap, argv)
    scrapes = None if args.no_cli else Path(tempfile.mkdtemp(prefix="noiseclf-md-"))
    try:
        result = run(args.wcxb, args.limit, model_path=args.model, keep_scrapes=scrapes)
        sys.stdout.write(table(result).replace("system (HTML in)", "Markdown by: system"))
        if scrapes is not None:
            n = len(list(scrapes.glob("*.md")))
            # as written first, then --plain, then both again: the second pair is the one reported
            runs = [(plain, cli_seconds(scrapes, plain)) for plain in (False, True, False, True)]
            result["cli_seconds"] = {"pages": n, "runs": [{"plain": p, "seconds": s} for p, s in runs]}
            a, b = runs[2][1], runs[3][1]
            sys.stdout.write(f"\n`noiseclf clean` on {n} html2text Markdown scrapes, whole command: as written {a:.2f} s, "
                             f"--plain {b:.2f} s (+{b - a:.2f} s; first pair {runs[0][1]:.2f} / {runs[1][1]:.2f} s)\n")
    finally:
        if scrapes is not None:
            shutil.rmtree(scrapes, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
