"""report.html, the markdown summary and the Prefect artifacts, on a real version built from the seeds."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import SEEDS
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.context import get_run_context

from pipeline.orchestration.artifacts import EXPECTATIONS_KEY, QUARANTINE_KEY, SUMMARY_KEY, publish_artifacts
from pipeline.orchestration.flow import corpus_flow
from pipeline.reporting.report import REPORT_FILE, collect, summary_markdown, write_report
from pipeline.reporting.svg import bar_chart_svg, bin_counts, histogram_svg, nice_bin_width
from pipeline.stages.entities.names import NAME_LABELS

QUARANTINED = {"empty.txt": "empty_file", "binary.html": "binary_file"}


@pytest.fixture(scope="module")
def version_dir(tmp_path_factory) -> Path:
    """A real version: the seeds plus two inputs that end in quarantine."""
    root = tmp_path_factory.mktemp("report")
    seeds = root / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "binary.html").write_bytes(bytes(range(256)) * 16)
    summary = corpus_flow(seeds_dir=str(seeds), data_dir=str(root / "data"))
    assert summary.validation_success and len(summary.quarantined) == len(QUARANTINED)
    return (root / "data" / "latest").resolve()


@pytest.fixture(scope="module")
def html(version_dir) -> str:
    return write_report(version_dir).read_text(encoding="utf-8")


def plain(html: str) -> str:
    """The page without its <wbr> (where long identifiers may wrap on a narrow screen)."""
    return html.replace("<wbr>", "")


def manifest_of(version_dir: Path) -> dict:
    return json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))


def test_report_is_written_beside_the_tables_without_leftovers(version_dir, html):
    assert (version_dir / REPORT_FILE).read_text(encoding="utf-8") == html
    assert not [p.name for p in version_dir.iterdir() if p.name.startswith(".")]  # no temp file left


def test_report_is_self_contained(html):
    lowered = html.lower()
    for outside in ("http://", "https://", "<script", "@import", "url(", "src=", "href=", "<link"):
        assert outside not in lowered, outside
    assert lowered.startswith("<!doctype html>") and "<style>" in lowered
    assert lowered.count("<svg") == 5  # words, boilerplate share, two language charts, entities


def test_report_shows_every_expectation_and_quarantine_reason(version_dir, html):
    html = plain(html)
    outcomes = manifest_of(version_dir)["validation"]["outcomes"]
    for outcome in outcomes:
        assert f"<td>{outcome['expectation']}</td>" in html
    assert html.count("<td>passed</td>") + html.count("<td>FAILED</td>") == len(outcomes)
    for suite in {o["table"] for o in outcomes}:
        assert f"<b>{suite}</b>" in html
    for path, reason in QUARANTINED.items():
        assert f"<td>{path}</td>" in html and f"<td>{reason}</td>" in html


def test_report_counts_match_the_tables(version_dir, html):
    html = plain(html)
    manifest = manifest_of(version_dir)
    boilerplate = pd.read_parquet(version_dir / "boilerplate", columns=["kept"])
    catalog = pd.read_parquet(version_dir / "entity_catalog")
    expected = {"inputs": len(manifest["inputs"]), "articles": 5, "quarantined": 2, "quarantined at ingest": 2,
                "paragraphs": manifest["tables"]["paragraphs"]["rows"],
                "entity mentions": manifest["tables"]["entities"]["rows"], "canonical entities": len(catalog),
                "boilerplate blocks kept": int(boilerplate.kept.sum()),
                "boilerplate blocks removed": int((~boilerplate.kept).sum())}
    for what, count in expected.items():
        assert f'<td>{what}</td><td class="num">{count}</td>' in html, what
    named = catalog[catalog.label.isin(NAME_LABELS)]
    top = named.sort_values(["n_mentions", "n_articles"], ascending=False).iloc[0]
    assert f"<td>{top.canonical_name}</td><td>{top.label}</td><td class=\"num\">{top.n_mentions}</td>" in html
    assert manifest["version_id"] in html and manifest["model"] in html and "<td>prefect</td>" in html


def test_most_mentioned_entities_are_names_and_numbers_have_their_own_table(version_dir, html):
    catalog = pd.read_parquet(version_dir / "entity_catalog")
    numbers = catalog[~catalog.label.isin(NAME_LABELS)]
    assert {"CARDINAL", "DATE", "ORDINAL"} <= set(numbers.label)  # the seeds have them: "two", "2019", "first"
    facts = collect(version_dir)
    assert len(facts.top_entities) == 20 and {e["label"] for e in facts.top_entities} <= NAME_LABELS
    assert {e["label"] for e in facts.top_entities} >= {"PERSON", "ORG", "GPE", "NORP"}
    assert facts.top_numbers and not {e["label"] for e in facts.top_numbers} & NAME_LABELS
    top_number = numbers.sort_values(["n_mentions", "n_articles"], ascending=False).iloc[0]
    assert facts.top_numbers[0]["canonical_name"] == top_number.canonical_name
    chart = html[html.index('aria-label="Most mentioned entities'):]
    chart, tables = chart[:chart.index("</svg>")], plain(html[html.index("<h3>Most mentioned entities"):])
    entities_table = tables[:tables.index("<h3>Most mentioned numbers and dates")]
    numbers_table = tables[len(entities_table):tables.index("<h2>Quarantine")]
    for label in ("CARDINAL", "DATE", "ORDINAL", "MONEY", "PERCENT", "QUANTITY", "TIME"):
        assert f"({label})" not in chart and f"<td>{label}</td>" not in entities_table
    assert f"<td>{top_number.canonical_name}</td><td>{top_number.label}</td>" in numbers_table
    summary = summary_markdown(version_dir)
    assert "| CARDINAL |" not in summary and "| DATE |" not in summary


def test_report_is_byte_identical_for_the_same_contents(version_dir, html, tmp_path):
    assert write_report(version_dir).read_text(encoding="utf-8") == html
    # A staging directory of another name gives the same page: nothing depends on the path.
    elsewhere = tmp_path / "staging-xyz"
    shutil.copytree(version_dir, elsewhere, ignore=shutil.ignore_patterns(REPORT_FILE))
    assert write_report(elsewhere).read_bytes() == (version_dir / REPORT_FILE).read_bytes()


def test_failed_expectations_stand_out_in_report_and_summary(version_dir, tmp_path):
    failing = tmp_path / "failing"
    shutil.copytree(version_dir, failing)
    manifest = manifest_of(failing)
    outcome = manifest["validation"]["outcomes"][1]
    outcome.update(success=False, observed="2 null values of 5")
    manifest["validation"].update(success=False, n_failures=1)
    (failing / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    page = write_report(failing).read_text(encoding="utf-8")
    assert '<tr class="failed">' in page and "FAILED: 1 of" in page and "2 null values of 5" in page
    summary = summary_markdown(failing)
    assert "FAILED: 1 of" in summary
    assert f"`{outcome['expectation']}({outcome['column']})`: 2 null values of 5" in summary


def test_summary_markdown_has_counts_reasons_validation_and_entities(version_dir):
    summary = summary_markdown(version_dir)
    manifest = manifest_of(version_dir)
    assert manifest["version_id"] in summary
    assert "| articles | 5 |" in summary and "| quarantined | 2 |" in summary
    assert "| ingest | empty_file | 1 |" in summary and "| ingest | binary_file | 1 |" in summary
    assert f"passed: {manifest['validation']['n_expectations']} expectations" in summary
    assert "| Kazakhstan | GPE |" in summary


def test_svg_helpers_escape_text_and_bin_values():
    svg = bar_chart_svg([("<script>alert(1)</script> & co", 3)], "Top <b>", "mentions")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&amp; co" in svg
    assert bin_counts([0, 0.05, 0.15, 0.999, 1.0], 0.05, 20) == [1, 1, 0, 1] + [0] * 15 + [2]
    assert nice_bin_width(2426) == 200 and nice_bin_width(0) == 1
    assert "no data" in histogram_svg([0, 0], ["0", "1", "2"], "Empty", "x", "articles")


@flow(name="publish-artifacts-test", persist_result=False)
def publish_artifacts_flow(version_dir: str) -> str:
    publish_artifacts(Path(version_dir))
    return str(get_run_context().flow_run.id)


def test_artifacts_reach_the_prefect_api(version_dir):
    flow_run_id = publish_artifacts_flow(str(version_dir))
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    by_key = {a.key: a for a in artifacts}
    assert set(by_key) == {SUMMARY_KEY, QUARANTINE_KEY, EXPECTATIONS_KEY}
    version_id = manifest_of(version_dir)["version_id"]
    summary = by_key[SUMMARY_KEY]
    assert summary.type == "markdown" and version_id in summary.data
    assert "| articles | 5 |" in summary.data and "| quarantined | 2 |" in summary.data

    def table(key: str) -> list[dict]:
        data = by_key[key].data
        return json.loads(data) if isinstance(data, str) else data

    assert {(r["source_path"], r["reason"]) for r in table(QUARANTINE_KEY)} == set(QUARANTINED.items())
    expectations = table(EXPECTATIONS_KEY)
    assert len(expectations) == manifest_of(version_dir)["validation"]["n_expectations"]
    assert all(re.fullmatch(r"[a-z0-9-]+", key) for key in by_key)
