"""Deterministic Parquet: same Arrow table and library versions -> same bytes."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.core.textutil import file_sha256

WRITE_OPTIONS = {
    "compression": "zstd",
    "compression_level": 9,
    "use_dictionary": True,
    "write_statistics": True,
    "row_group_size": 64 * 1024,
    "data_page_version": "2.0",
}


def write_parquet(table: pa.Table, path: Path) -> dict:
    """Write one table; return what the manifest records about it.

    Row group by row group, each combined into one chunk first: the bytes then depend only on
    the rows, not on how the table is chunked (a run builds the largest tables from one small
    chunk per article), and no second copy of a whole table is ever made.
    """
    rows_per_group = WRITE_OPTIONS["row_group_size"]
    options = {k: v for k, v in WRITE_OPTIONS.items() if k != "row_group_size"}
    try:
        with pq.ParquetWriter(path, table.schema, **options) as writer:
            for start in range(0, max(table.num_rows, 1), rows_per_group):
                writer.write_table(table.slice(start, rows_per_group).combine_chunks(), row_group_size=rows_per_group)
    except OSError as err:  # pyarrow's errors do not name the file
        raise OSError(err.errno, err.strerror or str(err), str(path)) from err
    return {"file": path.name, "rows": table.num_rows, "sha256": file_sha256(path)}


def read_parquet(path: Path) -> pa.Table:
    return pq.read_table(path)
