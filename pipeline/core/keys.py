"""Keys for incremental runs: what each document stage's output depends on, hashed.

A document's outputs are chained: the source stage (prepare: ingest, extract, normalize) is
keyed on the file's path and bytes and the stage's identity (pipeline.core.stage); every
article stage (tag, signals, ...) on the source stage's key and its own identity. Changing
one stage's logic or settings therefore changes its key and every key downstream of it,
and nothing upstream.

The ``build key`` of a whole run hashes every input fingerprint with the recipe (config,
every stage's identity, packages, expectation suites, code digest); when it equals the
latest version's, the run has nothing new to do.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.core import registry
from pipeline.core.config import PipelineConfig
from pipeline.core.stage import Stage
from pipeline.core.textutil import sha256_hex
from pipeline.stages import ingest

# What the cache holds: a new format gets new keys, so old entries are never misread.
ENTRY_FORMAT = 3


def _key(*parts) -> str:
    return sha256_hex(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str))


@dataclass(frozen=True)
class PlannedDocument:
    """One input before any processing: its fingerprint and the key of its source-stage output."""

    path: str
    fingerprint: str
    key: str

    def matches(self, outcome) -> bool:
        """False when the file changed between planning and processing (see KeyMaker.as_used)."""
        return outcome_fingerprint(outcome) == self.fingerprint


def outcome_fingerprint(outcome) -> str:
    """The fingerprint of the bytes an outcome (Prepared or Rejected) was made from: their
    SHA-256, or for a file ingest did not read, "unread:<reason>:<detail>" exactly as
    ingest.fingerprint gives it."""
    if hasattr(outcome, "article"):
        return outcome.article.extracted.source.sha256
    if outcome.source_sha256 is not None:
        return outcome.source_sha256
    return ingest.unread_fingerprint(outcome.reason, outcome.detail)


class KeyMaker:
    """Computes keys for one run's config and registry (identities are computed once)."""

    def __init__(self, config: PipelineConfig):
        self.config = config
        self.source_stage = registry.source_stage()
        self._identity = {s.name: s.identity(config) for s in registry.document_stages()}

    def plan(self, seeds_dir: Path, relative_path: str, fingerprint: str | None = None) -> PlannedDocument:
        """The input keyed on its fingerprint: ingest.fingerprint's, unless the caller knows it."""
        if fingerprint is None:
            fingerprint = ingest.fingerprint(seeds_dir, relative_path, self.config)
        return PlannedDocument(relative_path, fingerprint, self._source_key(relative_path, fingerprint))

    def _source_key(self, relative_path: str, fingerprint: str) -> str:
        stage = self.source_stage.name
        return _key(stage, ENTRY_FORMAT, relative_path, fingerprint, self._identity[stage])

    def as_used(self, planned: PlannedDocument, outcome) -> PlannedDocument:
        """The document keyed on the bytes its outcome was made from.

        A file rewritten (or removed) after planning read it and before ingest did: the run
        keeps what ingest read, so that outcome's cache entry, the keys downstream of it and
        the run's build key must all name those bytes, not the planned ones. Unchanged: as is.
        """
        used = outcome_fingerprint(outcome)
        if used == planned.fingerprint:
            return planned
        return PlannedDocument(planned.path, used, self._source_key(planned.path, used))

    def key(self, stage: Stage, source_key: str) -> str:
        """The key of an article stage's output for the document whose source key is given."""
        return _key(stage.name, ENTRY_FORMAT, source_key, self._identity[stage.name])


def build_key(planned: list[PlannedDocument], recipe: dict) -> str:
    """Everything a run's tables depend on: inputs (path and fingerprint) and the recipe."""
    return _key("build", sorted((d.path, d.fingerprint) for d in planned), recipe)
