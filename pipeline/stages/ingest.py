"""ingest: a seeds/ file -> Source, or Rejected with a reason.

Only regular files are read, and each is opened once per read without following a link and
without blocking (O_NOFOLLOW | O_NONBLOCK), then checked again on the open descriptor: a
named pipe, socket or device, or a file swapped for one after it was listed, is rejected
without a single read that could wait forever.

Seeds on an object store (``s3://bucket/prefix``, pipeline.core.location) are its objects:
no links or devices there, each read is one ranged GET of at most the size limit, and one
paged listing finds them all. A worker reading them needs credentials, not a shared disk.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from pathlib import Path, PurePosixPath

import charset_normalizer

from pipeline.core.config import INPUT_SUFFIXES, PipelineConfig
from pipeline.core.location import Folder, is_remote
from pipeline.core.records import Rejected, Source

STAGE = "ingest"
VERSION = "ingest_v2"  # bump whenever a change alters what it outputs
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
# A decoded text with more than this share of control characters is not text.
_MAX_CONTROL_SHARE = 0.01
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def walk(seeds_dir: Path):
    """(relative POSIX path, full path as a string) of every non-hidden entry under seeds_dir that
    is not a folder.

    Folders are entered, never followed: a symbolic link to a folder (``seeds/loop -> ..``)
    is an entry of its own, like any other link, and nothing below it is listed.
    """
    top = os.fspath(seeds_dir)
    for root, dirs, files in os.walk(top, followlinks=False):
        visible = sorted(d for d in dirs if not d.startswith("."))
        dirs[:] = [d for d in visible if not os.path.islink(os.path.join(root, d))]
        # The folder's relative path once, not a Path per file: planning lists every input on every run.
        folder = Path(os.path.relpath(root, top)).as_posix()
        for name in [*files, *(d for d in visible if d not in dirs)]:
            if not name.startswith("."):
                yield name if folder == "." else f"{folder}/{name}", os.path.join(root, name)


def discover(seeds_dir: str | Path) -> list[str]:
    """Every non-hidden file under seeds_dir, recursively, as sorted relative POSIX paths.

    Files with other suffixes are listed too: ingest quarantines them rather than skipping
    them silently. Symbolic links (to files or folders), named pipes, sockets and devices
    are listed and rejected by ingest, never followed or opened.
    """
    if is_remote(seeds_dir):
        return sorted(objects(str(seeds_dir)))
    return sorted(relative for relative, _ in walk(seeds_dir))


def objects(seeds_url: str) -> dict[str, dict]:
    """The non-hidden objects under an object-store prefix, by relative path, with what the
    listing says of each (size, ETag): one paged listing."""
    return {relative: info for relative, info in Folder(seeds_url).find().items()
            if not any(part.startswith(".") for part in relative.split("/"))}


def seeds_exist(seeds_dir: str | Path) -> bool:
    """A local seeds folder is there; for an object store, StoreError when the bucket is not
    there or cannot be listed (a prefix with no objects is an empty corpus)."""
    if is_remote(seeds_dir):
        Folder(str(seeds_dir)).check()
        return True
    return Path(seeds_dir).is_dir()


_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISDIR, "a folder"))


def _not_regular(mode: int) -> tuple[str, str] | None:
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), f"not a regular file (mode {stat.filemode(mode)})")
    return "not_a_regular_file", f"{kind}; only regular files are read, and this one was not opened"


def too_large(size: int, config: PipelineConfig) -> tuple[str, str]:
    return "too_large", f"{size} bytes is over the limit of {config.max_file_bytes}"


def _os_error(err: OSError) -> tuple[str, str]:
    if err.errno == errno.ENOENT:
        return "disappeared", "the file was listed but was gone when it was to be read"
    return "unreadable", f"cannot read file: {err.strerror or err}"


def _linked_folder(seeds_dir: Path, relative_path: str) -> str | None:
    """The first folder on relative_path that is a symbolic link (swapped in after listing)."""
    parts = Path(relative_path).parts[:-1]
    for depth in range(1, len(parts) + 1):
        folder = Path(seeds_dir, *parts[:depth])
        if folder.is_symlink():
            return Path(*parts[:depth]).as_posix()
    return None


def _precheck(seeds_dir: Path, relative_path: str, config: PipelineConfig) -> tuple[str, str] | None:
    """(reason, detail) for a file that must not be read at all, else None. Opens nothing."""
    path = Path(seeds_dir, relative_path)
    try:
        info = os.lstat(path)
    except OSError as err:
        return _os_error(err)
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "(unreadable)"
        return "symlink", f"symbolic link to {target!s}; links are not followed"
    linked = _linked_folder(seeds_dir, relative_path)
    if linked is not None:
        return "symlink", f"folder {linked} on its path is a symbolic link; links are not followed"
    not_regular = _not_regular(info.st_mode)
    if not_regular is not None:
        return not_regular
    return object_precheck(relative_path, info.st_size, config)


def object_precheck(relative_path: str, size: int | None, config: PipelineConfig) -> tuple[str, str] | None:
    """(reason, detail) for a regular file or object that is not read, given its name and size
    (None: not known yet), else None."""
    suffix = PurePosixPath(relative_path).suffix
    if suffix.lower() not in INPUT_SUFFIXES:
        return "unsupported_format", f"suffix {suffix or '(none)'!r} is not one of {sorted(INPUT_SUFFIXES)}"
    if size is not None and size > config.max_file_bytes:
        return too_large(size, config)
    return None


def _read_object(seeds_url: str, relative_path: str, config: PipelineConfig) -> bytes | tuple[str, str]:
    """An object's bytes (one GET of at most the limit plus one byte), or (reason, detail):
    the same reasons and details as for a local file."""
    unread = object_precheck(relative_path, None, config)
    if unread is not None:
        return unread
    folder = Folder(seeds_url)
    try:
        try:
            data = folder.fs.cat_file(folder.path(relative_path), start=0, end=config.max_file_bytes + 1)
        except OSError:  # a ranged read of an empty object is refused (416 InvalidRange)
            if (folder.info(relative_path) or {}).get("size") != 0:
                raise
            data = b""
        if len(data) > config.max_file_bytes:
            size = (folder.info(relative_path) or {}).get("size", len(data))
            return too_large(size, config)
    except FileNotFoundError:
        return _os_error(OSError(errno.ENOENT, "not found"))
    except OSError as err:
        return _os_error(err)
    return data


Read = bytes | tuple[str, str]  # what _read gives: the bytes, or (reason, detail) of a file not read
_CONCURRENT_READS = 16  # objects fetched at once: a request's latency, not bandwidth, is the cost


def read_ahead(seeds_dir: str | Path, relative_paths: list[str], config: PipelineConfig) -> dict[str, Read]:
    """Object-store inputs read side by side, by path, for `ingest`/`fingerprint` to use
    instead of one request after another; {} for a local folder (read as used)."""
    if not is_remote(seeds_dir) or not relative_paths:
        return {}
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(_CONCURRENT_READS, len(relative_paths))) as pool:
        reads = pool.map(lambda path: _read_object(str(seeds_dir), path, config), relative_paths)
        return dict(zip(relative_paths, reads))


def _read(seeds_dir: str | Path, relative_path: str, config: PipelineConfig) -> bytes | tuple[str, str]:
    """The file's bytes, read once through one descriptor, or (reason, detail) if it is not read.

    Whatever was checked when the file was listed may have changed since: the open neither
    follows a link nor waits (a FIFO swapped in), and the descriptor is checked again.
    """
    if is_remote(seeds_dir):
        return _read_object(str(seeds_dir), relative_path, config)
    unread = _precheck(seeds_dir, relative_path, config)
    if unread is not None:
        return unread
    try:
        fd = os.open(Path(seeds_dir, relative_path), _OPEN_FLAGS)
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "symlink", "replaced by a symbolic link after it was listed; links are not followed"
        return _os_error(err)
    with os.fdopen(fd, "rb", closefd=True) as handle:
        try:
            info = os.fstat(fd)
            not_regular = _not_regular(info.st_mode)
            if not_regular is not None:
                return not_regular
            if info.st_size > config.max_file_bytes:
                return too_large(info.st_size, config)
            data = handle.read(config.max_file_bytes + 1)
        except OSError as err:
            return _os_error(err)
    if len(data) > config.max_file_bytes:
        return "too_large", f"over {config.max_file_bytes} bytes (the limit) when read: it grew after it was listed"
    return data


def fingerprint(seeds_dir: str | Path, relative_path: str, config: PipelineConfig, read: Read | None = None) -> str:
    """What ingest's outcome depends on: the SHA-256 of the bytes it would read, or for a
    file it rejects unread, "unread:<reason>:<detail>". Incremental runs key reuse on it.

    The file may change before ingest reads it: a run keys each outcome on the bytes ingest
    actually read (Source.sha256; pipeline.core.keys.outcome_fingerprint), not on this.
    """
    if read is None:
        read = _read(seeds_dir, relative_path, config)
    if isinstance(read, tuple):
        return unread_fingerprint(*read)
    return hashlib.sha256(read).hexdigest()


def unread_fingerprint(reason: str, detail: str) -> str:
    return f"unread:{reason}:{detail}"


def ingest(seeds_dir: str | Path, relative_path: str, config: PipelineConfig, read: Read | None = None
           ) -> Source | Rejected:
    """The file as a Source, or Rejected; `read`: its bytes (or why not) from read_ahead."""
    suffix = PurePosixPath(relative_path).suffix

    def reject(reason: str, detail: str, sha256: str | None = None) -> Rejected:
        return Rejected(relative_path, STAGE, reason, detail, sha256)

    data = _read(seeds_dir, relative_path, config) if read is None else read
    if isinstance(data, tuple):
        return reject(*data)
    sha256 = hashlib.sha256(data).hexdigest()
    if not data:
        return reject("empty_file", "file has 0 bytes", sha256)
    decoded = decode(data)
    if isinstance(decoded, str):
        return reject(decoded, _DECODE_DETAILS[decoded], sha256)
    text, encoding = decoded
    if not text.strip():
        return reject("whitespace_only", "file holds only whitespace", sha256)
    return Source(relative_path, sha256, INPUT_SUFFIXES[suffix.lower()], encoding, text, len(data))


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

