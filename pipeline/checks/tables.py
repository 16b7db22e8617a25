"""The table checks: the expectation suites run over groups of Parquet parts, and the corpus rules.

A version folder holds each table as parts ``<table>/part-XX.parquet`` (pipeline.core.layout).
A *group* is what one suite run needs together: article group XX (the articles, paragraphs,
entities and boilerplate parts XX: all rows of an article are there), an entity_catalog part,
or the quarantine part. Everything the suites check holds within a group:

* **suite parameters** for membership: ``"value_set": {"$PARAMETER": "article_ids"}``, with
  :func:`suite_parameters` supplying the group's ``article_ids`` and ``paragraph_keys``;
* **derived check columns** for rules that need another table's values (lengths, span
  equality, paragraph counts): :func:`check_frame` adds them to the frames the suites see
  (never to the published tables).

Rules across groups are DuckDB queries over all parts (pipeline.checks.corpus). Each group's
result is a list of records (pipeline.checks.outcomes.record), cached under a key over the
suites, this code and the group's part hashes, so an incremental run validates only the groups
whose parts changed; the report aggregates the records and is the same however they were made.
"""
from __future__ import annotations

import hashlib
import json
import math
import tempfile
from collections import Counter
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.checks import corpus
from pipeline.checks.gx import SUITES_DIR, load_suite, run_suite
from pipeline.checks.outcomes import ValidationReport, aggregate, record_of
from pipeline.core import layout
from pipeline.core.schema import TABLES
from pipeline.core.stage import CORPUS, Stage
from pipeline.core.textutil import file_sha256

VERSION = "table_checks_v2"  # part of every group's cache key: bump when the checks' logic changes
# Groups per GX call: a call costs 0.4-2 s however few its rows, and a batch's parts are in
# memory together.
BATCH_GROUPS = 64
ARTICLE_GROUP = "article"  # the tables keyed on article_id share their groups
PARAGRAPH_KEY_SEP = "#"  # paragraph_key = f"{article_id}#{paragraph_index}"
# Table-level expectations whose result depends only on the columns, so the same in every
# group of a table; any other table-level rule (row counts, means) is a corpus rule.
SCHEMA_EXPECTATIONS = frozenset({"expect_table_columns_to_match_set", "expect_table_columns_to_match_ordered_list",
                                 "expect_column_to_exist", "expect_table_column_count_to_equal"})


@dataclass(frozen=True)
class Group:
    name: str  # "article-3f", "entity_catalog-3f", "quarantine-00": aggregation order
    part: str
    files: dict[str, Path]  # table -> part file, in schema order
    key: str  # cache key of its records


def _arrow_strings(type_: pa.DataType):
    """String columns stay in Arrow memory in the check frames (as Python objects they took
    ~110 MB more at 10,000 pages; the suites' outcomes are the same)."""
    return pd.ArrowDtype(type_) if type_ == pa.string() else None


def _articles_columns(frame: pd.DataFrame, tables: Mapping[str, pa.Table]) -> None:
    """``text_n_chars``: len(text) (float, NaN for a null text); ``n_paragraphs_found``:
    number of paragraphs rows with this article_id."""
    frame["text_n_chars"] = pd.Series(
        [float(len(t)) if _present(t) else math.nan for t in frame["text"]], index=frame.index, dtype="float64")
    paragraph_articles = tables["paragraphs"].column("article_id").to_pylist()
    counts = Counter(a for a in paragraph_articles if a is not None)
    frame["n_paragraphs_found"] = pd.Series(
        [counts.get(a, 0) if _present(a) else 0 for a in frame["article_id"]], index=frame.index, dtype="int64")


def _paragraphs_columns(frame: pd.DataFrame, tables: Mapping[str, pa.Table]) -> None:
    """``article_n_chars``: len(article.text) of the paragraph's article (NaN if none);
    ``span_matches_article``: paragraph.text == article.text[char_start:char_end] (True/False,
    None if the article or an offset or the text is missing)."""
    # Lookups keep the first row per key, so a duplicated key (its own failure) cannot
    # multiply rows here.
    article_text: dict[str, str] = {}
    for aid, text in zip(tables["articles"].column("article_id").to_pylist(),
                         tables["articles"].column("text").to_pylist()):
        if aid is not None and text is not None:
            article_text.setdefault(aid, text)
    parents = [article_text.get(a) if _present(a) else None for a in frame["article_id"]]
    frame["article_n_chars"] = pd.Series(
        [float(len(p)) if p is not None else math.nan for p in parents], index=frame.index, dtype="float64")
    frame["span_matches_article"] = pd.Series(
        _span_matches(parents, frame["char_start"], frame["char_end"], frame["text"]),
        index=frame.index, dtype="object")


def _entities_columns(frame: pd.DataFrame, tables: Mapping[str, pa.Table]) -> None:
    """``paragraph_key``: f"{article_id}#{paragraph_index}", checked against the
    ``paragraph_keys`` suite parameter (compound foreign key into paragraphs);
    ``paragraph_n_chars``: len(paragraph.text) of the mention's paragraph (NaN if none);
    ``span_matches_paragraph``: text == paragraph.text[char_start:char_end] (True/False, None
    if the paragraph or an offset or the text is missing)."""
    paragraphs = tables["paragraphs"]
    paragraph_text: dict[tuple[str, int], str] = {}
    for aid, idx, text in zip(paragraphs.column("article_id").to_pylist(),
                              paragraphs.column("paragraph_index").to_pylist(),
                              paragraphs.column("text").to_pylist()):
        if aid is not None and idx is not None and text is not None:
            paragraph_text.setdefault((aid, int(idx)), text)
    keys = [(a, int(i)) if _present(a) and _present(i) else None
            for a, i in zip(frame["article_id"], frame["paragraph_index"])]
    parents = [paragraph_text.get(k) if k is not None else None for k in keys]
    frame["paragraph_key"] = pd.Series(
        [f"{k[0]}{PARAGRAPH_KEY_SEP}{k[1]}" if k is not None else None for k in keys],
        index=frame.index, dtype="object")
    frame["paragraph_n_chars"] = pd.Series(
        [float(len(p)) if p is not None else math.nan for p in parents], index=frame.index, dtype="float64")
    frame["span_matches_paragraph"] = pd.Series(
        _span_matches(parents, frame["char_start"], frame["char_end"], frame["text"]),
        index=frame.index, dtype="object")


# The derived check columns of each table whose suite needs some (the other tables' frames
# are the tables as published).
_DERIVED_COLUMNS: dict[str, Callable[[pd.DataFrame, Mapping[str, pa.Table]], None]] = {
    "articles": _articles_columns,
    "paragraphs": _paragraphs_columns,
    "entities": _entities_columns,
}


def check_frame(name: str, tables: Mapping[str, pa.Table]) -> pd.DataFrame:
    """The pandas frame one suite runs on for one group: its part plus derived check columns.

    ``tables`` holds the group's parts (a table without a part in the group: no rows).
    Derived values are null where they cannot be computed (orphan rows, null offsets), and
    the suites ignore nulls in them, so an orphan fails only its foreign-key rule.
    """
    frame = tables[name].to_pandas(types_mapper=_arrow_strings)
    if name in _DERIVED_COLUMNS:
        _DERIVED_COLUMNS[name](frame, tables)
    return frame


def suite_parameters(tables: Mapping[str, pa.Table]) -> dict[str, set[str]]:
    """Values for the suites' ``{"$PARAMETER": ...}`` placeholders, from one group's parts."""
    paragraphs = tables["paragraphs"]
    return {
        "article_ids": {a for a in tables["articles"].column("article_id").to_pylist() if a is not None},
        "paragraph_keys": {
            f"{a}{PARAGRAPH_KEY_SEP}{i}"
            for a, i in zip(paragraphs.column("article_id").to_pylist(),
                            paragraphs.column("paragraph_index").to_pylist())
            if a is not None and i is not None},
    }


def _present(value: Any) -> bool:
    """False for None, NaN and pandas' NA/NaT (nulls as they come out of to_pandas)."""
    return value is not None and not (pd.api.types.is_scalar(value) and pd.isna(value))


def _span_matches(parents, starts, ends, texts) -> list[bool | None]:
    out: list[bool | None] = []
    for parent, start, end, text in zip(parents, starts, ends, texts):
        if parent is None or not (_present(start) and _present(end) and _present(text)):
            out.append(None)
        else:
            out.append(parent[int(start):int(end)] == text)
    return out


# --------------------------------------------------------------------------- groups and keys


def _groups(version_dir: Path, suites_dir: Path, part_sha256: Mapping[str, str]) -> list[Group]:
    """The groups of a version folder, in name order, each with its cache key: sha256 over this
    code's version, the GX version, the suite files' hashes and the group's parts' hashes.
    A part missing from ``part_sha256`` is hashed here."""
    checks = {"checks": VERSION, "great_expectations": package_version("great_expectations"),
              "suites": {name: file_sha256(Path(suites_dir) / f"{name}.json") for name in TABLES}}
    members: dict[str, dict[str, Path]] = {}
    for table, parts in corpus.table_parts(version_dir).items():
        kind = ARTICLE_GROUP if TABLES[table].partition_key == "article_id" else table
        for part, path in parts.items():
            members.setdefault(f"{kind}-{part}", {})[table] = path
    groups = []
    for name in sorted(members):
        files = members[name]
        hashes = {f"{t}/{p.name}": part_sha256.get(f"{t}/{p.name}") or file_sha256(p) for t, p in files.items()}
        key = hashlib.sha256(json.dumps({**checks, "parts": hashes}, sort_keys=True).encode()).hexdigest()
        groups.append(Group(name, name.rsplit("-", 1)[1], files, key))
    return groups


def _load_suites(suites_dir: Path) -> dict[str, Any]:
    """The table suites, checked for what a group can validate."""
    suites, known = {}, sorted(suite_parameters(_no_rows()))
    for name in TABLES:
        suite = load_suite(name, suites_dir)
        unknown = sorted(set(suite.suite_parameter_options) - set(known))
        if unknown:
            raise ValueError(f"{name}.json uses unknown suite parameters {unknown}; known: {known}")
        for position, expectation in enumerate(suite.expectations):
            if not _per_row(expectation) and expectation.expectation_type not in SCHEMA_EXPECTATIONS:
                raise ValueError(f"{name}.json expectation #{position} ({expectation.expectation_type}) is about a "
                                 "whole table, but suites run on groups of parts: make it a corpus rule "
                                 "(pipeline/checks/corpus.py)")
        suites[name] = suite
    return suites


def _per_row(expectation) -> bool:
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
        MulticolumnMapExpectation,
    )
    return isinstance(expectation, (ColumnMapExpectation, ColumnPairMapExpectation, MulticolumnMapExpectation))


def _no_rows(tables: Mapping[str, pa.Table] | None = None) -> dict[str, pa.Table]:
    """A group's tables: its parts, and no rows for the tables without a part in it."""
    return {name: (tables or {}).get(name, table.schema.empty_table()) for name, table in TABLES.items()}


def _in_own_part(group: Group, tables: Mapping[str, pa.Table]) -> bool:
    """Whether every keyed row of the group is in the part of its key (the corpus rule
    expect_rows_in_their_part reports the others)."""
    for name, data in tables.items():
        key = TABLES[name].partition_key
        if key and data.num_rows:
            if not pc.all(pc.equal(layout.buckets(data[key]), group.part)).as_py():
                return False
    return True


# --------------------------------------------------------------------------- running the suites


def _element_count(frame: pd.DataFrame, expectation) -> int:
    """Rows a row expectation looks at in one frame: those its row_condition selects (GX's own
    translation of the condition to a pandas query)."""
    condition = getattr(expectation, "row_condition", None)
    if condition is None:
        return len(frame)
    from great_expectations.execution_engine import PandasExecutionEngine
    return len(frame.query(PandasExecutionEngine().condition_to_filter_clause(condition)))


def _run(suite, frame: pd.DataFrame, parameters: Mapping[str, set[str]]) -> list:
    needed = {p: sorted(parameters[p]) for p in suite.suite_parameter_options}
    return run_suite(suite, frame, "SUMMARY", needed)


def _records_together(name: str, suite, groups: list[Group], frames: Mapping[str, pd.DataFrame],
                      parameters: Mapping[str, dict[str, set[str]]]) -> list[list[dict]]:
    """Records of one suite for groups whose frames can share one GX call (one list per group).

    A rule that passes on the combined frame passes in each group, with each group's own
    element count; a rule that fails (or whose counts do not split exactly) is run again on
    each group alone, so each group's records are what validating it alone gives.
    """
    if len(groups) == 1:
        (group,) = groups
        return [[record_of(name, r) for r in _run(suite, frames[group.name], parameters[group.name])]]
    union = {p: set().union(*(parameters[g.name][p] for g in groups)) for p in parameters[groups[0].name]}
    combined = pd.concat([frames[g.name] for g in groups], ignore_index=True)
    results = _run(suite, combined, union)
    del combined
    out: dict[str, list] = {g.name: [None] * len(results) for g in groups}
    again = []
    for position, (expectation, result) in enumerate(zip(suite.expectations, results, strict=True)):
        rec = record_of(name, result)
        if not rec["success"]:
            again.append(position)
        elif rec["unexpected_count"] is None:  # a schema rule: the same columns in every group
            for g in groups:
                out[g.name][position] = rec
        else:
            counts = [_element_count(frames[g.name], expectation) for g in groups]
            if sum(counts) != rec["element_count"]:
                again.append(position)
                continue
            for g, count in zip(groups, counts):
                out[g.name][position] = {**rec, "element_count": count}
    if again:
        from great_expectations.core import ExpectationSuite
        retry = ExpectationSuite(name=suite.name, expectations=[suite.expectations[p] for p in again])
        for g in groups:
            for position, result in zip(again, _run(retry, frames[g.name], parameters[g.name]), strict=True):
                out[g.name][position] = record_of(name, result)
    return [out[g.name] for g in groups]


def _validate_batch(batch: list[Group], suites: Mapping[str, Any]) -> dict[str, list[dict]]:
    """Records of a batch of groups (cache key -> records in schema order, each suite in file order)."""
    tables = {g.name: _no_rows({t: pq.read_table(p) for t, p in g.files.items()}) for g in batch}
    parameters = {g.name: suite_parameters(tables[g.name]) for g in batch}
    records: dict[str, list[dict]] = {g.key: [] for g in batch}
    for name in TABLES:
        members = [g for g in batch if name in g.files]
        frames = {g.name: check_frame(name, tables[g.name]) for g in members}
        # Frames share a GX call only if they have the same columns and every row is in its own
        # part (a misplaced row could meet its parent in another group's rows).
        together: dict[tuple, list[Group]] = {}
        for g in members:
            placed = _in_own_part(g, tables[g.name])
            together.setdefault(tuple(frames[g.name].columns) if placed else (g.name,), []).append(g)
        for groups in together.values():
            for g, recs in zip(groups, _records_together(name, suites[name], groups, frames, parameters)):
                records[g.key].extend(recs)
        del frames  # before the next table's frames are built
    return records


def _suite_outcomes(groups: list[Group], records: Mapping[str, list[dict]]):
    """One outcome per suite expectation: each aggregates the records of the groups holding its table."""
    per_table: dict[str, list[list[dict]]] = {name: [] for name in TABLES}
    for group in groups:
        for name in group.files:
            per_table[name].append([r for r in records[group.key] if r["table"] == name])
    return [aggregate(list(same)) for name in TABLES for same in zip(*per_table[name], strict=True)]


def validate_parts(version_dir: Path, n_inputs: int, suites_dir: Path = SUITES_DIR,
                   reusable: Mapping[str, list] | None = None,
                   part_sha256: Mapping[str, str] | None = None) -> tuple[ValidationReport, dict[str, list]]:
    """Validate a version folder of parts: the table suites per group, then the corpus rules.

    ``n_inputs`` is the number of input files the run read. ``part_sha256`` maps
    "table/part-XX.parquet" to the file's sha256 (hashed here when not given). Groups whose
    cache key is in ``reusable`` (records of an earlier version) are not validated again.
    Returns the report and this version's records (group key -> records) for the caller to
    keep next to the version. Raises ValueError for a table without parts or a suite that does
    not load or asks for something a group cannot check; rule violations do not raise, they
    come back as failed outcomes.
    """
    groups = _groups(Path(version_dir), Path(suites_dir), part_sha256 or {})
    reusable = reusable or {}
    records = {g.key: reusable[g.key] for g in groups if g.key in reusable}
    todo = [g for g in groups if g.key not in records]
    if todo:
        suites = _load_suites(Path(suites_dir))
        for start in range(0, len(todo), BATCH_GROUPS):
            records.update(_validate_batch(todo[start:start + BATCH_GROUPS], suites))
    outcomes = (*_suite_outcomes(groups, records), *corpus.check_corpus(Path(version_dir), n_inputs))
    report = ValidationReport(success=all(o.success for o in outcomes), outcomes=outcomes)
    return report, {g.key: records[g.key] for g in groups}


def write_parts(tables: Mapping[str, pa.Table], version_dir: Path) -> dict[str, str]:
    """Write tables (each sorted by its keys) in the parts layout; returns part file -> sha256.

    Every column is written nullable: the tables may break the rules (a null where the schema
    says none), and the suites, not the Parquet writer, are to say so.
    """
    hashes = {}
    for name, table in TABLES.items():
        (Path(version_dir) / name).mkdir(parents=True, exist_ok=True)
        data = tables[name]
        data = data.cast(pa.schema([f.with_nullable(True) for f in data.schema], metadata=data.schema.metadata))
        for part, rows in layout.split(table, data).items():
            file = layout.part_file(name, part)
            pq.write_table(rows, Path(version_dir) / file)
            hashes[file] = file_sha256(Path(version_dir) / file)
    return hashes


def validate_tables(
    tables: Mapping[str, pa.Table], n_inputs: int, suites_dir: Path = SUITES_DIR
) -> ValidationReport:
    """Validate in-memory tables: written as parts to a temporary folder, then :func:`validate_parts`.

    ``tables`` maps each name in ``pipeline.core.schema.TABLES`` to its Arrow table (0 rows is
    fine). Raises ValueError for a missing or unknown table, or a suite that does not load.
    """
    missing = [n for n in TABLES if n not in tables]
    unknown = sorted(set(tables) - set(TABLES))
    if missing or unknown:
        raise ValueError(f"validate_tables needs exactly the tables {list(TABLES)}; "
                         f"missing {missing}, unknown {unknown}")
    with tempfile.TemporaryDirectory(prefix="validate-") as folder:
        hashes = write_parts(tables, Path(folder))
        report, _ = validate_parts(Path(folder), n_inputs, suites_dir, part_sha256=hashes)
    return report


TABLE_CHECKS = Stage("checks", VERSION, CORPUS, validate_parts)
