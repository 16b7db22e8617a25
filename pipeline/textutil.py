"""Small text helpers shared by several stages (one place for each rule)."""
from __future__ import annotations

import hashlib
import re

WORD_RE = re.compile(r"\w+")
_SPACE_RE = re.compile(r"\s+")


def count_words(text: str) -> int:
    return len(WORD_RE.findall(text))


def count_number_words(text: str) -> int:
    return sum(1 for w in WORD_RE.findall(text) if w.isdigit())


def word_key(text: str) -> str:
    """Lowercased words joined by one space: equal for lines that differ only in case or punctuation."""
    return " ".join(WORD_RE.findall(text.lower()))


def collapse_whitespace(text: str) -> str:
    return _SPACE_RE.sub(" ", text).strip()


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def short_id(prefix: str, *parts: str) -> str:
    """A stable 16-hex-digit id from its parts; the prefix says what it identifies."""
    return prefix + sha256_hex("\x1f".join(parts))[:16]
