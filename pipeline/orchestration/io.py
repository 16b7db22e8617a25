"""The IO manager of a run's document stages: stored outputs reused, the rest computed by
shard tasks and stored, and the outputs a later phase needs held in the cache, not memory.

Nothing here imports Prefect: a phase gets a `submit(stage, shard) -> future` function.
"""
from __future__ import annotations

from collections import Counter
from itertools import zip_longest
from typing import Any, Callable

import pyarrow as pa

from pipeline.checks.documents import ROW_FORMAT, DocumentRow, document_row
from pipeline.core.keys import KeyMaker, PlannedDocument
from pipeline.core.records import Rejected
from pipeline.core.stage import SourceRef, Stage
from pipeline.core.textutil import printable_path
from pipeline.orchestration.submit import bounded, shards
from pipeline.reporting.summary import StageCounts
from pipeline.stages.prepare import Prepared
from pipeline.storage.cache import DocumentCache, HeldOutputs

Submit = Callable[[Stage, list], Any]  # (stage, shard items) -> a future of the stage's outputs


def run_source_stage(stage: Stage, seeds_dir: str, planned: list[PlannedDocument], cache: DocumentCache,
                     keys: KeyMaker, shard_size: int, submit: Submit, say: Callable[[str], None]
                     ) -> tuple[list[DocumentRow | Rejected], HeldOutputs, StageCounts, list[PlannedDocument]]:
    """Each input's outcome as the document checks see it; the prepared documents themselves
    (Prepared, by article_id) wait in the cache until the article stages and the tables need them.

    Also the planned documents as used: one whose file changed after planning read it is
    keyed again on the bytes ingest read (KeyMaker.as_used), so its cache entry, the keys of
    later stages and the build key all describe what the tables hold.
    """
    outcomes: dict[str, DocumentRow | Rejected] = {}
    used: dict[str, PlannedDocument] = {}
    held = HeldOutputs(cache, stage.name)
    # Each output's DocumentRow is stored beside it, and all of them in one bundle: a run reads
    # the small rows of every document in one go, and prepared documents only for the parts
    # of the tables it has to build.
    rows_entry = f"{stage.name}-rows-v{ROW_FORMAT}"
    bundle = cache.get_bundle(rows_entry)

    def keep(doc: PlannedDocument, outcome: DocumentRow | Rejected) -> None:
        if isinstance(outcome, DocumentRow):
            held.cached(outcome.article_id, doc.key)
        outcomes[doc.path] = outcome
        used[doc.path] = doc

    def checked(outcome: Prepared | Rejected) -> DocumentRow | Rejected:
        return document_row(outcome.article) if isinstance(outcome, Prepared) else outcome

    todo = []
    for doc in planned:
        reused = bundle.get(doc.key) or cache.get(rows_entry, doc.key)
        if reused is None and (full := cache.get(stage.name, doc.key)) is not None:
            reused = checked(full)
            cache.put(rows_entry, doc.key, reused)
        if reused is None:
            todo.append(doc)
        else:
            keep(doc, reused)
    say(f"{stage.title}: {len(planned) - len(todo)} reused, {len(todo)} to process")
    jobs = shards(todo, shard_size)
    results = bounded(jobs, lambda shard: submit(stage, [SourceRef(seeds_dir, d.path) for d in shard]))
    for done, (shard, shard_outcomes) in enumerate(results, start=1):
        for doc, outcome in zip(shard, shard_outcomes):
            if not doc.matches(outcome):
                say(f"note: {printable_path(doc.path)} changed after it was listed; "
                    "this run uses the bytes it read, the next run sees any later change")
                doc = keys.as_used(doc, outcome)
            cache.put(stage.name, doc.key, outcome)
            cache.put(rows_entry, doc.key, row := checked(outcome))
            keep(doc, row)
        say(f"{stage.title}: shard {done}/{len(jobs)}")
    cache.flush()
    current = {used[doc.path].key: outcomes[doc.path] for doc in planned}
    if current.keys() != bundle.keys():
        cache.put_bundle(rows_entry, current)
    counts = StageCounts(stage.title, len(todo), len(planned) - len(todo))
    return [outcomes[doc.path] for doc in planned], held, counts, [used[doc.path] for doc in planned]


def every_batch(held: HeldOutputs, article_ids: list[str], schema: pa.Schema) -> list[pa.RecordBatch]:
    """Every article's output of a stage whose outputs are record batches (tag's mentions), in
    order, read through one Arrow file of the last run's (DocumentCache.get_batches): at 10,000
    documents a file per document costs seconds. The file is rewritten when the set changed."""
    name, cache = f"{held.stage}-batches", held.cache
    bundle = cache.get_batches(name)
    keys = [held.key(aid) for aid in article_ids]
    batches = [bundle[key] if key in bundle else held.get(aid) for key, aid in zip(keys, article_ids)]
    if set(keys) != bundle.keys():
        cache.put_batches(name, dict(zip(keys, batches)), schema)
    return batches


def run_article_stages(stages: list[Stage], keys: dict[str, dict[str, str]], article_ids: list[str],
                       prepared: HeldOutputs, cache: DocumentCache, shard_size: int, submit: Submit,
                       say: Callable[[str], None]) -> tuple[dict[str, HeldOutputs], dict[str, StageCounts]]:
    """The article stages' outputs by stage name, held in the cache (stored ones reused, the
    rest computed by shard tasks and stored). ``keys``: stage name -> article_id -> cache key.

    Nothing is loaded here: the corpus steps load what they need, which for an incremental
    run is the outputs of a few documents. Articles are loaded from ``prepared`` only as their
    shard is submitted. The stages' shards are interleaved, so tagging and the hygiene
    signals run side by side.
    """
    outputs, counts, jobs = {}, {}, []
    for stage in stages:
        stage_keys = keys[stage.name]
        outputs[stage.name] = held = HeldOutputs(cache, stage.name)
        for aid in article_ids:
            held.cached(aid, stage_keys[aid])
        todo = [aid for aid in article_ids if not cache.has(stage.name, stage_keys[aid])]
        counts[stage.name] = StageCounts(stage.title, len(todo), len(article_ids) - len(todo))
        say(f"{stage.title}: {counts[stage.name].reused} reused, {counts[stage.name].processed} to process")
        jobs.append([(stage, shard) for shard in shards(todo, shard_size)])
    interleaved = [job for group in zip_longest(*jobs) for job in group if job is not None]
    total = Counter(stage.name for stage, _ in interleaved)
    done: Counter[str] = Counter()
    # The stages get the same shards in turn: each shard's articles are read from the cache once.
    last: dict[str, Any] = {"ids": None, "articles": None}

    def submit_job(job):
        stage, shard = job
        if shard != last["ids"]:
            last.update(ids=shard, articles=[prepared.get(aid).article for aid in shard])
        return submit(stage, last["articles"])

    for (stage, shard), found in bounded(interleaved, submit_job):
        for article_id, output in zip(shard, found):
            cache.put(stage.name, keys[stage.name][article_id], output)
        done[stage.name] += 1
        say(f"{stage.title}: shard {done[stage.name]}/{total[stage.name]}")
    cache.flush()
    return outputs, counts
