"""The harm check: does a retrained model clean other sites' pages worse than its base?

``noiseclf train`` compares the new model with its base on a sample of
hand-labelled pages that ships with the package (``noiseclf/harm_sample.json``:
the five seeds and excerpts of the gold set's 44 single-page sites, written by
``benchmarks/adaptation.py --write-harm-sample``), cleaned as a user would clean
them, without saying which site they are from. A sample page that is one of the
pages the user labelled is left out (the user's labels decide there). The new
model makes the sample worse when fewer of its lines are kept or dropped
correctly, or fewer get the right label; ``train`` then refuses to write it
unless ``--force``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Sequence

import numpy as np

from .features import Page

SAMPLE_FILE = "harm_sample.json"


def load_sample() -> list[dict]:
    """The shipped sample: ``{"name", "lines", "labels"}`` per page (labels: one per line, None if blank)."""
    try:
        data = json.loads(resources.files("noiseclf").joinpath(SAMPLE_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, OSError, json.JSONDecodeError):
        return []
    return [p for p in data.get("pages", []) if isinstance(p, dict)]


def _page_id(lines: Sequence[str]) -> str:
    import hashlib

    return hashlib.blake2b("\n".join(lines).encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()


def harm_check(base, new, own_pages: Sequence[Sequence[str]] = (), sample: list[dict] | None = None) -> dict:
    """Base and new model on the sample (no site said): lines kept/dropped right, labels right, lines changed."""
    sample = load_sample() if sample is None else sample
    own = {_page_id(list(p)) for p in own_pages}
    pages, y, names = [], [], []
    for p in sample:
        if _page_id(p["lines"]) in own:
            continue
        page = Page(list(p["lines"]))
        pages.append(page)
        names.append(p.get("name", "?"))
        y += [p["labels"][i] for i in page.content]
    if not pages:
        return {"pages": 0, "lines": 0, "worse": False}
    y = np.array(y, dtype=object)
    out = {"pages": len(pages), "lines": int(len(y))}
    preds = {}
    for which, model in (("before", base), ("after", new)):
        proba = model.predict(pages)
        pred = np.array(model.labels, dtype=object)[proba.argmax(axis=1)]
        preds[which] = pred
        out[f"keep_correct_{which}"] = int(np.sum((pred == "article") == (y == "article")))
        out[f"label_correct_{which}"] = int(np.sum(pred == y))
        out[f"keep_accuracy_{which}"] = round(out[f"keep_correct_{which}"] / len(y), 4)
        out[f"accuracy_{which}"] = round(out[f"label_correct_{which}"] / len(y), 4)
    changed = preds["before"] != preds["after"]
    out["lines_changed"] = int(changed.sum())
    row, touched = 0, []
    for name, page in zip(names, pages):
        m = len(page)
        c = int(changed[row:row + m].sum())
        if c:
            touched.append({"page": name, "lines_changed": c})
        row += m
    out["pages_changed"] = touched
    out["worse"] = bool(out["keep_correct_after"] < out["keep_correct_before"]
                        or out["label_correct_after"] < out["label_correct_before"])
    return out
