"""The documentation: README.md stays short, docs/tables.md matches the schema, and every
relative link in README.md and docs/*.md points at a file or folder that exists (and, for a
link into a Markdown file, at one of its headings)."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from pipeline.core import schema
from pipeline.reporting.tables_doc import DOC_PATH, tables_markdown

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = REPO / "docs"
README_MAX_LINES = 200

# [text](target) and [text](target "title"); images too. Reference-style definitions: [id]: target
INLINE_LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def _markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def _links(text: str) -> list[str]:
    """Link targets outside code blocks and code spans."""
    text = CODE_SPAN.sub("", FENCE.sub("", text))
    return INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)


def _anchors(markdown: str) -> set[str]:
    """GitHub's ids for the headings of a Markdown file (a repeated heading gets -1, -2, ...)."""
    seen: dict[str, int] = {}
    anchors = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCE.sub("", markdown), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _is_external(target: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target)) or target.startswith("//")


def test_tables_doc_is_generated_from_the_schema():
    assert DOC_PATH == DOCS / "tables.md"
    assert DOC_PATH.is_file(), "docs/tables.md is missing: run `python -m pipeline.reporting.tables_doc`"
    assert DOC_PATH.read_text(encoding="utf-8") == tables_markdown(), (
        "docs/tables.md is stale (the schema changed): run `python -m pipeline.reporting.tables_doc`")


def test_tables_doc_lists_every_column_with_its_description():
    text = tables_markdown()
    for table in schema.TABLES.values():
        assert f"\n## {table.name}\n" in text
        for field in table.schema:
            description = " ".join(field.metadata[b"description"].decode().split()).replace("|", "\\|")
            assert f"| `{field.name}` |" in text and description in text, (table.name, field.name)


def test_tables_doc_check_mode_detects_a_stale_file(tmp_path, monkeypatch, capsys):
    from pipeline.reporting import tables_doc

    stale = tmp_path / "tables.md"
    monkeypatch.setattr(tables_doc, "DOC_PATH", stale)
    assert tables_doc.main(["--check"]) == 1  # missing
    assert "python -m pipeline.reporting.tables_doc" in capsys.readouterr().err
    stale.write_text(tables_markdown().replace("| no |", "| yes |", 1), encoding="utf-8")
    assert tables_doc.main(["--check"]) == 1  # edited by hand
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stale" in err
    assert tables_doc.main([]) == 0 and stale.read_text(encoding="utf-8") == tables_markdown()
    assert tables_doc.main(["--check"]) == 0


def test_readme_is_short():
    n_lines = len(README.read_text(encoding="utf-8").splitlines())
    assert n_lines <= README_MAX_LINES, (
        f"README.md has {n_lines} lines (at most {README_MAX_LINES}): move details into docs/")


def test_readme_lists_every_table():
    readme = README.read_text(encoding="utf-8")
    section = readme.split("\n## Tables\n", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^- \[`([a-z_]+)`\]\(docs/tables\.md#\1\)", section, re.MULTILINE))
    assert listed == set(schema.TABLES), f"README's table list: {sorted(listed)}, schema: {sorted(schema.TABLES)}"


def test_heading_anchors_are_githubs():
    text = "# Tables\n## Seeing a run: report, versions, diff\n### `entity_catalog`\n## Tables\n```\n# not one\n```\n"
    assert _anchors(text) == {"tables", "seeing-a-run-report-versions-diff", "entity_catalog", "tables-1"}


def test_the_link_pattern_finds_links():
    sample = ("See [ops](docs/operations.md#x), ![img](a.png), [a `b`](c.md \"t\") and <https://x.org>.\n"
              "`[not](a link)`\n```\n[nor](this.md)\n```\n[ref]: ../bench/x.py\n")
    assert _links(sample) == ["docs/operations.md#x", "a.png", "c.md", "../bench/x.py"]


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_point_at_existing_files(path):
    text = path.read_text(encoding="utf-8")
    missing = []
    for target in _links(text):
        if _is_external(target) or target.startswith("#"):
            continue
        file_part, _, anchor = unquote(target.split("?", 1)[0]).partition("#")
        linked = path.parent / file_part
        if not linked.exists():
            missing.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked.read_text(encoding="utf-8")):
            missing.append(target)
    assert not missing, f"{path.relative_to(REPO)} links to missing files or headings: {missing}"
