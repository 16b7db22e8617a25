"""Per-document checks: the `documents` suite in expectations/ over one row per document.

The same rules decide `pipeline validate FILE...` (pass or fail per file) and what
`pipeline run` quarantines before tagging, so the two never disagree. Each expectation's
`meta.reason` is the quarantine reason code and `meta.why` its explanation; severity
"critical" rejects the document, "warning" only reports it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import pandas as pd

from pipeline.checks.gx import SUITES_DIR, exception_message, load_suite, run_suite
from pipeline.core.records import Article, Rejected
from pipeline.core.stage import CORPUS, Stage
from pipeline.core.textutil import count_words
from pipeline.stages.hygiene.dedupe import Member, content_hash, first_copies, precedence_key
from pipeline.stages.hygiene.signals import paragraph_keys

STAGE = "validate"
SUITE = "documents"
_VISIBLE_RE = re.compile(r"\S")


@dataclass(frozen=True)
class Finding:
    """One rule a document broke."""

    source_path: str
    reason: str
    detail: str
    critical: bool


ROW_FORMAT = 1  # DocumentRows are cached (pipeline.orchestration.io): a new shape needs a new number


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """What the checks and entity resolution need of an article: its metrics, the
    exact-duplicate rule's keys, its date. A run keeps these rather than whole articles while
    other documents are still being processed (see pipeline.orchestration.flow)."""

    article_id: str
    source_sha256: str
    published_date: str | None
    content_sha256: str
    metrics: dict  # the suite's columns but duplicate_of, which needs every row
    paragraph_keys: bytes  # the corpus's paragraph repeat counts need these (signals.paragraph_keys)

    def member(self) -> Member:
        """The article as duplicate detection sees it."""
        return Member(self.article_id, precedence_key(self.published_date, self.metrics["source_path"]),
                      self.content_sha256)


def document_row(article: Article) -> DocumentRow:
    text = article.text
    visible = _VISIBLE_RE.findall(text)
    metrics = {
        "source_path": article.extracted.source.path,
        "n_words": count_words(text),
        "language": article.language,
        "word_char_share": sum(ch.isalnum() for ch in visible) / len(visible) if visible else 0.0,
        "replacement_char_share": text.count("\ufffd") / len(text) if text else 0.0,
        "boilerplate_ratio": article.boilerplate_ratio,
    }
    return DocumentRow(article.article_id, article.extracted.source.sha256, article.published_date,
                       content_hash(article), metrics,
                       paragraph_keys(p.paragraph_hash for p in article.paragraphs))


def check_rows(rows: list[DocumentRow], suites_dir: Path = SUITES_DIR,
               known_content: Mapping[str, str] | None = None) -> tuple[list[str], list[Rejected], list[Finding]]:
    """(article_ids that pass, Rejected, warnings) of the documents' rows.

    ``known_content`` (content_sha256 -> article_id of a published corpus) lets the
    exact-duplicate rule see documents outside ``rows``.
    """
    if not rows:
        return [], [], []
    # Identical bodies are named by dedupe's rule, the one `articles.duplicate_of` builds on.
    copies = first_copies([(precedence_key(r.published_date, r.metrics["source_path"]), r.content_sha256, r.article_id)
                           for r in rows], known_content)
    frame = pd.DataFrame([{**r.metrics, "duplicate_of": copies.get(r.article_id)} for r in rows])
    suite = load_suite(SUITE, suites_dir)
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": ["source_path"]}
    findings: dict[str, list[Finding]] = {}
    for result in run_suite(suite, frame, result_format):
        config = result.expectation_config
        column = config.kwargs.get("column")
        critical = str(getattr(config.severity, "value", config.severity)) == "critical"
        for row in (result.result or {}).get("unexpected_index_list") or []:
            detail = f"{column} = {_show(row.get(column))}: {config.meta.get('why', config.type)}"
            findings.setdefault(row["source_path"], []).append(
                Finding(row["source_path"], config.meta["reason"], detail, critical))
        error = exception_message(result.exception_info)
        if error is not None:  # a broken rule must not pass every document silently
            raise RuntimeError(f"{SUITE}.json {config.type}({column}) could not run: {error}")
    passed, rejected, warnings = [], [], []
    for row in rows:
        path = row.metrics["source_path"]
        errors = [f for f in findings.get(path, []) if f.critical]
        warnings += [f for f in findings.get(path, []) if not f.critical]
        if errors:
            # One quarantine row per input: the first broken rule names it, the detail lists all.
            rejected.append(Rejected(path, STAGE, errors[0].reason, "; ".join(f.detail for f in errors),
                                     row.source_sha256))
        else:
            passed.append(row.article_id)
    return passed, rejected, warnings


def _show(value) -> str:
    if hasattr(value, "item"):  # numpy scalar from GX
        value = value.item()
    if isinstance(value, float):
        return f"{value:.3f}"
    return repr(value)


DOCUMENT_CHECKS = Stage("document_checks", "document_checks_v1", CORPUS, check_rows)
