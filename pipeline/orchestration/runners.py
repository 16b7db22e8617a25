"""Where shard tasks run: a process per core, a Dask cluster, or this process's threads."""
from __future__ import annotations

import os

from prefect.context import FlowRunContext
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner


def share_prefect_api() -> None:
    """Make worker processes started from here report to this flow's Prefect API.

    Workers inherit the environment; in ephemeral mode it names no API, so each worker would
    start a temporary Prefect server of its own (seconds and ~200 MB apiece).
    """
    if not os.environ.get("PREFECT_API_URL"):
        from prefect.client.orchestration import get_client

        os.environ["PREFECT_API_URL"] = str(get_client(sync_client=True).api_url)


class _SharesPrefectApi:
    def __enter__(self):
        share_prefect_api()
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


def task_runner(n_documents: int, shard_size: int, workers: int | None = None, dask_address: str | None = None,
                dask_workers: int | None = None):
    """Where shard tasks run: an existing Dask cluster, a local one, or a process per core.

    One shard's worth of documents to process (a small corpus, or one document added to a
    large one) has nothing to share out, so it stays in this process: starting worker
    processes (each loads spaCy) would cost more than it saves.
    """
    if dask_address:
        return DaskWorkers(address=dask_address)
    if dask_workers:
        return DaskWorkers(cluster_class="distributed.LocalCluster", cluster_kwargs={
            "n_workers": dask_workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None})
    workers = workers or os.cpu_count() or 1
    if workers > 1 and n_documents > shard_size:
        return WorkerProcesses(max_workers=workers)
    return ThreadPoolTaskRunner()


def release_workers() -> None:
    """Stop the worker processes between phases (see WorkerProcesses)."""
    runner = FlowRunContext.get().task_runner
    if isinstance(runner, WorkerProcesses):
        runner.release()
