"""Extract stage: Source -> Extracted (metadata, kept blocks and removed blocks with reasons).

HTML goes through trafilatura (comments excluded); plain-text page dumps through our own
line classifier (`extract_dump`), because trafilatura keeps nearly all of a dump's chrome.
A document with no body text raises ExtractionError so the caller can quarantine it.
"""
from __future__ import annotations

import re

import lxml.html
import trafilatura
from trafilatura.utils import load_html

from pipeline.records import Block, Extracted, Source
from pipeline.stages.extract_dump import chrome_reason, extract_dump, parse_date
from pipeline.textutil import WORD_RE, word_key

HTML_EXTRACTOR = f"trafilatura_{trafilatura.__version__}_v1"

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Elements whose boundaries start a new text block on the rendered page.
_BLOCK_TAGS = frozenset("""
address article aside blockquote body br caption dd details dialog div dl dt fieldset figcaption figure
footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol option p pre section summary table tbody td tfoot th
thead tr ul
""".split())
_NOT_RENDERED = ("script", "style", "noscript", "template", "head", "svg", "iframe", "object")


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


def _page_lines(html: str) -> list[str]:
    """The page's visible text, one line per block-level element (what a reader sees as blocks)."""
    tree = load_html(html)
    if tree is None:
        return []
    for bad in tree.xpath("//" + " | //".join(_NOT_RENDERED)):
        if bad.getparent() is not None:
            bad.drop_tree()
    body = tree.find(".//body")
    root = body if body is not None else tree
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.lower() in _BLOCK_TAGS:
            el.text = "\n" + (el.text or "")
            el.tail = "\n" + (el.tail or "")
    text = lxml.html.HtmlElement.text_content(root)
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def extract_html(source: Source) -> Extracted:
    """trafilatura's main text as body blocks; the page text it left out as boilerplate blocks."""
    doc = trafilatura.bare_extraction(
        source.text, include_comments=False, with_metadata=True, include_tables=True, deduplicate=False,
    )
    body_lines: list[str] = []
    title = author = date = site = url = None
    if doc is not None:
        body_lines = [ln.strip() for ln in (doc.text or "").split("\n") if ln.strip()]
        title, author, site, url = doc.title or None, doc.author or None, doc.sitename or None, doc.url or None
        date = doc.date if doc.date and _ISO_DATE.match(doc.date) else None

    body_norm = [word_key(b) for b in body_lines]
    body_joined = " " + " ".join(body_norm) + " "
    page = _page_lines(source.text)

    # Place each body paragraph at the first page line it overlaps, so blocks stay in page order.
    items: list[tuple[int, int, str, str, str]] = []  # (page position, tie-break, text, role, reason)
    cursor = 0
    for k, (text, norm) in enumerate(zip(body_lines, body_norm)):
        pos = cursor
        for j in range(cursor, len(page)):
            pn = word_key(page[j])
            if pn and norm and (pn in norm or norm in pn):
                pos = j
                break
        cursor = pos
        if k == 0 and title and norm == word_key(title):
            items.append((pos, 1 + k, text, "title", "headline (page metadata)"))
        else:
            items.append((pos, 1 + k, text, "body", ""))

    meta_done: set[str] = set()
    title_norm, author_norm = word_key(title or ""), word_key(author or "")
    for j, line in enumerate(page):
        pn = word_key(line)
        if not pn or f" {pn} " in body_joined:
            continue  # represented by a body block (or no words: punctuation, bullets)
        chrome = chrome_reason(line)
        role = "boilerplate"
        reason = "outside trafilatura main content" + (f": {chrome}" if chrome else "")
        if "title" not in meta_done and title_norm and pn == title_norm:
            role, reason = "title", "headline (page metadata)"
        elif "author" not in meta_done and author_norm and author_norm in pn and len(pn.split()) <= len(
                author_norm.split()) + 4:
            role, reason = "author", "byline (page metadata)"
        elif "date" not in meta_done and date and len(pn.split()) <= 10 and parse_date(line) == date:
            role, reason = "date", "dateline (page metadata)"
        if role != "boilerplate":
            meta_done.add(role)
        items.append((j, 0, line, role, reason))

    items.sort(key=lambda it: (it[0], it[1]))
    blocks = tuple(Block(i, text, role, reason) for i, (_, _, text, role, reason) in enumerate(items))
    return Extracted(source=source, extractor=HTML_EXTRACTOR, blocks=blocks, title=title, author=author,
                     published_date=date, site_name=site, url=url)
