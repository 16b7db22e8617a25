"""One-line loading of published tables."""
from __future__ import annotations

from pathlib import Path

from pipeline.core.schema import TABLES

DEFAULT_DATA_DIR = Path("data")


def table_path(table: str, data_dir: str | Path = DEFAULT_DATA_DIR, version: str = "latest") -> Path:
    """Path of a table's Parquet file in a version ("latest" or a version id)."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; tables are {', '.join(TABLES)}")
    base = Path(data_dir) / ("latest" if version == "latest" else Path("versions", version))
    path = base / f"{table}.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run `pipeline run --data {data_dir}` first")
    return path


def load(table: str, data_dir: str | Path = DEFAULT_DATA_DIR, version: str = "latest", **read_kwargs):
    """A published table as a pandas DataFrame, e.g. ``pipeline.load("entities")``."""
    import pandas as pd

    return pd.read_parquet(table_path(table, data_dir, version), **read_kwargs)
