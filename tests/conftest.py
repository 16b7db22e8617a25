from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# `make test` runs the suite in two pytest-xdist workers. Flows run in-process start Prefect's
# temporary server on PREFECT_HOME's database; each worker gets its own home (removed when the
# worker exits) so the two servers never share one SQLite file. Set before anything imports Prefect.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix=f"prefect-home-{os.environ['PYTEST_XDIST_WORKER']}-")
    atexit.register(shutil.rmtree, os.environ["PREFECT_HOME"], ignore_errors=True)

import pytest

from pipeline.core.config import PipelineConfig
from pipeline.core.records import Article
from pipeline.stages.prepare import Prepared, prepare_document

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


def table_bytes(version_dir: Path) -> dict[str, bytes]:
    """Every Parquet part of a version, by its path inside the version: what "byte-identical" compares."""
    return {p.relative_to(version_dir).as_posix(): p.read_bytes() for p in sorted(Path(version_dir).glob("*/*.parquet"))}


def read_seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed_articles() -> dict[str, Article]:
    """Each seed through ingest, extract and normalize with the default config, by prefix ("000")."""
    out = {}
    for path in sorted(SEEDS.glob("*.txt")):
        prepared = prepare_document(SEEDS, path.name, PipelineConfig())
        assert isinstance(prepared, Prepared), prepared
        out[path.name[:3]] = prepared.article
    return out


@pytest.fixture(scope="session")
def published_seeds(tmp_path_factory) -> Path:
    """The seeds through a real flow run (in-process, once per test worker): its DATA folder.
    Tests that read the published tables share it and must not change it."""
    from pipeline.orchestration.flow import corpus_flow

    data = tmp_path_factory.mktemp("published-seeds") / "data"
    summary = corpus_flow(seeds_dir=str(SEEDS), data_dir=str(data))
    assert summary.ok, summary.lines()
    return data


@pytest.fixture(scope="session")
def seed_tables(published_seeds) -> dict:
    """The published seed tables as Arrow tables, by name."""
    import pyarrow.parquet as pq

    from pipeline.core.schema import TABLES

    return {name: pq.read_table(published_seeds / "latest" / name) for name in TABLES}


# --------------------------------------------------------------------------- object store


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """A real S3 endpoint (moto server on 127.0.0.1, IAM auth enforced), one per test worker."""
    from s3server import start_s3_server

    server = start_s3_server(tmp_path_factory.mktemp("s3-server"))
    yield server
    server.stop()


@pytest.fixture
def s3_env(s3_server, monkeypatch) -> dict[str, str]:
    """os.environ pointed at the test server (for in-process calls); the whole environment, for
    subprocesses. AWS settings from elsewhere (profiles, other endpoints) are removed."""
    env = s3_server.env()
    for name in list(os.environ):
        if name not in env:
            monkeypatch.delenv(name)
    for name, value in env.items():
        if os.environ.get(name) != value:
            monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def s3_bucket(s3_server, request) -> str:
    """A new, empty bucket for this test (its name, without s3://)."""
    return s3_server.new_bucket(request.node.name)
