"""`pipeline watch`: run the flow whenever the seeds folder changes.

    pipeline watch [--seeds DIR] [--data DIR] [--debounce SECONDS] [--poll SECONDS]

Polls a snapshot of the folder (relative path, size, mtime_ns of every file the flow would
see) instead of using OS file events: no extra dependency, the same on every platform and
on network file systems. A run starts once the folder has been quiet for --debounce seconds
after the last change; changes made during a run lead to one more run after it.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Callable

from pipeline.cli import run
from pipeline.cli.options import (
    EXIT_OK,
    EXIT_USAGE,
    add_run_options,
    interrupted_by_signals,
    io_error,
    seeds_folder_missing,
)
from pipeline.core.textutil import printable_path

Snapshot = dict[str, tuple]  # relative POSIX path -> (size, mtime_ns), or (size, ETag) on an object store


def snapshot(folder: str | Path) -> Snapshot:
    """Every non-hidden file under folder, recursively, as ingest.discover lists them.

    Nothing is opened: a named pipe or device is only lstat'ed, as ingest only lists it. On an
    object store: one listing, each object's (size, ETag).
    """
    from pipeline.core.location import is_remote
    from pipeline.stages.ingest import objects, walk

    if is_remote(folder):
        return {relative: (info.get("size"), info.get("ETag")) for relative, info in objects(str(folder)).items()}

    found: Snapshot = {}
    for relative, path in walk(folder):
        try:
            stat = os.lstat(path)  # a symlink is an input of its own (ingest rejects it)
        except FileNotFoundError:
            continue  # removed while walking; the next snapshot says so
        found[relative] = (stat.st_size, stat.st_mtime_ns)
    return found


def changed_paths(before: Snapshot, after: Snapshot) -> list[str]:
    """Paths added, removed or modified between two snapshots, sorted."""
    return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))


class Debouncer:
    """When to run: once no change has been seen for `quiet_s` seconds. Times are passed in."""

    def __init__(self, quiet_s: float):
        self.quiet_s = quiet_s
        self.last_change: float | None = None  # None: nothing waiting for a run

    def changed(self, now: float) -> None:
        self.last_change = now

    def request_now(self) -> None:
        """Make a run due at once (the run at start)."""
        self.last_change = float("-inf")

    def due(self, now: float) -> bool:
        return self.last_change is not None and now - self.last_change >= self.quiet_s

    def started(self) -> None:
        """A run is starting: it covers every change seen so far."""
        self.last_change = None


def watch(folder: Path, run: Callable[[], object], debounce_s: float, poll_s: float,
          clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
          say: Callable[[str], None] = print) -> None:
    """Run once now, then after every quiet spell that follows a change; returns never."""
    debouncer = Debouncer(debounce_s)
    debouncer.request_now()
    seen = snapshot(folder)
    while True:
        current = snapshot(folder)
        changed = changed_paths(seen, current)
        if changed:
            shown = ", ".join(printable_path(p) for p in changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
            say(f"watch: {len(changed)} changed: {shown}")
            debouncer.changed(clock())
            seen = current
        if debouncer.due(clock()):
            debouncer.started()
            # `seen` is what this run reads; whatever differs from it afterwards changed during the run.
            run()
        else:
            sleep(poll_s)


def _run_arguments(args: argparse.Namespace) -> argparse.Namespace:
    """`pipeline run`'s arguments: its defaults (wait for the lock, ...) with the options we share."""
    parser = argparse.ArgumentParser()
    run.add_arguments(parser)
    run_args = parser.parse_args([])
    for name in (vars(run_args).keys() & vars(args).keys()) - {"command", "handler"}:
        setattr(run_args, name, getattr(args, name))
    return run_args


def run_watch(args: argparse.Namespace) -> int:
    """The `watch` command: run on start, then on every settled change, until Ctrl-C or SIGTERM."""
    seeds = args.seeds  # a folder or an object-store URL
    try:
        if seeds_folder_missing(seeds):
            return EXIT_USAGE
    except OSError as err:
        return io_error(err, seeds)
    if args.poll <= 0 or args.debounce < 0:
        print("error: --poll must be more than 0 and --debounce at least 0 seconds", file=sys.stderr)
        return EXIT_USAGE
    run_args = _run_arguments(args)

    def run_once() -> None:
        print("watch: starting a run", flush=True)
        try:
            code = run.run_flow(run_args, check_first=False)  # each run a recorded flow run
        except Exception as err:  # one failed run must not end the watch
            print(f"watch: the run failed: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
        else:
            print(f"watch: run finished (exit code {code}); watching {printable_path(seeds)}/", flush=True)
        if stop.is_set():
            raise KeyboardInterrupt  # a signal during the run that Prefect swallowed

    print(f"watch: watching {printable_path(seeds)}/ every {args.poll:g} s; a run starts {args.debounce:g} s after the "
          "last change; Ctrl-C stops", flush=True)
    with interrupted_by_signals() as stop:
        try:
            watch(seeds, run_once, args.debounce, args.poll, say=lambda line: print(line, flush=True))
        except KeyboardInterrupt:
            print("watch: stopped", flush=True)
    return EXIT_OK


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "watch", help="run the flow whenever files under the seeds folder change",
        description="Run the flow once, then again each time files appear in, change under or "
                    "disappear from the seeds folder, once it has been quiet for --debounce seconds.")
    add_run_options(parser)
    parser.add_argument("--debounce", type=float, default=5.0, metavar="SECONDS",
                        help="quiet time after the last change before a run (default: 5)")
    parser.add_argument("--poll", type=float, default=1.0, metavar="SECONDS",
                        help="how often to look at the folder (default: 1)")
    parser.set_defaults(handler=run_watch)
