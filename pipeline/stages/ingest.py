"""ingest: a seeds/ file -> Source, or Rejected with a reason."""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import charset_normalizer

from pipeline.config import INPUT_SUFFIXES, PipelineConfig
from pipeline.records import Rejected, Source

STAGE = "ingest"
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
# A decoded text with more than this share of control characters is not text.
_MAX_CONTROL_SHARE = 0.01


def discover(seeds_dir: Path) -> list[str]:
    """Every non-hidden file under seeds_dir, recursively, as sorted relative POSIX paths.

    Files with other suffixes are listed too: ingest quarantines them rather than skipping
    them silently. Symbolic links are listed and rejected by ingest, never followed.
    """
    found = []
    for root, dirs, files in os.walk(seeds_dir, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if not name.startswith("."):
                found.append(Path(root, name).relative_to(seeds_dir).as_posix())
    return sorted(found)


def _precheck(path: Path, config: PipelineConfig) -> tuple[str, str] | None:
    """(reason, detail) for a file that must not be read at all, else None."""
    if path.is_symlink():
        return "symlink", f"symbolic link to {os.readlink(path)!s}; links are not followed"
    if path.suffix.lower() not in INPUT_SUFFIXES:
        return "unsupported_format", f"suffix {path.suffix or '(none)'!r} is not one of {sorted(INPUT_SUFFIXES)}"
    try:
        size = path.stat().st_size
    except OSError as err:
        return "unreadable", f"cannot read file: {err.strerror or err}"
    if size > config.max_file_bytes:
        return "too_large", f"{size} bytes is over the limit of {config.max_file_bytes}"
    return None


def fingerprint(seeds_dir: Path, relative_path: str, config: PipelineConfig) -> str:
    """What ingest's outcome depends on: the SHA-256 of the bytes it would read, or for a
    file it rejects unread, "unread:<reason>:<detail>". Incremental runs key reuse on it.
    """
    path = Path(seeds_dir, relative_path)
    unread = _precheck(path, config)
    if unread is None:
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as err:
            unread = ("unreadable", err.strerror or str(err))
    return "unread:{}:{}".format(*unread)


def ingest(seeds_dir: Path, relative_path: str, config: PipelineConfig) -> Source | Rejected:
    path = Path(seeds_dir, relative_path)

    def reject(reason: str, detail: str, sha256: str | None = None) -> Rejected:
        return Rejected(relative_path, STAGE, reason, detail, sha256)

    unread = _precheck(path, config)
    if unread is not None:
        return reject(*unread)
    try:
        data = path.read_bytes()
    except OSError as err:
        return reject("unreadable", f"cannot read file: {err.strerror or err}")
    sha256 = hashlib.sha256(data).hexdigest()
    if not data:
        return reject("empty_file", "file has 0 bytes", sha256)
    decoded = decode(data)
    if isinstance(decoded, str):
        return reject(decoded, _DECODE_DETAILS[decoded], sha256)
    text, encoding = decoded
    if not text.strip():
        return reject("whitespace_only", "file holds only whitespace", sha256)
    return Source(relative_path, sha256, INPUT_SUFFIXES[path.suffix.lower()], encoding, text, len(data))


_DECODE_DETAILS = {
    "binary_file": "file holds NUL or control bytes: not a text or HTML document",
    "undecodable": "no text encoding decodes this file",
}


def decode(data: bytes) -> tuple[str, str] | str:
    """(text, encoding), or a reject reason code. UTF-8 first: detectors misread short UTF-8."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data.decode(encoding), encoding)
            except UnicodeDecodeError:
                return "undecodable"
    if b"\x00" in data:
        return "binary_file"
    try:
        return _checked(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        return "undecodable"
    if best.encoding in _OTHER_LATIN_CODEPAGES and _reads_as_western(data):
        return _checked(data.decode("cp1252"), "cp1252")
    return _checked(str(best), best.encoding)


# Single-byte Latin-script code pages that charset-normalizer picks for short Western
# European text (déjà -> dčjŕ in cp1250); Cyrillic, Greek etc. are not in this set.
_OTHER_LATIN_CODEPAGES = {"cp1250", "cp1257", "cp775", "cp850", "cp852", "hp_roman8", "mac_latin2",
                          "iso8859_2", "iso8859_4", "iso8859_10", "iso8859_13", "iso8859_14",
                          "iso8859_15", "iso8859_16", "latin_1"}
_IN_WORD_SYMBOL_RE = re.compile(r"(?<=[A-Za-z])[^\x00-\x7f](?=[A-Za-z])")


def _reads_as_western(data: bytes) -> bool:
    """True if cp1252 decodes the bytes with no symbol stuck inside a word.

    Central European text read as cp1252 shows exactly that ("Wa¹chock" for Wąchock),
    while Western text has only letters there ("cafés").
    """
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return all(m.group().isalpha() or m.group() == "\u2019" for m in _IN_WORD_SYMBOL_RE.finditer(text))


_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f]")  # C0 controls but \t \n \v \f \r


def _checked(text: str, encoding: str) -> tuple[str, str] | str:
    if text.startswith("\ufeff"):
        text = text[1:]
    controls = len(_CONTROL_RE.findall(text))
    if text and controls / len(text) > _MAX_CONTROL_SHARE:
        return "binary_file"
    return text, encoding

