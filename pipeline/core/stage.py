"""The stage contract: what every stage declares, and the identity derived from it.

A stage's identity (name, version, the config fields it reads, the models and files it
loads) is the only thing cache keys, the manifest's stage list and the build key know about
it, so changing any of them reruns that stage and everything downstream, and nothing else.

Two scopes:
- DOCUMENT: `run(batch, config) -> outputs`, one output per input, in order, depending on
  that input and the identity only. Its outputs are cached per document and reused.
  `inputs` says what a batch holds: SOURCES (SourceRef, a file of the seeds folder) or
  ARTICLES (the prepared articles).
- CORPUS: needs every document at once (duplicates, entity resolution, the tables, the
  checks); `run` has its own signature and runs in the flow process on every changed run.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Callable, NamedTuple

from pipeline.core.config import PipelineConfig

DOCUMENT, CORPUS = "document", "corpus"
SOURCES, ARTICLES = "sources", "articles"


class SourceRef(NamedTuple):
    """One input file as a DOCUMENT stage over SOURCES receives it."""

    seeds_dir: str
    path: str  # relative to seeds_dir, POSIX


@dataclass(frozen=True)
class Stage:
    name: str  # cache folder, manifest entry, the counts of the summary and runs.jsonl
    version: str  # bump when the stage's logic changes what it outputs
    scope: str  # DOCUMENT or CORPUS
    run: Callable[..., Any]
    reads: tuple[str, ...] = ()  # PipelineConfig fields its output depends on
    # What else its output depends on (model versions, file digests, extractor names).
    resources: Callable[[PipelineConfig], dict] | None = None
    inputs: str = ARTICLES  # DOCUMENT stages only: SOURCES or ARTICLES
    label: str = ""  # how the run summary names it; the name if empty

    def __post_init__(self) -> None:
        known = {f.name for f in fields(PipelineConfig)}
        unknown = sorted(set(self.reads) - known)
        if unknown:
            raise ValueError(f"stage {self.name} reads unknown config fields: {', '.join(unknown)}")
        if self.scope not in (DOCUMENT, CORPUS) or self.inputs not in (SOURCES, ARTICLES):
            raise ValueError(f"stage {self.name}: scope {self.scope!r} / inputs {self.inputs!r} not known")

    @property
    def title(self) -> str:
        return self.label or self.name

    def identity(self, config: PipelineConfig) -> dict:
        """Everything the stage's output depends on besides its input."""
        return {
            "name": self.name,
            "version": self.version,
            "scope": self.scope,
            "config": {name: getattr(config, name) for name in self.reads},
            **(self.resources(config) if self.resources else {}),
        }
