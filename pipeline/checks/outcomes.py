"""What a validation found: one outcome per expectation, in words people read."""
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


def outcome_of(table: str, result) -> ExpectationOutcome:
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
