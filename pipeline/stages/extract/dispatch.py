"""Extract stage: Source -> Extracted (metadata, and every block with keep/drop and a reason).

First decide what the input is (`kind`): HTML goes through trafilatura, its main text
as it is (`html`); a plain-text page dump (a whole page with site chrome)
through our own classifier (`dump`), because trafilatura keeps nearly all of a dump's
chrome; a clean text (already an article) keeps all of its prose (`clean`). When a
classifier keeps nothing of a readable input, the input is treated as clean text rather
than thrown away. Only an input with no words at all raises ExtractionError ("no_body").
"""
from __future__ import annotations

from dataclasses import replace

from pipeline.core.records import Extracted, Source
from pipeline.core.textutil import WORD_RE
from pipeline.stages.extract.clean import CLEAN_EXTRACTOR, extract_clean_text
from pipeline.stages.extract.dump import DUMP_EXTRACTOR, dump_lines, extract_dump
from pipeline.stages.extract.html import HTML_EXTRACTOR, extract_html, render_blocks
from pipeline.stages.extract.kind import text_kind
from pipeline.stages.extract.model import load_dump_model

__all__ = ["CLEAN_EXTRACTOR", "DUMP_EXTRACTOR", "HTML_EXTRACTOR", "ExtractionError", "extract", "extract_dump",
           "extract_html", "extract_clean_text"]

# Dispatch and the rules shared by the extractors; the extractor names (with the models'
# digests) carry the finer versions.
VERSION = "extract_v3"
EXTRACTORS = (HTML_EXTRACTOR, DUMP_EXTRACTOR, CLEAN_EXTRACTOR)

KEPT_NOTHING = "the {} kept no story text, so the input is taken as clean text"


class ExtractionError(Exception):
    """No article text could be extracted; `reason` is a short code for the quarantine table."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _has_body(result: Extracted) -> bool:
    return any(WORD_RE.search(b.text) for b in result.body_blocks)


def extract(source: Source) -> Extracted:
    """Dispatch on the input's kind; raise ExtractionError when the input has no words at all."""
    if source.format == "html":
        result = extract_html(source)
        if not _has_body(result):
            result = replace(extract_clean_text(source, KEPT_NOTHING.format("HTML extractor"),
                                                render_blocks(source.text)), input_kind="html")
    elif source.format == "text":
        lines = dump_lines(source.text)
        kind, why = text_kind(lines, load_dump_model())
        if kind == "clean_text":
            result = extract_clean_text(source, why)
        else:
            result = extract_dump(source, lines=lines, kind_reason=why)
            if not _has_body(result):
                result = extract_clean_text(source, KEPT_NOTHING.format("page-dump classifier") + f" ({why})")
    else:
        raise ExtractionError("unsupported_format", f"no extractor for format {source.format!r}")
    if not _has_body(result):
        raise ExtractionError("no_body", f"{result.extractor} found no words in {source.path}")
    return result
