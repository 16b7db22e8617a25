"""The real Prefect flow over seeds/, loaded back with pandas and DuckDB."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import duckdb
import pandas as pd
import pytest
from conftest import REPO, SEEDS, table_bytes

import pipeline
from pipeline.cli import main as cli_main
from pipeline.core.schema import TABLES
from pipeline.orchestration.flow import corpus_flow
from pipeline.stages.extract.metrics import bow_f1

# Seed 001 is a clean copy of the story in the page dump 000: extraction must recover it.
SEED_000_VS_001_MIN_F1 = 0.95


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    data = tmp_path_factory.mktemp("run1") / "data"
    summary = corpus_flow(seeds_dir=str(SEEDS), data_dir=str(data))
    return data, summary


def article_for(articles: pd.DataFrame, prefix: str) -> pd.Series:
    (row,) = [r for _, r in articles.iterrows() if r.source_path.startswith(prefix)]
    return row


def test_five_inputs_give_five_validated_articles(first_run):
    data, summary = first_run
    assert (summary.n_inputs, summary.n_articles, len(summary.quarantined)) == (5, 5, 0)
    assert summary.validation_success and summary.version_created and summary.latest_moved
    assert (data / "latest").resolve() == (data / "versions" / summary.version_id).resolve()
    articles = pd.read_parquet(data / "latest" / "articles")
    assert len(articles) == 5 and articles.article_id.is_unique
    assert set(articles.source_path) == {p.name for p in SEEDS.glob("*.txt")}
    manifest = json.loads((data / "latest" / "manifest.json").read_text())
    assert manifest["version_id"] == summary.version_id
    assert manifest["validation"]["success"] is True
    assert {name: info["rows"] for name, info in manifest["tables"].items()}["articles"] == 5
    assert len(manifest["inputs"]) == 5 and manifest["model"].startswith("en_core_web_sm")


def test_page_dump_body_matches_clean_copy(first_run):
    data, _ = first_run
    articles = pipeline.load("articles", data_dir=data)
    dump, clean = article_for(articles, "000_"), article_for(articles, "001_")
    f1 = bow_f1(dump.text, clean.text)
    assert f1 >= SEED_000_VS_001_MIN_F1, f1
    assert "Popular Posts" not in dump.text and "Sign in" not in dump.text


def test_metadata_from_dumps(first_run):
    data, _ = first_run
    articles = pipeline.load("articles", data_dir=data)
    seed0, seed1, seed2 = (article_for(articles, p) for p in ("000_", "001_", "002_"))
    assert seed0.title == "Xinjiang Kazakh plans political party to counter China’s Xi"
    assert str(seed0.published_date) == "2025-08-17" and seed0.site_name == "America Age"
    assert seed2.author == "Zarina Mukanova" and str(seed2.published_date) == "2024-05-07"
    assert pd.isna(seed1.published_date)


def test_entities_join_through_duckdb(first_run):
    data, _ = first_run
    latest = (data / "latest").as_posix()
    rows = duckdb.sql(f"""
        SELECT e.text, e.label, e.canonical_name, a.source_path,
               substr(p.text, e.char_start + 1, e.char_end - e.char_start) AS span
        FROM '{latest}/entities/*.parquet' e
        JOIN '{latest}/paragraphs/*.parquet' p USING (article_id, paragraph_index)
        JOIN '{latest}/articles/*.parquet' a USING (article_id)
    """).df()
    assert len(rows) > 100
    assert (rows.span == rows.text).all()
    people = set(rows[rows.label == "PERSON"].canonical_name)
    places = set(rows[rows.label.isin(["GPE", "LOC"])].canonical_name)
    assert any("Bilash" in name for name in people)
    assert any("Tokayev" in name for name in people)
    assert "Xinjiang" in places and "Kazakhstan" in places


def test_boilerplate_table_explains_removed_blocks(first_run):
    data, _ = first_run
    boilerplate = pipeline.load("boilerplate", data_dir=data)
    articles = pipeline.load("articles", data_dir=data)
    seed0 = article_for(articles, "000_")
    removed = boilerplate[boilerplate.article_id == seed0.article_id]
    assert len(removed) > 50 and removed.reason.str.len().gt(0).all()
    assert removed.text.str.contains("Popular Posts").any()


def test_rerun_publishes_nothing_new_and_fresh_folder_is_byte_identical(first_run, tmp_path):
    data, summary = first_run
    again = corpus_flow(seeds_dir=str(SEEDS), data_dir=str(data))
    assert again.version_id == summary.version_id and not again.version_created
    assert "nothing new published" in "\n".join(again.lines())

    fresh = tmp_path / "data"
    other = corpus_flow(seeds_dir=str(SEEDS), data_dir=str(fresh), shard_size=2)
    assert other.version_id == summary.version_id
    assert table_bytes(data / "latest") == table_bytes(fresh / "latest")
    assert {p.split("/")[0] for p in table_bytes(fresh / "latest")} == set(TABLES)


HTML_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<title>Activists in Almaty demand answers | Steppe Post</title>
<meta name="author" content="Aigerim Sultanova"><meta property="article:published_time" content="2024-03-02">
</head><body><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li></ul></nav>
<article><h1>Activists in Almaty demand answers</h1>
<p>Relatives of people detained in Xinjiang gathered outside the Chinese consulate in Almaty on Saturday,
holding photographs of their missing family members and asking for news of them.</p>
<p>Serikzhan Bilash, who founded the Atajurt group, said the government of Kazakhstan should raise the
cases directly with Beijing instead of staying silent about the fate of ethnic Kazakhs.</p>
<p>Officials in Astana did not respond to requests for comment on the gathering or on the petitions.</p>
</article><footer><p>Copyright 2024 Steppe Post. All rights reserved.</p></footer></body></html>"""


def test_html_and_bad_inputs_in_one_run(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    (seeds / "page.html").write_text(HTML_PAGE, encoding="utf-8")
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "binary.html").write_bytes(bytes(range(256)) * 16)
    (seeds / "nested").mkdir()
    (seeds / "nested" / "only chrome.txt").write_text("Home\nAbout\nContact\n© 2024 Example\n")
    summary = corpus_flow(seeds_dir=str(seeds), data_dir=str(tmp_path / "data"))
    assert summary.n_inputs == 9 and summary.n_articles == 6 and summary.validation_success
    articles = pipeline.load("articles", data_dir=tmp_path / "data").set_index("source_path")
    page = articles.loc["page.html"]
    assert page.source_format == "html" and page.extractor.startswith("trafilatura")
    assert page.author == "Aigerim Sultanova" and str(page.published_date) == "2024-03-02"
    assert "consulate in Almaty" in page.text and "Home" not in page.text
    assert page.n_paragraphs == 3
    quarantine = pipeline.load("quarantine", data_dir=tmp_path / "data").set_index("source_path")
    assert sorted(quarantine.index) == ["binary.html", "empty.txt", "nested/only chrome.txt"]
    assert (quarantine.stage["binary.html"], quarantine.reason["binary.html"]) == ("ingest", "binary_file")
    assert (quarantine.stage["empty.txt"], quarantine.reason["empty.txt"]) == ("ingest", "empty_file")
    # Whatever extraction keeps of a chrome-only page, the document rules reject it.
    assert (quarantine.stage["nested/only chrome.txt"], quarantine.reason["nested/only chrome.txt"]) in {
        ("extract", "no_body"), ("validate", "too_few_words")}
    assert quarantine.detail.str.len().gt(0).all()


def test_failed_validation_keeps_latest_and_exits_nonzero(first_run, tmp_path, capsys):
    data, summary = first_run
    strict = tmp_path / "expectations"
    shutil.copytree(REPO / "expectations", strict)
    suite = json.loads((strict / "articles.json").read_text())
    suite["expectations"].append({"type": "expect_column_values_to_be_between",
                                  "kwargs": {"column": "n_words", "min_value": 0, "max_value": 1}})
    (strict / "articles.json").write_text(json.dumps(suite))
    code = cli_main(["run", "--seeds", str(SEEDS), "--data", str(data), "--expectations", str(strict)])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED articles: expect_column_values_to_be_between(n_words): 5 unexpected values" in out
    assert (data / "latest").resolve().name == summary.version_id


def test_console_script_runs_and_prints_summary(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--seeds", str(SEEDS),
                           "--data", str(tmp_path / "data")],
                          capture_output=True, text=True, env=env, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for label in ("inputs found:     5", "articles:         5", "quarantined:      0",
                  "validation:       passed", "version:", "elapsed:"):
        assert label in done.stdout
    assert "extract+normalize: shard 1/1" in done.stderr


def _runs(data) -> list[dict]:
    return [json.loads(line) for line in (data / "runs.jsonl").read_text().splitlines()]


def test_same_inputs_same_version_built_at_once_one_by_one_or_after_add_and_remove(tmp_path):
    """The layout and the bytes depend on the set of inputs only, never on how it grew."""
    names = [p.name for p in sorted(SEEDS.iterdir()) if p.name[:3] in ("000", "001", "002")]
    extra = next(p for p in sorted(SEEDS.iterdir()) if p.name.startswith("004"))

    def run(files, data):
        seeds = tmp_path / f"seeds-{data.name}"
        shutil.rmtree(seeds, ignore_errors=True)
        seeds.mkdir()
        for name in files:
            shutil.copy(SEEDS / name, seeds / name)
        summary = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
        assert summary.ok
        return summary

    at_once = run(names, tmp_path / "at-once")
    for i in range(1, len(names) + 1):
        one_by_one = run(names[:i], tmp_path / "one-by-one")
    # An unchanged article's parts were linked from the version before, not built again.
    assert _runs(tmp_path / "one-by-one")[-1]["parts"]["linked"] > 0
    run([*names, extra.name], tmp_path / "add-remove")
    added_and_removed = run(names, tmp_path / "add-remove")

    assert at_once.version_id == one_by_one.version_id == added_and_removed.version_id
    assert table_bytes(tmp_path / "at-once" / "latest") == table_bytes(tmp_path / "one-by-one" / "latest") \
        == table_bytes(tmp_path / "add-remove" / "latest")
    assert len(pipeline.load("articles", data_dir=tmp_path / "one-by-one")) == 3


def test_a_corpus_without_articles_publishes_empty_tables_that_load(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "empty.txt").write_bytes(b"")
    summary = corpus_flow(seeds_dir=str(seeds), data_dir=str(tmp_path / "data"))
    assert summary.ok and summary.n_articles == 0 and len(summary.quarantined) == 1
    for name in TABLES:
        rows = pipeline.load(name, data_dir=tmp_path / "data")
        assert len(rows) == (1 if name == "quarantine" else 0), name
        assert list(rows.columns) == TABLES[name].schema.names
