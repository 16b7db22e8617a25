"""Command line: `pipeline run`, `validate`, `explain`, `versions`, `diff`, `report`, `serve`, `watch`.

One module per command, each with a `register(subparsers)`; the shared options and the exit
codes are in pipeline.cli.options.
"""
from __future__ import annotations

import argparse
import os
import sys

from pipeline.cli import explain, history, run, serve, validate, watch
from pipeline.cli.options import EXIT_IO_ERROR, EXIT_OK
from pipeline.core.location import StoreError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipeline", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for command in (run, validate, explain, history, serve, watch):
        command.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.handler(args)
        sys.stdout.flush()  # here, where a closed pipe can still be answered
        return code
    except BrokenPipeError:  # `pipeline explain ... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_OK
    except StoreError as err:  # an object store refusing (credentials, bucket): one line, any command
        print(f"error: {err}", file=sys.stderr)
        return EXIT_IO_ERROR
