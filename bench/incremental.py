"""Incremental runs at scale: a full run, a run with nothing new, a run with one document added.

Builds N synthetic documents from seeds/ and ../shared/boilerplate-dev (page dumps and
HTML; each copy gets a unique first paragraph so every file has its own content hash),
then times three runs of the real Prefect flow on one data folder and prints how many
documents each one processed and reused.

    .venv/bin/python bench/incremental.py                  # N = 1,000 and 10,000
    .venv/bin/python bench/incremental.py --sizes 200      # a quick look

The first flow run of a process starts Prefect's temporary server (~10 s); a warm-up run on
seeds/ pays for it before anything is timed.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from synthetic import document_pool, write_corpus  # noqa: E402

from pipeline.orchestration.flow import corpus_flow  # noqa: E402
from pipeline.reporting.summary import RunSummary  # noqa: E402


def timed_run(seeds: Path, data: Path) -> tuple[float, RunSummary]:
    started = time.perf_counter()
    summary = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
    return time.perf_counter() - started, summary


def bench(n: int, workdir: Path, pool) -> list[tuple[str, float, RunSummary]]:
    seeds, data = workdir / f"seeds-{n}", workdir / f"data-{n}"
    write_corpus(seeds, pool, 0, n)
    rows = [("full run", *timed_run(seeds, data))]
    rows.append(("nothing new", *timed_run(seeds, data)))
    write_corpus(seeds, pool, n, n + 1)
    rows.append(("one document added", *timed_run(seeds, data)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workdir", type=Path, default=None, help="keep corpora and outputs here")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-incremental-"))
    pool = document_pool()
    timed_run(REPO / "seeds", workdir / "warm-up")
    results = {n: bench(n, workdir, pool) for n in args.sizes}
    print(f"\nincremental runs ({len(pool)} distinct source pages; {os.cpu_count()} cores; seconds are wall time)")
    print(f"{'N':>7}  {'run':<20} {'seconds':>8}  {'extract+normalize':>22}  {'tag':>22}  {'articles':>8}")
    for n, rows in results.items():
        for name, seconds, summary in rows:
            prepared, tagged = summary.counts["prepare"], summary.counts["tag"]
            share = prepared.processed / max(1, summary.n_inputs)
            print(f"{n:>7}  {name:<20} {seconds:>8.1f}  {str(prepared):>22}  {str(tagged):>22}"
                  f"  {summary.n_articles:>8}   ({share:.2%} of inputs processed)")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process (all runs): {peak_mib:,.0f} MiB")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
