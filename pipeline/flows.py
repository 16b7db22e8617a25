"""Prefect wiring only: stages run as tasks over shards of documents, never one per document."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipeline.config import DEFAULT_SHARD_SIZE, PipelineConfig
from pipeline.corpus import build_tables
from pipeline.documents import prepare_document
from pipeline.manifest import build_manifest
from pipeline.records import Article, Mention, Rejected
from pipeline.run import RunSummary
from pipeline.stages import ingest, tag, validate
from pipeline.storage.versions import VersionStore


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
    get_run_logger().info(message)


@task(name="prepare-shard", cache_policy=NO_CACHE, persist_result=False)
def prepare_shard(seeds_dir: str, paths: list[str], config: PipelineConfig) -> list[Article | Rejected]:
    """ingest, extract and normalize each document of one shard."""
    return [prepare_document(Path(seeds_dir), path, config) for path in paths]


@task(name="tag-shard", cache_policy=NO_CACHE, persist_result=False)
def tag_shard(articles: list[Article], config: PipelineConfig) -> list[Mention]:
    return tag.tag(articles, config)


@task(name="validate", cache_policy=NO_CACHE, persist_result=False)
def validate_tables(tables, n_inputs: int, suites_dir: Path):
    return validate.validate_tables(tables, n_inputs, suites_dir)


@task(name="publish", cache_policy=NO_CACHE, persist_result=False)
def publish(data_dir: str, tables, manifest: dict, move_latest: bool):
    return VersionStore(Path(data_dir)).publish(tables, manifest, move_latest)


def _shards(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


@flow(name="news-corpus", persist_result=False, log_prints=False)
def corpus_flow(seeds_dir: str, data_dir: str, shard_size: int = DEFAULT_SHARD_SIZE,
                config: PipelineConfig | None = None, expectations_dir: str | None = None) -> RunSummary:
    started = time.perf_counter()
    config = config or PipelineConfig()
    suites_dir = Path(expectations_dir) if expectations_dir else validate.SUITES_DIR
    paths = ingest.discover(Path(seeds_dir))
    _progress(f"found {len(paths)} input files under {seeds_dir}")

    shards = _shards(paths, max(1, shard_size))
    prepared = [prepare_shard.submit(seeds_dir, shard, config) for shard in shards]
    articles: list[Article] = []
    rejected: list[Rejected] = []
    tagging = []
    for done, future in enumerate(prepared, start=1):
        shard_articles = []
        for outcome in future.result():
            (shard_articles if isinstance(outcome, Article) else rejected).append(outcome)
        articles.extend(shard_articles)
        tagging.append(tag_shard.submit(shard_articles, config))
        _progress(f"extract+normalize: shard {done}/{len(shards)} "
                  f"({len(articles)} articles, {len(rejected)} quarantined)")
    mentions: list[Mention] = []
    for done, future in enumerate(tagging, start=1):
        mentions.extend(future.result())
        _progress(f"tag: shard {done}/{len(tagging)} ({len(mentions)} mentions)")

    tables = build_tables(articles, rejected, mentions)
    report = validate_tables(tables, len(paths), suites_dir)
    _progress(f"validate: {'passed' if report.success else 'FAILED'} "
              f"({len(report.outcomes)} expectations, {len(report.failures)} failed)")
    manifest = build_manifest(articles, rejected, config, suites_dir, report)
    result = publish(data_dir, tables, manifest, move_latest=report.success)
    VersionStore(Path(data_dir)).record_run({
        "version_id": result.version_id, "created": result.created, "latest_moved": result.latest_moved,
        "validation_success": report.success, "inputs": len(paths), "articles": len(articles),
        "quarantined": len(rejected)})
    return RunSummary(
        seeds_dir=seeds_dir,
        data_dir=data_dir,
        n_inputs=len(paths),
        n_articles=len(articles),
        n_paragraphs=tables["paragraphs"].num_rows,
        n_mentions=tables["entities"].num_rows,
        quarantined=sorted((r.source_path, r.stage, r.reason) for r in rejected),
        validation_success=report.success,
        validation_failures=[] if report.success else report.summary_lines(),
        version_id=result.version_id,
        version_created=result.created,
        latest_moved=result.latest_moved,
        tables_dir=str(result.path),
        elapsed_s=time.perf_counter() - started,
    )
