from __future__ import annotations

from pathlib import Path

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
