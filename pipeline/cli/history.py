"""`pipeline versions`, `pipeline diff A B`, `pipeline report [VERSION]`: the published versions.

    pipeline versions [--data DIR]          # every version, oldest first, with counts; marks latest
    pipeline diff A B [--data DIR]          # articles added, removed or changed from A to B
    pipeline report [VERSION] [--data DIR]  # path of the version's report.html (made if missing)

A version is named by its full id, a unique prefix of it, or `latest`.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.cli.options import EXIT_OK, add_data_option, version_error
from pipeline.core.textutil import printable_path
from pipeline.reporting.report import REPORT_FILE, table_rows, write_report
from pipeline.storage.loading import duckdb_source, table_files
from pipeline.storage.versions import (
    LATEST,
    VERSIONS,
    UnknownVersion,
    VersionStore,
    resolve_version,
    version_ids,
)

# Per-article tables whose rows a diff compares besides the article's own row.
ARTICLE_PARTS = ("paragraphs", "entities")


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def finished_times(data_dir: str | Path) -> dict[str, datetime]:
    """version_id -> when a run first published it, from DATA/runs.jsonl."""
    times: dict[str, datetime] = {}
    for line in VersionStore(data_dir).runs_log().splitlines():
        try:
            entry = json.loads(line)
            moment = datetime.fromisoformat(entry["finished_at"])
            version_id = entry["version_id"]
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a killed run, or an older format: the mtime will do
        if version_id not in times or moment < times[version_id]:
            times[version_id] = moment
    return times


@dataclass(frozen=True)
class VersionInfo:
    version_id: str
    date: datetime
    date_from_runs: bool  # False: the manifest file's mtime (no runs.jsonl entry)
    n_inputs: int
    rows: dict[str, int]
    validation: dict
    is_latest: bool


def list_versions(data_dir: str | Path) -> list[VersionInfo]:
    """Every version under data_dir (a folder or an object-store URL), oldest first."""
    store = VersionStore(data_dir)
    times = finished_times(data_dir)
    latest = store.latest_version()
    infos = []
    for version_id in version_ids(data_dir):
        manifest = store.read_manifest(version_id) or {}
        # Fallback: when the manifest was written, once at publish (the folder's own mtime
        # changes when a report is added later).
        date = times.get(version_id) or store.published_at(version_id)
        infos.append(VersionInfo(version_id, date, version_id in times, len(manifest.get("inputs", [])),
                                 table_rows(store.versions_dir / version_id, manifest),
                                 manifest.get("validation") or {}, version_id == latest))
    return sorted(infos, key=lambda info: (info.date, info.version_id))


VERSION_COLUMNS = (("inputs", None), ("articles", "articles"), ("quarantined", "quarantine"),
                   ("paragraphs", "paragraphs"), ("mentions", "entities"), ("entities", "entity_catalog"))


def _validation_cell(validation: dict) -> str:
    if not validation:
        return "-"
    return "passed" if validation.get("success") else f"FAILED ({validation.get('n_failures', 0)} failed)"


def run_versions(args: argparse.Namespace, out=None) -> int:
    out = out or sys.stdout
    data = args.data
    infos = list_versions(data)
    if not infos:
        print(f"no versions under {printable_path(data)}/ (run `pipeline run --data {printable_path(data)}` first)",
              file=out)
        return EXIT_OK
    header = f"{'version':<16}  {'date (UTC)':<20}" + "".join(f"{name:>12}" for name, _ in VERSION_COLUMNS)
    print(header + "  validation", file=out)
    for info in infos:
        values = [info.n_inputs if table is None else info.rows.get(table, "-") for _, table in VERSION_COLUMNS]
        date = _utc(info.date) + ("" if info.date_from_runs else "~")
        line = f"{info.version_id:<16}  {date:<20}" + "".join(f"{v:>12}" for v in values)
        line += f"  {_validation_cell(info.validation)}"
        print(line + ("  <- latest" if info.is_latest else ""), file=out)
    if not all(info.date_from_runs for info in infos):
        print("~ no entry in runs.jsonl: the time the version's manifest was written", file=out)
    return EXIT_OK


# --------------------------------------------------------------------------- diff


@dataclass(frozen=True)
class ArticleChange:
    article_id: str
    source_path: str
    what: tuple[str, ...]  # changed articles columns, then "paragraphs" / "entities"; empty if added/removed


@dataclass(frozen=True)
class VersionDiff:
    added: list[ArticleChange]
    removed: list[ArticleChange]
    changed: list[ArticleChange]
    unchanged: int
    columns_only_in_a: tuple[str, ...] = ()
    columns_only_in_b: tuple[str, ...] = ()


def _parquet(version_dir: Path, table: str) -> tuple[str, list[str]]:
    """A DuckDB `FROM` expression for the table's files, and its column names."""
    return duckdb_source(version_dir, table), pq.read_schema(table_files(version_dir, table)[0]).names


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _changed_parts(db, dir_a: Path, dir_b: Path, table: str) -> set[str]:
    """Article ids whose rows in `table` differ between A and B, by a digest per article computed in DuckDB.

    The digest is the row count and the sum of the rows' 64-bit hashes: order-free, so no sort,
    and a few bytes per article however many rows it has (1.3 M entity rows in a fraction of a second).
    The hashes are only compared within this one process, so their values need not be stable.
    """
    file_a, cols_a = _parquet(dir_a, table)
    file_b, cols_b = _parquet(dir_b, table)
    row = "{" + ", ".join(f"'{c}': {_ident(c)}" for c in cols_a if c in cols_b) + "}"

    def digests(file: str) -> str:
        return (f"SELECT article_id, (count(*), sum(hash({row})::HUGEINT)) AS digest "
                f"FROM {file} GROUP BY article_id")

    rows = db.execute(f"SELECT article_id FROM ({digests(file_a)}) a FULL OUTER JOIN ({digests(file_b)}) b "
                      "USING (article_id) WHERE a.digest IS DISTINCT FROM b.digest").fetchall()
    return {article_id for (article_id,) in rows}


def diff_versions(data_dir: str | Path, version_a: str, version_b: str) -> VersionDiff:
    """Articles added, removed and changed (row, paragraphs or entities) from version A to version B."""
    import duckdb  # only diff needs it

    local = VersionStore(data_dir).with_local_copies(version_a, version_b)
    dir_a, dir_b = (local / VERSIONS / v for v in (version_a, version_b))
    file_a, cols_a = _parquet(dir_a, "articles")
    file_b, cols_b = _parquet(dir_b, "articles")
    common = [c for c in cols_a if c in cols_b and c != "article_id"]
    with duckdb.connect() as db:
        db.execute("SET enable_progress_bar = false")  # a terminal would get bars on stdout
        paths_a, paths_b = (dict(db.execute(f"SELECT article_id, source_path FROM {file}").fetchall())
                            for file in (file_a, file_b))
        # One boolean per column and shared article, computed in DuckDB: texts never reach Python.
        flags = ", ".join(f"a.{_ident(c)} IS DISTINCT FROM b.{_ident(c)}" for c in common)
        column_changes = {row[0]: [c for c, differs in zip(common, row[1:]) if differs] for row in db.execute(
            f"SELECT article_id, {flags} FROM {file_a} a JOIN {file_b} b "
            "USING (article_id)").fetchall()}
        part_changes = {part: _changed_parts(db, dir_a, dir_b, part) for part in ARTICLE_PARTS}

    def change(article_id: str, paths: dict[str, str], what: list[str] | None = None) -> ArticleChange:
        return ArticleChange(article_id, paths[article_id], tuple(what or ()))

    def by_path(changes: list[ArticleChange]) -> list[ArticleChange]:
        return sorted(changes, key=lambda c: (c.source_path, c.article_id))

    changed, unchanged = [], 0
    for article_id, columns in column_changes.items():
        what = columns + [part for part in ARTICLE_PARTS if article_id in part_changes[part]]
        if what:
            changed.append(change(article_id, paths_b, what))
        else:
            unchanged += 1
    return VersionDiff(
        added=by_path([change(a, paths_b) for a in paths_b.keys() - paths_a.keys()]),
        removed=by_path([change(a, paths_a) for a in paths_a.keys() - paths_b.keys()]),
        changed=by_path(changed),
        unchanged=unchanged,
        columns_only_in_a=tuple(c for c in cols_a if c not in cols_b),
        columns_only_in_b=tuple(c for c in cols_b if c not in cols_a),
    )


def run_diff(args: argparse.Namespace, out=None) -> int:
    out = out or sys.stdout
    data = args.data
    try:
        version_a, version_b = resolve_version(data, args.a), resolve_version(data, args.b)
    except UnknownVersion as err:
        return version_error(err)
    diff = diff_versions(data, version_a, version_b)
    print(f"articles from {version_a} to {version_b}", file=out)
    if diff.columns_only_in_a or diff.columns_only_in_b:
        print(f"articles columns: only in {version_a}: {', '.join(diff.columns_only_in_a) or '-'}; "
              f"only in {version_b}: {', '.join(diff.columns_only_in_b) or '-'}", file=out)
    for label, changes in (("added", diff.added), ("removed", diff.removed), ("changed", diff.changed)):
        for c in changes:
            print(f"{label:<8} {c.article_id}  {printable_path(c.source_path)}"
                  + (f": {', '.join(c.what)}" if c.what else ""),
                  file=out)
    print(f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed, "
          f"{diff.unchanged} unchanged", file=out)
    return EXIT_OK


# --------------------------------------------------------------------------- report


def run_report(args: argparse.Namespace, out=None) -> int:
    """The report's local path (for an object store: of this machine's copy of the version)."""
    out = out or sys.stdout
    data = args.data
    try:
        version_id = resolve_version(data, args.version)
    except UnknownVersion as err:
        return version_error(err)
    path = VersionStore(data).with_local_copies(version_id) / VERSIONS / version_id / REPORT_FILE
    if not path.exists():  # a version published before reports existed
        path = write_report(path.parent)
    print(printable_path(path), file=out)
    return EXIT_OK


def register(subparsers) -> None:
    """Add the `versions`, `diff` and `report` subcommands to a `pipeline` parser's subparsers."""
    versions = subparsers.add_parser(
        "versions", help="list the published versions, oldest first, with counts and validation",
        description="One line per version under DATA/versions: date (from runs.jsonl), counts, validation "
                    "outcome; the version `latest` points at is marked.")
    add_data_option(versions)
    versions.set_defaults(handler=run_versions)

    diff = subparsers.add_parser(
        "diff", help="articles added, removed or changed between two versions",
        description="Compare two versions article by article: added, removed, and changed (any column of "
                    "the article's row, its paragraphs or its entities). Versions: id, unique prefix or latest.")
    diff.add_argument("a", metavar="A", help="older version (id, unique prefix or latest)")
    diff.add_argument("b", metavar="B", help="newer version (id, unique prefix or latest)")
    add_data_option(diff)
    diff.set_defaults(handler=run_diff)

    report = subparsers.add_parser(
        "report", help="print the path of a version's report.html (written first if missing)",
        description="Print the path of VERSION's self-contained HTML report, writing it first for versions "
                    "published before reports existed.")
    report.add_argument("version", nargs="?", default=LATEST, metavar="VERSION",
                        help="id, unique prefix or latest (default: latest)")
    add_data_option(report)
    report.set_defaults(handler=run_report)
