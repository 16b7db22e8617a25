"""Per-document stage outputs on disk, so a run redoes only what changed.

An entry is one pickle at DATA/cache/<stage>/<key[:2]>/<key>.pkl, where the key hashes
everything the output depends on (see pipeline.core.keys). Writes go to a temporary file that
is renamed into place, so a killed run leaves whole entries or none. An entry that does
not load (written by other code, damaged) counts as a miss and is recomputed. Deleting
the whole folder is always safe: it only costs time.
"""
from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

CACHE_DIR = "cache"
_MISSING = object()


class DocumentCache:
    def __init__(self, data_dir: Path):
        self.root = Path(data_dir) / CACHE_DIR

    def _path(self, stage: str, key: str) -> Path:
        return self.root / stage / key[:2] / f"{key}.pkl"

    def get(self, stage: str, key: str, default: Any = None) -> Any:
        try:
            with open(self._path(stage, key), "rb") as handle:
                return pickle.load(handle)
        except FileNotFoundError:
            return default
        except Exception:  # noqa: BLE001 - an unreadable entry is a miss, never a failed run
            return default

    def has(self, stage: str, key: str) -> bool:
        return self._path(stage, key).exists()

    def put(self, stage: str, key: str, value: Any) -> None:
        path = self._path(stage, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
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
        self._cache, self._stage = cache, stage
        self._keys: dict[str, str] = {}

    def cached(self, name: str, key: str) -> None:
        """``name``'s output is the cache entry under ``key``."""
        self._keys[name] = key

    def get(self, name: str) -> Any:
        value = self._cache.get(self._stage, self._keys[name], _MISSING)
        if value is _MISSING:
            raise RuntimeError(f"the {self._stage} output of {name} left {self._cache.root} during the run; "
                               "run again")
        return value
