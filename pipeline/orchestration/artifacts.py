"""Prefect artifacts for a published version: what the Prefect UI shows about a run's result.

Call publish_artifacts inside a flow run (the artifacts attach to that run). Keys are stable,
so the UI's Artifacts page keeps one history per key across runs.
"""
from __future__ import annotations

from pathlib import Path

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from pipeline.reporting.report import expectation_rows, quarantine_rows, read_manifest, summary_markdown

# Prefect keys: lowercase letters, digits and dashes only.
SUMMARY_KEY = "corpus-summary"
QUARANTINE_KEY = "corpus-quarantine"
EXPECTATIONS_KEY = "corpus-expectations"


def publish_artifacts(version_dir: Path) -> None:
    """A markdown summary and tables of quarantined inputs and expectation outcomes, for one version."""
    version_dir = Path(version_dir)
    manifest = read_manifest(version_dir)
    version_id = manifest.get("version_id", version_dir.name)
    create_markdown_artifact(markdown=summary_markdown(version_dir), key=SUMMARY_KEY,
                             description=f"Corpus version {version_id}: counts, quarantine, validation, entities")
    create_table_artifact(table=quarantine_rows(version_dir), key=QUARANTINE_KEY,
                          description=f"Inputs quarantined in version {version_id}")
    create_table_artifact(table=expectation_rows(manifest), key=EXPECTATIONS_KEY,
                          description=f"Expectation outcomes of version {version_id}")
