"""What an input is (html, page_dump, clean_text) and what each kind keeps: clean texts in any layout
keep all of their prose, readable texts are never thrown away for their form."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import REPO, read_seed

from pipeline.core.config import PipelineConfig
from pipeline.core.records import Source
from pipeline.stages.extract.dispatch import CLEAN_EXTRACTOR, DUMP_EXTRACTOR, extract
from pipeline.stages.extract.dump import extract_dump
from pipeline.stages.extract.metrics import bow_prf
from pipeline.stages.hygiene import signals as hygiene
from pipeline.stages.ingest import decode
from pipeline.stages.normalize import normalize

sys.path.insert(0, str(REPO / "bench"))
from clean_layouts import LAYOUTS  # noqa: E402
from extraction_data import kept_text  # noqa: E402

BRIEF = ("ASTANA, 4 March 2024 - Kazakhstan's central bank kept its base rate at 14.75 percent on Friday, "
         "citing slowing inflation and stable demand. The next decision is due in April, the bank said in "
         "a statement, adding that it expects price growth to ease further this year as food prices settle "
         "and the tenge holds steady against the dollar.")  # one paragraph, 60 words, no site chrome

RESULTS = """Kazakhstan Premier League: results of round 12

Astana 2 Kairat 1
Tobol 0 Aktobe 0
Ordabasy 3 Zhetysu 1
Shakhter 1 Atyrau 2
Kaisar 0 Okzhetpes 4
Taraz 2 Caspiy 2

Standings: Astana 28, Ordabasy 26, Tobol 24, Kairat 21, Aktobe 19, Atyrau 17
"""

PRICES = """Almaty market prices, week 10 (tenge per kilogram)

Beef 3,900 4,100
Mutton 3,600 3,750
Potatoes 180 210
Onions 150 165
Carrots 190 220
Apples 650 700
Flour 320 330
Sugar 480 500
"""


def src(text: str, path: str = "x.txt", fmt: str = "text") -> Source:
    return Source(path=path, sha256="0" * 64, format=fmt, encoding="utf-8", text=text,
                  n_bytes=len(text.encode("utf-8")))


def words_kept(text: str) -> float:
    return bow_prf(kept_text(extract(src(text))), text).recall


def test_page_dump_and_clean_texts_are_told_apart_and_recorded():
    dump = extract(src(read_seed("000")))
    assert (dump.input_kind, dump.extractor) == ("page_dump", DUMP_EXTRACTOR)
    assert dump.input_kind_reason.startswith("page dump") and "chrome lines" in dump.input_kind_reason
    for prefix in ("001", "002", "003", "004"):
        clean = extract(src(read_seed(prefix)))
        assert (clean.input_kind, clean.extractor) == ("clean_text", CLEAN_EXTRACTOR), prefix
        assert clean.input_kind_reason.startswith("clean text")


def test_one_paragraph_brief_is_an_article_with_all_its_words():
    ex = extract(src(BRIEF))
    assert ex.input_kind == "clean_text"
    assert [b.text for b in ex.body_blocks] == [BRIEF]
    article = normalize(ex, PipelineConfig())
    assert article.text == BRIEF


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_of_a_clean_story_keeps_its_words(layout):
    for prefix in ("001", "002", "003", "004"):
        text = LAYOUTS[layout](read_seed(prefix))
        ex = extract(src(text))
        assert ex.input_kind == "clean_text", (layout, prefix, ex.input_kind_reason)
        assert bow_prf(kept_text(ex), text).recall >= 0.99, (layout, prefix)


def test_hard_wrapped_text_becomes_paragraphs_not_lines():
    text = LAYOUTS["wrapped_70"](read_seed("003"))
    ex = extract(src(text))
    body = [b.text for b in ex.body_blocks]
    # 70-column lines are joined back into the story's paragraphs
    assert len(body) == len([p for p in read_seed("003").split("\n\n") if p.strip()]) - 1  # the headline is the title
    assert all(len(b) > 70 for b in body[1:-1] if len(b.split()) > 20)
    assert ex.title == "Kazakhstan Turns a Blind Eye to the Opposition Riddle"


def test_headline_byline_dateline_and_markdown_are_read_as_metadata():
    story = "\n\n".join(p for p in read_seed("001").split("\n") if p.strip())
    text = "# Xinjiang Kazakh plans political party\n\nBy Chris Rickleton\n\nJune 4, 2024\n\n" + story
    ex = extract(src(text))
    assert ex.input_kind == "clean_text"
    assert ex.title == "Xinjiang Kazakh plans political party"
    assert ex.author == "Chris Rickleton"
    assert ex.published_date == "2024-06-04"
    assert bow_prf(kept_text(ex), text).recall >= 0.99


def test_only_lines_that_are_not_the_story_go_each_with_a_reason():
    story = read_seed("003")
    text = story + "\n\nShare this article\n\n© 2024 Steppe Review. All rights reserved.\n\n3 min read\n"
    ex = extract(src(text))
    removed = {b.text: b.reason for b in ex.removed_blocks}
    assert removed == {"Share this article": "share bar",
                       "© 2024 Steppe Review. All rights reserved.": "copyright notice",
                       "3 min read": "reading time"}
    assert bow_prf(kept_text(ex), story).recall >= 0.99


def test_a_clean_text_ending_in_a_comment_heading_loses_that_heading_only():
    ex = extract(src(read_seed("001"), "001.txt"))  # a clean copy whose last line opens the comments
    assert ex.input_kind == "clean_text"
    assert {b.text: b.reason for b in ex.removed_blocks} == {
        "Discussion about this post": "comment-section heading at the end"}
    # Such a heading with story after it stays.
    assert not extract(src(read_seed("002") + "\n\nComments\n\nThe vote is due on Friday.\n")).removed_blocks


def test_latin1_and_mojibake_one_line_texts_decode_and_are_kept():
    latin1 = BRIEF.replace("percent", "per cent – déjà vu").encode("cp1252")
    text, encoding = decode(latin1)
    assert encoding == "cp1252" and "déjà" in text
    assert words_kept(text) == 1.0
    mojibake = BRIEF.replace("percent", "per cent, cafÃ© owners said")  # UTF-8 read as Latin-1
    article = normalize(extract(src(mojibake)), PipelineConfig())
    assert "café owners" in article.text  # ftfy repairs it in normalize


def test_a_dump_the_classifier_keeps_nothing_of_is_taken_as_clean_text():
    # A whole page of menus around a list of names: the dump classifier drops every block, so
    # the text is taken as clean rather than thrown away.
    menu = [f"  * {w}" for w in ("Home", "News", "Sport", "Business", "Culture", "Weather", "Video", "Opinion")]
    notes = ["Kairat", "Tobol", "Astana"]
    page = "\n".join(menu + notes + menu + ["Contact us", "About us", "Privacy policy"]) + "\n"
    dumped = extract_dump(src(page))
    assert not dumped.body_blocks  # the precondition: the classifier keeps nothing
    ex = extract(src(page))
    assert ex.input_kind == "clean_text"
    assert "kept no story text" in ex.input_kind_reason
    assert {b.text for b in ex.body_blocks} >= set(notes)


@pytest.mark.parametrize("text", [RESULTS, PRICES], ids=["results", "prices"])
def test_results_and_price_lists_are_articles_flagged_mostly_numbers(text):
    config = PipelineConfig()
    ex = extract(src(text))
    assert ex.input_kind == "clean_text"
    assert bow_prf(kept_text(ex), text).recall >= 0.99
    article = normalize(ex, config)
    signals = hygiene.document_signals(article, config)
    flags = hygiene.article_flags(signals, article.boilerplate_ratio, config)
    assert flags["is_mostly_numbers"] and flags["is_short"]
    brief = normalize(extract(src(BRIEF)), config)
    assert not hygiene.article_flags(hygiene.document_signals(brief, config), 0.0, config)["is_mostly_numbers"]


def test_html_with_no_main_text_falls_back_to_its_rendered_text():
    html = ("<html><head><title>Results</title></head><body><table>"
            + "".join(f"<tr><td>Team {i}</td><td>{i}</td><td>{i + 1}</td></tr>" for i in range(12))
            + "</table></body></html>")
    ex = extract(src(html, path="x.html", fmt="html"))
    assert ex.input_kind == "html"
    assert "Team 11" in kept_text(ex)


@pytest.fixture(scope="module")
def odd_news_run(tmp_path_factory) -> Path:
    """A real pipeline run over news texts of odd forms: a brief, a results table, a price list, a
    one-line Latin-1 text, one with mojibake."""
    import subprocess

    seeds = tmp_path_factory.mktemp("odd-seeds")
    (seeds / "brief.txt").write_text(BRIEF + "\n", encoding="utf-8")
    (seeds / "results.txt").write_text(RESULTS, encoding="utf-8")
    (seeds / "prices.txt").write_text(PRICES, encoding="utf-8")
    (seeds / "latin1.txt").write_bytes(" ".join(read_seed("003").split()).replace("’", "'").encode("cp1252",
                                                                                                   "replace"))
    (seeds / "mojibake.txt").write_text(read_seed("001").encode("utf-8").decode("cp1252", "replace"),
                                        encoding="utf-8")
    data = tmp_path_factory.mktemp("odd-data")
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--seeds", str(seeds), "--data", str(data),
                           "--workers", "1"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return data


def test_odd_news_forms_all_become_articles(odd_news_run):
    import duckdb

    latest = odd_news_run / "latest"
    rows = duckdb.sql(f"SELECT source_path, input_kind, is_short, is_mostly_numbers, n_words "
                      f"FROM '{latest}/articles/*.parquet' ORDER BY source_path").fetchall()
    quarantined = duckdb.sql(f"SELECT source_path, reason FROM '{latest}/quarantine/*.parquet'").fetchall()
    assert quarantined == []
    by_path = {r[0]: r[1:] for r in rows}
    assert set(by_path) == {"brief.txt", "latin1.txt", "mojibake.txt", "prices.txt", "results.txt"}
    assert all(kind == "clean_text" for kind, *_ in by_path.values())
    assert by_path["results.txt"][2] and by_path["prices.txt"][2]  # is_mostly_numbers
    assert by_path["brief.txt"][1] and not by_path["brief.txt"][2]  # is_short, not numbers
    assert by_path["latin1.txt"][3] >= 900 and by_path["mojibake.txt"][3] >= 900


def test_explain_shows_the_input_kind_and_why(odd_news_run):
    import subprocess

    done = subprocess.run([sys.executable, "-m", "pipeline", "explain", "--source", "results.txt",
                           "--data", str(odd_news_run)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "input kind: clean_text (clean text (page-dump score" in done.stdout
