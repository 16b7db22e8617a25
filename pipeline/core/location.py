"""Where seeds and data live: a local folder, or an object store named by an fsspec URL
(``s3://bucket/prefix``, through s3fs).

The one place that tells the two apart. Credentials, region and endpoint come from the
standard AWS settings (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION,
AWS_ENDPOINT_URL, AWS_PROFILE and ~/.aws), never from the data folder. Paths inside a
Folder are relative POSIX strings ("versions/<id>/manifest.json").
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import BinaryIO

LOCAL_PROTOCOLS = ("file", "local")
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once, at import: files written here get the usual permissions, not mkstemp's 0600


def is_remote(location: str | Path) -> bool:
    """True for a URL of an object store (``s3://...``); local paths and file:// are not."""
    text = str(location)
    return "://" in text and text.split("://", 1)[0] not in LOCAL_PROTOCOLS


class StoreError(OSError):
    """An object store that cannot be used as asked: no credentials, wrong ones, no bucket.
    Its message is one line naming the URL."""

    def __init__(self, why: str, url: str):
        super().__init__(f"{url}: {why}")
        self.url = url


_SETTINGS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
             "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL")


@cache
def _filesystem(protocol: str, settings: tuple):
    import fsspec

    # No listings cache: the pipeline lists to see what is there now (seeds, versions, cache).
    return fsspec.filesystem(protocol, skip_instance_cache=True, use_listings_cache=False)


def filesystem(url: str):
    """(fsspec filesystem, path inside it) of an object-store URL: one filesystem per protocol
    and per value of the AWS settings (a process that changes them gets a new one)."""
    protocol, path = str(url).split("://", 1)
    return _filesystem(protocol, tuple(os.environ.get(name) for name in _SETTINGS)), path.rstrip("/")


def store_error(err: BaseException, url: str) -> StoreError:
    """What went wrong with an object store, in one line that names the URL."""
    name = type(err).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        why = "no credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
    elif isinstance(err, PermissionError):
        why = f"access denied ({err}); check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_PROFILE"
    elif isinstance(err, FileNotFoundError):
        why = f"{err}" if "bucket" in str(err).lower() else "not found"
    elif name in ("EndpointConnectionError", "ClientConnectorError", "ConnectTimeoutError"):
        why = f"cannot reach the object store ({err}); check AWS_ENDPOINT_URL"
    else:
        why = f"{name}: {err}"
    return StoreError(why.replace("\n", " "), url)


class Folder:
    """A folder on an object store: the few operations the pipeline needs, each one request
    or one batch of requests. Writing an object replaces it whole or not at all, so a
    killed run leaves old objects or new ones, never half of one."""

    def __init__(self, url: str):
        self.url = str(url).rstrip("/")
        self.fs, self.root = filesystem(self.url)

    def join(self, relative: str) -> str:
        """The URL of ``relative``."""
        return f"{self.url}/{relative}" if relative else self.url

    def path(self, relative: str) -> str:
        """``relative`` as the filesystem's own path (bucket/key, no protocol)."""
        return f"{self.root}/{relative}" if relative else self.root

    def _call(self, action: Callable, *args, **kwargs):
        try:
            return action(*args, **kwargs)
        except FileNotFoundError:
            raise
        except Exception as err:  # noqa: BLE001 - botocore's and aiohttp's errors become one clear line
            raise store_error(err, self.url) from err

    def check(self) -> None:
        """StoreError unless the bucket exists and these credentials may list it."""
        try:
            _list_bucket(self.fs, self.root.split("/", 1)[0])
        except Exception as err:  # noqa: BLE001
            raise store_error(err, self.url) from err

    def read_bytes(self, relative: str) -> bytes | None:
        """The object's bytes; None when there is no such object."""
        try:
            return self._call(self.fs.cat_file, self.path(relative))
        except FileNotFoundError:
            return None

    def write_bytes(self, relative: str, data: bytes, **conditions) -> dict:
        """Replace (or create) one object; ``conditions`` are the store's conditional-write
        arguments (IfNoneMatch="*", IfMatch=etag). FileExistsError or a StoreError when a
        condition does not hold."""
        try:
            if conditions.pop("IfNoneMatch", None) == "*":
                return self.fs.pipe_file(self.path(relative), data, mode="create", **conditions)
            return self.fs.pipe_file(self.path(relative), data, **conditions)
        except (FileExistsError, FileNotFoundError):
            raise
        except OSError as err:
            if any(sign in str(err) for sign in ("pre-condition", "PreconditionFailed", "ConditionalRequestConflict")):
                raise FileExistsError(f"{self.join(relative)} changed: {err}") from err
            raise store_error(err, self.url) from err
        except Exception as err:  # noqa: BLE001
            raise store_error(err, self.url) from err

    def write_many(self, contents: dict[str, bytes]) -> None:
        """Several objects written side by side (each whole or not at all)."""
        self._call(self.fs.pipe, {self.path(relative): data for relative, data in contents.items()})

    def write(self, relative: str, dump: Callable[[BinaryIO], None]) -> None:
        """``dump`` into memory, then one PUT."""
        import io

        buffer = io.BytesIO()
        dump(buffer)
        self.write_bytes(relative, buffer.getvalue())

    def info(self, relative: str) -> dict | None:
        try:
            return self._call(self.fs.info, self.path(relative), refresh=True)
        except FileNotFoundError:
            return None

    def find(self, relative: str = "") -> dict[str, dict]:
        """Every object under ``relative``, by path relative to this folder, with what the
        listing says of it (size, ETag, LastModified): one paged listing, no request per object."""
        prefix = self.path(relative)
        try:
            found = self._call(self.fs.find, prefix, detail=True, withdirs=False)
        except FileNotFoundError:
            return {}
        start = len(self.root) + 1
        return {path[start:]: info for path, info in found.items() if info.get("type") != "directory"}

    def remove(self, relatives: Iterable[str]) -> None:
        paths = [self.path(r) for r in relatives]
        if paths:
            try:
                self._call(self.fs.rm, paths)
            except FileNotFoundError:
                pass

    def upload(self, pairs: list[tuple[Path, str]]) -> None:
        """Local files to objects, side by side."""
        if pairs:
            self._call(self.fs.put, [str(local) for local, _ in pairs], [self.path(r) for _, r in pairs])

    def copy(self, pairs: list[tuple[str, str]]) -> None:
        """Objects copied inside the store (server-side: nothing passes through this machine)."""
        if pairs:
            self._call(self.fs.copy, [self.path(s) for s, _ in pairs], [self.path(t) for _, t in pairs])

    def download(self, relative: str, target: Path) -> None:
        """Everything under ``relative`` into the local folder ``target``."""
        files = self.find(relative)
        target.mkdir(parents=True, exist_ok=True)
        pairs = [(self.path(r), target / r[len(relative):].lstrip("/")) for r in files]
        for _, local in pairs:
            local.parent.mkdir(parents=True, exist_ok=True)
        if pairs:
            self._call(self.fs.get, [s for s, _ in pairs], [str(t) for _, t in pairs])


@cache
def _list_bucket(fs, bucket: str) -> None:
    """Once per filesystem and bucket in a process, when it works (seeds and data often share one)."""
    fs.ls(bucket, refresh=True)


def local_cache_dir(url: str) -> Path:
    """A local folder for what this machine keeps of an object-store data folder (read-only
    copies of its immutable versions, a Prefect server's database): derived, safe to delete.
    $NEWSCORPUS_CACHE, else $XDG_CACHE_HOME/newscorpus, else ~/.cache/newscorpus."""
    import hashlib

    base = os.environ.get("NEWSCORPUS_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache",
                                                      "newscorpus")
    name = hashlib.sha256(url.rstrip("/").encode()).hexdigest()[:16]
    return Path(base, name)


def atomic_write(path: Path, dump: Callable[[BinaryIO], None]) -> None:
    """`dump` into a temporary file renamed into place: a killed run leaves the old file or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as handle:
            dump(handle)
        os.replace(temporary, path)
    except BaseException as err:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(err, OSError) and not err.filename:  # say which file hit the full disk
            raise OSError(err.errno, err.strerror or str(err), str(path)) from err
        raise


def read_file(folder: str | Path, relative: str) -> bytes | None:
    """A file of a local or remote folder; None when it is not there (or not readable locally)."""
    if is_remote(folder):
        return Folder(str(folder)).read_bytes(relative)
    try:
        return Path(folder, relative).read_bytes()
    except OSError:
        return None


def write_file(folder: str | Path, relative: str, dump: Callable[[BinaryIO], None]) -> None:
    """Replace a file of a local or remote folder whole (see atomic_write, Folder.write)."""
    if is_remote(folder):
        Folder(str(folder)).write(relative, dump)
    else:
        atomic_write(Path(folder, relative), dump)


def absolute(location: str | Path) -> str:
    """A URL as it is; a local path made absolute (for runs started from elsewhere)."""
    return str(location) if is_remote(location) else str(Path(location).resolve())


def join(location: str | Path, *parts: str) -> str:
    """``location/part/...`` for a local path or a URL, as a string."""
    if is_remote(location):
        return "/".join([str(location).rstrip("/"), *parts])
    return str(Path(location, *parts))
