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
from urllib.parse import urlsplit

import numpy as np

from noiseclf.features import Page
from noiseclf.html import TOOL  # the converter noiseclf uses for HTML: its scrapes are the stage's pages
from noiseclf.labels import load_labels
from noiseclf.markup import convert
from noiseclf.model import decide, render
from noiseclf.pagestage import feature_dim, markup_stage_features, stage_features
from noiseclf.settings import Settings
from noiseclf.train import pages_and_targets

from .build_model import OOF_EVERY, OOF_FOLDS, OOF_SEED_WEIGHT, STAGE_C, load_rows, read_manifest, select
from .corpus import _no_xml_decl, load_page
from .page_stage import cached_out_of_fold, cv_fold_of, fit_lr, oof_cache_path
from .snippets_eval import counts as snippet_counts
from .snippets_eval import prf as snippet_prf
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


class SnippetPage:
    """A trafilatura-eval-dev page as noiseclf converts its HTML, with its weak labels."""

    def __init__(self, url: str, rec: dict, path: Path, page: Page, pinned: list, taught: list | None,
                 proba: np.ndarray):
        self.url, self.rec, self.page, self.proba, self.path = url, rec, page, proba, path
        self.domain = urlsplit(url).hostname or url
        self.pinned = pinned  # per content row: the snippets' label or None (training/snippet_labels.py)
        self.taught = taught  # per content row: trafilatura-as-teacher's label or None; None: no teacher copy


def snippet_pages(data: Path, split: str, cache: Path, log=None, teacher: bool = False) -> list[SnippetPage]:
    """The ``split`` pages of trafilatura-eval-dev, converted as ``noiseclf clean page.html`` converts
    them, labelled as ``training/snippet_labels.py`` labels the html-text scrapes, and scored by the
    out-of-fold fit (kept beside ``cache``) of the fold their domain falls in: first stages that never
    saw them, as the WCXB pages' probabilities come from first stages that never saw their domains."""
    import json

    from noiseclf import load_model
    from noiseclf.html import html_to_text
    from noiseclf.model import as_page
    from noiseclf.text import split_lines

    from .page_stage import fold_model_path, fold_of
    from .snippet_labels import pinned_labels, snippet_split_of, teacher_labels
    from .snippets_eval import read_html

    models = [load_model(fold_model_path(cache, k)) for k in range(OOF_FOLDS)]
    meta = json.loads((data / "evaldata.json").read_text(encoding="utf-8"))
    out = []
    for url, rec in sorted(meta.items()):
        path = data / "html" / (rec["file"] + ".gz")
        if snippet_split_of(url) != split or not path.is_file():
            continue
        html = read_html(path)
        text = html_to_text(html)
        page = as_page(text)
        if page.markup is None or not len(page):
            continue
        lines = split_lines(str(text))
        pinned, either = pinned_labels(lines, str(text), html, rec)
        taught = teacher_labels(lines, str(text), html, either) if teacher else None
        model = models[fold_of(urlsplit(url).hostname or url, OOF_FOLDS)]
        out.append(SnippetPage(url, rec, path, page, [pinned[j] for j in page.content],
                               None if taught is None else [taught[j] for j in page.content],
                               model.predict([page])))
    if log:
        log(f"{len(out)} {split} pages of {data} converted with {TOOL}")
    return out


def snippet_rows(pages: list[SnippetPage], labels, pinned_weight: float, teacher_weight: float,
                 markup: bool = True):
    """The markup stage's (``markup``, else the page stage's) rows of the labelled lines of ``pages``:
    (X, y, sample weights)."""
    X, y, w = [], [], []
    if pinned_weight <= 0 and teacher_weight <= 0:
        pages = []
    for sp in pages:
        F = (markup_stage_features if markup else stage_features)(sp.proba, [sp.page], labels)
        for source, weight in ((sp.pinned, pinned_weight), (sp.taught, teacher_weight)):
            if source is None or weight <= 0:
                continue
            rows = [j for j, lab in enumerate(source) if lab is not None]
            X.append(F[rows])
            y.extend(source[j] for j in rows)
            w.extend([weight] * len(rows))
    if not X:
        return np.zeros((0, feature_dim(len(labels), markup=markup))), [], []
    return np.vstack(X), y, w


def fit_markup_stage(scrapes, oof, labels, wcxb: Path, C: float = STAGE_C, mix: float = 1.0, log=None,
                     snippets: list[SnippetPage] = (), pinned_weight: float = 0.0, teacher_weight: float = 0.0):
    """The markup stage fitted on the out-of-fold probabilities of ``scrapes``' inscriptis pages
    (and the weakly labelled lines of ``snippets``, at their weights)."""
    pages = marked_pages(scrapes, wcxb, log)
    idx = sorted(pages)
    X = np.vstack([markup_stage_features(oof[i], [pages[i]], labels) for i in idx])
    y = [t for i in idx for t in pages_and_targets([scrapes[i]])[1]]
    w = [1.0] * len(y)
    Xs, ys, ws = snippet_rows(list(snippets), labels, pinned_weight, teacher_weight)
    stage = fit_lr(np.vstack([X, Xs]), y + ys, labels, C, None, sample_weight=np.array(w + ws) if ws else None)
    stage.mix, stage.markup = float(mix), True
    return stage


def training_record(mix: float, C: float, snippet_pages: int = 0, snippet_weight: float = 0.0) -> dict:
    """What the model file says of how its markup stage was fitted."""
    data = ("the page stage's out-of-fold probabilities of the inscriptis scrapes, "
            "each with its page's markup from the WCXB HTML (training/markup_stage.py)")
    if snippet_pages:
        data += (f"; the snippet-pinned lines of {snippet_pages} trafilatura-eval-dev train-split pages converted "
                 f"from their HTML, weight {snippet_weight}, scored by the out-of-fold first stages")
    return {"mix": mix, "C": C, "snippet_pages": snippet_pages, "snippet_weight": snippet_weight, "data": data}


def add_to(path: Path, scrapes, oof, labels, wcxb: Path, log, snippets=()) -> int:
    from noiseclf import load_model
    from noiseclf.modelfile import save_model

    from .build_model import MARKUP_MIX, MARKUP_SNIPPET_WEIGHT

    if MARKUP_SNIPPET_WEIGHT > 0 and not snippets:
        log("--add-to: the shipped markup stage also learns from trafilatura-eval-dev's train pages; "
            "give --snippets PATH/TO/trafilatura-eval-dev")
        return 2
    model = load_model(path)
    if model.settings.fit_dict() != Settings().fit_dict() or tuple(model.labels) != tuple(labels):
        log(f"{path}: its first stage has other settings than the out-of-fold fits; rebuild it with "
            "python -m training.build_model --wcxb ...")
        return 1
    model.markup_stage = fit_markup_stage(scrapes, oof, labels, wcxb, C=STAGE_C, mix=MARKUP_MIX, log=log,
                                          snippets=snippets, pinned_weight=MARKUP_SNIPPET_WEIGHT)
    model.meta.setdefault("page_stage_training", {})["markup_stage"] = training_record(
        MARKUP_MIX, STAGE_C, len(snippets), MARKUP_SNIPPET_WEIGHT)
    model.meta.pop("arrays_sha256", None)
    save_model(model, path)
    log(f"added the markup stage to {path}")
    return 0


# name: (markup features?, fitted on: "all" tools' rows or "inscriptis" rows, mix,
#        weight of the snippet pages' pinned lines, of their teacher lines; needs --snippets when > 0)
CANDIDATES = {
    "first stage alone": None,
    "page stage (all tools' rows, as shipped), mix 0.5": (False, "all", 0.5, 0, 0),
    "page stage on inscriptis rows, mix 0.5": (False, "inscriptis", 0.5, 0, 0),
    "markup stage, mix 0.5": (True, "inscriptis", 0.5, 0, 0),
    "markup stage, mix 0.75": (True, "inscriptis", 0.75, 0, 0),
    "markup stage, mix 1": (True, "inscriptis", 1.0, 0, 0),
    "markup stage + snippet pins (weight 10), mix 0.5": (True, "inscriptis", 0.5, 10, 0),
    "markup stage + snippet pins (weight 10), mix 0.75": (True, "inscriptis", 0.75, 10, 0),
    "markup stage + snippet pins (weight 30), mix 0.75": (True, "inscriptis", 0.75, 30, 0),
    "markup stage + snippet pins (10) and teacher lines (1), mix 0.5": (True, "inscriptis", 0.5, 10, 1),
    "markup stage + snippet pins (10) and teacher lines (1), mix 0.75": (True, "inscriptis", 0.75, 10, 1),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wcxb", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, default=ROOT / "build" / "corpus")
    ap.add_argument("--labels", type=Path, default=ROOT / "labels")
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "page_stage")
    ap.add_argument("--snippets", type=Path, default=None,
                    help="trafilatura-eval-dev: its train-split pages join the cross-validation (weak labels, "
                         "the snippet metric by language) and the candidates that train on them")
    ap.add_argument("--cv", type=int, default=4)
    ap.add_argument("--relative-drop", type=float, default=Settings().relative_drop)
    ap.add_argument("--only", default=None, help="only the candidates whose name contains this")
    ap.add_argument("--add-to", type=Path, default=None,
                    help="fit the markup stage and add it to this model file (written in place, atomically)")
    args = ap.parse_args(argv)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    scrapes = load_rows(args.corpus, select(read_manifest(args.corpus), "train", every=OOF_EVERY))
    seeds = load_labels([args.labels])
    oof, labels = cached_out_of_fold(scrapes, seeds, OOF_FOLDS, Settings(), OOF_SEED_WEIGHT, args.cache, log)
    cache = oof_cache_path(scrapes, seeds, OOF_FOLDS, Settings(), OOF_SEED_WEIGHT, args.cache)
    snips = snippet_pages(args.snippets, "train", cache, log, teacher=args.add_to is None) \
        if args.snippets is not None else []
    if args.add_to is not None:
        return add_to(args.add_to, scrapes, oof, labels, args.wcxb, log, snips)
    marked = marked_pages(scrapes, args.wcxb, log)
    plain = [Page(list(s.lines)) for s in scrapes]
    targets = [pages_and_targets([s])[1] for s in scrapes]
    folds = [cv_fold_of(s.meta["domain"], args.cv) for s in scrapes]
    snip_folds = [cv_fold_of(sp.domain, args.cv) for sp in snips]
    langs = [snippet_language(sp) for sp in snips]
    gold = {}
    for i in marked:
        _, gt = load_page(args.wcxb, scrapes[i].meta["file_id"])
        gold[i] = (gt.get("ground_truth") or {}).get("main_content") or ""

    def features(i, markup):
        if markup:
            return markup_stage_features(oof[i], [marked[i]], labels)
        return stage_features(oof[i], [plain[i]], labels)

    types = sorted({scrapes[i].meta.get("page_type", "?") for i in marked} - {"article"})
    snip_cols = ["snippets F1 (P)", "de", "other languages"] if snips else []
    print("| stage | article P | article R | article F1 | all P | all F1 | " + " | ".join(types + snip_cols) + " |")
    print("|---|---|---|---|---|---|" + "---|" * (len(types) + len(snip_cols)))
    for name, spec in CANDIDATES.items():
        if args.only and args.only not in name:
            continue
        if spec is not None and (spec[3] > 0 or spec[4] > 0) and not snips:
            continue
        by_type = defaultdict(list)
        counts = defaultdict(lambda: np.zeros(4))
        for f in range(args.cv):
            stage, markup, mix = None, False, 1.0
            if spec is not None:
                markup, rows, mix, pinned_w, teacher_w = spec
                fit_i = [i for i in (marked if rows == TOOL else range(len(scrapes))) if folds[i] != f]
                X = np.vstack([features(i, markup) for i in fit_i])
                y = [t for i in fit_i for t in targets[i]]
                Xs, ys, ws = snippet_rows([sp for sp, g in zip(snips, snip_folds) if g != f], labels,
                                          pinned_w, teacher_w, markup)
                stage = fit_lr(np.vstack([X, Xs]), y + ys, labels, STAGE_C, None,
                               sample_weight=np.array([1.0] * len(y) + ws) if ws else None)
                stage.mix, stage.markup = float(mix), markup
            for i in marked:
                if folds[i] != f:
                    continue
                p = oof[i] if stage is None else stage.predict_proba(oof[i], [marked[i] if markup else plain[i]])
                keep = decide(p, labels, None, None, pages=[plain[i]], relative_drop=args.relative_drop).keep
                prf = word_f1(render(plain[i], keep.tolist()), gold[i])
                by_type[scrapes[i].meta.get("page_type", "?")].append(prf)
                by_type["all"].append(prf)
            for sp, g, lang in zip(snips, snip_folds, langs):
                if g != f:
                    continue
                p = sp.proba if stage is None else stage.predict_proba(sp.proba, [sp.page])
                keep = decide(p, labels, None, None, pages=[sp.page], relative_drop=args.relative_drop).keep
                c = snippet_counts(render(sp.page, keep.tolist()), sp.rec.get("with", []), sp.rec.get("without", []))
                for group in ("all", "de" if lang == "de" else "other languages"):
                    counts[group] += c
        m = {t: np.mean(v, axis=0) for t, v in by_type.items()}
        others = sorted(t for t in m if t not in ("all", "article"))
        cells = [f"{m[t][2]:.3f}" for t in others]
        if snips:
            pr = {g: snippet_prf(counts[g]) for g in ("all", "de", "other languages")}
            cells += [f"{pr['all'][2]:.3f} ({pr['all'][0]:.3f})", f"{pr['de'][2]:.3f}",
                      f"{pr['other languages'][2]:.3f}"]
        print(f"| {name} | {m['article'][0]:.3f} | {m['article'][1]:.3f} | {m['article'][2]:.3f} | "
              f"{m['all'][0]:.3f} | {m['all'][2]:.3f} | " + " | ".join(cells) + " |", flush=True)
    print(f"\n{len(marked)} {TOOL} scrapes of training-split pages, {args.cv} site-disjoint folds, "
          f"page-relative drop {args.relative_drop}." + (
              f" Snippets: {len(snips)} train-split pages of {args.snippets.name} "
              f"({sum(lang == 'de' for lang in langs)} German), the dataset's metric." if snips else ""))
    return 0


def snippet_language(sp: SnippetPage) -> str:
    """The page's language as training/snippets_eval.py groups it."""
    from .corpus import TOOLS, clean_scrape
    from .snippets_eval import language_of, read_html

    return language_of(clean_scrape(TOOLS["html-text"](read_html(sp.path)) or ""))


if __name__ == "__main__":
    raise SystemExit(main())
