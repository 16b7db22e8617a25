"""One run at a time per data folder: DATA/.lock.

In a local folder it is an advisory lock (flock), released by the kernel when the holder
dies, even by SIGKILL, so a crashed run never leaves a stale lock behind.

An object store has no such lock, so there the lock is an object created with a conditional
write (If-None-Match: *) that only one run can win. It holds the owner and an expiry, which
the running flow renews every third of its time to live (a write conditional on the ETag it
last wrote). A crashed run's lock expires; a lock past its expiry is taken over with a write
conditional on the stale ETag, so of two runs taking it over only one wins. Expiries are
wall-clock times: the clocks of the machines running the pipeline must agree to within a few
seconds of each other.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from pipeline.core.location import Folder, is_remote
from pipeline.core.textutil import printable_path

LOCK_FILE = ".lock"
DEFAULT_TTL_S = 60.0  # how long an object-store lock outlives its last renewal


class DataFolderBusy(RuntimeError):
    """Another run holds the data folder's lock."""


def RunLock(data_dir: str | Path, wait: bool = True, timeout_s: float | None = None,  # noqa: N802 - a class to callers
            on_wait: Callable[[str], None] | None = None, poll_s: float = 0.5, ttl_s: float = DEFAULT_TTL_S):
    """Context manager: hold DATA/.lock for the duration of a run.

    ``wait=False`` raises DataFolderBusy at once; otherwise it waits (up to ``timeout_s``
    seconds when given), calling ``on_wait`` once with a message saying who holds it.
    ``ttl_s``: on an object store, how long the lock outlives a holder that stopped renewing it.
    """
    if is_remote(data_dir):
        return ObjectStoreLock(str(data_dir), wait, timeout_s, on_wait, poll_s, ttl_s)
    return FolderLock(Path(data_dir), wait, timeout_s, on_wait, poll_s)


class _Waiting:
    """What both locks do while another run holds the folder: fail, give up, or wait."""

    def _busy(self, where: str, started: float, told: bool) -> bool:
        """Raise DataFolderBusy, or sleep a poll and return whether the wait was announced."""
        busy = f"{where} is in use by {self.holder()}"
        if not self.wait:
            raise DataFolderBusy(f"{busy}; not waiting (--no-wait)")
        if self.timeout_s is not None and time.monotonic() - started > self.timeout_s:
            raise DataFolderBusy(f"{busy}; gave up after {self.timeout_s:g} s")
        if not told and self.on_wait:
            self.on_wait(f"waiting: {busy}")
        time.sleep(self.poll_s)
        return True


def _owner(**more) -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"), **more}


class FolderLock(_Waiting):
    """flock on DATA/.lock of a local data folder."""

    def __init__(self, data_dir: Path, wait: bool = True, timeout_s: float | None = None,
                 on_wait: Callable[[str], None] | None = None, poll_s: float = 0.5):
        self.path = Path(data_dir) / LOCK_FILE
        self.wait, self.timeout_s, self.on_wait, self.poll_s = wait, timeout_s, on_wait, poll_s
        self._fd: int | None = None

    def check_writable(self) -> None:
        """Create the lock file, raising OSError (naming it) if the folder is not writable."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644))

    def holder(self) -> str:
        try:
            info = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return "another run"
        return f"run pid {info.get('pid', '?')} (started {info.get('started', '?')})"

    def __enter__(self) -> "FolderLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        started = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                try:
                    told = self._busy(printable_path(self.path.parent), started, told)
                except DataFolderBusy:
                    os.close(fd)
                    raise
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(_owner()).encode())
        self._fd = fd
        return self

    def confirm(self) -> None:
        """Nothing to check: the kernel keeps the lock for as long as this process lives."""

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class ObjectStoreLock(_Waiting):
    """DATA/.lock on an object store: created conditionally, renewed while held, expiring."""

    def __init__(self, data_url: str, wait: bool = True, timeout_s: float | None = None,
                 on_wait: Callable[[str], None] | None = None, poll_s: float = 0.5, ttl_s: float = DEFAULT_TTL_S):
        self.folder, self.url = Folder(data_url), data_url
        self.wait, self.timeout_s, self.on_wait, self.poll_s, self.ttl_s = wait, timeout_s, on_wait, poll_s, ttl_s
        self._etag: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False  # set when another run took the lock over from this one (it stalled past its expiry)

    def check_writable(self) -> None:
        """A StoreError (one line) unless the bucket is there and these credentials may use it."""
        self.folder.check()

    def _body(self) -> bytes:
        return json.dumps(_owner(expires=time.time() + self.ttl_s, ttl_s=self.ttl_s)).encode()

    def _held(self) -> tuple[dict, str] | None:
        """(what the lock object says, its ETag), or None when there is none."""
        info = self.folder.info(LOCK_FILE)
        data = self.folder.read_bytes(LOCK_FILE) if info is not None else None
        if data is None:
            return None
        try:
            held = json.loads(data)
        except ValueError:
            held = None
        # Not a lock this code wrote (a PUT is whole, so never half of one): treat it as expired.
        return (held if isinstance(held, dict) else {"expires": 0}), info.get("ETag", "")

    def holder(self) -> str:
        held = self._held()
        info = held[0] if held else {}
        left = info.get("expires", 0) - time.time()
        return (f"run pid {info.get('pid', '?')} on {info.get('host', '?')} (started {info.get('started', '?')}; "
                f"its lock expires in {max(left, 0):.0f} s unless renewed)")

    def _try_take(self) -> bool:
        try:
            self._etag = self.folder.write_bytes(LOCK_FILE, self._body(), IfNoneMatch="*")["ETag"]
            return True
        except FileExistsError:
            pass
        held = self._held()
        if held is None:
            return False  # released meanwhile: created again after the next poll
        info, etag = held
        if info.get("expires", float("inf")) > time.time():
            return False
        try:  # expired: take it over, unless another run just did (or released it: next round creates it)
            self._etag = self.folder.write_bytes(LOCK_FILE, self._body(), IfMatch=etag)["ETag"]
            return True
        except (FileExistsError, FileNotFoundError):
            return False

    def __enter__(self) -> "ObjectStoreLock":
        started, told = time.monotonic(), False
        while not self._try_take():
            told = self._busy(self.url, started, told)
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name="run-lock-renewal", daemon=True)
        self._renewer.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_s / 3) and self.renew():
            pass

    def renew(self) -> bool:
        """Push the expiry on; False (and `lost` set) when another run has taken the lock over."""
        try:
            self._etag = self.folder.write_bytes(LOCK_FILE, self._body(), IfMatch=self._etag)["ETag"]
        except (FileExistsError, FileNotFoundError):  # replaced by another run's, or released by it
            self.lost = True
            return False
        except OSError:
            pass  # the store did not answer this time; the lock has two more renewals to go
        return True

    def confirm(self) -> None:
        """DataFolderBusy if another run took the lock over (this one stalled past its expiry):
        publishing now could overwrite that run's LATEST."""
        if self.lost:
            raise DataFolderBusy(f"{self.url}: this run's lock expired and another run took it over "
                                 f"(a stall longer than --lock-ttl {self.ttl_s:g} s); nothing was published")

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        held = self._held()
        if held is not None and held[1] == self._etag and not self.lost:
            self.folder.remove([LOCK_FILE])
        self._etag = None
