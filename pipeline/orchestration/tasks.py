"""The Prefect task that runs a document stage over one shard of documents.

Worker processes (a process per core, Dask workers) import only this module and the modules
of the stages they are handed: not the corpus steps (GX tables, report, publishing).
"""
from __future__ import annotations

from typing import Any

from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from pipeline.core.config import PipelineConfig
from pipeline.core.stage import Stage


class Shard:
    """A shard's inputs as one opaque task argument.

    Prefect walks list and dataclass arguments element by element looking for futures: a
    tenth of a tagging worker's time. It does not open other objects, and Dask does not read
    them as task specs (as it reads a `quote`, a tuple).
    """

    __slots__ = ("items",)

    def __init__(self, items: list):
        self.items = items


def _run_shard(stage: Stage, shard: Shard, config: PipelineConfig) -> list[Any]:
    """The stage's outputs for the shard's inputs, in order."""
    outputs = stage.run(shard.items, config)
    if len(outputs) != len(shard.items):  # a stage that drops an input would lose a document
        raise RuntimeError(f"stage {stage.name} gave {len(outputs)} outputs for {len(shard.items)} inputs")
    return outputs


_SHARD_TASKS: dict[str, Task] = {}


def shard_task(stage: Stage) -> Task:
    """The task running `stage` over one shard, named after it ("tag-shard") in the UI."""
    if stage.name not in _SHARD_TASKS:
        _SHARD_TASKS[stage.name] = task(_run_shard, name=f"{stage.name}-shard", cache_policy=NO_CACHE,
                                        persist_result=False)
    return _SHARD_TASKS[stage.name]
