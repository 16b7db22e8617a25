"""Prefect's API for `pipeline serve`: the configured one, or a local Prefect server started as
a child process on 127.0.0.1 with its database in DATA/.prefect/; and the runner that
executes a deployment's scheduled runs in this process (Prefect starts each in a child).
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

SERVER_HOME = ".prefect"  # under the data folder: the server's database sits with the data
SERVER_STARTUP_TIMEOUT_S = 120.0  # a fresh database is migrated first; ~10 s on 2 shared cores


class ServerStartError(RuntimeError):
    """The local Prefect server exited or never answered its health check."""


class PrefectApi(NamedTuple):
    """A Prefect server to use: PREFECT_API_URL's value and, if known here, its UI address."""

    api_url: str
    ui_url: str | None = None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """Linux: the kernel sends the server SIGTERM if we are killed (even by SIGKILL)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class LocalPrefectServer:
    """`prefect server start` as a child process on 127.0.0.1, for as long as the `with` lasts.

    `with LocalPrefectServer(home) as server:` returns once /api/health answers; server.ui_url
    is the UI, server.api_url the value for PREFECT_API_URL. Its log is home/server.log.
    """

    def __init__(self, home: Path, host: str = "127.0.0.1", port: int | None = None,
                 startup_timeout_s: float = SERVER_STARTUP_TIMEOUT_S):
        self.home = Path(home)
        self.host, self.port = host, port or free_port(host)
        self.ui_url = f"http://{self.host}:{self.port}"
        self.api_url = f"{self.ui_url}/api"
        self.log_path = self.home / "server.log"
        self.startup_timeout_s = startup_timeout_s
        self.process: subprocess.Popen | None = None

    def server_settings(self) -> dict[str, str]:
        """Prefect settings for the server process, on top of our environment.

        The UI asks GET /ui-settings where the API is, and the server answers with its
        PREFECT_SERVER_UI_API_URL, which defaults to the default port (4200), not the one
        passed to `prefect server start --port`: without it, every page of the UI says
        "Can't connect to Server API".
        """
        return {"PREFECT_HOME": str(self.home), "PREFECT_SERVER_API_HOST": self.host,
                "PREFECT_SERVER_API_PORT": str(self.port), "PREFECT_SERVER_UI_API_URL": self.api_url,
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}

    def __enter__(self) -> "LocalPrefectServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        env = {key: value for key, value in os.environ.items()
               # The server serves the API, it does not call one; and the UI's API address is ours.
               if key not in ("PREFECT_API_URL", "PREFECT_UI_API_URL", "PREFECT_SERVER_UI_API_URL")}
        env.update(self.server_settings())
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "prefect", "server", "start", "--host", self.host, "--port", str(self.port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                # Its own process group: a terminal's Ctrl-C reaches only us, and we stop the
                # server after the runs; stop() can then end the whole group.
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        try:
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_until_healthy(self) -> None:
        # No proxies: an http_proxy in the environment must not intercept 127.0.0.1.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerStartError(f"the local Prefect server exited with code {self.process.returncode}; "
                                       f"last lines of {self.log_path}:\n{self.log_tail()}")
            try:
                with opener.open(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass  # not listening yet
            time.sleep(0.25)
        raise ServerStartError(f"the local Prefect server at {self.ui_url} was not healthy after "
                               f"{self.startup_timeout_s:g} s; last lines of {self.log_path}:\n{self.log_tail()}")

    def log_tail(self, n_lines: int = 20) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n_lines:]) or "(empty log)"

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM to the server's process group, SIGKILL after grace_s; safe to call twice."""
        if self.process is None:
            return
        # A second Ctrl-C must not cut the clean-up short; it is delivered once we are done.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait()
            self._signal_group(signal.SIGKILL)  # anything of the group that outlived its leader
            self.process = None
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)  # the group id is the leader's pid (new session)
        except ProcessLookupError:
            pass


def configured_api_url() -> str | None:
    """PREFECT_API_URL from the environment or the active Prefect profile; None if unset or empty."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    from prefect.settings import get_current_settings

    return get_current_settings().api.url or None


def prefect_api(data_dir: str | Path) -> AbstractContextManager[PrefectApi | LocalPrefectServer]:
    """The configured Prefect API (nothing started), else a LocalPrefectServer under data_dir."""
    url = configured_api_url()
    if url:
        return nullcontext(PrefectApi(url))
    from pipeline.core.location import is_remote, local_cache_dir

    # A database wants a local disk: for an object-store data folder, this machine's folder for it.
    home = local_cache_dir(str(data_dir)) if is_remote(data_dir) else Path(data_dir)
    return LocalPrefectServer(home / SERVER_HOME)


def say(message: str) -> None:
    print(f"serve: {message}", flush=True)


# State hooks: Prefect calls them in each run's child process (on_cancellation in ours when
# the runner cancels a run); the child's stdout is ours.
def _run_started(flow, flow_run, state) -> None:
    say(f"run {flow_run.name} started at {datetime.now().isoformat(timespec='seconds')}")


def _run_finished(flow, flow_run, state) -> None:
    say(f"run {flow_run.name}: {state.name}")
    if state.is_completed():
        print("\n".join(f"    {line}" for line in state.result().lines()), flush=True)


def _with_run_reports(flow):
    return flow.with_options(on_running=[_run_started], on_completion=[_run_finished],
                             on_failure=[_run_finished], on_crashed=[_run_finished],
                             on_cancellation=[_run_finished])


def serve_deployment(server: PrefectApi | LocalPrefectServer, flow, name: str, schedule: dict, parameters: dict) -> None:
    api_url = server.api_url
    # The environment reaches Prefect's run processes and every later settings read; the
    # settings context covers this process, whose settings were read when Prefect was imported.
    os.environ["PREFECT_API_URL"] = api_url
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings
    from prefect.types.entrypoint import EntrypointType

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        flow = _with_run_reports(flow)
        when = f"cron {schedule['cron']!r}" if "cron" in schedule else f"every {schedule['interval']:g} s"
        ui_url = server.ui_url or get_current_settings().ui_url
        say(f"Prefect API {api_url}" + (f"; UI at {ui_url}" if ui_url else ""))
        say(f"deployment '{flow.name}/{name}', {when}, parameters {parameters}")
        say(f"run it now with: PREFECT_API_URL={api_url} prefect deployment run '{flow.name}/{name}'")
        # What Flow.serve does, with our runner. One run at a time: runs on one data folder
        # wait for its lock anyway.
        runner = _runner_class()(name=name, limit=1)
        runner.add_flow(flow, name=name, parameters=parameters,
                        entrypoint_type=EntrypointType.MODULE_PATH, **schedule)
        say("waiting for scheduled runs; Ctrl-C stops")
        previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
        signal.signal(signal.SIGINT, runner.handle_sigterm)  # start() installs it for SIGTERM
        try:
            asyncio.run(runner.start())
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            _stop_run_processes()  # a safety net; a run must end before the server it talks to
            APILogWorker.drain_all(timeout=5)  # the runner's last log lines, while the server is up


def _stop_run_processes(grace_s: float = 10.0) -> None:
    """End runs still going: Prefect runs each in a multiprocessing child of this process."""
    runs = multiprocessing.active_children()
    for run in runs:
        run.terminate()
    for run in runs:
        run.join(grace_s)
        if run.is_alive():
            run.kill()
            run.join()


def _runner_class():
    from prefect.runner import Runner

    class CorpusRunner(Runner):
        """Prefect's Runner, stopped on SIGTERM and Ctrl-C by its own astop().

        Prefect 3.8.8's handler calls the sync stop() inside the running loop, where it only
        makes a coroutine that is never awaited: the run's process outlived the server.
        astop() cancels the runs (state Cancelled, process ended) and ends start().
        """

        def handle_sigterm(self, *args, **kwargs) -> None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                raise KeyboardInterrupt from None  # the runner is not running: just unwind
            if self.stopping:
                raise KeyboardInterrupt  # a second signal: stop waiting for the runs
            loop.call_soon_threadsafe(lambda: loop.create_task(self.astop()))

    return CorpusRunner


