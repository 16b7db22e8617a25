"""The per-document stages as Prefect tasks over a shard of documents.

Worker processes (a process per core, Dask workers) import only this module, so it imports
only what the shards need: not the corpus-level steps (GX tables, report, publishing).
"""
from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from pipeline.config import PipelineConfig
from pipeline.documents import prepare_document
from pipeline.records import Article, DocumentSignals, Mention, Rejected
from pipeline.stages import hygiene, tag


@task(name="prepare-shard", cache_policy=NO_CACHE, persist_result=False)
def prepare_shard(seeds_dir: str, paths: list[str], config: PipelineConfig) -> list[Article | Rejected]:
    """ingest, extract and normalize each document of one shard."""
    return [prepare_document(Path(seeds_dir), path, config) for path in paths]


@task(name="tag-shard", cache_policy=NO_CACHE, persist_result=False)
def tag_shard(articles: list[Article], config: PipelineConfig) -> dict[str, list[Mention]]:
    """article_id -> its mentions (empty lists too: "no entities" is a result worth keeping)."""
    found: dict[str, list[Mention]] = {a.article_id: [] for a in articles}
    for mention in tag.tag(articles, config):
        found[mention.article_id].append(mention)
    return found


@task(name="signals-shard", cache_policy=NO_CACHE, persist_result=False)
def signals_shard(articles: list[Article], config: PipelineConfig) -> dict[str, DocumentSignals]:
    return {a.article_id: hygiene.document_signals(a, config) for a in articles}
