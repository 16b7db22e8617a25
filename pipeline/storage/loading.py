"""One-line loading of published tables, from a local data folder or an object store."""
from __future__ import annotations

from pathlib import Path

from pipeline.core import layout
from pipeline.core.location import filesystem, is_remote
from pipeline.core.schema import TABLES

DEFAULT_DATA_DIR = Path("data")


def table_location(version_dir: str | Path, table: str) -> Path:
    """A table inside a version folder: its folder of parts (versions before parts: one file)."""
    folder = Path(version_dir) / table
    legacy = Path(version_dir) / f"{table}.parquet"
    return legacy if legacy.exists() and not folder.is_dir() else folder


def table_files(version_dir: str | Path, table: str) -> list[Path]:
    """The Parquet files of a table in a version folder, in key order."""
    location = table_location(version_dir, table)
    return sorted(location.glob(layout.PART_GLOB)) if location.is_dir() else [location]


def duckdb_source(version_dir: str | Path, table: str) -> str:
    """A table as a DuckDB `FROM` expression: read_parquet over its files."""
    files = ", ".join("'" + str(f).replace("'", "''") + "'" for f in table_files(version_dir, table))
    return f"read_parquet([{files}])"


def table_path(table: str, data_dir: str | Path = DEFAULT_DATA_DIR, version: str = "latest") -> str | Path:
    """Where a table of a version ("latest" or a version id, or a unique prefix of one) is:
    a folder of Parquet parts, local or a URL."""
    from pipeline.storage.versions import VersionStore, resolve_version

    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}; tables are {', '.join(TABLES)}")
    if is_remote(data_dir):
        return f"{VersionStore(data_dir).version_location(resolve_version(data_dir, version))}/{table}"
    path = table_location(Path(data_dir) / ("latest" if version == "latest" else Path("versions", version)), table)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run `pipeline run --data {data_dir}` first")
    return path


def read_table(version_dir: str | Path, table: str, columns: list[str] | None = None):
    """A table of a version folder (local or a URL) as an Arrow table."""
    import pyarrow.parquet as pq

    if is_remote(version_dir):
        fs, path = filesystem(f"{version_dir}/{table}")
        return pq.read_table(path, columns=columns, filesystem=fs)
    return pq.read_table(table_location(version_dir, table), columns=columns)


def load(table: str, data_dir: str | Path = DEFAULT_DATA_DIR, version: str = "latest", **read_kwargs):
    """A published table as a pandas DataFrame, e.g. ``pipeline.load("entities")`` or
    ``pipeline.load("entities", data_dir="s3://bucket/corpus")``."""
    import pandas as pd

    path = table_path(table, data_dir, version)
    if is_remote(path):
        fs, inside = filesystem(path)
        return pd.read_parquet(inside, filesystem=fs, **read_kwargs)
    return pd.read_parquet(path, **read_kwargs)
