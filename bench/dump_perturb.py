"""Changes to page dumps, for training the dump classifier on layouts the 2012 pages lack and for
checking that extraction holds when a page is laid out differently.

Training (`interrupt_story`, blocks with labels): a story interrupted inside by what newer pages
put there (a video or photo caption, an embedded post, a pull quote, a line of statistics, a
"read more" teaser, an advertisement label) and a cookie banner at the top or bottom; the
inserted lines are not story text, the story goes on after them.

Evaluation (`PERTURBATIONS`, text to text): a prose line added at the top or the bottom, blank
lines removed, the navigation lines above the story moved below it. Every change is
deterministic for a given page name.
"""
from __future__ import annotations

import hashlib
import random

INTERRUPTIONS = [
    ["Video: Watch the moment the crowd gathered outside the building", "2:31"],
    ["Photo: Reuters / Staff photographer"],
    ["(AP Photo/Martin Meissner)"],
    ["Image caption: Protesters in the capital on Sunday"],
    ["@newsdesk · 3h", "Replying to @cityreporter", "Follow", "12 Retweets 40 Likes"],
    ["Embedded post from Instagram", "View this post on Instagram"],
    ["READ MORE: Five things to know about the new budget"],
    ["Related: Markets slide as oil prices climb"],
    ["Advertisement"],
    ["Story continues below advertisement"],
    ["GDP growth 3.2% | Inflation 8.1% | Unemployment 4.9%"],
    ["Population: 19.8 million", "Capital: Astana", "Currency: tenge"],
    ["Subscribe to our newsletter", "Sign up"],
    ["Share this article", "Facebook", "Twitter", "Email"],
]
COOKIE_BANNERS = [
    "We use cookies to improve your experience on our site. By continuing to browse you agree to our use of "
    "cookies. Accept all Manage preferences",
    "This website uses cookies to ensure you get the best experience. Learn more Got it!",
    "We value your privacy. We and our partners store and access information on your device, such as cookies, "
    "to personalise content and ads.",
]
TOP_PROSE = "The Daily Ledger is an independent newspaper covering business, politics and culture since 1902."
BOTTOM_PROSE = "This article was originally published on our partner site and is republished here with permission."


def _rng(name: str, salt: str) -> random.Random:
    return random.Random(int(hashlib.sha1(f"{salt}:{name}".encode()).hexdigest()[:12], 16))


def interrupt_story(name: str, blocks: list[str], labels: list[float]) -> tuple[list[str], list[float]]:
    """Insert one to three interruptions between story blocks and a cookie banner at an edge."""
    rng = _rng(name, "interrupt")
    story = [i for i, y in enumerate(labels) if y >= 0.5]
    out_blocks, out_labels = list(blocks), list(labels)
    if len(story) >= 4:
        # Positions inside the story (never before its first or after its last block), back to front.
        inner = story[1:-1]
        spots = sorted(rng.sample(inner, min(len(inner), rng.randint(1, 3))), reverse=True)
        for spot in spots:
            lines = rng.choice(INTERRUPTIONS)
            if rng.random() < 0.25:  # a pull quote: a story sentence printed again
                lines = [blocks[rng.choice(story)][:160]]
            out_blocks[spot:spot] = lines
            out_labels[spot:spot] = [0.0] * len(lines)
    if rng.random() < 0.5:
        banner = rng.choice(COOKIE_BANNERS)
        if rng.random() < 0.5:
            out_blocks.insert(0, banner)
            out_labels.insert(0, 0.0)
        else:
            out_blocks.append(banner)
            out_labels.append(0.0)
    return out_blocks, out_labels


def prose_line_on_top(name: str, text: str) -> str:
    return TOP_PROSE + "\n\n" + text


def prose_line_at_bottom(name: str, text: str) -> str:
    return text.rstrip("\n") + "\n\n" + BOTTOM_PROSE + "\n"


def blank_lines_removed(name: str, text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.strip()) + "\n"


def navigation_moved(name: str, text: str) -> str:
    """The run of short lines at the top of the page (menus) moved to its bottom."""
    lines = text.splitlines()
    top = 0
    while top < len(lines) and len(lines[top].split()) <= 4:
        top += 1
    if top < 3:
        return text
    return "\n".join(lines[top:] + [""] + lines[:top]) + "\n"


PERTURBATIONS = {
    "prose line on top": prose_line_on_top,
    "prose line at the bottom": prose_line_at_bottom,
    "blank lines removed": blank_lines_removed,
    "navigation moved to the bottom": navigation_moved,
}
