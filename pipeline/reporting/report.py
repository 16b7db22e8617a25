"""report.html and a markdown summary of one version, from its manifest and a few table columns.

Only the columns a figure needs are read (never a text column), so a version of 10,000
articles and 1.8 M boilerplate blocks reports in well under a second. The page is
self-contained (inline CSS and SVG, no scripts, no external references) and deterministic:
the same version directory always gives the same bytes.
"""
from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.core.records import QUARANTINE_STAGES
from pipeline.core.textutil import printable_path
from pipeline.reporting.svg import bar_chart_svg, bin_counts, histogram_svg, nice_bin_width
from pipeline.stages.entities.names import NAME_LABELS
from pipeline.storage.loading import table_files, table_location

REPORT_FILE = "report.html"
MANIFEST_FILE = "manifest.json"
TOP_ENTITIES = 20
TOP_NUMBERS = 10  # numbers, dates and amounts (DATE, CARDINAL, MONEY, ...): a small table of their own
TOP_LANGUAGES = 15
BOILERPLATE_BINS = 20


@dataclass(frozen=True)
class VersionFacts:
    """What the report and the summary say about one version."""

    manifest: dict
    counts: list[tuple[str, int]]  # (what, how many), in pipeline order
    quarantine: list[dict]
    top_entities: list[dict]  # named things only: people, organisations, places, groups, ...
    top_numbers: list[dict]  # the other labels: dates, numbers, amounts, ordinals
    words_per_article: list[int]
    boilerplate_ratios: list[float]
    article_languages: list[tuple[str, int]]
    paragraph_languages: list[tuple[str, int]]

    @property
    def version_id(self) -> str:
        return self.manifest.get("version_id", "?")

    @property
    def validation(self) -> dict:
        return self.manifest.get("validation") or {}


# --------------------------------------------------------------------------- reading


def read_manifest(version_dir: Path) -> dict:
    return json.loads((Path(version_dir) / MANIFEST_FILE).read_text(encoding="utf-8"))


def table_rows(version_dir: Path, manifest: dict) -> dict[str, int]:
    """Rows per table: the manifest's count, else the Parquet footer's (cheap either way)."""
    rows = {}
    for name, info in sorted(manifest.get("tables", {}).items()):
        if "rows" in info:
            rows[name] = int(info["rows"])
        elif (files := [f for f in table_files(version_dir, name) if f.exists()]):
            rows[name] = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    return rows


def _column_names(version_dir: Path, table: str) -> list[str]:
    """The table's columns, from the Parquet footer; none if the version lacks the table."""
    files = [f for f in table_files(version_dir, table) if f.exists()]
    return pq.read_schema(files[0]).names if files else []


def _columns(version_dir: Path, table: str, wanted: list[str]) -> pa.Table | None:
    """The wanted columns that the table has (older versions may lack some); None without the file."""
    present = _column_names(version_dir, table)
    if not present:
        return None
    return pq.read_table(table_location(version_dir, table), columns=[c for c in wanted if c in present])


def _stage_rank(stage: str) -> tuple[int, str]:
    order = QUARANTINE_STAGES
    return (order.index(stage) if stage in order else len(order), stage)


def quarantine_rows(version_dir: Path) -> list[dict]:
    """One dict per quarantined input (source_path, stage, reason, detail), by stage then path."""
    table = _columns(version_dir, "quarantine", ["source_path", "stage", "reason", "detail"])
    rows = table.to_pylist() if table is not None else []
    return sorted(rows, key=lambda r: (_stage_rank(r["stage"]), r["reason"], r["source_path"]))


def quarantine_reasons(rows: list[dict]) -> list[dict]:
    """(stage, reason, count) of quarantine rows, in pipeline order."""
    counts = Counter((r["stage"], r["reason"]) for r in rows)
    return [{"stage": stage, "reason": reason, "count": n}
            for (stage, reason), n in sorted(counts.items(), key=lambda item: (_stage_rank(item[0][0]), item[0][1]))]


def expectation_rows(manifest: dict) -> list[dict]:
    """Every recorded expectation outcome (table, expectation, column, success, observed), in suite order."""
    return [{"table": o["table"], "expectation": o["expectation"], "column": o.get("column") or "",
             "success": bool(o["success"]), "observed": o.get("observed", "")}
            for o in (manifest.get("validation") or {}).get("outcomes", [])]


def top_entities(version_dir: Path, n: int = TOP_ENTITIES, named: bool = True) -> list[dict]:
    """The n most mentioned canonical entities (ties: more articles, then name, then id).

    named: only those whose label names something (NAME_LABELS: PERSON, ORG, GPE, NORP, ...);
    False: only the others (DATE, CARDINAL, ORDINAL, MONEY, ...), "two", "2019", "first".
    """
    table = _columns(version_dir, "entity_catalog",
                     ["entity_id", "canonical_name", "label", "n_mentions", "n_articles"])
    if table is None or table.num_rows == 0:
        return []
    is_named = pc.is_in(table["label"], value_set=pa.array(sorted(NAME_LABELS)))
    table = table.filter(is_named if named else pc.invert(is_named))
    ranked = table.sort_by([("n_mentions", "descending"), ("n_articles", "descending"),
                            ("canonical_name", "ascending"), ("entity_id", "ascending")])
    return ranked.slice(0, n).to_pylist()


def _value_counts(column: pa.ChunkedArray | None) -> list[tuple[str, int]]:
    """(value, count), most frequent first, ties by value."""
    if column is None or len(column) == 0:
        return []
    pairs = [(str(v["values"]), int(v["counts"])) for v in pc.value_counts(column).to_pylist()]
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))


def _article_counts(articles: pa.Table | None) -> list[tuple[str, int]]:
    """Duplicate and hygiene counts, from whichever of those columns the version has."""
    if articles is None:
        return []
    names = articles.column_names
    counts = []
    if "content_sha256" in names:
        counts.append(("exact duplicates (same text as another article)",
                       articles.num_rows - pc.count_distinct(articles["content_sha256"]).as_py()))
    if "near_duplicate_cluster" in names:
        counts.append(("near-duplicate clusters", pc.count_distinct(articles["near_duplicate_cluster"]).as_py()))
    if "duplicate_of" in names:
        counts.append(("articles that copy another (duplicate_of set)", pc.count(articles["duplicate_of"]).as_py()))
    for name in names:
        if name.startswith("is_") and pa.types.is_boolean(articles.schema.field(name).type):
            counts.append((f"flag {name}", int(pc.sum(articles[name]).as_py() or 0)))
    return counts


def collect(version_dir: Path) -> VersionFacts:
    """Read what the report needs from a version directory (manifest.json and the tables)."""
    version_dir = Path(version_dir)
    manifest = read_manifest(version_dir)
    rows = table_rows(version_dir, manifest)
    quarantine = quarantine_rows(version_dir)
    flags = [name for name in _column_names(version_dir, "articles") if name.startswith("is_")]
    articles = _columns(version_dir, "articles", ["n_words", "boilerplate_ratio", "language", "content_sha256",
                                                  "near_duplicate_cluster", "duplicate_of", *flags])
    paragraphs = _columns(version_dir, "paragraphs", ["language"])
    kept = _columns(version_dir, "boilerplate", ["kept"])  # never the text column: millions of rows

    counts = [("inputs", len(manifest.get("inputs", []))), ("articles", rows.get("articles", 0)),
              ("quarantined", len(quarantine))]
    counts += [(f"quarantined at {stage}", n) for stage, n in
               sorted(Counter(r["stage"] for r in quarantine).items(), key=lambda item: _stage_rank(item[0]))]
    counts += [(label, rows[table]) for label, table in (("paragraphs", "paragraphs"),
                                                          ("entity mentions", "entities"),
                                                          ("canonical entities", "entity_catalog"))
               if table in rows]
    if kept is not None and "kept" in kept.column_names:
        n_kept = int(pc.sum(kept["kept"]).as_py() or 0)
        counts += [("boilerplate blocks kept", n_kept), ("boilerplate blocks removed", kept.num_rows - n_kept)]
    counts += _article_counts(articles)

    def column(table: pa.Table | None, name: str) -> pa.ChunkedArray | None:
        return table[name] if table is not None and name in table.column_names else None

    def values(table: pa.Table | None, name: str) -> list:
        found = column(table, name)
        return pc.drop_null(found).to_pylist() if found is not None else []

    return VersionFacts(
        manifest=manifest,
        counts=counts,
        quarantine=quarantine,
        top_entities=top_entities(version_dir),
        top_numbers=top_entities(version_dir, TOP_NUMBERS, named=False),
        words_per_article=values(articles, "n_words"),
        boilerplate_ratios=values(articles, "boilerplate_ratio"),
        article_languages=_value_counts(column(articles, "language")),
        paragraph_languages=_value_counts(column(paragraphs, "language")),
    )


# --------------------------------------------------------------------------- markdown


def _md_escape(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_table(headers: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(_md_escape(v) for v in row) + " |" for row in rows]


def validation_line(validation: dict) -> str:
    """'passed: N expectations' or 'FAILED: K of N expectations'."""
    if not validation:
        return "no validation recorded"
    total, failed = validation.get("n_expectations", 0), validation.get("n_failures", 0)
    return f"passed: {total} expectations" if validation.get("success") else f"FAILED: {failed} of {total} expectations"


def summary_markdown(version_dir: Path, top_n: int = 10) -> str:
    """A short markdown summary: counts, quarantine reasons, validation, top entities."""
    facts = collect(version_dir)
    lines = [f"# Corpus version `{facts.version_id}`", "", *_md_table(["what", "count"], facts.counts), "",
             "## Quarantine", ""]
    reasons = quarantine_reasons(facts.quarantine)
    if reasons:
        lines += _md_table(["stage", "reason", "count"], [[r["stage"], r["reason"], r["count"]] for r in reasons])
    else:
        lines.append("Nothing quarantined.")
    lines += ["", "## Validation", "", validation_line(facts.validation)]
    failed = [e for e in expectation_rows(facts.manifest) if not e["success"]]
    if failed:
        lines.append("")
        lines += [f"- `{e['table']}`: `{e['expectation']}({e['column']})`: {_md_escape(e['observed'])}"
                  for e in failed]
    lines += ["", "## Most mentioned entities", ""]
    entities = facts.top_entities[:top_n]
    if entities:
        lines += _md_table(["entity", "label", "mentions", "articles"],
                           [[e["canonical_name"], e["label"], e["n_mentions"], e["n_articles"]] for e in entities])
    else:
        lines.append("No entities.")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;max-width:980px;
margin:2em auto;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
h3{font-size:1em;margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.5em 0;max-width:100%}th,td{border:1px solid #ddd;padding:.2em .6em;
text-align:left;vertical-align:top}td.id{overflow-wrap:anywhere}th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td{background:#fdecea}.passed{color:#1a7f37}.failed-text{color:#c62828;font-weight:bold}
summary{cursor:pointer;margin:.4em 0}
.row{display:flex;flex-wrap:wrap;gap:0 2em}.row>div{min-width:0;max-width:100%}
body{overflow-wrap:break-word}
svg.chart{display:block;margin:1em 0;max-width:100%;height:auto}.chart-title{font-weight:bold;font-size:13px}
.tick{font-size:11px;fill:#444}.axis{stroke:#888;stroke-width:1}.bar{fill:#4a78b5}
""".strip()


# Where a long identifier may wrap on a narrow screen: after these characters (<wbr>), so that
# expect_column_values_to_not_be_null or a/deep/path.html never widen the page. A token still
# longer than LONG_TOKEN (a hash) may break anywhere (class "id").
_JOINTS_RE = re.compile(r"([_/,.:=])(?=\S)")
_TOKENS_RE = re.compile(r"[\s_/,.:=]+")
LONG_TOKEN = 24


def _breakable(text: str) -> str:
    return _JOINTS_RE.sub(r"\1<wbr>", escape(text))


def _cell(value) -> str:
    if isinstance(value, bool):
        return "<td>yes</td>" if value else "<td>no</td>"
    if isinstance(value, int):
        return f'<td class="num">{value}</td>'
    if isinstance(value, float):
        return f'<td class="num">{value:.3f}</td>'
    text = "" if value is None else str(value)
    long_token = max(map(len, _TOKENS_RE.split(text))) > LONG_TOKEN
    opening = '<td class="id">' if long_token else "<td>"
    return f"{opening}{_breakable(text)}</td>"


def _html_table(headers: list[str], rows: list[list], row_classes: list[str] | None = None) -> str:
    head = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>"
    body = []
    for row, css in zip(rows, row_classes or [""] * len(rows)):
        opening = f'<tr class="{css}">' if css else "<tr>"
        body.append(opening + "".join(_cell(v) for v in row) + "</tr>")
    return "\n".join(["<table>", head, *body, "</table>"])


def _top_with_rest(pairs: list[tuple[str, int]], n: int) -> list[tuple[str, int]]:
    rest = pairs[n:]
    return pairs[:n] + ([(f"other ({len(rest)} languages)", sum(c for _, c in rest))] if rest else [])


def _plots(facts: VersionFacts) -> list[str]:
    words = facts.words_per_article
    width = max(1, int(nice_bin_width(max(words, default=0))))
    n_bins = max(words, default=0) // width + 1
    word_edges = [str(i * width) for i in range(n_bins + 1)]
    share_edges = [f"{100 * i // BOILERPLATE_BINS}%" for i in range(BOILERPLATE_BINS + 1)]
    entities = [(f"{e['canonical_name']} ({e['label']})", e["n_mentions"]) for e in facts.top_entities]
    return [
        histogram_svg(bin_counts(words, width, n_bins), word_edges, "Words per article", "words", "articles"),
        histogram_svg(bin_counts(facts.boilerplate_ratios, 1 / BOILERPLATE_BINS, BOILERPLATE_BINS), share_edges,
                      "Boilerplate share of the page (boilerplate_ratio)", "share of the page removed", "articles"),
        bar_chart_svg(_top_with_rest(facts.article_languages, TOP_LANGUAGES), "Articles by language", "articles"),
        bar_chart_svg(_top_with_rest(facts.paragraph_languages, TOP_LANGUAGES), "Paragraphs by language",
                      "paragraphs"),
        bar_chart_svg(entities, f"Most mentioned entities (top {TOP_ENTITIES})", "mentions"),
    ]


def _stage_versions(manifest: dict) -> list[tuple[str, str]]:
    """(stage, version) in run order; versions made before the stage registry list them as a
    name -> version mapping."""
    stages = manifest.get("stages", [])
    if isinstance(stages, dict):
        return sorted(stages.items())
    return [(stage["name"], stage["version"]) for stage in stages]


def _build_section(manifest: dict) -> list[str]:
    build = [["version id", manifest.get("version_id", "?")], ["inputs", len(manifest.get("inputs", []))],
             ["NER model", manifest.get("model", "?")], ["build key", manifest.get("build_key", "?")],
             ["code digest", manifest.get("code", "?")]]
    return ["<h2>Build</h2>", _html_table(["", ""], build), '<div class="row"><div>', "<h3>Stages</h3>",
            _html_table(["stage", "version"], _stage_versions(manifest)), "</div><div>",
            "<h3>Packages</h3>", _html_table(["package", "version"], sorted(manifest.get("packages", {}).items())),
            "</div></div>"]


def _quarantine_section(rows: list[dict], warnings: list[dict]) -> list[str]:
    out = ["<h2>Quarantine</h2>"]
    if not rows:
        out.append("<p>Nothing quarantined: every input became an article.</p>")
    else:
        out += [_html_table(["stage", "reason", "count"],
                            [[r["stage"], r["reason"], r["count"]] for r in quarantine_reasons(rows)]),
                f"<details{' open' if len(rows) <= 50 else ''}><summary>{len(rows)} quarantined files</summary>",
                _html_table(["file", "stage", "reason", "detail"],
                            [[printable_path(r["source_path"]), r["stage"], r["reason"], printable_path(r["detail"])]
                             for r in rows]),
                "</details>"]
    if warnings:
        out += ["<h3>Warnings (documents kept)</h3>",
                _html_table(["file", "warning"], [[printable_path(w["path"]), w["reason"]] for w in warnings])]
    return out


def _validation_section(manifest: dict) -> list[str]:
    validation = manifest.get("validation") or {}
    css = "passed" if validation.get("success") else "failed-text"
    out = ["<h2>Validation</h2>", f'<p class="{css}">{escape(validation_line(validation))}</p>']
    by_suite: dict[str, list[dict]] = {}
    for row in expectation_rows(manifest):
        by_suite.setdefault(row["table"], []).append(row)  # dicts keep the suites' recorded order
    for suite, rows in by_suite.items():
        failed = sum(not r["success"] for r in rows)
        out += [f"<details{' open' if failed else ''}><summary><b>{escape(suite)}</b>: {len(rows)} expectations, "
                f"{failed} failed</summary>",
                _html_table(["expectation", "column", "outcome", "observed"],
                            [[r["expectation"], r["column"], "passed" if r["success"] else "FAILED", r["observed"]]
                             for r in rows],
                            ["" if r["success"] else "failed" for r in rows]),
                "</details>"]
    return out


def render_html(facts: VersionFacts) -> str:
    """The whole report page as text."""
    manifest = facts.manifest
    title = f"Corpus version {facts.version_id}"
    entity_rows = [[e["canonical_name"], e["label"], e["n_mentions"], e["n_articles"]] for e in facts.top_entities]
    number_rows = [[e["canonical_name"], e["label"], e["n_mentions"], e["n_articles"]] for e in facts.top_numbers]
    parts = [
        "<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>", f"<style>\n{_CSS}\n</style>", "</head>", "<body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>{len(manifest.get('inputs', []))} inputs; validation {escape(validation_line(facts.validation))}.</p>",
        "<h2>Counts</h2>", _html_table(["what", "count"], [list(c) for c in facts.counts]),
        "<h2>Figures</h2>", *_plots(facts),
        "<h3>Most mentioned entities</h3>",
        "<p>People, organisations, places, groups and other names; numbers and dates are below.</p>",
        _html_table(["entity", "label", "mentions", "articles"], entity_rows) if entity_rows else "<p>No entities.</p>",
        f"<h3>Most mentioned numbers and dates (top {TOP_NUMBERS})</h3>",
        _html_table(["text", "label", "mentions", "articles"], number_rows) if number_rows else "<p>None.</p>",
        *_quarantine_section(facts.quarantine, manifest.get("document_warnings", [])),
        *_validation_section(manifest),
        *_build_section(manifest),
        "</body>", "</html>",
    ]
    return "\n".join(parts) + "\n"


def write_report(version_dir: Path) -> Path:
    """Write version_dir/report.html atomically (temp file + os.replace); return its path."""
    version_dir = Path(version_dir)
    html = render_html(collect(version_dir)).encode("utf-8")
    target = version_dir / REPORT_FILE
    temporary = version_dir / f".{REPORT_FILE}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as handle:
            handle.write(html)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target
