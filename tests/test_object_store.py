"""Seeds and data on an object store (s3://), against a real S3 server: moto in server mode on
127.0.0.1 with IAM authentication enforced (tests/s3server.py, fixtures in conftest.py).

Every test runs the real `pipeline` command in a subprocess (or `pipeline.load` in process):
  - a run from s3:// seeds into s3:// data, and one from local seeds into s3:// data, publish
    the version a local run publishes, with byte-identical Parquet parts, under the same keys
    (LATEST, versions/<id>/...); a local data folder gets LATEST too;
  - a rerun with nothing new publishes nothing; one added document makes a new version;
  - bad inputs on the bucket each end in articles or quarantine (s3:// seeds, local data);
  - a run SIGKILLed while publishing leaves LATEST naming a whole version and its lock behind,
    which the next run waits out (--lock-ttl) before it completes;
  - a second run on a data prefix in use fails with --no-wait (exit 4) or waits;
  - wrong credentials and a missing bucket: exit 3, one `error: ` line;
  - a Dask cluster with no local copy of the seeds reads them from the bucket;
  - pipeline.load, DuckDB, and `versions`, `diff`, `explain`, `report` read s3:// data.

Runs that only read a result share the module's first s3:// run; runs that change a data prefix
work on a server-side copy of it.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import REPO, SEEDS, table_bytes
from distributed import Client
from s3server import copy_prefix, list_keys, read_object, upload_folder
from test_operations import BAD_INPUTS, EXPECTED_BAD_INPUTS, PIPELINE, error_lines
from test_operations import assert_latest_is_complete as assert_local_latest_is_complete

import pipeline
from pipeline.cli.options import EXIT_BUSY, EXIT_IO_ERROR
from pipeline.core.config import PipelineConfig
from pipeline.core.schema import TABLES

TIMEOUT_S = 300
VERSION_ID = re.compile(r"[0-9a-f]{16}")
NEW_STORY = BAD_INPUTS / "latin1.txt"  # an article none of the seeds resembles


# --------------------------------------------------------------------------- running the command


def run_pipeline(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*PIPELINE, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S)


def run_args(seeds: str | Path, data: str | Path, *more: str) -> list[str]:
    return ["run", "--seeds", str(seeds), "--data", str(data), *more]


class Watched:
    """A subprocess in its own process group whose output (one stream) is read line by line in a
    thread, so the test can wait for a line while the process keeps writing."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path = REPO, stream: str = "stderr"):
        self.process = subprocess.Popen(argv, cwd=cwd, env=env, text=True, start_new_session=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[str] = []  # the watched stream
        self.other_lines: list[str] = []  # the other one, drained so the process never blocks on it
        self._changed = threading.Condition()
        watched, other = ((self.process.stderr, self.process.stdout) if stream == "stderr"
                          else (self.process.stdout, self.process.stderr))
        self._threads = [threading.Thread(target=self._read, args=(watched, self.lines), daemon=True),
                         threading.Thread(target=self._read, args=(other, self.other_lines), daemon=True)]
        for thread in self._threads:
            thread.start()

    def _read(self, stream, into: list[str]) -> None:
        for line in stream:
            with self._changed:
                into.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, text: str, timeout_s: float = TIMEOUT_S) -> str | None:
        """The first line containing ``text``; None if the process ended (or time ran out) first."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                found = next((line for line in self.lines if text in line), None)
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.process.poll() is not None and not self._threads[0].is_alive()):
                    return None
                self._changed.wait(min(remaining, 1.0))

    def signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def finish(self, timeout_s: float = TIMEOUT_S) -> int:
        """Wait for the process and its output; its exit status."""
        code = self.process.wait(timeout=timeout_s)
        for thread in self._threads:
            thread.join(timeout=30)
        return code

    def stop(self) -> None:
        """Kill the whole group if still running (teardown)."""
        if self.process.poll() is None:
            self.signal_group(signal.SIGCONT)
            self.signal_group(signal.SIGKILL)
            self.process.wait()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


# --------------------------------------------------------------------------- reading a data prefix


def latest_id(fs, data: str) -> str | None:
    """The version LATEST names (checking its format: 16 hex digits and a newline); None if absent."""
    key = f"{data}/LATEST"
    fs.invalidate_cache()
    if not fs.exists(key.removeprefix("s3://")):
        return None
    text = read_object(fs, key).decode("ascii")
    assert re.fullmatch(f"{VERSION_ID.pattern}\n", text), repr(text)
    return text.strip()


def version_ids(fs, data: str) -> set[str]:
    return {key.split("/")[1] for key in list_keys(fs, data) if key.startswith("versions/")}


def manifest(fs, data: str, version_id: str) -> dict:
    return json.loads(read_object(fs, f"{data}/versions/{version_id}/manifest.json"))


def object_part_bytes(fs, data: str, version_id: str) -> dict[str, bytes]:
    """Every Parquet part of a version on the store, by its path inside the version (as table_bytes)."""
    prefix = f"{data}/versions/{version_id}"
    return {key: read_object(fs, f"{prefix}/{key}")
            for key in list_keys(fs, prefix) if re.fullmatch(r"[^/]+/[^/]+\.parquet", key)}


def assert_latest_is_complete(fs, data: str) -> str | None:
    """LATEST is absent or names a whole version whose objects match its manifest; its id."""
    version_id = latest_id(fs, data)
    if version_id is None:
        return None
    info = manifest(fs, data, version_id)
    assert set(info["tables"]) == set(TABLES)
    for name, table in info["tables"].items():
        for part in table["parts"]:
            body = read_object(fs, f"{data}/versions/{version_id}/{part['file']}")
            assert hashlib.sha256(body).hexdigest() == part["sha256"], part["file"]
            assert pq.read_metadata(io.BytesIO(body)).num_rows == part["rows"], part["file"]
        assert sum(part["rows"] for part in table["parts"]) == table["rows"], name
    return version_id


def read_table(fs, data: str, version_id: str, table: str):
    """One table of a version, read straight from the objects (not through pipeline.load)."""
    return pq.read_table(f"{data.removeprefix('s3://')}/versions/{version_id}/{table}", filesystem=fs).to_pandas()


def lock_exists(fs, data: str) -> bool:
    fs.invalidate_cache()
    return fs.exists(f"{data.removeprefix('s3://')}/.lock")


# --------------------------------------------------------------------------- shared runs


@pytest.fixture(scope="module")
def fs(s3_server):
    return s3_server.filesystem()


@pytest.fixture(scope="module")
def local_reference(published_seeds) -> Path:
    """The seeds from a local folder into a local data folder (conftest's flow run, shared with
    other test files of this worker): what every s3:// run must match."""
    return published_seeds


def reference_id(local_reference: Path) -> str:
    return (local_reference / "LATEST").read_text(encoding="ascii").strip()


@pytest.fixture(scope="module")
def first_s3_run(s3_server, fs) -> dict:
    """The seeds uploaded to a bucket, run from s3:// into s3://. Read-only for the tests."""
    bucket = s3_server.new_bucket("first")
    seeds, data = f"s3://{bucket}/seeds", f"s3://{bucket}/data"
    upload_folder(fs, SEEDS, seeds)
    result = run_pipeline(*run_args(seeds, data), env=s3_server.env())
    assert result.returncode == 0, result.stderr[-3000:]
    return {"bucket": bucket, "seeds": seeds, "data": data}


def clone_first_run(s3_server, fs, first_s3_run, hint: str) -> tuple[str, str]:
    """A server-side copy of the first run's bucket (seeds, data, cache) for a test to change."""
    bucket = s3_server.new_bucket(hint)
    copy_prefix(fs, f"s3://{first_s3_run['bucket']}", f"s3://{bucket}")
    return f"s3://{bucket}/seeds", f"s3://{bucket}/data"


def add_story(fs, seeds: str, name: str) -> None:
    fs.put_file(str(NEW_STORY), f"{seeds.removeprefix('s3://')}/{name}")


# --------------------------------------------------------------------------- the server itself


def test_the_test_server_refuses_a_wrong_secret(s3_server, s3_bucket):
    """Otherwise the wrong-credentials test below would prove nothing."""
    s3_server.filesystem().pipe_file(f"{s3_bucket}/probe.txt", b"probe")
    assert s3_server.filesystem().cat_file(f"{s3_bucket}/probe.txt") == b"probe"
    with pytest.raises(PermissionError):
        s3_server.filesystem(secret_key="not-the-secret").cat_file(f"{s3_bucket}/probe.txt")


# --------------------------------------------------------------------------- a. same bytes as a local run


def test_local_run_writes_LATEST_next_to_its_latest_link(local_reference):
    text = (local_reference / "LATEST").read_text(encoding="ascii")
    assert re.fullmatch(f"{VERSION_ID.pattern}\n", text), repr(text)
    assert (local_reference / "latest").resolve().name == text.strip()


def test_s3_run_publishes_the_local_runs_version_byte_for_byte(first_s3_run, local_reference, fs):
    version_id = reference_id(local_reference)
    data = first_s3_run["data"]
    assert latest_id(fs, data) == version_id
    assert assert_latest_is_complete(fs, data) == version_id
    keys = set(list_keys(fs, f"{data}/versions/{version_id}"))
    assert {"manifest.json", "report.html"} <= keys
    assert {key.split("/")[0] for key in keys if key.endswith(".parquet")} == set(TABLES)

    local_parts = table_bytes(local_reference / "versions" / version_id)
    remote_parts = object_part_bytes(fs, data, version_id)
    assert sorted(remote_parts) == sorted(local_parts)
    for part, body in local_parts.items():
        assert remote_parts[part] == body, f"{part} differs from the local run's"
    local_manifest = json.loads((local_reference / "versions" / version_id / "manifest.json").read_text())
    assert manifest(fs, data, version_id)["tables"] == local_manifest["tables"]


def test_local_seeds_into_s3_data_publish_the_local_runs_version(s3_server, fs, s3_bucket, local_reference):
    data = f"s3://{s3_bucket}/data"
    result = run_pipeline(*run_args(SEEDS, data), env=s3_server.env())
    assert result.returncode == 0, result.stderr[-3000:]
    version_id = reference_id(local_reference)
    assert assert_latest_is_complete(fs, data) == version_id
    assert object_part_bytes(fs, data, version_id) == table_bytes(local_reference / "versions" / version_id)


# --------------------------------------------------------------------------- b, c. reruns


def test_rerun_with_nothing_new_publishes_nothing(s3_server, fs, first_s3_run):
    seeds, data = clone_first_run(s3_server, fs, first_s3_run, "noop")
    before_latest, before_versions = latest_id(fs, data), version_ids(fs, data)
    result = run_pipeline(*run_args(seeds, data), env=s3_server.env())
    assert result.returncode == 0, result.stderr[-3000:]
    assert "nothing new" in result.stderr
    assert latest_id(fs, data) == before_latest
    assert version_ids(fs, data) == before_versions


def test_one_added_document_makes_a_new_version(s3_server, fs, first_s3_run):
    seeds, data = clone_first_run(s3_server, fs, first_s3_run, "added")
    old = latest_id(fs, data)
    old_articles = manifest(fs, data, old)["tables"]["articles"]["rows"]
    add_story(fs, seeds, "new story.txt")
    result = run_pipeline(*run_args(seeds, data), env=s3_server.env())
    assert result.returncode == 0, result.stderr[-3000:]

    new = assert_latest_is_complete(fs, data)
    assert new is not None and new != old
    assert version_ids(fs, data) == {old, new}
    assert manifest(fs, data, new)["tables"]["articles"]["rows"] == old_articles + 1
    assert "new story.txt" in set(read_table(fs, data, new, "articles").source_path)

    # The reading commands take s3:// data too.
    env = s3_server.env()
    versions = run_pipeline("versions", "--data", data, env=env)
    assert versions.returncode == 0, versions.stderr[-2000:]
    assert old in versions.stdout and any(new in line and "<- latest" in line for line in versions.stdout.splitlines())
    diff = run_pipeline("diff", old, new, "--data", data, env=env)
    assert diff.returncode == 0, diff.stderr[-2000:]
    assert any(line.startswith("added ") and line.endswith("  new story.txt") for line in diff.stdout.splitlines())
    explain = run_pipeline("explain", "--source", "new story.txt", "--data", data, env=env)
    assert explain.returncode == 0, explain.stderr[-2000:]
    assert explain.stdout.splitlines()[0].endswith("  source new story.txt")
    report = run_pipeline("report", "--data", data, env=env)
    assert report.returncode == 0, report.stderr[-2000:]
    assert new in report.stdout and report.stdout.strip().endswith("report.html")


# --------------------------------------------------------------------------- d. bad inputs


def test_every_bad_input_on_the_bucket_lands_in_articles_or_quarantine(s3_server, fs, s3_bucket, tmp_path):
    """The regular files of tests/data/bad_inputs plus one too large to read (links, pipes and
    sockets cannot exist on an object store; S3 keys with control characters are not tried),
    run from s3:// seeds into a local data folder."""
    local = tmp_path / "bad"
    shutil.copytree(BAD_INPUTS, local, ignore=shutil.ignore_patterns("README.md"))
    with open(local / "huge.txt", "wb") as handle:
        line = b"A line of ordinary English text that repeats to make a very large file.\n"
        handle.write(line * ((PipelineConfig().max_file_bytes + 2**20) // len(line)))
    seeds, data = f"s3://{s3_bucket}/seeds", tmp_path / "data"
    inputs = upload_folder(fs, local, seeds)
    assert inputs == sorted(p.name for p in local.iterdir())

    result = run_pipeline(*run_args(seeds, data), env=s3_server.env())
    assert result.returncode == 0, result.stderr[-3000:]
    assert_local_latest_is_complete(data)
    articles = pipeline.load("articles", data_dir=data).set_index("source_path")
    quarantine = pipeline.load("quarantine", data_dir=data).set_index("source_path")
    assert len(articles) + len(quarantine) == len(inputs)
    assert sorted([*articles.index, *quarantine.index]) == inputs
    outcomes = {name: ("articles", None) if name in articles.index else
                ("quarantine", f"{quarantine.stage[name]}/{quarantine.reason[name]}") for name in inputs}
    expected = {name: EXPECTED_BAD_INPUTS[name] for name in inputs if name in EXPECTED_BAD_INPUTS}
    wrong = {name: (outcomes[name], quarantine.detail.get(name))
             for name in expected if outcomes[name] != expected[name]}
    assert not wrong, f"expected {({name: expected[name] for name in wrong})}, got (outcome, detail) {wrong}"
    assert "Президент Казахстана" in articles.text["cp1251_cyrillic.txt"]
    assert articles.encoding["utf16_bom.txt"] == "utf-16"


# --------------------------------------------------------------------------- e. killed while publishing


def test_sigkill_while_publishing_leaves_latest_whole_and_the_next_run_waits_out_the_lock(
        s3_server, fs, first_s3_run):
    """The killed run's lock (its --lock-ttl is recorded with it) must outlast the next run's
    start (planning, Prefect's server: ~10-20 s) for the wait to show: 45 s, renewed every
    15 s, so it expires 30-45 s after the kill. The next run then takes the stale lock over."""
    seeds, data = clone_first_run(s3_server, fs, first_s3_run, "killed")
    before = latest_id(fs, data)
    add_story(fs, seeds, "new story.txt")
    env = s3_server.env()
    killed = Watched([*PIPELINE, *run_args(seeds, data, "--lock-ttl", "45")], env=env)
    try:
        trigger = killed.wait_for("publish:")
        killed.signal_group(signal.SIGKILL)
    finally:
        killed.stop()
    assert trigger is not None, f"the run never printed 'publish:':\n{killed.text[-3000:]}"

    assert_latest_is_complete(fs, data)  # the old version or the new one, whole either way
    assert lock_exists(fs, data), "a run killed while publishing left no lock object"
    # Something new for the next run, so it must take the lock (not stop at "nothing new").
    add_story(fs, seeds, "another story.txt")
    result = run_pipeline(*run_args(seeds, data, "--lock-ttl", "5"), env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "waiting:" in result.stderr, result.stderr[-3000:]
    after = assert_latest_is_complete(fs, data)
    assert after not in (None, before)
    sources = set(read_table(fs, data, after, "articles").source_path)
    assert {"new story.txt", "another story.txt"} <= sources


# --------------------------------------------------------------------------- f. two runs at once


def test_second_run_on_a_prefix_in_use_fails_with_no_wait_or_waits(s3_server, fs, first_s3_run, tmp_path):
    """The first run is stopped (SIGSTOP) once it holds the lock; a long --lock-ttl keeps its lock
    valid meanwhile. Each run gets its own Prefect home: two run at the same time."""
    seeds, data = clone_first_run(s3_server, fs, first_s3_run, "busy")
    add_story(fs, seeds, "new story.txt")
    args = run_args(seeds, data, "--lock-ttl", "300")

    def env(name: str) -> dict[str, str]:
        return s3_server.env(PREFECT_HOME=str(tmp_path / f"prefect-{name}"))

    holder = Watched([*PIPELINE, *args], env=env("holder"))
    waiter = None
    try:
        assert holder.wait_for("found 6 input files under") is not None, holder.text[-3000:]
        assert lock_exists(fs, data)
        holder.signal_group(signal.SIGSTOP)

        busy = run_pipeline(*args, "--no-wait", env=env("no-wait"))
        assert busy.returncode == EXIT_BUSY, busy.stderr[-3000:]
        (line,) = error_lines(busy.stderr)
        assert "in use" in line and "--no-wait" in line, line

        waiter = Watched([*PIPELINE, *args], env=env("waiter"))
        assert waiter.wait_for("waiting:") is not None, waiter.text[-3000:]
        holder.signal_group(signal.SIGCONT)
        assert holder.finish() == 0, holder.text[-3000:]
        assert waiter.finish() == 0, waiter.text[-3000:]
    finally:
        holder.stop()
        if waiter is not None:
            waiter.stop()
    version_id = assert_latest_is_complete(fs, data)
    assert "new story.txt" in set(read_table(fs, data, version_id, "articles").source_path)


# --------------------------------------------------------------------------- g. credentials, buckets


@pytest.mark.parametrize("case", ["wrong secret", "wrong secret, local seeds", "missing bucket"])
def test_io_problems_exit_3_with_one_error_line(case, s3_server, fs, s3_bucket):
    seeds, data = f"s3://{s3_bucket}/seeds", f"s3://{s3_bucket}/data"
    upload_folder(fs, SEEDS, seeds)
    env = s3_server.env()
    if case.startswith("wrong secret"):
        env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret-" + env["AWS_SECRET_ACCESS_KEY"][:8]
        if case.endswith("local seeds"):
            seeds = str(SEEDS)
    else:
        seeds, data = str(SEEDS), "s3://no-such-bucket-xyz/data"
    result = run_pipeline(*run_args(seeds, data), env=env)
    assert result.returncode == EXIT_IO_ERROR, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-3000:]
    if case == "missing bucket":
        assert "no-such-bucket-xyz" in lines[0]
    assert list_keys(fs, f"s3://{s3_bucket}") == [f"seeds/{p.name}" for p in sorted(SEEDS.iterdir())]


# --------------------------------------------------------------------------- h. Dask


_CLUSTER = textwrap.dedent("""
    import time
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
    print(cluster.scheduler_address, flush=True)
    while True:
        time.sleep(60)
""")


@pytest.fixture
def dask_cluster(s3_server, tmp_path):
    """A Dask cluster in its own process, started in an empty folder: its workers see no seeds."""
    folder = tmp_path / "cluster-cwd"
    folder.mkdir()
    cluster = Watched([sys.executable, "-c", _CLUSTER], env=s3_server.env(), cwd=folder, stream="stdout")
    try:
        address = cluster.wait_for("tcp://", timeout_s=120)
        assert address is not None, "\n".join(cluster.other_lines[-50:])
        yield address.strip()
    finally:
        cluster.signal_group(signal.SIGTERM)
        try:
            cluster.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        cluster.stop()


def test_dask_workers_read_the_seeds_from_the_bucket(s3_server, fs, s3_bucket, local_reference, dask_cluster,
                                                       tmp_path):
    local_copy = tmp_path / "seeds"
    shutil.copytree(SEEDS, local_copy)
    seeds, data = f"s3://{s3_bucket}/seeds", f"s3://{s3_bucket}/data"
    upload_folder(fs, local_copy, seeds)
    shutil.rmtree(local_copy)
    result = run_pipeline(*run_args(seeds, data, "--dask-address", dask_cluster), env=s3_server.env())
    assert result.returncode == 0, result.stderr[-3000:]
    assert assert_latest_is_complete(fs, data) == reference_id(local_reference)
    with Client(dask_cluster, timeout=30) as client:  # the shard tasks really ran on the cluster
        prefixes = client.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
    assert prefixes, "the cluster's scheduler never saw a task"


# --------------------------------------------------------------------------- i. readers


def test_load_and_duckdb_read_the_latest_version_on_the_bucket(s3_env, first_s3_run, local_reference, fs):
    import duckdb
    import s3fs

    data = first_s3_run["data"]
    local = pipeline.load("articles", data_dir=local_reference)
    remote = pipeline.load("articles", data_dir=data)
    assert len(remote) == len(local) == 5
    assert sorted(remote.source_path) == sorted(local.source_path)

    version_id = latest_id(fs, data)
    con = duckdb.connect()
    con.register_filesystem(s3fs.S3FileSystem(skip_instance_cache=True))
    parts = f"{data}/versions/{version_id}/articles/*.parquet"
    [(count,)] = con.sql(f"SELECT count(*) FROM read_parquet('{parts}')").fetchall()
    assert count == len(local)


def test_watch_sees_objects_added_changed_and_removed(s3_env, s3_server, fs, s3_bucket):
    """`pipeline watch --seeds s3://...` looks at one listing: each object's size and ETag."""
    from pipeline.cli.watch import changed_paths, snapshot

    seeds = f"s3://{s3_bucket}/seeds"
    fs.pipe({f"{s3_bucket}/seeds/a.txt": b"first story", f"{s3_bucket}/seeds/sub/b.html": b"<p>second</p>",
             f"{s3_bucket}/seeds/.hidden.txt": b"not an input"})
    before = snapshot(seeds)
    assert sorted(before) == ["a.txt", "sub/b.html"]
    assert snapshot(seeds) == before  # nothing changed: nothing to run
    fs.pipe({f"{s3_bucket}/seeds/a.txt": b"first story, edited", f"{s3_bucket}/seeds/c.txt": b"third"})
    fs.rm(f"{s3_bucket}/seeds/sub/b.html")
    assert changed_paths(before, snapshot(seeds)) == ["a.txt", "c.txt", "sub/b.html"]
