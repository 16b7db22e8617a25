"""docs/tables.md, generated from pipeline.core.schema: every published table and its columns.

    python -m pipeline.reporting.tables_doc            # (re)write docs/tables.md
    python -m pipeline.reporting.tables_doc --check    # exit 1 if docs/tables.md is stale

The file is generated as a whole (the prose about keys and relations between tables is the
INTRODUCTION below), so tests/test_docs.py can compare it with tables_markdown().
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pyarrow as pa

from pipeline.core import schema

COMMAND = "python -m pipeline.reporting.tables_doc"
DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "tables.md"

INTRODUCTION = """\
`pipeline/core/schema.py` is the single definition of every table: columns, types, nullability,
descriptions and row order. Each column's description is also stored in the Parquet schema
(field metadata key `description`), so `pyarrow.parquet.read_schema(path)` documents the file it
came with. Every version folder (`data/versions/<id>/`, and `data/latest`) holds one folder per
table of Parquet parts, `<table>/part-XX.parquet`, where `XX` is two hex digits of the row's
partition key (its id), so a part holds the same rows whatever order the documents arrived in
and a later version shares the parts whose rows did not change. Load a table with one line:
`pd.read_parquet("data/latest/articles")`, DuckDB `FROM 'data/latest/articles/*.parquet'`, or
`pipeline.load("articles")`. Rows are sorted by the table's sort keys within a part, and parts
in name order follow the same order, so the same inputs give byte-identical files (see
[operations](operations.md#versions)).

How the tables link:

- `articles` has one row per input document that made it, `quarantine` one per input that did not:
  every input ends in exactly one of the two, with its `source_path` (relative to the seeds folder).
- `paragraphs` (`article_id`, `paragraph_index`) belong to an article; `paragraphs.text ==
  articles.text[char_start:char_end]`.
- `entities` has one row per mention, in a paragraph (`article_id`, `paragraph_index`);
  `char_start`/`char_end` are offsets in the paragraph text (`text == paragraph.text[char_start:char_end]`).
- `entity_catalog` has one row per canonical entity; `entities.entity_id` is its key, shared by
  every mention of the entity in every article, whatever the spelling.
- `boilerplate` lists every block of an article's page (`article_id`, `block_index`), kept or
  removed, with the extractor's reason (see [extraction](extraction.md)).

Ids are derived from content, never random: `article_id` from the source path (an edited file
keeps its id; `source_sha256` tells the versions apart), `entity_id` from the label and the
entity's own names (see [entities](entities.md)). `duplicate_of` points exact and near copies at
their cluster's earliest article (see [corpus hygiene](hygiene.md)). Entity labels are spaCy
`en_core_web_sm`'s 18 OntoNotes labels; paragraphs detected as another language than English are
not sent to the English model (`paragraphs.ner_tagged`).
"""

ONE_ROW_PER = {
    "articles": "input document that made it",
    "paragraphs": "paragraph of an article",
    "entities": "entity mention",
    "entity_catalog": "canonical entity",
    "boilerplate": "block of an article's page, kept or removed",
    "quarantine": "input that did not make it",
}


def _type_name(type_: pa.DataType) -> str:
    if pa.types.is_list(type_):
        return f"list<{_type_name(type_.value_type)}>"
    return {"date32[day]": "date32", "double": "float64", "bool": "bool"}.get(str(type_), str(type_))


def _cell(text: str) -> str:
    """Text fit for one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _description(field: pa.Field) -> str:
    metadata = field.metadata or {}
    return metadata.get(b"description", b"").decode()


def tables_markdown() -> str:
    """The whole of docs/tables.md."""
    tables = list(schema.TABLES.values())
    lines = [
        "# Tables",
        "",
        f"<!-- Generated from pipeline/core/schema.py by `{COMMAND}`: do not edit by hand. -->",
        "",
        f"*Generated from `pipeline/core/schema.py` by `{COMMAND}` (this introduction is in",
        f"`pipeline/reporting/tables_doc.py`); `{COMMAND} --check` fails when the file is stale.*",
        "",
        INTRODUCTION.rstrip("\n"),
        "",
        "| table | one row per | columns | sort keys |",
        "| --- | --- | --- | --- |",
    ]
    for table in tables:
        keys = ", ".join(f"`{k}`" for k in table.sort_keys)
        lines.append(f"| [`{table.name}`](#{table.name}) | {ONE_ROW_PER.get(table.name, '')} | {len(table.schema)} "
                     f"| {keys} |")
    for table in tables:
        lines += [
            "",
            f"## {table.name}",
            "",
            f"Folder `{table.name}/`, "
            + (f"parts by `{table.partition_key}`" if table.partition_key else "one part")
            + ". Sort keys (row order): " + ", ".join(f"`{k}`" for k in table.sort_keys) + ".",
            "",
            "| column | type | nullable | description |",
            "| --- | --- | --- | --- |",
        ]
        for field in table.schema:
            lines.append(f"| `{field.name}` | {_type_name(field.type)} | {'yes' if field.nullable else 'no'} "
                         f"| {_cell(_description(field))} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/tables.md differs from what the schema gives; write nothing")
    args = parser.parse_args(argv)
    text = tables_markdown()
    if args.check:
        current = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.is_file() else None
        if current != text:
            print(f"{DOC_PATH} is stale: run `{COMMAND}`", file=sys.stderr)
            return 1
        return 0
    DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
    DOC_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {DOC_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
