"""Seeds and data on an object store against the same on local folders.

    .venv/bin/python bench/object_store.py [--size 10000] [--full-size 1000] [--repeats 3]

Starts a real S3-compatible server (moto in server mode) on 127.0.0.1 and makes short,
distinct news documents (two paragraphs of the boilerplate-dev gold texts under a numbered
first line). Every figure is `pipeline run` as a user runs it:

1. "Nothing new" at --size inputs: a full run from a local seeds folder into a local data
   folder; the inputs uploaded to s3://bench/seeds and the data folder's published version
   to s3://bench/data (the version a run from the bucket publishes: same id, same bytes, as
   tests/test_object_store.py checks); one untimed run that finds nothing new on the bucket
   (its first plan reads every object once to remember its hash); then --repeats runs on
   each, interleaved. The figure is the ratio of the medians, object store / local (the
   target: at most 2 at 10,000 inputs). The bucket's listing time is printed beside it.
2. A full run at --full-size inputs, local folders and then s3:// seeds into s3:// data.

Short documents keep the full runs to minutes; "nothing new" does not read documents, only
lists them and reads the latest manifest, so their length does not enter its figure.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLD = REPO.parent / "shared" / "boilerplate-dev"


def paragraph_pool() -> list[str]:
    """Paragraphs of 30 words or more from the human gold texts of boilerplate-dev."""
    pool = []
    for path in sorted(GOLD.glob("*.gold.txt")):
        pool += [p.strip() for p in re.split(r"\n\s*\n|\n", path.read_text(encoding="utf-8"))
                 if len(p.split()) >= 30]
    return pool


def write_documents(folder: Path, n: int) -> None:
    pool = paragraph_pool()
    folder.mkdir(parents=True)
    for i in range(n):
        first, second = pool[i % len(pool)], pool[(i * 7 + 3) % len(pool)]
        (folder / f"{i:05d}.txt").write_text(
            f"Bulletin {i}: correspondents filed report number {i} on regional politics.\n\n{first}\n\n{second}\n",
            encoding="utf-8")


def start_s3_server() -> tuple[subprocess.Popen, dict]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline:
                sys.exit("the S3 server did not start")
            time.sleep(0.2)
    env = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": endpoint}
    return server, env


def run(seeds: str, data: str, env: dict, expect: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--seeds", seeds, "--data", data], cwd=REPO,
                          env={**os.environ, **env}, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or expect not in done.stderr + done.stdout:
        sys.exit(f"pipeline run failed ({done.returncode}; expected {expect!r}):\n{(done.stderr + done.stdout)[-3000:]}")
    version = re.search(r"^version:\s+(\w+)", done.stdout, re.M).group(1)
    return elapsed, version


def median_runs(label: str, runs: list[float]) -> float:
    middle = statistics.median(runs)
    print(f"nothing new, {label:<13} {middle:6.2f} s  (median of {len(runs)}: {', '.join(f'{t:.2f}' for t in runs)})")
    return middle


def nothing_new(size: int, repeats: int, work: Path, env: dict, fs) -> None:
    seeds, data = work / "seeds", work / "data"
    write_documents(seeds, size)
    full, version = run(str(seeds), str(data), {}, "new version")
    print(f"{size} inputs; full run, local folders: {full:.1f} s, version {version}", flush=True)
    started = time.perf_counter()
    fs.put(str(seeds), "bench/seeds", recursive=True)
    fs.put(str(data / "versions" / version), f"bench/data/versions/{version}", recursive=True)
    fs.pipe_file("bench/data/LATEST", f"{version}\n".encode())
    print(f"uploaded the inputs and the version in {time.perf_counter() - started:.1f} s", flush=True)

    started = time.perf_counter()
    listed = len(fs.find("bench/seeds"))
    print(f"one listing of s3://bench/seeds ({listed} objects): {time.perf_counter() - started:.2f} s", flush=True)
    first, _ = run("s3://bench/seeds", "s3://bench/data", env, "nothing new")
    print(f"nothing new, object store, first plan on this data folder (reads every object once): {first:.1f} s",
          flush=True)
    local, remote = [], []
    for _ in range(repeats):
        local.append(run(str(seeds), str(data), {}, "nothing new")[0])
        remote.append(run("s3://bench/seeds", "s3://bench/data", env, "nothing new")[0])
    ratio = median_runs("object store:", remote) / median_runs("local:", local)
    print(f"nothing new at {size} inputs, object store / local: {ratio:.2f} (target: at most 2)", flush=True)


def full_runs(size: int, work: Path, env: dict, fs) -> None:
    seeds = work / "full-seeds"
    write_documents(seeds, size)
    fs.put(str(seeds), "bench/full-seeds", recursive=True)
    local, version = run(str(seeds), str(work / "full-data"), {}, "new version")
    remote, same = run("s3://bench/full-seeds", "s3://bench/full-data", env, "new version")
    if same != version:
        sys.exit(f"the object-store run published {same}, the local run {version}")
    print(f"full run at {size} inputs: local {local:.1f} s, object store {remote:.1f} s "
          f"({remote / local:.2f} x local), same version {version}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000, help="inputs for the 'nothing new' figure")
    parser.add_argument("--full-size", type=int, default=1_000, help="inputs for the full runs (0: none)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    server, env = start_s3_server()
    os.environ.update(env)
    try:
        import s3fs

        fs = s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False)
        fs.mkdir("bench")
        with tempfile.TemporaryDirectory(prefix="bench-object-store-") as work:
            nothing_new(args.size, args.repeats, Path(work), env, fs)
            if args.full_size:
                full_runs(args.full_size, Path(work), env, fs)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
