"""Records -> the published Arrow tables (rows shaped by pipeline.schema)."""
from __future__ import annotations

import datetime as dt

import pyarrow as pa

from pipeline import schema
from pipeline.config import PipelineConfig
from pipeline.records import Article, DocumentSignals, Mention, Rejected
from pipeline.stages import hygiene, resolve
from pipeline.stages.dedupe import DuplicateInfo, content_hash, duplicate_clusters
from pipeline.stages.tag import taggable
from pipeline.textutil import count_words


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
        "boilerplate_ratio": ratio,
        "content_sha256": content_hash(article),
        "duplicate_of": duplicate.duplicate_of if duplicate else None,
        "near_duplicate_cluster": duplicate.cluster if duplicate else None,
        "near_duplicate_similarity": duplicate.similarity if duplicate else None,
        **hygiene.article_flags(signals, ratio, config),
    }


def _columns(table: schema.Table) -> dict[str, list]:
    """One empty list per column of the table: rows of millions of blocks cost no dict each."""
    return {name: [] for name in table.schema.names}


def _append(columns: dict[str, list], **row) -> None:
    for name, values in columns.items():
        values.append(row[name])


def boilerplate_table(articles: list[Article]) -> pa.Table:
    """Every block with its verdict, kept ones too, so `pipeline explain` can show a whole page."""
    columns = _columns(schema.BOILERPLATE)
    for a in sorted(articles, key=lambda a: a.article_id):  # rows in key order: no sorted copy
        for block in a.extracted.blocks:
            _append(columns, article_id=a.article_id, block_index=block.index, text=block.text,
                    role=block.role, kept=block.kept, reason=block.reason, extractor=a.extracted.extractor)
    return schema.columns_to_arrow(schema.BOILERPLATE, columns)


def build_tables(articles: list[Article], rejected: list[Rejected], mentions: list[Mention],
                 signals: dict[str, DocumentSignals] | None = None,
                 config: PipelineConfig | None = None, boilerplate: pa.Table | None = None) -> dict[str, pa.Table]:
    """The published tables. `signals` (article_id -> hygiene.document_signals) may come from a
    cache; missing ones are computed here. Duplicate clusters and repeated-paragraph counts
    depend on the whole corpus, so they are always computed here, from the signals.
    `boilerplate`: the boilerplate_table, when the articles' blocks were dropped to save memory."""
    config = config or PipelineConfig()
    articles = sorted(articles, key=lambda a: a.article_id)  # rows then come in key order: no sorted copy
    signals = dict(signals or {})
    for article in articles:
        if article.article_id not in signals:
            signals[article.article_id] = hygiene.document_signals(article, config)
    duplicates = duplicate_clusters(articles, {a.article_id: signals[a.article_id].minhash for a in articles},
                                    config)
    holders = hygiene.paragraph_counts(articles)
    paragraphs = _columns(schema.PARAGRAPHS)
    for a in articles:
        tagged = {index for index, _ in taggable(a, config)}
        for p in a.paragraphs:
            _append(paragraphs, article_id=a.article_id, paragraph_index=p.index, text=p.text,
                    char_start=p.char_start, char_end=p.char_end, n_words=count_words(p.text),
                    language=p.language, paragraph_hash=p.paragraph_hash,
                    n_articles_with_paragraph=holders[p.paragraph_hash], ner_tagged=p.index in tagged)
    # One canonical entity per real entity needs every article's mentions at once.
    entities = resolve.resolve(mentions, config)
    mention_columns = {name: [getattr(m, name) for m in entities] for name in schema.ENTITIES.schema.names}
    return {
        "articles": schema.to_arrow(schema.ARTICLES, [
            article_row(a, duplicates.get(a.article_id), signals[a.article_id], config) for a in articles]),
        "paragraphs": schema.columns_to_arrow(schema.PARAGRAPHS, paragraphs),
        "entities": schema.columns_to_arrow(schema.ENTITIES, mention_columns),
        "entity_catalog": schema.to_arrow(schema.ENTITY_CATALOG, resolve.catalog_rows(entities, articles)),
        "boilerplate": boilerplate if boilerplate is not None else boilerplate_table(articles),
        "quarantine": schema.to_arrow(schema.QUARANTINE, [
            {"source_path": r.source_path, "source_sha256": r.source_sha256, "stage": r.stage,
             "reason": r.reason, "detail": r.detail} for r in rejected]),
    }
