"""The pipeline at scale: full, incremental and no-op runs of `pipeline run` on N documents.

For each N (default 10,000 and 50,000) it writes N documents built from seeds/,
../shared/boilerplate-dev and ../shared/boilerplate-more (bench/synthetic.py) and runs
`pipeline run` as a user would (its own process, the default runner: one worker process per
core) while sampling the memory of its whole process tree:

  1. a full run into a fresh data folder;
  2. nothing new: the same command again (it stops before Prefect starts);
  3. one document added, 4. that document edited, 5. removed again (which must give back
     the full run's version id).

Prefect's temporary server start-up, paid by every run that starts a flow, is measured in
the same session (a process that runs an empty flow, less one that only imports the
pipeline) and the incremental runs are also shown without it. For the run with one document
added it prints when each progress line arrived, so the slowest steps are visible.

The baselines, on the first 1,000 documents of the largest N with the same number of processes:
  - the stages without the flow (extract + normalize, then tag + signals, the shard tasks'
    functions in a plain process pool: no Prefect, cache, duplicates, tables, validation or
    publishing); the flow's documents/s divided by theirs is what orchestration costs;
  - extraction's CPU per document against spaCy NER's on the same documents
    (bench/stage_costs.py).

    .venv/bin/python bench/scale.py                       # N = 10,000 and 50,000 (about 2 h on 2 cores)
    .venv/bin/python bench/scale.py --sizes 10000         # about 20 min
    .venv/bin/python bench/scale.py --sizes 300           # a quick look
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stage_costs import report as stage_costs_report  # noqa: E402
from stage_costs import stage_costs  # noqa: E402
from synthetic import document_pool, synthetic_document, write_corpus  # noqa: E402

from pipeline.core.config import PipelineConfig  # noqa: E402
from pipeline.core.records import Article  # noqa: E402
from pipeline.core.stage import SourceRef  # noqa: E402
from pipeline.stages import ingest  # noqa: E402
from pipeline.stages.entities.tag import TAG  # noqa: E402
from pipeline.stages.hygiene.signals import SIGNALS  # noqa: E402
from pipeline.stages.prepare import PREPARE, Prepared  # noqa: E402
from pipeline.storage.loading import table_files  # noqa: E402

BASELINE_DOCUMENTS = 1000
MIB = 1024 * 1024


class PeakMemory:
    """Samples the resident memory of a process and all its descendants until stopped."""

    def __init__(self, pid: int, every_s: float = 0.2):
        self.root = psutil.Process(pid)
        self.tree_peak = self.root_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(every_s,), daemon=True)
        self._thread.start()

    def _sample(self, every_s: float) -> None:
        while not self._stop.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
                sizes = []
                for process in processes:
                    try:
                        sizes.append(process.memory_info().rss)
                    except psutil.Error:
                        sizes.append(0)
                self.root_peak = max(self.root_peak, sizes[0])
                self.tree_peak = max(self.tree_peak, sum(sizes))
            except psutil.Error:
                pass
            self._stop.wait(every_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Run:
    seconds: float
    memory: PeakMemory
    lines: list[tuple[float, str]]  # (seconds since start, progress line)

    def slowest_steps(self, top: int = 6) -> list[tuple[float, str]]:
        """The progress lines that came longest after the one before them (what that step cost)."""
        steps, before = [], 0.0
        for at, line in self.lines:
            steps.append((at - before, line))
            before = at
        steps.append((self.seconds - before, "(to the end of the process)"))
        return sorted(steps, reverse=True)[:top]


def run_pipeline(seeds: Path, data: Path, workers: int, expect: str | None = None) -> Run:
    command = [sys.executable, "-m", "pipeline", "run", "--seeds", str(seeds), "--data", str(data),
               "--workers", str(workers)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    memory = PeakMemory(process.pid)
    lines = [(time.perf_counter() - started, line.rstrip()) for line in process.stdout]
    process.wait()
    elapsed = time.perf_counter() - started
    memory.stop()
    output = "\n".join(line for _, line in lines)
    if process.returncode != 0 or (expect is not None and expect not in output):
        sys.exit(f"pipeline run failed ({process.returncode}; expected {expect!r}):\n{output[-3000:]}")
    return Run(elapsed, memory, lines)


def prefect_start_up_seconds() -> float:
    """What starting Prefect's temporary server and one empty flow run adds to a process."""
    imports = "import pipeline.orchestration.flow"
    empty_flow = imports + "; from prefect import flow; flow(name='start-up')(lambda: None)()"

    def wall(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True)
        return time.perf_counter() - started

    return wall(empty_flow) - wall(imports)


# The stages without the flow: the shard tasks' own functions in a plain process pool, as a
# notebook would chain them (no Prefect, cache, validation, tables or publishing).
_BARE_CHUNK = 32  # documents per task, as the flow's shards


def _bare_worker_start(seeds: str, ready) -> None:
    """Load every model a document needs (three documents through all stages), then wait for the others."""
    _bare_tag(_bare_prepare((seeds, ingest.discover(Path(seeds))[:3])))
    ready.wait()


def _bare_prepare(job: tuple[str, list[str]]) -> list[Article]:
    seeds, paths = job
    outcomes = PREPARE.run([SourceRef(seeds, path) for path in paths], PipelineConfig())
    return [outcome.article for outcome in outcomes if isinstance(outcome, Prepared)]


def _bare_tag(articles: list[Article]) -> None:
    config = PipelineConfig()
    TAG.run(articles, config)
    SIGNALS.run(articles, config)


def bare_stages_seconds(seeds: Path, paths: list[str], workers: int) -> tuple[float, float]:
    """Wall seconds of (extract + normalize, tag + signals) over the documents, `workers` processes
    (model loading excluded): the pipeline's per-document work without its orchestration."""
    context = multiprocessing.get_context("fork")
    ready = context.Barrier(workers + 1)
    chunks = [(str(seeds), paths[i:i + _BARE_CHUNK]) for i in range(0, len(paths), _BARE_CHUNK)]
    with context.Pool(workers, initializer=_bare_worker_start, initargs=(str(seeds), ready)) as pool:
        ready.wait()
        started = time.perf_counter()
        prepared = pool.map(_bare_prepare, chunks, chunksize=1)
        extracted = time.perf_counter()
        pool.map(_bare_tag, prepared, chunksize=1)
        tagged = time.perf_counter()
    return extracted - started, tagged - extracted


def version_of(data: Path) -> str:
    return os.readlink(data / "latest").rsplit("/", 1)[-1]


def bench_size(n: int, workdir: Path, pool, workers: int, start_up: float) -> dict:
    seeds, data = workdir / f"seeds-{n}", workdir / f"data-{n}"
    shutil.rmtree(data, ignore_errors=True)
    if not seeds.exists():
        write_corpus(seeds, pool, 0, n)
    say = lambda what: print(f"N={n:,}: {what} ...", file=sys.stderr, flush=True)  # noqa: E731
    say("full run")
    runs = {"full run": run_pipeline(seeds, data, workers)}
    full_version = version_of(data)
    say("nothing new")
    runs["nothing new"] = run_pipeline(seeds, data, workers, expect="nothing new")
    suffix, text = synthetic_document(pool, n)  # the next document of the series
    added = seeds / f"added-{n}{suffix}"
    added.write_text(text, encoding="utf-8")
    say("one document added")
    runs["one added"] = run_pipeline(seeds, data, workers, expect="1 processed")
    added.write_text(text.replace("correspondents filed", "correspondents wrote and filed", 1), encoding="utf-8")
    say("one document edited")
    runs["one edited"] = run_pipeline(seeds, data, workers, expect="1 processed")
    added.unlink()
    say("one document removed")
    runs["one removed"] = run_pipeline(seeds, data, workers)
    files = [f for name in ("articles", "paragraphs", "entities", "entity_catalog", "boilerplate", "quarantine")
             for f in table_files(data / "latest", name)]
    return {
        "n": n, "runs": runs, "seeds": seeds, "same_version_after_remove": version_of(data) == full_version,
        "tables_mib": sum(f.stat().st_size for f in files) / MIB,
        "articles": sum(pq.ParquetFile(f).metadata.num_rows for f in table_files(data / "latest", "articles")),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 50000])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes for the pipeline and the baseline alike (default: one per core)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep corpora and outputs here")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    pool = document_pool()
    print("Prefect start-up ...", file=sys.stderr, flush=True)
    start_up = prefect_start_up_seconds()
    results = [bench_size(n, workdir, pool, args.workers, start_up) for n in args.sizes]

    seeds = results[-1]["seeds"]
    sample = ingest.discover(seeds)[:BASELINE_DOCUMENTS]
    print("baseline: the stages without the flow ...", file=sys.stderr, flush=True)
    extract_seconds, tag_seconds = bare_stages_seconds(seeds, sample, args.workers)
    stages_docs_per_s = len(sample) / (extract_seconds + tag_seconds)
    print("baseline: extraction and NER CPU per document ...", file=sys.stderr, flush=True)
    costs = stage_costs(seeds, sample)

    print(f"\nscale: `pipeline run` as a process ({args.workers} worker processes, {os.cpu_count()} cores; wall time, "
          f"start-up included). Prefect start-up (temporary server + one empty flow run): {start_up:.1f} s")
    print(f"the stages without the flow ({len(sample):,} documents): extract+normalize {extract_seconds:.1f} s, "
          f"tag+signals {tag_seconds:.1f} s: {stages_docs_per_s:.2f} documents/s")
    print(f"{'N':>7} {'run':<12} {'seconds':>8} {'less start-up':>14} {'docs/s':>7} {'vs stages':>10} "
          f"{'peak MiB (tree)':>16} {'peak MiB (main)':>16}")
    for result in results:
        n = result["n"]
        for name, run in result["runs"].items():
            full = name == "full run"
            beyond = "" if name == "nothing new" else f"{run.seconds - start_up:>14.1f}"
            speed = f"{n / run.seconds:>7.2f} {n / run.seconds / stages_docs_per_s:>10.2f}" if full else " " * 18
            print(f"{n:>7} {name:<12} {run.seconds:>8.1f} {beyond:>14} {speed} "
                  f"{run.memory.tree_peak / MIB:>16,.0f} {run.memory.root_peak / MIB:>16,.0f}")
        print(f"{n:>7} tables {result['tables_mib']:,.1f} MiB on disk, {result['articles']:,} articles; removing the "
              f"added document gave back the full run's version: {'yes' if result['same_version_after_remove'] else 'NO'}")
        print(f"{n:>7} one added, slowest steps: " + "; ".join(
            f"{seconds:.1f} s before \"{line[:60]}\"" for seconds, line in result["runs"]["one added"].slowest_steps()))
    if len(results) > 1:
        small, large = results[0]["runs"]["full run"].memory, results[-1]["runs"]["full run"].memory
        print(f"peak memory of all processes from N={results[0]['n']:,} to N={results[-1]['n']:,}: "
              f"{(large.tree_peak / small.tree_peak - 1) * 100:+.1f} %")
    print()
    print(stage_costs_report(costs))
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
