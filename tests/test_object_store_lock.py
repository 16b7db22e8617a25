"""The run lock on an object store, against a real S3 server (moto, tests/s3server.py): created
by a conditional write, renewed while held, expiring when its holder dies, taken over by one
run only, and refusing to let a run that lost it publish."""
from __future__ import annotations

import json
import threading
import time

import pytest

from pipeline.storage.lock import LOCK_FILE, DataFolderBusy, ObjectStoreLock, RunLock


@pytest.fixture
def data_url(s3_env, s3_bucket) -> str:
    return f"s3://{s3_bucket}/data"


def _lock_object(s3_server, data_url: str) -> dict | None:
    fs = s3_server.filesystem()
    path = f"{data_url.removeprefix('s3://')}/{LOCK_FILE}"
    return json.loads(fs.cat_file(path)) if fs.exists(path) else None


def test_one_holder_at_a_time_and_released_on_exit(s3_server, data_url):
    first = RunLock(data_url, ttl_s=30)
    assert isinstance(first, ObjectStoreLock)
    with first:
        held = _lock_object(s3_server, data_url)
        assert held["ttl_s"] == 30 and held["expires"] > time.time() + 20
        with pytest.raises(DataFolderBusy, match="is in use by run pid .* not waiting"):
            RunLock(data_url, wait=False).__enter__()
        with pytest.raises(DataFolderBusy, match="gave up after 1 s"):
            RunLock(data_url, timeout_s=1, poll_s=0.2).__enter__()
    assert _lock_object(s3_server, data_url) is None
    with RunLock(data_url, wait=False):  # free again
        pass


def test_the_holder_renews_its_lock_before_it_expires(s3_server, data_url):
    with RunLock(data_url, ttl_s=1.5):
        first_expiry = _lock_object(s3_server, data_url)["expires"]
        time.sleep(2.5)  # past the first expiry: only renewals keep it
        assert _lock_object(s3_server, data_url)["expires"] > first_expiry
        with pytest.raises(DataFolderBusy):
            RunLock(data_url, wait=False).__enter__()


def test_a_dead_holders_lock_expires_and_one_waiting_run_takes_it_over(s3_server, data_url):
    dead = RunLock(data_url, ttl_s=1)
    dead.__enter__()
    dead._stop.set()  # the holder dies: no more renewals, no release
    dead._renewer.join()
    said: list[str] = []
    results: list[str] = []

    def contender(name: str) -> None:
        try:
            lock = RunLock(data_url, timeout_s=3, poll_s=0.1, on_wait=said.append, ttl_s=30).__enter__()
        except DataFolderBusy:
            results.append(f"{name}: busy")
            return
        results.append(f"{name}: took it")
        time.sleep(4)  # keep it while the other gives up
        lock.__exit__(None, None, None)

    contenders = [threading.Thread(target=contender, args=(name,)) for name in ("a", "b")]
    for thread in contenders:
        thread.start()
    for thread in contenders:
        thread.join()
    assert sorted(r.split(": ")[1] for r in results) == ["busy", "took it"], results
    assert any(line.startswith("waiting: ") for line in said)
    # The dead holder, back, has lost it: a renewal fails and it may not publish.
    assert not dead.renew() and dead.lost
    with pytest.raises(DataFolderBusy, match="another run took it over"):
        dead.confirm()
