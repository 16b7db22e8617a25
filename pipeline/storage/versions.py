"""Immutable, content-addressed versions under DATA/versions/<id>/ and an atomic `latest` link.

A version directory is written in full under DATA/.staging/ and renamed into place, so a
reader never sees half a version; `latest` is a relative symlink replaced with os.replace.
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

from pipeline.core.textutil import sha256_hex
from pipeline.storage.parquet import write_parquet

MANIFEST = "manifest.json"
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

    def publish(self, tables: dict[str, pa.Table], manifest: dict, move_latest: bool,
                add_files: Callable[[Path], object] | None = None) -> PublishResult:
        """Write tables and manifest as a version; point `latest` at it when move_latest.

        ``add_files(folder)`` may write more files (the report) derived from tables and
        manifest before the version becomes visible; they are not part of its id.
        """
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        staging_root = self.data_dir / STAGING
        staging_root.mkdir(exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=staging_root))
        try:
            files = {name: write_parquet(table, staging / f"{name}.parquet")
                     for name, table in sorted(tables.items())}
            manifest = {**manifest, "tables": files}
            # The id hashes everything the manifest says, including each file's checksum.
            version_id = sha256_hex(canonical_json(manifest))[:16]
            manifest = {"version_id": version_id, **manifest}
            (staging / MANIFEST).write_text(canonical_json(manifest), encoding="utf-8")
            final = self.versions_dir / version_id
            created = not final.exists()
            if created:
                if add_files is not None:
                    add_files(staging)
                _fsync_tree(staging)
                os.rename(staging, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        latest_moved = move_latest and self.latest_version() != version_id
        if latest_moved:
            self._point_latest_at(version_id)
        return PublishResult(version_id, final, created, latest_moved, manifest)

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


def _fsync_tree(directory: Path) -> None:
    for child in directory.iterdir():
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
