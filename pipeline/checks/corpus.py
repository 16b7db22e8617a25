"""Corpus-wide rules: what no group of parts can check alone, as DuckDB queries over all parts.

The table suites run per group of parts (``pipeline.checks.tables``); the rules here cross
groups (a duplicate's representative, the entity catalog, the input accounting) or guard the
layout itself. DuckDB streams the Parquet parts, so memory stays flat as the corpus grows.
Each rule gives an outcome in the same words as a suite's (same expectation names, the first
unexpected values in row order: parts in name order, rows in part order).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.checks.outcomes import MAX_RECORDED_VALUES, ExpectationOutcome, aggregate, observed_text, record
from pipeline.core import layout
from pipeline.core.schema import TABLES

IN_SET = "expect_column_values_to_be_in_set"
UNIQUE = "expect_column_values_to_be_unique"
NOT_NULL = "expect_column_values_to_not_be_null"
ROW_COUNT = "expect_table_row_count_to_equal"
IN_OWN_PART = "expect_rows_in_their_part"
ACCOUNTING = "accounting"  # articles + quarantine, one row per published source_path



def table_parts(version_dir: Path) -> dict[str, dict[str, Path]]:
    """table -> part name ("3f") -> file, for every table of a version folder (parts in name order).

    Raises ValueError when a table has no part (even an empty table has ``part-00``).
    """
    parts = {name: {layout.part_of(p.name): p for p in sorted((Path(version_dir) / name).glob(layout.PART_GLOB))}
             for name in TABLES}
    missing = [name for name, found in parts.items() if not found]
    if missing:
        raise ValueError(f"{version_dir} has no parts for the tables {missing}")
    return parts


@dataclass(frozen=True)
class Rule:
    """A rule over one view (see ``_views``): ``unexpected`` is SQL true for the rows that break
    it; None for the row-count rule, which compares the view's rows with n_inputs."""

    table: str
    expectation: str
    column: str | None
    unexpected: str | None
    why: str


def _in(column: str, table: str, key: str) -> str:
    # NOT IN over a subquery with nulls is never true: keep them out; a null value is left to
    # its not-null rule (NOT IN gives null for it).
    return f"{column} NOT IN (SELECT {key} FROM {table} WHERE {key} IS NOT NULL)"


def _duplicated(column: str, table: str) -> str:
    # Like GX's unique rule: every row whose value occurs more than once counts.
    return f"{column} IN (SELECT {column} FROM {table} WHERE {column} IS NOT NULL GROUP BY 1 HAVING count(*) > 1)"


def _misplaced(column: str) -> str:
    # The bucket of a key is characters [1:3] (pipeline.core.layout.bucket).
    return f"{column} IS NOT NULL AND substr({column}, 2, 2) <> _part"


RULES: tuple[Rule, ...] = (
    Rule("articles", IN_SET, "duplicate_of", _in("duplicate_of", "articles", "article_id"),
         "A duplicate names an existing article as its representative (which may be in another part)."),
    Rule("articles", UNIQUE, "article_id", _duplicated("article_id", "articles"),
         "article_id is the primary key of articles across all parts."),
    Rule("entities", IN_SET, "entity_id", _in("entity_id", "entity_catalog", "entity_id"),
         "Every mention's entity is in entity_catalog."),
    Rule("entity_catalog", IN_SET, "entity_id", _in("entity_id", "entities", "entity_id"),
         "No entity without mentions: every entity_catalog.entity_id occurs in entities."),
    Rule("entity_catalog", UNIQUE, "entity_id", _duplicated("entity_id", "entity_catalog"),
         "entity_id is the primary key of entity_catalog across all parts."),
    *(Rule(name, IN_OWN_PART, table.partition_key, _misplaced(table.partition_key),
           f"A {name} row is in the part of its {table.partition_key}: an incremental run rewrites "
           "only the parts of changed keys, and the suites check one group of parts at a time.")
      for name, table in TABLES.items() if table.partition_key),
    Rule(ACCOUNTING, NOT_NULL, "source_path", "source_path IS NULL", "Every published row names its input."),
    Rule(ACCOUNTING, UNIQUE, "source_path", _duplicated("source_path", ACCOUNTING),
         "No input is in both articles and quarantine, or twice in either."),
    Rule(ACCOUNTING, IN_SET, "table", "\"table\" NOT IN ('articles', 'quarantine')",
         "Rows come only from articles or quarantine."),
    Rule(ACCOUNTING, ROW_COUNT, None, None,
         "Every input is accounted for: as many articles and quarantine rows as input files (n_inputs)."),
)


def _views(con: duckdb.DuckDBPyConnection, parts: dict[str, dict[str, Path]]) -> None:
    """One view per table over its parts, plus the accounting view; ``_part`` is the part name
    and (``_src``, ``_part``, ``_row``) the published row order."""
    for name, files in parts.items():
        con.read_parquet([str(f) for f in files.values()], filename=True, file_row_number=True).create_view(
            f"{name}_files")
        con.execute(f"CREATE VIEW {name} AS SELECT *, 0 AS _src, "
                    f"regexp_extract(filename, 'part-([^/]*)\\.parquet$', 1) AS _part, file_row_number AS _row "
                    f"FROM {name}_files")
    con.execute(f"CREATE VIEW {ACCOUNTING} AS "
                "SELECT source_path, 'articles' AS \"table\", 0 AS _src, _part, _row FROM articles "
                "UNION ALL SELECT source_path, 'quarantine', 1, _part, _row FROM quarantine")


def _check(con: duckdb.DuckDBPyConnection, rule: Rule, n_inputs: int) -> ExpectationOutcome:
    if rule.unexpected is None:
        (n_rows,) = con.execute(f"SELECT count(*) FROM {rule.table}").fetchone()
        success = n_rows == n_inputs
        return aggregate([record(rule.table, rule.expectation, rule.column, success,
                                 observed=observed_text(int(n_rows), int(n_inputs), success))])
    column = f'"{rule.column}"'
    where = f"({rule.unexpected})"
    total, n = con.execute(f"SELECT count(*), count(*) FILTER (WHERE {where}) FROM {rule.table}").fetchone()
    values = [row[0] for row in con.execute(
        f"SELECT {column} FROM {rule.table} WHERE {where} ORDER BY _src, _part, _row LIMIT {MAX_RECORDED_VALUES}"
    ).fetchall()] if n else []
    return aggregate([record(rule.table, rule.expectation, rule.column, n == 0, unexpected_count=int(n),
                             element_count=int(total), values=values)])


def check_corpus(version_dir: Path, n_inputs: int) -> list[ExpectationOutcome]:
    """The outcomes of :data:`RULES`, in order, over every part of a version folder."""
    with duckdb.connect() as con:
        _views(con, table_parts(version_dir))
        return [_check(con, rule, n_inputs) for rule in RULES]
