"""Records -> the published Arrow tables (rows shaped by pipeline.schema)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
        "input_kind": article.extracted.input_kind,
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


def boilerplate_batch(article: Article) -> pa.RecordBatch:
    """The article's rows of the boilerplate table: every block with its verdict, kept ones too,
    so `pipeline explain` can show a whole page. A run keeps these instead of the blocks."""
    columns = _columns(schema.BOILERPLATE)
    for block in article.extracted.blocks:
        _append(columns, article_id=article.article_id, block_index=block.index, text=block.text,
                role=block.role, kept=block.kept, reason=block.reason, extractor=article.extracted.extractor,
                input_kind=article.extracted.input_kind, input_kind_reason=article.extracted.input_kind_reason)
    return pa.RecordBatch.from_pydict(columns, schema=schema.BOILERPLATE.schema)


def boilerplate_table(batches: dict[str, pa.RecordBatch]) -> pa.Table:
    """The boilerplate table from each article's boilerplate_batch, by article_id."""
    # In key order, so no sort; a chunk per article, never copied (storage.parquet writes
    # the same bytes for any chunking).
    return pa.Table.from_batches([batches[a] for a in sorted(batches)], schema=schema.BOILERPLATE.schema)


# The entities table's columns that resolve fills in; tag gives the others.
RESOLVED_COLUMNS = ("canonical_name", "entity_id", "resolution")
TAGGED_SCHEMA = pa.schema([f for f in schema.ENTITIES.schema if f.name not in RESOLVED_COLUMNS])


def mention_batch(mentions: list[Mention]) -> pa.RecordBatch:
    """Tagged mentions as Arrow rows: a corpus's million mentions as objects would take GBs."""
    return pa.RecordBatch.from_pydict({name: [getattr(m, name) for m in mentions] for name in TAGGED_SCHEMA.names},
                                      schema=TAGGED_SCHEMA)


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    """Each value's index among the column's distinct values, and those values."""
    values = pc.unique(column)
    return pc.index_in(column, value_set=values).to_numpy().astype(np.int64), values.to_pylist()


def resolve_mentions(tagged: pa.Table, published: dict[str, str | None], config: PipelineConfig) -> tuple[pa.Table, pa.Table]:
    """(entities, entity_catalog) tables from the tagged mentions of the whole corpus, in mention order.

    Resolution runs once per distinct (article, label, text), in order of first mention
    (resolve.NameInArticle), and its outcome is copied to every mention of it.
    """
    (article, articles), (label, labels), (text, texts) = (
        _codes(tagged[c]) for c in ("article_id", "label", "text"))
    key = (article * (label.max(initial=0) + 1) + label) * (text.max(initial=0) + 1) + text
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # distinct names by first mention
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    name_of_mention = rank[inverse.reshape(-1)]
    counts = np.bincount(name_of_mention, minlength=len(order)).tolist()
    rows = first[order]
    # Each distinct string once in memory: a name's text repeats across thousands of articles.
    found = [resolve.NameInArticle(articles[a], labels[lab], texts[t], n) for a, lab, t, n in
             zip(article[rows].tolist(), label[rows].tolist(), text[rows].tolist(), counts)]
    resolved = resolve.Resolver(config).resolve_names(found)
    entities = tagged
    for name, values in (("canonical_name", [r.canonical_name for r in resolved]),
                         ("entity_id", [r.entity_id for r in resolved]),
                         ("resolution", [r.how for r in resolved])):
        entities = entities.append_column(schema.ENTITIES.schema.field(name),
                                          pa.array(values, pa.string()).take(name_of_mention))
    catalog = schema.to_arrow(schema.ENTITY_CATALOG, resolve.entity_catalog_rows(found, resolved, published))
    return schema.sorted_table(schema.ENTITIES, entities.select(schema.ENTITIES.schema.names)), catalog


def build_tables(articles: list[Article], rejected: list[Rejected],
                 mentions: list[Mention] | pa.Table | tuple[pa.Table, pa.Table],
                 signals: dict[str, DocumentSignals] | None = None,
                 config: PipelineConfig | None = None, boilerplate: pa.Table | None = None) -> dict[str, pa.Table]:
    """The published tables. `signals` (article_id -> hygiene.document_signals) may come from a
    cache; missing ones are computed here. Duplicate clusters, repeated-paragraph counts and
    entities depend on the whole corpus, so they are always computed here.
    `mentions`: tag's, in article order, as Mention records or as a table of mention_batch rows;
    or resolve_mentions' (entities, entity_catalog), resolved beforehand.
    `boilerplate`: the boilerplate_table, when the articles' blocks were dropped to save memory."""
    config = config or PipelineConfig()
    if isinstance(mentions, tuple):
        entities, catalog = mentions
    else:
        tagged = mentions if isinstance(mentions, pa.Table) else pa.Table.from_batches([mention_batch(mentions)])
        entities, catalog = resolve_mentions(tagged, {a.article_id: a.published_date for a in articles}, config)
        del tagged
    del mentions
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
        tagged_paragraphs = {index for index, _ in taggable(a, config)}
        for p in a.paragraphs:
            _append(paragraphs, article_id=a.article_id, paragraph_index=p.index, text=p.text,
                    char_start=p.char_start, char_end=p.char_end, n_words=count_words(p.text),
                    language=p.language, paragraph_hash=p.paragraph_hash,
                    n_articles_with_paragraph=holders[p.paragraph_hash], ner_tagged=p.index in tagged_paragraphs)
    return {
        "articles": schema.to_arrow(schema.ARTICLES, [
            article_row(a, duplicates.get(a.article_id), signals[a.article_id], config) for a in articles]),
        "paragraphs": schema.columns_to_arrow(schema.PARAGRAPHS, paragraphs),
        "entities": entities,
        "entity_catalog": catalog,
        "boilerplate": boilerplate if boilerplate is not None else boilerplate_table(
            {a.article_id: boilerplate_batch(a) for a in articles}),
        "quarantine": schema.to_arrow(schema.QUARANTINE, [
            {"source_path": r.source_path, "source_sha256": r.source_sha256, "stage": r.stage,
             "reason": r.reason, "detail": r.detail} for r in rejected]),
    }
