"""`pipeline serve` (scheduled runs, local Prefect server) and `pipeline watch` (runs on change).

The end-to-end tests run the real commands as subprocesses with their own PREFECT_HOME and
no PREFECT_API_URL, and check that stopping them leaves no process behind.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import psutil
import pyarrow.parquet as pq
import pytest
from conftest import SEEDS

from pipeline.cli import build_parser
from pipeline.cli import main as cli_main
from pipeline.cli.options import EXIT_OK, EXIT_USAGE
from pipeline.cli.watch import Debouncer, _run_arguments, changed_paths, snapshot, watch
from pipeline.orchestration.server import LocalPrefectServer, PrefectApi, ServerStartError, prefect_api

# --- the watcher's logic, without Prefect or real time ---------------------------------


def test_debouncer_waits_for_a_quiet_spell_after_the_last_change():
    debouncer = Debouncer(quiet_s=2)
    assert not debouncer.due(100)  # nothing changed
    debouncer.changed(10)
    assert not debouncer.due(11.9)
    debouncer.changed(11)  # a second change restarts the wait
    assert not debouncer.due(12.5)
    assert debouncer.due(13)
    debouncer.started()
    assert not debouncer.due(1000)  # the run covers every change seen so far


def test_debouncer_runs_at_once_when_asked_and_again_after_a_change_during_the_run():
    debouncer = Debouncer(quiet_s=5)
    debouncer.request_now()
    assert debouncer.due(0)
    debouncer.started()
    debouncer.changed(3)  # seen after the run started
    assert not debouncer.due(7.9)
    assert debouncer.due(8)


def test_snapshot_sees_added_modified_and_removed_files_but_not_hidden_ones(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub" / "b.html").write_text("b")
    (tmp_path / ".swp").write_text("editor")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("x")
    before = snapshot(tmp_path)
    assert sorted(before) == ["a.txt", "sub/b.html"]

    (tmp_path / "a.txt").write_text("a, edited")
    (tmp_path / "sub" / "b.html").unlink()
    (tmp_path / "sub" / "c.txt").write_text("c")
    (tmp_path / ".swp").write_text("editor, again")
    assert changed_paths(before, snapshot(tmp_path)) == ["a.txt", "sub/b.html", "sub/c.txt"]
    assert changed_paths(before, before) == []


def test_snapshot_lists_pipes_and_folder_links_as_discover_does_without_opening_them(tmp_path):
    import threading

    from pipeline.stages.ingest import discover

    (tmp_path / "a.txt").write_text("a")
    os.mkfifo(tmp_path / "feed.txt")
    (tmp_path / "loop").symlink_to("..")
    found: list = []
    worker = threading.Thread(target=lambda: found.append(snapshot(tmp_path)), daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # give the stuck reader EOF, then fail
        os.close(os.open(tmp_path / "feed.txt", os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("snapshot opened the named pipe")
    assert sorted(found[0]) == discover(tmp_path) == ["a.txt", "feed.txt", "loop"]


class FakeTime:
    """A clock that moves only when the watcher sleeps (or a fake run takes time)."""

    def __init__(self, events: dict[float, Callable[[], None]]):
        self.now = 0.0
        self.events = dict(events)  # time -> change to make in the folder once it is reached

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        for at in sorted(t for t in self.events if t <= self.now):
            self.events.pop(at)()


class StopWatching(Exception):
    pass


def test_watch_runs_at_start_after_quiet_changes_and_after_a_change_during_a_run(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    fake = FakeTime({1.0: lambda: (tmp_path / "b.txt").write_text("b"),
                     1.4: lambda: (tmp_path / "a.txt").write_text("a, edited")})
    runs: list[float] = []

    def run() -> None:
        runs.append(fake.now)
        if len(runs) == 2:  # this run takes 10 s, and a file arrives meanwhile
            (tmp_path / "c.txt").write_text("c")
            fake.now += 10
        if len(runs) == 3:
            raise StopWatching

    said: list[str] = []
    with pytest.raises(StopWatching):
        watch(tmp_path, run, debounce_s=2, poll_s=0.5, clock=fake.clock, sleep=fake.sleep, say=said.append)
    # start; 2 s after the change seen at 1.5; 2 s after the change seen when run 2 ended (13.5)
    assert runs == [0.0, 3.5, 15.5]
    assert said == ["watch: 1 changed: b.txt", "watch: 1 changed: a.txt", "watch: 1 changed: c.txt"]


def test_watch_runs_with_pipeline_runs_defaults_and_its_own_options():
    parser = build_parser()
    args = parser.parse_args(["watch", "--seeds", "in", "--data", "out", "--shard-size", "7", "--workers", "1"])
    run_args = _run_arguments(args)
    assert (run_args.seeds, run_args.data, run_args.shard_size, run_args.workers) == ("in", "out", 7, 1)
    assert run_args.no_wait is False and run_args.lock_timeout is None  # waits for another run's lock
    assert not hasattr(run_args, "debounce")  # watch's own options stay with watch


# --- serve: which Prefect server, and usage errors ----------------------------------------


def test_with_prefect_api_url_set_no_server_is_started(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example:4200/api")
    api = prefect_api(tmp_path / "data")
    assert not isinstance(api, LocalPrefectServer)
    with api as server:
        assert server == PrefectApi("http://prefect.example:4200/api")
    assert not (tmp_path / "data").exists()  # no server home, no database


def test_without_prefect_api_url_a_local_server_is_planned_under_the_data_folder(tmp_path, monkeypatch):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.setenv("PREFECT_API_URL", "")  # empty counts as unset
    with temporary_settings(restore_defaults={PREFECT_API_URL}):  # whatever the Prefect profile says
        api = prefect_api(tmp_path / "data")
    assert isinstance(api, LocalPrefectServer)
    assert api.home == tmp_path / "data" / ".prefect"
    assert api.api_url == f"{api.ui_url}/api" and api.ui_url.startswith("http://127.0.0.1:")
    assert api.process is None  # nothing runs until the `with`


def test_a_local_server_that_cannot_start_is_reported_with_its_log(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = LocalPrefectServer(tmp_path / "home", port=taken.getsockname()[1], startup_timeout_s=60)
        with pytest.raises(ServerStartError, match="exited with code") as err:
            server.start()
    assert "already in use" in str(err.value)  # the server's own words, from its log
    assert server.process is None


@pytest.mark.parametrize("schedule, message", [
    (["--interval", "0"], "--interval must be more than 0"),
    (["--cron", "every hour"], "invalid --cron"),
])
def test_serve_rejects_a_bad_schedule_before_starting_anything(tmp_path, capsys, schedule, message):
    code = cli_main(["serve", *schedule, "--seeds", str(SEEDS), "--data", str(tmp_path / "data")])
    assert code == EXIT_USAGE
    assert message in capsys.readouterr().err
    assert not (tmp_path / "data" / ".prefect").exists()


def test_serve_and_watch_need_an_existing_seeds_folder(tmp_path, capsys):
    missing = str(tmp_path / "missing")
    assert cli_main(["serve", "--interval", "60", "--seeds", missing, "--data", str(tmp_path)]) == EXIT_USAGE
    assert cli_main(["watch", "--seeds", missing, "--data", str(tmp_path)]) == EXIT_USAGE
    assert capsys.readouterr().err.count("does not exist") == 2


def test_watch_rejects_a_poll_interval_of_zero(tmp_path, capsys):
    assert cli_main(["watch", "--seeds", str(SEEDS), "--data", str(tmp_path), "--poll", "0"]) == EXIT_USAGE
    assert "--poll must be more than 0" in capsys.readouterr().err


def test_serve_needs_exactly_one_schedule(capsys):
    for argv in (["serve"], ["serve", "--interval", "5", "--cron", "* * * * *"]):
        with pytest.raises(SystemExit) as exit_:
            build_parser().parse_args(argv)
        assert exit_.value.code == EXIT_USAGE


# --- end to end: the real commands as subprocesses -----------------------------------------


@contextmanager
def running_pipeline(args: list[str], tmp_path: Path, name: str) -> Iterator[tuple[subprocess.Popen, Path]]:
    """`python -m pipeline ARGS` with its own PREFECT_HOME, no PREFECT_API_URL, output to a file.

    Whatever happens in the test, the command and everything it started are gone afterwards.
    """
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / f"{name}-prefect-home"), PYTHONUNBUFFERED="1",
               # Test only: the runner looks for due runs every 2 s instead of 10.
               PREFECT_RUNNER_POLL_FREQUENCY="2")
    log_path = tmp_path / f"{name}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "pipeline", *args], stdout=log,
                                stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    try:
        yield proc, log_path
    finally:
        if proc.poll() is None:  # the test failed while it ran
            family = [psutil.Process(proc.pid), *descendants(proc)]
            for process in family:
                try:
                    process.kill()
                except psutil.NoSuchProcess:
                    pass
            psutil.wait_procs(family, timeout=15)


def descendants(proc: subprocess.Popen) -> set[psutil.Process]:
    try:
        return set(psutil.Process(proc.pid).children(recursive=True))
    except psutil.NoSuchProcess:
        return set()


def wait_for(condition: Callable[[], bool], what: str, proc: subprocess.Popen, log_path: Path,
             timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        output = log_path.read_text(errors="replace")[-4000:]
        if proc.poll() is not None:
            pytest.fail(f"exited with {proc.returncode} before {what}; output:\n{output}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} after {timeout_s} s; output:\n{output}")
        time.sleep(0.3)


def stop_cleanly(proc: subprocess.Popen, signum: int, started: set[psutil.Process]) -> None:
    """Signal the command; it must exit 0 and take every process it started with it."""
    proc.send_signal(signum)
    assert proc.wait(timeout=60) == EXIT_OK
    _, alive = psutil.wait_procs(started, timeout=15)
    assert alive == [], f"left behind: {[(p.pid, p.cmdline()) for p in alive]}"


def test_serve_runs_on_schedule_with_its_own_server_and_stops_without_leftovers(tmp_path):
    seeds, data = shutil.copytree(SEEDS, tmp_path / "seeds"), tmp_path / "data"
    os.mkfifo(seeds / "feed.txt")  # a named pipe nobody writes to: never opened, so no run waits on it
    started: set[psutil.Process] = set()  # every process seen under `serve`: server and runs
    args = ["serve", "--interval", "5", "--seeds", str(seeds), "--data", str(data)]
    with running_pipeline(args, tmp_path, "serve") as (proc, log_path):
        def published() -> bool:
            started.update(descendants(proc))
            # The run's own end, not just its files: stopping between publish and the end of
            # the flow (artifacts, run log) would cancel it.
            return (data / "latest" / "manifest.json").exists() and ": Completed" in log_path.read_text()

        # ~10 s server start, up to 5 + 2 s until the runner takes the first run, ~25 s run
        wait_for(published, "completed run with a published version", proc, log_path, timeout_s=150)
        stop_cleanly(proc, signal.SIGTERM, started)
    output = log_path.read_text()
    assert "serve: Prefect API http://127.0.0.1:" in output and "; UI at http://127.0.0.1:" in output
    assert "deployment 'news-corpus/scheduled', every 5 s" in output
    assert " started at " in output and ": Completed" in output
    assert output.rstrip().endswith("serve: stopped")
    assert (data / ".prefect" / "prefect.db").exists()  # the server's database sits with the data
    assert "feed.txt: ingest/not_a_regular_file" in [line.strip() for line in output.splitlines()]
    assert quarantined(data) == {"feed.txt": "ingest/not_a_regular_file"}


def latest_source_paths(data: Path) -> set[str]:
    try:
        return set(pq.read_table(data / "latest" / "articles", columns=["source_path"])
                   .column("source_path").to_pylist())
    except (OSError, ValueError):  # nothing published yet
        return set()


def quarantined(data: Path) -> dict[str, str]:
    rows = pq.read_table(data / "latest" / "quarantine", columns=["source_path", "stage", "reason"])
    return {r["source_path"]: f"{r['stage']}/{r['reason']}" for r in rows.to_pylist()}


def test_watch_runs_at_start_and_when_a_seed_is_added(tmp_path):
    seeds, data = shutil.copytree(SEEDS, tmp_path / "seeds"), tmp_path / "data"
    os.mkfifo(seeds / "feed.txt")  # neither the watcher's polling nor the runs open it
    started: set[psutil.Process] = set()  # Prefect's ephemeral server among them
    args = ["watch", "--debounce", "1", "--poll", "0.2", "--seeds", str(seeds), "--data", str(data)]
    with running_pipeline(args, tmp_path, "watch") as (proc, log_path):
        def published(source_path: str) -> Callable[[], bool]:
            def check() -> bool:
                started.update(descendants(proc))
                return source_path in latest_source_paths(data)
            return check

        original = sorted(SEEDS.glob("*.txt"))[0]
        wait_for(published(original.name), "first version", proc, log_path, timeout_s=120)
        new_seed = seeds / "later" / "new_story.txt"
        new_seed.parent.mkdir()
        new_seed.write_text(original.read_text(encoding="utf-8")
                            + "\n\nThe watcher test added this paragraph to tell the new story apart.\n",
                            encoding="utf-8")
        wait_for(published("later/new_story.txt"), "version with the new seed", proc, log_path, timeout_s=90)
        # Stop after the run's end, not its files: a signal between publish and the end of the
        # flow (artifacts, run log) would cancel it.
        wait_for(lambda: log_path.read_text().count("watch: run finished") == 2, "end of the second run",
                 proc, log_path, timeout_s=60)
        stop_cleanly(proc, signal.SIGINT, started)
    output = log_path.read_text()
    assert "watch: 1 changed: later/new_story.txt" in output
    # In both runs' summaries.
    assert [line.strip() for line in output.splitlines()].count("feed.txt: ingest/not_a_regular_file") == 2
    assert quarantined(data) == {"feed.txt": "ingest/not_a_regular_file"}
    assert output.count("watch: run finished (exit code 0)") == 2
    assert output.rstrip().endswith("watch: stopped")
