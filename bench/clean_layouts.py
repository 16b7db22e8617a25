"""Clean article texts in the layouts researchers drop them in, for the clean-text evaluation.

Sources: the gold texts of held-out pages (bench/extraction_split.tsv "test", and boilerplate-more
pages of held-out sites) and seeds 001-004 (clean copies of stories). Each is laid out as it
is, on one line, one sentence per line, hard-wrapped at 70 columns (with and without blank
lines between paragraphs), with headline, dateline and byline lines on top, and as Markdown.
"""
from __future__ import annotations

import re
import textwrap
from collections.abc import Callable

_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)]))\s+(?=[\"'“‘(]?[A-Z0-9])")


def paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def as_is(text: str) -> str:
    return text


def one_line(text: str) -> str:
    return " ".join(paragraphs(text)) + "\n"


def sentence_per_line(text: str) -> str:
    return "\n".join(s for p in paragraphs(text) for s in _SENTENCE_END.split(p) if s.strip()) + "\n"


def wrapped_70(text: str) -> str:
    return "\n\n".join(textwrap.fill(p, 70) for p in paragraphs(text)) + "\n"


def wrapped_70_no_blank_lines(text: str) -> str:
    return "\n".join(textwrap.fill(p, 70) for p in paragraphs(text)) + "\n"


def with_headline_dateline(text: str) -> str:
    paras = paragraphs(text)
    head = paras[0] if len(paras[0].split()) <= 25 else "Report from the region"
    body = paras[1:] if head == paras[0] else paras
    return "\n\n".join([head, "By Aigerim Sadykova", "12 March 2024", *body]) + "\n"


def markdown(text: str) -> str:
    paras = paragraphs(text)
    out = [f"# {paras[0]}"]
    for i, p in enumerate(paras[1:]):
        out.append(f"- {p}" if len(p.split()) < 12 and i % 2 else p)
    return "\n\n".join(out) + "\n"


LAYOUTS: dict[str, Callable[[str], str]] = {
    "as_is": as_is, "one_line": one_line, "sentence_per_line": sentence_per_line, "wrapped_70": wrapped_70,
    "wrapped_70_no_blank_lines": wrapped_70_no_blank_lines, "headline_dateline": with_headline_dateline,
    "markdown": markdown,
}
