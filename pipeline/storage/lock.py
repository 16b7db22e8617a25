"""One run at a time per data folder: an advisory lock on DATA/.lock.

flock is released by the kernel when the holder dies, even by SIGKILL, so a crashed run
never leaves a stale lock behind.
"""
from __future__ import annotations

import fcntl
import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from pipeline.core.textutil import printable_path

LOCK_FILE = ".lock"


class DataFolderBusy(RuntimeError):
    """Another run holds the data folder's lock."""


class RunLock:
    """Context manager: hold DATA/.lock for the duration of a run.

    ``wait=False`` raises DataFolderBusy at once; otherwise it waits (up to ``timeout_s``
    seconds when given), calling ``on_wait`` once with a message saying who holds it.
    """

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

    def __enter__(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        started = time.monotonic()
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                busy = f"{printable_path(self.path.parent)} is in use by {self.holder()}"
                if not self.wait:
                    os.close(fd)
                    raise DataFolderBusy(f"{busy}; not waiting (--no-wait)") from None
                if self.timeout_s is not None and time.monotonic() - started > self.timeout_s:
                    os.close(fd)
                    raise DataFolderBusy(f"{busy}; gave up after {self.timeout_s:g} s") from None
                if not told and self.on_wait:
                    self.on_wait(f"waiting: {busy}")
                    told = True
                time.sleep(self.poll_s)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "started": datetime.now(timezone.utc)
                                 .isoformat(timespec="seconds")}).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
