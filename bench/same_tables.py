"""Same tables before and after a change: run an earlier commit and this working tree on the
same corpora and compare every published table byte for byte (part by part; across the change
to parts, row for row).

    .venv/bin/python bench/same_tables.py --base 3f1f92b               # seeds, bad inputs, 300 dev pages
    .venv/bin/python bench/same_tables.py --base HEAD~1 --corpora seeds

Corpora: `seeds` (seeds/), `bad` (tests/data/bad_inputs, the bad-input corpus) and `dev` (the
300 pages of ../shared/boilerplate-dev, each as its HTML and its text dump, copied to a
temporary folder). The earlier commit runs from a temporary `git worktree` with this
project's .venv; each run gets a fresh data folder and Prefect home. Exits 1 if any file
differs.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.core.schema import TABLES  # noqa: E402
from pipeline.storage.loading import table_files  # noqa: E402

SHARED = REPO.parent / "shared"
CORPORA = ("seeds", "bad", "dev")


def corpus_folder(name: str, workdir: Path) -> Path:
    if name == "seeds":
        return REPO / "seeds"
    if name == "bad":
        return REPO / "tests" / "data" / "bad_inputs"
    folder = workdir / "dev-pages"
    if not folder.exists():
        folder.mkdir(parents=True)
        for page in sorted((SHARED / "boilerplate-dev").glob("*")):
            if page.name.endswith((".html", ".dump.txt")):
                shutil.copy(page, folder / page.name)
    return folder


def run(code_root: Path, seeds: Path, data: Path) -> float:
    """One `pipeline run` with the package found under code_root; wall seconds."""
    env = {**os.environ, "PYTHONPATH": str(code_root), "PREFECT_HOME": str(data.parent / f"{data.name}-prefect")}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--seeds", str(seeds), "--data", str(data)],
                          cwd=code_root, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"pipeline run from {code_root} on {seeds} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def same_table(old: Path, new: Path, table: str) -> bool:
    """Byte for byte, part by part; across a change of layout (one file per table before
    parts), the same rows, schema and column descriptions."""
    old_files, new_files = table_files(old, table), table_files(new, table)
    if [f.relative_to(old) for f in old_files] == [f.relative_to(new) for f in new_files]:
        return all(a.read_bytes() == b.read_bytes() for a, b in zip(old_files, new_files))
    def rows(files: list[Path]) -> pa.Table:
        return pa.concat_tables([pq.read_table(f) for f in files]).combine_chunks()

    return rows(old_files).equals(rows(new_files), check_metadata=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the earlier commit (any git revision)")
    parser.add_argument("--corpora", nargs="+", choices=CORPORA, default=list(CORPORA))
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="same-tables-"))
    old_code = workdir / "base-code"
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(old_code), args.base], cwd=REPO, check=True)
    differing = 0
    try:
        for name in args.corpora:
            seeds = corpus_folder(name, workdir)
            old, new = workdir / f"{name}-base", workdir / f"{name}-new"
            seconds = run(old_code, seeds, old), run(REPO, seeds, new)
            same = [table for table in TABLES if same_table(old / "latest", new / "latest", table)]
            differing += len(TABLES) - len(same)
            print(f"{name}: {len(list(seeds.rglob('*.*')))} inputs; {len(same)} of {len(TABLES)} tables identical "
                  f"(runs {seconds[0]:.0f} s base, {seconds[1]:.0f} s now)")
            for table in TABLES:
                size = sum(f.stat().st_size for f in table_files(old / "latest", table))
                print(f"    {table:<24} {size:>10,} bytes  {'identical' if table in same else 'DIFFERENT'}")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(old_code)], cwd=REPO, check=False)
        shutil.rmtree(workdir, ignore_errors=True)
    print("all tables identical" if not differing else f"{differing} tables differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
