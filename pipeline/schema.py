"""The single definition of every published table: columns, types, descriptions, sort keys.

Each field's description is stored in the Parquet schema (field metadata key b"description"),
so `pyarrow.parquet.read_schema(path)` documents the file it came with.
"""
from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


def _field(name: str, type_: pa.DataType, description: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={b"description": description.encode()})


@dataclass(frozen=True)
class Table:
    name: str
    schema: pa.Schema
    sort_keys: tuple[str, ...]  # stable row order: published files are byte-identical across runs


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
        _field("boilerplate_ratio", pa.float64(),
               "Share of the page's characters that extraction removed (0..1).", False),
        _field("content_sha256", pa.string(), "SHA-256 of the normalized text.", False),
        _field("duplicate_of", pa.string(),
               "article_id of the earliest article with identical normalized text; null if none."),
        _field("near_duplicate_cluster", pa.string(), "Near-duplicate cluster id; null until computed."),
    ]),
    ("article_id",),
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
    ]),
    ("article_id", "paragraph_index"),
)

ENTITIES = Table(
    "entities",
    pa.schema([
        _field("article_id", pa.string(), "Article of the mention.", False),
        _field("paragraph_index", pa.int32(), "Paragraph of the mention.", False),
        _field("char_start", pa.int32(), "Start offset in the paragraph text.", False),
        _field("char_end", pa.int32(), "End offset (exclusive); text == paragraph.text[char_start:char_end].", False),
        _field("text", pa.string(), "Mention as written.", False),
        _field("label", pa.string(), "spaCy entity label (PERSON, ORG, GPE, ...).", False),
        _field("canonical_name", pa.string(), "Cleaned name shared by mentions of one entity.", False),
        _field("entity_id", pa.string(), "Stable id derived from canonical_name and label.", False),
    ]),
    ("article_id", "paragraph_index", "char_start", "char_end", "label"),
)

BOILERPLATE = Table(
    "boilerplate",
    pa.schema([
        _field("article_id", pa.string(), "Article the block was removed from.", False),
        _field("block_index", pa.int32(), "0-based position of the block in the page.", False),
        _field("text", pa.string(), "The removed block.", False),
        _field("reason", pa.string(), "Why the extractor removed it.", False),
        _field("extractor", pa.string(), "Extractor name and version.", False),
    ]),
    ("article_id", "block_index"),
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

TABLES: dict[str, Table] = {t.name: t for t in (ARTICLES, PARAGRAPHS, ENTITIES, BOILERPLATE, QUARANTINE)}


def to_arrow(table: Table, rows: list[dict]) -> pa.Table:
    """Rows (dicts) to an Arrow table with the table's schema, sorted by its keys."""
    data = pa.Table.from_pylist(rows, schema=table.schema)
    if data.num_rows:
        data = data.sort_by([(k, "ascending") for k in table.sort_keys])
    return data
