"""Per-document stage outputs on disk, so a run redoes only what changed.

An entry is one pickle at DATA/cache/<stage>/<key[:2]>/<key>.pkl, where the key hashes
everything the output depends on (see pipeline.core.keys). Writes go to a temporary file that
is renamed into place, so a killed run leaves whole entries or none. An entry that does
not load (written by other code, damaged) counts as a miss and is recomputed. Deleting
the whole folder is always safe: it only costs time.
"""
from __future__ import annotations

import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable

import pyarrow as pa

CACHE_DIR = "cache"
_MISSING = object()
_BATCH_KEYS = b"keys_and_rows"


class DocumentCache:
    def __init__(self, data_dir: Path):
        self.root = Path(data_dir) / CACHE_DIR

    def _path(self, stage: str, key: str) -> Path:
        return self.root / stage / key[:2] / f"{key}.pkl"

    def get(self, stage: str, key: str, default: Any = None) -> Any:
        return _read(self._path(stage, key), default)

    def has(self, stage: str, key: str) -> bool:
        return self._path(stage, key).exists()

    def put(self, stage: str, key: str, value: Any) -> None:
        _write(self._path(stage, key), _pickled(value))

    def get_bundle(self, name: str) -> dict:
        """Many small entries kept in one file (DATA/cache/<name>.pkl), read in one go; empty
        when missing or unreadable."""
        bundle = _read(self.root / f"{name}.pkl", {})
        return bundle if isinstance(bundle, dict) else {}

    def put_bundle(self, name: str, bundle: dict) -> None:
        _write(self.root / f"{name}.pkl", _pickled(bundle))

    def get_batches(self, name: str) -> dict[str, pa.RecordBatch]:
        """Record batches kept in one Arrow file (DATA/cache/<name>.arrow), by key: one
        memory-mapped read instead of a file per document. Empty when missing or unreadable."""
        try:
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

        _write(self.root / f"{name}.arrow", dump)


def _read(path: Path, default: Any) -> Any:
    try:
        with open(path, "rb") as handle:
            return pickle.load(handle)
    except Exception:  # noqa: BLE001 - a missing or unreadable entry is a miss, never a failed run
        return default


def _pickled(value: Any) -> Callable[[BinaryIO], None]:
    return lambda handle: pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _write(path: Path, dump: Callable[[BinaryIO], None]) -> None:
    """`dump` into a temporary file renamed into place: a killed run leaves the old file or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            dump(handle)
        os.replace(temporary, path)
    except BaseException as err:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(err, OSError) and not err.filename:  # say which file hit the full disk
            raise OSError(err.errno, err.strerror or str(err), str(path)) from err
        raise


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
