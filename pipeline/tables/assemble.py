"""The tables stage: the corpus's records and the corpus steps' results -> the published Arrow
tables (rows shaped by pipeline.core.schema). Assembly, and the cheap counts and flags on
what the stages decided (hygiene.article_flags, hygiene.paragraph_counts)."""
from __future__ import annotations

import datetime as dt
from typing import Any, Mapping

import pyarrow as pa

from pipeline.core import schema
from pipeline.core.config import PipelineConfig
from pipeline.core.records import Article, DocumentSignals, Rejected
from pipeline.core.stage import CORPUS, Stage
from pipeline.core.textutil import count_words
from pipeline.stages.entities.tag import taggable
from pipeline.stages.hygiene import signals as hygiene
from pipeline.stages.hygiene.dedupe import DuplicateInfo, content_hash
from pipeline.stages.hygiene.signals import SIGNALS


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def article_row(article: Article, duplicate: DuplicateInfo | None, signals: DocumentSignals,
                config: PipelineConfig) -> dict:
    source = article.extracted.source
    ratio = article.boilerplate_ratio
    return {
        "article_id": article.article_id,
        "source_path": source.path,
        "source_sha256": source.sha256,
        "source_format": source.format,
        "encoding": source.encoding,
        "title": article.title,
        "author": article.author,
        "published_date": _date(article.published_date),
        "site_name": article.site_name,
        "url": article.url,
        "language": article.language,
        "text": article.text,
        "n_paragraphs": len(article.paragraphs),
        "n_words": count_words(article.text),
        "n_chars": len(article.text),
        "extractor": article.extracted.extractor,
        "input_kind": article.extracted.input_kind,
        "boilerplate_ratio": ratio,
        "content_sha256": content_hash(article),
        "duplicate_of": duplicate.duplicate_of if duplicate else None,
        "near_duplicate_cluster": duplicate.cluster if duplicate else None,
        "near_duplicate_similarity": duplicate.similarity if duplicate else None,
        **hygiene.article_flags(signals, ratio, config),
    }


def _columns(table: schema.Table) -> dict[str, list]:
    """One empty list per column of the table: rows of millions of paragraphs cost no dict each."""
    return {name: [] for name in table.schema.names}


def _append(columns: dict[str, list], **row) -> None:
    for name, values in columns.items():
        values.append(row[name])


def boilerplate_table(batches: dict[str, pa.RecordBatch]) -> pa.Table:
    """The boilerplate table from each article's prepare.boilerplate_batch, by article_id."""
    # In key order, so no sort; a chunk per article, never copied (storage.parquet writes
    # the same bytes for any chunking).
    return pa.Table.from_batches([batches[a] for a in sorted(batches)], schema=schema.BOILERPLATE.schema)


def build_tables(articles: list[Article], rejected: list[Rejected], entities: tuple[pa.Table, pa.Table],
                 outputs: Mapping[str, Mapping[str, Any]], duplicates: dict[str, DuplicateInfo],
                 boilerplate: pa.Table, config: PipelineConfig) -> dict[str, pa.Table]:
    """The published tables.

    `entities`: resolve's (entities, entity_catalog); `outputs`: the article stages' outputs
    other than tag's, by stage name and article_id; `duplicates`: the duplicates stage's
    clusters; `boilerplate`: boilerplate_table of the prepared documents.
    """
    signals = outputs[SIGNALS.name]
    articles = sorted(articles, key=lambda a: a.article_id)  # rows then come in key order: no sorted copy
    holders = hygiene.paragraph_counts(articles)
    paragraphs = _columns(schema.PARAGRAPHS)
    for a in articles:
        tagged_paragraphs = {index for index, _ in taggable(a, config)}
        for p in a.paragraphs:
            _append(paragraphs, article_id=a.article_id, paragraph_index=p.index, text=p.text,
                    char_start=p.char_start, char_end=p.char_end, n_words=count_words(p.text),
                    language=p.language, paragraph_hash=p.paragraph_hash,
                    n_articles_with_paragraph=holders[p.paragraph_hash], ner_tagged=p.index in tagged_paragraphs)
    entity_rows, catalog = entities
    return {
        "articles": schema.to_arrow(schema.ARTICLES, [
            article_row(a, duplicates.get(a.article_id), signals[a.article_id], config) for a in articles]),
        "paragraphs": schema.columns_to_arrow(schema.PARAGRAPHS, paragraphs),
        "entities": entity_rows,
        "entity_catalog": catalog,
        "boilerplate": boilerplate,
        "quarantine": schema.to_arrow(schema.QUARANTINE, [
            {"source_path": r.source_path, "source_sha256": r.source_sha256, "stage": r.stage,
             "reason": r.reason, "detail": r.detail} for r in rejected]),
    }


TABLES = Stage(
    "tables", "tables_v1", CORPUS, build_tables,
    reads=("is_paraphrased_min_traces", "is_paraphrased_min_score", "is_short_below_words",
           "is_mostly_boilerplate_above_ratio", "is_mostly_non_english_below_share",
           "is_mostly_numbers_above_share", "ner_languages"))
