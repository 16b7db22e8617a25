"""One document through ingest -> extract -> normalize; any failure becomes a Rejected."""
from __future__ import annotations

from pathlib import Path

from pipeline.config import PipelineConfig
from pipeline.records import Article, Rejected
from pipeline.stages.extract import ExtractionError, extract
from pipeline.stages.ingest import ingest
from pipeline.stages.normalize import NormalizationError, normalize


def prepare_document(seeds_dir: Path, relative_path: str, config: PipelineConfig) -> Article | Rejected:
    source = ingest(seeds_dir, relative_path, config)
    if isinstance(source, Rejected):
        return source
    stage = "extract"
    try:
        extracted = extract(source)
        stage = "normalize"
        return normalize(extracted, config)
    except (ExtractionError, NormalizationError) as err:
        return Rejected(relative_path, stage, err.reason, err.detail, source.sha256)
    except Exception as err:  # noqa: BLE001 - one bad document must never stop the corpus
        return Rejected(relative_path, stage, f"{stage}_error",
                        f"unexpected {type(err).__name__}: {err}", source.sha256)
