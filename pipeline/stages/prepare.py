"""The prepare stage: one file through ingest -> extract -> normalize; any failure becomes a Rejected."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa

from pipeline.core import schema
from pipeline.core.config import PipelineConfig
from pipeline.core.records import Article, Rejected
from pipeline.core.stage import DOCUMENT, SOURCES, SourceRef, Stage
from pipeline.stages import ingest, normalize
from pipeline.stages.extract.dispatch import EXTRACTORS, ExtractionError, extract
from pipeline.stages.extract.dispatch import VERSION as EXTRACT_VERSION
from pipeline.stages.normalize import NormalizationError


@dataclass(frozen=True)
class Prepared:
    """A prepared document: the article without its page's blocks, and the blocks as rows of
    the boilerplate table. Blocks are most of an article's memory, and as Arrow rows they cost
    no Python object each (millions at 10,000 pages)."""

    article: Article
    boilerplate: pa.RecordBatch


def prepare_document(seeds_dir: str | Path, relative_path: str, config: PipelineConfig,
                     read: ingest.Read | None = None) -> Prepared | Rejected:
    source = ingest.ingest(seeds_dir, relative_path, config, read)
    if isinstance(source, Rejected):
        return source
    stage = "extract"
    try:
        extracted = extract(source)
        stage = "normalize"
        article = normalize.normalize(extracted, config)
    except (ExtractionError, NormalizationError) as err:
        return Rejected(relative_path, stage, err.reason, err.detail, source.sha256)
    except Exception as err:  # noqa: BLE001 - one bad document must never stop the corpus
        return Rejected(relative_path, stage, f"{stage}_error",
                        f"unexpected {type(err).__name__}: {err}", source.sha256)
    return Prepared(_without_page(article), boilerplate_batch(article))


def prepare_sources(sources: list[SourceRef], config: PipelineConfig) -> list[Prepared | Rejected]:
    by_folder: dict[str, list[str]] = {}
    for source in sources:
        by_folder.setdefault(source.seeds_dir, []).append(source.path)
    read = {(folder, path): data for folder, paths in by_folder.items()
            for path, data in ingest.read_ahead(folder, paths, config).items()}
    return [prepare_document(s.seeds_dir, s.path, config, read.get((s.seeds_dir, s.path))) for s in sources]


def _without_page(article: Article) -> Article:
    """The article without the page's text and blocks: only extraction reads the page, and the
    blocks live on as boilerplate rows (article.boilerplate_ratio keeps their summary)."""
    source = replace(article.extracted.source, text="")
    return replace(article, extracted=replace(article.extracted, source=source, blocks=()))


def boilerplate_batch(article: Article) -> pa.RecordBatch:
    """The article's rows of the boilerplate table: every block with its verdict, kept ones too,
    so `pipeline explain` can show a whole page."""
    extracted = article.extracted
    blocks = extracted.blocks
    columns = {
        "article_id": [article.article_id] * len(blocks),
        "block_index": [b.index for b in blocks],
        "text": [b.text for b in blocks],
        "role": [b.role for b in blocks],
        "kept": [b.kept for b in blocks],
        "reason": [b.reason for b in blocks],
        "extractor": [extracted.extractor] * len(blocks),
        "input_kind": [extracted.input_kind] * len(blocks),
        "input_kind_reason": [extracted.input_kind_reason] * len(blocks),
    }
    return pa.RecordBatch.from_pydict(columns, schema=schema.BOILERPLATE.schema)


PREPARE = Stage(
    "prepare", f"{ingest.VERSION}+{EXTRACT_VERSION}+{normalize.VERSION}", DOCUMENT, prepare_sources,
    reads=("max_file_bytes", "min_words_for_paragraph_language", "min_paragraph_language_confidence"),
    resources=lambda config: {"extractors": list(EXTRACTORS)},
    inputs=SOURCES, label="extract+normalize")
