"""The Prefect flow: the registry's phases (pipeline.core.registry) wired into tasks.

Document stages run as shard tasks (pipeline.orchestration.tasks) over documents their cache
entries do not already hold (pipeline.orchestration.io); corpus stages run in this process
and write the tables part by part into a staged version, linking the parts that did not
change (pipeline.storage.versions); the checks and publishing are tasks of their own. A run
whose build key equals the latest version's stops before any of it (pipeline.orchestration.plan).

Large arguments go to tasks in a form Prefect does not walk element by element looking for
futures (which took minutes at 10,000 documents): the staged version and the manifest wrapped
in `quote`, a shard's inputs in `Shard`. Memory: this process keeps a DocumentRow per article;
stage outputs wait in the cache, and prepared documents come back only for the buckets of
articles whose parts are built, a bucket at a time; worker processes stop after each phase
(runners.release_workers).
"""
from __future__ import annotations

import hashlib
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from pipeline.checks import documents as document_checks
from pipeline.checks import gx
from pipeline.checks import tables as table_checks
from pipeline.checks.documents import DocumentRow
from pipeline.core import layout, registry, schema
from pipeline.core import manifest as manifests
from pipeline.core.config import DEFAULT_SHARD_SIZE, PipelineConfig
from pipeline.core.keys import KeyMaker, PlannedDocument, build_key
from pipeline.core.location import join
from pipeline.core.records import Rejected
from pipeline.core.stage import Stage
from pipeline.core.textutil import printable_path, sha256_hex
from pipeline.orchestration import plan
from pipeline.orchestration.artifacts import publish_artifacts
from pipeline.orchestration.io import every_batch, run_article_stages, run_source_stage
from pipeline.orchestration.memory import return_freed_memory
from pipeline.orchestration.runners import release_workers, task_runner
from pipeline.orchestration.tasks import Shard, shard_task
from pipeline.reporting.report import write_report
from pipeline.reporting.summary import RunSummary, StageCounts
from pipeline.stages import ingest
from pipeline.stages.entities import resolve, tag
from pipeline.stages.hygiene import dedupe, signals
from pipeline.stages.hygiene.dedupe_index import DuplicateIndex
from pipeline.storage.cache import DocumentCache, HeldOutputs
from pipeline.storage.lock import DEFAULT_TTL_S, RunLock
from pipeline.storage.versions import StagedVersion, VersionStore, canonical_json
from pipeline.tables import assemble

INDEX_DIR = "index"  # corpus steps' persisted state in the data folder (derived; safe to delete)


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
def validate_tables(version_dir: Path, n_inputs: int, suites_dir: Path, staged: StagedVersion):
    part_sha256 = {file: entry["sha256"] for entries in staged.entries.values() for file, entry in entries.items()}
    return table_checks.validate_parts(version_dir, n_inputs, suites_dir, staged.reusable.validation, part_sha256)


@task(name="publish", cache_policy=NO_CACHE, persist_result=False)
def publish(staged: StagedVersion, manifest: dict, move_latest: bool, group_outcomes: dict):
    return staged.commit(manifest, move_latest, add_files=write_report, validation=group_outcomes)


@flow(name="news-corpus", persist_result=False, log_prints=False)
def corpus_flow(seeds_dir: str, data_dir: str, shard_size: int = DEFAULT_SHARD_SIZE,
                config: PipelineConfig | None = None, expectations_dir: str | None = None,
                wait_for_lock: bool = True, lock_timeout_s: float | None = None,
                lock_ttl_s: float = DEFAULT_TTL_S) -> RunSummary:
    """One run: seeds_dir -> a validated version under data_dir (one run per data_dir at a time).
    Either may be a local folder or an object-store URL (pipeline.core.location)."""
    with RunLock(data_dir, wait=wait_for_lock, timeout_s=lock_timeout_s, on_wait=_progress, ttl_s=lock_ttl_s) as lock:
        return _run(seeds_dir, data_dir, shard_size, config or PipelineConfig(),
                    Path(expectations_dir) if expectations_dir else gx.SUITES_DIR, lock.confirm)


def configured_flow(seeds_dir: str, shard_size: int = DEFAULT_SHARD_SIZE, workers: int | None = None,
                    dask_address: str | None = None, dask_workers: int | None = None,
                    n_documents: int | None = None):
    """corpus_flow with the task runner these settings ask for (see runners.task_runner);
    `n_documents`: how many documents the run will process, when known (default: every input)."""
    if n_documents is None:
        n_documents = len(ingest.discover(seeds_dir)) if ingest.seeds_exist(seeds_dir) else 0
    return corpus_flow.with_options(task_runner=task_runner(n_documents, shard_size, workers, dask_address,
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
         suites_dir: Path, still_locked: Callable[[], None] = lambda: None) -> RunSummary:
    """The run, under the data folder's lock; `still_locked()` raises if the lock was lost."""
    started = time.perf_counter()
    store = VersionStore(data_dir)
    store.remove_staging()  # left by a killed run; never part of a version
    cache, submit = DocumentCache(data_dir), _submit(config)
    run_plan = plan.plan_run(seeds_dir, data_dir, config, suites_dir)
    keys, paths, planned, recipe = run_plan.keys, run_plan.paths, run_plan.planned, run_plan.recipe
    _progress(f"found {len(paths)} input files under {printable_path(seeds_dir)}")
    if run_plan.nothing_new:
        _progress(plan.NOTHING_NEW)
        return run_plan.unchanged_summary(started)

    documents = _prepare_and_check(seeds_dir, planned, recipe, cache, keys, shard_size, submit, suites_dir)
    outputs, counts = _article_stages(documents, cache, keys, shard_size, submit)
    staged = store.stage()
    try:
        _corpus_stages(documents, outputs, config, staged, recipe)
        staged.complete()
        _progress(f"tables: {staged.built} parts built, {staged.linked} unchanged parts linked")
        report, group_outcomes = validate_tables(staged.folder, len(paths), suites_dir, quote(staged))
        _progress(f"validate: {'passed' if report.success else 'FAILED'} "
                  f"({len(report.outcomes)} expectations, {len(report.failures)} failed)")
        inputs = manifests.inputs((documents.rows[aid] for aid in documents.passed), documents.rejected)
        manifest = manifests.build_manifest(inputs, recipe, documents.build_key, report, documents.warnings)
        _progress("publish: writing the manifest")
        still_locked()
        result = publish(quote(staged), quote(manifest), report.success, quote(group_outcomes))
    finally:
        staged.discard()
    publish_artifacts(result.path)  # the same summary as report.html, in the Prefect UI
    n_rows = {name: info["rows"] for name, info in result.manifest["tables"].items()}

    counts = {registry.source_stage().name: documents.counts, **counts}
    n_articles, rejected = n_rows["articles"], documents.rejected
    store.record_run({
        "version_id": result.version_id, "created": result.created, "latest_moved": result.latest_moved,
        "validation_success": report.success, "inputs": len(paths), "articles": n_articles,
        "quarantined": len(rejected), "processed": {name: c.processed for name, c in counts.items()},
        "parts": {"built": staged.built, "linked": staged.linked}})
    return RunSummary(
        seeds_dir=seeds_dir,
        data_dir=data_dir,
        n_inputs=len(paths),
        n_articles=n_articles,
        n_paragraphs=n_rows["paragraphs"],
        n_mentions=n_rows["entities"],
        quarantined=sorted((r.source_path, r.stage, r.reason) for r in rejected),
        warnings=documents.warnings,
        counts=counts,
        validation_success=report.success,
        validation_failures=[] if report.success else report.summary_lines(),
        version_id=result.version_id,
        version_created=result.created,
        latest_moved=result.latest_moved,
        tables_dir=str(result.location),
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
                    submit) -> tuple[dict[str, HeldOutputs], dict[str, StageCounts]]:
    """The article stages (tag, signals, ...) over the passing documents, side by side."""
    stages = registry.article_stages()
    source_key = {aid: documents.source_keys[documents.rows[aid].metrics["source_path"]] for aid in documents.passed}
    stage_keys = {stage.name: {aid: keys.key(stage, key) for aid, key in source_key.items()} for stage in stages}
    outputs = run_article_stages(stages, stage_keys, documents.passed, documents.held, cache, shard_size, submit,
                                 _progress)
    release_workers()
    return outputs


def _corpus_stages(documents: _Documents, outputs: dict[str, HeldOutputs], config: PipelineConfig,
                   staged: StagedVersion, recipe: dict) -> None:
    """resolve, duplicates and tables: the published tables, written into `staged` part by part.

    A part whose key (what its rows depend on) is the one a part of the latest version was
    built from is linked, not built; prepared documents and their signals come back from the
    cache only for the buckets that are built, a bucket at a time.
    """
    passed, rows = documents.passed, [documents.rows[aid] for aid in documents.passed]
    tagged, hygiene = outputs[tag.TAG.name], outputs[signals.SIGNALS.name]
    mentions = pa.Table.from_batches(every_batch(tagged, passed, schema.TAGGED),
                                     schema=schema.TAGGED)
    entities, catalog = resolve.RESOLVE.run(mentions, {r.article_id: r.published_date for r in rows}, config)
    del mentions
    duplicates = _duplicates(staged.store.location, rows, hygiene, config)
    holders = signals.paragraph_counts(r.paragraph_keys for r in rows)
    recipe_key = sha256_hex(canonical_json(recipe))

    by_bucket: dict[str, list[DocumentRow]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.article_id):
        by_bucket[layout.bucket(row.article_id)].append(row)
    for bucket, members in sorted(by_bucket.items()):
        key = sha256_hex(canonical_json([recipe_key, bucket, [
            [r.article_id, documents.source_keys[r.metrics["source_path"]], _duplicate_key(duplicates, r.article_id),
             signals.repeat_counts(holders, r.paragraph_keys)] for r in members]]))
        built: dict[str, pa.Table] = {}

        def build(name: str, ids=[r.article_id for r in members], built=built) -> pa.Table:
            if not built:
                built.update(assemble.TABLES.run([documents.held.get(aid) for aid in ids], duplicates,
                                                 {aid: hygiene.get(aid) for aid in ids}, holders, config))
            return built[name]

        for name in assemble.ARTICLE_TABLES:
            staged.put(name, bucket, key, lambda name=name, build=build: build(name))
        built.clear()
    for name, table in (("entities", entities), ("entity_catalog", catalog),
                        ("quarantine", assemble.quarantine_table(documents.rejected))):
        for part, part_rows in layout.split(schema.TABLES[name], table).items():
            staged.put(name, part, _digest(recipe_key, part_rows), lambda part_rows=part_rows: part_rows)
    return_freed_memory()


def _duplicates(data_dir: str, rows: list[DocumentRow], hygiene: HeldOutputs,
                config: PipelineConfig) -> dict[str, dedupe.DuplicateInfo]:
    """The duplicates stage through its persisted index (DATA/index/): only the signatures of
    new and changed articles are read, only the clusters they touch are recomputed."""
    path = join(data_dir, INDEX_DIR, "duplicates.parquet")
    index = DuplicateIndex.load(path, config)
    size, read = len(index), []

    def signature_of(article_id: str):
        read.append(article_id)
        return hygiene.get(article_id).minhash

    duplicates = index.update([r.member() for r in rows], signature_of)
    if read or len(index) != size:
        index.save(path)
    return duplicates


def _duplicate_key(duplicates: dict[str, dedupe.DuplicateInfo], article_id: str) -> list | None:
    info = duplicates.get(article_id)
    return None if info is None else [info.duplicate_of, info.cluster, info.similarity]


def _digest(recipe_key: str, rows: pa.Table) -> str:
    """A key for rows already in memory: their Arrow stream's hash. The rows are copied first:
    a slice's stream also depends on the buffers of the table it was cut from."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, rows.schema) as writer:
        writer.write_table(rows.take(np.arange(rows.num_rows)))
    digest = hashlib.sha256(recipe_key.encode())
    digest.update(sink.getvalue())
    return digest.hexdigest()
