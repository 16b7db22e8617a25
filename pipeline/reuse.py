"""Keys for incremental runs: what each per-document output depends on, hashed.

A document's outputs are chained: ``prepare`` (ingest, extract, normalize) is keyed on the
file's path and bytes, those stages' versions and settings; ``tag`` on the prepare key,
the tagger's identity (stage version, model, settings); ``signals`` (hygiene) likewise. Changing one stage's logic or
settings therefore changes its key and every key downstream of it, and nothing upstream.

The ``build key`` of a whole run hashes every input fingerprint with the recipe (config,
stage versions, packages, model, expectation suites); when it equals the latest version's,
the run has nothing new to do.
"""
from __future__ import annotations

import json
from importlib import metadata
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import STAGE_VERSIONS, PipelineConfig
from pipeline.stages import ingest, tag
from pipeline.stages.extract import CLEAN_EXTRACTOR, HTML_EXTRACTOR
from pipeline.stages.extract_dump import DUMP_EXTRACTOR
from pipeline.textutil import sha256_hex

PREPARE, TAG, SIGNALS = "prepare", "tag", "signals"
# What an entry holds: prepare, a documents.Prepared (or Rejected); tag, the mention rows of
# corpus.mention_batch. A new format gets new keys, so old entries are never misread.
ENTRY_FORMAT = 2
_PREPARE_STAGES = ("ingest", "extract", "normalize")


def _key(*parts) -> str:
    return sha256_hex(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str))


def prepare_identity(config: PipelineConfig) -> dict:
    """Versions and settings of ingest, extract and normalize."""
    return {
        "versions": {s: STAGE_VERSIONS.get(s) for s in _PREPARE_STAGES},
        "extractors": [HTML_EXTRACTOR, DUMP_EXTRACTOR, CLEAN_EXTRACTOR],
        "config": {s: config.for_stage(s) for s in _PREPARE_STAGES},
    }


def signals_identity(config: PipelineConfig) -> dict:
    # MinHash values depend on datasketch's hashing; paraphrase traces on the tagger model.
    return {"version": STAGE_VERSIONS["hygiene"], "config": config.for_stage("hygiene"),
            "model": tag.model_version(config.paraphrase_model), "datasketch": metadata.version("datasketch")}


@dataclass(frozen=True)
class PlannedDocument:
    """One input before any processing: its fingerprint and the key of its prepare output."""

    path: str
    fingerprint: str
    prepare_key: str

    def matches(self, outcome) -> bool:
        """False when the file changed between planning and processing (see KeyMaker.as_used)."""
        return outcome_fingerprint(outcome) == self.fingerprint


def outcome_fingerprint(outcome) -> str:
    """The fingerprint of the bytes an outcome (documents.Prepared, Article or Rejected) was
    made from: their SHA-256, or for a file ingest did not read, "unread:<reason>:<detail>"
    exactly as ingest.fingerprint gives it."""
    if hasattr(outcome, "article"):  # documents.Prepared
        outcome = outcome.article
    if hasattr(outcome, "extracted"):
        return outcome.extracted.source.sha256
    if outcome.source_sha256 is not None:
        return outcome.source_sha256
    return ingest.unread_fingerprint(outcome.reason, outcome.detail)


class KeyMaker:
    """Computes keys for one run's config (identities are computed once)."""

    def __init__(self, config: PipelineConfig):
        self.config = config
        self._prepare = prepare_identity(config)
        self._tag = tag.tagger_identity(config)
        self._signals = signals_identity(config)

    def plan(self, seeds_dir: Path, relative_path: str) -> PlannedDocument:
        fingerprint = ingest.fingerprint(seeds_dir, relative_path, self.config)
        return PlannedDocument(relative_path, fingerprint, self._prepare_key(relative_path, fingerprint))

    def _prepare_key(self, relative_path: str, fingerprint: str) -> str:
        return _key(PREPARE, ENTRY_FORMAT, relative_path, fingerprint, self._prepare)

    def as_used(self, planned: PlannedDocument, outcome) -> PlannedDocument:
        """The document keyed on the bytes its outcome was made from.

        A file rewritten (or removed) after planning read it and before ingest did: the run
        keeps what ingest read, so that outcome's cache entry, the keys downstream of it and
        the run's build key must all name those bytes, not the planned ones. Unchanged: as is.
        """
        used = outcome_fingerprint(outcome)
        if used == planned.fingerprint:
            return planned
        return PlannedDocument(planned.path, used, self._prepare_key(planned.path, used))

    def tag_key(self, prepare_key: str) -> str:
        return _key(TAG, ENTRY_FORMAT, prepare_key, self._tag)

    def signals_key(self, prepare_key: str) -> str:
        return _key(SIGNALS, prepare_key, self._signals)


def build_key(planned: list[PlannedDocument], recipe: dict) -> str:
    """Everything a run's tables depend on: inputs (path and fingerprint) and the recipe."""
    return _key("build", sorted((d.path, d.fingerprint) for d in planned), recipe)
