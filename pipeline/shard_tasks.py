"""The per-document stages as Prefect tasks over a shard of documents.

Worker processes (a process per core, Dask workers) import only this module, so it imports
only what the shards need: not the corpus-level steps (GX tables, report, publishing).
"""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from prefect import task
from prefect.cache_policies import NO_CACHE

from pipeline.config import PipelineConfig
from pipeline.corpus import mention_batch
from pipeline.documents import Prepared, prepare_for_run
from pipeline.records import Article, DocumentSignals, Rejected
from pipeline.stages import hygiene, tag


class ShardArticles:
    """A shard's articles as one opaque task argument.

    Prefect walks list and dataclass arguments element by element looking for futures: a
    tenth of a tagging worker's time. It does not open other objects, and Dask does not read
    them as task specs (as it reads a `quote`, a tuple).
    """

    __slots__ = ("articles",)

    def __init__(self, articles: list[Article]):
        self.articles = articles


@task(name="prepare-shard", cache_policy=NO_CACHE, persist_result=False)
def prepare_shard(seeds_dir: str, paths: list[str], config: PipelineConfig) -> list[Prepared | Rejected]:
    """ingest, extract and normalize each document of one shard."""
    return [prepare_for_run(Path(seeds_dir), path, config) for path in paths]


@task(name="tag-shard", cache_policy=NO_CACHE, persist_result=False)
def tag_shard(shard: ShardArticles, config: PipelineConfig) -> dict[str, pa.RecordBatch]:
    """article_id -> its mentions as corpus.mention_batch rows (empty ones too: "no entities"
    is a result worth keeping)."""
    found: dict[str, list] = {a.article_id: [] for a in shard.articles}
    for mention in tag.tag(shard.articles, config):
        found[mention.article_id].append(mention)
    return {article_id: mention_batch(mentions) for article_id, mentions in found.items()}


@task(name="signals-shard", cache_policy=NO_CACHE, persist_result=False)
def signals_shard(shard: ShardArticles, config: PipelineConfig) -> dict[str, DocumentSignals]:
    return {a.article_id: hygiene.document_signals(a, config) for a in shard.articles}
