"""A run's plan: its inputs, their keys, the recipe and the build key, and whether the latest
version already has that build key ("nothing new").

The one place that rule lives: the flow plans with it (under `serve` and `watch` the check
stays inside a recorded flow run), and `pipeline run` asks it first, so that a run with
nothing new ends before Prefect is imported. Nothing here imports Prefect, spaCy,
trafilatura or Great Expectations. Reading the latest manifest needs no lock; a run that
goes on plans again under the lock.

Hashing every input is most of the cost of planning. DATA/.fingerprints.json remembers each
file's SHA-256 with what lstat said when it was hashed (size, mtime, ctime, inode, device):
a file whose lstat still says the same is not read again. This is safe because every change
to a file's bytes sets its ctime to the current time (and users cannot set ctime), so a
changed file no longer matches. The one gap is a change within the same clock tick as the
stat that was remembered; a file whose ctime is less than SETTLED_NS older than the moment
planning started is therefore never remembered, only hashed (as git treats "racily clean"
files). Clocks of machines writing to a shared folder must agree to within that margin.

Seeds on an object store are remembered by what their one paged listing says of each object
(size and ETag, which changes with the content), so "nothing new" costs a listing and no
read. The file of remembered hashes lives in the data folder, wherever it is.
"""
from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.core import manifest as manifests
from pipeline.core import registry
from pipeline.core.config import PipelineConfig
from pipeline.core.keys import KeyMaker, PlannedDocument, build_key
from pipeline.core.location import is_remote, read_file, write_file
from pipeline.core.stage import SOURCES
from pipeline.reporting.summary import RunSummary, StageCounts
from pipeline.stages import ingest
from pipeline.storage.cache import DocumentCache
from pipeline.storage.versions import VersionStore

NOTHING_NEW = "nothing new: the latest version was built from these inputs, code and config"
FINGERPRINTS = ".fingerprints.json"
_FORMAT = 1
_READ_AHEAD = 256  # objects hashed per batch of side-by-side reads (bounded memory)
SETTLED_NS = 5_000_000_000  # a file changed within this long before planning is hashed every time


@dataclass
class Plan:
    """What a run will read and what it would build, before anything is processed."""

    seeds_dir: str
    data_dir: str
    keys: KeyMaker
    planned: list[PlannedDocument]  # one per input, in input order
    recipe: dict
    build_key: str
    latest: dict | None  # the latest version's manifest, if there is one

    @property
    def paths(self) -> list[str]:
        return [doc.path for doc in self.planned]

    @property
    def nothing_new(self) -> bool:
        return self.latest is not None and self.latest.get("build_key") == self.build_key

    def documents_to_process(self) -> int:
        """How many inputs lack the cached output of some document stage: where a run's tasks
        should go (one shard's worth stays in the flow's process; see runners.task_runner).
        Quarantined inputs count too, as they have no article stage outputs."""
        cache, source = DocumentCache(self.data_dir), registry.source_stage()
        stages = registry.article_stages()
        return sum(1 for doc in self.planned
                   if not cache.has(source.name, doc.key)
                   or not all(cache.has(s.name, self.keys.key(s, doc.key)) for s in stages))

    def unchanged_summary(self, started: float) -> RunSummary:
        """The run's summary when there is nothing new: the latest version, no document processed."""
        n_articles = self.latest["tables"]["articles"]["rows"]
        counts = {s.name: StageCounts(s.title, 0, len(self.planned) if s.inputs == SOURCES else n_articles)
                  for s in registry.document_stages()}
        return RunSummary.for_unchanged_version(self.seeds_dir, self.data_dir, VersionStore(self.data_dir),
                                                self.latest, started, counts)


def plan_run(seeds_dir: str, data_dir: str, config: PipelineConfig, suites_dir: Path,
             latest: dict | None = None) -> Plan:
    """List and fingerprint the inputs, key them, and read the latest manifest (unless given)."""
    keys = KeyMaker(config)
    if is_remote(seeds_dir):
        fingerprints = _object_fingerprints(str(seeds_dir), data_dir, config)
    else:
        fingerprints = _fingerprints(Path(seeds_dir), data_dir, ingest.discover(seeds_dir), config)
    planned = [keys.plan(seeds_dir, path, fingerprint) for path, fingerprint in fingerprints.items()]
    recipe = manifests.recipe(config, suites_dir)
    return Plan(seeds_dir, data_dir, keys, planned, recipe, build_key(planned, recipe),
                latest if latest is not None else VersionStore(data_dir).latest_manifest())


def plan_if_published(seeds_dir: str, data_dir: str, config: PipelineConfig, suites_dir: Path) -> Plan | None:
    """The plan when the data folder has a latest version to compare with; else None, without
    even hashing the inputs (a first run processes everything)."""
    latest = VersionStore(data_dir).latest_manifest()
    return None if latest is None else plan_run(seeds_dir, data_dir, config, suites_dir, latest)


def _object_fingerprints(seeds: str, data: str, config: PipelineConfig) -> dict[str, str]:
    """ingest.fingerprint of every object under the seeds prefix (sorted), reusing remembered
    hashes of objects whose size and ETag are unchanged."""
    remembered = _read_remembered(data, seeds)
    listed = {path: [info.get("size"), info.get("ETag")] for path, info in sorted(ingest.objects(seeds).items())}
    out = {path: remembered[path][-1] for path, signature in listed.items()
           if path in remembered and remembered[path][:-1] == signature}
    for path, (size, _) in listed.items():  # objects ingest rejects unread: no need to fetch them
        if path not in out and (unread := ingest.object_precheck(path, size, config)) is not None:
            out[path] = ingest.unread_fingerprint(*unread)
    unknown = [path for path in listed if path not in out]
    for start in range(0, len(unknown), _READ_AHEAD):
        batch = unknown[start:start + _READ_AHEAD]
        for path, read in ingest.read_ahead(seeds, batch, config).items():
            out[path] = ingest.fingerprint(seeds, path, config, read)
    out = {path: out[path] for path in listed}
    keep = {path: signature + [out[path]] for path, signature in listed.items()
            if not out[path].startswith("unread:") and None not in signature}
    if keep != remembered:
        _write_remembered(data, seeds, keep)
    return out


def _fingerprints(seeds: Path, data: str | Path, paths: list[str], config: PipelineConfig) -> dict[str, str]:
    """ingest.fingerprint of every path (in order), reusing remembered hashes of unchanged files."""
    started_ns = time.time_ns()  # before any file is read: see SETTLED_NS
    remembered = _read_remembered(data, str(seeds.resolve()))
    keep: dict[str, list] = {}
    out = {}
    top = os.fspath(seeds)
    for path in paths:
        try:
            info = os.lstat(os.path.join(top, path))
        except OSError:
            info = None
        # Only regular files ingest would read: anything else is fingerprinted by ingest as "unread:...".
        known = info is not None and stat.S_ISREG(info.st_mode) and info.st_size <= config.max_file_bytes
        signature = [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev] if known else None
        entry = remembered.get(path)
        if known and entry is not None and entry[:-1] == signature:
            out[path] = entry[-1]
        else:
            out[path] = ingest.fingerprint(seeds, path, config)
            entry = signature + [out[path]] if known and not out[path].startswith("unread:") else None
        if entry is not None and info.st_ctime_ns < started_ns - SETTLED_NS:
            keep[path] = entry
    if keep != remembered:
        _write_remembered(data, str(seeds.resolve()), keep)
    return out


def _read_remembered(data: str | Path, seeds: str) -> dict[str, list]:
    try:
        stored = json.loads(read_file(data, FINGERPRINTS) or b"null")
    except ValueError:
        return {}
    if not isinstance(stored, dict) or stored.get("format") != _FORMAT or stored.get("seeds") != seeds:
        return {}
    return stored.get("files", {})


def _write_remembered(data: str | Path, seeds: str, files: dict[str, list]) -> None:
    """Replace the file whole: two runs writing at once leave one whole file, never a mix.
    It only saves time, so a data folder that cannot take it is no error."""
    text = json.dumps({"format": _FORMAT, "seeds": seeds, "files": files}).encode("utf-8")
    try:
        write_file(data, FINGERPRINTS, lambda handle: handle.write(text))
    except OSError:
        pass
