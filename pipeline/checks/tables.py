"""The table checks: the expectation suites over each published table (and the accounting frame).

Cross-table rules use two mechanisms, both documented in ``expectations/README.md``:

* **suite parameters** for membership (foreign keys, input count): a suite says
  ``"value_set": {"$PARAMETER": "article_ids"}`` and :func:`suite_parameters` supplies the
  values at run time (``article_ids``, ``paragraph_keys``, ``n_inputs``, ``entity_ids``,
  ``mentioned_entity_ids``);
* **derived check columns** for rules that need values from another table (lengths,
  span equality, paragraph counts): :func:`check_frame` adds them to the frames the
  suites see (never to the published tables), and the suites expect things of them.
"""
from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd
import pyarrow as pa

from pipeline.checks.gx import SUITES_DIR, load_suite, run_suite
from pipeline.checks.outcomes import ExpectationOutcome, ValidationReport, outcome_of
from pipeline.core.schema import TABLES
from pipeline.core.stage import CORPUS, Stage

# Validation order (and order of outcomes in reports): the published tables, then the
# accounting frame built here from articles + quarantine.
ACCOUNTING = "accounting"
SUITE_ORDER: tuple[str, ...] = (*TABLES, ACCOUNTING)

PARAGRAPH_KEY_SEP = "#"  # paragraph_key = f"{article_id}#{paragraph_index}"


def _arrow_strings(type_: pa.DataType):
    """String columns stay in Arrow memory in the check frames (as Python objects they took
    ~110 MB more at 10,000 pages; the suites' outcomes are the same)."""
    return pd.ArrowDtype(type_) if type_ == pa.string() else None


def _accounting_frame(tables: Mapping[str, pa.Table]) -> pd.DataFrame:
    """One row per published source_path, from articles then quarantine, with ``table``
    saying which ("articles" or "quarantine")."""
    articles, quarantine = tables["articles"], tables["quarantine"]
    return pd.DataFrame({
        "source_path": pd.Series(articles.column("source_path").to_pylist()
                                 + quarantine.column("source_path").to_pylist(), dtype="object"),
        "table": pd.Series(["articles"] * articles.num_rows + ["quarantine"] * quarantine.num_rows,
                           dtype="object"),
    })


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
    """The pandas frame one suite runs on: its published table plus derived check columns.

    One frame at a time keeps memory near one table's worth. Published tables are not
    modified; the derived columns exist only in these frames. Derived values are null where
    they cannot be computed (orphan rows, null offsets), and the suites ignore nulls in them,
    so an orphan fails only its foreign-key rule.
    """
    if name == ACCOUNTING:
        return _accounting_frame(tables)
    frame = tables[name].to_pandas(types_mapper=_arrow_strings)
    if name in _DERIVED_COLUMNS:
        _DERIVED_COLUMNS[name](frame, tables)
    return frame


def suite_parameters(tables: Mapping[str, pa.Table], n_inputs: int) -> dict[str, Any]:
    """Values for the suites' ``{"$PARAMETER": ...}`` placeholders (sorted, so deterministic)."""
    article_ids = sorted({a for a in tables["articles"].column("article_id").to_pylist() if a is not None})
    paragraphs = tables["paragraphs"]
    paragraph_keys = sorted({
        f"{a}{PARAGRAPH_KEY_SEP}{i}"
        for a, i in zip(paragraphs.column("article_id").to_pylist(), paragraphs.column("paragraph_index").to_pylist())
        if a is not None and i is not None
    })
    entity_ids = sorted({e for e in tables["entity_catalog"].column("entity_id").to_pylist() if e is not None})
    mentioned = sorted({e for e in tables["entities"].column("entity_id").to_pylist() if e is not None})
    return {"article_ids": article_ids, "paragraph_keys": paragraph_keys, "n_inputs": int(n_inputs),
            "entity_ids": entity_ids, "mentioned_entity_ids": mentioned}


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


def validate_tables(
    tables: Mapping[str, pa.Table], n_inputs: int, suites_dir: Path = SUITES_DIR
) -> ValidationReport:
    """Validate the published tables (and the accounting frame) against their suites.

    ``tables`` maps each name in ``pipeline.core.schema.TABLES`` to its Arrow table (0 rows is
    fine); ``n_inputs`` is the number of input files the run read. Raises ValueError for a
    missing or unknown table, or a suite that does not load; rule violations do not raise,
    they come back as failed outcomes.
    """
    missing = [n for n in TABLES if n not in tables]
    unknown = sorted(set(tables) - set(TABLES))
    if missing or unknown:
        raise ValueError(f"validate_tables needs exactly the tables {list(TABLES)}; "
                         f"missing {missing}, unknown {unknown}")
    suites = {name: load_suite(name, suites_dir) for name in SUITE_ORDER}
    parameters = suite_parameters(tables, n_inputs)

    outcomes: list[ExpectationOutcome] = []
    for name in SUITE_ORDER:
        suite = suites[name]
        unknown_parameters = sorted(set(suite.suite_parameter_options) - set(parameters))
        if unknown_parameters:
            raise ValueError(f"{name}.json uses unknown suite parameters {unknown_parameters}; "
                             f"known: {sorted(parameters)}")
        needed = {p: parameters[p] for p in suite.suite_parameter_options}
        frame = check_frame(name, tables)
        outcomes.extend(outcome_of(name, r) for r in run_suite(suite, frame, "SUMMARY", needed))
        del frame  # before the next table's frame is built
    return ValidationReport(success=all(o.success for o in outcomes), outcomes=tuple(outcomes))


TABLE_CHECKS = Stage("checks", "table_checks_v1", CORPUS, validate_tables)
