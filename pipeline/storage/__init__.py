"""Storage, kept apart from stage logic: deterministic Parquet and immutable versions."""
