"""The IO manager of a run's document stages: stored outputs reused, the rest computed by
shard tasks and stored, and the outputs a later phase needs held in the cache, not memory.

Nothing here imports Prefect: a phase gets a `submit(stage, shard) -> future` function.
"""
from __future__ import annotations

from collections import Counter
from itertools import zip_longest
from typing import Any, Callable

from pipeline.checks.documents import DocumentRow, document_row
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

    def keep(doc: PlannedDocument, outcome: Prepared | Rejected) -> None:
        if isinstance(outcome, Prepared):
            held.cached(outcome.article.article_id, doc.key)
            outcome = document_row(outcome.article)
        outcomes[doc.path] = outcome
        used[doc.path] = doc

    todo = []
    for doc in planned:
        reused = cache.get(stage.name, doc.key)
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
            keep(doc, outcome)
        say(f"{stage.title}: shard {done}/{len(jobs)}")
    counts = StageCounts(stage.title, len(todo), len(planned) - len(todo))
    return [outcomes[doc.path] for doc in planned], held, counts, [used[doc.path] for doc in planned]


def run_article_stages(stages: list[Stage], keys: dict[str, dict[str, str]], article_ids: list[str],
                       prepared: HeldOutputs, cache: DocumentCache, shard_size: int, submit: Submit,
                       say: Callable[[str], None]) -> tuple[dict[str, dict[str, Any]], dict[str, StageCounts]]:
    """The article stages' outputs by stage name and article_id: stored ones reused, the rest
    computed by shard tasks. ``keys``: stage name -> article_id -> cache key.

    Articles are loaded from ``prepared`` only as their shard is submitted. The stages'
    shards are interleaved, so tagging and the hygiene signals run side by side.
    """
    outputs, counts, jobs = {}, {}, []
    for stage in stages:
        stage_keys = keys[stage.name]
        outputs[stage.name] = {aid: cache.get(stage.name, stage_keys[aid]) for aid in article_ids}
        todo = [aid for aid in article_ids if outputs[stage.name][aid] is None]
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
            outputs[stage.name][article_id] = output
            cache.put(stage.name, keys[stage.name][article_id], output)
        done[stage.name] += 1
        say(f"{stage.title}: shard {done[stage.name]}/{total[stage.name]}")
    return outputs, counts


def held_documents(article_ids: list[str], held: HeldOutputs) -> tuple[list, dict]:
    """The prepared articles (without their blocks) and each one's boilerplate rows."""
    articles, boilerplate = [], {}
    for article_id in article_ids:
        document = held.get(article_id)
        articles.append(document.article)
        boilerplate[article_id] = document.boilerplate
    return articles, boilerplate
