"""`pipeline explain`: why each block of a page was kept or cut, from the published tables.

    pipeline explain ARTICLE_ID [--data DIR] [--version ID]
    pipeline explain --source PATH [--data DIR] [--version ID]

Reads the `boilerplate` table (one row per block of every article's page, with role, kept
and reason) and, for --source, `articles` to find the article of a source path.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.cli.options import EXIT_OK, EXIT_USAGE, add_data_option, version_error
from pipeline.core.textutil import printable_path
from pipeline.storage.versions import UnknownVersion, VersionStore, resolve_version


def register(subparsers) -> argparse.ArgumentParser:
    """Add the `explain` subcommand to a `pipeline` parser's subparsers."""
    parser = subparsers.add_parser(
        "explain", help="show each block of an article's page with KEEP/DROP, role and reason",
        description="Print every block of one article's page, in page order, with the extractor's "
                    "verdict (KEEP or DROP), the block's role and the reason, from the published tables.")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("article_id", nargs="?", help="article id (articles.article_id)")
    target.add_argument("--source", help="input path as in articles.source_path (relative to the seeds folder)")
    add_data_option(parser)
    parser.add_argument("--version", default="latest", help="version id (default: latest)")
    parser.add_argument("--width", type=int, default=100, help="cut block text at this many characters (0: never)")
    parser.set_defaults(handler=run_explain)
    return parser


def _read(table: str, data: Path, version: str, columns: list[str], article_id: str | None = None):
    import pyarrow.parquet as pq

    from pipeline.core import layout
    from pipeline.storage.loading import table_path

    path = table_path(table, data, version)
    if article_id is None:
        return pq.read_table(path, columns=columns).to_pylist()
    part = path.parent / layout.part_file(table, layout.bucket(article_id))  # an article's rows are all there
    if path.is_dir() and not part.exists():
        return []
    return pq.read_table(part if path.is_dir() else path, columns=columns,
                         filters=[("article_id", "=", article_id)]).to_pylist()


def _matching_source(rows: list[dict], source: str) -> dict | None:
    wanted = source.replace("\\", "/").lstrip("./")
    exact = [r for r in rows if r["source_path"] == wanted]
    if exact:
        return exact[0]
    # A path typed from the repository root ("seeds/000_x.txt") still names its article.
    suffix = [r for r in rows if wanted.endswith("/" + r["source_path"])]
    return suffix[0] if len(suffix) == 1 else None


def run_explain(args: argparse.Namespace, out=None) -> int:
    out = out or sys.stdout
    try:
        version = resolve_version(args.data, args.version)
    except UnknownVersion as err:
        return version_error(err)
    data = VersionStore(args.data).with_local_copies(version)  # an object store's: a copy on this machine
    articles = _read("articles", data, version,
                     ["article_id", "source_path", "title", "extractor", "input_kind", "boilerplate_ratio"])
    if args.source:
        article = _matching_source(articles, args.source)
        if article is None:
            print(f"error: no article with source path '{printable_path(args.source)}' in "
                  f"{printable_path(args.data)}/{args.version} "
                  "(it may be quarantined; see the quarantine table)", file=sys.stderr)
            return EXIT_USAGE
    else:
        article = next((a for a in articles if a["article_id"] == args.article_id), None)
        if article is None:
            print(f"error: no article {args.article_id!r} in {printable_path(args.data)}/{args.version}", file=sys.stderr)
            return EXIT_USAGE
    blocks = sorted(_read("boilerplate", data, version,
                          ["block_index", "text", "role", "kept", "reason", "input_kind_reason"],
                          article["article_id"]), key=lambda r: r["block_index"])
    kept = sum(1 for b in blocks if b["kept"])
    print(f"article {article['article_id']}  source {printable_path(article['source_path'])}", file=out)
    print(f"title: {article['title'] or '-'}   extractor: {article['extractor']}", file=out)
    kind_reason = blocks[0]["input_kind_reason"] if blocks else ""
    print(f"input kind: {article['input_kind']} ({kind_reason})", file=out)
    print(f"{len(blocks)} blocks: {kept} kept, {len(blocks) - kept} dropped "
          f"(boilerplate ratio {article['boilerplate_ratio']:.2f})", file=out)
    print("", file=out)
    for b in blocks:
        text = b["text"]
        if args.width and len(text) > args.width:
            text = text[: args.width - 1] + "…"
        verdict = "KEEP" if b["kept"] else "DROP"
        print(f"{b['block_index']:4d} {verdict} {b['role']:<11s} {text}", file=out)
        print(f"{'':10s}{'':11s} why: {b['reason']}", file=out)
    return EXIT_OK
