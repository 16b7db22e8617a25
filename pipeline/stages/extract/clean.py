"""Clean article texts: an input that already is the article keeps all of its prose.

Researchers drop news texts as they have them: a headline line or none, a dateline and a
byline, one paragraph per line or one sentence per line, hard-wrapped at a fixed width,
everything on one line, Markdown headings and bullets. `clean_blocks` undoes the layout
(wrapped lines are joined, Markdown heading marks dropped); `extract_clean_text` keeps
every block, reads the headline, byline and dateline at the top, and drops only lines that
are clearly not the story (a share bar, a copyright line, "3 min read"), each with its reason.
"""
from __future__ import annotations

import re

from pipeline.core.records import Block, Extracted, Source
from pipeline.stages.extract.features import AUTHOR, COMMENT_SECTION, Line, analyse_lines, parse_date, split_blocks

CLEAN_EXTRACTOR = "clean_text_v2"

# The only chrome a clean text may lose: lines that are never the story's words.
NOT_STORY_REASONS = frozenset({
    "share bar", "copyright notice", "cookie/consent notice", "subscription plea", "newsletter box",
    "advertisement", "boilerplate phrase: follow us",
})
READ_TIME = re.compile(r"\s*\(?\d+\s*[-–]?\s*min(?:ute)?s?\.?\s+read\)?\s*$", re.I)
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+")
# The top of a story: headline, kicker, dateline and byline lines come before the first paragraph.
HEAD_LINES = 6
MAX_TITLE_WORDS = 25


def clean_blocks(text: str) -> list[str]:
    """The text's paragraphs in order: hard-wrapped lines joined, Markdown heading marks removed."""
    blocks = []
    for block in split_blocks(text):
        block = _MARKDOWN_HEADING.sub("", block).strip()
        if block:
            blocks.append(block)
    return blocks


def _not_story(ln: Line) -> str:
    """Why a line of a clean text is not part of the story, or ""."""
    if READ_TIME.fullmatch(ln.text):
        return "reading time"
    if ln.chrome in NOT_STORY_REASONS:  # chrome vocabulary counts on short lines only (notices aside)
        return ln.chrome
    return ""


def _is_headline(ln: Line, next_line: Line | None) -> bool:
    """A short line without closing punctuation, followed by more text."""
    if next_line is None or ln.bullet or not 1 <= ln.words <= MAX_TITLE_WORDS:
        return False
    return not ln.text.rstrip().endswith((".", ",", ";", ":")) or ln.text.rstrip().endswith("...")


def extract_clean_text(source: Source, kind_reason: str, blocks: list[str] | None = None) -> Extracted:
    """Every block of a clean article text kept, headline/byline/dateline read into metadata."""
    lines = analyse_lines(clean_blocks(source.text) if blocks is None else blocks)
    role = ["body"] * len(lines)
    reason = ["article text (clean input)"] * len(lines)
    for ln in lines:
        why = "no words" if ln.words == 0 else _not_story(ln)
        if why:
            role[ln.index], reason[ln.index] = "boilerplate", why

    last = next((ln for ln in reversed(lines) if role[ln.index] == "body"), None)
    if last is not None and COMMENT_SECTION.match(last.text):  # the text ends where its comments would start
        role[last.index], reason[last.index] = "boilerplate", "comment-section heading at the end"

    title = author = date = None
    head = [ln for ln in lines[:HEAD_LINES] if role[ln.index] == "body"]
    first_prose = next((ln.index for ln in head if ln.words >= 12 and ln.ends_sentence), None)
    top = [ln for ln in head if first_prose is None or ln.index < first_prose]
    for ln in top:
        m = AUTHOR.match(ln.text)
        if author is None and m and ln.words <= 8:
            author = m.group(1).strip()
            role[ln.index], reason[ln.index] = "author", "byline"
        elif date is None and ln.words <= 10 and ln.has_date:
            date = parse_date(ln.text)
            role[ln.index], reason[ln.index] = "date", "dateline"
    for ln in top:
        if role[ln.index] != "body":
            continue
        following = next((x for x in lines[ln.index + 1:] if role[x.index] == "body"), None)
        if _is_headline(ln, following):
            title = READ_TIME.sub("", ln.text).strip() or ln.text
            role[ln.index], reason[ln.index] = "title", "headline (first line of a clean text)"
        break  # only the first remaining line at the top can be the headline

    if not any(r == "body" for r in role):  # the whole text is one short line or all metadata
        for ln in lines:
            if ln.words and role[ln.index] in ("boilerplate", "title"):
                role[ln.index] = "body"
                reason[ln.index] = "article text (clean input; nothing else to keep)"
        title = title if any(r == "title" for r in role) else None
    out = tuple(Block(ln.index, ln.text, role[ln.index], reason[ln.index]) for ln in lines)
    return Extracted(source=source, extractor=CLEAN_EXTRACTOR, blocks=out, title=title, author=author,
                     published_date=date, input_kind="clean_text", input_kind_reason=kind_reason)
