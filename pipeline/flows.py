"""Prefect wiring only: stages run as tasks over shards of documents, never one per document.

A run reuses every per-document output whose key is unchanged (pipeline.reuse) and sends
only the rest to tasks; the corpus-level steps (tables, validation, publish) always run,
unless the whole run's build key equals the latest version's.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipeline import manifest as manifests
from pipeline.config import DEFAULT_SHARD_SIZE, PipelineConfig
from pipeline.corpus import build_tables
from pipeline.documents import prepare_document
from pipeline.records import Article, DocumentSignals, Mention, Rejected
from pipeline.reuse import PREPARE, SIGNALS, TAG, KeyMaker, PlannedDocument, build_key
from pipeline.run import RunSummary, StageCounts
from pipeline.stages import document_checks, hygiene, ingest, tag, validate
from pipeline.storage.cache import DocumentCache
from pipeline.storage.lock import RunLock
from pipeline.storage.versions import VersionStore


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
    get_run_logger().info(message)


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


@task(name="check-documents", cache_policy=NO_CACHE, persist_result=False)
def check_documents(articles: list[Article], suites_dir: Path) -> document_checks.CheckResult:
    return document_checks.check_documents(articles, suites_dir)


@task(name="validate", cache_policy=NO_CACHE, persist_result=False)
def validate_tables(tables, n_inputs: int, suites_dir: Path):
    return validate.validate_tables(tables, n_inputs, suites_dir)


@task(name="publish", cache_policy=NO_CACHE, persist_result=False)
def publish(data_dir: str, tables, manifest: dict, move_latest: bool):
    return VersionStore(Path(data_dir)).publish(tables, manifest, move_latest)


def _shards(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), max(1, size))]


def _prepare(seeds_dir: str, planned: list[PlannedDocument], cache: DocumentCache, config: PipelineConfig,
             shard_size: int) -> tuple[list[Article | Rejected], StageCounts]:
    outcomes = {doc.path: cache.get(PREPARE, doc.prepare_key) for doc in planned}
    todo = [doc for doc in planned if outcomes[doc.path] is None]
    _progress(f"extract+normalize: {len(planned) - len(todo)} reused, {len(todo)} to process")
    futures = [(shard, prepare_shard.submit(seeds_dir, [d.path for d in shard], config))
               for shard in _shards(todo, shard_size)]
    for done, (shard, future) in enumerate(futures, start=1):
        for doc, outcome in zip(shard, future.result()):
            outcomes[doc.path] = outcome
            if doc.matches(outcome):
                cache.put(PREPARE, doc.prepare_key, outcome)
        _progress(f"extract+normalize: shard {done}/{len(futures)}")
    return [outcomes[doc.path] for doc in planned], StageCounts(len(todo), len(planned) - len(todo))


class _PerArticle:
    """One per-document stage over articles: cached outputs reused, the rest sent to shard tasks.

    Submitting (the constructor) and collecting (`results`) are apart so that several
    stages' tasks can run side by side.
    """

    def __init__(self, stage: str, shard_task, articles: list[Article], keys: dict[str, str],
                 cache: DocumentCache, config: PipelineConfig, shard_size: int):
        self.stage, self.keys, self.cache = stage, keys, cache
        self.outputs = {a.article_id: cache.get(stage, keys[a.article_id]) for a in articles}
        todo = [a for a in articles if self.outputs[a.article_id] is None]
        self.counts = StageCounts(len(todo), len(articles) - len(todo))
        _progress(f"{stage}: {self.counts.reused} reused, {self.counts.processed} to process")
        self.futures = [shard_task.submit(shard, config) for shard in _shards(todo, shard_size)]

    def results(self) -> dict:
        """article_id -> output, once every shard is done (new outputs go to the cache)."""
        for done, future in enumerate(self.futures, start=1):
            for article_id, output in future.result().items():
                self.outputs[article_id] = output
                self.cache.put(self.stage, self.keys[article_id], output)
            _progress(f"{self.stage}: shard {done}/{len(self.futures)}")
        self.futures = []
        return self.outputs


@flow(name="news-corpus", persist_result=False, log_prints=False)
def corpus_flow(seeds_dir: str, data_dir: str, shard_size: int = DEFAULT_SHARD_SIZE,
                config: PipelineConfig | None = None, expectations_dir: str | None = None,
                wait_for_lock: bool = True, lock_timeout_s: float | None = None) -> RunSummary:
    """One run: seeds_dir -> a validated version under data_dir (one run per data_dir at a time)."""
    with RunLock(Path(data_dir), wait=wait_for_lock, timeout_s=lock_timeout_s, on_wait=_progress):
        return _run(seeds_dir, data_dir, shard_size, config or PipelineConfig(),
                    Path(expectations_dir) if expectations_dir else validate.SUITES_DIR)


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
    _progress(f"found {len(paths)} input files under {seeds_dir}")

    latest = store.latest_manifest()
    if latest is not None and latest.get("build_key") == run_key:
        _progress("nothing new: the latest version was built from these inputs, code and config")
        return RunSummary.for_unchanged_version(seeds_dir, data_dir, store, latest, started)

    outcomes, prepared = _prepare(seeds_dir, planned, cache, config, shard_size)
    articles = [o for o in outcomes if isinstance(o, Article)]
    rejected = [o for o in outcomes if isinstance(o, Rejected)]
    checked = check_documents(articles, suites_dir)
    articles, rejected = checked.passed, rejected + checked.rejected
    _progress(f"document checks: {len(articles)} passed, {len(checked.rejected)} quarantined, "
              f"{len(checked.warnings)} warnings")

    prepare_keys = {a.article_id: planned_by_path[a.extracted.source.path].prepare_key for a in articles}
    tagging = _PerArticle(TAG, tag_shard, articles, {
        aid: keys.tag_key(key) for aid, key in prepare_keys.items()}, cache, config, shard_size)
    measuring = _PerArticle(SIGNALS, signals_shard, articles, {
        aid: keys.signals_key(key) for aid, key in prepare_keys.items()}, cache, config, shard_size)
    per_article, signals, tagged = tagging.results(), measuring.results(), tagging.counts
    mentions = [m for a in articles for m in per_article[a.article_id]]

    tables = build_tables(articles, rejected, mentions, signals, config)
    report = validate_tables(tables, len(paths), suites_dir)
    _progress(f"validate: {'passed' if report.success else 'FAILED'} "
              f"({len(report.outcomes)} expectations, {len(report.failures)} failed)")
    warnings = sorted((w.source_path, w.reason) for w in checked.warnings)
    manifest = manifests.build_manifest(articles, rejected, recipe, run_key, report, warnings)
    _progress("publish: writing tables")
    result = publish(data_dir, tables, manifest, move_latest=report.success)
    store.record_run({
        "version_id": result.version_id, "created": result.created, "latest_moved": result.latest_moved,
        "validation_success": report.success, "inputs": len(paths), "articles": len(articles),
        "quarantined": len(rejected), "prepared": prepared.processed, "tagged": tagged.processed,
        "measured": measuring.counts.processed})
    return RunSummary(
        seeds_dir=seeds_dir,
        data_dir=data_dir,
        n_inputs=len(paths),
        n_articles=len(articles),
        n_paragraphs=tables["paragraphs"].num_rows,
        n_mentions=tables["entities"].num_rows,
        quarantined=sorted((r.source_path, r.stage, r.reason) for r in rejected),
        warnings=warnings,
        prepared=prepared,
        tagged=tagged,
        measured=measuring.counts,
        validation_success=report.success,
        validation_failures=[] if report.success else report.summary_lines(),
        version_id=result.version_id,
        version_created=result.created,
        latest_moved=result.latest_moved,
        tables_dir=str(result.path),
        elapsed_s=time.perf_counter() - started,
    )
