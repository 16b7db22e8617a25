"""The single definition of every published table: columns, types, descriptions, sort keys.

Each field's description is stored in the Parquet schema (field metadata key b"description"),
so `pyarrow.parquet.read_schema(path)` documents the file it came with.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _field(name: str, type_: pa.DataType, description: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={b"description": description.encode()})


@dataclass(frozen=True)
class Table:
    name: str
    schema: pa.Schema
    sort_keys: tuple[str, ...]  # stable row order: published files are byte-identical across runs
    # Rows are stored in parts by this column (pipeline.core.layout); None: one part.
    partition_key: str | None = None


ARTICLES = Table(
    "articles",
    pa.schema([
        _field("article_id", pa.string(), "Stable id derived from source_path.", False),
        _field("source_path", pa.string(), "Input file, relative to the seeds folder (POSIX).", False),
        _field("source_sha256", pa.string(), "SHA-256 of the input file's bytes.", False),
        _field("source_format", pa.string(), "'html' or 'text' (plain-text page dump).", False),
        _field("encoding", pa.string(), "Encoding the input was decoded with.", False),
        _field("title", pa.string(), "Headline, when found."),
        _field("author", pa.string(), "Author or byline, when found."),
        _field("published_date", pa.date32(), "Publication date of the page, when found."),
        _field("site_name", pa.string(), "Site or publisher name, when found."),
        _field("url", pa.string(), "Canonical URL, when found."),
        _field("language", pa.string(), "ISO 639-1 code detected on the article text.", False),
        _field("text", pa.string(), "Body text: paragraphs joined by one blank line.", False),
        _field("n_paragraphs", pa.int32(), "Number of paragraphs.", False),
        _field("n_words", pa.int32(), "Number of \\w+ tokens in text.", False),
        _field("n_chars", pa.int32(), "Length of text in characters.", False),
        _field("extractor", pa.string(), "Extractor name and version that produced the body.", False),
        _field("input_kind", pa.string(),
               "What the input was: 'html', 'page_dump' (a whole page's text with site chrome) or "
               "'clean_text' (already an article); the boilerplate table says why.", False),
        _field("boilerplate_ratio", pa.float64(),
               "Share of the page's characters that extraction removed (0..1).", False),
        _field("content_sha256", pa.string(), "SHA-256 of the normalized text.", False),
        _field("duplicate_of", pa.string(),
               "article_id of the representative of this article's duplicate cluster (exact or near "
               "copies; the earliest by published_date, then source_path); null for the representative "
               "and for articles without copies. Count each story once: duplicate_of IS NULL."),
        _field("near_duplicate_cluster", pa.string(),
               "Id of the duplicate cluster (articles whose MinHash-estimated Jaccard similarity of word "
               "5-gram shingles reaches config near_duplicate_min_similarity, or with identical text), "
               "shared by all its members; null for articles without copies."),
        _field("near_duplicate_similarity", pa.float64(),
               "Estimated Jaccard similarity (0..1) with the cluster's representative (1.0 for the "
               "representative and exact copies); null outside clusters."),
        _field("english_share", pa.float64(),
               "Share of the article's words in paragraphs detected as English (0..1).", False),
        _field("paraphrase_score", pa.float64(),
               "Distinct traces of machine paraphrasing (synonym swaps that broke 'a'/'an' agreement or "
               "put a verb-only word in a noun, adjective or adverb slot) per 100 English words.", False),
        _field("paraphrase_traces", pa.int32(), "Number of distinct paraphrasing traces found.", False),
        _field("paraphrase_evidence", pa.string(),
               "The distinct traces, '; '-separated (e.g. 'an formal; demonstrate (NOUN)'); null if none."),
        _field("is_paraphrased", pa.bool_(),
               "Flag: likely machine-paraphrased ('spun'): paraphrase_traces and paraphrase_score reach "
               "config is_paraphrased_min_traces and is_paraphrased_min_score.", False),
        _field("is_short", pa.bool_(), "Flag: fewer words than config is_short_below_words.", False),
        _field("is_mostly_boilerplate", pa.bool_(),
               "Flag: boilerplate_ratio above config is_mostly_boilerplate_above_ratio (the story is a "
               "small part of its page).", False),
        _field("is_mostly_non_english", pa.bool_(),
               "Flag: english_share below config is_mostly_non_english_below_share.", False),
        _field("is_mostly_numbers", pa.bool_(),
               "Flag: more than config is_mostly_numbers_above_share of the words are numbers (a results "
               "table, a price list).", False),
    ]),
    ("article_id",),
    "article_id",
)

PARAGRAPHS = Table(
    "paragraphs",
    pa.schema([
        _field("article_id", pa.string(), "Article this paragraph belongs to.", False),
        _field("paragraph_index", pa.int32(), "0-based position in the article.", False),
        _field("text", pa.string(), "Paragraph text; equals articles.text[char_start:char_end].", False),
        _field("char_start", pa.int32(), "Start offset in the article text.", False),
        _field("char_end", pa.int32(), "End offset (exclusive) in the article text.", False),
        _field("n_words", pa.int32(), "Number of \\w+ tokens.", False),
        _field("language", pa.string(), "ISO 639-1 code detected on the paragraph.", False),
        _field("paragraph_hash", pa.string(), "SHA-256 of the casefolded, whitespace-collapsed text.", False),
        _field("n_articles_with_paragraph", pa.int32(),
               "Distinct articles holding a paragraph with this paragraph_hash (1: only this one; more: "
               "syndicated or repeated text).", False),
        _field("ner_tagged", pa.bool_(),
               "Whether the paragraph went to the NER model: its language is one the model knows "
               "(config ner_languages). Other paragraphs only get the corpus's known entities, found "
               "by their transliterated names (entities.tagged_by = 'catalog').", False),
    ]),
    ("article_id", "paragraph_index"),
    "article_id",
)

ENTITIES = Table(
    "entities",
    pa.schema([
        _field("article_id", pa.string(), "Article of the mention.", False),
        _field("paragraph_index", pa.int32(), "Paragraph of the mention.", False),
        _field("char_start", pa.int32(), "Start offset in the paragraph text.", False),
        _field("char_end", pa.int32(), "End offset (exclusive); text == paragraph.text[char_start:char_end].", False),
        _field("text", pa.string(), "Mention as written.", False),
        _field("label", pa.string(),
               "One of spaCy en_core_web_sm's 18 OntoNotes labels (PERSON, NORP, ORG, GPE, LOC, ...), "
               "as the model gave it or as the domain layer fixed it (tagged_by).", False),
        _field("canonical_name", pa.string(),
               "Name of the entity, shared by all its mentions in every article (entity_catalog).", False),
        _field("entity_id", pa.string(),
               "Stable id of the entity: same across runs and versions, unchanged by unrelated new "
               "documents; key into entity_catalog.", False),
        _field("resolution", pa.string(),
               "How the mention was linked to its entity: exact, normalized (spelling or "
               "transliteration variant), alias (alias file), variant (word order, function words, plural "
               "or nationality form, hyphen or space), fuzzy (misspelling), short_form (part of a "
               "full name in the same article), surname (lone surname of one known person), catalog (a "
               "known entity's name in a paragraph the model cannot read).", False),
        _field("tagged_by", pa.string(),
               "Where the span and label come from: model (spaCy as is), model+rules (span trimmed or "
               "label fixed by the domain layer), model+vote (the name's majority label in the article, "
               "by the model's own labels), aliases (found by the alias file), catalog (a known entity "
               "found by its transliterated name in a paragraph not in a language of the model).", False),
    ]),
    ("article_id", "paragraph_index", "char_start", "char_end", "label"),
    "article_id",
)

# The entities columns that resolve fills in; tag's per-document output has the others.
RESOLVED_COLUMNS = ("canonical_name", "entity_id", "resolution")
TAGGED = pa.schema([f for f in ENTITIES.schema if f.name not in RESOLVED_COLUMNS])

ENTITY_CATALOG = Table(
    "entity_catalog",
    pa.schema([
        _field("entity_id", pa.string(), "The entity (entities.entity_id).", False),
        _field("canonical_name", pa.string(), "Its name.", False),
        _field("label", pa.string(), "Its label.", False),
        _field("aliases", pa.list_(pa.string()),
               "Every distinct name its mentions use (cleaned: no possessive, title or leading 'the'), sorted.",
               False),
        _field("n_mentions", pa.int32(), "Number of its mentions (rows in entities).", False),
        _field("n_articles", pa.int32(), "Number of articles mentioning it.", False),
        _field("first_published", pa.date32(),
               "Earliest published_date of those articles; null if none has a date."),
        _field("last_published", pa.date32(), "Latest published_date of those articles; null if none has a date."),
    ]),
    ("entity_id",),
    "entity_id",
)

BOILERPLATE = Table(
    "boilerplate",
    pa.schema([
        _field("article_id", pa.string(), "Article the block belongs to.", False),
        _field("block_index", pa.int32(), "0-based position of the block in the page.", False),
        _field("text", pa.string(), "The block as it appears on the page (a dump line or paragraph).", False),
        _field("role", pa.string(),
               "Extractor's verdict: 'body' (story text), 'title', 'author', 'date', 'site' (read into the "
               "article's metadata) or 'boilerplate' (removed).", False),
        _field("kept", pa.bool_(), "False when the block was removed as boilerplate (role 'boilerplate').", False),
        _field("reason", pa.string(), "Why the extractor kept or removed it (`pipeline explain` prints it).", False),
        _field("extractor", pa.string(), "Extractor name and version.", False),
        _field("input_kind", pa.string(), "The article's input_kind (html, page_dump, clean_text).", False),
        _field("input_kind_reason", pa.string(), "Why extraction took the input for that kind.", False),
    ]),
    ("article_id", "block_index"),
    "article_id",
)

QUARANTINE = Table(
    "quarantine",
    pa.schema([
        _field("source_path", pa.string(), "Input file, relative to the seeds folder (POSIX).", False),
        _field("source_sha256", pa.string(), "SHA-256 of the bytes, when they could be read."),
        _field("stage", pa.string(), "Stage that rejected the input.", False),
        _field("reason", pa.string(), "Short reason code.", False),
        _field("detail", pa.string(), "Human-readable explanation.", False),
    ]),
    ("source_path",),
)

TABLES: dict[str, Table] = {t.name: t for t in (ARTICLES, PARAGRAPHS, ENTITIES, ENTITY_CATALOG, BOILERPLATE,
                                                 QUARANTINE)}


def to_arrow(table: Table, rows: list[dict]) -> pa.Table:
    """Rows (dicts) to an Arrow table with the table's schema, sorted by its keys."""
    return sorted_table(table, pa.Table.from_pylist(rows, schema=table.schema))


def columns_to_arrow(table: Table, columns: dict[str, list]) -> pa.Table:
    """Like to_arrow from one list per column: no dict per row, for the tables with millions of rows."""
    return sorted_table(table, pa.Table.from_pydict(columns, schema=table.schema))


def sorted_table(table: Table, data: pa.Table) -> pa.Table:
    """Rows in key order; rows that come in order are not copied (a second copy of the
    largest table is most of a big run's peak memory)."""
    if not data.num_rows:
        return data
    order = pc.sort_indices(data, sort_keys=[(k, "ascending") for k in table.sort_keys])
    if np.array_equal(order.to_numpy(), np.arange(data.num_rows)):
        return data
    return data.take(order)
