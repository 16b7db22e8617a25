"""Immutable, content-addressed versions under DATA/versions/<id>/, and DATA/LATEST naming
the current one.

A version is a folder per table of Parquet parts (pipeline.core.layout) and a manifest.
In a local data folder it is written in full under DATA/.staging/ and renamed into place,
so a reader never sees half a version; then `latest`, a relative symlink, is replaced with
os.replace, and last DATA/LATEST (the version id) is replaced the same way. On an object
store there are no renames or links: the version is staged in a local folder, its objects
are uploaded (the manifest last), and it becomes current when LATEST is written, one PUT,
last of all. So a run killed at any moment leaves LATEST naming a whole version, and readers
everywhere have one rule: read LATEST, then versions/<id>/. A part whose key
(what its rows depend on) is the one a part of the latest version was built from is not
built again: the new version gets a hard link to the same file, so unchanged parts cost
neither time nor disk. Those keys, and the validation outcomes of each group of parts, are
kept next to the version in `parts.json`, which is not part of its id. On an object store
an unchanged part is copied inside the store, and this machine keeps a read-only copy of the
versions it has published or read (pipeline.core.location.local_cache_dir), so that linking, validating
and reporting read local files.
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
from pipeline.core.location import Folder, is_remote, join, local_cache_dir, read_file, write_file
from pipeline.core.textutil import sha256_hex
from pipeline.storage.parquet import write_parquet

MANIFEST = "manifest.json"
SIDECAR = "parts.json"
LATEST = "latest"  # the symlink of a local data folder, and the name that means the current version
LATEST_FILE = "LATEST"  # the current version's id: the one rule readers follow, local or remote
VERSIONS = "versions"
STAGING = ".staging"
COPYING = ".copying"  # an object store's versions being copied to this machine (leftovers: safe to delete)
RUNS_LOG = "runs.jsonl"


class UnknownVersion(LookupError):
    """A version name that matches no version, or more than one."""


class NoVersions(UnknownVersion):
    """The data folder holds no published version (or none that `latest` names)."""


@dataclass(frozen=True)
class PublishResult:
    version_id: str
    location: str | Path  # the version's folder: local, or a URL on the object store
    created: bool  # False when an identical version already existed
    latest_moved: bool
    manifest: dict
    path: Path  # a local folder holding the version (the same as location when that is local)


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2) + "\n"


class VersionStore:
    def __init__(self, data_dir: str | Path):
        self.remote = is_remote(data_dir)
        self.location = str(data_dir).rstrip("/") if self.remote else str(data_dir)
        # A local data folder is used in place; an object store through a Folder and a local
        # working folder (staging, and read-only copies of its versions).
        self.data_dir = local_cache_dir(self.location) if self.remote else Path(data_dir)
        self.objects = Folder(self.location) if self.remote else None
        self.versions_dir = self.data_dir / VERSIONS
        self.latest_link = self.data_dir / LATEST

    def latest_version(self) -> str | None:
        """The id LATEST names (a local folder from before LATEST existed: its symlink's)."""
        text = read_file(self.location, LATEST_FILE)
        if text is not None or self.remote:
            return (text or b"").decode("ascii", "replace").strip() or None
        try:
            return Path(os.readlink(self.latest_link)).name
        except OSError:
            return None

    def version_location(self, version_id: str) -> str | Path:
        """Where a version's files are: a local folder, or a URL on the object store."""
        return join(self.location, VERSIONS, version_id) if self.remote else self.versions_dir / version_id

    def readable_location(self, version_id: str) -> str | Path:
        """Where to read a version from: this machine's copy when it has one, else its location."""
        copy = self.versions_dir / version_id
        return copy if (copy / MANIFEST).exists() else self.version_location(version_id)

    def read_manifest(self, version_id: str) -> dict | None:
        try:
            return json.loads(read_file(self.location, f"{VERSIONS}/{version_id}/{MANIFEST}") or b"null")
        except (OSError, ValueError):
            return None

    def latest_manifest(self) -> dict | None:
        """The manifest LATEST names, or None when there is no (readable) latest version."""
        latest = self.latest_version()
        return None if latest is None else self.read_manifest(latest)

    def local_copy(self, version_id: str) -> Path:
        """A local folder holding the version: itself in a local data folder; on an object store
        a read-only copy made once (versions never change), complete when its manifest is there."""
        folder = self.versions_dir / version_id
        if not self.remote or (folder / MANIFEST).exists():
            return folder
        if self.read_manifest(version_id) is None:
            raise FileNotFoundError(f"{self.location}/{VERSIONS}/{version_id} is not a published version")
        download = Path(tempfile.mkdtemp(dir=_made(self.data_dir / COPYING)))  # not under STAGING: no lock held
        try:
            self.objects.download(f"{VERSIONS}/{version_id}", download)
            self.versions_dir.mkdir(parents=True, exist_ok=True)
            if not folder.exists():
                os.rename(download, folder)
        except OSError:
            if not (folder / MANIFEST).exists():
                raise
        finally:
            shutil.rmtree(download, ignore_errors=True)
        return folder

    def with_local_copies(self, *version_ids: str) -> Path:
        """A local data folder holding these versions under versions/<id>/: the data folder
        itself, or for an object store this machine's folder of copies (see local_copy)."""
        for version_id in version_ids:
            self.local_copy(version_id)
        return self.data_dir

    def published_at(self, version_id: str) -> datetime:
        """When the version's manifest was written (for versions no runs.jsonl line dates)."""
        if self.remote:
            info = self.objects.info(f"{VERSIONS}/{version_id}/{MANIFEST}") or {}
            moment = info.get("LastModified")
            return moment if isinstance(moment, datetime) else datetime.fromtimestamp(0, timezone.utc)
        return datetime.fromtimestamp((self.versions_dir / version_id / MANIFEST).stat().st_mtime, timezone.utc)

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
        if not self.remote:
            temporary = self.data_dir / f".{LATEST}.{os.getpid()}"
            temporary.unlink(missing_ok=True)
            os.symlink(Path(VERSIONS) / version_id, temporary)
            os.replace(temporary, self.latest_link)
        write_file(self.location, LATEST_FILE, lambda handle: handle.write(f"{version_id}\n".encode("ascii")))

    def record_run(self, entry: dict) -> None:
        """Append one line to DATA/runs.jsonl: the only place that holds wall-clock times."""
        entry = {"finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **entry}
        line = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
        if self.remote:  # no appending to an object: read, add, write (one run at a time holds the lock)
            self.objects.write_bytes(RUNS_LOG, (self.objects.read_bytes(RUNS_LOG) or b"") + line)
            return
        with open(self.data_dir / RUNS_LOG, "ab") as log:
            log.write(line)

    def runs_log(self) -> str:
        """DATA/runs.jsonl's text ('' when there is none)."""
        return (read_file(self.location, RUNS_LOG) or b"").decode("utf-8", "replace")


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class ReusableParts:
    """The parts of a published version, by file, that a new version may link instead of build."""

    folder: Path | None  # a local folder holding the version (see VersionStore.local_copy)
    version_id: str | None
    entries: dict[str, dict]  # part file -> its manifest entry (file, rows, sha256)
    keys: dict[str, str]  # part file -> the key it was built from
    validation: dict[str, list]  # group key -> recorded outcomes (pipeline.checks.tables)

    @classmethod
    def of_latest(cls, store: VersionStore) -> ReusableParts:
        version = store.latest_version()
        manifest = None if version is None else store.read_manifest(version)
        try:
            folder = store.local_copy(version) if manifest is not None else None
            sidecar = json.loads((folder / SIDECAR).read_text(encoding="utf-8")) if folder else {}
        except (OSError, ValueError):
            sidecar = {}
        if manifest is None or not sidecar:
            return cls(None, None, {}, {}, {})
        entries = {e["file"]: e for info in manifest["tables"].values() for e in info.get("parts", [])}
        return cls(folder, version, entries, sidecar.get("keys", {}), sidecar.get("validation", {}))

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
        self.linked_files: set[str] = set()
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
            self.linked_files.add(file)
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
        created = store.read_manifest(version_id) is None if store.remote else not final.exists()
        if created or (store.remote and not final.exists()):
            if add_files is not None:
                add_files(self.folder)
            if created and store.remote:
                self._upload(version_id)
            if not store.remote:
                _fsync_tree(self.folder)
            if not final.exists():
                os.rename(self.folder, final)  # on an object store: this machine's copy of the version
        latest_moved = move_latest and store.latest_version() != version_id
        if latest_moved:
            store._point_latest_at(version_id)
        return PublishResult(version_id, store.version_location(version_id), created, latest_moved, manifest, final)

    def _upload(self, version_id: str) -> None:
        """The staged version to the object store: unchanged parts copied there from the latest
        version, the others uploaded, the manifest last (a version without one is not listed)."""
        prefix, files = f"{VERSIONS}/{version_id}", sorted(_files_under(self.folder))
        linked = [f for f in files if f in self.linked_files]
        self.store.objects.copy([(f"{VERSIONS}/{self.reusable.version_id}/{f}", f"{prefix}/{f}") for f in linked])
        self.store.objects.upload([(self.folder / f, f"{prefix}/{f}") for f in files
                                   if f not in self.linked_files and f != MANIFEST])
        self.store.objects.upload([(self.folder / MANIFEST, f"{prefix}/{MANIFEST}")])

    def discard(self) -> None:
        """Remove what is left in staging (everything, unless committed)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem, or one without hard links
        shutil.copyfile(source, target)



def _files_under(folder: Path) -> list[str]:
    return [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]


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


def version_ids(data_dir: str | Path) -> list[str]:
    """Ids of the published versions under data_dir (folders holding a manifest), sorted."""
    if is_remote(data_dir):
        found = Folder(str(data_dir)).find(VERSIONS)  # versions/<id>/manifest.json, versions/<id>/<table>/...
        return sorted(parts[1] for parts in (name.split("/") for name in found) if parts[2:] == [MANIFEST])
    root = Path(data_dir) / VERSIONS
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / MANIFEST).is_file())


def resolve_version(data_dir: str | Path, name: str) -> str:
    """The version id that `name` (full id, unique prefix or 'latest') names.

    NoVersions when there is nothing published to name; UnknownVersion when `name` matches
    no version, or more than one.
    """
    ids = version_ids(data_dir)
    if name == LATEST:
        latest = VersionStore(data_dir).latest_version()
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
