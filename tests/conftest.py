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

from pipeline.config import PipelineConfig
from pipeline.documents import prepare_document
from pipeline.records import Article

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


def read_seed(prefix: str) -> str:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed_articles() -> dict[str, Article]:
    """Each seed through ingest, extract and normalize with the default config, by prefix ("000")."""
    out = {}
    for path in sorted(SEEDS.glob("*.txt")):
        article = prepare_document(SEEDS, path.name, PipelineConfig())
        assert isinstance(article, Article), article
        out[path.name[:3]] = article
    return out
