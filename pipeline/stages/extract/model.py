"""A small gradient-boosted tree ensemble stored as JSON and evaluated with numpy.

Trained by `bench/train_dump_model.py` (scikit-learn, training split only); at run time we
only read the JSON, so the pipeline needs no scikit-learn and the same file always gives
the same scores.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.core.config import RESOURCES_DIR

DUMP_MODEL_PATH = RESOURCES_DIR / "dump_model_v3.json"


@dataclass(frozen=True)
class TreeEnsemble:
    """Additive regression trees on log-odds: logit = prior + rate * sum of the trees' leaf values.

    All trees' nodes sit in flat arrays, renumbered so that a node's right child directly follows
    its left one; a leaf is its own left child with threshold +inf. `depth` steps then walk every
    row down every tree at once: node = left[node] + (x[feature[node]] > threshold[node]).
    """

    features: tuple[str, ...]
    prior: float
    rate: float
    depth: int
    roots: np.ndarray  # (n_trees,) flat index of each tree's root
    feature: np.ndarray  # (n_nodes,) feature index tested at each node
    threshold: np.ndarray  # go left when x <= threshold; +inf at leaves
    left: np.ndarray  # flat index of the left child (the right one is left + 1); a leaf's own index
    value: np.ndarray  # leaf value (0 at inner nodes)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Probability of the positive class for each row of X."""
        n_rows, n_features = X.shape
        flat = np.ascontiguousarray(X, dtype=np.float64).ravel()
        base = (np.arange(n_rows) * n_features)[:, None]
        node = np.broadcast_to(self.roots, (n_rows, len(self.roots)))
        for _ in range(self.depth):
            go_right = flat.take(base + self.feature.take(node)) > self.threshold.take(node)
            node = self.left.take(node) + go_right
        logit = self.prior + self.rate * self.value.take(node).sum(axis=1)
        return 1.0 / (1.0 + np.exp(-logit))

    @classmethod
    def from_dict(cls, data: dict) -> "TreeEnsemble":
        feature: list[int] = []
        threshold: list[float] = []
        left: list[int] = []
        value: list[float] = []
        roots = []
        for t in data["trees"]:
            # Breadth-first renumbering: children of a node get two consecutive flat slots.
            roots.append(len(feature))
            order, slot = [0], {0: len(feature)}
            for j in order:
                lo, hi = t["left"][j], t["right"][j]
                if lo >= 0:
                    slot[lo], slot[hi] = len(feature) + len(order), len(feature) + len(order) + 1
                    order += [lo, hi]
            feature += [0] * len(order)
            threshold += [np.inf] * len(order)
            left += [0] * len(order)
            value += [0.0] * len(order)
            for j in order:
                k = slot[j]
                if t["left"][j] >= 0:
                    feature[k], threshold[k], left[k] = t["feature"][j], t["threshold"][j], slot[t["left"][j]]
                else:
                    left[k], value[k] = k, t["value"][j]
        return cls(tuple(data["features"]), float(data["prior"]), float(data["rate"]), int(data["depth"]),
                   np.array(roots, np.int64), np.array(feature, np.int64), np.array(threshold, np.float64),
                   np.array(left, np.int64), np.array(value, np.float64))


@dataclass(frozen=True)
class DumpModel:
    """Two passes: block features -> p1; block features + neighbours' p1 -> p2; keep if p2 >= threshold.
    `kind` scores a whole text: page dump (1) or clean article (0)."""

    name: str
    first: TreeEnsemble
    second: TreeEnsemble
    threshold: float
    trained_on: str
    kind: TreeEnsemble


def dump_model_from_dict(data: dict) -> DumpModel:
    return DumpModel(data["name"], TreeEnsemble.from_dict(data["first"]), TreeEnsemble.from_dict(data["second"]),
                     float(data["threshold"]), data.get("trained_on", ""), TreeEnsemble.from_dict(data["kind"]))


def model_digest(path: Path = DUMP_MODEL_PATH) -> str:
    """Short SHA-256 of the model file: part of the extractor's name, so a retrained model is a new version."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


@lru_cache(maxsize=4)
def load_dump_model(path: str = str(DUMP_MODEL_PATH)) -> DumpModel:
    """The model shipped in pipeline/resources (read once per process)."""
    return dump_model_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
