"""Extract stage: Source -> Extracted (metadata, and every block with keep/drop and a reason).

HTML goes through trafilatura (comments excluded) checked by our block classifier
(`extract_html`); plain-text page dumps through our own classifier (`extract_dump`), because
trafilatura keeps nearly all of a dump's chrome. A document with no body text raises
ExtractionError so the caller can quarantine it.
"""
from __future__ import annotations

from pipeline.records import Extracted, Source
from pipeline.stages.extract_dump import DUMP_EXTRACTOR, extract_dump
from pipeline.stages.extract_html import HTML_EXTRACTOR, extract_html
from pipeline.textutil import WORD_RE

__all__ = ["DUMP_EXTRACTOR", "HTML_EXTRACTOR", "ExtractionError", "extract", "extract_dump", "extract_html"]


class ExtractionError(Exception):
    """No article text could be extracted; `reason` is a short code for the quarantine table."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def extract(source: Source) -> Extracted:
    """Dispatch on `source.format`; raise ExtractionError when no body text is found."""
    if source.format == "html":
        result = extract_html(source)
    elif source.format == "text":
        result = extract_dump(source)
    else:
        raise ExtractionError("unsupported_format", f"no extractor for format {source.format!r}")
    if not any(WORD_RE.search(b.text) for b in result.body_blocks):
        raise ExtractionError("no_body", f"{result.extractor} found no body text in {source.path}")
    return result
