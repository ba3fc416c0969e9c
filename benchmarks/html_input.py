"""noiseclf given HTML beside trafilatura given the same HTML, on sites the model never saw.

    python benchmarks/html_input.py --wcxb /work/shared/data/wcxb-dev [--limit N] [--json out.json]

Pages: the WCXB pages of the held-out domains, ``split_of(domain_of(url)) ==
"test"`` (``training/corpus.py``: the shipped model saw no page of them). Each
page's HTML goes, in the same run, to:

* ``noiseclf (HTML in)``: what ``noiseclf clean page.html``, ``--corpus`` and the
  Scrapy pipeline do: ``noiseclf.html.as_text`` (detection + inscriptis), then the
  :class:`noiseclf.Cleaner`;
* ``noiseclf via html-text``: the same with html-text as the converter (the other
  candidate; ``html_text.extract_text(html, guess_layout=True)``);
* ``noiseclf, markup as text``: the HTML cleaned as if it were a text scrape (what
  ``noiseclf clean page.html`` did before it recognised HTML);
* ``trafilatura``: ``trafilatura.extract(html, include_comments=False)``
  (``training.baselines.trafilatura_text``).

Score: main-text word F1 against the ground truth ``main_content``
(``training.wordf1``), mean over pages, for article pages and for all pages.
Seconds are CPU seconds of this process for all the pages (conversion included).
Needs the ``bench`` extra (inscriptis, html-text, trafilatura).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training.baselines import trafilatura_text  # noqa: E402
from training.corpus import _no_xml_decl, domain_of, file_ids, load_page, page_type_of, split_of  # noqa: E402
from training.wordf1 import word_f1  # noqa: E402


def systems(model):
    from noiseclf import Cleaner, Scrape
    from noiseclf.html import as_text

    cleaner = Cleaner(model, drift=False)  # no site: each page on its own, as `noiseclf clean page.html`

    def clean(text: str) -> str:
        return cleaner.clean_batch([Scrape(text)])[0].text or ""

    def via_html_text(html: str) -> str:
        import html_text

        return clean(html_text.extract_text(_no_xml_decl(html), guess_layout=True))

    return {
        "noiseclf (HTML in)": lambda html: clean(as_text(html)),
        "noiseclf via html-text": via_html_text,
        "noiseclf, markup as text": clean,
        "trafilatura": trafilatura_text,
    }


def held_out_pages(wcxb: Path, limit: int | None):
    n = 0
    for fid in file_ids(wcxb):
        html, gt = load_page(wcxb, fid)
        if split_of(domain_of(gt.get("url") or "")) != "test":
            continue
        yield fid, html, gt
        n += 1
        if limit and n >= limit:
            return


def run(wcxb: Path, limit: int | None = None, log=sys.stderr, model_path: Path | None = None) -> dict:
    from noiseclf import load_model

    model = load_model(model_path)
    fns = systems(model)
    rows, seconds = [], {name: 0.0 for name in fns}
    for i, (fid, html, gt) in enumerate(held_out_pages(wcxb, limit), 1):
        gold = (gt.get("ground_truth") or {}).get("main_content") or ""
        kind = page_type_of(gt)
        for name, fn in fns.items():
            t = time.process_time()
            try:
                pred = fn(html) or ""
            except Exception as exc:  # noqa: BLE001 - count it as an empty answer, and say so
                log.write(f"{fid}: {name} failed ({type(exc).__name__}: {exc})\n")
                pred = ""
            seconds[name] += time.process_time() - t
            p, r, f = word_f1(pred, gold)
            rows.append({"file_id": fid, "page_type": kind, "system": name, "p": p, "r": r, "f1": f})
        if i % 50 == 0:
            log.write(f"{i} pages\n")
    return {"rows": rows, "seconds": seconds, "systems": list(fns)}


def table(result: dict) -> str:
    def mean(xs):
        return sum(xs) / len(xs) if xs else float("nan")

    out = ["| system (HTML in) | article P | article R | article F1 | n | all P | all R | all F1 | n | CPU s |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for name in result["systems"]:
        cells = []
        for scope in ("article", "all"):
            rs = [r for r in result["rows"] if r["system"] == name and (scope == "all" or r["page_type"] == "article")]
            cells += [f"{mean([r[k] for r in rs]):.3f}" for k in ("p", "r", "f1")] + [str(len(rs))]
        out.append(f"| {name} | " + " | ".join(cells) + f" | {result['seconds'][name]:.1f} |")
    return "\n".join(out) + "\n"


def arguments(doc: str) -> argparse.ArgumentParser:
    """The options of the held-out WCXB benchmarks (this one and markdown_input.py)."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--wcxb", type=Path, required=True, help="the WCXB-dev folder (html/, ground-truth/)")
    ap.add_argument("--limit", type=int, default=None, help="at most this many held-out pages")
    ap.add_argument("--json", type=Path, default=None, help="also write every page's scores here")
    ap.add_argument("--model", type=Path, default=None, help="a model file (default: the shipped model)")
    return ap


def parse(ap: argparse.ArgumentParser, argv) -> argparse.Namespace:
    args = ap.parse_args(argv)
    if not (args.wcxb / "html").is_dir():
        ap.error(f"{args.wcxb}: no html/ folder; pass the WCXB-dev folder")
    return args


def main(argv=None) -> int:
    args = parse(arguments(__doc__), argv)
    result = run(args.wcxb, args.limit, model_path=args.model)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    sys.stdout.write(table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
