"""Where a table's rows are stored: a folder of Parquet parts, one per bucket of its partition key.

A row's bucket is two hex digits of its partition key (schema.Table.partition_key: ids are a
letter and 16 hex digits, so 256 buckets), so the layout depends only on the rows, never on
the order documents arrived in; an unchanged bucket is the same file in the next version.
Part names sort like the keys, so reading a folder's parts in name order gives the rows in
key order. The articles, paragraphs, entities and boilerplate of one article share a bucket
(all keyed on article_id), so rules about one article's rows hold within a bucket. A table
without a partition key, or without rows, is one part `part-00`.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.core import schema

SINGLE_PART = "00"
_PREFIX, _SUFFIX = "part-", ".parquet"
PART_GLOB = f"{_PREFIX}*{_SUFFIX}"  # a table folder's parts


def bucket(key: str) -> str:
    """The bucket of one partition-key value ("a3f09..." -> "3f")."""
    return key[1:3]


def buckets(keys: pa.ChunkedArray) -> pa.ChunkedArray:
    """`bucket` of a column of keys."""
    return pc.utf8_slice_codeunits(keys, 1, 3)


def part_file(table: str, part: str) -> str:
    """A part's path inside a version folder, e.g. "articles/part-3f.parquet"."""
    return f"{table}/{_PREFIX}{part}{_SUFFIX}"


def part_of(file_name: str) -> str:
    """The part a file of a table folder holds ("part-3f.parquet" -> "3f")."""
    return file_name[len(_PREFIX):-len(_SUFFIX)]


def split(table: schema.Table, data: pa.Table) -> dict[str, pa.Table]:
    """The rows of a table sorted by its keys, by bucket (in bucket order; slices, no copies)."""
    if table.partition_key is None or data.num_rows == 0:
        return {SINGLE_PART: data}
    names, starts = np.unique(buckets(data[table.partition_key]).to_numpy(zero_copy_only=False), return_index=True)
    if not np.all(np.diff(starts) > 0):
        raise ValueError(f"{table.name} rows are not sorted by {table.partition_key}")
    ends = [*starts[1:], data.num_rows]
    return {str(name): data.slice(int(start), int(end - start)) for name, start, end in zip(names, starts, ends)}
