"""validate stage: real Great Expectations runs on tiny tables, one broken rule at a time."""
from __future__ import annotations

import copy
import hashlib
import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.checks import corpus, gx
from pipeline.checks import documents as document_checks
from pipeline.checks import tables as validate
from pipeline.checks.gx import list_suites
from pipeline.checks.outcomes import ValidationReport
from pipeline.checks.tables import validate_parts, validate_tables, write_parts
from pipeline.core.schema import TABLES, to_arrow


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _article(article_id, source_path, fmt, paragraphs, title="A title"):
    text = "\n\n".join(paragraphs)
    return {
        "article_id": article_id, "source_path": source_path, "source_sha256": _sha(source_path),
        "source_format": fmt, "encoding": "utf-8", "title": title, "author": None,
        "published_date": None, "site_name": None, "url": None, "language": "en", "text": text,
        "n_paragraphs": len(paragraphs), "n_words": len(text.split()), "n_chars": len(text),
        "extractor": "test_v1", "boilerplate_ratio": 0.25, "content_sha256": _sha(text),
        "duplicate_of": None, "near_duplicate_cluster": None, "near_duplicate_similarity": None,
        "english_share": 1.0, "paraphrase_score": 0.0, "paraphrase_traces": 0, "paraphrase_evidence": None,
        "is_paraphrased": False, "is_short": True, "is_mostly_boilerplate": False, "is_mostly_non_english": False,
    }


def _paragraphs(article_id, paragraphs):
    rows, start = [], 0
    for index, text in enumerate(paragraphs):
        rows.append({
            "article_id": article_id, "paragraph_index": index, "text": text,
            "char_start": start, "char_end": start + len(text), "n_words": len(text.split()),
            "language": "en", "paragraph_hash": _sha(text.casefold()),
            "n_articles_with_paragraph": 1, "ner_tagged": True,
        })
        start += len(text) + 2
    return rows


def _entity(article_id, paragraph_index, paragraph, mention, label):
    start = paragraph.index(mention)
    return {
        "article_id": article_id, "paragraph_index": paragraph_index, "char_start": start,
        "char_end": start + len(mention), "text": mention, "label": label,
        "canonical_name": mention, "entity_id": "e" + _sha(f"{mention}|{label}")[:16],
        "resolution": "exact", "tagged_by": "model",
    }


def _catalog(entities):
    """entity_catalog rows that agree with the entities rows."""
    rows = {}
    for e in entities:
        row = rows.setdefault(e["entity_id"], {
            "entity_id": e["entity_id"], "canonical_name": e["canonical_name"], "label": e["label"],
            "aliases": [e["text"]], "n_mentions": 0, "articles": set(),
            "first_published": None, "last_published": None})
        row["n_mentions"] += 1
        row["articles"].add(e["article_id"])
    return [{**{k: v for k, v in r.items() if k != "articles"}, "n_articles": len(r["articles"])}
            for r in rows.values()]


A1 = ["Barack Obama visited Paris on Monday.", "The trip cost $5 million."]
A2 = ["Apple released a phone in California."]


def _valid_rows() -> dict[str, list[dict]]:
    return {
        "articles": [_article("a1", "000_page.txt", "text", A1),
                     _article("a2", "001_page.html", "html", A2, title=None)],  # a null title is fine
        "paragraphs": _paragraphs("a1", A1) + _paragraphs("a2", A2),
        "entities": [
            _entity("a1", 0, A1[0], "Barack Obama", "PERSON"),
            _entity("a1", 0, A1[0], "Paris", "GPE"),
            _entity("a1", 0, A1[0], "Monday", "DATE"),
            _entity("a1", 1, A1[1], "$5 million", "MONEY"),
            _entity("a2", 0, A2[0], "Apple", "ORG"),
            _entity("a2", 0, A2[0], "California", "GPE"),
        ],
        "boilerplate": [
            {"article_id": "a1", "block_index": 0, "text": "Subscribe now", "role": "boilerplate", "kept": False,
             "reason": "short_line", "extractor": "test_v1"},
            {"article_id": "a2", "block_index": 3, "text": "Cookie notice", "role": "boilerplate", "kept": False,
             "reason": "trafilatura", "extractor": "test_v1"},
        ],
        "quarantine": [
            {"source_path": "002_empty.txt", "source_sha256": _sha(""), "stage": "ingest",
             "reason": "empty_file", "detail": "file has 0 bytes"},
        ],
    }


N_INPUTS = 3


@pytest.fixture(scope="module")
def valid_rows() -> dict[str, list[dict]]:
    return _valid_rows()


@pytest.fixture
def rows(valid_rows) -> dict[str, list[dict]]:
    """A fresh copy to break one rule in."""
    return copy.deepcopy(valid_rows)


def _tables(rows: dict[str, list[dict]]):
    rows = {"entity_catalog": _catalog(rows["entities"]), **rows}  # unless a test gives its own
    return {name: to_arrow(TABLES[name], rows[name]) for name in TABLES}


def _run(rows, n_inputs=N_INPUTS) -> ValidationReport:
    return validate_tables(_tables(rows), n_inputs)


@pytest.fixture(scope="module")
def valid_report(valid_rows) -> ValidationReport:
    return _run(copy.deepcopy(valid_rows))


def _assert_fails(report: ValidationReport, table: str, expectation: str, column: str | None = None):
    assert not report.success
    assert report.failed(table, expectation, column), "\n".join(report.summary_lines())
    line_start = f"FAILED {table}: {expectation}({column or ''})"
    assert any(line.startswith(line_start) for line in report.summary_lines()), report.summary_lines()


# --------------------------------------------------------------------------- passing


def test_valid_tables_pass(valid_report):
    assert valid_report.success, "\n".join(valid_report.summary_lines())
    assert valid_report.failures == ()
    assert {o.table for o in valid_report.outcomes} == {*TABLES, "accounting"}
    assert valid_report.summary_lines()[0].startswith("validation passed:")


def test_outcomes_follow_suite_files(valid_report):
    """One outcome per expectation in each JSON file, in file order, tables in schema order;
    then the corpus rules."""
    expected = []
    for name in TABLES:
        for exp in gx.read_suite_json(name)["expectations"]:
            expected.append((name, exp["type"]))
    expected += [(rule.table, rule.expectation) for rule in corpus.RULES]
    assert [(o.table, o.expectation) for o in valid_report.outcomes] == expected


def test_report_is_json_and_deterministic(valid_report, valid_rows):
    data = valid_report.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["success"] is True and data["n_failures"] == 0
    assert data["n_expectations"] == len(valid_report.outcomes)
    again = _run(copy.deepcopy(valid_rows))
    assert json.dumps(again.to_dict()) == json.dumps(data)


def test_validation_keeps_no_frame(valid_report):
    """GX would keep each suite's check frame in its execution engine after validating it."""
    engine = gx._gx().datasource.get_execution_engine()
    assert engine.batch_manager.batch_data_cache == {}
    assert not engine.batch_manager.batch_cache


def test_empty_quarantine_and_empty_corpus_pass(rows):
    rows["quarantine"] = []
    report = _run(rows, n_inputs=2)
    assert report.success, report.summary_lines()
    empty = validate_tables({name: to_arrow(TABLES[name], []) for name in TABLES}, 0)
    assert empty.success, empty.summary_lines()


def test_null_title_passes_but_null_text_fails(rows):
    rows["articles"][0]["title"] = None
    rows["articles"][0]["author"] = None
    assert _run(rows).success
    rows["articles"][0]["text"] = None
    report = _run(rows)
    _assert_fails(report, "articles", "expect_column_values_to_not_be_null", "text")
    # text_n_chars is null for a null text, so the n_chars rule does not double-report it
    assert not report.failed("articles", "expect_column_pair_values_to_be_equal", "n_chars,text_n_chars")


# --------------------------------------------------------------------------- one rule broken


def test_duplicate_article_id(rows):
    dup = copy.deepcopy(rows["articles"][0])
    dup["source_path"] = "009_copy.txt"
    rows["articles"].append(dup)
    report = _run(rows, n_inputs=N_INPUTS + 1)
    _assert_fails(report, "articles", "expect_column_values_to_be_unique", "article_id")
    assert "2 unexpected values: ['a1']" in {o.observed for o in report.failures}


def test_duplicate_paragraph_key(rows):
    rows["paragraphs"].append({**rows["paragraphs"][0], "text": "Another text."})
    _assert_fails(_run(rows), "paragraphs", "expect_compound_columns_to_be_unique", "article_id,paragraph_index")


def test_entity_offsets_exceed_paragraph(rows):
    entity = rows["entities"][3]  # "$5 million" in A1[1]
    entity["char_start"], entity["char_end"] = 20, len(A1[1]) + 5
    report = _run(rows)
    _assert_fails(report, "entities", "expect_column_pair_values_a_to_be_greater_than_b", "paragraph_n_chars,char_end")
    _assert_fails(report, "entities", "expect_column_values_to_be_in_set", "span_matches_paragraph")


def test_entity_text_not_the_span(rows):
    rows["entities"][1]["text"] = "London"  # offsets still point at "Paris"
    report = _run(rows)
    _assert_fails(report, "entities", "expect_column_values_to_be_in_set", "span_matches_paragraph")
    assert [f.table for f in report.failures] == ["entities"]


def test_entity_start_not_before_end(rows):
    rows["entities"][0]["char_end"] = rows["entities"][0]["char_start"]
    _assert_fails(_run(rows), "entities", "expect_column_pair_values_a_to_be_greater_than_b", "char_end,char_start")


def test_label_not_in_set(rows):
    rows["entities"][0]["label"] = "FOO"
    rows["entities"][2]["label"] = "FOO"
    report = _run(rows)
    _assert_fails(report, "entities", "expect_column_values_to_be_in_set", "label")
    assert ("FAILED entities: expect_column_values_to_be_in_set(label): 2 unexpected values: ['FOO']"
            in report.summary_lines())
    # The catalog rows are derived from these entities, so their entities carry the bad label too.
    assert [(f.table, f.column) for f in report.failures] == [("entities", "label"), ("entity_catalog", "label")]


def test_orphan_paragraph(rows):
    rows["paragraphs"].append({**rows["paragraphs"][0], "article_id": "ghost"})
    report = _run(rows)
    _assert_fails(report, "paragraphs", "expect_column_values_to_be_in_set", "article_id")
    # the orphan is reported by its foreign-key rule only (derived checks are null for it)
    assert [(f.table, f.column) for f in report.failures] == [("paragraphs", "article_id")]


def test_entity_in_missing_paragraph(rows):
    rows["entities"][0]["paragraph_index"] = 7
    report = _run(rows)
    _assert_fails(report, "entities", "expect_column_values_to_be_in_set", "paragraph_key")
    assert "1 unexpected values: ['a1#7']" in {o.observed for o in report.failures}


def test_orphan_entity_and_boilerplate(rows):
    rows["entities"][0]["article_id"] = "ghost"
    rows["boilerplate"][0]["article_id"] = "ghost"
    report = _run(rows)
    _assert_fails(report, "entities", "expect_column_values_to_be_in_set", "article_id")
    _assert_fails(report, "boilerplate", "expect_column_values_to_be_in_set", "article_id")


def test_paragraph_not_the_article_span(rows):
    rows["paragraphs"][1]["text"] = "The trip cost $6 million."  # same length, other text
    report = _run(rows)
    _assert_fails(report, "paragraphs", "expect_column_values_to_be_in_set", "span_matches_article")


def test_paragraph_beyond_article_end(rows):
    rows["paragraphs"][1]["char_end"] += 10
    _assert_fails(_run(rows), "paragraphs", "expect_column_pair_values_a_to_be_greater_than_b", "article_n_chars,char_end")


def test_n_paragraphs_must_match(rows):
    rows["articles"][0]["n_paragraphs"] = 3
    _assert_fails(_run(rows), "articles", "expect_column_pair_values_to_be_equal", "n_paragraphs,n_paragraphs_found")


# --------------------------------------------------------------------------- corpus rules (DuckDB over all parts)


def _corpus_failure(report: ValidationReport, table: str, expectation: str, column: str | None, observed: str):
    """The one failure is the corpus rule's: no suite checks this any more."""
    _assert_fails(report, table, expectation, column)
    assert [(f.table, f.expectation, f.column, f.observed) for f in report.failures] == [
        (table, expectation, column, observed)]
    assert (table, expectation, column) in {(r.table, r.expectation, r.column) for r in corpus.RULES}


def test_input_not_accounted_for(rows):
    _corpus_failure(_run(rows, n_inputs=N_INPUTS + 1), "accounting", "expect_table_row_count_to_equal", None,
                    "observed 3, expected 4")


def test_input_in_both_articles_and_quarantine(rows):
    rows["quarantine"][0]["source_path"] = rows["articles"][0]["source_path"]
    _corpus_failure(_run(rows), "accounting", "expect_column_values_to_be_unique",
                    "source_path", "2 unexpected values: ['000_page.txt']")


def test_dangling_duplicate_of(rows):
    """The representative may be in another part, so this is checked over all parts."""
    rows["articles"][1].update(duplicate_of="a1", near_duplicate_cluster="d" + "0" * 16,
                               near_duplicate_similarity=0.9)  # a1 is in part 1, a2 in part 2: fine
    assert _run(rows).success, _run(rows).summary_lines()
    rows["articles"][1]["duplicate_of"] = "a9"
    _corpus_failure(_run(rows), "articles", "expect_column_values_to_be_in_set", "duplicate_of",
                    "1 unexpected values: ['a9']")


def test_entity_missing_from_catalog(rows):
    rows["entity_catalog"] = _catalog(rows["entities"])[1:]
    missing = rows["entities"][0]["entity_id"]
    _corpus_failure(_run(rows), "entities", "expect_column_values_to_be_in_set", "entity_id",
                    f"1 unexpected values: [{missing!r}]")


def test_catalog_entity_without_mentions(rows):
    ghost = {**_catalog(rows["entities"])[0], "entity_id": "e" + "0" * 16}
    rows["entity_catalog"] = _catalog(rows["entities"]) + [ghost]
    _corpus_failure(_run(rows), "entity_catalog", "expect_column_values_to_be_in_set", "entity_id",
                    f"1 unexpected values: [{ghost['entity_id']!r}]")


def test_row_in_the_wrong_part(tmp_path, valid_rows):
    """A row outside its key's part is reported, and its group is validated alone."""
    folder = tmp_path / "version"
    write_parts(_tables(copy.deepcopy(valid_rows)), folder)
    part_1, part_2 = folder / "boilerplate" / "part-1.parquet", folder / "boilerplate" / "part-2.parquet"
    pq.write_table(pa.concat_tables([pq.read_table(part_1), pq.read_table(part_2)]), part_1)
    part_2.unlink()
    report, _ = validate_parts(folder, N_INPUTS)
    # In part 1 the row's article is not there: its suite's foreign key fails too.
    assert [(f.table, f.expectation, f.observed) for f in report.failures] == [
        ("boilerplate", "expect_column_values_to_be_in_set", "1 unexpected values: ['a2']"),
        ("boilerplate", "expect_rows_in_their_part", "1 unexpected values: ['a2']")]


@pytest.mark.parametrize("table, index, column, value, expectation", [
    ("articles", 0, "source_format", "pdf", "expect_column_values_to_be_in_set"),
    ("articles", 1, "language", "EN", "expect_column_values_to_match_regex"),
    ("articles", 0, "boilerplate_ratio", 1.5, "expect_column_values_to_be_between"),
    ("articles", 0, "text", "", "expect_column_value_lengths_to_be_between"),
    ("entities", 0, "text", None, "expect_column_values_to_not_be_null"),
    ("quarantine", 0, "stage", None, "expect_column_values_to_not_be_null"),
    ("quarantine", 0, "reason", None, "expect_column_values_to_not_be_null"),
])
def test_single_column_rules(rows, table, index, column, value, expectation):
    rows[table][index][column] = value
    _assert_fails(_run(rows), table, expectation, column)


def test_long_entity_text(rows):
    paragraph = "X" * 250
    rows["articles"][1] = _article("a2", "001_page.html", "html", [paragraph])
    rows["paragraphs"] = _paragraphs("a1", A1) + _paragraphs("a2", [paragraph])
    rows["entities"][4:] = [{**_entity("a2", 0, paragraph, paragraph, "ORG")}]
    report = _run(rows)
    _assert_fails(report, "entities", "expect_column_value_lengths_to_be_between", "text")
    assert len(report.failures) == 1


def test_entity_resolution_and_catalog_counts(rows):
    rows["entities"][0]["resolution"] = "guess"
    catalog = _catalog(rows["entities"])
    catalog[0]["n_articles"] = catalog[0]["n_mentions"] + 1
    rows["entity_catalog"] = catalog
    report = _run(rows)
    _assert_fails(report, "entities", "expect_column_values_to_be_in_set", "resolution")
    _assert_fails(report, "entity_catalog", "expect_column_pair_values_a_to_be_greater_than_b", "n_mentions,n_articles")


# --------------------------------------------------------------------------- suites and API


def test_suites_are_gx_serialized_and_documented():
    """Each file is exactly what GX writes for the suite it loads to, and README lists it."""
    readme = (gx.SUITES_DIR / "README.md").read_text(encoding="utf-8")
    assert list_suites() == sorted((*TABLES, document_checks.SUITE))
    for name in (*TABLES, document_checks.SUITE):
        stored = gx.read_suite_json(name)
        dumped = gx.load_suite(name).to_json_dict()
        for exp in dumped["expectations"]:
            exp["meta"].pop(gx._POSITION_KEY)
        assert dumped == stored, name
        assert f"## {name}" in readme
        for exp in stored["expectations"]:
            assert exp["meta"].get("why"), (name, exp["type"])
    for rule in corpus.RULES:  # the corpus rules say why too, in one line
        assert rule.why and "\n" not in rule.why, rule


def test_missing_table_is_an_error(valid_rows):
    tables = _tables(copy.deepcopy(valid_rows))
    del tables["boilerplate"]
    with pytest.raises(ValueError, match="boilerplate"):
        validate_tables(tables, N_INPUTS)


def test_bad_suite_file_is_an_error(tmp_path, valid_rows):
    suites = tmp_path / "expectations"
    shutil.copytree(gx.SUITES_DIR, suites)
    data = json.loads((suites / "entities.json").read_text())
    data["expectations"].append({"type": "expect_column_values_to_be_purple", "kwargs": {"column": "label"}})
    (suites / "entities.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="entities.json"):
        validate_tables(_tables(copy.deepcopy(valid_rows)), N_INPUTS, suites)


def test_suites_dir_is_used(tmp_path, valid_rows):
    """A stricter suite in another folder changes the outcome: suites are loaded at run time."""
    suites = tmp_path / "expectations"
    shutil.copytree(gx.SUITES_DIR, suites)
    data = json.loads((suites / "boilerplate.json").read_text())
    data["expectations"].append({"type": "expect_column_values_to_be_in_set",
                                 "kwargs": {"column": "reason", "value_set": ["short_line"]}, "meta": {"why": "test"}})
    (suites / "boilerplate.json").write_text(json.dumps(data))
    report = validate_tables(_tables(copy.deepcopy(valid_rows)), N_INPUTS, suites)
    assert [(f.table, f.expectation, f.observed) for f in report.failures] == [
        ("boilerplate", "expect_column_values_to_be_in_set", "1 unexpected values: ['trafilatura']")]


def test_whole_table_rule_in_a_suite_is_an_error(tmp_path, valid_rows):
    """Suites run per group of parts: a rule about a whole table belongs in the corpus rules."""
    suites = tmp_path / "expectations"
    shutil.copytree(gx.SUITES_DIR, suites)
    data = json.loads((suites / "boilerplate.json").read_text())
    data["expectations"].append({"type": "expect_table_row_count_to_equal", "kwargs": {"value": 2}})
    (suites / "boilerplate.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="corpus rule"):
        validate_tables(_tables(copy.deepcopy(valid_rows)), N_INPUTS, suites)


def test_no_progress_bars(valid_rows, capfd):
    _run(copy.deepcopy(valid_rows))
    out, err = capfd.readouterr()
    assert "Calculating Metrics" not in out + err


def test_unknown_suite_parameter_is_an_error(tmp_path, valid_rows):
    suites = tmp_path / "expectations"
    shutil.copytree(gx.SUITES_DIR, suites)
    data = json.loads((suites / "quarantine.json").read_text())
    data["expectations"].append({"type": "expect_column_values_to_be_in_set",
                                 "kwargs": {"column": "stage", "value_set": {"$PARAMETER": "stages"}}})
    (suites / "quarantine.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="stages"):
        validate_tables(_tables(copy.deepcopy(valid_rows)), N_INPUTS, suites)


# --------------------------------------------------------------------------- groups of parts


def _broken_seed_tables(seed_tables) -> tuple[dict, list[str]]:
    """The seed tables with failures in two article groups: a label outside the set in each,
    and a wrong n_chars in the second."""
    ids = sorted(seed_tables["articles"].column("article_id").to_pylist())
    first, last = ids[0], ids[-1]

    def replaced(table: str, column: str, change) -> pa.Table:
        t = seed_tables[table]
        index = t.schema.get_field_index(column)
        values = change(t.column(column).to_pylist(), t.column("article_id").to_pylist())
        return t.set_column(index, t.schema.field(index), pa.array(values, t.schema.field(index).type))

    def labels(values, article_ids):
        values[article_ids.index(first)], values[article_ids.index(last)] = "FOO", "BAR"
        return values

    def n_chars(values, article_ids):
        values[article_ids.index(last)] += 1
        return values

    return ({**seed_tables, "entities": replaced("entities", "label", labels),
             "articles": replaced("articles", "n_chars", n_chars)}, [first[1:3], last[1:3]])


def test_report_is_the_same_however_groups_are_validated(tmp_path, seed_tables, monkeypatch):
    """At once, one group at a time, or from the records of an earlier version: the same report
    (it goes into the manifest, whose hash is the version id)."""
    n_inputs = seed_tables["articles"].num_rows + seed_tables["quarantine"].num_rows
    tables, buckets = _broken_seed_tables(seed_tables)
    assert buckets[0] != buckets[1]
    earlier, folder = tmp_path / "earlier", tmp_path / "version"
    write_parts(seed_tables, earlier)
    hashes = write_parts(tables, folder)

    at_once, records = validate_parts(folder, n_inputs, part_sha256=hashes)
    assert [(f.table, f.column) for f in at_once.failures] == [("articles", "n_chars,text_n_chars"),
                                                               ("entities", "label")]
    assert at_once.failures[0].observed.startswith("1 unexpected values: [")
    assert at_once.failures[1].observed == "2 unexpected values: ['FOO', 'BAR']"  # groups in name order
    assert json.loads(json.dumps(records)) == records

    valid, earlier_records = validate_parts(earlier, n_inputs)
    assert valid.success
    incremental, incremental_records = validate_parts(folder, n_inputs, reusable=earlier_records)
    assert len(set(incremental_records) - set(earlier_records)) == 2  # only the two changed groups ran
    reused, _ = validate_parts(folder, n_inputs, reusable=json.loads(json.dumps(records)))

    # One GX call per group; the entity_catalog groups (one per part, no change) are reused.
    monkeypatch.setattr(validate, "BATCH_GROUPS", 1)
    catalog = {key: recs for key, recs in records.items() if recs[0]["table"] != "articles"}
    one_by_one, one_by_one_records = validate_parts(folder, n_inputs, reusable=catalog)

    for report in (incremental, reused, one_by_one):
        assert report.to_dict() == at_once.to_dict()
    assert incremental_records == one_by_one_records == records
