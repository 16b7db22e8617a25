"""Shards and a bounded submitter: how per-document work is handed to tasks."""
from __future__ import annotations

from collections import deque
from typing import Callable, Iterable, Iterator

# Shard tasks running at once: enough to keep both cores and the tagger busy, few enough that
# memory stays flat and progress is reported as shards finish (Prefect's thread pool would
# otherwise start every submitted shard at once).
MAX_SHARDS_IN_FLIGHT = 4


def shards(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), max(1, size))]


def bounded(jobs: Iterable, submit: Callable, limit: int = MAX_SHARDS_IN_FLIGHT) -> Iterator[tuple]:
    """Yield (job, result) in job order, with at most `limit` submitted tasks unfinished."""
    pending: deque = deque()
    for job in jobs:
        pending.append((job, submit(job)))
        if len(pending) >= limit:
            done, future = pending.popleft()
            yield done, future.result()
    while pending:
        done, future = pending.popleft()
        yield done, future.result()
