"""Every stage of a run, in the order they run: the one list cache keys, the manifest's stage
list, the build key, the run summary and runs.jsonl are made from.

Adding a stage is a module that declares a `Stage` (pipeline.core.stage) and one line in
STAGES; docs/architecture.md walks through an example.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from pipeline.checks.documents import DOCUMENT_CHECKS
from pipeline.checks.tables import TABLE_CHECKS
from pipeline.core.stage import ARTICLES, DOCUMENT, SOURCES, Stage
from pipeline.stages.entities.resolve import RESOLVE
from pipeline.stages.entities.tag import TAG
from pipeline.stages.hygiene.dedupe import DUPLICATES
from pipeline.stages.hygiene.signals import SIGNALS
from pipeline.stages.prepare import PREPARE
from pipeline.tables.assemble import TABLES

STAGES: tuple[Stage, ...] = (
    PREPARE,  # document: a file -> Prepared (article + boilerplate rows) or Rejected
    DOCUMENT_CHECKS,  # corpus: the `documents` suite; quarantines before tagging
    TAG,  # document: an article -> its mentions
    SIGNALS,  # document: an article -> its hygiene signals (MinHash, paraphrase traces)
    RESOLVE,  # corpus: every mention -> entity ids and the entity catalog
    DUPLICATES,  # corpus: MinHash signatures -> duplicate clusters
    TABLES,  # corpus: everything above -> the published tables
    TABLE_CHECKS,  # corpus: the table suites
)


def source_stage() -> Stage:
    """The one document stage that reads the input files; every other document stage takes
    its articles."""
    (stage,) = [s for s in STAGES if s.scope == DOCUMENT and s.inputs == SOURCES]
    return stage


def article_stages() -> list[Stage]:
    """The document stages over prepared articles; a run runs them side by side."""
    return [s for s in STAGES if s.scope == DOCUMENT and s.inputs == ARTICLES]


def document_stages() -> list[Stage]:
    return [source_stage(), *article_stages()]


@contextmanager
def extended(*extra: Stage) -> Iterator[None]:
    """The registry with more stages while the block runs (tests; a one-off experiment)."""
    global STAGES
    saved = STAGES
    names = {s.name for s in saved}
    clash = sorted(s.name for s in extra if s.name in names)
    if clash:
        raise ValueError(f"stage names already registered: {', '.join(clash)}")
    STAGES = (*saved, *extra)
    try:
        yield
    finally:
        STAGES = saved
