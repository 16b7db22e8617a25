import os
import shutil

import pyarrow.parquet as pq
import pytest
from conftest import table_bytes

from pipeline import load
from pipeline.core import schema
from pipeline.storage.cache import DocumentCache, HeldOutputs
from pipeline.storage.versions import VersionStore


def tables(title: str = "One") -> dict:
    article = {"article_id": "a3f00000000000000", "source_path": "x.txt", "source_sha256": "0" * 64,
               "source_format": "text", "encoding": "utf-8", "title": title, "language": "en",
               "text": "Body.", "n_paragraphs": 1, "n_words": 1, "n_chars": 5,
               "extractor": "x_v1", "input_kind": "clean_text", "boilerplate_ratio": 0.5, "content_sha256": "1" * 64,
               "english_share": 1.0, "paraphrase_score": 0.0, "paraphrase_traces": 0, "is_paraphrased": False,
               "is_short": True, "is_mostly_boilerplate": False, "is_mostly_non_english": False,
               "is_mostly_numbers": False}
    return {"articles": schema.to_arrow(schema.ARTICLES, [article]),
            "quarantine": schema.to_arrow(schema.QUARANTINE, [])}


def test_same_content_same_version_and_bytes(tmp_path):
    store = VersionStore(tmp_path)
    first = store.publish(tables(), {"config": {}}, move_latest=True)
    again = store.publish(tables(), {"config": {}}, move_latest=True)
    assert first.created and not again.created and first.version_id == again.version_id
    other = VersionStore(tmp_path / "elsewhere").publish(tables(), {"config": {}}, move_latest=True)
    assert other.version_id == first.version_id
    assert table_bytes(other.path) == table_bytes(first.path)
    # A part per bucket of the partition key; a table without rows is one empty part.
    assert sorted(table_bytes(first.path)) == ["articles/part-3f.parquet", "boilerplate/part-00.parquet",
                                               "entities/part-00.parquet", "entity_catalog/part-00.parquet",
                                               "paragraphs/part-00.parquet", "quarantine/part-00.parquet"]
    assert not any((tmp_path / ".staging").iterdir())


def test_latest_moves_only_when_asked(tmp_path):
    store = VersionStore(tmp_path)
    good = store.publish(tables("One"), {}, move_latest=True)
    bad = store.publish(tables("Two"), {}, move_latest=False)
    assert bad.version_id != good.version_id and bad.path.is_dir() and not bad.latest_moved
    assert store.latest_version() == good.version_id
    assert os.readlink(tmp_path / "latest") == f"versions/{good.version_id}"
    assert load("articles", data_dir=tmp_path).title.tolist() == ["One"]
    assert load("articles", data_dir=tmp_path, version=bad.version_id).title.tolist() == ["Two"]


def test_parquet_carries_column_descriptions_and_sorted_rows(tmp_path):
    rows = [{"source_path": p, "stage": "ingest", "reason": "empty_file", "detail": "d"} for p in "cab"]
    result = VersionStore(tmp_path).publish(
        {"quarantine": schema.to_arrow(schema.QUARANTINE, rows)}, {}, move_latest=True)
    path = result.path / "quarantine" / "part-00.parquet"
    field = pq.read_schema(path).field("reason")
    assert field.metadata[b"description"] == b"Short reason code."
    assert pq.read_table(path).column("source_path").to_pylist() == ["a", "b", "c"]
    assert result.manifest["tables"]["quarantine"]["rows"] == 3


def test_parquet_bytes_depend_on_rows_not_chunking(tmp_path):
    import pyarrow as pa

    from pipeline.storage.parquet import WRITE_OPTIONS, write_parquet

    rows = [{"source_path": f"doc_{i:05d}.txt", "source_sha256": None if i % 7 else "ab" * 32, "stage": "ingest",
             "reason": "empty_file", "detail": "x" * (i % 50)} for i in range(150_000)]  # 3 row groups
    whole = schema.to_arrow(schema.QUARANTINE, rows)
    chunked = pa.Table.from_batches([b for start in range(0, whole.num_rows, 997)
                                     for b in whole.slice(start, 997).to_batches()], schema=whole.schema)
    assert chunked.column(0).num_chunks > 100
    reference = tmp_path / "reference.parquet"
    pq.write_table(whole, reference, **WRITE_OPTIONS)
    for name, table in (("whole", whole), ("chunked", chunked), ("empty", whole.slice(0, 0))):
        written = write_parquet(table, tmp_path / f"{name}.parquet")
        assert written["rows"] == table.num_rows
        assert pq.read_table(tmp_path / f"{name}.parquet").equals(table.combine_chunks())
    assert (tmp_path / "whole.parquet").read_bytes() == reference.read_bytes()
    assert (tmp_path / "chunked.parquet").read_bytes() == reference.read_bytes()
    assert pq.ParquetFile(tmp_path / "whole.parquet").metadata.num_row_groups == 3


def test_held_outputs_come_back_from_the_cache(tmp_path):
    cache = DocumentCache(tmp_path)
    held = HeldOutputs(cache, "prepare")
    cache.put("prepare", "key-one", {"text": "one"})
    held.cached("one", "key-one")
    assert held.get("one") == {"text": "one"}
    shutil.rmtree(cache.root)  # someone cleared the cache mid-run: say so, never return nothing
    with pytest.raises(RuntimeError, match="left .* during the run"):
        held.get("one")
