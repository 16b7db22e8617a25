"""The persisted duplicate index at scale: build, one add, edit and removal, save and load.

    .venv/bin/python bench/dedupe_index.py [n] [copies] [trace]     # default 50,000 members, 18 copies

n synthetic members in groups of `copies` near-copies of real dump texts (tests/test_dedupe.py
makes them), wall-clock and CPU seconds per step; with trace, the memory each step allocates at
its peak and still holds (tracemalloc, which slows the steps down).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from test_dedupe import CONFIG, _synthetic, _texts  # noqa: E402

from pipeline.stages.hygiene import dedupe  # noqa: E402
from pipeline.stages.hygiene.dedupe_index import DuplicateIndex  # noqa: E402


def benchmark(n: int = 50_000, copies: int = 18, trace: bool = False) -> None:
    """Index build, one add, edit and removal, save and load at n synthetic members."""
    members, signatures = _synthetic(n, copies, _texts(None, None))
    by_id = {m.article_id: s for m, s in zip(members, signatures)}
    if trace:
        tracemalloc.start()

    def measured(label, run):
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        started, cpu = time.perf_counter(), time.process_time()
        result = run()
        line = f"{label:<24} {time.perf_counter() - started:7.3f} s   cpu {time.process_time() - cpu:7.3f} s"
        if trace:
            now, peak = tracemalloc.get_traced_memory()
            line += f"   peak +{(peak - before) / 1e6:6.1f} MB   held +{(now - before) / 1e6:6.1f} MB"
        print(line)
        return result

    index = measured("index (empty)", lambda: DuplicateIndex(CONFIG))
    measured("build from empty", lambda: index.update(members, by_id.__getitem__))
    rng = np.random.default_rng(1)
    added = dedupe.Member("new-article", dedupe.precedence_key("2021-06-01", "src/new.html"), "f" * 64)
    by_id[added.article_id] = copy = signatures[rng.integers(n)].copy()
    copy[rng.choice(copy.size, 5, replace=False)] = rng.integers(0, 2**32, 5)
    step = [dedupe.Member(*vars_) for vars_ in ((m.article_id, m.precedence, m.content_sha256) for m in members)]
    step.append(added)  # new Member objects, as a run makes them
    measured("one add", lambda: index.update(step, by_id.__getitem__))
    edited = dedupe.Member(members[7].article_id, members[7].precedence, "e" * 64)
    by_id[edited.article_id] = signatures[(7 + copies) % n]  # now a copy of the next story
    step = [edited if m.article_id == edited.article_id else m for m in step]
    measured("one edit", lambda: index.update(step, by_id.__getitem__))
    step = step[1:]
    measured("one removal", lambda: index.update(step, by_id.__getitem__))
    measured("no change", lambda: index.update(step, by_id.__getitem__))
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/duplicates.parquet"
        measured("save", lambda: index.save(path))
        print(f"index file               {os.path.getsize(path) / 1e6:7.1f} MB")
        loaded = measured("load", lambda: DuplicateIndex.load(path, CONFIG))
        measured("one removal after load", lambda: loaded.update(step[1:], by_id.__getitem__))


if __name__ == "__main__":
    benchmark(*(int(a) for a in sys.argv[1:]))
