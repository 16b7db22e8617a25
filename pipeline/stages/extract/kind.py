"""What a plain-text input is: a whole page with site chrome ("page_dump") or an article as it
stands ("clean_text").

Site chrome leaves traces that an article does not have: menu and share-bar lines, comment
and "related posts" headings, link lists of one to three words, short lines that repeat, and
runs of short lines above the first paragraph and below the last. A clean article has at most
a headline, a kicker, a dateline and a byline above its first paragraph. Those counts, alone
and per line, feed a small tree ensemble (the `kind` part of the dump model, trained by
bench/train_dump_model.py on dumps by several renderers against gold texts in several layouts);
the reason names the counts, so `pipeline explain` shows why.
"""
from __future__ import annotations

import math

import numpy as np

from pipeline.stages.extract.features import Line, is_prose

# Short lines a clean article may have above its first paragraph (headline, kicker, dateline,
# byline) and below its last (a credit, a copyright line) before they count as chrome.
FREE_EDGE_LINES = 5


def _menu_like(ln: Line) -> bool:
    """A line as menus and footers have them: one to four words, no number, no sentence."""
    return 1 <= ln.words <= 4 and ln.digits == 0 and not ln.ends_sentence


def chrome_evidence(lines: list[Line]) -> dict[str, int]:
    """Counts of the lines that only site chrome has."""
    sentences = [ln.index for ln in lines if is_prose(ln) and ln.ends_sentence]
    first, last = (sentences[0], sentences[-1]) if sentences else (len(lines), len(lines) - 1)
    # A list that makes the story (results, a recipe) follows its first sentence; a menu precedes it.
    above = sum(1 for ln in lines[:first] if ln.words)
    below = sum(1 for ln in lines[last + 1:] if _menu_like(ln))
    return {
        "chrome lines": sum(1 for ln in lines if ln.chrome),
        "comment or related-links headings": sum(1 for ln in lines if ln.comment_header or ln.story_end),
        "menu items": sum(1 for ln in lines if ln.bullet and ln.words <= 3),
        "repeated short lines": sum(1 for ln in lines if ln.words <= 4 and ln.repeats > 1),
        "short lines above the first paragraph": max(0, above - FREE_EDGE_LINES),
        "menu-like lines below the last paragraph": max(0, below - FREE_EDGE_LINES),
    }


def kind_features(lines: list[Line], evidence: dict[str, int] | None = None) -> np.ndarray:
    """One row: the evidence counts (log and per line) and the text's shape."""
    evidence = chrome_evidence(lines) if evidence is None else evidence
    n = max(len(lines), 1)
    words = [ln.words for ln in lines]
    total = max(sum(words), 1)
    counts = list(evidence.values())
    shape = [
        math.log1p(len(lines)), math.log1p(total),
        sum(w for ln, w in zip(lines, words) if is_prose(ln)) / total,
        sum(1 for w in words if w <= 4) / n,
        sum(1 for ln in lines if ln.ends_sentence) / n,
        sum(1 for ln in lines if ln.name_like) / n,
        total / n,
    ]
    return np.array([[math.log1p(c) for c in counts] + [c / n for c in counts] + [math.log1p(sum(counts))] + shape])


KIND_FEATURES = ([f"log {k}" for k in chrome_evidence([])] + [f"{k} per line" for k in chrome_evidence([])]
                 + ["log evidence", "log lines", "log words", "prose share", "short line share",
                    "sentence line share", "name-like line share", "words per line"])


def text_kind(lines: list[Line], model) -> tuple[str, str]:
    """("page_dump" | "clean_text", the reason with its counts); `model` is the dump model."""
    evidence = chrome_evidence(lines)
    score = float(model.kind.predict(kind_features(lines, evidence))[0]) if lines else 0.0
    shown = ", ".join(f"{n} {what}" for what, n in evidence.items() if n) or "no site chrome"
    if score >= 0.5:
        return "page_dump", f"page dump (score {score:.2f}): site chrome around the text ({shown})"
    return "clean_text", f"clean text (page-dump score {score:.2f}): {shown} in {len(lines)} lines"
