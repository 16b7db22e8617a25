"""`pipeline validate FILE...`: new documents through a run's per-document stages and rules."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.cli.options import EXIT_OK, EXIT_USAGE, EXIT_VALIDATION_FAILED, add_data_option, add_expectations_option
from pipeline.core.config import PipelineConfig
from pipeline.core.textutil import printable_path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "validate", help="check new documents (ingest, extract, normalize, document rules, tag); publish nothing",
        description="Takes each FILE through the per-document stages and rules of a run and prints "
                    "PASS or FAIL with the reason; exits 1 if any file fails.")
    parser.add_argument("files", nargs="+", metavar="FILE")
    add_data_option(parser, "published corpus to check duplicates against")
    add_expectations_option(parser)
    parser.set_defaults(handler=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    from pipeline.checks.files import check_files
    from pipeline.checks.gx import SUITES_DIR

    files = [Path(f) for f in args.files]
    missing = [printable_path(f) for f in files if not f.exists() and not f.is_symlink()]
    if missing:
        print(f"error: no such file: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    suites_dir = Path(args.expectations) if args.expectations else SUITES_DIR
    verdicts = check_files(files, PipelineConfig(), suites_dir, _existing_content(args.data))
    for verdict in verdicts:
        print("\n".join(verdict.lines()))
    failed = sum(not v.passed for v in verdicts)
    print(f"{len(verdicts)} files: {len(verdicts) - failed} passed, {failed} failed")
    return EXIT_VALIDATION_FAILED if failed else EXIT_OK


def _existing_content(data_dir: str) -> dict[str, str]:
    """content_sha256 -> article_id of the latest published version, if there is one."""
    from pipeline.storage.loading import read_table
    from pipeline.storage.versions import LATEST, UnknownVersion, VersionStore, resolve_version

    try:
        latest = resolve_version(data_dir, LATEST)
    except UnknownVersion:
        return {}
    location = VersionStore(data_dir).version_location(latest)
    table = read_table(location, "articles", columns=["content_sha256", "article_id"]).to_pylist()
    return {row["content_sha256"]: row["article_id"] for row in sorted(table, key=lambda r: r["article_id"])}
