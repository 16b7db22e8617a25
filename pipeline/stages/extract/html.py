"""HTML extraction: trafilatura's main text as it is, and every other block of the page listed.

trafilatura (comments excluded) gives the main text and the metadata (headline, byline, date
from `<title>`, `og:` and `article:` tags). The page is also rendered to text blocks the way a
browser shows it (one block per block-level element, list items as "* item", hidden elements
left out), so the blocks trafilatura did not keep are listed in the boilerplate table with
their reason, and the blocks that show the headline, byline and date get those roles.

Combining trafilatura with our dump classifier block by block (v1) did not beat trafilatura on
held-out pages and cost three times its time, so the classifier now only reads the rendered
page when trafilatura finds (next to) nothing.
"""
from __future__ import annotations

import re
from importlib import metadata

import lxml.html

from pipeline.core.records import Block, Extracted, Source
from pipeline.core.textutil import word_key
from pipeline.stages.extract.dump import classify_lines, parse_date
from pipeline.stages.extract.features import analyse_lines
from pipeline.stages.extract.model import load_dump_model, model_digest

# Name, logic version, trafilatura's version and our model's digest: lands in `articles.extractor`.
# The version comes from the package's metadata: importing trafilatura here would cost every
# run that only plans (`pipeline run` with nothing new) its import; the functions import it.
HTML_EXTRACTOR = f"trafilatura_{metadata.version('trafilatura')}_v3_fallback_model_{model_digest()}"
# trafilatura's default caps a page's date at the day of the run (datetime.now()), so the same page
# could get another date on another day; a fixed cap keeps the tables reproducible.
DATE_PARAMS = {"original_date": True, "extensive_search": True, "max_date": "2099-12-31"}

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Elements whose boundaries start a new text block on the rendered page.
_BLOCK_TAGS = frozenset("""
address article aside blockquote body br caption dd details dialog div dl dt fieldset figcaption figure
footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol option p pre section summary table tbody tfoot
thead tr ul
""".split())  # table cells are not blocks: a row's cells share a line, as in a dump
_NOT_RENDERED = frozenset("script style noscript template head title meta link svg iframe object select".split())
_BREAK = "\x00"
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)

# Fewer words than this from trafilatura count as a miss: our classifier reads the rendered page.
MIN_TRAFILATURA_WORDS = 20


def parse_html(html: str) -> lxml.html.HtmlElement | None:
    """The page's tree as trafilatura parses it, or None when it is not HTML."""
    from trafilatura.utils import load_html

    return load_html(html)


def render_blocks(html: str | lxml.html.HtmlElement) -> list[str]:
    """The page's visible text, one block per block-level element, list items as "* item".

    `html` is the page's markup or its tree from `parse_html` (only read, never changed).
    """
    tree = parse_html(html) if isinstance(html, str) else html
    if tree is None:
        return []
    body = tree.find(".//body")
    root = body if body is not None else tree
    parts: list[str] = []
    append = parts.append

    def walk(el) -> None:
        tag = el.tag
        tag = tag.lower() if isinstance(tag, str) else ""
        if not tag or tag in _NOT_RENDERED:
            return
        style = el.get("style")
        if style and _HIDDEN.search(style):
            return
        block = tag in _BLOCK_TAGS
        if block:
            append(_BREAK)
        if tag == "li":
            append("* ")
        elif tag in ("td", "th"):
            append("  ")
        if el.text:
            append(el.text)
        for child in el:
            walk(child)
            tail = child.tail
            if tail:
                append(tail)
        if block:
            append(_BREAK)

    try:
        walk(root)
    except (RecursionError, ValueError):  # absurdly deep or broken markup: fall back to flat text
        parts = [lxml.html.HtmlElement.text_content(root).replace("\n", _BREAK)]
    # Newlines in the markup are plain spaces; only element boundaries break blocks.
    lines = (" ".join(line.split()) for line in "".join(parts).split(_BREAK))
    return [line for line in lines if line and line != "*"]


def extract_html(source: Source, model=None) -> Extracted:
    """trafilatura's main text as it is; every other rendered block listed as removed."""
    import trafilatura

    # One parse for both: trafilatura copies a tree it is given (and would parse the text the same
    # way), so the tree stays as parsed for the rendered blocks.
    tree = parse_html(source.text)
    doc = None if tree is None else trafilatura.bare_extraction(
        tree, include_comments=False, with_metadata=True, include_tables=True, deduplicate=False,
        date_extraction_params=DATE_PARAMS,
    )
    body_lines: list[str] = []
    title = author = date = site = url = None
    if doc is not None:
        body_lines = [ln.strip() for ln in (doc.text or "").split("\n") if ln.strip()]
        title, author, site, url = doc.title or None, doc.author or None, doc.sitename or None, doc.url or None
        date = doc.date if doc.date and _ISO_DATE.match(doc.date) else None

    page = render_blocks(tree)
    page_keys = [word_key(b) for b in page]

    # Place each trafilatura paragraph at the first rendered block it overlaps (page order).
    placed: list[tuple[int, str, str]] = []  # (page position, text, key)
    covered: set[int] = set()
    cursor = 0
    for text in body_lines:
        norm = word_key(text)
        pos = None
        for j in range(cursor, len(page)):
            pn = page_keys[j]
            if pn and norm and (pn in norm or norm in pn):
                pos = j
                break
        if pos is not None:
            cursor = pos
            # Every rendered block inside this paragraph is represented by it.
            for j in range(pos, len(page)):
                if page_keys[j] and f" {page_keys[j]} " in f" {norm} ":
                    covered.add(j)
                else:
                    break
        placed.append((cursor, text, norm))

    items: list[tuple[int, int, str, str, str, str]] = []  # (position, tie-break, text, role, reason, key)
    if sum(len(n.split()) for _, _, n in placed) < MIN_TRAFILATURA_WORDS:
        # trafilatura found (next to) nothing: our classifier reads the page as it renders.
        verdict = classify_lines(analyse_lines(page), model or load_dump_model())
        for j, line in enumerate(page):
            keep, _, why = verdict[j]
            items.append((j, 0, line, "body" if keep else "boilerplate", f"trafilatura found too little text; {why}",
                          page_keys[j]))
    else:
        for k, (pos, text, norm) in enumerate(placed):
            items.append((pos, 1 + k, text, "body", "trafilatura main text", norm))
        body_joined = " " + " ".join(n for _, _, n in placed) + " "
        for j, line in enumerate(page):
            if j in covered or (page_keys[j] and f" {page_keys[j]} " in body_joined):
                continue  # shown by a trafilatura paragraph
            items.append((j, 0, line, "boilerplate", "outside trafilatura's main text", page_keys[j]))

    items.sort(key=lambda it: (it[0], it[1]))
    # Metadata: the blocks that show the page's headline, byline and date.
    title_norm, author_norm = word_key(title or ""), word_key(author or "")
    wanted = {name for name, value in (("title", title_norm), ("author", author_norm), ("date", date)) if value}
    for n, (pos, tie, text, role, reason, key) in enumerate(items):
        if not wanted:
            break  # every field with a value has its block
        new = None
        if "title" in wanted and key == title_norm:
            new = ("title", "headline (page metadata)")
        elif "author" in wanted and role == "boilerplate" and author_norm in key \
                and len(key.split()) <= len(author_norm.split()) + 4:
            new = ("author", "byline (page metadata)")
        elif "date" in wanted and role == "boilerplate" and len(key.split()) <= 10 \
                and parse_date(text) == date:
            new = ("date", "dateline (page metadata)")
        if new:
            wanted.discard(new[0])
            items[n] = (pos, tie, text, *new, key)
    blocks = tuple(Block(i, text, role, reason) for i, (_, _, text, role, reason, _) in enumerate(items))
    return Extracted(source=source, extractor=HTML_EXTRACTOR, blocks=blocks, title=title, author=author,
                     published_date=date, site_name=site, url=url, input_kind="html",
                     input_kind_reason="an HTML file (.html/.htm)")
