"""The markup stage: fitted and chosen on the HTML of training pages.

    python -m training.markup_stage --wcxb PATH/TO/wcxb-dev --corpus build/corpus

Given HTML, noiseclf converts it with inscriptis and also knows each line's markup
(``noiseclf/markup.py``). The markup stage is the page stage (``noiseclf/pagestage.py``)
with those shares as more features. Like the page stage it learns from out-of-fold
first-stage probabilities (``training/page_stage.py``'s cache: the training split's
every-4th page, 4 site-disjoint folds), here of the inscriptis scrapes only, with
each page's markup recomputed from its WCXB HTML (the text must be the scrape's,
line for line). This command cross-validates the candidates over a second
site-disjoint split (``cv_fold_of``), each page scored by a stage and a first stage
that never saw its domain, then the page-relative drop, and prints main-text word
F1 by page type. ``build_model --wcxb`` fits the chosen one (:func:`fit_markup_stage`);
``--add-to MODEL`` fits it and adds it to a model built without it (the same arrays as
``build_model --wcxb`` gives, as the other stages are deterministic), then exits.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from noiseclf.features import Page
from noiseclf.html import TOOL  # the converter noiseclf uses for HTML: its scrapes are the stage's pages
from noiseclf.labels import load_labels
from noiseclf.markup import convert
from noiseclf.model import decide, probabilities, render
from noiseclf.pagestage import markup_stage_features, stage_features
from noiseclf.settings import Settings
from noiseclf.train import pages_and_targets

from .build_model import OOF_EVERY, OOF_FOLDS, OOF_SEED_WEIGHT, STAGE_C, load_rows, read_manifest, select
from .corpus import _no_xml_decl, load_page
from .page_stage import cached_out_of_fold, cv_fold_of, fit_lr
from .wordf1 import word_f1

ROOT = Path(__file__).resolve().parent.parent


def marked_pages(scrapes, wcxb: Path, log=None) -> dict[int, Page]:
    """The inscriptis scrapes' pages with their markup, by index in ``scrapes`` (a page whose
    converted text is not the scrape's, line for line, is left out and counted)."""
    out, differ = {}, 0
    for i, s in enumerate(scrapes):
        if s.meta["tool"] != TOOL:
            continue
        html, _ = load_page(wcxb, s.meta["file_id"])
        text, shares = convert(_no_xml_decl(html))
        lines = text.split("\n")
        if lines[:len(s.lines)] != list(s.lines) or any(x.strip() for x in lines[len(s.lines):]):
            differ += 1
            continue
        page = Page(list(s.lines))
        page.markup = shares[page.content]
        out[i] = page
    if log:
        log(f"markup for {len(out)} {TOOL} scrapes ({differ} whose text differs left out)")
    return out


def fit_markup_stage(scrapes, oof, labels, wcxb: Path, C: float = STAGE_C, mix: float = 1.0, log=None):
    """The markup stage fitted on the out-of-fold probabilities of ``scrapes``' inscriptis pages."""
    pages = marked_pages(scrapes, wcxb, log)
    idx = sorted(pages)
    X = np.vstack([markup_stage_features(oof[i], [pages[i]], labels) for i in idx])
    y = [t for i in idx for t in pages_and_targets([scrapes[i]])[1]]
    stage = fit_lr(X, y, labels, C, None)
    stage.mix, stage.markup = float(mix), True
    return stage


def training_record(mix: float, C: float) -> dict:
    """What the model file says of how its markup stage was fitted."""
    return {"mix": mix, "C": C, "data": "the page stage's out-of-fold probabilities of the inscriptis scrapes, "
            "each with its page's markup from the WCXB HTML (training/markup_stage.py)"}


def add_to(path: Path, scrapes, oof, labels, wcxb: Path, log) -> int:
    from noiseclf import load_model
    from noiseclf.modelfile import save_model

    from .build_model import MARKUP_MIX

    model = load_model(path)
    if model.settings.fit_dict() != Settings().fit_dict() or tuple(model.labels) != tuple(labels):
        log(f"{path}: its first stage has other settings than the out-of-fold fits; rebuild it with "
            "python -m training.build_model --wcxb ...")
        return 1
    model.markup_stage = fit_markup_stage(scrapes, oof, labels, wcxb, C=STAGE_C, mix=MARKUP_MIX, log=log)
    model.meta.setdefault("page_stage_training", {})["markup_stage"] = training_record(MARKUP_MIX, STAGE_C)
    model.meta.pop("arrays_sha256", None)
    save_model(model, path)
    log(f"added the markup stage to {path}")
    return 0


# name: (markup features?, fitted on: "all" tools' rows or "inscriptis" rows, mix)
CANDIDATES = {
    "first stage alone": None,
    "page stage (all tools' rows, as shipped), mix 0.5": (False, "all", 0.5),
    "page stage on inscriptis rows, mix 0.5": (False, "inscriptis", 0.5),
    "markup stage, mix 0.5": (True, "inscriptis", 0.5),
    "markup stage, mix 0.75": (True, "inscriptis", 0.75),
    "markup stage, mix 1": (True, "inscriptis", 1.0),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wcxb", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, default=ROOT / "build" / "corpus")
    ap.add_argument("--labels", type=Path, default=ROOT / "labels")
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "page_stage")
    ap.add_argument("--cv", type=int, default=4)
    ap.add_argument("--relative-drop", type=float, default=Settings().relative_drop)
    ap.add_argument("--add-to", type=Path, default=None,
                    help="fit the markup stage and add it to this model file (written in place, atomically)")
    args = ap.parse_args(argv)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    scrapes = load_rows(args.corpus, select(read_manifest(args.corpus), "train", every=OOF_EVERY))
    seeds = load_labels([args.labels])
    oof, labels = cached_out_of_fold(scrapes, seeds, OOF_FOLDS, Settings(), OOF_SEED_WEIGHT, args.cache, log)
    if args.add_to is not None:
        return add_to(args.add_to, scrapes, oof, labels, args.wcxb, log)
    marked = marked_pages(scrapes, args.wcxb, log)
    plain = [Page(list(s.lines)) for s in scrapes]
    targets = [pages_and_targets([s])[1] for s in scrapes]
    folds = [cv_fold_of(s.meta["domain"], args.cv) for s in scrapes]
    gold = {}
    for i in marked:
        _, gt = load_page(args.wcxb, scrapes[i].meta["file_id"])
        gold[i] = (gt.get("ground_truth") or {}).get("main_content") or ""

    def features(i, markup):
        if markup:
            return markup_stage_features(oof[i], [marked[i]], labels)
        return stage_features(oof[i], [plain[i]], labels)

    print("| stage | article P | article R | article F1 | all P | all F1 | " + " | ".join(
        sorted({scrapes[i].meta.get("page_type", "?") for i in marked} - {"article"})) + " |")
    print("|---|---|---|---|---|---|" + "---|" * len({scrapes[i].meta.get("page_type") for i in marked} - {"article"}))
    for name, spec in CANDIDATES.items():
        by_type = defaultdict(list)
        for f in range(args.cv):
            stage = None
            if spec is not None:
                markup, rows, mix = spec
                fit_i = [i for i in (marked if rows == TOOL else range(len(scrapes))) if folds[i] != f]
                stage = fit_lr(np.vstack([features(i, markup) for i in fit_i]),
                               [t for i in fit_i for t in targets[i]], labels, STAGE_C, None)
            for i in marked:
                if folds[i] != f:
                    continue
                p = oof[i]
                if stage is not None:
                    X = (features(i, markup) - stage.mean) / stage.scale
                    p = mix * probabilities(X @ stage.coef.T + stage.intercept, len(labels)) + (1 - mix) * p
                keep = decide(p, labels, None, None, pages=[plain[i]], relative_drop=args.relative_drop).keep
                prf = word_f1(render(plain[i], keep.tolist()), gold[i])
                by_type[scrapes[i].meta.get("page_type", "?")].append(prf)
                by_type["all"].append(prf)
        m = {t: np.mean(v, axis=0) for t, v in by_type.items()}
        others = sorted(t for t in m if t not in ("all", "article"))
        print(f"| {name} | {m['article'][0]:.3f} | {m['article'][1]:.3f} | {m['article'][2]:.3f} | "
              f"{m['all'][0]:.3f} | {m['all'][2]:.3f} | " + " | ".join(f"{m[t][2]:.3f}" for t in others) + " |",
              flush=True)
    print(f"\n{len(marked)} {TOOL} scrapes of training-split pages, {args.cv} site-disjoint folds, "
          f"page-relative drop {args.relative_drop}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
