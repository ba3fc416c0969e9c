"""A hand-labelled gold set of real pages for noiseclf: selection, annotation, agreement.

Run from the repository root with the project's Python::

    python -m training.gold select --wcxb /path/to/wcxb-dev      # choose pages, write scrapes + manifest
    python -m training.gold packets                              # annotation packets + ANNOTATOR.md
    python -m training.gold fill PASS_DIR FILEID LABELSPEC       # labels file from a range spec
    python -m training.gold validate PASS_DIR [FILEID ...]       # check labels files against scrapes
    python -m training.gold agreement PASS1 PASS2 [--json OUT]   # accuracy, Cohen's kappa, confusion
    python -m training.gold disagreements PASS1 PASS2            # every disputed line, with context
    python -m training.gold merge PASS1 PASS2 --settled DIR      # gold labels: agreed + settled

Every subcommand takes ``--gold DIR`` (default ``training/gold``), the folder that holds
``manifest.jsonl``, ``scrapes/`` and the labels, ``train/`` and ``test/`` by the page's split
(``labels_path``). Annotation work (packets, passes,
settled labels) lives in ``build/gold-work/`` (git-ignored).

select
    Deterministic: no randomness, every order is a sort, ties are broken by SHA-1.
    Each wcxb-dev page is converted with ``TOOLS["html-text"]`` then ``clean_scrape``
    (exactly as ``training/corpus.py`` does); its domain, split and page type come from
    ``domain_of``, ``split_of`` and ``page_type_of`` of that module. Then

    1. *Multi-page sites.* A domain with ``SITE_MIN_PAGES``..``SITE_MAX_PAGES`` (3..6) pages
       in wcxb-dev, every one of them with at least ``MIN_LINES`` non-blank lines (fewer
       is a blocked or empty page), is eligible. Sites are ranked by (more than
       ``SITE_PREFERRED_MAX`` = 5 pages, total non-blank lines of the site, SHA-1 of the
       domain): 3-5-page sites first, then the least labelling work. The best
       ``MIN_TEST_SITES`` (3) test-split sites are taken, then the best remaining sites of
       either split up to ``N_SITES`` (8). Every wcxb-dev page of a chosen site is in the
       gold set, whatever its length.
    2. *Single pages.* Every other page with ``MIN_LINES``..``MAX_LINES`` (25..220) non-blank
       lines, a domain, and a domain not already used, is a candidate. Candidates are
       ordered by SHA-1 of ``"noiseclf-gold:" + file_id``. Each page type gets
       ``max(TYPE_TARGETS[type] - pages of that type from the sites, MIN_SINGLES_PER_TYPE)``
       single pages, of which ``SINGLE_TEST_SHARE * n`` (0.25, rounded half up) from the test split (the
       rest from train; if a split runs out, the other split fills in). Types are
       filled in ``TYPE_ORDER``; each domain gives at most one single page.
    3. *Sites for five labelled pages* (the adaptation benchmark's largest k). Among the
       domains not used above, a domain with ``SITE5_MIN_PAGES``..``SITE_MAX_PAGES`` (6)
       pages, all with ``MIN_LINES``..``SITE5_MAX_LINES`` (25..800) non-blank lines, is
       eligible; the one with the fewest total non-blank lines (SHA-1 of the domain breaks
       ties) is taken from each split. They come after the single pages, so they do not
       change which single pages are chosen.
    4. The result is checked (at least 64 pages, 32 article/news, 3 of each other type,
       15 from test, 8 sites of which 3 in test, all domains distinct outside the sites)
       and select fails if a check does not hold.

    Output: ``scrapes/<file_id>.txt`` (stale ``*.txt`` there are removed) and
    ``manifest.jsonl``, one row per page, sorted by file_id:
    {"id", "file_id", "url", "domain", "page_type", "split", "site_group", "nonblank_lines"}
    where ``site_group`` is the domain for pages of a multi-page site, else null.

packets
    ``build/gold-work/packets/<file_id>.txt``: URL and page type, then every scrape line
    numbered (``"  12| text"``, blank lines as ``"  13|"``). No model output is shown.
    Characters that editors treat as line breaks (U+000B, U+000C, U+001C-U+001E, U+0085,
    U+2028, U+2029) are shown as ``<U+2028>`` so the numbering stays aligned. Also writes
    ``build/gold-work/ANNOTATOR.md``.

fill PASS_DIR FILEID LABELSPEC
    LABELSPEC is a text file of lines ``1-7 article``, ``8 related-story``, ``9-20 nav``
    (scrape line numbers, inclusive ranges, any order; ``#`` starts a comment). Blank
    scrape lines inside a range are skipped. Writes ``PASS_DIR/<FILEID>.jsonl`` with the
    exact line texts; refuses (and writes nothing) if a non-blank line is unlabelled or
    labelled twice, a label is unknown, a number is outside the scrape, or a single
    number or a whole range names only blank lines.

validate PASS_DIR [FILEID ...]
    Checks every ``PASS_DIR/*.jsonl`` (or the named pages): UTF-8 without BOM, ``\\n``
    endings, one JSON object per line with exactly ``line``, ``text``, ``label``; every
    non-blank scrape line exactly once, in order; text equal to the scrape line; label in
    ``noiseclf.labels.LABELS``. One line per problem, as ``file:line: ...``. Files that
    pass are also loaded with ``noiseclf.labels.load_labels``. Exit status 1 on problems.

agreement PASS1 PASS2 [--json OUT]
    Over the pages labelled in both passes (both must validate): line-level accuracy and
    Cohen's kappa, overall, per class (one-vs-rest kappa, and each pass's count), per page
    type (from the manifest) and per page, and the confusion matrix (rows PASS1, columns
    PASS2). kappa = (p_o - p_e) / (1 - p_e), p_e = sum over labels of the product of the two
    passes' label shares; it is null when p_e = 1 (one label used for every line by both).

disagreements PASS1 PASS2 [--context N]
    Every line the passes label differently: page, line number, both labels, and N (2)
    non-blank lines of context on each side, with both passes' labels.

merge PASS1 PASS2 --settled DIR [--out DIR]
    Writes ``<gold>/<split>/<file_id>.jsonl`` (or ``--out DIR/<file_id>.jsonl``) for every page labelled in both
    passes: the agreed label where they agree, else the label in ``DIR/<file_id>.jsonl``
    (the labels format, only the disputed lines). Refuses, writing nothing, if a
    disagreement is unsettled, a settled record names an undisputed line, or a page is
    in only one pass.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from noiseclf.labels import LABELS, dump_labels
from noiseclf.text import is_blank, read_scrape, split_lines

from training.corpus import TOOLS, clean_scrape, domain_of, file_ids, load_page, page_type_of, split_of

REPO = Path(__file__).resolve().parent.parent
DEFAULT_GOLD = REPO / "training" / "gold"
DEFAULT_WORK = REPO / "build" / "gold-work"
TOOL = "html-text"
ID_PREFIX = "wcxb-dev-"

# --- selection parameters (see the module docstring) ---
MIN_LINES = 25
MAX_LINES = 220
SITE_MIN_PAGES = 3
SITE_MAX_PAGES = 6
SITE_PREFERRED_MAX = 5
N_SITES = 8
MIN_TEST_SITES = 3
SITE5_MIN_PAGES = 6  # five labelled pages and at least one to score
SITE5_MAX_LINES = 800
ARTICLE_TYPES = ("article", "news")
TYPE_ORDER = ("forum", "product", "service", "listing", "collection", "documentation", "article", "news")
TYPE_TARGETS = {"article": 34, "forum": 5, "product": 5, "service": 5, "listing": 5,
                "collection": 5, "documentation": 5}
MIN_SINGLES_PER_TYPE = 1
SINGLE_TEST_SHARE = 0.25
# the checks select must pass
MIN_PAGES = 64
MIN_ARTICLE_PAGES = 32
MIN_PER_OTHER_TYPE = 3
MIN_TEST_PAGES = 15

_LINEBREAK_CHARS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_SPEC_LINE = re.compile(r"^(\d+)(?:\s*-\s*(\d+))?\s+(\S+)$")


def _disp(path) -> str:
    """A path as short as possible: relative to the current folder when under it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def _sha1(s: str) -> str:
    return hashlib.sha1(s.encode("utf-8")).hexdigest()


def _write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically (temporary file, then rename), bytes exactly as given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _nonblank(lines: list[str]) -> int:
    return sum(1 for line in lines if not is_blank(line))


def html_text_scrape(html: str) -> str:
    """The page's html-text scrape, as training/corpus.py makes it."""
    return clean_scrape(TOOLS[TOOL](html) or "")


# ---------------------------------------------------------------------------
# select
# ---------------------------------------------------------------------------
def survey(wcxb) -> tuple[list[dict], Counter]:
    """One row per wcxb-dev page: file_id, url, domain, page_type, split, nonblank_lines."""
    pages, errors = [], Counter()
    for fid in file_ids(wcxb):
        try:
            html, gt = load_page(wcxb, fid)
        except Exception:  # noqa: BLE001 - an unreadable page is counted and skipped
            errors["unreadable"] += 1
            continue
        url = gt.get("url") or ""
        domain = domain_of(url)
        try:
            n = _nonblank(split_lines(html_text_scrape(html)))
        except Exception:  # noqa: BLE001 - the tool failing leaves the page out
            errors["tool error"] += 1
            n = 0
        pages.append({"file_id": fid, "url": url, "domain": domain, "page_type": page_type_of(gt),
                      "split": split_of(domain) if domain else "", "nonblank_lines": n})
    return pages, errors


def _by_domain(pages: list[dict], used: set[str] = frozenset()) -> dict[str, list[dict]]:
    """The pages of each domain, pages without a domain and the ``used`` domains left out."""
    out = defaultdict(list)
    for p in pages:
        if p["domain"] and p["domain"] not in used:
            out[p["domain"]].append(p)
    return out


def choose_sites(pages: list[dict]) -> list[str]:
    by_domain = _by_domain(pages)
    eligible = []
    for d, ps in by_domain.items():
        if SITE_MIN_PAGES <= len(ps) <= SITE_MAX_PAGES and all(p["nonblank_lines"] >= MIN_LINES for p in ps):
            key = (len(ps) > SITE_PREFERRED_MAX, sum(p["nonblank_lines"] for p in ps), _sha1(d))
            eligible.append((key, d, ps[0]["split"]))
    eligible.sort()
    chosen = [d for _, d, split in eligible if split == "test"][:MIN_TEST_SITES]
    for _, d, _split in eligible:
        if len(chosen) >= N_SITES:
            break
        if d not in chosen:
            chosen.append(d)
    return sorted(chosen)


def choose_five_page_sites(pages: list[dict], used: set[str]) -> list[str]:
    best = {}
    for d, ps in _by_domain(pages, used).items():
        if (SITE5_MIN_PAGES <= len(ps) <= SITE_MAX_PAGES
                and all(MIN_LINES <= p["nonblank_lines"] <= SITE5_MAX_LINES for p in ps)):
            key = (sum(p["nonblank_lines"] for p in ps), _sha1(d))
            split = ps[0]["split"]
            if split not in best or key < best[split][0]:
                best[split] = (key, d)
    return sorted(d for _, d in best.values())


def choose_singles(pages: list[dict], sites: list[str]) -> list[dict]:
    used = set(sites)
    from_sites = Counter(p["page_type"] for p in pages if p["domain"] in used)
    cands = sorted((p for p in pages if p["domain"] and p["domain"] not in used
                    and MIN_LINES <= p["nonblank_lines"] <= MAX_LINES),
                   key=lambda p: _sha1("noiseclf-gold:" + p["file_id"]))
    present = {p["page_type"] for p in pages}
    order = [t for t in TYPE_ORDER if t in present] + sorted(present - set(TYPE_ORDER))
    chosen = []
    for ptype in order:
        if ptype not in TYPE_TARGETS:
            continue
        need = max(TYPE_TARGETS[ptype] - from_sites[ptype], MIN_SINGLES_PER_TYPE)
        n_test = int(need * SINGLE_TEST_SHARE + 0.5)
        picked: list[dict] = []
        # test pages first, then train, then either split if one ran out
        for split, k in (("test", n_test), ("train", need - n_test), (None, need)):
            quota = len(picked) + max(0, k - sum(1 for q in picked if split is None or q["split"] == split))
            for p in cands:
                if len(picked) >= min(quota, need):
                    break
                if p["page_type"] == ptype and p["domain"] not in used and split in (None, p["split"]):
                    picked.append(p)
                    used.add(p["domain"])
        chosen.extend(picked)
    return chosen


def check_selection(rows: list[dict], present_types: set[str]) -> list[str]:
    """Failed requirements of a selection (empty when it is fine)."""
    bad = []
    types = Counter(r["page_type"] for r in rows)
    splits = Counter(r["split"] for r in rows)
    if len(rows) < MIN_PAGES:
        bad.append(f"{len(rows)} pages, need at least {MIN_PAGES}")
    n_art = sum(types[t] for t in ARTICLE_TYPES)
    if n_art < MIN_ARTICLE_PAGES:
        bad.append(f"{n_art} article/news pages, need at least {MIN_ARTICLE_PAGES}")
    for t in sorted(present_types - set(ARTICLE_TYPES)):
        if types[t] < MIN_PER_OTHER_TYPE:
            bad.append(f"{types[t]} {t} pages, need at least {MIN_PER_OTHER_TYPE}")
    if splits["test"] < MIN_TEST_PAGES or not splits["train"]:
        bad.append(f"splits {dict(splits)}: need both, and at least {MIN_TEST_PAGES} test pages")
    groups = {r["site_group"] for r in rows if r["site_group"]}
    test_groups = {r["site_group"] for r in rows if r["site_group"] and r["split"] == "test"}
    if len(groups) < N_SITES or len(test_groups) < MIN_TEST_SITES:
        bad.append(f"{len(groups)} multi-page sites ({len(test_groups)} test), need {N_SITES} ({MIN_TEST_SITES} test)")
    per_group = Counter(r["site_group"] for r in rows if r["site_group"])
    for g, n in per_group.items():
        if not SITE_MIN_PAGES <= n <= SITE_MAX_PAGES:
            bad.append(f"site {g} has {n} pages, need {SITE_MIN_PAGES}-{SITE_MAX_PAGES}")
    single_domains = Counter(r["domain"] for r in rows if not r["site_group"])
    for d, n in single_domains.items():
        if n > 1 or d in groups:
            bad.append(f"domain {d} appears outside its site group or twice")
    for r in rows:
        if not r["site_group"] and not MIN_LINES <= r["nonblank_lines"] <= MAX_LINES:
            bad.append(f"{r['file_id']}: {r['nonblank_lines']} non-blank lines, outside {MIN_LINES}-{MAX_LINES}")
    return bad


def select(wcxb, gold: Path, out=None) -> list[dict]:
    out = out or sys.stdout
    wcxb = Path(wcxb)
    if not (wcxb / "html").is_dir() or not (wcxb / "ground-truth").is_dir():
        raise SystemExit(f"{wcxb}: not a wcxb-dev folder (needs html/ and ground-truth/); pass --wcxb DIR")
    pages, errors = survey(wcxb)
    print(f"wcxb-dev: {len(pages)} pages read" + (f", problems: {dict(errors)}" if errors else ""), file=out)
    print("page types in the ground truth (all / train / test):", file=out)
    tc = Counter(p["page_type"] for p in pages)
    ts = Counter((p["page_type"], p["split"]) for p in pages)
    for t, n in tc.most_common():
        print(f"  {t:<14}{n:>6}{ts[(t, 'train')]:>7}{ts[(t, 'test')]:>7}", file=out)

    sites = choose_sites(pages)
    singles = choose_singles(pages, sites)
    sites += choose_five_page_sites(pages, set(sites) | {p["domain"] for p in singles})
    site_rows = [p for p in pages if p["domain"] in sites]
    chosen = sorted(site_rows + singles, key=lambda p: p["file_id"])
    by_id = {p["file_id"]: p for p in pages}

    scrape_dir = gold / "scrapes"
    scrape_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for p in chosen:
        html, _gt = load_page(wcxb, p["file_id"])
        text = html_text_scrape(html)
        path = scrape_dir / f"{p['file_id']}.txt"
        _write_text(path, text)
        lines = split_lines(read_scrape(path).text)  # count the lines as the labels loader will
        if lines != split_lines(text):
            raise SystemExit(f"{path}: does not read back as written; the scrape cannot be labelled as it is")
        rows.append({
            "id": ID_PREFIX + p["file_id"], "file_id": p["file_id"], "url": p["url"], "domain": p["domain"],
            "page_type": p["page_type"], "split": p["split"],
            "site_group": p["domain"] if p["domain"] in sites else None,
            "nonblank_lines": _nonblank(lines),
        })
        assert rows[-1]["nonblank_lines"] == by_id[p["file_id"]]["nonblank_lines"]
    keep = {f"{r['file_id']}.txt" for r in rows}
    for stale in sorted(scrape_dir.glob("*.txt")):
        if stale.name not in keep:
            stale.unlink()
    bad = check_selection(rows, set(tc))
    _write_text(gold / "manifest.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print_selection(rows, out)
    if bad:
        for b in bad:
            print(f"selection check failed: {b}", file=sys.stderr)
        raise SystemExit(1)
    return rows


def print_selection(rows: list[dict], out=None) -> None:
    out = out or sys.stdout
    types = Counter(r["page_type"] for r in rows)
    ts = Counter((r["page_type"], r["split"]) for r in rows)
    print(f"\ngold selection: {len(rows)} pages, {sum(r['nonblank_lines'] for r in rows)} non-blank lines", file=out)
    print("  page type       pages  train   test  lines", file=out)
    for t, n in types.most_common():
        lines = sum(r["nonblank_lines"] for r in rows if r["page_type"] == t)
        print(f"  {t:<14}{n:>7}{ts[(t, 'train')]:>7}{ts[(t, 'test')]:>7}{lines:>7}", file=out)
    splits = Counter(r["split"] for r in rows)
    print(f"  by split: train {splits['train']}, test {splits['test']}", file=out)
    groups = defaultdict(list)
    for r in rows:
        if r["site_group"]:
            groups[r["site_group"]].append(r)
    print(f"multi-page sites: {len(groups)} ({sum(len(v) for v in groups.values())} pages, "
          f"{sum(r['nonblank_lines'] for v in groups.values() for r in v)} lines)", file=out)
    for g, v in sorted(groups.items()):
        kinds = Counter(r["page_type"] for r in v)
        print(f"  {g:<24}{v[0]['split']:<6}{len(v)} pages  {sum(r['nonblank_lines'] for r in v):>5} lines  "
              + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())), file=out)
    singles = [r for r in rows if not r["site_group"]]
    print(f"single pages: {len(singles)} from {len({r['domain'] for r in singles})} domains, "
          f"{sum(r['nonblank_lines'] for r in singles)} lines", file=out)


# ---------------------------------------------------------------------------
# manifest, scrapes, packets
# ---------------------------------------------------------------------------
def read_manifest(gold: Path) -> list[dict]:
    path = Path(gold) / "manifest.jsonl"
    if not path.is_file():
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def labels_path(gold: Path, row: dict) -> Path:
    """A gold page's labels file: ``<gold>/<split>/<file_id>.jsonl``. One folder per split so
    that ``noiseclf evaluate --labels training/gold/test`` scores the held-out pages; the
    scrapes, in ``<gold>/scrapes/``, are found from there (``noiseclf.labels.scrape_candidates``)."""
    return Path(gold) / row["split"] / f"{row['file_id']}.jsonl"


def scrape_lines(gold: Path, file_id: str) -> list[str] | None:
    path = gold / "scrapes" / f"{file_id}.txt"
    if not path.is_file():
        return None
    return split_lines(read_scrape(path).text)


def _shown(line: str) -> str:
    return _LINEBREAK_CHARS.sub(lambda m: f"<U+{ord(m.group()):04X}>", line)


def packet_text(row: dict, lines: list[str]) -> str:
    width = max(4, len(str(len(lines))))
    out = [
        f"file_id:    {row['file_id']}",
        f"URL:        {row['url']}",
        f"page type:  {row['page_type']}",
        f"lines:      {len(lines)} ({_nonblank(lines)} non-blank, each needs one label)",
        "-" * 72,
    ]
    for n, line in enumerate(lines, 1):
        out.append(f"{n:>{width}}|" if is_blank(line) else f"{n:>{width}}| {_shown(line)}")
    return "\n".join(out) + "\n"


ANNOTATOR_MD = """\
# Labelling a noiseclf gold page

You label every non-blank line of one scraped page as `article`, `nav`, `related-story`,
`ad` or `footer`. Two people label each page independently (pass1, pass2); the two passes
are compared afterwards, so work alone.

1. Read `labels/GUIDELINES.md` fully before your first page, and again when unsure.
2. Take one page: `build/gold-work/packets/<fileid>.txt`. It shows the URL and the page
   type on top, then every line of the scrape numbered (`  12| text`; blank lines show as
   `  13|` and are not labelled). Read the whole packet first, then decide line by line,
   judging each line by where it sits on the page.
3. Write `build/gold-work/<pass>/<fileid>.jsonl` in the labels format: one record
   `{"line": N, "text": "...", "label": "..."}` per non-blank line, in order, the text
   copied exactly. The easy way: write a range file `build/gold-work/<pass>/<fileid>.spec`
   with lines like `1-7 nav`, `8-40 article`, `41 ad` (blank lines inside a range are
   skipped; `#` starts a comment), then run from /work/main:

       .venv/bin/python -m training.gold fill build/gold-work/<pass> <fileid> build/gold-work/<pass>/<fileid>.spec

   It copies the exact texts, and refuses if a non-blank line is unlabelled or labelled twice.
4. Run the validator and fix every problem it prints:

       .venv/bin/python -m training.gold validate build/gold-work/<pass> <fileid>

5. Never look at another pass folder, and do not use noiseclf's output, the training
   corpus labels or the WCXB ground truth for these pages: the passes must be independent.
"""


def write_packets(gold: Path, work: Path, out=None) -> int:
    out = out or sys.stdout
    rows = read_manifest(gold)
    if not rows:
        raise SystemExit(f"{_disp(gold / 'manifest.jsonl')}: missing or empty; run `select --wcxb DIR` first")
    pdir = work / "packets"
    for row in rows:
        lines = scrape_lines(gold, row["file_id"])
        if lines is None:
            raise SystemExit(f"{_disp(gold / 'scrapes' / (row['file_id'] + '.txt'))}: missing; run `select --wcxb DIR` again")
        _write_text(pdir / f"{row['file_id']}.txt", packet_text(row, lines))
    _write_text(work / "ANNOTATOR.md", ANNOTATOR_MD)
    print(f"wrote {len(rows)} packets to {_disp(pdir)} and {_disp(work / 'ANNOTATOR.md')}", file=out)
    return len(rows)


# ---------------------------------------------------------------------------
# checking labels files
# ---------------------------------------------------------------------------
def _no_duplicate_keys(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"key {k!r} appears twice")
        obj[k] = v
    return obj


def check_records(path: Path, lines: list[str], scrape: str, complete: bool = True):
    """Check one labels file against its scrape lines.

    Returns (labels, problems): labels maps line number -> label (for the records that
    are fine), problems is a list of "file:line: ..." messages. With ``complete`` every
    non-blank scrape line must have a record, in order (a settled file needs only some,
    in any order).
    """
    problems: list[str] = []
    labels: dict[int, str] = {}
    seen: dict[int, int] = {}  # scrape line -> labels-file line of its first record
    try:
        data = path.read_bytes()
    except OSError as exc:
        return labels, [f"{path}: cannot be read ({exc.strerror})"]
    if data.startswith(b"\xef\xbb\xbf"):
        problems.append(f"{path}:1: starts with a byte-order mark; save as UTF-8 without BOM")
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        n = data.count(b"\n", 0, exc.start) + 1
        return labels, [f"{path}:{n}: not UTF-8; save the file as UTF-8"]
    last = 0
    for n, raw in enumerate(text.split("\n"), 1):
        if raw.endswith("\r"):
            problems.append(f"{path}:{n}: CRLF line ending; use \\n")
        if not raw.strip():
            continue
        where = f"{path}:{n}"
        try:
            obj = json.loads(raw, object_pairs_hook=_no_duplicate_keys)
        except (ValueError, RecursionError) as exc:
            problems.append(f"{where}: broken JSON ({str(exc)[:80]})")
            continue
        if not isinstance(obj, dict):
            problems.append(f'{where}: not an object {{"line", "text", "label"}}')
            continue
        keys = set(obj)
        if keys != {"line", "text", "label"}:
            missing, extra = {"line", "text", "label"} - keys, keys - {"line", "text", "label"}
            problems.append(f"{where}: " + "; ".join(
                ([f"missing {', '.join(sorted(missing))}"] if missing else [])
                + ([f"unexpected key {', '.join(map(repr, sorted(extra)))}"] if extra else [])))
            if missing:
                continue
        line_no, ltext, label = obj["line"], obj["text"], obj["label"]
        if isinstance(line_no, bool) or not isinstance(line_no, int):
            problems.append(f"{where}: line must be a whole number, got {line_no!r:.40}")
            continue
        ok = True
        if not isinstance(label, str) or label not in LABELS:
            problems.append(f"{where}: unknown label {label!r:.40}; use one of {', '.join(LABELS)}")
            ok = False
        if not 1 <= line_no <= len(lines):
            problems.append(f"{where}: line {line_no} is outside the scrape {scrape} ({len(lines)} lines)")
            continue
        if not isinstance(ltext, str) or ltext != lines[line_no - 1]:
            want = lines[line_no - 1]
            at = next((i for i, (x, y) in enumerate(zip(ltext, want)) if x != y), min(len(ltext), len(want))) \
                if isinstance(ltext, str) else 0
            problems.append(f"{where}: text is not line {line_no} of {scrape} exactly, from character {at + 1} "
                            f"(record {ltext[at:] if isinstance(ltext, str) else ltext!r:.40}, "
                            f"scrape {want[at:]!r:.40})")
            ok = False
        if is_blank(lines[line_no - 1]):
            problems.append(f"{where}: line {line_no} is blank; blank lines get no record")
            continue
        if line_no in seen:
            problems.append(f"{where}: line {line_no} is labelled twice (first at {path}:{seen[line_no]})")
            continue
        seen[line_no] = n
        if line_no < last and complete:
            problems.append(f"{where}: line {line_no} comes after line {last}; records must be in file order")
        last = line_no
        if ok:
            labels[line_no] = label
    if complete:
        for j, line in enumerate(lines, 1):
            if not is_blank(line) and j not in seen:
                problems.append(f"{scrape}:{j}: non-blank line has no record in {path} ({line.strip()[:40]!r})")
    return labels, problems


def load_pass(pass_dir: Path, gold: Path, ids=None, complete: bool = True):
    """{file_id: {line: label}} for the labels files of a pass folder, and all problems."""
    pass_dir = Path(pass_dir)
    if ids:
        paths = [pass_dir / f"{i}.jsonl" for i in ids]
    else:
        paths = sorted(pass_dir.glob("*.jsonl")) if pass_dir.is_dir() else []
    result, problems = {}, []
    if not pass_dir.is_dir():
        problems.append(f"{pass_dir}: no such folder")
    for path in paths:
        fid = path.stem
        if not path.is_file():
            problems.append(f"{path}: missing (page {fid} is not labelled in this pass)")
            continue
        lines = scrape_lines(gold, fid)
        if lines is None:
            problems.append(f"{path}: no scrape {_disp(gold / 'scrapes' / (fid + '.txt'))}; the name must be a gold file_id")
            continue
        labels, probs = check_records(path, lines, _disp(gold / "scrapes" / f"{fid}.txt"), complete)
        problems.extend(probs)
        if not probs:
            result[fid] = labels
    return result, problems


def validate(pass_dir, gold: Path, ids=None, out=None) -> int:
    out = out or sys.stdout
    good, problems = load_pass(Path(pass_dir), gold, ids)
    if good:  # the project's own loader must accept what passed here
        from noiseclf.errors import LabelsError
        from noiseclf.labels import load_labels

        try:
            load_labels([Path(pass_dir) / f"{fid}.jsonl" for fid in sorted(good)], scrape_dirs=[gold / "scrapes"])
        except LabelsError as exc:
            problems.append(str(exc))
    for p in problems:
        print(p, file=out)
    manifest = {r["file_id"] for r in read_manifest(gold)}
    todo = sorted(manifest - set(good)) if not ids else []
    print(f"{pass_dir}: {len(good)} labels file(s) valid, {len(problems)} problem(s)"
          + (f"; {len(todo)} gold page(s) not labelled yet" if manifest and not ids else ""), file=out)
    return 1 if problems else 0


# ---------------------------------------------------------------------------
# fill
# ---------------------------------------------------------------------------
def parse_spec(spec_path: Path, lines: list[str]):
    """{line: label} from a range spec, and the problems found (as "file:line: ...")."""
    problems: list[str] = []
    assigned: dict[int, tuple[str, int]] = {}
    try:
        spec = spec_path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [f"{spec_path}: cannot be read ({exc})"]
    for n, raw in enumerate(spec.splitlines(), 1):
        body = raw.split("#", 1)[0].strip()
        if not body:
            continue
        where = f"{spec_path}:{n}"
        m = _SPEC_LINE.match(body)
        if not m:
            problems.append(f"{where}: expected `A-B label` or `A label`, got {body!r:.50}")
            continue
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        label = m.group(3)
        if label not in LABELS:
            problems.append(f"{where}: unknown label {label!r}; use one of {', '.join(LABELS)}")
            continue
        if a > b:
            problems.append(f"{where}: range {a}-{b} runs backwards")
            continue
        if a < 1 or b > len(lines):
            problems.append(f"{where}: {a}-{b} is outside the scrape (lines 1-{len(lines)})")
            continue
        hit = [j for j in range(a, b + 1) if not is_blank(lines[j - 1])]
        if not hit:
            problems.append(f"{where}: " + (f"line {a} is blank" if a == b else f"lines {a}-{b} are all blank")
                            + "; check the numbers")
            continue
        for j in hit:
            if j in assigned:
                problems.append(f"{where}: line {j} is already labelled {assigned[j][0]} at {spec_path}:{assigned[j][1]}")
            else:
                assigned[j] = (label, n)
    missing = [j for j, line in enumerate(lines, 1) if not is_blank(line) and j not in assigned]
    for a, b in _runs(missing):
        problems.append(f"{spec_path}: scrape {'line' if a == b else 'lines'} {a if a == b else f'{a}-{b}'} "
                        f"not labelled ({lines[a - 1].strip()[:40]!r})")
    return {j: lab for j, (lab, _n) in assigned.items()}, problems


def _runs(numbers: list[int]):
    """Consecutive runs of sorted numbers, as (first, last)."""
    runs = []
    for j in numbers:
        if runs and j == runs[-1][1] + 1:
            runs[-1][1] = j
        else:
            runs.append([j, j])
    return [tuple(r) for r in runs]


def fill(pass_dir, file_id: str, spec, gold: Path, out=None) -> int:
    out = out or sys.stdout
    lines = scrape_lines(gold, file_id)
    if lines is None:
        print(f"{_disp(gold / 'scrapes' / (file_id + '.txt'))}: no such scrape; FILEID must be a gold file_id", file=out)
        return 1
    labels, problems = parse_spec(Path(spec), lines)
    if problems:
        for p in problems:
            print(p, file=out)
        print(f"nothing written: {len(problems)} problem(s)", file=out)
        return 1
    target = Path(pass_dir) / f"{file_id}.jsonl"
    _write_text(target, dump_labels((j, lines[j - 1], labels[j]) for j in sorted(labels)))
    _, problems = check_records(target, lines, _disp(gold / "scrapes" / f"{file_id}.txt"))
    assert not problems, problems
    counts = Counter(labels.values())
    print(f"wrote {target}: {len(labels)} records (" + ", ".join(f"{k} {counts[k]}" for k in LABELS if counts[k]) + ")",
          file=out)
    return 0


# ---------------------------------------------------------------------------
# agreement
# ---------------------------------------------------------------------------
def cohen_kappa(a: list, b: list):
    """Cohen's kappa of two equally long label sequences; None when p_e = 1."""
    n = len(a)
    if n == 0:
        return None
    po = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if pe >= 1:
        return None
    return (po - pe) / (1 - pe)


def _stats(a, b) -> dict:
    n = len(a)
    return {"lines": n, "accuracy": _r(sum(x == y for x, y in zip(a, b)) / n) if n else None,
            "kappa": _r(cohen_kappa(a, b))}


def _r(x):
    return None if x is None else round(x, 6)


def _load_two(p1, p2, gold: Path):
    one, prob1 = load_pass(Path(p1), gold)
    two, prob2 = load_pass(Path(p2), gold)
    return one, two, prob1 + prob2


def agreement(p1, p2, gold: Path) -> dict:
    one, two, problems = _load_two(p1, p2, gold)
    if problems:
        raise ValueError("\n".join(problems))
    manifest = read_manifest(gold)
    ptype = {r["file_id"]: r["page_type"] for r in manifest}
    group = {r["file_id"]: r["site_group"] for r in manifest}
    common = sorted(set(one) & set(two))
    a, b, kinds, pages = [], [], [], []
    for fid in common:
        for j in sorted(one[fid]):
            a.append(one[fid][j])
            b.append(two[fid][j])
            kinds.append(ptype.get(fid, "unknown"))
            pages.append(fid)
    res = {"pass1": str(p1), "pass2": str(p2), "pages": len(common),
           "pages_pass1_only": sorted(set(one) - set(two)), "pages_pass2_only": sorted(set(two) - set(one))}
    res.update(_stats(a, b))
    res["per_class"] = {}
    for k in LABELS:
        ba, bb = [x == k for x in a], [y == k for y in b]
        n1, n2, both = sum(ba), sum(bb), sum(x and y for x, y in zip(ba, bb))
        res["per_class"][k] = {"pass1": n1, "pass2": n2, "both": both,
                               "specific_agreement": _r(2 * both / (n1 + n2)) if n1 + n2 else None,
                               "kappa": _r(cohen_kappa(ba, bb))}
    res["per_page_type"] = {}
    for t in sorted(set(kinds)):
        idx = [i for i, k in enumerate(kinds) if k == t]
        st = _stats([a[i] for i in idx], [b[i] for i in idx])
        res["per_page_type"][t] = {"pages": len({pages[i] for i in idx}), **st}
    res["per_page"] = {}
    for fid in common:
        idx = [i for i, f in enumerate(pages) if f == fid]
        res["per_page"][fid] = _stats([a[i] for i in idx], [b[i] for i in idx])
    res["confusion"] = {"labels": list(LABELS), "rows": "pass1", "columns": "pass2",
                        "matrix": [[sum(1 for x, y in zip(a, b) if x == r and y == c) for c in LABELS] for r in LABELS]}
    # What cleaning keeps (article or not); per multi-page site as the adaptation benchmark
    # scores a site (mean over its pages): how far two people agree where a model is asked 0.98.
    res["keep_drop"] = _stats([x == "article" for x in a], [y == "article" for y in b])
    res["keep_drop_per_site"] = {}
    for site in sorted({group.get(f) for f in common if group.get(f)}):
        accs = []
        for fid in (f for f in common if group.get(f) == site):
            idx = [i for i, f in enumerate(pages) if f == fid]
            accs.append(_stats([a[i] == "article" for i in idx], [b[i] == "article" for i in idx])["accuracy"])
        res["keep_drop_per_site"][site] = {"pages": len(accs), "accuracy": _r(sum(accs) / len(accs))}
    return res


def _f(x) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def print_agreement(res: dict, out=None) -> None:
    out = out or sys.stdout
    print(f"pages in both passes: {res['pages']}, lines: {res['lines']}", file=out)
    for key in ("pages_pass1_only", "pages_pass2_only"):
        if res[key]:
            print(f"  {key.replace('_', ' ')} (not compared): {', '.join(res[key])}", file=out)
    print(f"overall: accuracy {_f(res['accuracy'])}  kappa {_f(res['kappa'])}", file=out)
    print("per class (one vs rest):\n  label            pass1  pass2   both  spec.agr  kappa", file=out)
    for k, c in res["per_class"].items():
        print(f"  {k:<15}{c['pass1']:>7}{c['pass2']:>7}{c['both']:>7}  {_f(c['specific_agreement']):>8}  {_f(c['kappa'])}",
              file=out)
    print("per page type:\n  type           pages  lines  accuracy  kappa", file=out)
    for t, s in res["per_page_type"].items():
        print(f"  {t:<14}{s['pages']:>6}{s['lines']:>7}  {_f(s['accuracy']):>8}  {_f(s['kappa'])}", file=out)
    kd = res.get("keep_drop")
    if kd:
        print(f"keep/drop (article or not): accuracy {_f(kd['accuracy'])}  kappa {_f(kd['kappa'])}", file=out)
    sites = res.get("keep_drop_per_site") or {}
    if sites:
        mean = sum(v["accuracy"] for v in sites.values()) / len(sites)
        print(f"keep/drop per multi-page site (mean over its pages; mean over sites {mean:.3f}):", file=out)
        for site, v in sites.items():
            print(f"  {site:<24}{v['pages']:>3} pages  {_f(v['accuracy'])}", file=out)
    print("confusion (rows pass1, columns pass2):", file=out)
    labs = res["confusion"]["labels"]
    print("  " + " " * 15 + "".join(f"{lab:>15}" for lab in labs), file=out)
    for lab, row in zip(labs, res["confusion"]["matrix"]):
        print(f"  {lab:<15}" + "".join(f"{v:>15}" for v in row), file=out)


def disagreements(p1, p2, gold: Path, context: int = 2, out=None) -> int:
    out = out or sys.stdout
    one, two, problems = _load_two(p1, p2, gold)
    if problems:
        for p in problems:
            print(p, file=out)
        return 1
    total = 0
    for fid in sorted(set(one) & set(two)):
        lines = scrape_lines(gold, fid)
        nums = sorted(one[fid])
        for i, j in enumerate(nums):
            if one[fid][j] == two[fid][j]:
                continue
            total += 1
            print(f"== {fid}:{j}  pass1={one[fid][j]}  pass2={two[fid][j]}", file=out)
            for k in nums[max(0, i - context): i + context + 1]:
                mark = ">" if k == j else " "
                print(f"  {mark}{k:>5}  {one[fid][k]:<13} {two[fid][k]:<13}| {_shown(lines[k - 1])}", file=out)
    print(f"{total} disagreeing line(s)", file=out)
    return 0


# ---------------------------------------------------------------------------
# merge
# ---------------------------------------------------------------------------
def merge(p1, p2, settled, gold: Path, out_dir: Path | None = None, out=None) -> int:
    out = out or sys.stdout
    one, two, problems = _load_two(p1, p2, gold)
    for fid in sorted(set(one) ^ set(two)):
        problems.append(f"page {fid} is labelled in {'pass1' if fid in one else 'pass2'} only; label it in both")
    settled = Path(settled)
    merged = {}
    for fid in sorted(set(one) & set(two)):
        lines = scrape_lines(gold, fid)
        disputed = {j for j in one[fid] if one[fid][j] != two[fid][j]}
        spath = settled / f"{fid}.jsonl"
        decided: dict[int, str] = {}
        if spath.is_file():
            decided, probs = check_records(spath, lines, _disp(gold / "scrapes" / f"{fid}.txt"), complete=False)
            problems.extend(probs)
            for j in sorted(set(decided) - disputed):
                problems.append(f"{spath}: line {j} was not disputed (both passes say {one[fid][j]}); remove its record")
        for j in sorted(disputed - set(decided)):
            problems.append(f"{_disp(gold / 'scrapes' / (fid + '.txt'))}:{j}: unsettled (pass1 {one[fid][j]}, "
                            f"pass2 {two[fid][j]}); add its record to {spath}")
        merged[fid] = {j: decided.get(j, one[fid][j]) for j in one[fid]}
    if settled.is_dir():
        for extra in sorted(settled.glob("*.jsonl")):
            if extra.stem not in merged:
                problems.append(f"{extra}: page {extra.stem} is not labelled in both passes")
    if problems:
        for p in problems:
            print(p, file=out)
        print(f"nothing written: {len(problems)} problem(s)", file=out)
        return 1
    rows = {r["file_id"]: r for r in read_manifest(gold)}
    targets = {fid: Path(out_dir) / f"{fid}.jsonl" if out_dir else labels_path(gold, rows[fid]) for fid in merged}
    for fid, labels in merged.items():
        lines = scrape_lines(gold, fid)
        _write_text(targets[fid], dump_labels((j, lines[j - 1], labels[j]) for j in sorted(labels)))
    n_settled = sum(1 for fid in merged for j in merged[fid] if one[fid][j] != two[fid][j])
    if merged:
        from noiseclf.labels import load_labels

        load_labels(list(targets.values()), scrape_dirs=[gold / "scrapes"])
    print(f"wrote {len(merged)} labels file(s) to {_disp(Path(out_dir)) if out_dir else _disp(gold) + '/{train,test}'}: "
          f"{sum(len(v) for v in merged.values())} lines, {n_settled} from settled decisions", file=out)
    return 0


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------
def main(argv=None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--gold", type=Path, default=DEFAULT_GOLD,
                        help="folder with manifest.jsonl, scrapes/, train/ and test/ (default: training/gold)")
    ap = argparse.ArgumentParser(prog="python -m training.gold", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("select", parents=[common], help="choose the gold pages, write scrapes and manifest")
    s.add_argument("--wcxb", required=True, type=Path, help="the wcxb-dev folder")
    s = sub.add_parser("packets", parents=[common], help="write annotation packets and ANNOTATOR.md")
    s.add_argument("--work", type=Path, default=DEFAULT_WORK, help="work folder (default: build/gold-work)")
    s = sub.add_parser("validate", parents=[common], help="check a pass folder's labels files")
    s.add_argument("pass_dir", type=Path)
    s.add_argument("ids", nargs="*", help="file ids to check (default: every *.jsonl in PASS_DIR)")
    s = sub.add_parser("fill", parents=[common], help="write a labels file from a range spec")
    s.add_argument("pass_dir", type=Path)
    s.add_argument("file_id")
    s.add_argument("spec", type=Path, help="lines like `1-7 article`, `8 related-story`")
    for name, text in (("agreement", "accuracy, kappa and confusion between two passes"),
                       ("disagreements", "every line two passes label differently"),
                       ("merge", "write the gold labels from two passes and settled decisions")):
        s = sub.add_parser(name, parents=[common], help=text)
        s.add_argument("pass1", type=Path)
        s.add_argument("pass2", type=Path)
        if name == "agreement":
            s.add_argument("--json", type=Path, help="also write the figures to this JSON file")
        if name == "disagreements":
            s.add_argument("--context", type=int, default=2, help="non-blank lines of context each side (2)")
        if name == "merge":
            s.add_argument("--settled", type=Path, required=True, help="folder of settled labels for disputed lines")
            s.add_argument("--out", type=Path, help="output folder (default: <gold>/labels)")
    args = ap.parse_args(argv)
    gold = args.gold
    if args.cmd == "select":
        select(args.wcxb, gold)
        return 0
    if args.cmd == "packets":
        write_packets(gold, args.work)
        return 0
    if args.cmd == "validate":
        return validate(args.pass_dir, gold, args.ids)
    if args.cmd == "fill":
        return fill(args.pass_dir, args.file_id, args.spec, gold)
    if args.cmd == "agreement":
        try:
            res = agreement(args.pass1, args.pass2, gold)
        except ValueError as exc:
            print(exc)
            return 1
        print_agreement(res)
        if args.json:
            _write_text(args.json, json.dumps(res, indent=1, ensure_ascii=False) + "\n")
            print(f"wrote {args.json}")
        return 0
    if args.cmd == "disagreements":
        return disagreements(args.pass1, args.pass2, gold, args.context)
    return merge(args.pass1, args.pass2, args.settled, gold, args.out)


if __name__ == "__main__":
    sys.exit(main())
