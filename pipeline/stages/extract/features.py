"""Blocks of a plain-text page dump and the signals our dump classifier reads from them.

One place for the line-level rules (function words, bullets, chrome vocabulary, comment
headers, story-end markers) shared by the hand rules and the learned model in
`extract_dump`, and for the numeric feature vector the model is trained on
(`bench/train_dump_model.py` imports `block_features` from here, so training and run time
cannot drift apart).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

import numpy as np

from pipeline.core.textutil import WORD_RE, count_words, word_key

# Function words: prose has many of them, menus, teasers and tag lists have few.
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers him his how i if in into is it its itself just
me more most my no nor not now of off on once only or other our out over own same she should
so some such than that the their them then there these they this those through to too under
until up very was we were what when where which while who whom why will with would you your
""".split())

# A bullet or list-number prefix as dump writers render lists ("* item", "- item", "• item", "1. item").
BULLET = re.compile(r"^(?:[*+o•·▪◦‣\-–—]|\d{1,3}[.)])(?:\s+|$)")

# Site chrome vocabulary; matched on short lines only, so a story that mentions "share" keeps it.
CHROME = [
    (re.compile(r"^(?:share|share this(?: article| story| post| page)?|share on \w+|sharing is caring)\b|"
                r"\b(?:facebook|twitter|linkedin|pinterest|reddit|whatsapp|tumblr|e-?mail|print)\b.*"
                r"\b(?:facebook|twitter|linkedin|pinterest|reddit|whatsapp|tumblr|e-?mail|print|copy link)\b", re.I),
     "share bar"),
    (re.compile(r"\b(?:sign in|sign up|log ?in|log ?out|register|create an account|lost your password|"
                r"forgot(?:ten)? (?:your )?password|my account|welcome back)\b", re.I), "boilerplate phrase: sign in"),
    (re.compile(r"\b(?:subscribe|subscription|subscriber|newsletter|rss|atom|paywall|"
                r"already a (?:subscriber|member)|unlimited (?:digital )?access)\b", re.I),
     "boilerplate phrase: subscribe"),
    (re.compile(r"\bcookies?\b|\bprivacy (?:policy|settings|notice)\b|\bterms (?:of (?:use|service)|and conditions)\b|"
                r"\b(?:we value your privacy|manage (?:your )?(?:consent|preferences)|accept all|reject all|"
                r"consent)\b", re.I), "boilerplate phrase: legal/cookies"),
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
    (re.compile(r"\b(?:click here|tap here|image credit|photo credit|getty images|shutterstock)\b|"
                r"\b(?:photo|image|picture)s?\s*:", re.I), "boilerplate phrase: credits/prompts"),
]
# Notices that are boilerplate at any length (a consent banner or a paywall plea can be a long
# sentence): cookie and consent notices, subscription pleas, newsletter boxes.
NOTICES = [
    (re.compile(r"\b(?:(?:we|this (?:site|website)|our partners) (?:and our partners )?use cookies|"
                r"(?:accept|allow|reject) (?:all )?cookies|cookie (?:policy|settings|preferences|notice)|"
                r"manage (?:your )?(?:consent|cookie|privacy) (?:preferences|settings|choices)|"
                r"consent preferences|we value your privacy)\b", re.I), "cookie/consent notice"),
    (re.compile(r"\b(?:click here to (?:subscribe|sign up|register|log in|continue reading)|"
                r"subscribe (?:now|today) (?:to|for|and)|unlimited (?:digital )?access|already a (?:subscriber|member)|"
                r"(?:become|support us as) a (?:subscriber|member)|to continue reading,? (?:please )?(?:subscribe|log in))\b",
                re.I), "subscription plea"),
    (re.compile(r"\b(?:straight to your inbox|delivered to your inbox|sign up (?:for|to) (?:our|the) [\w' ]{0,30}"
                r"newsletter|enter your e-?mail(?: address)?)\b", re.I), "newsletter box"),
]
MAX_NOTICE_WORDS = 45

CHROME_REASONS = tuple(reason for _, reason in NOTICES + CHROME)
_CHROME_CODE = {reason: code for code, reason in enumerate(CHROME_REASONS)}
# One pass that says whether any pattern can match (most lines match none); the patterns are then
# tried in order, so the first listed reason wins as before.
# Matched on lowercased text without re.I: the same matches (the patterns are lowercase), twice as fast.
_NOTICES_LOW = [(re.compile(p.pattern), reason) for p, reason in NOTICES]
_CHROME_LOW = [(re.compile(p.pattern), reason) for p, reason in CHROME]
_ANY_NOTICE = re.compile("|".join(f"(?:{p.pattern})" for p, _ in NOTICES))
_ANY_CHROME = re.compile("|".join(f"(?:{p.pattern})" for p, _ in CHROME))

# A comment section's heading ("Comments", "Discussion about this post") and its prompts ("Leave a Reply").
_COMMENT_HEADINGS = r"comments?|reader comments|discussion(?: about this \w+)?"
_COMMENT_PROMPTS = (r"leave a (?:reply|comment)|post a comment|add (?:a |your )?comment|"
                    r"join the (?:discussion|conversation)|comments are closed")
COMMENT_SECTION = re.compile(rf"^(?:\d+\s+)?(?:{_COMMENT_HEADINGS})\s*:?$|^(?:{_COMMENT_PROMPTS})\b", re.I)
# Whole lines that end the story: a comment section or the after-story link blocks.
STORY_END = re.compile(
    rf"^(?:\d+\s+)?(?:{_COMMENT_HEADINGS}|responses?|replies|"
    r"related(?: posts| articles| stories| content| links)?|you (?:might|may) also like|"
    r"recommended(?: posts| for you| stories| reading)?|popular posts|most popular|more stories|"
    r"about the author|share this(?: article| story| post)?|previous (?:article|post)|next (?:article|post))"
    r"(?:\s*\(\d+\))?\s*:?$|"
    rf"^(?:{_COMMENT_PROMPTS}|\d+ (?:comments?|responses?|replies) (?:to|on)\b)",
    re.I,
)

# Reader-comment headers: a name with a time stamp, "X says:", "Posted by X at 6:11 PM", "Reply".
COMMENT_HEADER = re.compile(
    r"\b\d{1,2}:\d{2}\s*(?:[ap]\.?m(?![a-z])\.?)|\(score:\s*-?\d|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b.*\b\d{1,2}:\d{2}\b|"
    r"\b(?:says|wrote)\s*:?\s*$|^posted by\b|\bposted by\b.*\bat\b|"
    r"^(?:reply|report(?: abuse)?|permalink|flag|like|recommend)\b|\b(?:reply|report abuse)$|"
    r"\b\d+ (?:points?|likes?|votes?|replies)\b|\b(?:hours?|minutes?|days?|weeks?|months?) ago\b",
    re.I,
)

_COMMENT_HEADER_LOW = re.compile(COMMENT_HEADER.pattern)

_MONTHS = ("jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
MONTH_NUM = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
DATE_PATTERNS = [
    # 17 Aug 2025, 17th August, 2025
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTHS})\.?,?\s+(\d{{4}})\b", re.I), "dmy"),
    # Aug 17, 2025 / August 17th 2025
    (re.compile(rf"\b({_MONTHS})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I), "mdy"),
    # 2025-08-17, 2025/08/17
    (re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b"), "ymd"),
]
AUTHOR = re.compile(r"^(?:by|author|written by|posted by|words by|story by)\s*:?\s+(.+)$", re.I)
_PUNCTUATION = re.compile(r"[.,;:!?\"“”]")
_DIGIT = re.compile(r"\d")  # decimal digits only; str.isdigit also takes "²" and the like
_ENDS_SENTENCE = re.compile(r"[.!?:;][\"'”’)\]]*$")
# A name alone on a line: "Hesham Zebida", "Derek Halpern", "@RyanShell", "Johan".
_NAME_LIKE = re.compile(r"^(?:@\w+|[A-Z][\w'’.-]*)(?:\s+(?:[A-Z][\w'’.-]*|van|de|von|da|of|the))*$")


def parse_date(text: str) -> str | None:
    """First English date in `text` (17 Aug 2025, Aug 17, 2025, 2025-08-17) as ISO YYYY-MM-DD, or None."""
    for pattern, order in DATE_PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        a, b, c = m.groups()
        try:
            if order == "dmy":
                d, mo, y = int(a), MONTH_NUM[b[:3].lower()], int(c)
            elif order == "mdy":
                mo, d, y = MONTH_NUM[a[:3].lower()], int(b), int(c)
            else:
                y, mo, d = int(a), int(b), int(c)
        except (KeyError, ValueError):
            continue
        if 1 <= mo <= 12 and 1 <= d <= 31 and 1990 <= y <= 2100:
            return f"{y:04d}-{mo:02d}-{d:02d}"
    return None


def chrome_reason(text: str, n_words: int | None = None) -> str:
    """Why a line looks like site chrome (a notice of any length; share bar, sign-in, copyright...
    on short lines only, so a story that mentions "share" keeps it), or ""."""
    n = count_words(text) if n_words is None else n_words
    return _chrome_reason_low(text.lower(), n)


def _chrome_reason_low(low: str, n: int) -> str:
    if n > MAX_NOTICE_WORDS:
        return ""
    if _ANY_NOTICE.search(low):
        for pattern, reason in _NOTICES_LOW:
            if pattern.search(low):
                return reason
    if n > 12 or not _ANY_CHROME.search(low):
        return ""
    for pattern, reason in _CHROME_LOW:
        if pattern.search(low):
            return reason
    return ""


# --- blocks ----------------------------------------------------------------------------------

def _wrap_width(lines: list[str]) -> int | None:
    """The column a renderer wrapped prose at (lynx, w3m, `fold`), or None when lines are unwrapped.

    A line was wrapped when the next line's first word would still not have fit on it; a
    wrapped dump has many such lines and no line much longer than the width.
    """
    lengths = sorted(len(ln.rstrip()) for ln in lines if ln.strip())
    if len(lengths) < 8:
        return None
    width = lengths[int(0.98 * (len(lengths) - 1))]
    if not 30 <= width <= 140 or lengths[-1] > width + 10:
        return None
    filled = 0
    for cur, nxt in zip(lines, lines[1:]):
        first = nxt.split()[0] if nxt.split() else ""
        if cur.strip() and first and len(cur.rstrip()) + 1 + len(first) > width and len(cur.rstrip()) >= 0.6 * width:
            filled += 1
    # Text long enough to have been wrapped; a menu indented deep (lynx's nested lists) is not.
    long_lines = sum(1 for ln in lines if len(ln.strip()) >= 0.6 * width)
    return width if filled >= 5 and filled >= 0.3 * long_lines else None


def split_blocks(text: str) -> list[str]:
    """The dump's text blocks in page order: one per non-empty line, or per wrapped paragraph.

    Renderers that wrap prose at a fixed width (plain `fold`, lynx, w3m) split a paragraph
    over several lines; those lines are joined back into one block (a bullet always starts
    a new block). Unwrapped dumps (inscriptis, browsers' copy) keep one block per line.
    """
    raw = text.splitlines()
    width = _wrap_width(raw)
    if width is None:
        return [ln.strip() for ln in raw if ln.strip()]
    blocks: list[str] = []
    prev_line = ""  # the previous raw line, "" after a blank line
    for cur in raw:
        stripped = cur.strip()
        if not stripped:
            prev_line = ""
            continue
        first = stripped.split()[0]
        # The previous line was full (this line's first word would not have fit on it).
        continues = bool(prev_line) and not BULLET.match(stripped) and len(prev_line.rstrip()) + 1 + len(first) > width
        if continues:
            prev = blocks[-1]
            # A hyphen at the wrap point joins the word halves ("well-\nknown" -> "well-known").
            blocks[-1] = prev + stripped if prev.endswith("-") and prev[-2:-1].isalpha() else prev + " " + stripped
        else:
            blocks.append(stripped)
        prev_line = cur
    return blocks


# --- per-line signals ------------------------------------------------------------------------

@dataclass
class Line:
    """One block of a dump with the signals read from its own text."""

    index: int
    text: str
    key: str  # textutil.word_key(text): lines equal but for case and punctuation share it
    words: int
    stop_ratio: float
    bullet: bool
    ends_sentence: bool
    chrome: str  # chrome_reason(), or "" when no chrome vocabulary matched
    comment_header: bool
    story_end: bool  # a comment-section / after-story heading ("Related posts", "Leave a reply")
    repeats: int  # occurrences of the same normalized text in the page
    ellipsis: bool  # ends with "..." or "…" (teasers)
    capitalized: float  # share of words that start with a capital (Title Case menus and headlines)
    digits: float  # share of tokens that are numbers
    punctuation: float  # sentence punctuation marks per word
    has_date: bool
    byline: bool
    name_like: bool  # 1-4 capitalised words and nothing else: a commenter's name, a menu entry, a heading


def analyse_lines(blocks: list[str]) -> list[Line]:
    keys = [word_key(t) for t in blocks]
    counts = Counter(keys)
    out = []
    for i, text in enumerate(blocks):
        bullet = bool(BULLET.match(text))
        content = BULLET.sub("", text, count=1) if bullet else text
        raw_tokens = WORD_RE.findall(content)
        n = len(raw_tokens)
        low = content.lower() if n <= MAX_NOTICE_WORDS else ""  # only short lines are matched lowercased
        toks = list(map(str.lower, raw_tokens))
        stop = sum(map(STOPWORDS.__contains__, toks)) / n if n else 0.0
        # The regex first, as it is quick; a line with no decimal digit may still hold a "²".
        has_digit = _DIGIT.search(content) is not None or (
            not content.isascii() and any(map(str.isdigit, content)))
        out.append(Line(
            index=i, text=text, key=keys[i], words=n, stop_ratio=stop, bullet=bullet,
            ends_sentence=bool(_ENDS_SENTENCE.search(content)),
            chrome=_chrome_reason_low(low, n),
            comment_header=n <= 20 and bool(_COMMENT_HEADER_LOW.search(low)),
            story_end=bool(STORY_END.match(content)),
            repeats=counts[keys[i]],
            ellipsis=text.endswith(("…", "...")),
            capitalized=sum(map(str.isupper, map(itemgetter(0), raw_tokens))) / n if n else 0.0,
            digits=(sum(map(str.isdigit, toks)) / n if n else 0.0) if has_digit else 0.0,
            punctuation=len(_PUNCTUATION.findall(content)) / max(n, 1),
            has_date=n <= 15 and has_digit and parse_date(content) is not None,
            byline=n <= 8 and bool(AUTHOR.match(content)),
            name_like=1 <= n <= 4 and not bullet and bool(_NAME_LIKE.match(content)),
        ))
    return out


def is_prose(ln: Line) -> bool:
    """A story-like paragraph: enough words and a normal share of function words."""
    if ln.bullet and not ln.ends_sentence:
        return False  # link lists (teasers, book lists) rather than an in-story list of sentences
    return ln.words >= 10 and ln.stop_ratio >= 0.15 and not ln.chrome and not ln.ellipsis


_WINDOWS = (1, 2, 4, 8, 16)


@lru_cache(maxsize=256)
def _window_bounds(n: int, half: int, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index bounds [lo, hi) of each line's window and the number of neighbours in it."""
    idx = np.arange(n)
    if side == "both":
        lo, hi = np.clip(idx - half, 0, n), np.clip(idx + half + 1, 0, n)
        count = hi - lo - 1
    elif side == "before":
        lo, hi = np.clip(idx - half, 0, n), idx
        count = hi - lo
    else:
        lo, hi = idx + 1, np.clip(idx + 1 + half, 0, n)
        count = hi - lo
    return lo, hi, count.astype(float)


def _window_mean(values: np.ndarray, half: int) -> np.ndarray:
    """Mean of values[i-half : i+half+1] without i itself (what surrounds a line); of each column
    when values has several (one pass for all of a window's features)."""
    lo, hi, count = _window_bounds(len(values), half, "both")
    c = _cumsum(values)
    return _divide(c[hi] - c[lo] - values, count)


def _side_mean(values: np.ndarray, half: int, before: bool) -> np.ndarray:
    lo, hi, count = _window_bounds(len(values), half, "before" if before else "after")
    c = _cumsum(values)
    return _divide(c[hi] - c[lo], count)


def _cumsum(values: np.ndarray) -> np.ndarray:
    """Running sums down each column, after a row of zeros (the same sums column by column)."""
    return np.concatenate([np.zeros((1, *values.shape[1:])), np.cumsum(values, axis=0)])


def _divide(sums: np.ndarray, count: np.ndarray) -> np.ndarray:
    count = count.reshape(-1, *[1] * (sums.ndim - 1))
    return np.divide(sums, count, out=np.zeros(sums.shape), where=count > 0)


def block_features(lines: list[Line], hand_keep: list[bool], region: tuple[int, int]) -> np.ndarray:
    """One row of numbers per line: its own text, its neighbours over several windows, its place
    in the page and the hand rules' verdict (region = the hand rules' story span)."""
    if not lines:
        return np.zeros((0, len(FEATURE_NAMES)))
    cols = _feature_columns(lines, hand_keep, region)
    return np.column_stack([cols[name] for name in FEATURE_NAMES])


def _feature_columns(lines: list[Line], hand_keep: list[bool], region: tuple[int, int]) -> dict[str, np.ndarray]:
    n = len(lines)
    words = np.array([ln.words for ln in lines], float)
    logw = np.log1p(words)
    prose = np.array([is_prose(ln) for ln in lines], float)
    stop = np.array([ln.stop_ratio for ln in lines], float)
    chrome = np.array([bool(ln.chrome) for ln in lines], float)
    bullet = np.array([ln.bullet for ln in lines], float)
    header = np.array([ln.comment_header for ln in lines], float)
    hand = np.array(hand_keep, float)
    total_words = max(words.sum(), 1.0)
    cum_before = (np.cumsum(words) - words) / total_words
    prose_words = words * prose
    prose_total = max(prose_words.sum(), 1.0)
    prose_before = (np.cumsum(prose_words) - prose_words) / prose_total
    start, end = region
    idx = np.arange(n)
    in_region = ((idx >= start) & (idx < end)).astype(float)
    dist_region = np.where(idx < start, start - idx, np.where(idx >= end, idx - end + 1, 0)).astype(float)
    # A story-end heading below some prose: what follows is usually comments or teasers.
    name_like = np.array([ln.name_like for ln in lines], float)
    # Short lines printed more than once (a commenter's name, a menu repeated, "Reply").
    short_repeat = np.array([ln.words <= 4 and ln.repeats > 1 for ln in lines], float)
    after_end = np.zeros(n)
    seen_prose, ended = 0.0, False
    for i, ln in enumerate(lines):
        if ended:
            after_end[i] = 1.0
        if seen_prose >= 40 and (ln.story_end or (ln.comment_header and header[i + 1:i + 15].any())):
            ended = True
        seen_prose += prose_words[i]
    cols: dict[str, np.ndarray] = {
        "log_words": logw,
        "stop_ratio": stop,
        "prose": prose,
        "bullet": bullet,
        "ends_sentence": np.array([ln.ends_sentence for ln in lines], float),
        "chrome": chrome,
        "comment_header": header,
        "story_end": np.array([ln.story_end for ln in lines], float),
        "repeats": np.log(np.array([ln.repeats for ln in lines], float)),
        "ellipsis": np.array([ln.ellipsis for ln in lines], float),
        "capitalized": np.array([ln.capitalized for ln in lines], float),
        "digits": np.array([ln.digits for ln in lines], float),
        "punctuation": np.array([ln.punctuation for ln in lines], float),
        "has_date": np.array([ln.has_date for ln in lines], float),
        "byline": np.array([ln.byline for ln in lines], float),
        "chars_per_word": np.array([len(ln.text) / max(ln.words, 1) for ln in lines], float),
        "position": idx / max(n - 1, 1),
        "words_before": cum_before,
        "prose_before": prose_before,
        "page_lines": np.full(n, math.log1p(n)),
        "page_prose_share": np.full(n, prose_words.sum() / total_words),
        "hand_keep": hand,
        "in_hand_region": in_region,
        "hand_region_distance": np.log1p(dist_region),
        "after_story_end": after_end,
        "name_like": name_like,
        "short_repeat": short_repeat,
    }
    reason_code = np.array([_CHROME_CODE.get(ln.chrome, -1) for ln in lines])
    for code, reason in enumerate(CHROME_REASONS):
        cols["chrome:" + reason] = (reason_code == code).astype(float)
    around = np.column_stack([logw, prose, stop, chrome, bullet, hand, name_like, short_repeat])
    for half in _WINDOWS:
        means = _window_mean(around, half)
        for k, name in enumerate(("log_words", "prose", "stop", "chrome", "bullet", "hand", "name_like",
                                  "short_repeat")):
            cols[f"w{half}_{name}"] = means[:, k]
    sides = np.column_stack([logw, prose])
    for half in (1, 3):
        before, after = _side_mean(sides, half, True), _side_mean(sides, half, False)
        cols[f"before{half}_log_words"] = before[:, 0]
        cols[f"after{half}_log_words"] = after[:, 0]
        cols[f"before{half}_prose"] = before[:, 1]
        cols[f"after{half}_prose"] = after[:, 1]
    return cols


FEATURE_NAMES: list[str] = list(_feature_columns(analyse_lines(["x"]), [True], (0, 1)))


def context_features(first_pass: np.ndarray) -> np.ndarray:
    """What the neighbours' first-pass scores say about a line (input to the second pass)."""
    p = np.asarray(first_pass, float)
    n = len(p)
    if n == 0:
        return np.zeros((0, len(CONTEXT_NAMES)))
    running_max_before = np.maximum.accumulate(np.concatenate([[0.0], p[:-1]]))
    running_max_after = np.maximum.accumulate(np.concatenate([p[1:], [0.0]])[::-1])[::-1]
    cols = [p]
    for half in (1, 2, 4, 8, 16):
        cols += [_window_mean(p, half), _side_mean(p, half, True), _side_mean(p, half, False)]
    cols += [running_max_before, running_max_after]
    return np.column_stack(cols)


CONTEXT_NAMES = ["p1"] + [f"p1_{kind}{half}" for half in (1, 2, 4, 8, 16) for kind in ("w", "before", "after")] + [
    "p1_max_before", "p1_max_after"]
