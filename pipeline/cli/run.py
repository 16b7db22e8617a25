"""`pipeline run`: one flow run over a seeds folder, its summary printed."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipeline.cli.options import (
    EXIT_BUSY,
    EXIT_OK,
    EXIT_USAGE,
    EXIT_VALIDATION_FAILED,
    add_run_options,
    io_error,
    runner_options,
    seeds_folder_missing,
)
from pipeline.core.textutil import printable_path
from pipeline.storage.lock import DEFAULT_TTL_S


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_options(parser)
    parser.add_argument("--no-wait", action="store_true",
                        help="if another run holds the data folder, fail at once (exit 4) instead of waiting")
    parser.add_argument("--lock-timeout", type=float, default=None, metavar="SECONDS",
                        help="wait at most this long for another run on the data folder (default: no limit)")
    parser.add_argument("--lock-ttl", type=float, default=DEFAULT_TTL_S, metavar="SECONDS",
                        help="on an object store: how long the run's lock outlives a run that died without "
                             f"releasing it (default: {DEFAULT_TTL_S:g}; the run renews it every third of that)")


def register(subparsers) -> None:
    parser = subparsers.add_parser("run", help="run the flow over a seeds folder and publish a version")
    add_arguments(parser)
    parser.set_defaults(handler=run_flow)


def run_flow(args: argparse.Namespace, check_first: bool = True) -> int:
    """`pipeline run` (and each run of `watch`): one flow run, its summary printed.

    check_first: when the latest version was built from these inputs, code and config, say so
    without starting Prefect (no flow run is recorded); `watch` runs the flow, which checks too.
    """
    seeds, data = args.seeds, args.data  # folders or object-store URLs
    started = time.perf_counter()
    from pipeline.storage.lock import DataFolderBusy, RunLock

    try:
        if seeds_folder_missing(seeds):
            return EXIT_USAGE
        RunLock(data).check_writable()  # fail before Prefect starts, with the path
        plan = _plan(seeds, data, args.expectations) if check_first else None
        if plan is not None and plan.nothing_new:
            return _report(_unchanged(plan, seeds, started))
        print(f"pipeline: running the news-corpus flow on {printable_path(seeds)}/ into {printable_path(data)}/ "
              "(Prefect ephemeral mode; the first flow run starts a local server, ~10 s)", file=sys.stderr)
        from pipeline.orchestration.flow import configured_flow  # imports Prefect: keep `--help` fast

        corpus_flow = configured_flow(str(seeds), args.shard_size, **runner_options(args),
                                      n_documents=plan.documents_to_process() if plan is not None else None)
        summary = corpus_flow(seeds_dir=str(seeds), data_dir=str(data), shard_size=args.shard_size,
                              expectations_dir=args.expectations, wait_for_lock=not args.no_wait,
                              lock_timeout_s=args.lock_timeout, lock_ttl_s=args.lock_ttl)
    except DataFolderBusy as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BUSY
    except OSError as err:
        return io_error(err, data)
    summary.elapsed_s = time.perf_counter() - started
    return _report(summary)


def _plan(seeds: str, data: str, expectations: str | None):
    """The run's plan when there is a latest version to compare with (made without Prefect:
    a run with nothing new ends here); None for a first run."""
    from pipeline.checks.gx import SUITES_DIR
    from pipeline.core.config import PipelineConfig
    from pipeline.orchestration.plan import plan_if_published

    return plan_if_published(seeds, data, PipelineConfig(), Path(expectations) if expectations else SUITES_DIR)


def _unchanged(plan, seeds: str, started: float):
    from pipeline.orchestration.plan import NOTHING_NEW

    print(f"found {len(plan.planned)} input files under {printable_path(seeds)}", file=sys.stderr)
    print(NOTHING_NEW, file=sys.stderr)
    return plan.unchanged_summary(started)


def _report(summary) -> int:
    print("\n".join(["", "summary", "-------", *summary.lines()]))
    return EXIT_OK if summary.ok else EXIT_VALIDATION_FAILED
