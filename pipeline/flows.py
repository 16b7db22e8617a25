"""Prefect wiring only: stages run as tasks over shards of documents, never one per document.

The shard tasks live in pipeline.shard_tasks, which is all a worker process imports.

Large arguments go to tasks in a form Prefect does not walk element by element looking for
futures (which took minutes at 10,000 documents): tables and the manifest wrapped in `quote`,
a shard's articles in `ShardArticles` (Dask would read a quote, a tuple, as a task spec).

A run reuses every per-document output whose key is unchanged (pipeline.reuse) and sends
only the rest to tasks; the corpus-level steps (tables, validation, publish) always run,
unless the whole run's build key equals the latest version's.

Memory: while shard tasks run, this process keeps a DocumentRow per article, not the article;
prepared documents wait in the cache (HeldOutputs) and come back once to build the tables.
Worker processes stop after each phase (WorkerProcesses.release), so none holds its models
while another phase's workers or the corpus steps run.
"""
from __future__ import annotations

import ctypes
import os
import sys
import time
from collections import Counter, deque
from itertools import zip_longest
from pathlib import Path

import pyarrow as pa
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
from prefect.utilities.annotations import quote
from prefect_dask import DaskTaskRunner

from pipeline import manifest as manifests
from pipeline.artifacts import publish_artifacts
from pipeline.config import DEFAULT_SHARD_SIZE, PipelineConfig
from pipeline.corpus import TAGGED_SCHEMA, boilerplate_table, build_tables, resolve_mentions
from pipeline.documents import Prepared
from pipeline.records import Article, Rejected
from pipeline.reuse import PREPARE, SIGNALS, TAG, KeyMaker, PlannedDocument, build_key
from pipeline.run import RunSummary, StageCounts
from pipeline.report import write_report
from pipeline.shard_tasks import ShardArticles, prepare_shard, signals_shard, tag_shard
from pipeline.stages import document_checks, ingest, validate
from pipeline.stages.document_checks import DocumentRow, document_row
from pipeline.storage.cache import DocumentCache, HeldOutputs
from pipeline.storage.lock import RunLock
from pipeline.storage.versions import VersionStore
from pipeline.textutil import printable_path


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
    get_run_logger().info(message)


@task(name="check-documents", cache_policy=NO_CACHE, persist_result=False)
def check_documents(rows: list[DocumentRow], suites_dir: Path):
    return document_checks.check_rows(rows, suites_dir)


@task(name="validate", cache_policy=NO_CACHE, persist_result=False)
def validate_tables(tables, n_inputs: int, suites_dir: Path):
    return validate.validate_tables(tables, n_inputs, suites_dir)


@task(name="publish", cache_policy=NO_CACHE, persist_result=False)
def publish(data_dir: str, tables, manifest: dict, move_latest: bool):
    return VersionStore(Path(data_dir)).publish(tables, manifest, move_latest, add_files=write_report)


def _shards(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), max(1, size))]


# Shard tasks running at once: enough to keep both cores and the tagger busy, few enough that
# memory stays flat and progress is reported as shards finish (Prefect's thread pool would
# otherwise start every submitted shard at once).
MAX_SHARDS_IN_FLIGHT = 4


def _bounded(jobs: list, submit, limit: int = MAX_SHARDS_IN_FLIGHT):
    """Yield (job, result) in job order, with at most `limit` submitted tasks unfinished."""
    pending: deque = deque()
    for job in jobs:
        pending.append((job, submit(job)))
        if len(pending) >= limit:
            done, future = pending.popleft()
            yield done, future.result()
    while pending:
        done, future = pending.popleft()
        yield done, future.result()


def _prepare(seeds_dir: str, planned: list[PlannedDocument], cache: DocumentCache, config: PipelineConfig,
             shard_size: int, keys: KeyMaker
             ) -> tuple[list[DocumentRow | Rejected], HeldOutputs, StageCounts, list[PlannedDocument]]:
    """Each input's outcome as the document checks see it; the prepared documents themselves
    (documents.Prepared, by article_id) wait in the cache until they are tagged and tabled.

    Also the planned documents as used: one whose file changed after planning read it is
    keyed again on the bytes ingest read (KeyMaker.as_used), so its cache entry, the keys of
    later stages and the build key all describe what the tables hold.
    """
    outcomes: dict[str, DocumentRow | Rejected] = {}
    used: dict[str, PlannedDocument] = {}
    held = HeldOutputs(cache, PREPARE)

    def keep(doc: PlannedDocument, outcome: Prepared | Rejected, cached: bool) -> None:
        if isinstance(outcome, Prepared):
            article_id = outcome.article.article_id
            if cached:
                held.cached(article_id, doc.prepare_key)
            else:
                held.keep(article_id, outcome)
            outcome = document_row(outcome.article)
        outcomes[doc.path] = outcome
        used[doc.path] = doc

    todo = []
    for doc in planned:
        reused = cache.get(PREPARE, doc.prepare_key)
        if reused is None:
            todo.append(doc)
        else:
            keep(doc, reused, cached=True)
    _progress(f"extract+normalize: {len(planned) - len(todo)} reused, {len(todo)} to process")
    shards = _shards(todo, shard_size)
    results = _bounded(shards, lambda shard: prepare_shard.submit(seeds_dir, [d.path for d in shard], config))
    for done, (shard, shard_outcomes) in enumerate(results, start=1):
        for doc, outcome in zip(shard, shard_outcomes):
            if not doc.matches(outcome):
                _progress(f"note: {printable_path(doc.path)} changed after it was listed; "
                          "this run uses the bytes it read, the next run sees any later change")
                doc = keys.as_used(doc, outcome)
            cache.put(PREPARE, doc.prepare_key, outcome)
            keep(doc, outcome, cached=True)
        _progress(f"extract+normalize: shard {done}/{len(shards)}")
    return ([outcomes[doc.path] for doc in planned], held, StageCounts(len(todo), len(planned) - len(todo)),
            [used[doc.path] for doc in planned])


def _per_article(stages: dict[str, tuple], article_ids: list[str], prepared: HeldOutputs, cache: DocumentCache,
                 config: PipelineConfig, shard_size: int) -> tuple[dict[str, dict], dict[str, StageCounts]]:
    """Per-document stages over articles: stored outputs reused, the rest computed by shard tasks.

    ``stages`` maps a stage name to (shard task, article_id -> cache key). Articles are loaded
    from ``prepared`` only as their shard is submitted. The stages' shards are interleaved, so
    tagging and the hygiene signals run side by side.
    """
    outputs, counts, jobs = {}, {}, []
    for stage, (shard_task, keys) in stages.items():
        outputs[stage] = {aid: cache.get(stage, keys[aid]) for aid in article_ids}
        todo = [aid for aid in article_ids if outputs[stage][aid] is None]
        counts[stage] = StageCounts(len(todo), len(article_ids) - len(todo))
        _progress(f"{stage}: {counts[stage].reused} reused, {counts[stage].processed} to process")
        jobs.append([(stage, shard) for shard in _shards(todo, shard_size)])
    interleaved = [job for group in zip_longest(*jobs) for job in group if job is not None]
    total = Counter(stage for stage, _ in interleaved)
    done: Counter[str] = Counter()
    # The stages get the same shards in turn: each shard's articles are read from the cache once.
    last: dict[str, object] = {"ids": [], "articles": None}

    def submit(job):
        stage, shard = job
        if shard != last["ids"]:
            last.update(ids=shard, articles=ShardArticles([prepared.get(aid).article for aid in shard]))
        return stages[stage][0].submit(last["articles"], config)

    results = _bounded(interleaved, submit)
    for (stage, _), found in results:
        for article_id, output in found.items():
            outputs[stage][article_id] = output
            cache.put(stage, stages[stage][1][article_id], output)
        done[stage] += 1
        _progress(f"{stage}: shard {done[stage]}/{total[stage]}")
    return outputs, counts


def _held_articles(article_ids: list[str], held: HeldOutputs) -> tuple[list[Article], pa.Table]:
    """The prepared articles (without their blocks) and the boilerplate table of their blocks."""
    articles, boilerplate = [], {}
    for article_id in article_ids:
        document = held.get(article_id)
        articles.append(document.article)
        boilerplate[article_id] = document.boilerplate
    return articles, boilerplate_table(boilerplate)


@flow(name="news-corpus", persist_result=False, log_prints=False)
def corpus_flow(seeds_dir: str, data_dir: str, shard_size: int = DEFAULT_SHARD_SIZE,
                config: PipelineConfig | None = None, expectations_dir: str | None = None,
                wait_for_lock: bool = True, lock_timeout_s: float | None = None) -> RunSummary:
    """One run: seeds_dir -> a validated version under data_dir (one run per data_dir at a time)."""
    with RunLock(Path(data_dir), wait=wait_for_lock, timeout_s=lock_timeout_s, on_wait=_progress):
        return _run(seeds_dir, data_dir, shard_size, config or PipelineConfig(),
                    Path(expectations_dir) if expectations_dir else validate.SUITES_DIR)


def _return_freed_memory() -> None:
    """Hand memory freed by Python back to the system (glibc only).

    glibc keeps freed blocks for reuse; after the articles' millions of strings go, ~150 MB at
    10,000 pages would otherwise stay in the process through validation and publishing.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to hand back this way
        pass


def _share_prefect_api() -> None:
    """Make worker processes started from here report to this flow's Prefect API.

    Workers inherit the environment; in ephemeral mode it names no API, so each worker would
    start a temporary Prefect server of its own (seconds and ~200 MB apiece).
    """
    if not os.environ.get("PREFECT_API_URL"):
        from prefect.client.orchestration import get_client

        os.environ["PREFECT_API_URL"] = str(get_client(sync_client=True).api_url)


class _SharesPrefectApi:
    def __enter__(self):
        _share_prefect_api()
        return super().__enter__()


class WorkerProcesses(_SharesPrefectApi, ProcessPoolTaskRunner):
    """A process per core, started when a task is submitted and stopped by `release`.

    A worker keeps every model its tasks have loaded (extraction's ~200 MB, the taggers'
    ~170 MB), so each phase of a run gets fresh workers and none idle while the flow builds
    the tables.
    """

    def release(self) -> None:
        if self._started:
            self.__exit__(None, None, None)

    def submit(self, *args, **kwargs):
        if not self._started:
            self.__enter__()
        return super().submit(*args, **kwargs)


class DaskWorkers(_SharesPrefectApi, DaskTaskRunner):
    """A Dask cluster: a local one started for the run, or an existing one."""


def task_runner(n_inputs: int, shard_size: int, workers: int | None = None, dask_address: str | None = None,
                dask_workers: int | None = None):
    """Where shard tasks run: an existing Dask cluster, a local one, or a process per core.

    A corpus of one shard has nothing to share out, so it stays in this process: starting
    worker processes (each loads spaCy) would cost more than it saves.
    """
    if dask_address:
        return DaskWorkers(address=dask_address)
    if dask_workers:
        return DaskWorkers(cluster_class="distributed.LocalCluster", cluster_kwargs={
            "n_workers": dask_workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None})
    workers = workers or os.cpu_count() or 1
    if workers > 1 and n_inputs > shard_size:
        return WorkerProcesses(max_workers=workers)
    return ThreadPoolTaskRunner()


def _release_workers() -> None:
    """Stop the worker processes between phases (see WorkerProcesses)."""
    runner = FlowRunContext.get().task_runner
    if isinstance(runner, WorkerProcesses):
        runner.release()


def configured_flow(seeds_dir: str, shard_size: int = DEFAULT_SHARD_SIZE, workers: int | None = None,
                    dask_address: str | None = None, dask_workers: int | None = None):
    """corpus_flow with the task runner these settings ask for (see task_runner)."""
    n_inputs = len(ingest.discover(Path(seeds_dir))) if Path(seeds_dir).is_dir() else 0
    return corpus_flow.with_options(task_runner=task_runner(n_inputs, shard_size, workers, dask_address,
                                                            dask_workers))


def _run(seeds_dir: str, data_dir: str, shard_size: int, config: PipelineConfig,
         suites_dir: Path) -> RunSummary:
    started = time.perf_counter()
    store = VersionStore(Path(data_dir))
    store.remove_staging()  # left by a killed run; never part of a version
    cache = DocumentCache(Path(data_dir))
    keys = KeyMaker(config)
    paths = ingest.discover(Path(seeds_dir))
    planned = [keys.plan(Path(seeds_dir), path) for path in paths]
    planned_by_path = {doc.path: doc for doc in planned}
    recipe = manifests.recipe(config, suites_dir)
    run_key = build_key(planned, recipe)
    _progress(f"found {len(paths)} input files under {printable_path(seeds_dir)}")

    latest = store.latest_manifest()
    if latest is not None and latest.get("build_key") == run_key:
        _progress("nothing new: the latest version was built from these inputs, code and config")
        return RunSummary.for_unchanged_version(seeds_dir, data_dir, store, latest, started)

    outcomes, held, prepared, planned = _prepare(seeds_dir, planned, cache, config, shard_size, keys)
    # Keyed on the bytes read: differs from the key above only if a file changed meanwhile.
    planned_by_path = {doc.path: doc for doc in planned}
    run_key = build_key(planned, recipe)
    _release_workers()
    passed, checked_out, checked_warnings = check_documents(
        quote([o for o in outcomes if isinstance(o, DocumentRow)]), suites_dir)
    rejected = [o for o in outcomes if isinstance(o, Rejected)] + checked_out
    warnings = sorted((w.source_path, w.reason) for w in checked_warnings)
    _progress(f"document checks: {len(passed)} passed, {len(checked_out)} quarantined, {len(warnings)} warnings")
    row_of = {o.article_id: o for o in outcomes if isinstance(o, DocumentRow)}
    del outcomes

    prepare_keys = {aid: planned_by_path[row_of[aid].metrics["source_path"]].prepare_key for aid in passed}
    outputs, counts = _per_article({
        TAG: (tag_shard, {aid: keys.tag_key(key) for aid, key in prepare_keys.items()}),
        SIGNALS: (signals_shard, {aid: keys.signals_key(key) for aid, key in prepare_keys.items()}),
    }, passed, held, cache, config, shard_size)
    _release_workers()
    per_article, signals, tagged = outputs[TAG], outputs[SIGNALS], counts[TAG]
    mentions = pa.Table.from_batches([per_article[aid] for aid in passed], schema=TAGGED_SCHEMA)
    del outputs, per_article
    # Resolved before the articles come back from the cache, so its transients and the
    # articles are never in memory together.
    entities = resolve_mentions(mentions, {aid: row_of[aid].published_date for aid in passed}, config)
    del mentions, row_of

    articles, boilerplate = _held_articles(passed, held)
    del held

    tables = build_tables(articles, rejected, entities, signals, config, boilerplate)
    inputs, n_articles = manifests.inputs(articles, rejected), len(articles)
    # The tables hold all of it from here on: freeing the records before validation builds
    # its frames keeps a large run's peak memory down.
    del articles, entities, signals, boilerplate
    _return_freed_memory()

    report = validate_tables(quote(tables), len(paths), suites_dir)
    _progress(f"validate: {'passed' if report.success else 'FAILED'} "
              f"({len(report.outcomes)} expectations, {len(report.failures)} failed)")
    manifest = manifests.build_manifest(inputs, recipe, run_key, report, warnings)
    _progress("publish: writing tables")
    result = publish(data_dir, quote(tables), quote(manifest), move_latest=report.success)
    publish_artifacts(result.path)  # the same summary as report.html, in the Prefect UI
    store.record_run({
        "version_id": result.version_id, "created": result.created, "latest_moved": result.latest_moved,
        "validation_success": report.success, "inputs": len(paths), "articles": n_articles,
        "quarantined": len(rejected), "prepared": prepared.processed, "tagged": tagged.processed,
        "measured": counts[SIGNALS].processed})
    return RunSummary(
        seeds_dir=seeds_dir,
        data_dir=data_dir,
        n_inputs=len(paths),
        n_articles=n_articles,
        n_paragraphs=tables["paragraphs"].num_rows,
        n_mentions=tables["entities"].num_rows,
        quarantined=sorted((r.source_path, r.stage, r.reason) for r in rejected),
        warnings=warnings,
        prepared=prepared,
        tagged=tagged,
        measured=counts[SIGNALS],
        validation_success=report.success,
        validation_failures=[] if report.success else report.summary_lines(),
        version_id=result.version_id,
        version_created=result.created,
        latest_moved=result.latest_moved,
        tables_dir=str(result.path),
        elapsed_s=time.perf_counter() - started,
    )
