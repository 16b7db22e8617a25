"""Immutable, content-addressed versions under DATA/versions/<id>/ and an atomic `latest` link.

A version is a folder per table of Parquet parts (pipeline.core.layout) and a manifest.
It is written in full under DATA/.staging/ and renamed into place, so a reader never sees
half a version; `latest` is a relative symlink replaced with os.replace. A part whose key
(what its rows depend on) is the one a part of the latest version was built from is not
built again: the new version gets a hard link to the same file, so unchanged parts cost
neither time nor disk. Those keys, and the validation outcomes of each group of parts, are
kept next to the version in `parts.json`, which is not part of its id.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa

from pipeline.core import layout, schema
from pipeline.core.textutil import sha256_hex
from pipeline.storage.parquet import write_parquet

MANIFEST = "manifest.json"
SIDECAR = "parts.json"
LATEST = "latest"
VERSIONS = "versions"
STAGING = ".staging"


class UnknownVersion(LookupError):
    """A version name that matches no version, or more than one."""


class NoVersions(UnknownVersion):
    """The data folder holds no published version (or none that `latest` names)."""


@dataclass(frozen=True)
class PublishResult:
    version_id: str
    path: Path
    created: bool  # False when an identical version already existed
    latest_moved: bool
    manifest: dict


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2) + "\n"


class VersionStore:
    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.versions_dir = self.data_dir / VERSIONS
        self.latest_link = self.data_dir / LATEST

    def latest_version(self) -> str | None:
        try:
            return Path(os.readlink(self.latest_link)).name
        except OSError:
            return None

    def latest_manifest(self) -> dict | None:
        """The manifest `latest` points at, or None when there is no (readable) latest version."""
        try:
            return json.loads((self.latest_link / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def remove_staging(self) -> None:
        """Delete half-written versions a killed run left behind (call under the run lock)."""
        shutil.rmtree(self.data_dir / STAGING, ignore_errors=True)
        for leftover in self.data_dir.glob(f".{LATEST}.*"):
            leftover.unlink(missing_ok=True)

    def stage(self) -> StagedVersion:
        """A new version to fill part by part, reusing the latest version's unchanged parts."""
        return StagedVersion(self, ReusableParts.of_latest(self))

    def publish(self, tables: dict[str, pa.Table], manifest: dict, move_latest: bool,
                add_files: Callable[[Path], object] | None = None) -> PublishResult:
        """Write whole tables (split into parts) and the manifest as a version in one call."""
        staged = self.stage()
        try:
            for name, table in sorted(tables.items()):
                for part, rows in layout.split(schema.TABLES[name], table).items():
                    staged.put(name, part, None, lambda rows=rows: rows)
            return staged.commit(manifest, move_latest, add_files)
        finally:
            staged.discard()

    def _point_latest_at(self, version_id: str) -> None:
        temporary = self.data_dir / f".{LATEST}.{os.getpid()}"
        temporary.unlink(missing_ok=True)
        os.symlink(Path(VERSIONS) / version_id, temporary)
        os.replace(temporary, self.latest_link)

    def record_run(self, entry: dict) -> None:
        """Append one line to DATA/runs.jsonl: the only place that holds wall-clock times."""
        entry = {"finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **entry}
        with open(self.data_dir / "runs.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps(entry, sort_keys=True) + "\n")


@dataclass(frozen=True)
class ReusableParts:
    """The parts of a published version, by file, that a new version may link instead of build."""

    folder: Path | None
    entries: dict[str, dict]  # part file -> its manifest entry (file, rows, sha256)
    keys: dict[str, str]  # part file -> the key it was built from
    validation: dict[str, list]  # group key -> recorded outcomes (pipeline.checks.tables)

    @classmethod
    def of_latest(cls, store: VersionStore) -> ReusableParts:
        manifest, version = store.latest_manifest(), store.latest_version()
        try:
            sidecar = json.loads((store.versions_dir / str(version) / SIDECAR).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            sidecar = {}
        if manifest is None or not sidecar:
            return cls(None, {}, {}, {})
        entries = {e["file"]: e for info in manifest["tables"].values() for e in info.get("parts", [])}
        return cls(store.versions_dir / version, entries, sidecar.get("keys", {}), sidecar.get("validation", {}))

    def find(self, file: str, key: str | None) -> dict | None:
        if key is None or self.folder is None or self.keys.get(file) != key or file not in self.entries:
            return None
        return self.entries[file]


class StagedVersion:
    """A version being written under DATA/.staging/: parts one by one, then `commit`."""

    def __init__(self, store: VersionStore, reusable: ReusableParts):
        self.store, self.reusable = store, reusable
        staging_root = store.data_dir / STAGING
        staging_root.mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(dir=staging_root))
        self.entries: dict[str, dict[str, dict]] = {name: {} for name in schema.TABLES}  # table -> file -> entry
        self.keys: dict[str, str] = {}
        self.built = self.linked = 0

    def put(self, table: str, part: str, key: str | None, build: Callable[[], pa.Table]) -> dict:
        """Add one part: linked from the latest version when `key` is the one it was built
        from, else written from `build()`. A None key always builds."""
        file = layout.part_file(table, part)
        target = self.folder / file
        target.parent.mkdir(exist_ok=True)
        entry = self.reusable.find(file, key)
        if entry is not None:
            _link_or_copy(self.reusable.folder / file, target)
            self.linked += 1
        else:
            entry = {**write_parquet(build(), target), "file": file}
            self.built += 1
        if key is not None:
            self.keys[file] = key
        self.entries[table][file] = entry
        return entry

    def path(self, file: str) -> Path:
        return self.folder / file

    def complete(self) -> None:
        """Give every table without parts (no articles at all, say) one empty part, so that
        every table is a folder that loads and validates."""
        for name, entries in self.entries.items():
            if not entries:
                self.put(name, layout.SINGLE_PART, None, lambda name=name: schema.TABLES[name].schema.empty_table())

    def tables(self) -> dict[str, dict]:
        """The manifest's `tables`: per table its rows and parts."""
        self.complete()
        return {name: {"rows": sum(e["rows"] for e in entries.values()),
                       "parts": [entries[f] for f in sorted(entries)]}
                for name, entries in sorted(self.entries.items())}

    def commit(self, manifest: dict, move_latest: bool, add_files: Callable[[Path], object] | None = None,
               validation: dict | None = None) -> PublishResult:
        """Publish the staged parts with this manifest; point `latest` at it when move_latest.

        ``add_files(folder)`` may write more files (the report) derived from tables and
        manifest before the version becomes visible; like ``validation`` (group outcomes for
        the next run to reuse) they are not part of its id.
        """
        manifest = {**manifest, "tables": self.tables()}
        # The id hashes everything the manifest says, including each part's checksum.
        version_id = sha256_hex(canonical_json(manifest))[:16]
        manifest = {"version_id": version_id, **manifest}
        (self.folder / MANIFEST).write_text(canonical_json(manifest), encoding="utf-8")
        sidecar = {"keys": dict(sorted(self.keys.items())), "validation": validation or {}}
        (self.folder / SIDECAR).write_text(json.dumps(sidecar, sort_keys=True, separators=(",", ":")), encoding="utf-8")
        store = self.store
        store.versions_dir.mkdir(parents=True, exist_ok=True)
        final = store.versions_dir / version_id
        created = not final.exists()
        if created:
            if add_files is not None:
                add_files(self.folder)
            _fsync_tree(self.folder)
            os.rename(self.folder, final)
        latest_moved = move_latest and store.latest_version() != version_id
        if latest_moved:
            store._point_latest_at(version_id)
        return PublishResult(version_id, final, created, latest_moved, manifest)

    def discard(self) -> None:
        """Remove what is left in staging (everything, unless committed)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem, or one without hard links
        shutil.copyfile(source, target)



def _fsync_tree(directory: Path) -> None:
    for child in directory.iterdir():
        if child.is_dir():
            _fsync_tree(child)
            continue
        with open(child, "rb") as handle:
            os.fsync(handle.fileno())
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def version_ids(data_dir: Path) -> list[str]:
    """Ids of the published versions under data_dir (directories holding a manifest), sorted."""
    root = Path(data_dir) / VERSIONS
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / MANIFEST).is_file())


def resolve_version(data_dir: Path, name: str) -> str:
    """The version id that `name` (full id, unique prefix or 'latest') names.

    NoVersions when there is nothing published to name; UnknownVersion when `name` matches
    no version, or more than one.
    """
    ids = version_ids(data_dir)
    if name == LATEST:
        latest = VersionStore(Path(data_dir)).latest_version()
        if latest not in ids:
            raise NoVersions(f"no latest version under {data_dir}/ (run `pipeline run --data {data_dir}` first)")
        return latest
    if name in ids:
        return name
    if not ids:
        raise NoVersions(f"no version {name!r} under {data_dir}/: there are none yet "
                         f"(run `pipeline run --data {data_dir}` first)")
    matches = [v for v in ids if v.startswith(name)] if name else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UnknownVersion(f"version {name!r} is ambiguous under {data_dir}/: {', '.join(matches)}")
    raise UnknownVersion(f"no version {name!r} under {data_dir}/ (known: {', '.join(ids)})")
