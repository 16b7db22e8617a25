"""Canonical entities: spelling variants share an id, different people never do, ids are stable,
the hand gold's quality floors hold, and the documented entity queries run on real tables."""
from __future__ import annotations

import re
import sys
from dataclasses import replace

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import REPO, SEEDS

from pipeline.core.config import PipelineConfig
from pipeline.core.records import Article, Block, Extracted, Mention, Source
from pipeline.stages.entities import resolve, tag
from pipeline.stages.entities.catalog_match import CATALOG
from pipeline.stages.entities.names import PersonName, is_variant, load_aliases, name_key, same_person, words_agree
from pipeline.stages.normalize import normalize
from pipeline.stages.prepare import Prepared, prepare_document

sys.path.insert(0, str(REPO / "bench"))
import entities as entity_bench  # noqa: E402
import entity_gold  # noqa: E402
import news_gold  # noqa: E402
from entity_gold import EVAL_LABELS, Gold, load_gold, mention_prf, pair_prf  # noqa: E402

CONFIG = PipelineConfig()

# Floors on the hand gold (bench/entities.py prints the figures); raise them, never lower them.
MIN_MENTION_F1 = 0.90
MIN_PAIR_PRECISION = 0.98
MIN_PAIR_RECALL = 0.95

# The spellings the seeds use for three people (read off the seeds, not the output).
SEED_VARIANTS = {
    "Bilash": {"Serikzhan Bilash", "Serikjan Bilash", "Bilash"},
    "Maxutkanuly": {"Bekzat Maxutkanuly", "Bekzat Maxuthan", "Maxutkanuly"},
    "Nazarbayev": {"Nazarbayev", "Nursultan Nazerbayev", "Nursutlan Nazerbayev"},
}


@pytest.fixture(scope="module")
def seed_articles() -> list[Article]:
    prepared = [prepare_document(SEEDS, p.name, CONFIG) for p in sorted(SEEDS.glob("*.txt"))]
    return [p.article for p in prepared if isinstance(p, Prepared)]


@pytest.fixture(scope="module")
def tagged(seed_articles) -> list[Mention]:
    return tag.tag(seed_articles, CONFIG)


def article(text: str, path: str) -> Article:
    lines = text.split("\n")
    source = Source(path, "0" * 64, "text", "utf-8", text, len(text.encode()))
    return normalize(Extracted(source, "test_v0", tuple(Block(i, t, "body") for i, t in enumerate(lines))), CONFIG)


def person(article_id: str, paragraph: int, text: str) -> Mention:
    return Mention(article_id, paragraph, 0, len(text), text, "PERSON", text, "")


def resolved_mentions(mentions: list[Mention], aliases=None, articles: list[Article] = ()):
    return entity_gold.resolved_mentions(mentions, CONFIG, aliases, articles)


def ids_by_text(mentions: list[Mention]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for m in mentions:
        out.setdefault(m.text, set()).add(m.entity_id)
    return out


# --------------------------------------------------------------------------- the seeds


@pytest.mark.parametrize("aliases", ["rules only", "with the alias file"])
def test_seed_variants_share_an_id_and_different_people_do_not(seed_articles, tagged, aliases):
    entries = load_aliases(CONFIG.entity_aliases)
    if aliases == "rules only":  # no person in the alias file: the spelling rules must do it
        entries = entries.without_labels({"PERSON"})
    resolved, _ = resolved_mentions(tagged, entries)
    persons = [m for m in resolved if m.label == "PERSON"]
    ids = {}
    for who, spellings in SEED_VARIANTS.items():
        found = {m.text for m in persons if m.text in spellings}
        assert found == spellings, f"{who}: spellings tagged as PERSON: {sorted(found)}"
        shared = {m.entity_id for m in persons if m.text in spellings}
        assert len(shared) == 1, f"{who}: {len(shared)} ids for {sorted(spellings)}"
        ids[who] = shared.pop()
    assert len(set(ids.values())) == 3

    # No id may hold two people of the gold (nor two entities of any other gold group).
    gold = Gold(seed_articles, CONFIG)
    groups_of_id: dict[str, set[str]] = {}
    for m in resolved:
        span = (m.article_id, m.paragraph_index, m.char_start, m.char_end)
        if span in gold.group:
            groups_of_id.setdefault(m.entity_id, set()).add(gold.group[span])
    merged = {i: g for i, g in groups_of_id.items() if len(g) > 1}
    assert not merged, merged


def test_gold_quality_floors(seed_articles, tagged):
    gold = Gold(seed_articles, CONFIG)
    assert len(load_gold()) >= 3 and gold.n_found >= 0.9 * gold.n_paragraphs, gold.missing
    resolved = resolved_mentions(tagged)[0]
    rows = [(m.article_id, m.paragraph_index, m.char_start, m.char_end, m.label, m.entity_id) for m in resolved]
    items, ids = gold.system(rows)
    mentions = mention_prf(gold.items, items)
    pairs = pair_prf(gold.group, ids)
    assert mentions.f1 >= MIN_MENTION_F1, mentions
    assert pairs.precision >= MIN_PAIR_PRECISION and pairs.recall >= MIN_PAIR_RECALL, pairs
    assert {label for *_, label in gold.items} == set(EVAL_LABELS)


def test_every_mention_says_how_it_was_resolved(tagged):
    resolved = resolved_mentions(tagged)[0]
    assert {m.resolution for m in resolved} <= set(resolve.RESOLUTIONS)
    how = {(m.text, m.resolution) for m in resolved if m.label == "PERSON"}
    assert ("Serikjan Bilash", "normalized") in how or ("Serikzhan Bilash", "normalized") in how
    assert ("Bekzat Maxuthan", "fuzzy") in how or ("Bekzat Maxutkanuly", "fuzzy") in how
    assert ("Nazarbayev", "surname") in how
    assert ("Tokayev", "short_form") in how
    assert ("Anar Atabay", "alias") in how  # a pseudonym: only the alias file knows it


def test_ids_do_not_depend_on_order_or_on_unrelated_documents(seed_articles, tagged):
    baseline = {(m.article_id, m.paragraph_index, m.char_start, m.label): m.entity_id
                for m in resolved_mentions(tagged)[0]}
    shuffled = sorted(tagged, key=lambda m: (m.article_id[::-1], -m.char_start))
    again = {(m.article_id, m.paragraph_index, m.char_start, m.label): m.entity_id
             for m in resolved_mentions(shuffled)[0]}
    assert again == baseline

    other = article("Angela Merkel met Emmanuel Macron in Berlin on Monday to discuss energy prices.\n\n"
                    "Merkel said the talks with the French president had been useful, and Macron agreed.",
                    "unrelated.txt")
    more, _ = resolved_mentions(tagged + tag.tag([other], CONFIG))
    with_other = {(m.article_id, m.paragraph_index, m.char_start, m.label): m.entity_id
                  for m in more if m.article_id != other.article_id}
    assert with_other == baseline
    assert len({m.entity_id for m in more if m.text in ("Merkel", "Angela Merkel")}) == 1


def test_catalog_counts_names_and_dates(seed_articles, tagged):
    resolved, catalog = resolved_mentions(tagged, articles=seed_articles)
    rows = {r["entity_id"]: r for r in catalog}
    (bilash,) = [r for r in rows.values() if r["label"] == "PERSON" and "Serikjan Bilash" in r["aliases"]]
    assert {"Serikzhan Bilash", "Serikjan Bilash", "Bilash"} <= set(bilash["aliases"])
    assert bilash["n_mentions"] == sum(m.entity_id == bilash["entity_id"] for m in resolved)
    assert bilash["n_articles"] == 3  # 000, 001 and 002 name him; 003 and 004 do not
    dated = sorted(a.published_date for a in seed_articles
                   if a.published_date and any(m.article_id == a.article_id and m.entity_id == bilash["entity_id"]
                                               for m in resolved))
    assert (str(bilash["first_published"]), str(bilash["last_published"])) == (dated[0], dated[-1])
    assert len(rows) == len({m.entity_id for m in resolved})


# --------------------------------------------------------------------------- guard rails


def test_namesakes_with_other_given_names_stay_apart():
    mentions = [
        person("a1", 0, "Serikzhan Bilash"), person("a1", 1, "Bilash"),
        person("a2", 0, "Aigerim Bilash"), person("a2", 1, "Bilash"),
        person("a3", 0, "Bilash"),  # a lone surname two people share: linked to neither
        person("a4", 0, "Alexander Ivanov"), person("a5", 0, "Aleksandr Ivanov"),
        person("a6", 0, "Alexandra Ivanova"),
    ]
    ids = [m.entity_id for m in resolved_mentions(mentions, load_aliases().without_labels({"PERSON"}))[0]]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]
    assert ids[4] not in (ids[0], ids[2])
    assert ids[5] == ids[6] and ids[7] != ids[5]


def test_merging_is_complete_link():
    # "M. Tokayev" fits both Marat and Maksat Tokayev; it may join one of them, never both.
    mentions = [person("a1", 0, "Marat Tokayev"), person("a2", 0, "M. Tokayev"), person("a3", 0, "Maksat Tokayev")]
    ids = [m.entity_id for m in resolved_mentions(mentions)[0]]
    assert ids[0] != ids[2]
    assert ids[1] in (ids[0], ids[2])


def test_name_keys_fold_transliteration_but_keep_names_apart():
    same = [("Serikzhan Bilash", "Serikjan Bilash"), ("Kassym-Jomart Tokayev", "Kasym-Zhomart Tokaev"),
            ("Maksut", "Maxut"), ("Mukhtar", "Muhtar"), ("Kyrgyz", "Kirgiz")]
    for a, b in same:
        assert name_key(a, "PERSON") == name_key(b, "PERSON"), (a, b)
    assert name_key("Kazakhs", "NORP") == name_key("Kazakh", "NORP")
    assert name_key("Kazakhs", "PERSON") != name_key("Kazakh", "PERSON")
    assert name_key("Almaty", "GPE") != name_key("Astana", "GPE")

    def people(a: str, b: str):
        return same_person(PersonName.from_key(name_key(a, "PERSON")), PersonName.from_key(name_key(b, "PERSON")),
                           CONFIG.person_name_min_similarity)

    assert people("Nursultan Nazarbayev", "Nursutlan Nazerbayev") is not None
    assert people("Bekzat Maxutkanuly", "Bekzat Maxuthan") is not None
    assert people("Gene A. Bunin", "Gene Bunin") is not None
    assert people("Dariga Nazarbayeva", "Nursultan Nazarbayev") is None
    assert people("Aliya Zholboldina", "Asya Tulesova") is None


# --------------------------------------------------------------------------- README


def _documented_entity_queries() -> tuple[list[str], list[str]]:
    page = (REPO / "docs" / "entities.md").read_text(encoding="utf-8")
    section = page.split("\n## Example queries\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(python|sql)\n(.*?)```", section, re.S)
    return [b for kind, b in blocks if kind == "python"], [b for kind, b in blocks if kind == "sql"]


def test_documented_entity_queries_run_in_pandas_and_duckdb(published_seeds, monkeypatch):
    latest = published_seeds / "latest"
    monkeypatch.chdir(published_seeds.parent)  # the docs' relative paths: data/latest/...
    python_blocks, sql_blocks = _documented_entity_queries()
    assert python_blocks and len(sql_blocks) >= 3

    namespace: dict = {}
    for block in python_blocks:
        exec(compile(block, "docs/entities.md", "exec"), namespace)
    assert namespace["top"].iloc[0]["n_mentions"] == namespace["catalog"]["n_mentions"].max()
    assert namespace["people"].get("Serikzhan Bilash", 0) >= 10
    pairs_in_paragraph = set(namespace["with_in_paragraph"].index)
    # Seed 001: "Maxutkanuly joined Bilash's movement, an unregistered organization called Atajurt."
    for a, b in (("Bekzat Maxutkanuly", "Serikzhan Bilash"), ("Atajurt", "Bekzat Maxutkanuly")):
        assert (a, b) in pairs_in_paragraph or (b, a) in pairs_in_paragraph
    assert len(namespace["with_in_article"]) >= len(namespace["with_in_paragraph"])

    results = [duckdb.sql(block).df() for block in sql_blocks]
    per_entity, in_paragraph, in_article = results[:3]
    assert per_entity.n_mentions.is_monotonic_decreasing and per_entity.n_mentions.sum() == len(
        pd.read_parquet(latest / "entities"))
    for frame in (in_paragraph, in_article):
        pairs = set(zip(frame.entity, frame.appears_with))
        assert ("Bekzat Maxutkanuly", "Serikzhan Bilash") in pairs or ("Serikzhan Bilash", "Bekzat Maxutkanuly") in pairs
    assert in_paragraph.paragraphs.sum() == namespace["with_in_paragraph"].sum()  # pandas and DuckDB agree


def test_tag_stage_identity_follows_the_alias_file(tmp_path, seed_articles):
    base = tag.TAG.identity(CONFIG)
    assert base["version"] and base["model"].startswith("en_core_web_sm")
    edited = tmp_path / "aliases.toml"
    original = (REPO / "pipeline" / "resources" / "entity_aliases.toml").read_text(encoding="utf-8")
    edited.write_text(original + '\n[[entity]]\nname = "Bizdin Tandau"\nlabel = "ORG"\n', encoding="utf-8")
    config = replace(CONFIG, entity_aliases=str(edited))
    assert tag.TAG.identity(config)["entity_aliases_sha256"] != base["entity_aliases_sha256"]
    doc = article("Activists of Bizdin Tandau said the vote in Almaty was calm.", "party.txt")
    assert ("Bizdin Tandau", "ORG") in {(m.text, m.label) for m in tag.tag([doc], config)}
    assert ("Bizdin Tandau", "ORG") not in {(m.text, m.label) for m in tag.tag([doc], CONFIG)}


def test_resolution_does_not_depend_on_how_the_mention_rows_are_chunked(seed_articles, tagged):
    """A run hands resolve one chunk of rows per article, read from the cache."""
    by_article = {}
    for m in tagged:
        by_article.setdefault(m.article_id, []).append(m)
    chunked = pa.Table.from_batches([tag.mention_batch(ms) for ms in by_article.values()])
    assert chunked.column(0).num_chunks == len(by_article) > 1
    published = {a.article_id: a.published_date for a in seed_articles}
    entities, catalog = resolve.resolve_mentions(chunked, published, CONFIG)
    one_chunk = resolve.resolve_mentions(chunked.combine_chunks(), published, CONFIG)
    assert entities.equals(one_chunk[0]) and catalog.equals(one_chunk[1])
    assert pc.sum(pc.not_equal(entities["tagged_by"], CATALOG)).as_py() == sum(m.tagged_by != CATALOG for m in tagged)
    assert {r["resolution"] for r in entities.to_pylist()} >= {"exact", "short_form"}


# --------------------------------------------------------------------------- beyond the seeds

@pytest.mark.parametrize("a,b,same", [
    ("World Kazakh Association", "World Association of Kazakhs", True),
    ("Central Bank of Russia", "Russian Central Bank", True),
    ("Bank of China", "Chinese Bank", True),
    ("Al-Qaeda", "Al Qaeda", True),
    ("Kassym-Jomart", "Kassymjomart", True),
    ("University of Utah", "Utah State University", False),  # another word
    ("Bank of China", "Bank of Japan", False),
    ("Republic of China", "People's Republic of China", False),
    ("World Health Organization", "World Trade Organization", False),
    ("Daily News", "News Daily", False),  # two words swapped without "of"
    ("Department of Justice", "Justice Department", True),
])
def test_generic_variant_rules(a, b, same):
    assert is_variant(name_key(a, "ORG"), name_key(b, "ORG")) is same


def test_word_forms_and_keys_in_other_scripts():
    assert words_agree("kazakhstan", "kazakh") and words_agree("russia", "russian") and words_agree("china", "chinese")
    assert not words_agree("austria", "australia") and not words_agree("iran", "iraq")
    for cyrillic, latin in (("Назарбаев", "Nazarbayev"), ("Тоқаев", "Tokayev"), ("Серікжан", "Serikzhan"),
                            ("Мақсұтқанұлы", "Maxutkanuly")):
        assert name_key(cyrillic, "PERSON") == name_key(latin, "PERSON"), (cyrillic, latin)
    assert name_key("O'Brien", "PERSON") == name_key("OBrien", "PERSON")
    assert name_key("Ivanova", "PERSON") != name_key("Ivanov", "PERSON")


def test_word_order_variants_share_an_id_without_an_alias_entry(seed_articles):
    aliases = load_aliases(CONFIG.entity_aliases).without_labels(entity_bench.GENERIC_ONLY)
    layer = tag.DomainLayer(tag.load_model(CONFIG.spacy_model), aliases, CONFIG.distinctive_name_max_zipf)
    resolved, _ = resolved_mentions(tag.tag(seed_articles, CONFIG, layer), aliases, seed_articles)
    ids = ids_by_text(resolved)
    forms = ("World Kazakh Association", "World Association of Kazakhs")
    assert all(f in ids for f in forms)
    assert len(ids[forms[0]] | ids[forms[1]]) == 1
    assert {m.resolution for m in resolved if m.text in forms} <= {resolve.EXACT, resolve.VARIANT}


RUSSIAN_AND_KAZAKH = """Nursultan Nazarbayev ruled the country for almost three decades, and when he stepped down \
the president who followed him was Kassym-Jomart Tokayev, a former diplomat who had served in Beijing.
Бывший президент Назарбаев и его дочь Дарига Назарбаева не ответили. Сама Назарбаева молчит.
Назарбаев Университеті Алматы облысы Талдықорған қаласында емес. Тоқаевтың жарлығы Алматыда жарияланды.
Both quotes above come from local outlets that covered the succession, which most international newspapers \
reported only briefly, and the English summaries here were written by the editors of this collection."""


def test_known_entities_are_found_in_other_scripts_and_nothing_new_is_guessed(seed_articles, tagged):
    extra = article(RUSSIAN_AND_KAZAKH, "cyrillic.txt")
    assert [p.language in CONFIG.ner_languages for p in extra.paragraphs] == [True, False, False, True]
    mentions = tagged + tag.tag([extra], CONFIG)
    requests = [m for m in mentions if m.tagged_by == CATALOG]
    assert {(m.article_id, m.paragraph_index) for m in requests} >= {(extra.article_id, 1), (extra.article_id, 2)}
    resolved, catalog = resolved_mentions(mentions, articles=seed_articles + [extra])
    english = {m.entity_id: m.canonical_name for m in resolved if m.tagged_by != CATALOG}
    found = {(m.paragraph_index, m.text): m for m in resolved if m.tagged_by == CATALOG}
    assert all(m.resolution == CATALOG and m.entity_id in english for m in found.values())  # known entities only
    by_name = {m.canonical_name: m.entity_id for m in resolved
               if m.article_id == extra.article_id and m.paragraph_index == 0}
    assert found[(1, "Назарбаев")].entity_id == by_name["Nursultan Nazarbayev"]
    assert found[(2, "Тоқаевтың")].entity_id == by_name["Kassym-Jomart Tokayev"]
    assert found[(2, "Алматыда")].canonical_name == "Almaty"
    # A relative, a university named after him, the region of Almaty: never the entity.
    assert {text for _, text in found} == {"Назарбаев", "Тоқаевтың", "Алматыда"}
    catalog_names = {row["canonical_name"]: row for row in catalog}
    assert "Назарбаев" in catalog_names["Nursultan Nazarbayev"]["aliases"]


def test_cyrillic_test_set_floor(seed_articles):
    score = entity_bench.cyrillic_score(CONFIG, load_aliases(CONFIG.entity_aliases), seed_articles)
    assert score.wrong == []
    assert score.right / score.total >= 0.9


def test_a_name_takes_the_models_majority_label_in_its_article():
    text = news_gold.page_path("dragnet_175").read_text(encoding="utf-8")
    page = entity_gold.text_article("dragnet_175.gold.txt", text, CONFIG)
    nlp = tag.load_model(CONFIG.spacy_model)
    model_labels = [e.label_ for p in page.paragraphs for e in nlp(p.text).ents if e.text == "Daniel"]
    assert len(set(model_labels)) > 1  # the model itself disagrees: the test is about something
    daniel = [m for m in tag.tag([page], CONFIG) if m.text == "Daniel"]
    assert {m.label for m in daniel} == {"PERSON"}
    assert tag.BY_VOTE in {m.tagged_by for m in daniel}


def test_news_gold_points_into_the_pages_and_keeps_a_third_apart():
    gold = news_gold.load_news_gold()  # raises if a row does not point at its text in the page
    held_out = news_gold.held_out_pages()
    assert len(gold) >= 25 and set(held_out) <= set(gold) and len(held_out) == len(gold) // 3
    assert sum(len(m) for m in gold.values()) > 400


def test_news_development_floor():
    """Generic rules on news of other topics: better than bare spaCy, no false joins to speak of."""
    articles, news = news_gold.news_gold("development", CONFIG)
    gold = Gold(articles, CONFIG, news)
    bare, _ = gold.system(entity_bench.bare_mentions(entity_bench.bare_model(CONFIG), articles, CONFIG))
    aliases = load_aliases(CONFIG.entity_aliases).without_labels(entity_bench.GENERIC_ONLY)
    items, ids = gold.system(entity_bench.ours(articles, CONFIG, aliases))
    assert mention_prf(gold.items, items).f1 >= mention_prf(gold.items, bare).f1 + 0.08
    assert pair_prf(gold.group, ids).precision >= 0.99


def test_expectation_value_sets_are_the_codes_own():
    import json

    suite = json.loads((REPO / "expectations" / "entities.json").read_text())
    sets = {e["kwargs"]["column"]: e["kwargs"]["value_set"] for e in suite["expectations"]
            if e["type"] == "expect_column_values_to_be_in_set"
            and e["kwargs"]["column"] in ("resolution", "tagged_by")}
    assert sets == {"resolution": list(resolve.RESOLUTIONS), "tagged_by": list(tag.TAGGED_BY)}


@pytest.mark.parametrize("a,b,loose,same", [
    ("Nursultan Nazarbayev", "Nursultan Nazerbayev", False, True),  # vowels vary in transliteration
    ("Nursultan Nazerbayev", "Nursutlan Nazerbayev", False, True),  # a misspelt given name
    ("Michael Scherer", "Michael Shermer", True, False),  # consonants differ: two people
    ("Michael Specter", "Michael Spencer", True, False),
    ("Nigella Lawson", "Nigel Lawson", True, False),  # daughter and father
    ("Christina Green", "Christian Green", True, False),
    ("A. J. Green", "Alex Green", False, False),  # an initial under a common surname
    ("Gene A. Bunin", "Gene Bunin", True, True),  # a middle initial under a rare one
    ("John D. Cook", "John Cook", False, False),
])
def test_people_join_only_behind_the_guard_rails(a, b, loose, same):
    pa, pb = (PersonName.from_key(name_key(n, "PERSON")) for n in (a, b))
    assert (same_person(pa, pb, CONFIG.person_name_min_similarity, loose) is not None) is same


def test_common_given_names_and_lowercase_acronyms_stay_apart():
    def name(article_id: str, text: str, label: str = "PERSON") -> Mention:
        return Mention(article_id, 0, 0, len(text), text, label, text, "")

    mentions = [name("a1", "Tim Ferriss"), name("a1", "Tim"),  # "Tim" may be anybody: Tim O'Reilly
                name("a2", "Aliya Zholboldina"), name("a2", "Aliya"),  # a rare given name is her
                name("a3", "US", "GPE"), name("a4", "United States", "GPE"),
                name("a5", "Us", "GPE"),  # Us Weekly, "Join Us": not the acronym
                name("a6", "CCP", "ORG")]  # CCP Games: no other of the corpus's entities around
    ids = [m.entity_id for m in resolved_mentions(mentions)[0]]
    assert ids[0] != ids[1] and ids[2] == ids[3]
    assert ids[4] == ids[5] != ids[6]
    party = [m for m in resolved_mentions(mentions + [name("a6", "Xinjiang", "GPE")])[0] if m.text == "CCP"]
    assert party[0].canonical_name == "Chinese Communist Party"
    assert resolved_mentions(mentions)[0][-1].canonical_name == "CCP"
