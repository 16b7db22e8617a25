"""hygiene: paraphrase traces, quality and language flags, the published columns and their suites."""
from __future__ import annotations

import os
import pickle
import re
import sys
from dataclasses import replace

import duckdb
import pyarrow as pa
import pytest
from conftest import REPO, SEEDS

from pipeline.checks import tables as validate
from pipeline.core.config import PipelineConfig
from pipeline.core.records import Article, Block, Extracted, Source
from pipeline.stages.hygiene import signals as hygiene
from pipeline.stages.hygiene.paraphrase import (
    article_agreement_traces,
    load_tagger,
    misplaced_verb_traces,
    paraphrase_evidence,
)
from pipeline.stages.normalize import normalize

sys.path.insert(0, str(REPO / "bench"))
import make_spun_set  # noqa: E402

CONFIG = PipelineConfig()



@pytest.fixture(scope="module")
def signals(seed_articles) -> dict[str, object]:
    return {a.article_id: hygiene.document_signals(a, CONFIG) for a in seed_articles.values()}


@pytest.fixture(scope="module")
def tables(seed_tables) -> dict[str, pa.Table]:
    return seed_tables


def _article(path: str, paragraphs: list[str], boilerplate: list[str] = ()) -> Article:
    text = "\n".join([*paragraphs, *boilerplate])
    source = Source(path=path, sha256="0" * 64, format="text", encoding="utf-8", text=text, n_bytes=len(text))
    blocks = [Block(i, p, "body") for i, p in enumerate(paragraphs)]
    blocks += [Block(len(blocks) + i, b, "boilerplate", "test") for i, b in enumerate(boilerplate)]
    return normalize(Extracted(source=source, extractor="test", blocks=tuple(blocks)), CONFIG)


def _flags(article: Article) -> dict:
    return hygiene.article_flags(hygiene.document_signals(article, CONFIG), article.boilerplate_ratio, CONFIG)


# --------------------------------------------------------------------------- paraphrase traces


def test_seed_003_is_flagged_as_paraphrased_and_the_other_seeds_are_not(seed_articles, signals):
    flagged = {prefix for prefix, a in seed_articles.items()
               if hygiene.article_flags(signals[a.article_id], a.boilerplate_ratio, CONFIG)["is_paraphrased"]}
    assert flagged == {"003"}


def test_article_agreement_traces_follow_the_sound_not_the_letter():
    found = [t.text for t in article_agreement_traces(
        "It was an formal video and a extremely odd day. A expert said so.")]
    assert found == ["an formal", "a extremely", "A expert"]
    fine = ("an hour, an honest man, a union, a one-off, a European, an FBI agent, a euro, "
            "a university, an umbrella, an 8-year-old, vitamin A is good, a/an historic, a herb.")
    assert article_agreement_traces(fine) == []


def test_a_verb_only_word_in_a_noun_slot_is_a_trace_and_good_english_is_not():
    nlp, lexicon = load_tagger(CONFIG.paraphrase_model)
    spun = nlp("The crackdown was a further demonstrate of power by the government.")
    assert [t.text for t in misplaced_verb_traces(spun, lexicon)] == ["demonstrate (NOUN)"]
    clean = nlp("The crackdown was a further demonstration of power; the training of the accused began.")
    assert misplaced_verb_traces(clean, lexicon) == []


def test_spun_copies_of_the_clean_seeds_are_flagged_and_the_originals_are_not():
    docs = make_spun_set.labelled_documents(SEEDS, data_dir=None, rates=(1.0,))
    verdicts = {}
    for doc in docs:
        if doc.label == "real_spun":
            continue
        evidence = paraphrase_evidence(list(doc.paragraphs), CONFIG.paraphrase_model)
        verdicts[(doc.document, doc.label)] = hygiene.is_paraphrased(len(evidence.distinct), evidence.n_words, CONFIG)
    assert {k for k, v in verdicts.items() if v} == {(p, "spun") for p in make_spun_set.CLEAN_SEEDS}


def test_the_spinner_is_deterministic_and_swaps_more_at_higher_rates(seed_articles):
    paragraphs = tuple(p.text for p in seed_articles["004"].paragraphs)
    low = make_spun_set.spin_document("004", paragraphs, 0.3)
    assert low == make_spun_set.spin_document("004", paragraphs, 0.3)
    assert low[0] != paragraphs
    assert sum(make_spun_set.spin_document("004", paragraphs, 1.0)[1]) > sum(low[1]) > 0


# --------------------------------------------------------------------------- signals and flags


def test_document_signals_are_picklable_and_depend_only_on_the_text(seed_articles, signals):
    article = seed_articles["002"]
    moved = replace(article, article_id="another-id",
                    extracted=replace(article.extracted, source=replace(article.extracted.source, path="x/y.txt")))
    assert hygiene.document_signals(moved, CONFIG) == signals[article.article_id]
    assert pickle.loads(pickle.dumps(signals[article.article_id])) == signals[article.article_id]


def test_quality_flags_mark_short_foreign_and_boilerplate_pages(seed_articles):
    kazakh = next(p.text for p in seed_articles["002"].paragraphs if p.language == "kk")
    english = "A short English note about the election and the protests that followed it in the city."
    foreign = _flags(_article("kk.txt", [kazakh, kazakh + " " + kazakh, english]))
    assert foreign["is_mostly_non_english"] and foreign["english_share"] < 0.5
    short = _flags(_article("short.txt", [english]))
    assert short["is_short"] and not short["is_mostly_non_english"]
    page = _article("page.txt", [english * 3], boilerplate=["Home | News | Sport | Contact | Login"] * 100)
    assert _flags(page)["is_mostly_boilerplate"]
    assert not _flags(_article("story.txt", [english * 3]))["is_mostly_boilerplate"]
    seed_flags = {p: _flags(a) for p, a in seed_articles.items()}
    assert not any(f["is_short"] or f["is_mostly_non_english"] or f["is_mostly_boilerplate"]
                   for f in seed_flags.values())
    assert 0.5 < seed_flags["002"]["english_share"] < 1.0  # the Kazakh footnote


# --------------------------------------------------------------------------- published tables


def test_repeated_paragraphs_and_the_language_flag(seed_articles, tables):
    paragraphs = tables["paragraphs"].to_pandas()
    by_article = {p: paragraphs[paragraphs.article_id == a.article_id] for p, a in seed_articles.items()}
    shared = set(by_article["000"].paragraph_hash) & set(by_article["001"].paragraph_hash)
    assert shared
    for hash_, n in zip(paragraphs.paragraph_hash, paragraphs.n_articles_with_paragraph):
        holders = paragraphs[paragraphs.paragraph_hash == hash_].article_id.nunique()
        assert n == holders
    assert (by_article["003"].n_articles_with_paragraph == 1).all()

    footnote = by_article["002"][by_article["002"].language == "kk"]
    assert len(footnote) == 1 and not footnote.ner_tagged.iloc[0]
    assert (paragraphs.ner_tagged == paragraphs.language.isin(CONFIG.ner_languages)).all()
    # The entities table never holds tags for a paragraph the English model did not read.
    entities = tables["entities"].to_pandas()
    assert len(entities)
    keys = set(zip(paragraphs.article_id, paragraphs.paragraph_index, paragraphs.ner_tagged))
    assert all((a, i, True) in keys for a, i in zip(entities.article_id, entities.paragraph_index))


def test_near_duplicate_columns_on_the_seeds(seed_articles, tables):
    articles = tables["articles"].to_pandas().set_index("article_id")
    ids = {p: a.article_id for p, a in seed_articles.items()}
    clustered = articles[articles.near_duplicate_cluster.notna()]
    assert set(clustered.index) == {ids["000"], ids["001"]}
    assert clustered.near_duplicate_cluster.nunique() == 1
    assert articles.duplicate_of.notna().sum() == 1
    copy = articles[articles.duplicate_of.notna()].iloc[0]
    assert copy.duplicate_of in {ids["000"], ids["001"]} and copy.near_duplicate_similarity < 1.0
    assert articles.loc[copy.duplicate_of, "near_duplicate_similarity"] == 1.0


def test_the_suites_pass_on_the_seeds_and_catch_broken_hygiene_columns(seed_articles, tables):
    n_inputs = len(seed_articles)
    assert validate.validate_tables(tables, n_inputs).success

    def broken(table: str, column: str, values) -> dict[str, pa.Table]:
        t = tables[table]
        index = t.schema.get_field_index(column)
        return {**tables, table: t.set_column(index, t.schema.field(index), pa.array(values, t.schema.field(index).type))}

    articles = tables["articles"]
    similarity = articles.column("near_duplicate_similarity").to_pylist()
    member = articles.column("duplicate_of").to_pylist().index(
        next(v for v in articles.column("duplicate_of").to_pylist() if v))
    similarity[member] = None
    report = validate.validate_tables(broken("articles", "near_duplicate_similarity", similarity), n_inputs)
    assert report.failed("articles", "expect_column_values_to_not_be_null", "near_duplicate_similarity")

    flags = articles.column("is_short").to_pylist()
    flags[0] = None
    report = validate.validate_tables(broken("articles", "is_short", flags), n_inputs)
    assert report.failed("articles", "expect_column_values_to_not_be_null", "is_short")

    counts = [0] * tables["paragraphs"].num_rows
    report = validate.validate_tables(broken("paragraphs", "n_articles_with_paragraph", counts), n_inputs)
    assert report.failed("paragraphs", "expect_column_values_to_be_between", "n_articles_with_paragraph")


# --------------------------------------------------------------------------- README


def _docs_snippets(language: str) -> list[str]:
    page = (REPO / "docs" / "hygiene.md").read_text(encoding="utf-8")
    section = page.split("\n## Filtering\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)


def test_the_documented_filters_run_on_the_seed_tables(published_seeds, seed_articles):
    # One row per story: the earlier of 000/001 (the same story), 002 and 004; 003 is spun.
    story = min(seed_articles["000"], seed_articles["001"], key=lambda a: (a.published_date or "9999-99-99", a.extracted.source.path))
    expected = {story.article_id, seed_articles["002"].article_id, seed_articles["004"].article_id}
    cwd = os.getcwd()
    os.chdir(published_seeds.parent)  # the docs' relative paths: data/latest/...
    try:
        (python,) = _docs_snippets("python")
        namespace: dict = {}
        exec(compile(python, "docs/hygiene.md", "exec"), namespace)
        assert set(namespace["stories"].article_id) == expected
        assert len(namespace["own_text"]) and (namespace["own_text"].n_articles_with_paragraph == 1).all()

        (sql,) = _docs_snippets("sql")
        statements = [s for s in sql.split(";") if s.strip()]
        assert len(statements) == 3
        results = [duckdb.sql(s).fetchall() for s in statements]
    finally:
        os.chdir(cwd)
    assert {row[0] for row in results[0]} == expected
    assert {row[1] for row in results[1]} == {seed_articles["000"].article_id, seed_articles["001"].article_id}
    assert results[2] and all(row[2] >= 2 for row in results[2])
