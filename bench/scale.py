"""Throughput and memory at scale: `pipeline run` on N synthetic documents, against bare spaCy NER.

For each N (default 1,000 and 10,000) it writes N documents built from seeds/ and
../shared/boilerplate-dev (bench/synthetic.py), runs `pipeline run` on them as a user would
(a fresh data folder, its own process, the default runner: one worker process per core) and
samples the memory of its whole process tree. It prints documents/s, words/s and peak memory.

The baseline, timed in the same run on the same machine with the same number of processes:
spaCy's NER alone (the tagging model, `en_core_web_sm` without its other components, through
`nlp.pipe`) over the text of the first 1,000 documents, measured two ways:
  - "article text": the articles the pipeline published; words = the articles' words.
  - "input text": each input as it came (a dump's whole text, an HTML page's visible text),
    which is what running NER without the pipeline would mean; words = the inputs' words.
The ratio divides the pipeline's end-to-end words/s (counted the same way) by the baseline's.

A second baseline, "vs stages", is the pipeline's own per-document work without the flow:
extract + normalize, then tag + signals, the shard tasks' functions called in a process pool over
the same 1,000 documents (no Prefect, cache, duplicate detection, tables, validation or
publishing). The pipeline's article words/s divided by theirs is what the orchestration
costs; the split it prints shows how much of the stages is NER itself.

    .venv/bin/python bench/scale.py                   # N = 1,000 and 10,000 (about 20 min on 2 cores)
    .venv/bin/python bench/scale.py --sizes 300       # a quick look
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
from pathlib import Path

import psutil
import pyarrow.compute as pc
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from synthetic import document_pool, write_corpus  # noqa: E402

from pipeline.core.config import PipelineConfig  # noqa: E402
from pipeline.core.records import Article  # noqa: E402
from pipeline.core.stage import SourceRef  # noqa: E402
from pipeline.core.textutil import count_words  # noqa: E402
from pipeline.stages import ingest  # noqa: E402
from pipeline.stages.entities import tag  # noqa: E402
from pipeline.stages.entities.tag import TAG  # noqa: E402
from pipeline.stages.hygiene.signals import SIGNALS  # noqa: E402
from pipeline.stages.prepare import (
    PREPARE,  # noqa: E402
    Prepared,  # noqa: E402
)

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


def run_pipeline(seeds: Path, data: Path, workers: int) -> tuple[float, PeakMemory]:
    command = [sys.executable, "-m", "pipeline", "run", "--seeds", str(seeds), "--data", str(data),
               "--workers", str(workers)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    memory = PeakMemory(process.pid)
    output, _ = process.communicate()
    elapsed = time.perf_counter() - started
    memory.stop()
    if process.returncode != 0:
        sys.exit(f"pipeline run failed ({process.returncode}):\n{output[-3000:]}")
    return elapsed, memory


def input_text(seeds: Path, relative_path: str) -> str:
    """An input as a user without the pipeline would feed it to NER: dumps whole, HTML as visible text."""
    path = seeds / relative_path
    if not relative_path.endswith((".html", ".htm")):
        return path.read_text(encoding="utf-8", errors="replace")
    import lxml.html

    root = lxml.html.fromstring(path.read_bytes())
    for element in root.xpath("//script|//style|//noscript"):
        element.drop_tree()
    return root.text_content()


def bare_ner_seconds(texts: list[str], workers: int) -> float:
    """Wall seconds for spaCy NER alone over texts, with `workers` processes (model load excluded)."""
    import spacy

    nlp = spacy.load(PipelineConfig().spacy_model, exclude=tag._EXCLUDED_PIPES)
    nlp.max_length = max(nlp.max_length, *(len(t) + 1 for t in texts))
    started = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=64, n_process=workers):
        pass
    return time.perf_counter() - started


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes for the pipeline and the baseline alike (default: one per core)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep corpora and outputs here")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    pool = document_pool()
    rows = []
    for n in args.sizes:
        seeds, data = workdir / f"seeds-{n}", workdir / f"data-{n}"
        shutil.rmtree(data, ignore_errors=True)
        if not seeds.exists():
            write_corpus(seeds, pool, 0, n)
        print(f"N={n}: running the pipeline ...", file=sys.stderr, flush=True)
        seconds, memory = run_pipeline(seeds, data, args.workers)
        articles = pq.read_table(data / "latest" / "articles.parquet", columns=["n_words"])
        files = sorted((data / "latest").resolve().glob("*.parquet"))
        tables_mib = sum(p.stat().st_size for p in files) / MIB
        # The tables as the flow holds them (Arrow), the part of its memory that must grow with N.
        tables_memory_mib = sum(pq.read_table(p).nbytes for p in files) / MIB
        input_words = sum(count_words(input_text(seeds, p)) for p in ingest.discover(seeds))
        rows.append((n, seconds, pc.sum(articles["n_words"]).as_py(), input_words, memory, tables_mib,
                     tables_memory_mib))

    # The baseline: the first documents of the largest corpus, as published and as they came.
    n = max(args.sizes)
    seeds, data = workdir / f"seeds-{n}", workdir / f"data-{n}"
    sample = ingest.discover(seeds)[:BASELINE_DOCUMENTS]
    published = pq.read_table(data / "latest" / "articles.parquet", columns=["source_path", "text"]).to_pylist()
    by_path = {row["source_path"]: row["text"] for row in published}
    article_texts = [by_path[p] for p in sample if p in by_path]
    raw_texts = [input_text(seeds, p) for p in sample]
    print("baseline: bare spaCy NER ...", file=sys.stderr, flush=True)
    sample_article_words = sum(map(count_words, article_texts))
    ner_seconds = bare_ner_seconds(article_texts, args.workers)
    ner_article = sample_article_words / ner_seconds
    ner_input = sum(map(count_words, raw_texts)) / bare_ner_seconds(raw_texts, args.workers)
    print("baseline: the stages without the flow ...", file=sys.stderr, flush=True)
    extract_seconds, tag_seconds = bare_stages_seconds(seeds, sample, args.workers)
    stages_article = sample_article_words / (extract_seconds + tag_seconds)

    print(f"\nscale: `pipeline run` end to end (own process, fresh data folder, {args.workers} worker processes; "
          f"machine: {os.cpu_count()} cores; wall time, Prefect start-up included)")
    print(f"bare spaCy NER ({len(sample)} documents, {args.workers} processes): "
          f"{ner_article:,.0f} article words/s, {ner_input:,.0f} input words/s")
    print(f"the stages without the flow (same documents, {args.workers} processes): extract+normalize "
          f"{extract_seconds:.1f} s, tag+signals {tag_seconds:.1f} s (bare NER on their article text "
          f"{ner_seconds:.1f} s): {stages_article:,.0f} article words/s")
    print(f"{'N':>7} {'seconds':>8} {'docs/s':>7} {'article words/s':>16} {'ratio':>6} {'input words/s':>14} "
          f"{'ratio':>6} {'vs stages':>10} {'peak MiB (tree)':>16} {'peak MiB (main)':>16} "
          f"{'tables MiB (disk)':>18} {'tables MiB (memory)':>20}")
    for n, seconds, words, raw_words, memory, tables_mib, tables_memory_mib in rows:
        print(f"{n:>7} {seconds:>8.1f} {n / seconds:>7.2f} {words / seconds:>16,.0f} "
              f"{words / seconds / ner_article:>6.2f} {raw_words / seconds:>14,.0f} "
              f"{raw_words / seconds / ner_input:>6.2f} {words / seconds / stages_article:>10.2f} "
              f"{memory.tree_peak / MIB:>16,.0f} "
              f"{memory.root_peak / MIB:>16,.0f} {tables_mib:>18,.1f} {tables_memory_mib:>20,.1f}")
    if len(rows) > 1:
        (n0, *_, small, _, small_tables), (n1, *_, large, _, large_tables) = rows[0], rows[-1]
        print(f"from N={n0:,} to N={n1:,}: peak memory of the flow process {(large.root_peak - small.root_peak) / MIB:+,.0f} "
              f"MiB, of all processes {(large.tree_peak - small.tree_peak) / MIB:+,.0f} MiB; "
              f"tables in memory {large_tables - small_tables:+,.0f} MiB")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
