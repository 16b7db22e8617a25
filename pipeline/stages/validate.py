"""validate: Great Expectations suites from expectations/ over each published table.

The suites (``expectations/<name>.json``, GX 1.x serialized ExpectationSuites) are the
source of truth; this module only loads them, prepares one pandas frame per suite and
runs them with an in-memory (ephemeral) GX context. Nothing is written to disk and
nothing goes to the network.

Cross-table rules use two mechanisms, both documented in ``expectations/README.md``:

* **suite parameters** for membership (foreign keys, input count): a suite says
  ``"value_set": {"$PARAMETER": "article_ids"}`` and :func:`suite_parameters` supplies the
  values at run time (``article_ids``, ``paragraph_keys``, ``n_inputs``, ``entity_ids``,
  ``mentioned_entity_ids``);
* **derived check columns** for rules that need values from another table (lengths,
  span equality, paragraph counts): :func:`check_frame` adds them to the frames the
  suites see (never to the published tables), and the suites expect things of them.

Great Expectations is imported lazily (about 3 s) and one context is reused per process.
"""
from __future__ import annotations

import json
import math
import os
import threading
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import pyarrow as pa

from pipeline.schema import TABLES

SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"

# Validation order (and order of outcomes in reports): the published tables, then the
# accounting frame built here from articles + quarantine.
ACCOUNTING = "accounting"
SUITE_ORDER: tuple[str, ...] = (*TABLES, ACCOUNTING)

PARAGRAPH_KEY_SEP = "#"  # paragraph_key = f"{article_id}#{paragraph_index}"

_POSITION_KEY = "_pipeline_suite_position"  # added to expectation meta in memory only
_MAX_SHOWN_VALUES = 3
_MAX_VALUE_CHARS = 40


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation on one table."""

    table: str
    expectation: str  # GX expectation type, e.g. "expect_column_values_to_be_in_set"
    column: str | None  # column, "a,b" for column lists and pairs, None for table-level
    success: bool
    observed: str  # short human summary, e.g. "2 unexpected values: ['FOO']"

    @property
    def target(self) -> str:
        return f"{self.expectation}({self.column or ''})"

    def summary_line(self) -> str:
        status = "passed" if self.success else "FAILED"
        return f"{status} {self.table}: {self.target}: {self.observed}"


@dataclass(frozen=True)
class ValidationReport:
    """All outcomes of one validation run, in suite order (tables in SUITE_ORDER)."""

    success: bool
    outcomes: tuple[ExpectationOutcome, ...]

    @property
    def failures(self) -> tuple[ExpectationOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.success)

    def failed(self, table: str, expectation: str, column: str | None = None) -> bool:
        """True if some failure matches the table, expectation type and (if given) column."""
        return any(
            o.table == table and o.expectation == expectation and (column is None or o.column == column)
            for o in self.failures
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable, deterministic; for the run manifest."""
        return {
            "success": self.success,
            "n_expectations": len(self.outcomes),
            "n_failures": len(self.failures),
            "outcomes": [asdict(o) for o in self.outcomes],
        }

    def summary_lines(self) -> list[str]:
        """One line per failure, or one line saying all passed."""
        if self.success:
            n_tables = len({o.table for o in self.outcomes})
            return [f"validation passed: {len(self.outcomes)} expectations over {n_tables} tables"]
        return [o.summary_line() for o in self.failures]


# --------------------------------------------------------------------------- suites


def list_suites(suites_dir: Path = SUITES_DIR) -> list[str]:
    """Names of the suites in suites_dir (file stems), sorted."""
    return sorted(p.stem for p in Path(suites_dir).glob("*.json"))


def read_suite_json(name: str, suites_dir: Path = SUITES_DIR) -> dict[str, Any]:
    """The suite's JSON as stored (GX's serialized ExpectationSuite form)."""
    path = Path(suites_dir) / f"{name}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("name") != name:
        raise ValueError(f"{path}: suite name {data.get('name')!r} does not match the file name")
    return data


def load_suite(name: str, suites_dir: Path = SUITES_DIR):
    """Load expectations/<name>.json as a GX ExpectationSuite.

    Builds every expectation explicitly, so a bad entry raises (GX's ExpectationSuite
    constructor would only log it and silently drop the expectation). Each expectation's
    meta gets its position in the file (in memory only) so outcomes keep file order: GX
    returns results in its own order.
    """
    _gx()  # environment set up before GX is imported
    from great_expectations.core import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    data = read_suite_json(name, suites_dir)
    expectations = []
    for position, raw in enumerate(data.get("expectations", [])):
        raw = {k: v for k, v in raw.items() if k not in ("id", "rendered_content")}
        raw["meta"] = {**(raw.get("meta") or {}), _POSITION_KEY: position}
        try:
            expectations.append(ExpectationConfiguration(**raw).to_domain_obj())
        except Exception as err:  # GX raises several types here; name the file and entry
            raise ValueError(f"{name}.json expectation #{position} ({raw.get('type')}): {err}") from err
    return ExpectationSuite(name=name, expectations=expectations, meta=data.get("meta"), notes=data.get("notes"))


# --------------------------------------------------------------------------- frames


def _arrow_strings(type_: pa.DataType):
    """String columns stay in Arrow memory in the check frames (as Python objects they took
    ~110 MB more at 10,000 pages; the suites' outcomes are the same)."""
    return pd.ArrowDtype(type_) if type_ == pa.string() else None


def check_frame(name: str, tables: Mapping[str, pa.Table]) -> pd.DataFrame:
    """The pandas frame one suite runs on: its published table plus derived check columns.

    One frame at a time keeps memory near one table's worth. Published tables are not
    modified; the derived columns exist only in these frames.
    Derived values are null where they cannot be computed (orphan rows, null offsets),
    and the suites ignore nulls in them, so an orphan fails only its foreign-key rule.

    articles
        ``text_n_chars``: len(text) (float, NaN for a null text).
        ``n_paragraphs_found``: number of paragraphs rows with this article_id.
    paragraphs
        ``article_n_chars``: len(article.text) of the paragraph's article (NaN if none).
        ``span_matches_article``: paragraph.text == article.text[char_start:char_end]
        (True/False, None if the article or an offset or the text is missing).
    entities
        ``paragraph_key``: f"{article_id}#{paragraph_index}", checked against the
        ``paragraph_keys`` suite parameter (compound foreign key into paragraphs).
        ``paragraph_n_chars``: len(paragraph.text) of the mention's paragraph (NaN if none).
        ``span_matches_paragraph``: text == paragraph.text[char_start:char_end]
        (True/False, None if the paragraph or an offset or the text is missing).
    accounting
        Built here: one row per published source_path, from articles then quarantine,
        with ``table`` saying which ("articles" or "quarantine").
    quarantine, boilerplate
        No derived columns.
    """
    if name == ACCOUNTING:
        articles, quarantine = tables["articles"], tables["quarantine"]
        return pd.DataFrame({
            "source_path": pd.Series(articles.column("source_path").to_pylist()
                                     + quarantine.column("source_path").to_pylist(), dtype="object"),
            "table": pd.Series(["articles"] * articles.num_rows + ["quarantine"] * quarantine.num_rows,
                               dtype="object"),
        })
    frame = tables[name].to_pandas(types_mapper=_arrow_strings)
    if name == "articles":
        frame["text_n_chars"] = pd.Series(
            [float(len(t)) if _present(t) else math.nan for t in frame["text"]], index=frame.index, dtype="float64")
        paragraph_articles = tables["paragraphs"].column("article_id").to_pylist()
        counts = Counter(a for a in paragraph_articles if a is not None)
        frame["n_paragraphs_found"] = pd.Series(
            [counts.get(a, 0) if _present(a) else 0 for a in frame["article_id"]], index=frame.index, dtype="int64")
    elif name == "paragraphs":
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
    elif name == "entities":
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


# --------------------------------------------------------------------------- GX


class _GX:
    """One ephemeral GX context per process: a pandas datasource, one asset per suite."""

    def __init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self.datasource = self.context.data_sources.add_pandas("pipeline_validate")
        self._batch_definitions: dict[str, Any] = {}
        self.lock = threading.RLock()

    def batch(self, name: str, frame: pd.DataFrame):
        definition = self._batch_definitions.get(name)
        if definition is None:
            asset = self.datasource.add_dataframe_asset(name)
            definition = asset.add_batch_definition_whole_dataframe("whole_dataframe")
            self._batch_definitions[name] = definition
        return definition.get_batch(batch_parameters={"dataframe": frame})

    def forget_batches(self) -> None:
        """GX's execution engine keeps every batch it loaded, frame included, for the context's
        life: a run's check frames would pile up across suites (~150 MB at 10,000 pages) and
        stay through publishing."""
        manager = self.datasource.get_execution_engine().batch_manager
        manager.reset_batch_cache()
        manager.batch_data_cache.clear()


_GX_STATE: _GX | None = None
_GX_INIT_LOCK = threading.Lock()


def _gx() -> _GX:
    global _GX_STATE
    with _GX_INIT_LOCK:
        if _GX_STATE is None:
            _GX_STATE = _GX()
        return _GX_STATE


def validate_tables(
    tables: Mapping[str, pa.Table], n_inputs: int, suites_dir: Path = SUITES_DIR
) -> ValidationReport:
    """Validate the published tables (and the accounting frame) against their suites.

    ``tables`` maps each name in ``pipeline.schema.TABLES`` to its Arrow table (0 rows is
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
        outcomes.extend(_outcome(name, r) for r in run_suite(suite, frame, "SUMMARY", needed))
        del frame  # before the next table's frame is built
    return ValidationReport(success=all(o.success for o in outcomes), outcomes=tuple(outcomes))


def run_suite(suite, frame: pd.DataFrame, result_format: str | dict = "SUMMARY",
              parameters: Mapping[str, Any] | None = None) -> list:
    """GX results of one loaded suite over one frame, in the suite file's order."""
    state = _gx()
    with state.lock:
        try:
            result = state.batch(suite.name, frame).validate(
                suite, result_format=result_format, expectation_parameters=dict(parameters or {}))
        finally:
            state.forget_batches()
    if len(result.results) != len(suite.expectations):  # never drop a rule silently
        raise RuntimeError(f"GX returned {len(result.results)} results for the "
                           f"{len(suite.expectations)} expectations of {suite.name}")
    return sorted(result.results, key=lambda r: r.expectation_config.meta.get(_POSITION_KEY, 0))


# --------------------------------------------------------------------------- results


def _outcome(table: str, result) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs = config.kwargs
    if "column" in kwargs:
        column = kwargs["column"]
    elif "column_list" in kwargs:
        column = ",".join(kwargs["column_list"])
    elif "column_A" in kwargs:
        column = f"{kwargs['column_A']},{kwargs['column_B']}"
    else:
        column = None
    success = bool(result.success)
    return ExpectationOutcome(table, config.type, column, success, _observed(config, result, success))


def _observed(config, result, success: bool) -> str:
    error = exception_message(result.exception_info)
    if error is not None:
        return f"error: {_shorten(error, 200)}"
    res = result.result or {}
    if "unexpected_count" in res:
        n = int(res.get("unexpected_count") or 0)
        total = int(res.get("element_count") or 0)
        if success:
            return f"0 unexpected of {total}"
        if config.type == "expect_column_values_to_not_be_null":
            return f"{n} null values of {total}"
        values = []
        for value in res.get("partial_unexpected_list") or []:
            value = _plain(value)
            if value not in values:
                values.append(value)
        shown = ", ".join(_shorten(repr(v), _MAX_VALUE_CHARS) for v in values[:_MAX_SHOWN_VALUES])
        more = ", ..." if len(values) > _MAX_SHOWN_VALUES or n > len(res.get("partial_unexpected_list") or []) else ""
        return f"{n} unexpected values: [{shown}{more}]"
    mismatched = (res.get("details") or {}).get("mismatched")
    if mismatched and not success:
        parts = [f"{k} {sorted(map(str, v))}" for k, v in sorted(mismatched.items()) if v]
        return "; ".join(parts)
    if "observed_value" in res:
        observed = _plain(res["observed_value"])
        if isinstance(observed, (list, tuple)):
            return f"{len(observed)} observed"
        if not success and "value" in config.kwargs:
            return f"observed {observed!r}, expected {_plain(config.kwargs['value'])!r}"
        return _shorten(f"observed {observed!r}", 120)
    return "" if success else "failed"


def exception_message(info) -> str | None:
    if not info:
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    messages = sorted({str(v.get("exception_message")) for v in info.values()
                       if isinstance(v, dict) and v.get("raised_exception")})
    return "; ".join(messages) if messages else None


def _plain(value: Any) -> Any:
    """numpy/pandas scalars to plain Python, for readable and deterministic reprs."""
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():  # lengths derived as float (NaN for missing) read as ints
            return int(value)
    return value


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
