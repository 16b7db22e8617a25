"""Command line: `pipeline run`."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipeline.config import DEFAULT_SHARD_SIZE

EXIT_OK, EXIT_VALIDATION_FAILED, EXIT_USAGE, EXIT_IO_ERROR = 0, 1, 2, 3


def _run(args: argparse.Namespace) -> int:
    seeds, data = Path(args.seeds), Path(args.data)
    if not seeds.is_dir():
        print(f"error: seeds folder {seeds} does not exist or is not a folder", file=sys.stderr)
        return EXIT_USAGE
    started = time.perf_counter()
    print(f"pipeline: running the news-corpus flow on {seeds}/ into {data}/ "
          "(Prefect ephemeral mode; the first flow run starts a local server, ~10 s)", file=sys.stderr)
    from pipeline.flows import corpus_flow  # imports Prefect: keep `--help` fast

    try:
        data.mkdir(parents=True, exist_ok=True)
        summary = corpus_flow(seeds_dir=str(seeds), data_dir=str(data), shard_size=args.shard_size,
                              expectations_dir=args.expectations)
    except OSError as err:  # full disk, permissions: name the path rather than dump a traceback
        print(f"error: {err.strerror or err} ({err.filename or data}); latest was not moved",
              file=sys.stderr)
        return EXIT_IO_ERROR
    summary.elapsed_s = time.perf_counter() - started
    print("\n".join(["", "summary", "-------", *summary.lines()]))
    return EXIT_OK if summary.ok else EXIT_VALIDATION_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the flow over a seeds folder and publish a version")
    run.add_argument("--seeds", default="seeds", help="input folder (default: seeds)")
    run.add_argument("--data", default="data", help="output folder (default: data)")
    run.add_argument("--shard-size", type=int, default=DEFAULT_SHARD_SIZE,
                     help=f"documents per Prefect task (default: {DEFAULT_SHARD_SIZE})")
    run.add_argument("--expectations", default=None,
                     help="folder of Great Expectations suites (default: the project's expectations/)")
    run.set_defaults(handler=_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)
