"""Block classifier for plain-text dumps of whole web pages (our own; trafilatura cannot do this).

Every non-empty line of the dump becomes one Block, in page order. The story is the page's
densest region of prose, found as the maximum-sum run of per-line scores (long prose lines
score their word count, chrome lines cost a little, boilerplate vocabulary costs a lot).
Inside that region short lines (subheadings, quotes) are kept; everything else is removed
with a reason. Headline, byline, date and site name are looked for on short lines around
the start of the story (and the copyright line for the site), never inside the prose.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from pipeline.records import Block, Extracted, Source
from pipeline.textutil import WORD_RE, count_words, word_key

DUMP_EXTRACTOR = "dump_blocks_v1"

# Function words: prose has many of them, menus, teasers and tag lists have few.
_STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers him his how i if in into is it its itself just
me more most my no nor not now of off on once only or other our out over own same she should
so some such than that the their them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your
""".split())

# A bullet or list-number prefix as the dump writer renders lists ("* item", "+ item", "1. item").
_BULLET = re.compile(r"^(?:[*+o•·▪◦‣\-–—]|\d{1,3}[.)])(?:\s+|$)")

# Site chrome vocabulary; matched on short lines only, so a story that mentions "share" keeps it.
_BOILERPLATE = [
    (re.compile(r"^(?:share|share this(?: article| story| post| page)?|share on \w+|sharing is caring)\b|"
                r"\b(?:facebook|twitter|linkedin|pinterest|reddit|whatsapp|tumblr|e-?mail|print)\b.*"
                r"\b(?:facebook|twitter|linkedin|pinterest|reddit|whatsapp|tumblr|e-?mail|print|copy link)\b", re.I),
     "share bar"),
    (re.compile(r"\b(?:sign in|sign up|log ?in|log ?out|register|create an account|lost your password|"
                r"forgot(?:ten)? (?:your )?password|my account|welcome back)\b", re.I), "boilerplate phrase: sign in"),
    (re.compile(r"\b(?:subscribe|subscription|newsletter|rss|atom)\b", re.I), "boilerplate phrase: subscribe"),
    (re.compile(r"\bcookies?\b|\bprivacy (?:policy|settings)\b|\bterms (?:of (?:use|service)|and conditions)\b",
                re.I), "boilerplate phrase: legal/cookies"),
    (re.compile(r"©|\(c\)\s*\d{4}|\bcopyright\b|\ball rights reserved\b", re.I), "copyright notice"),
    (re.compile(r"\b(?:previous|next|older|newer)\s+(?:article|post|story|entry|page)s?\b|^(?:previous|next|prev)\b",
                re.I), "previous/next article link"),
    (re.compile(r"\b(?:popular|most (?:read|viewed|shared|emailed|commented)|trending|recent posts|related|"
                r"recommended|you (?:might|may) (?:also )?like|more (?:from|on|in|stories)|read more|see also|"
                r"latest (?:news|posts|stories)|top stories)\b", re.I), "boilerplate phrase: related/popular links"),
    (re.compile(r"\bcomments?\b|\brepl(?:y|ies)\b|\bresponses?\b|\bdiscussion\b|\btrackbacks?\b", re.I),
     "boilerplate phrase: comments"),
    (re.compile(r"\badvertis(?:e|ement|ing)\b|^ad\b|\bsponsored\b", re.I), "advertisement"),
    (re.compile(r"\bfollow (?:us|me)\b|\blike us\b|\b(?:facebook|twitter|instagram|youtube|linkedin)\b", re.I),
     "boilerplate phrase: follow us"),
    (re.compile(r"\b(?:tags?|tagged|filed under|categor(?:y|ies)|posted in|permalink)\b\s*:?", re.I),
     "tags/category line"),
    (re.compile(r"\b(?:home|search|menu|skip to (?:main )?content|back to top|contact us|about us|sitemap|"
                r"font resizer|loading)\b", re.I), "navigation item"),
]

# Whole lines that end the story: a comment section or the after-story link blocks.
_STORY_END = re.compile(
    r"^(?:\d+\s+)?(?:comments?|responses?|replies|reader comments|discussion(?: about this \w+)?|"
    r"related(?: posts| articles| stories| content| links)?|you (?:might|may) also like|"
    r"recommended(?: posts| for you| stories| reading)?|popular posts|most popular|more stories|"
    r"about the author|share this(?: article| story| post)?|previous (?:article|post)|next (?:article|post))"
    r"(?:\s*\(\d+\))?\s*:?$|"
    r"^(?:leave a (?:reply|comment)|post a comment|add (?:a |your )?comment|join the (?:discussion|conversation)|"
    r"comments are closed|\d+ (?:comments?|responses?|replies) (?:to|on)\b)",
    re.I,
)

# Reader-comment headers: a name with a time stamp, "X says:", "Posted by X at 6:11 PM", "Reply".
_COMMENT_HEADER = re.compile(
    r"\b\d{1,2}:\d{2}\s*(?:[ap]\.?m(?![a-z])\.?)|\(score:\s*-?\d|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b.*\b\d{1,2}:\d{2}\b|\b(?:says|wrote)\s*:?\s*$|^posted by\b|\bposted by\b.*\bat\b|"
    r"^(?:reply|report(?: abuse)?|permalink|flag|like|recommend)\b|\b(?:reply|report abuse)$|"
    r"\b\d+ (?:points?|likes?|votes?|replies)\b|\b(?:hours?|minutes?|days?|weeks?|months?) ago\b",
    re.I,
)

_MONTHS = ("jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_MONTH_NUM = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_DATE_PATTERNS = [
    # 17 Aug 2025, 17th August, 2025
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTHS})\.?,?\s+(\d{{4}})\b", re.I), "dmy"),
    # Aug 17, 2025 / August 17th 2025
    (re.compile(rf"\b({_MONTHS})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I), "mdy"),
    # 2025-08-17, 2025/08/17
    (re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b"), "ymd"),
]
_AUTHOR = re.compile(r"^(?:by|author|written by|posted by|words by|story by)\s*:?\s+(.+)$", re.I)
_READ_TIME = re.compile(r"\s*\d+\s*min(?:ute)?s?\.?\s+read\s*$", re.I)
_COPYRIGHT_NAME = re.compile(
    r"(?:©|\(c\)|copyright)\s*(?:©\s*)?(?:\d{4}(?:\s*[-–]\s*\d{4})?\s*)?[,.]?\s*"
    r"(.+?)\s*(?:[.,|]\s*)?(?:all rights reserved.*)?$", re.I)


@dataclass
class _Line:
    index: int  # block index
    text: str
    words: int
    stop_ratio: float
    bullet: bool
    ends_sentence: bool
    boilerplate: str  # reason, or "" when no chrome vocabulary matched
    comment_header: bool
    repeats: int  # occurrences of the same normalized text in the page


def chrome_reason(text: str) -> str:
    """Why a short line looks like site chrome (share bar, sign-in, copyright, ...), or ""."""
    if count_words(text) > 12:
        return ""
    for pattern, reason in _BOILERPLATE:
        if pattern.search(text):
            return reason
    return ""


def _features(lines: list[str]) -> list[_Line]:
    counts = Counter(word_key(t) for t in lines)
    out = []
    for i, text in enumerate(lines):
        key = word_key(text)
        bullet = bool(_BULLET.match(text))
        content = _BULLET.sub("", text, count=1) if bullet else text
        toks = WORD_RE.findall(content.lower())
        n = len(toks)
        stop = sum(t in _STOPWORDS for t in toks) / n if n else 0.0
        ends = bool(re.search(r"[.!?:;][\"'”’)\]]*$", content))
        bp = chrome_reason(content)
        header = n <= 20 and bool(_COMMENT_HEADER.search(content))
        out.append(_Line(i, text, n, stop, bullet, ends, bp, header, counts[key]))
    return out


def _is_prose(ln: _Line) -> bool:
    # Story paragraphs: enough words and a normal share of function words.
    if ln.bullet and not ln.ends_sentence:
        return False  # link lists (teasers, book lists) rather than an in-story list of sentences
    return ln.words >= 10 and ln.stop_ratio >= 0.15 and not ln.boilerplate and not ln.text.endswith(("…", "..."))


def _score(ln: _Line) -> float:
    if ln.boilerplate or ln.comment_header:
        return -25.0
    if _is_prose(ln):
        # A line printed twice on the page (teaser of the lead, print copy) is weak evidence.
        return float(ln.words) if ln.repeats == 1 else 0.0
    if ln.bullet and ln.words < 10:
        return -5.0
    return -3.0


def _trailing_sentence(ln: _Line) -> bool:
    if re.match(r"^\[\d+\]", ln.text):
        return True  # footnotes and references close many articles
    return (not ln.boilerplate and not ln.comment_header and not ln.bullet and ln.ends_sentence
            and ln.words >= 3 and ln.stop_ratio > 0 and not ln.text.endswith(("…", "...")))


def _ends_story(ln: _Line, lines: list[_Line]) -> bool:
    """A story-ending marker line, or the first of a cluster of comment headers."""
    if _STORY_END.match(_BULLET.sub("", ln.text)):
        return True
    return ln.comment_header and any(x.comment_header for x in lines[ln.index + 1:ln.index + 15])


def _best_region(scores: list[float]) -> tuple[int, int]:
    """Maximum-sum contiguous run (Kadane); returns [start, end) or (0, 0)."""
    best, best_span = 0.0, (0, 0)
    run, start = 0.0, 0
    for i, s in enumerate(scores):
        if run <= 0:
            run, start = 0.0, i
        run += s
        if run > best:
            best, best_span = run, (start, i + 1)
    return best_span


def parse_date(text: str) -> str | None:
    """First English date in `text` (17 Aug 2025, Aug 17, 2025, 2025-08-17) as ISO YYYY-MM-DD, or None."""
    for pattern, order in _DATE_PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        a, b, c = m.groups()
        try:
            if order == "dmy":
                d, mo, y = int(a), _MONTH_NUM[b[:3].lower()], int(c)
            elif order == "mdy":
                mo, d, y = _MONTH_NUM[a[:3].lower()], int(b), int(c)
            else:
                y, mo, d = int(a), int(b), int(c)
        except (KeyError, ValueError):
            continue
        if 1 <= mo <= 12 and 1 <= d <= 31 and 1990 <= y <= 2100:
            return f"{y:04d}-{mo:02d}-{d:02d}"
    return None


def _is_metadata_date_line(ln: _Line) -> bool:
    # A dateline is short and mostly date: weekday, time, "Published"/"Updated" at most.
    return ln.words <= 10 and ln.stop_ratio <= 0.34


def _site_from_copyright(lines: list[_Line]) -> str | None:
    for ln in reversed(lines):
        if ln.words <= 15 and re.search(r"©|\(c\)|copyright", ln.text, re.I):
            m = _COPYRIGHT_NAME.search(ln.text)
            if m:
                name = m.group(1).strip(" .,|-")
                if 1 <= count_words(name) <= 6 and not re.search(r"\d{4}", name):
                    return name
    return None


def extract_dump(source: Source) -> Extracted:
    """Classify every line of a plain-text page dump (the stage, `extract`, rejects a dump with no body)."""
    texts = [raw.strip() for raw in source.text.splitlines() if raw.strip()]
    lines = _features(texts)
    role: list[str] = [""] * len(lines)
    reason: list[str] = [""] * len(lines)

    scores = [_score(ln) for ln in lines]
    # Once a comment section or after-story block starts below some prose, what follows is
    # most likely reader comments or teasers: it must be much denser to win the region.
    prose_seen = 0.0
    for ln in lines:
        if prose_seen >= 80 and _ends_story(ln, lines):
            for j in range(ln.index, len(lines)):
                if scores[j] > 0:
                    scores[j] *= 0.25
            break
        prose_seen += max(scores[ln.index], 0.0)
    start, end = _best_region(scores)
    # Kadane trims the region's edges to positive lines; a story's last short sentences
    # ("He said he would press on.") are not chrome, so let the region run on over them.
    while end < len(lines) and end - start > 0 and _trailing_sentence(lines[end]):
        end += 1
    # Cut at the first comment section / after-story block once some story has been seen.
    prose_seen = 0
    for ln in lines[start:end]:
        if prose_seen >= 40 and _ends_story(ln, lines):
            end = ln.index
            break
        if _is_prose(ln):
            prose_seen += ln.words

    seen: set[str] = set()
    for ln in lines:
        i = ln.index
        key = word_key(ln.text)
        if i < start:
            role[i], reason[i] = "boilerplate", ln.boilerplate or "outside main content region (before body)"
        elif i >= end:
            role[i], reason[i] = "boilerplate", ln.boilerplate or "outside main content region (after body)"
        elif ln.boilerplate:
            role[i], reason[i] = "boilerplate", ln.boilerplate
        elif ln.words >= 6 and key in seen:
            role[i], reason[i] = "boilerplate", "repeated block (already on the page)"
        elif ln.bullet and ln.words <= 3:
            role[i], reason[i] = "boilerplate", "navigation menu item"
        elif ln.words == 0:
            role[i], reason[i] = "boilerplate", "no words"
        else:
            role[i] = "body"
        if role[i] == "body":
            seen.add(key)

    title = author = date = site = None
    # The story starts at its first full sentence; a long headline without a full stop
    # ("January in Central Asia: a wave of ...") can look like prose but precedes it.
    first_prose = next((ln.index for ln in lines[start:end] if role[ln.index] == "body" and _is_prose(ln)
                        and (ln.ends_sentence or ln.words > 25)), None)
    if first_prose is not None:
        head = range(max(0, first_prose - 15), first_prose)
        # Author: "By X" / "Author: X" on a short line near the start of the story.
        for i in list(head) + list(range(first_prose, min(len(lines), first_prose + 3))):
            m = _AUTHOR.match(lines[i].text)
            if m and lines[i].words <= 8:
                author = m.group(1).strip()
                role[i], reason[i] = "author", "byline"
                break
        # Date: only on short metadata-looking lines at the top of the page, never inside the prose.
        for i in reversed(range(0, first_prose)):
            ln = lines[i]
            if _is_metadata_date_line(ln) and role[i] != "author":
                iso = parse_date(ln.text)
                if iso:
                    date = iso
                    role[i], reason[i] = "date", "dateline"
                    break
        # Headline: the heading-like line nearest above the story; prefer one repeated on the page.
        cands = []
        for i in head:
            ln = lines[i]
            if role[i] in ("author", "date") or ln.bullet or ln.boilerplate or not 3 <= ln.words <= 25:
                continue
            if ln.text.endswith((".", ",", ";")) and not ln.text.endswith("..."):
                continue
            # Near the story, repeated on the page (breadcrumb, share text) and headline-length.
            score = -(first_prose - i) + (5.0 if ln.repeats > 1 else 0.0) + 0.5 * min(ln.words, 12)
            if re.search(r"\s[|>»/]\s", ln.text):
                score -= 3.0  # "Section | Site", breadcrumbs
            cands.append((score, i))
        if cands:
            _, i = max(cands)
            title = _READ_TIME.sub("", lines[i].text).strip()
            role[i], reason[i] = "title", "headline"

        # Other short lines between the headline and the first sentence: kicker, category, credits.
        top = next((j for j in range(start, first_prose) if role[j] in ("title", "author", "date")), None)
        for j in range(start if top is None else top, first_prose):
            if role[j] == "body" and lines[j].words < 10:
                role[j], reason[j] = "boilerplate", "short line between non-body blocks (above the story)"

    site = _site_from_copyright(lines)
    if site is None:
        # A short brand line that repeats on the page (logo at the top, again in the footer).
        for ln in lines:
            if 1 <= ln.words <= 4 and ln.repeats >= 2 and role[ln.index] == "boilerplate" and ln.index < (start or 1) \
                    and ln.text[:1].isupper() and not ln.bullet and not ln.boilerplate and not ln.comment_header:
                site = ln.text
                break
    if site is not None:
        brand = next((ln.index for ln in lines if word_key(ln.text) == word_key(site) and role[ln.index] == "boilerplate"),
                     None)
        if brand is not None:
            role[brand], reason[brand] = "site", "site name"

    blocks = tuple(Block(i, ln.text, role[i], reason[i]) for i, ln in enumerate(lines))
    return Extracted(source=source, extractor=DUMP_EXTRACTOR, blocks=blocks, title=title, author=author,
                     published_date=date, site_name=site)
