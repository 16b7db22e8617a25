"""The tables stage: prepared documents and the corpus steps' results -> rows of the published
tables (shaped by pipeline.core.schema), a bucket of articles at a time (pipeline.core.layout).
Assembly, and the cheap flags on what the stages decided (hygiene.article_flags)."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Mapping

import pyarrow as pa

from pipeline.core import schema
from pipeline.core.config import PipelineConfig
from pipeline.core.records import Article, DocumentSignals, Rejected
from pipeline.core.stage import CORPUS, Stage
from pipeline.core.textutil import count_words
from pipeline.stages.entities.tag import taggable
from pipeline.stages.hygiene import signals as hygiene
from pipeline.stages.hygiene.dedupe import DuplicateInfo, content_hash
from pipeline.stages.prepare import Prepared

# The tables built from prepared documents, a bucket of articles at a time.
ARTICLE_TABLES = ("articles", "paragraphs", "boilerplate")


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


def article_tables(prepared: list[Prepared], duplicates: Mapping[str, DuplicateInfo],
                   signals: Mapping[str, DocumentSignals], paragraph_holders: Counter[bytes],
                   config: PipelineConfig) -> dict[str, pa.Table]:
    """The articles, paragraphs and boilerplate rows of some prepared documents (one bucket
    of the layout, or all of them).

    `duplicates`: the duplicates stage's clusters; `signals`: each article's hygiene signals;
    `paragraph_holders`: hygiene.paragraph_counts of the corpus.
    """
    prepared = sorted(prepared, key=lambda d: d.article.article_id)  # rows come in key order: no sorted copy
    paragraphs = _columns(schema.PARAGRAPHS)
    for document in prepared:
        a = document.article
        tagged_paragraphs = {index for index, _ in taggable(a, config)}
        repeats = hygiene.repeat_counts(paragraph_holders, hygiene.paragraph_keys(p.paragraph_hash for p in a.paragraphs))
        for p, n_articles in zip(a.paragraphs, repeats):
            _append(paragraphs, article_id=a.article_id, paragraph_index=p.index, text=p.text,
                    char_start=p.char_start, char_end=p.char_end, n_words=count_words(p.text),
                    language=p.language, paragraph_hash=p.paragraph_hash,
                    n_articles_with_paragraph=n_articles,
                    ner_tagged=p.index in tagged_paragraphs)
    return {
        "articles": schema.to_arrow(schema.ARTICLES, [
            article_row(d.article, duplicates.get(d.article.article_id), signals[d.article.article_id], config)
            for d in prepared]),
        "paragraphs": schema.columns_to_arrow(schema.PARAGRAPHS, paragraphs),
        # A chunk per article, never copied (storage.parquet writes the same bytes for any chunking).
        "boilerplate": pa.Table.from_batches([d.boilerplate for d in prepared], schema=schema.BOILERPLATE.schema),
    }


def quarantine_table(rejected: list[Rejected]) -> pa.Table:
    return schema.to_arrow(schema.QUARANTINE, [
        {"source_path": r.source_path, "source_sha256": r.source_sha256, "stage": r.stage,
         "reason": r.reason, "detail": r.detail} for r in rejected])


TABLES = Stage(
    "tables", "tables_v2", CORPUS, article_tables,
    reads=("is_paraphrased_min_traces", "is_paraphrased_min_score", "is_short_below_words",
           "is_mostly_boilerplate_above_ratio", "is_mostly_non_english_below_share",
           "is_mostly_numbers_above_share", "ner_languages"))
