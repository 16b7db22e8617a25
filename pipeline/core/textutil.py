"""Small text helpers shared by several stages (one place for each rule)."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

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


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def short_id(prefix: str, *parts: str) -> str:
    """A stable 16-hex-digit id from its parts; the prefix says what it identifies."""
    return prefix + sha256_hex("\x1f".join(parts))[:16]


# What printable_path escapes: C0 and C1 controls, DEL, the Unicode line and paragraph
# separators (str.splitlines breaks on all of them), and lone surrogates (the bytes of a
# file name that is not valid UTF-8, as os.fsdecode gives them).
_UNPRINTABLE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NAMED_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _escape(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of the name, as surrogateescape keeps it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable_path(path) -> str:
    """A path (or any name) for people to read: one line, control characters escaped.

    \\n, \\t and \\r as those escapes, other control characters as \\xNN (the Unicode line
    separators as \\u2028, \\u2029); everything else, non-ASCII letters included, as is. Only
    for display: tables and manifests keep the exact name.
    """
    return _UNPRINTABLE_RE.sub(_escape, str(path))
