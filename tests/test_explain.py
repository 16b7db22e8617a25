"""`pipeline explain`: every block of a published page with KEEP/DROP, role and reason."""
from __future__ import annotations

import argparse
import io
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipeline.cli import explain
from pipeline.cli.options import EXIT_IO_ERROR, EXIT_USAGE

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _parser() -> argparse.ArgumentParser:
    # The same registration `pipeline.cli` uses for its `explain` subcommand.
    parser = argparse.ArgumentParser(prog="pipeline")
    explain.register(parser.add_subparsers(dest="command", required=True))
    return parser


def _explain(*argv: str) -> tuple[int, str]:
    args = _parser().parse_args(["explain", *argv])
    out = io.StringIO()
    return args.handler(args, out=out), out.getvalue()


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A real run of the flow over two seed dumps (one with heavy site chrome) and one HTML page."""
    from pipeline.orchestration.flow import corpus_flow

    root = tmp_path_factory.mktemp("explain")
    seeds = root / "seeds"
    seeds.mkdir()
    for prefix in ("000", "001"):
        path = next(SEEDS.glob(f"{prefix}_*.txt"))
        shutil.copy(path, seeds / path.name)
    paragraphs = "".join(
        f"<p>Paragraph {i} of the story: the council met on Tuesday and agreed to repair the old harbour wall "
        f"before the winter storms, after residents had complained for years about flooding.</p>" for i in range(4))
    (seeds / "harbour.html").write_text(
        "<html><head><title>Harbour wall to be repaired</title></head><body>"
        "<nav><ul><li><a href='/'>Home</a></li><li><a href='/news'>News</a></li></ul></nav>"
        f"<article><h1>Harbour wall to be repaired</h1>{paragraphs}</article>"
        "<footer><p>Copyright 2024 Harbour Times. All rights reserved.</p></footer></body></html>",
        encoding="utf-8")
    data = root / "data"
    summary = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
    assert summary.ok
    return data


def test_boilerplate_table_holds_every_block_with_a_reason(published):
    table = pq.read_table(published / "latest" / "boilerplate").to_pandas()
    articles = pq.read_table(published / "latest" / "articles").to_pandas()
    assert set(table.article_id) == set(articles.article_id)
    assert table.reason.str.len().gt(0).all()
    assert (table.kept == table.role.ne("boilerplate")).all()
    for article in articles.itertuples():
        rows = table[table.article_id == article.article_id].sort_values("block_index")
        assert list(rows.block_index) == list(range(len(rows)))
        # The article's text is made of exactly its body blocks, in page order.
        body = [t for t, r in zip(rows.text, rows.role) if r == "body"]
        assert [" ".join(t.split()) for t in body] == [" ".join(p.split()) for p in article.text.split("\n\n")]


def test_explain_by_source_path_shows_why_lines_were_cut(published):
    name = next(SEEDS.glob("000_*.txt")).name
    code, out = _explain("--source", name, "--data", str(published), "--width", "0")
    assert code == 0
    lines = out.splitlines()
    assert f"source {name}" in lines[0]
    story = next(i for i, ln in enumerate(lines) if "BEIJING (AP)" in ln)
    assert " KEEP body " in lines[story] and lines[story + 1].strip().startswith("why: ")
    popular = next(i for i, ln in enumerate(lines) if ln.endswith("Popular Posts"))
    assert " DROP boilerplate " in lines[popular]
    assert "related" in lines[popular + 1]  # its reason names the related/popular-links vocabulary
    assert any(" KEEP title " in ln and "Xinjiang Kazakh plans political party" in ln for ln in lines)
    # A path typed from the repository root names the same article.
    assert _explain("--source", f"seeds/{name}", "--data", str(published), "--width", "0")[1] == out


def test_explain_by_article_id_and_html_page(published):
    articles = pq.read_table(published / "latest" / "articles").to_pandas()
    html = articles[articles.source_path == "harbour.html"].iloc[0]
    code, out = _explain(html.article_id, "--data", str(published))
    assert code == 0
    assert f"article {html.article_id}" in out and html.extractor in out
    assert any(ln.endswith("* Home") and " DROP " in ln for ln in out.splitlines())
    assert any("Paragraph 2 of the story" in ln and " KEEP body " in ln for ln in out.splitlines())


def test_explain_unknown_ids_and_missing_data_fail_clearly(published, tmp_path, capsys):
    assert _explain("a0000000000000000", "--data", str(published))[0] == EXIT_USAGE
    assert "no article 'a0000000000000000'" in capsys.readouterr().err
    assert _explain("--source", "nope.txt", "--data", str(published))[0] == EXIT_USAGE
    assert "nope.txt" in capsys.readouterr().err
    assert _explain("--source", "x.txt", "--data", str(tmp_path / "empty"))[0] == EXIT_IO_ERROR
    assert "pipeline run" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # an id or --source is required
        _parser().parse_args(["explain", "--data", str(published)])


def test_output_cut_short_by_a_pipe_is_no_error(published):
    """`pipeline explain ID | head`: the reader stops early; no traceback, exit 0."""
    import os
    import subprocess
    import sys

    article_id = _explain("--source", "harbour.html", "--data", str(published))[1].split()[1]
    read_end, write_end = os.pipe()
    os.close(read_end)  # a reader that has already gone, as `head` goes after its lines
    try:
        writer = subprocess.run([sys.executable, "-m", "pipeline", "explain", article_id, "--data", str(published)],
                                stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert writer.returncode == 0, writer.stderr
    assert "Traceback" not in writer.stderr and "Exception ignored" not in writer.stderr, writer.stderr
