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
from pipeline.core.stage import SOURCES
from pipeline.reporting.summary import RunSummary, StageCounts
from pipeline.stages import ingest
from pipeline.storage.cache import DocumentCache
from pipeline.storage.versions import VersionStore

NOTHING_NEW = "nothing new: the latest version was built from these inputs, code and config"
FINGERPRINTS = ".fingerprints.json"
_FORMAT = 1
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
        cache, source = DocumentCache(Path(self.data_dir)), registry.source_stage()
        stages = registry.article_stages()
        return sum(1 for doc in self.planned
                   if not cache.has(source.name, doc.key)
                   or not all(cache.has(s.name, self.keys.key(s, doc.key)) for s in stages))

    def unchanged_summary(self, started: float) -> RunSummary:
        """The run's summary when there is nothing new: the latest version, no document processed."""
        n_articles = self.latest["tables"]["articles"]["rows"]
        counts = {s.name: StageCounts(s.title, 0, len(self.planned) if s.inputs == SOURCES else n_articles)
                  for s in registry.document_stages()}
        return RunSummary.for_unchanged_version(self.seeds_dir, self.data_dir, VersionStore(Path(self.data_dir)),
                                                self.latest, started, counts)


def plan_run(seeds_dir: str, data_dir: str, config: PipelineConfig, suites_dir: Path) -> Plan:
    """List and fingerprint the inputs, key them, and read the latest manifest."""
    seeds, data = Path(seeds_dir), Path(data_dir)
    keys = KeyMaker(config)
    fingerprints = _fingerprints(seeds, data, ingest.discover(seeds), config)
    planned = [keys.plan(seeds, path, fingerprint) for path, fingerprint in fingerprints.items()]
    recipe = manifests.recipe(config, suites_dir)
    return Plan(seeds_dir, data_dir, keys, planned, recipe, build_key(planned, recipe),
                VersionStore(data).latest_manifest())


def plan_if_published(seeds_dir: str, data_dir: str, config: PipelineConfig, suites_dir: Path) -> Plan | None:
    """The plan when the data folder has a latest version to compare with; else None, without
    even hashing the inputs (a first run processes everything)."""
    if VersionStore(Path(data_dir)).latest_manifest() is None:
        return None
    return plan_run(seeds_dir, data_dir, config, suites_dir)


def _fingerprints(seeds: Path, data: Path, paths: list[str], config: PipelineConfig) -> dict[str, str]:
    """ingest.fingerprint of every path (in order), reusing remembered hashes of unchanged files."""
    started_ns = time.time_ns()  # before any file is read: see SETTLED_NS
    remembered = _read_remembered(data, seeds)
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
        _write_remembered(data, seeds, keep)
    return out


def _read_remembered(data: Path, seeds: Path) -> dict[str, list]:
    try:
        stored = json.loads((data / FINGERPRINTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(stored, dict) or stored.get("format") != _FORMAT or stored.get("seeds") != str(seeds.resolve()):
        return {}
    return stored.get("files", {})


def _write_remembered(data: Path, seeds: Path, files: dict[str, list]) -> None:
    """Replace the file atomically: two runs writing at once leave one whole file, never a mix.
    It only saves time, so a data folder that cannot take it is no error."""
    temporary = data / f"{FINGERPRINTS}.{os.getpid()}"
    try:
        temporary.write_text(json.dumps({"format": _FORMAT, "seeds": str(seeds.resolve()), "files": files}),
                             encoding="utf-8")
        os.replace(temporary, data / FINGERPRINTS)
    except OSError:
        temporary.unlink(missing_ok=True)
