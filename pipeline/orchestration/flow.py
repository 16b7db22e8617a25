"""The Prefect flow: the registry's phases (pipeline.core.registry) wired into tasks.

Document stages run as shard tasks (pipeline.orchestration.tasks) over documents their cache
entries do not already hold (pipeline.orchestration.io); corpus stages run in this process,
the checks and publishing as tasks of their own. A run whose build key equals the latest
version's stops before any of it.

Large arguments go to tasks in a form Prefect does not walk element by element looking for
futures (which took minutes at 10,000 documents): tables and the manifest wrapped in `quote`,
a shard's inputs in `Shard`. Memory: while shard tasks run, this process keeps a
DocumentRow per article; prepared documents wait in the cache and come back once to build
the tables; worker processes stop after each phase (runners.release_workers).
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from pipeline.checks import documents as document_checks
from pipeline.checks import gx
from pipeline.checks import tables as table_checks
from pipeline.checks.documents import DocumentRow
from pipeline.core import manifest as manifests
from pipeline.core import registry, schema
from pipeline.core.config import DEFAULT_SHARD_SIZE, PipelineConfig
from pipeline.core.keys import KeyMaker, PlannedDocument, build_key
from pipeline.core.records import Rejected
from pipeline.core.stage import SOURCES, Stage
from pipeline.core.textutil import printable_path
from pipeline.orchestration.artifacts import publish_artifacts
from pipeline.orchestration.io import held_documents, run_article_stages, run_source_stage
from pipeline.orchestration.memory import return_freed_memory
from pipeline.orchestration.runners import release_workers, task_runner
from pipeline.orchestration.tasks import Shard, shard_task
from pipeline.reporting.report import write_report
from pipeline.reporting.summary import RunSummary, StageCounts
from pipeline.stages import ingest
from pipeline.stages.entities import resolve, tag
from pipeline.stages.hygiene import dedupe, signals
from pipeline.storage.cache import DocumentCache, HeldOutputs
from pipeline.storage.lock import RunLock
from pipeline.storage.versions import VersionStore
from pipeline.tables import assemble


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
    get_run_logger().info(message)


def _submit(config: PipelineConfig):
    def submit(stage: Stage, items: list):
        return shard_task(stage).submit(stage, Shard(items), config)
    return submit


@task(name="check-documents", cache_policy=NO_CACHE, persist_result=False)
def check_documents(rows: list[DocumentRow], suites_dir: Path):
    return document_checks.DOCUMENT_CHECKS.run(rows, suites_dir)


@task(name="validate", cache_policy=NO_CACHE, persist_result=False)
def validate_tables(tables, n_inputs: int, suites_dir: Path):
    return table_checks.TABLE_CHECKS.run(tables, n_inputs, suites_dir)


@task(name="publish", cache_policy=NO_CACHE, persist_result=False)
def publish(data_dir: str, tables, manifest: dict, move_latest: bool):
    return VersionStore(Path(data_dir)).publish(tables, manifest, move_latest, add_files=write_report)


@flow(name="news-corpus", persist_result=False, log_prints=False)
def corpus_flow(seeds_dir: str, data_dir: str, shard_size: int = DEFAULT_SHARD_SIZE,
                config: PipelineConfig | None = None, expectations_dir: str | None = None,
                wait_for_lock: bool = True, lock_timeout_s: float | None = None) -> RunSummary:
    """One run: seeds_dir -> a validated version under data_dir (one run per data_dir at a time)."""
    with RunLock(Path(data_dir), wait=wait_for_lock, timeout_s=lock_timeout_s, on_wait=_progress):
        return _run(seeds_dir, data_dir, shard_size, config or PipelineConfig(),
                    Path(expectations_dir) if expectations_dir else gx.SUITES_DIR)


def configured_flow(seeds_dir: str, shard_size: int = DEFAULT_SHARD_SIZE, workers: int | None = None,
                    dask_address: str | None = None, dask_workers: int | None = None):
    """corpus_flow with the task runner these settings ask for (see runners.task_runner)."""
    n_inputs = len(ingest.discover(Path(seeds_dir))) if Path(seeds_dir).is_dir() else 0
    return corpus_flow.with_options(task_runner=task_runner(n_inputs, shard_size, workers, dask_address,
                                                            dask_workers))


@dataclass
class _Documents:
    """What the prepare phase and the document checks leave for the rest of the run."""

    passed: list[str]  # article_ids, in input order
    rows: dict[str, DocumentRow]  # by article_id: what the checks and resolve need of an article
    held: HeldOutputs  # the prepared documents, waiting in the cache
    rejected: list[Rejected]
    warnings: list[tuple[str, str]]
    source_keys: dict[str, str]  # input path -> its prepare cache key
    build_key: str  # on the bytes read: differs from the planned one only if a file changed meanwhile
    counts: StageCounts


def _run(seeds_dir: str, data_dir: str, shard_size: int, config: PipelineConfig,
         suites_dir: Path) -> RunSummary:
    started = time.perf_counter()
    store = VersionStore(Path(data_dir))
    store.remove_staging()  # left by a killed run; never part of a version
    cache, keys, submit = DocumentCache(Path(data_dir)), KeyMaker(config), _submit(config)
    paths = ingest.discover(Path(seeds_dir))
    planned = [keys.plan(Path(seeds_dir), path) for path in paths]
    recipe = manifests.recipe(config, suites_dir)
    _progress(f"found {len(paths)} input files under {printable_path(seeds_dir)}")

    latest = store.latest_manifest()
    if latest is not None and latest.get("build_key") == build_key(planned, recipe):
        _progress("nothing new: the latest version was built from these inputs, code and config")
        n_articles = latest["tables"]["articles"]["rows"]
        return RunSummary.for_unchanged_version(seeds_dir, data_dir, store, latest, started, {
            s.name: StageCounts(s.title, 0, len(paths) if s.inputs == SOURCES else n_articles)
            for s in registry.document_stages()})

    documents = _prepare_and_check(seeds_dir, planned, recipe, cache, keys, shard_size, submit, suites_dir)
    outputs, counts = _article_stages(documents, cache, keys, shard_size, submit)
    tables, inputs = _corpus_stages(documents, outputs, config)
    report = validate_tables(quote(tables), len(paths), suites_dir)
    _progress(f"validate: {'passed' if report.success else 'FAILED'} "
              f"({len(report.outcomes)} expectations, {len(report.failures)} failed)")
    manifest = manifests.build_manifest(inputs, recipe, documents.build_key, report, documents.warnings)
    _progress("publish: writing tables")
    result = publish(data_dir, quote(tables), quote(manifest), move_latest=report.success)
    publish_artifacts(result.path)  # the same summary as report.html, in the Prefect UI

    counts = {registry.source_stage().name: documents.counts, **counts}
    n_articles, rejected = tables["articles"].num_rows, documents.rejected
    store.record_run({
        "version_id": result.version_id, "created": result.created, "latest_moved": result.latest_moved,
        "validation_success": report.success, "inputs": len(paths), "articles": n_articles,
        "quarantined": len(rejected), "processed": {name: c.processed for name, c in counts.items()}})
    return RunSummary(
        seeds_dir=seeds_dir,
        data_dir=data_dir,
        n_inputs=len(paths),
        n_articles=n_articles,
        n_paragraphs=tables["paragraphs"].num_rows,
        n_mentions=tables["entities"].num_rows,
        quarantined=sorted((r.source_path, r.stage, r.reason) for r in rejected),
        warnings=documents.warnings,
        counts=counts,
        validation_success=report.success,
        validation_failures=[] if report.success else report.summary_lines(),
        version_id=result.version_id,
        version_created=result.created,
        latest_moved=result.latest_moved,
        tables_dir=str(result.path),
        elapsed_s=time.perf_counter() - started,
    )


def _prepare_and_check(seeds_dir: str, planned: list[PlannedDocument], recipe: dict, cache: DocumentCache,
                       keys: KeyMaker, shard_size: int, submit, suites_dir: Path) -> _Documents:
    """The prepare stage over the files, then the document checks."""
    outcomes, held, counts, planned = run_source_stage(
        registry.source_stage(), seeds_dir, planned, cache, keys, shard_size, submit, _progress)
    release_workers()
    rows = [o for o in outcomes if isinstance(o, DocumentRow)]
    passed, checked_out, checked_warnings = check_documents(quote(rows), suites_dir)
    warnings = sorted((w.source_path, w.reason) for w in checked_warnings)
    _progress(f"document checks: {len(passed)} passed, {len(checked_out)} quarantined, {len(warnings)} warnings")
    return _Documents(
        passed=passed, rows={row.article_id: row for row in rows}, held=held,
        rejected=[o for o in outcomes if isinstance(o, Rejected)] + checked_out, warnings=warnings,
        source_keys={doc.path: doc.key for doc in planned}, build_key=build_key(planned, recipe), counts=counts)


def _article_stages(documents: _Documents, cache: DocumentCache, keys: KeyMaker, shard_size: int,
                    submit) -> tuple[dict[str, dict], dict[str, StageCounts]]:
    """The article stages (tag, signals, ...) over the passing documents, side by side."""
    stages = registry.article_stages()
    source_key = {aid: documents.source_keys[documents.rows[aid].metrics["source_path"]] for aid in documents.passed}
    stage_keys = {stage.name: {aid: keys.key(stage, key) for aid, key in source_key.items()} for stage in stages}
    outputs = run_article_stages(stages, stage_keys, documents.passed, documents.held, cache, shard_size, submit,
                                 _progress)
    release_workers()
    return outputs


def _corpus_stages(documents: _Documents, outputs: dict[str, dict], config: PipelineConfig
                   ) -> tuple[dict[str, pa.Table], list[dict]]:
    """resolve, duplicates and tables: the published tables and the manifest's inputs.

    Consumes `outputs` (emptied here). Entities are resolved before the articles come back from
    the cache, so its transients and the articles are never in memory together; the records
    go before validation builds its frames, which keeps a large run's peak memory down.
    """
    passed = documents.passed
    tagged = outputs.pop(tag.TAG.name)
    mentions = pa.Table.from_batches([tagged[aid] for aid in passed], schema=schema.TAGGED)
    del tagged
    entities = resolve.RESOLVE.run(mentions, {aid: documents.rows[aid].published_date for aid in passed}, config)
    del mentions
    articles, boilerplate = held_documents(passed, documents.held)
    minhashes = {aid: s.minhash for aid, s in outputs[signals.SIGNALS.name].items()}
    duplicates = dedupe.DUPLICATES.run(articles, minhashes, config)
    tables = assemble.TABLES.run(articles, documents.rejected, entities, outputs, duplicates,
                                 assemble.boilerplate_table(boilerplate), config)
    inputs = manifests.inputs(articles, documents.rejected)
    outputs.clear()
    del articles, entities, minhashes, boilerplate
    return_freed_memory()
    return tables, inputs
