"""Command line: `pipeline run`, `pipeline validate FILE...`, `pipeline explain ARTICLE_ID`."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipeline import explain, history, serve
from pipeline.config import DEFAULT_SHARD_SIZE, PipelineConfig
from pipeline.textutil import printable_path

EXIT_OK, EXIT_VALIDATION_FAILED, EXIT_USAGE, EXIT_IO_ERROR, EXIT_BUSY = 0, 1, 2, 3, 4


def io_error(err: OSError, fallback: Path) -> int:
    """Full disk, permissions: one line naming the path instead of a traceback."""
    path = err.filename or fallback
    print(f"error: {err.strerror or err}: {printable_path(path)}; latest was not moved", file=sys.stderr)
    return EXIT_IO_ERROR


def seeds_folder_missing(seeds: str | Path) -> bool:
    """True, after saying so, when the seeds folder is not there (a usage error)."""
    if Path(seeds).is_dir():
        return False
    print(f"error: seeds folder {printable_path(seeds)} does not exist or is not a folder", file=sys.stderr)
    return True


def run_flow(args: argparse.Namespace) -> int:
    """`pipeline run` (and each run of `watch`): one flow run, its summary printed."""
    seeds, data = Path(args.seeds), Path(args.data)
    if seeds_folder_missing(seeds):
        return EXIT_USAGE
    started = time.perf_counter()
    print(f"pipeline: running the news-corpus flow on {printable_path(seeds)}/ into {printable_path(data)}/ "
          "(Prefect ephemeral mode; the first flow run starts a local server, ~10 s)", file=sys.stderr)
    from pipeline.storage.lock import DataFolderBusy, RunLock

    try:
        RunLock(data).check_writable()  # fail before Prefect starts, with the path
        from pipeline.flows import configured_flow  # imports Prefect: keep `--help` fast

        corpus_flow = configured_flow(str(seeds), args.shard_size, **runner_options(args))
        summary = corpus_flow(seeds_dir=str(seeds), data_dir=str(data), shard_size=args.shard_size,
                              expectations_dir=args.expectations, wait_for_lock=not args.no_wait,
                              lock_timeout_s=args.lock_timeout)
    except DataFolderBusy as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BUSY
    except OSError as err:
        return io_error(err, data)
    summary.elapsed_s = time.perf_counter() - started
    print("\n".join(["", "summary", "-------", *summary.lines()]))
    return EXIT_OK if summary.ok else EXIT_VALIDATION_FAILED


def _validate(args: argparse.Namespace) -> int:
    from pipeline.documents import check_files
    from pipeline.stages import validate

    files = [Path(f) for f in args.files]
    missing = [printable_path(f) for f in files if not f.exists() and not f.is_symlink()]
    if missing:
        print(f"error: no such file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    suites_dir = Path(args.expectations) if args.expectations else validate.SUITES_DIR
    verdicts = check_files(files, PipelineConfig(), suites_dir, _existing_content(Path(args.data)))
    for verdict in verdicts:
        print("\n".join(verdict.lines()))
    failed = sum(not v.passed for v in verdicts)
    print(f"{len(verdicts)} files: {len(verdicts) - failed} passed, {failed} failed")
    return EXIT_VALIDATION_FAILED if failed else EXIT_OK


def _existing_content(data_dir: Path) -> dict[str, str]:
    """content_sha256 -> article_id of the latest published version, if there is one."""
    path = data_dir / "latest" / "articles.parquet"
    if not path.exists():
        return {}
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["content_sha256", "article_id"]).to_pylist()
    return {row["content_sha256"]: row["article_id"] for row in sorted(table, key=lambda r: r["article_id"])}


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """What a run reads and writes, and where its tasks run: shared by run, serve and watch."""
    parser.add_argument("--seeds", default="seeds", help="input folder (default: seeds)")
    parser.add_argument("--data", default="data", help="output folder (default: data)")
    parser.add_argument("--shard-size", type=int, default=DEFAULT_SHARD_SIZE,
                        help=f"documents per Prefect task (default: {DEFAULT_SHARD_SIZE})")
    parser.add_argument("--expectations", default=None,
                        help="folder of Great Expectations suites (default: the project's expectations/)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="worker processes on this machine (default: one per core; 1 runs in-process)")
    where.add_argument("--dask-address", default=None, metavar="tcp://HOST:PORT",
                       help="run the tasks on this existing Dask cluster (seeds and data on a shared filesystem)")
    where.add_argument("--dask-workers", type=int, default=None, metavar="N",
                       help="start a local Dask cluster of N worker processes for this run")


def runner_options(args: argparse.Namespace) -> dict:
    return {"workers": args.workers, "dask_address": args.dask_address, "dask_workers": args.dask_workers}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the flow over a seeds folder and publish a version")
    add_run_options(run)
    run.add_argument("--no-wait", action="store_true",
                     help="if another run holds the data folder, fail at once (exit 4) instead of waiting")
    run.add_argument("--lock-timeout", type=float, default=None, metavar="SECONDS",
                     help="wait at most this long for another run on the data folder (default: no limit)")
    run.set_defaults(handler=run_flow)

    check = commands.add_parser(
        "validate", help="check new documents (ingest, extract, normalize, document rules, tag); publish nothing",
        description="Takes each FILE through the per-document stages and rules of a run and prints "
                    "PASS or FAIL with the reason; exits 1 if any file fails.")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.add_argument("--data", default="data",
                       help="published corpus to check duplicates against (default: data)")
    check.add_argument("--expectations", default=None,
                       help="folder of Great Expectations suites (default: the project's expectations/)")
    check.set_defaults(handler=_validate)
    explain.register(commands)
    history.register(commands)
    serve.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)
