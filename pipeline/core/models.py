"""The spaCy models stages load, named by version without loading them."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path


def model_version(name: str) -> str:
    """lang_name-version of a spaCy model (an installed package or a folder), from its meta.json:
    the flow process needs it for identities, and loading the model would cost it ~70 MB."""
    folder = Path(name)
    if not folder.is_dir():
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise OSError(f"spaCy model {name!r} is neither an installed package nor a folder")
        folder = Path(spec.submodule_search_locations[0])
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    return f"{meta.get('lang')}_{meta.get('name')}-{meta.get('version')}"
