"""Reproducible news-corpus pipeline: seeds/ to versioned, linked Parquet tables.

Quick use::

    import pipeline
    articles = pipeline.load("articles")          # data/latest/articles.parquet as pandas
"""
from __future__ import annotations

import os

# Offline by default: these must be set before Prefect or Great Expectations are imported.
for _name, _value in {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    # Run logs still reach the Prefect API (and UI); the console shows our own progress lines.
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(_name, _value)

from pipeline.storage.loading import load, table_path  # noqa: E402

__all__ = ["load", "table_path"]
