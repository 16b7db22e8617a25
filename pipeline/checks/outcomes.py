"""What a validation found: one outcome per expectation, in words people read.

A table suite runs on groups of parts; each group's result of one expectation is a *record*
(:func:`record`, cacheable JSON), and :func:`aggregate` turns the records of all groups into
the outcome people read.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from pipeline.checks.gx import exception_message

_MAX_SHOWN_VALUES = 3
_MAX_VALUE_CHARS = 40


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
    """All outcomes of one validation run: the table suites in schema order (each in file order),
    then the corpus rules (pipeline.checks.corpus.RULES)."""

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


MAX_RECORDED_VALUES = 20  # GX's partial_unexpected_list: the first 20 unexpected values


def record(table: str, expectation: str, column: str | None, success: bool, *,
           unexpected_count: int | None = None, element_count: int | None = None,
           values=(), observed: str | None = None) -> dict[str, Any]:
    """What one expectation found on one group of rows, JSON-serializable so it can be cached.

    Count results (map expectations) keep their counts and the first unexpected values in row
    order, shown as they will be printed; other results keep their ``observed`` summary.
    """
    return {"table": table, "expectation": expectation, "column": column, "success": bool(success),
            "unexpected_count": unexpected_count, "element_count": element_count,
            "values": [_shorten(repr(_plain(v)), _MAX_VALUE_CHARS) for v in list(values)[:MAX_RECORDED_VALUES]],
            "observed": observed}


def record_of(table: str, result) -> dict[str, Any]:
    """The record of one GX result."""
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
    error = exception_message(result.exception_info)
    if error is not None:
        return record(table, config.type, column, success, observed=f"error: {_shorten(error, 200)}")
    res = result.result or {}
    if "unexpected_count" in res:
        return record(table, config.type, column, success, unexpected_count=int(res.get("unexpected_count") or 0),
                      element_count=int(res.get("element_count") or 0),
                      values=res.get("partial_unexpected_list") or [])
    mismatched = (res.get("details") or {}).get("mismatched")
    if mismatched and not success:
        parts = [f"{k} {sorted(map(str, v))}" for k, v in sorted(mismatched.items()) if v]
        return record(table, config.type, column, success, observed="; ".join(parts))
    if "observed_value" in res:
        observed = _plain(res["observed_value"])
        if isinstance(observed, (list, tuple)):
            text = f"{len(observed)} observed"
        else:
            text = observed_text(observed, _plain(config.kwargs.get("value")), success)
        return record(table, config.type, column, success, observed=text)
    return record(table, config.type, column, success, observed="" if success else "failed")


def observed_text(observed: Any, expected: Any, success: bool) -> str:
    """A single observed value, with what was expected when it failed."""
    if not success and expected is not None:
        return f"observed {observed!r}, expected {expected!r}"
    return _shorten(f"observed {observed!r}", 120)


def aggregate(records: list[dict[str, Any]]) -> ExpectationOutcome:
    """One outcome from the records of one expectation over groups (in group order).

    Depends only on the records, so it is the same however the groups were validated:
    together, one at a time, or reused from an earlier version.
    """
    first = records[0]
    success = all(r["success"] for r in records)
    failed_observed = [r["observed"] for r in records if not r["success"] and r["observed"] is not None]
    counted = [r for r in records if r["unexpected_count"] is not None]
    if failed_observed:  # an error or a failed non-count rule says more than the counts
        observed = failed_observed[0]
    elif counted:
        observed = _count_text(first["expectation"], success, counted)
    else:
        observed = first["observed"]
    return ExpectationOutcome(first["table"], first["expectation"], first["column"], success, observed)


def _count_text(expectation: str, success: bool, records: list[dict[str, Any]]) -> str:
    n = sum(r["unexpected_count"] for r in records)
    total = sum(r["element_count"] for r in records)
    if success:
        return f"0 unexpected of {total}"
    if expectation == "expect_column_values_to_not_be_null":
        return f"{n} null values of {total}"
    recorded = [v for r in records for v in r["values"]]
    distinct = list(dict.fromkeys(recorded))
    more = ", ..." if len(distinct) > _MAX_SHOWN_VALUES or n > len(recorded) else ""
    return f"{n} unexpected values: [{', '.join(distinct[:_MAX_SHOWN_VALUES])}{more}]"


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
