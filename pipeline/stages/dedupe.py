"""dedupe: corpus-wide duplicate flags (flag, never delete)."""
from __future__ import annotations

from pipeline.records import Article
from pipeline.textutil import sha256_hex

STAGE = "dedupe"


def content_hash(article: Article) -> str:
    return sha256_hex(article.text)


def _precedence(article: Article) -> tuple[str, str]:
    # The earliest published copy represents the group; undated ones come after dated ones.
    return (article.published_date or "9999-99-99", article.extracted.source.path)


def exact_duplicates(articles: list[Article]) -> dict[str, str]:
    """article_id -> article_id of the group's representative, for every non-representative.

    Independent of input order: the representative is chosen by date, then source path.
    """
    representative: dict[str, Article] = {}
    for article in sorted(articles, key=_precedence):
        representative.setdefault(content_hash(article), article)
    return {
        a.article_id: rep.article_id
        for a in articles
        if (rep := representative[content_hash(a)]).article_id != a.article_id
    }
