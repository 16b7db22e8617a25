"""The Great Expectations adapter: suites from expectations/ loaded and run on pandas frames.

The suites (``expectations/<name>.json``, GX 1.x serialized ExpectationSuites) are the
source of truth; this module only loads them and runs them with an in-memory (ephemeral)
GX context. Nothing is written to disk and nothing goes to the network. GX is imported
lazily (about 3 s) and one context is reused per process.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"

_POSITION_KEY = "_pipeline_suite_position"  # added to expectation meta in memory only


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


def exception_message(info) -> str | None:
    if not info:
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    messages = sorted({str(v.get("exception_message")) for v in info.values()
                       if isinstance(v, dict) and v.get("raised_exception")})
    return "; ".join(messages) if messages else None
