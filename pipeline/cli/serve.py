"""`pipeline serve`: run the flow on a schedule, through a Prefect deployment served here.

    pipeline serve --cron "0 * * * *" | --interval SECONDS [--seeds DIR] [--data DIR] ...

With PREFECT_API_URL configured (environment or Prefect profile) the deployment goes to that
server. Otherwise a local Prefect server is started as a child process on 127.0.0.1 with its
database in DATA/.prefect/, its UI address is printed, and it is stopped on exit.
Scheduled runs are executed by this process (Prefect starts each in a child process).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.cli.options import (
    EXIT_IO_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    add_run_options,
    interrupted_by_signals,
    io_error,
    runner_options,
    seeds_folder_missing,
)
from pipeline.core.textutil import printable_path

DEPLOYMENT_NAME = "scheduled"


def flow_to_serve(args: argparse.Namespace):
    """The flow served by `pipeline serve`, with the task runner the options ask for."""
    from pipeline.orchestration.flow import configured_flow

    return configured_flow(args.seeds, args.shard_size, **runner_options(args))


def _schedule(args: argparse.Namespace) -> dict:
    """Flow.serve's keyword for the chosen schedule; ValueError if it is not valid."""
    if args.cron is not None:
        from prefect.client.schemas.schedules import CronSchedule

        try:
            CronSchedule(cron=args.cron)
        except Exception as err:  # pydantic's ValidationError, whose message names the problem
            raise ValueError(f"invalid --cron {args.cron!r}: {err}") from None
        return {"cron": args.cron}
    if not args.interval > 0:
        raise ValueError(f"--interval must be more than 0 seconds, not {args.interval:g}")
    return {"interval": args.interval}


def run_serve(args: argparse.Namespace) -> int:
    """The `serve` command: register the deployment and execute its scheduled runs until stopped."""
    from pipeline.core.location import absolute
    from pipeline.orchestration.server import LocalPrefectServer, ServerStartError, prefect_api, say, serve_deployment
    from pipeline.storage.lock import RunLock

    seeds, data = absolute(args.seeds), absolute(args.data)  # folders or object-store URLs
    try:
        if seeds_folder_missing(seeds):
            return EXIT_USAGE
        schedule = _schedule(args)
        RunLock(data).check_writable()
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:
        return io_error(err, data)
    parameters = {"seeds_dir": seeds, "data_dir": data, "shard_size": args.shard_size}
    if args.expectations:
        parameters["expectations_dir"] = str(Path(args.expectations).resolve())

    with interrupted_by_signals():  # until the runner handles them; see _runner_class
        try:
            flow = flow_to_serve(args)
            api = prefect_api(data)
            if isinstance(api, LocalPrefectServer):
                say(f"starting a local Prefect server on {api.ui_url} (database and log in {printable_path(api.home)}/)")
            with api as server:
                serve_deployment(server, flow, args.name, schedule, parameters)
        except KeyboardInterrupt:
            pass  # Ctrl-C, or SIGTERM before the runner started
        except ServerStartError as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_IO_ERROR
    say("stopped")
    return EXIT_OK


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="run the flow on a schedule (a Prefect deployment served by this process)",
        description="Register a Prefect deployment of the flow with a schedule and execute its runs "
                    "until stopped. Uses PREFECT_API_URL if set, else starts a local Prefect server "
                    "(database in DATA/.prefect/, or on this machine for an object-store DATA) and prints its UI "
                    "address.")
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", help='cron schedule in UTC, e.g. "0 * * * *" (hourly), '
                                     '"30 2 * * *" (daily at 02:30)')
    when.add_argument("--interval", type=float, metavar="SECONDS", help="run every SECONDS seconds")
    add_run_options(parser)
    parser.add_argument("--name", default=DEPLOYMENT_NAME, help=f"deployment name (default: {DEPLOYMENT_NAME})")
    parser.set_defaults(handler=run_serve)
