"""Records -> the published Arrow tables (rows shaped by pipeline.schema)."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict

import pyarrow as pa

from pipeline import schema
from pipeline.records import Article, Mention, Rejected
from pipeline.stages.dedupe import content_hash, exact_duplicates
from pipeline.textutil import count_words


def _boilerplate_ratio(article: Article) -> float:
    blocks = article.extracted.blocks
    total = sum(len(b.text) for b in blocks)
    removed = sum(len(b.text) for b in blocks if not b.kept)
    return round(removed / total, 6) if total else 0.0


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def article_row(article: Article, duplicate_of: str | None) -> dict:
    source = article.extracted.source
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
        "boilerplate_ratio": _boilerplate_ratio(article),
        "content_sha256": content_hash(article),
        "duplicate_of": duplicate_of,
        "near_duplicate_cluster": None,
    }


def build_tables(articles: list[Article], rejected: list[Rejected],
                 mentions: list[Mention]) -> dict[str, pa.Table]:
    duplicates = exact_duplicates(articles)
    paragraphs = [
        {"article_id": a.article_id, "paragraph_index": p.index, "text": p.text,
         "char_start": p.char_start, "char_end": p.char_end, "n_words": count_words(p.text),
         "language": p.language, "paragraph_hash": p.paragraph_hash}
        for a in articles for p in a.paragraphs
    ]
    boilerplate = [
        {"article_id": a.article_id, "block_index": b.index, "text": b.text,
         "reason": b.reason, "extractor": a.extracted.extractor}
        for a in articles for b in a.extracted.removed_blocks
    ]
    return {
        "articles": schema.to_arrow(schema.ARTICLES, [
            article_row(a, duplicates.get(a.article_id)) for a in articles]),
        "paragraphs": schema.to_arrow(schema.PARAGRAPHS, paragraphs),
        "entities": schema.to_arrow(schema.ENTITIES, [asdict(m) for m in mentions]),
        "boilerplate": schema.to_arrow(schema.BOILERPLATE, boilerplate),
        "quarantine": schema.to_arrow(schema.QUARANTINE, [
            {"source_path": r.source_path, "source_sha256": r.source_sha256, "stage": r.stage,
             "reason": r.reason, "detail": r.detail} for r in rejected]),
    }
