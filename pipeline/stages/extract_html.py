"""HTML extraction: trafilatura's main text, checked and completed by our own block classifier.

The page is rendered to text blocks the way a browser shows it (what a text dump of it would
hold: one block per block-level element, list items as "* item", hidden elements left out),
and our dump classifier (`extract_dump`) scores every block. trafilatura (comments excluded)
gives the main text. They are combined per block:

- a block trafilatura kept stays, unless it is short site chrome our classifier is sure of
  (share bars, sign-in prompts, "Related posts" headings trafilatura sometimes lets through);
- a block trafilatura left out is added back when our classifier is sure it is story text
  and it lies inside the span of trafilatura's text (a paragraph lost between two kept ones);
- when trafilatura finds (next to) nothing, our classifier's verdict on the page is used.

Headline, byline and date come from the page's metadata (trafilatura reads `<title>`,
`og:` and `article:` tags); the blocks that show them on the page get those roles.
"""
from __future__ import annotations

import re

import lxml.html
import trafilatura
from trafilatura.utils import load_html

from pipeline.records import Block, Extracted, Source
from pipeline.stages.extract_dump import chrome_reason, classify_lines, parse_date
from pipeline.stages.extract_features import analyse_lines
from pipeline.stages.extract_model import load_dump_model, model_digest
from pipeline.textutil import word_key

# Name, logic version, trafilatura's version and our model's digest: lands in `articles.extractor`.
HTML_EXTRACTOR = f"trafilatura_{trafilatura.__version__}_plus_v1_model_{model_digest()}"

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

# How sure our classifier must be to overrule trafilatura either way.
ADD_SCORE = 0.8
VETO_SCORE = 0.1
# trafilatura's text this much shorter than our classifier's (in words) counts as a miss (a
# higher ratio lost F1 on the training pages: trafilatura's short texts are mostly right).
FALLBACK_RATIO = 0.05


def render_blocks(html: str) -> list[str]:
    """The page's visible text, one block per block-level element, list items as "* item"."""
    tree = load_html(html)
    if tree is None:
        return []
    body = tree.find(".//body")
    root = body if body is not None else tree
    parts: list[str] = []

    def walk(el) -> None:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if not tag or tag in _NOT_RENDERED or _HIDDEN.search(el.get("style") or ""):
            return
        block = tag in _BLOCK_TAGS
        if block:
            parts.append(_BREAK)
        if tag == "li":
            parts.append("* ")
        elif tag in ("td", "th"):
            parts.append("  ")
        if el.text:
            parts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append(_BREAK)

    try:
        walk(root)
    except (RecursionError, ValueError):  # absurdly deep or broken markup: fall back to flat text
        parts = [lxml.html.HtmlElement.text_content(root).replace("\n", _BREAK)]
    # Newlines in the markup are plain spaces; only element boundaries break blocks.
    lines = (" ".join(line.split()) for line in "".join(parts).split(_BREAK))
    return [line for line in lines if line and line != "*"]


def extract_html(source: Source, model=None) -> Extracted:
    """trafilatura's main text plus our classifier's verdict on each rendered block."""
    model = model or load_dump_model()
    doc = trafilatura.bare_extraction(
        source.text, include_comments=False, with_metadata=True, include_tables=True, deduplicate=False,
    )
    body_lines: list[str] = []
    title = author = date = site = url = None
    if doc is not None:
        body_lines = [ln.strip() for ln in (doc.text or "").split("\n") if ln.strip()]
        title, author, site, url = doc.title or None, doc.author or None, doc.sitename or None, doc.url or None
        date = doc.date if doc.date and _ISO_DATE.match(doc.date) else None

    page = render_blocks(source.text)
    lines = analyse_lines(page)
    verdict = classify_lines(lines, model)  # (keep, score, reason) per rendered block
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

    traf_words = sum(len(n.split()) for _, _, n in placed)
    ours_words = sum(ln.words for ln, (keep, _, _) in zip(lines, verdict) if keep)
    fallback = traf_words < FALLBACK_RATIO * ours_words

    items: list[tuple[int, int, str, str, str]] = []  # (position, tie-break, text, role, reason)
    if not fallback:
        span = (min(p for p, _, _ in placed), max(p for p, _, _ in placed)) if placed else (0, -1)
        for k, (pos, text, norm) in enumerate(placed):
            keep, score, _ = verdict[pos] if pos < len(verdict) else (True, 1.0, "")
            chrome = chrome_reason(text)
            if chrome and score < VETO_SCORE:
                items.append((pos, 1 + k, text, "boilerplate",
                              f"kept by trafilatura, but {chrome} (classifier {score:.2f})"))
            else:
                items.append((pos, 1 + k, text, "body", "trafilatura main text"))
        body_joined = " " + " ".join(n for _, _, n in placed) + " "
        for j, line in enumerate(page):
            if j in covered or (page_keys[j] and f" {page_keys[j]} " in body_joined):
                continue  # shown by a trafilatura paragraph
            keep, score, why = verdict[j]
            if score >= ADD_SCORE and span[0] <= j <= span[1] and not lines[j].chrome:
                items.append((j, 0, line, "body", f"inside trafilatura's span, our classifier sure ({score:.2f})"))
            else:
                items.append((j, 0, line, "boilerplate", f"outside trafilatura main text; {why}"))
    else:
        for j, line in enumerate(page):
            keep, score, why = verdict[j]
            reason = f"trafilatura found too little text; {why}"
            items.append((j, 0, line, "body" if keep else "boilerplate", reason))

    items.sort(key=lambda it: (it[0], it[1]))
    # Metadata: the blocks that show the page's headline, byline and date.
    title_norm, author_norm = word_key(title or ""), word_key(author or "")
    done: set[str] = set()
    for n, (pos, tie, text, role, reason) in enumerate(items):
        key = word_key(text)
        new = None
        if "title" not in done and title_norm and key == title_norm:
            new = ("title", "headline (page metadata)")
        elif "author" not in done and author_norm and role == "boilerplate" and author_norm in key \
                and len(key.split()) <= len(author_norm.split()) + 4:
            new = ("author", "byline (page metadata)")
        elif "date" not in done and date and role == "boilerplate" and len(key.split()) <= 10 \
                and parse_date(text) == date:
            new = ("date", "dateline (page metadata)")
        if new:
            done.add(new[0])
            items[n] = (pos, tie, text, *new)
    blocks = tuple(Block(i, text, role, reason) for i, (_, _, text, role, reason) in enumerate(items))
    return Extracted(source=source, extractor=HTML_EXTRACTOR, blocks=blocks, title=title, author=author,
                     published_date=date, site_name=site, url=url)
