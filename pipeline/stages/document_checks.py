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

from pipeline.records import Article, Rejected
from pipeline.stages import validate
from pipeline.stages.dedupe import exact_duplicates
from pipeline.textutil import count_words

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


@dataclass(frozen=True)
class CheckResult:
    passed: list[Article]
    rejected: list[Rejected]
    warnings: list[Finding]


def document_metrics(article: Article, duplicate_of: str | None) -> dict:
    """The row the `documents` suite sees for one article."""
    visible = _VISIBLE_RE.findall(article.text)
    return {
        "source_path": article.extracted.source.path,
        "n_words": count_words(article.text),
        "language": article.language,
        "letter_share": sum(ch.isalpha() for ch in visible) / len(visible) if visible else 0.0,
        "replacement_char_share": article.text.count("\ufffd") / len(article.text) if article.text else 0.0,
        "boilerplate_ratio": article.boilerplate_ratio,
        "duplicate_of": duplicate_of,
    }


def check_documents(articles: list[Article], suites_dir: Path = validate.SUITES_DIR,
                    known_content: Mapping[str, str] | None = None) -> CheckResult:
    """Split articles into those that pass and Rejected ones; warnings are reported apart."""
    if not articles:
        return CheckResult([], [], [])
    # Identical bodies are named by dedupe's rule, the one `articles.duplicate_of` builds on.
    copies = exact_duplicates(articles, known_content)
    frame = pd.DataFrame([document_metrics(a, copies.get(a.article_id)) for a in articles])
    suite = validate.load_suite(SUITE, suites_dir)
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": ["source_path"]}
    findings: dict[str, list[Finding]] = {}
    for result in validate.run_suite(suite, frame, result_format):
        config = result.expectation_config
        column = config.kwargs.get("column")
        critical = str(getattr(config.severity, "value", config.severity)) == "critical"
        for row in (result.result or {}).get("unexpected_index_list") or []:
            detail = f"{column} = {_show(row.get(column))}: {config.meta.get('why', config.type)}"
            findings.setdefault(row["source_path"], []).append(
                Finding(row["source_path"], config.meta["reason"], detail, critical))
        error = validate.exception_message(result.exception_info)
        if error is not None:  # a broken rule must not pass every document silently
            raise RuntimeError(f"{SUITE}.json {config.type}({column}) could not run: {error}")
    passed, rejected, warnings = [], [], []
    for article in articles:
        path = article.extracted.source.path
        errors = [f for f in findings.get(path, []) if f.critical]
        warnings += [f for f in findings.get(path, []) if not f.critical]
        if errors:
            # One quarantine row per input: the first broken rule names it, the detail lists all.
            rejected.append(Rejected(path, STAGE, errors[0].reason, "; ".join(f.detail for f in errors),
                                     article.extracted.source.sha256))
        else:
            passed.append(article)
    return CheckResult(passed, rejected, warnings)


def _show(value) -> str:
    if hasattr(value, "item"):  # numpy scalar from GX
        value = value.item()
    if isinstance(value, float):
        return f"{value:.3f}"
    return repr(value)
