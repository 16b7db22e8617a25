"""Per-document stage outputs on disk, so a run redoes only what changed.

An entry is one pickle at DATA/cache/<stage>/<key[:2]>/<key>.pkl, where the key hashes
everything the output depends on (see pipeline.core.keys). The data folder may be on an
object store (pipeline.core.location); either way an entry is written whole or not at
all (a temporary file renamed into place; one PUT), so a killed run leaves whole entries or none. An entry that does
not load (written by other code, damaged) counts as a miss and is recomputed. Deleting
the whole folder is always safe: it only costs time.
"""
from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any, BinaryIO, Callable

import pyarrow as pa

from pipeline.core.location import Folder, is_remote, read_file, write_file

CACHE_DIR = "cache"
_MISSING = object()
_BATCH_KEYS = b"keys_and_rows"
WRITE_BATCH = 64  # object-store entries written side by side


class DocumentCache:
    def __init__(self, data_dir: str | Path):
        self.root = f"{str(data_dir).rstrip('/')}/{CACHE_DIR}" if is_remote(data_dir) else Path(data_dir) / CACHE_DIR
        # On an object store: the entries of a stage, listed once; and entries put but not yet
        # written, which go a batch at a time, side by side (a request's latency each, not in turn).
        self._listed: dict[str, set[str]] = {}
        self._unwritten: dict[str, bytes] = {}

    @staticmethod
    def _entry(stage: str, key: str) -> str:
        return f"{stage}/{key[:2]}/{key}.pkl"

    def get(self, stage: str, key: str, default: Any = None) -> Any:
        entry = self._entry(stage, key)
        if entry in self._unwritten:
            return pickle.loads(self._unwritten[entry])
        return _read(self.root, entry, default)

    def has(self, stage: str, key: str) -> bool:
        if not is_remote(self.root):
            return (self.root / self._entry(stage, key)).exists()
        if stage not in self._listed:  # one listing instead of a request per document
            self._listed[stage] = set(Folder(self.root).find(stage))
        return self._entry(stage, key) in self._listed[stage] or self._entry(stage, key) in self._unwritten

    def put(self, stage: str, key: str, value: Any) -> None:
        """Store an entry; on an object store it is written with the next batch (see flush)."""
        if not is_remote(self.root):
            write_file(self.root, self._entry(stage, key), _pickled(value))
            return
        self._unwritten[self._entry(stage, key)] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        if len(self._unwritten) >= WRITE_BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the entries put since the last flush (an object store's; locally there are none).
        Entries a killed run never wrote are only recomputed."""
        if self._unwritten:
            Folder(self.root).write_many(self._unwritten)
            for entry in self._unwritten:
                stage = entry.split("/", 1)[0]
                if stage in self._listed:
                    self._listed[stage].add(entry)
            self._unwritten = {}

    def get_bundle(self, name: str) -> dict:
        """Many small entries kept in one file (DATA/cache/<name>.pkl), read in one go; empty
        when missing or unreadable."""
        bundle = _read(self.root, f"{name}.pkl", {})
        return bundle if isinstance(bundle, dict) else {}

    def put_bundle(self, name: str, bundle: dict) -> None:
        write_file(self.root, f"{name}.pkl", _pickled(bundle))

    def get_batches(self, name: str) -> dict[str, pa.RecordBatch]:
        """Record batches kept in one Arrow file (DATA/cache/<name>.arrow), by key: one
        memory-mapped read instead of a file per document. Empty when missing or unreadable."""
        try:
            if is_remote(self.root):
                reader = pa.ipc.open_file(pa.py_buffer(read_file(self.root, f"{name}.arrow")))
            else:
                reader = pa.ipc.open_file(pa.memory_map(str(self.root / f"{name}.arrow")))
            sizes = json.loads(reader.schema.metadata[_BATCH_KEYS])
            (whole,) = reader.read_all().combine_chunks().to_batches() or [None]
        except Exception:  # noqa: BLE001 - a miss, never a failed run
            return {}
        batches, start = {}, 0
        for key, rows in sizes:
            batches[key] = whole.slice(start, rows) if whole is not None else None
            start += rows
        return batches if None not in batches.values() else {}

    def put_batches(self, name: str, batches: dict[str, pa.RecordBatch], schema: pa.Schema) -> None:
        """Write `batches` (one schema) as the file get_batches reads."""
        sizes = json.dumps([[key, batch.num_rows] for key, batch in batches.items()]).encode()
        schema = schema.with_metadata({**(schema.metadata or {}), _BATCH_KEYS: sizes})

        def dump(handle: BinaryIO) -> None:
            with pa.ipc.new_file(handle, schema) as out:
                out.write_table(pa.Table.from_batches(list(batches.values()), schema=schema))

        write_file(self.root, f"{name}.arrow", dump)


def _read(root: str | Path, entry: str, default: Any) -> Any:
    try:
        return pickle.loads(read_file(root, entry))
    except Exception:  # noqa: BLE001 - a missing or unreadable entry is a miss, never a failed run
        return default


def _pickled(value: Any) -> Callable[[BinaryIO], None]:
    return lambda handle: pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)


class HeldOutputs:
    """One stage's outputs that a run needs again later, held in the cache instead of memory.

    A large run would otherwise keep every prepared document in the flow process while the
    workers tag and measure them.
    """

    def __init__(self, cache: DocumentCache, stage: str):
        self.cache, self.stage = cache, stage
        self._keys: dict[str, str] = {}

    def cached(self, name: str, key: str) -> None:
        """``name``'s output is the cache entry under ``key``."""
        self._keys[name] = key

    def key(self, name: str) -> str:
        return self._keys[name]

    def get(self, name: str) -> Any:
        value = self.cache.get(self.stage, self._keys[name], _MISSING)
        if value is _MISSING:
            raise RuntimeError(f"the {self.stage} output of {name} left {self.cache.root} during the run; "
                               "run again")
        return value
