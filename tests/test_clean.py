from noiseclf.model import Verdict, render_kept
from noiseclf.text import split_lines

from conftest import SEED_003


def _lines_with(scrape, label):
    return [text for _, text, lab in scrape.labelled_lines() if lab == label]


def test_cleaning_seed_003_keeps_every_article_line_in_order(shipped_model, seed_scrapes):
    scrape = next(s for s in seed_scrapes if s.name == SEED_003.stem)
    cleaned = shipped_model.clean(SEED_003.read_text(encoding="utf-8"))
    kept = [line for line in split_lines(cleaned) if line.strip()]
    assert kept == _lines_with(scrape, "article")


def test_cleaning_seed_003_drops_the_trending_and_latest_posts_lists(shipped_model, seed_scrapes):
    scrape = next(s for s in seed_scrapes if s.name == SEED_003.stem)
    cleaned_lines = set(split_lines(shipped_model.clean(SEED_003.read_text(encoding="utf-8"))))
    lines = scrape.lines
    trending = lines.index("    Trending")
    latest = lines.index("      Latest Posts")
    subscribe = lines.index("      Subscribe to News")
    # The lists: the heading and the story lines under it, up to the next section.
    trending_items = [l for l in lines[trending:trending + 9] if l.strip()]
    latest_items = [l for l in lines[latest:subscribe] if l.strip()]
    assert len(trending_items) == 9 and len(latest_items) == 21
    assert not cleaned_lines & set(trending_items)
    assert not cleaned_lines & set(latest_items)


def test_every_seed_keeps_all_its_article_lines(shipped_model, seed_scrapes):
    for scrape in seed_scrapes:
        kept = [l for l in split_lines(shipped_model.clean(scrape.text)) if l.strip()]
        assert kept == _lines_with(scrape, "article"), scrape.name


def test_paragraph_breaks_survive_and_runs_of_dropped_lines_leave_one_break():
    verdicts = [
        Verdict(1, "Menu", "nav", 0.9),
        Verdict(2, "First paragraph.", "article", 0.9),
        Verdict(3, "", None, None),
        Verdict(4, "", None, None),
        Verdict(5, "Second paragraph.", "article", 0.9),
        Verdict(6, "Other story", "related-story", 0.9),
        Verdict(7, "Third paragraph.", "article", 0.9),
    ]
    assert render_kept(verdicts, {"article"}) == "First paragraph.\n\nSecond paragraph.\nThird paragraph.\n"
    assert render_kept(verdicts, {"nav"}) == "Menu\n"
    assert render_kept(verdicts, set()) == ""


def test_classify_gives_every_line_a_verdict_and_blank_lines_none(shipped_model):
    lines = ["Home", "", "A sentence that reads like an article paragraph, with a full stop."]
    verdicts = shipped_model.classify(lines)
    assert [v.line for v in verdicts] == [1, 2, 3]
    assert verdicts[1].label is None and verdicts[1].probability is None
    assert all(v.label in shipped_model.labels and 0 < v.probability <= 1 for v in (verdicts[0], verdicts[2]))


def test_keep_selects_other_labels(shipped_model):
    text = SEED_003.read_text(encoding="utf-8")
    everything = shipped_model.clean(text, keep=shipped_model.labels)
    assert [l for l in split_lines(everything) if l.strip()] == [l for l in split_lines(text) if l.strip()]


def test_clean_many_equals_clean_one_by_one(shipped_model, seed_scrapes):
    texts = [s.text for s in seed_scrapes]
    assert shipped_model.clean_many(texts) == [shipped_model.clean(t) for t in texts]


def test_empty_input_gives_empty_output(shipped_model):
    assert shipped_model.clean("") == ""
    assert shipped_model.clean("\n\n  \n") == ""
