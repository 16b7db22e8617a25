"""What the commands share: the exit codes (one meaning each), options and error lines."""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pipeline.core.config import DEFAULT_SHARD_SIZE
from pipeline.core.textutil import printable_path
from pipeline.storage.versions import NoVersions, UnknownVersion

EXIT_OK = 0
EXIT_VALIDATION_FAILED = 1  # run: the version failed validation (latest not moved); validate: a file failed
EXIT_USAGE = 2  # bad arguments, no seeds folder, unknown article or version
EXIT_IO_ERROR = 3  # data folder unwritable, full disk, nothing published yet, Prefect server did not start
EXIT_BUSY = 4  # another run holds the data folder


def add_data_option(parser: argparse.ArgumentParser, what: str = "data folder") -> None:
    parser.add_argument("--data", default="data", help=f"{what} (default: data)")


def add_expectations_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--expectations", default=None,
                        help="folder of Great Expectations suites (default: the project's expectations/)")


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """What a run reads and writes, and where its tasks run: shared by run, serve and watch."""
    parser.add_argument("--seeds", default="seeds", help="input folder or object-store URL such as s3://bucket/seeds "
                                                         "(default: seeds)")
    add_data_option(parser, "output folder")
    parser.add_argument("--shard-size", type=int, default=DEFAULT_SHARD_SIZE,
                        help=f"documents per Prefect task (default: {DEFAULT_SHARD_SIZE})")
    add_expectations_option(parser)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="worker processes on this machine (default: one per core; 1 runs in-process)")
    where.add_argument("--dask-address", default=None, metavar="tcp://HOST:PORT",
                       help="run the tasks on this existing Dask cluster (seeds on an object store, "
                            "or at the same path on every worker)")
    where.add_argument("--dask-workers", type=int, default=None, metavar="N",
                       help="start a local Dask cluster of N worker processes for this run")


def runner_options(args: argparse.Namespace) -> dict:
    return {"workers": args.workers, "dask_address": args.dask_address, "dask_workers": args.dask_workers}


def io_error(err: OSError, fallback: str | Path) -> int:
    """Full disk, permissions, an object store refusing: one line naming the path or URL
    instead of a traceback."""
    from pipeline.core.location import StoreError

    if isinstance(err, StoreError):
        print(f"error: {printable_path(str(err))}; latest was not moved", file=sys.stderr)
        return EXIT_IO_ERROR
    path = err.filename or fallback
    print(f"error: {err.strerror or err}: {printable_path(path)}; latest was not moved", file=sys.stderr)
    return EXIT_IO_ERROR


def seeds_folder_missing(seeds: str | Path) -> bool:
    """True, after saying so, when the seeds folder is not there (a usage error). On an object
    store, a StoreError when the bucket is missing or refuses these credentials."""
    from pipeline.stages.ingest import seeds_exist

    if seeds_exist(seeds):
        return False
    print(f"error: seeds folder {printable_path(seeds)} does not exist or is not a folder", file=sys.stderr)
    return True


def version_error(err: UnknownVersion) -> int:
    """One line; nothing published yet is an I/O matter, a wrong name a usage error."""
    print(f"error: {printable_path(err)}", file=sys.stderr)
    return EXIT_IO_ERROR if isinstance(err, NoVersions) else EXIT_USAGE


@contextmanager
def interrupted_by_signals() -> Iterator[threading.Event]:
    """SIGINT and SIGTERM raise KeyboardInterrupt (so `finally` blocks and atexit handlers run)
    and set the event yielded: Prefect swallows a KeyboardInterrupt that lands just after a
    flow's own code has finished, and the event still says to stop."""
    stop = threading.Event()

    def interrupt(signum, frame):
        stop.set()
        raise KeyboardInterrupt

    previous = {signum: signal.signal(signum, interrupt) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
