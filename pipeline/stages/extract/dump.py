"""Block classifier for plain-text dumps of whole web pages (our own; trafilatura cannot do this).

`dump_blocks_v4` combines two views of the page:

1. Hand rules (v1): each block is scored (long prose by its word count, chrome and
   boilerplate vocabulary negatively); the page's maximum-sum run of blocks is the story;
   comment sections and after-story link lists cut it short.
2. A small learned model (`pipeline/resources/dump_model_v3.json`, gradient-boosted trees
   trained by `bench/train_dump_model.py`): a first pass over each block's own signals,
   its neighbours' over several window sizes, its position and the hand rules' verdict; a
   second pass that also sees the neighbours' first-pass scores. It decides keep or drop.

A few rules then correct the model where it is known to be weak: short site chrome and notices
need a higher score, a repeated block or menu goes, a comment section's heading at the end goes,
and a run of dropped prose below the story (after a caption or teaser box inside it) comes back.
Headline, byline, date and site name are then read from short lines around the start of
the story (and the copyright line for the site), never from the prose. Every block keeps
its verdict and a reason, for `pipeline explain`.
"""
from __future__ import annotations

import re

import numpy as np

from pipeline.core.records import Block, Extracted, Source
from pipeline.core.textutil import count_words, word_key
from pipeline.stages.extract.features import (
    AUTHOR,
    NOTICES,
    Line,
    analyse_lines,
    block_features,
    chrome_reason,
    context_features,
    is_prose,
    parse_date,
    split_blocks,
)
from pipeline.stages.extract.model import DumpModel, load_dump_model, model_digest

# Name, logic version and the model file's digest: lands in `articles.extractor`.
DUMP_EXTRACTOR = f"dump_blocks_v4_model_{model_digest()}"

__all__ = ["DUMP_EXTRACTOR", "extract_dump", "classify_lines", "hand_rules", "chrome_reason", "parse_date",
           "dump_lines"]

# A short line with site-chrome vocabulary (sign-in, cookies, share bar, copyright...) is story
# text on about 2% of the training pages' occurrences: keep it only when the model is sure.
CHROME_MIN_SCORE = 0.6
# Consent banners, paywall pleas and newsletter boxes are never story text, whatever their length;
# the 2012 training pages have few of them, so the model's word is not enough to keep one.
NOTICE_MIN_SCORE = 0.97
NOTICE_REASONS = frozenset(reason for _, reason in NOTICES)
# A subheading ("What happens next", "Ingredients") is short and scores low on its own; between
# two kept blocks it is part of the story.
SUBHEADING_MAX_WORDS = 8
# A short bullet that repeats a line dropped above is a menu printed twice; the model, which sees
# its neighbours, can lift its last entry over the threshold when the story follows it at once.
MENU_REPEAT_MAX_SCORE = 0.5
# At most this many kept words after a comment-section or related-links heading, and they are
# that section, not more story.
SECTION_TAIL_MAX_WORDS = 40
# A story cut short by an interruption resumes with a run of at least this many dropped sentences
# and words, at most RESUME_MAX_GAP lines apart, whose mean score is at least RESUME_MIN_SCORE, below
# at least RESUME_MIN_STORY_WORDS kept words of prose. Chosen by hand on pages the model did not
# see: every second training page outside the every-4th-page subset that `bench/extraction.py
# --loro-every 4` trains its reference model on, scored with that model (F1 0.863 -> 0.862 there;
# 0.888 -> 0.891 on held-out pages).
RESUME_MIN_STORY_WORDS = 40
RESUME_MIN_LINES = 2
RESUME_MIN_WORDS = 60
RESUME_MAX_GAP = 1
RESUME_MIN_SCORE = 0.03

# A line of nothing but bracketed names is a text browser's stand-in for images or links ("[photo_620x350.jpg]").
_PLACEHOLDER = re.compile(r"(?:\[[^\]]*\]\s*)+")
_READ_TIME = re.compile(r"\s*\d+\s*min(?:ute)?s?\.?\s+read\s*$", re.I)
_COPYRIGHT_NAME = re.compile(
    r"(?:©|\(c\)|copyright)\s*(?:©\s*)?(?:\d{4}(?:\s*[-–]\s*\d{4})?\s*)?[,.]?\s*"
    r"(.+?)\s*(?:[.,|]\s*)?(?:all rights reserved.*)?$", re.I)


# --- hand rules (v1) ---------------------------------------------------------------------------

def _score(ln: Line) -> float:
    if ln.chrome or ln.comment_header:
        return -25.0
    if is_prose(ln):
        # A line printed twice on the page (teaser of the lead, print copy) is weak evidence.
        return float(ln.words) if ln.repeats == 1 else 0.0
    if ln.bullet and ln.words < 10:
        return -5.0
    return -3.0


def _trailing_sentence(ln: Line) -> bool:
    if re.match(r"^\[\d+\]", ln.text):
        return True  # footnotes and references close many articles
    return (not ln.chrome and not ln.comment_header and not ln.bullet and ln.ends_sentence
            and ln.words >= 3 and ln.stop_ratio > 0 and not ln.ellipsis)


def _starts_comments(ln: Line, lines: list[Line]) -> bool:
    """The first of a cluster of reader-comment headers ("X says:", time stamps, "Reply")."""
    return ln.comment_header and any(x.comment_header for x in lines[ln.index + 1:ln.index + 15])


def _ends_story(ln: Line, lines: list[Line]) -> bool:
    """A story-ending marker line, or the first of a cluster of comment headers."""
    return ln.story_end or _starts_comments(ln, lines)


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


def hand_rules(lines: list[Line]) -> tuple[list[bool], list[str], tuple[int, int]]:
    """The v1 rules: (keep per line, reason per line, story region [start, end))."""
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
    prose_words = 0
    for ln in lines[start:end]:
        if prose_words >= 40 and _ends_story(ln, lines):
            end = ln.index
            break
        if is_prose(ln):
            prose_words += ln.words

    keep = [False] * len(lines)
    reason = [""] * len(lines)
    seen: set[str] = set()
    for ln in lines:
        i, key = ln.index, ln.key
        if i < start:
            reason[i] = ln.chrome or "before the page's main run of prose"
        elif i >= end:
            reason[i] = ln.chrome or ("after a comment/related-links heading" if ln.story_end or i == end and
                                      _ends_story(ln, lines) else "after the page's main run of prose")
        elif ln.chrome:
            reason[i] = ln.chrome
        elif ln.words >= 6 and key in seen:
            reason[i] = "repeated block (already on the page)"
        elif ln.bullet and ln.words <= 3:
            reason[i] = "navigation menu item"
        elif ln.words == 0:
            reason[i] = "no words"
        else:
            keep[i] = True
            reason[i] = "inside the page's main run of prose"
            seen.add(key)
    return keep, reason, (start, end)


# --- the extractor -----------------------------------------------------------------------------

def dump_lines(text: str) -> list[Line]:
    """The dump's blocks with their signals (what both the extractor and the trainer see)."""
    return analyse_lines(split_blocks(text))


def model_scores(lines: list[Line], model: DumpModel) -> tuple[np.ndarray, list[bool], list[str]]:
    """Second-pass keep probability per line, plus the hand rules' verdicts and reasons."""
    hand_keep, hand_reason, region = hand_rules(lines)
    if not lines:
        return np.zeros(0), hand_keep, hand_reason
    X = block_features(lines, hand_keep, region)
    p1 = model.first.predict(X)
    p2 = model.second.predict(np.hstack([X, context_features(p1)]))
    return p2, hand_keep, hand_reason


def _drop_reason(ln: Line, hand_keep: bool, hand_reason: str, p: float) -> str:
    why = ln.chrome or ("comment header" if ln.comment_header else "")
    if not why:
        why = hand_reason if not hand_keep else "short or link-like among non-story blocks"
    return f"{why} (classifier {p:.2f})"


def _site_from_copyright(lines: list[Line]) -> str | None:
    for ln in reversed(lines):
        if ln.words <= 15 and re.search(r"©|\(c\)|copyright", ln.text, re.I):
            m = _COPYRIGHT_NAME.search(ln.text)
            if m:
                # "© Harbour Times 2021": the year may follow the name too.
                name = re.sub(r"\s*\d{4}(?:\s*[-–]\s*\d{4})?\s*$", "", m.group(1)).strip(" .,|-")
                if 1 <= count_words(name) <= 6 and not re.search(r"\d{4}", name):
                    return name
    return None


def _is_metadata_date_line(ln: Line) -> bool:
    # A dateline is short and mostly date: weekday, time, "Published"/"Updated" at most.
    return ln.words <= 10 and ln.stop_ratio <= 0.34


def _metadata(lines: list[Line], role: list[str], reason: list[str]) -> tuple[str | None, ...]:
    """Headline, byline, date and site from short lines around the story's start; updates roles."""
    title = author = date = None
    # The story starts at its first kept full sentence; a long headline without a full stop
    # ("January in Central Asia: a wave of ...") can look like prose but precedes it.
    first_prose = next((ln.index for ln in lines if role[ln.index] == "body" and is_prose(ln)
                        and (ln.ends_sentence or ln.words > 25)), None)
    if first_prose is not None:
        head = range(max(0, first_prose - 15), first_prose)
        # Author: "By X" / "Author: X" on a short line near the start of the story.
        for i in list(head) + list(range(first_prose, min(len(lines), first_prose + 3))):
            m = AUTHOR.match(lines[i].text)
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
        # Headline: the classifier keeps the headline with the story (the gold does), so the first
        # heading-like kept line above the first sentence; failing that, the heading-like line nearest
        # above the story, preferring one repeated on the page (breadcrumb, share text).
        cands = []
        for i in head:
            ln = lines[i]
            if role[i] in ("author", "date") or ln.bullet or ln.chrome or ln.comment_header or ln.has_date \
                    or not 3 <= ln.words <= 25 or _PLACEHOLDER.fullmatch(ln.text):
                continue
            if ln.text.endswith((".", ",", ";")) and not ln.ellipsis:
                continue
            score = -(first_prose - i) + (5.0 if ln.repeats > 1 else 0.0) + 0.5 * min(ln.words, 12)
            if role[i] == "body":
                score += 100.0 - (i - head.start)  # the topmost kept one
            if re.search(r"\s[|>»/]\s", ln.text):
                score -= 3.0  # "Section | Site", breadcrumbs
            cands.append((score, i))
        if cands:
            _, i = max(cands)
            title = _READ_TIME.sub("", lines[i].text).strip()
            role[i], reason[i] = "title", "headline"
            # Short lines between the headline and the first sentence: kicker, category, credits.
            for j in range(i + 1, first_prose):
                if role[j] == "body" and lines[j].words < 10 and not lines[j].ends_sentence:
                    role[j], reason[j] = "boilerplate", "short line between the headline and the story"

    site = _site_from_copyright(lines)
    if site is None:
        # A short brand line that repeats on the page (logo at the top, again in the footer).
        top = first_prose if first_prose is not None else 1
        for ln in lines:
            if 1 <= ln.words <= 4 and ln.repeats >= 2 and role[ln.index] == "boilerplate" and ln.index < top \
                    and ln.text[:1].isupper() and not ln.bullet and not ln.chrome and not ln.comment_header:
                site = ln.text
                break
    if site is not None:
        site_key = word_key(site)
        brand = next((ln.index for ln in lines if ln.key == site_key and role[ln.index] == "boilerplate"),
                     None)
        if brand is not None:
            role[brand], reason[brand] = "site", "site name"
    return title, author, date, site


def classify_lines(lines: list[Line], model: DumpModel) -> list[tuple[bool, float, str]]:
    """(keep, classifier score, reason) for each line: the model's verdict, with short site chrome
    held to a higher bar and a repeat of an already kept block dropped."""
    p2, hand_keep, hand_reason = model_scores(lines, model)
    out: list[tuple[bool, float, str]] = []
    seen: set[str] = set()
    dropped: set[str] = set()
    for ln, p in zip(lines, p2.tolist()):
        key = ln.key
        threshold = model.threshold
        if ln.chrome:
            threshold = max(threshold, NOTICE_MIN_SCORE if ln.chrome in NOTICE_REASONS else CHROME_MIN_SCORE)
        if ln.words == 0:
            out.append((False, p, "no words"))
        elif p >= threshold and ln.words >= 6 and key in seen:
            out.append((False, p, "repeated block (already kept above)"))
        elif p >= threshold and p < MENU_REPEAT_MAX_SCORE and ln.bullet and ln.words < 6 and not ln.ends_sentence \
                and key in dropped:
            # A menu printed twice: its second copy ends where the story starts.
            out.append((False, p, f"repeats a menu entry dropped above (classifier {p:.2f})"))
        elif p >= threshold:
            out.append((True, p, f"story block (classifier {p:.2f})"))
            seen.add(key)
        else:
            out.append((False, p, _drop_reason(ln, hand_keep[ln.index], hand_reason[ln.index], p)))
        if not out[-1][0]:
            dropped.add(key)
    _drop_trailing_section_headings(lines, out)
    _resume_story(lines, out)
    for i in range(1, len(lines) - 1):
        ln = lines[i]
        if not out[i][0] and out[i - 1][0] and out[i + 1][0] and 1 <= ln.words <= SUBHEADING_MAX_WORDS \
                and not ln.chrome and not ln.comment_header and not ln.bullet:
            out[i] = (True, out[i][1], f"short line between story blocks (subheading; classifier {out[i][1]:.2f})")
    return out


def _resumable(ln: Line) -> bool:
    """A full prose sentence printed once, that could be story text the classifier dropped."""
    return is_prose(ln) and ln.ends_sentence and ln.repeats == 1 and not ln.comment_header and not ln.story_end


def _resume_story(lines: list[Line], out: list[tuple[bool, float, str]]) -> None:
    """Keep dropped runs of prose below the story's first sentence that read as more story.

    A caption, an embedded post or a teaser box inside the story cuts the hand rules' region
    short, and the classifier follows it: what comes after scores 0.05-0.3 though it is plain
    reporting. A run of at least RESUME_MIN_LINES sentences (RESUME_MIN_WORDS words), at most one
    other line apart (a caption between paragraphs), goes back to the story; a reader-comment
    section ends the search. Sidebar blurbs score near 0, hence the floor on the run's mean score.
    """
    story = [ln for ln in lines if out[ln.index][0] and is_prose(ln)]
    if sum(ln.words for ln in story) < RESUME_MIN_STORY_WORDS:
        return
    runs: list[list[int]] = [[]]
    gap = 0  # lines since the run's last sentence; a kept line ends the run
    for ln in lines[story[0].index + 1:]:
        if _starts_comments(ln, lines):
            break  # reader comments: prose, but not the story's
        if out[ln.index][0] or not _resumable(ln):
            gap = RESUME_MAX_GAP + 1 if out[ln.index][0] else gap + 1
            continue
        if gap > RESUME_MAX_GAP:
            runs.append([])
        runs[-1].append(ln.index)
        gap = 0
    for run in runs:
        if len(run) >= RESUME_MIN_LINES and sum(lines[i].words for i in run) >= RESUME_MIN_WORDS \
                and sum(out[i][1] for i in run) / len(run) >= RESUME_MIN_SCORE:
            for i in run:
                out[i] = (True, out[i][1], f"story resumes after an interruption (classifier {out[i][1]:.2f})")


def _drop_trailing_section_headings(lines: list[Line], out: list[tuple[bool, float, str]]) -> None:
    """The story ended above a kept comment-section or related-links heading ("Leave a Reply",
    "Discussion about this post") when little is kept after it: that heading and the rest go."""
    kept_after = 0
    for i in range(len(lines) - 1, -1, -1):
        if not out[i][0]:
            continue
        if kept_after >= SECTION_TAIL_MAX_WORDS:
            return
        ln = lines[i]
        if ln.story_end:
            for j in range(i, len(lines)):
                if out[j][0]:
                    out[j] = (False, out[j][1], f"in the comment or related-links section after the story "
                                                f"(classifier {out[j][1]:.2f})")
            return
        kept_after += ln.words


def extract_dump(source: Source, model: DumpModel | None = None, lines: list[Line] | None = None,
                 kind_reason: str = "") -> Extracted:
    """Classify every block of a plain-text page dump (the stage, `extract`, handles a dump with no body)."""
    model = model or load_dump_model()
    lines = dump_lines(source.text) if lines is None else lines
    verdicts = classify_lines(lines, model)
    role = ["body" if keep else "boilerplate" for keep, _, _ in verdicts]
    reason = [why for _, _, why in verdicts]
    title, author, date, site = _metadata(lines, role, reason)
    blocks = tuple(Block(i, ln.text, role[i], reason[i]) for i, ln in enumerate(lines))
    return Extracted(source=source, extractor=DUMP_EXTRACTOR, blocks=blocks, title=title, author=author,
                     published_date=date, site_name=site, input_kind="page_dump", input_kind_reason=kind_reason)
