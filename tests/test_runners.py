"""Where the shard tasks run: in-process threads, a process per core, a Dask cluster.

Every runner must publish the same bytes: the flow collects shard results in input order, so
which worker finished first never shows in the tables.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import psutil
import pytest
from conftest import table_bytes
from distributed import LocalCluster
from prefect import flow
from prefect.context import FlowRunContext
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
from prefect_dask import DaskTaskRunner

from pipeline.cli import build_parser
from pipeline.core.config import PipelineConfig
from pipeline.orchestration.flow import configured_flow
from pipeline.orchestration.runners import WorkerProcesses, task_runner
from pipeline.orchestration.tasks import Shard, shard_task
from pipeline.stages.hygiene.signals import SIGNALS
from pipeline.storage.versions import MANIFEST

# Two documents per shard: the five seeds plus two quarantined inputs make four shards.
SHARD_SIZE = 2


@pytest.fixture(scope="module")
def seeds(tmp_path_factory, seeds_dir) -> Path:
    folder = tmp_path_factory.mktemp("seeds")
    shutil.copytree(seeds_dir, folder, dirs_exist_ok=True)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    return folder


def _published(seeds: Path, data: Path, **runner) -> dict[str, bytes]:
    summary = configured_flow(str(seeds), SHARD_SIZE, **runner)(
        seeds_dir=str(seeds), data_dir=str(data), shard_size=SHARD_SIZE)
    assert summary.ok and summary.counts["prepare"].processed == 7
    version = data / "latest"
    return {**table_bytes(version), **{name: (version / name).read_bytes() for name in (MANIFEST, "report.html")}}


@pytest.fixture(scope="module")
def in_process(seeds, tmp_path_factory) -> dict[str, bytes]:
    return _published(seeds, tmp_path_factory.mktemp("threads"), workers=1)


def test_runner_choice():
    assert isinstance(task_runner(100, 32, workers=2), ProcessPoolTaskRunner)
    assert isinstance(task_runner(100, 32, workers=1), ThreadPoolTaskRunner)
    # One shard of inputs: nothing to share out, so no worker processes to start.
    assert isinstance(task_runner(32, 32, workers=2), ThreadPoolTaskRunner)
    assert isinstance(task_runner(5, 32, dask_workers=2), DaskTaskRunner)
    assert isinstance(task_runner(5, 32, dask_address="tcp://127.0.0.1:8786"), DaskTaskRunner)


def test_cli_runner_options_exclude_each_other(capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["run", "--workers", "2", "--dask-workers", "2"])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_process_pool_publishes_the_same_bytes(seeds, tmp_path, in_process):
    assert _published(seeds, tmp_path / "data", workers=2) == in_process


def test_worker_processes_stop_between_phases():
    """A released pool leaves no process behind (nor its models' memory); the next task
    submitted starts fresh workers."""
    @flow(persist_result=False)
    def two_phases() -> list[set[int]]:
        runner = FlowRunContext.get().task_runner
        workers = []
        for _ in range(2):
            assert shard_task(SIGNALS).submit(SIGNALS, Shard([]), PipelineConfig()).result() == []
            workers.append(set(runner._executor._processes))
            runner.release()
        return workers

    first, second = two_phases.with_options(task_runner=WorkerProcesses(max_workers=1))()
    assert len(first) == len(second) == 1 and first != second
    assert not any(psutil.pid_exists(pid) for pid in first | second)


def test_local_dask_cluster_publishes_the_same_bytes(seeds, tmp_path, in_process):
    assert _published(seeds, tmp_path / "data", dask_workers=2) == in_process


def test_existing_dask_cluster_publishes_the_same_bytes(seeds, tmp_path, in_process):
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert _published(seeds, tmp_path / "data", dask_address=cluster.scheduler_address) == in_process
