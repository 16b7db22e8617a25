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

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DUMP_MODEL_PATH = RESOURCES / "dump_model_v2.json"


@dataclass(frozen=True)
class TreeEnsemble:
    """Additive regression trees on log-odds: logit = prior + rate * sum of the trees' leaf values.

    The trees are stored padded to one node array per tree; a leaf points to itself, so
    `depth` steps walk every row down every tree at once (one numpy operation per level).
    """

    features: tuple[str, ...]
    prior: float
    rate: float
    depth: int
    feature: np.ndarray  # (n_trees, n_nodes) feature index tested at each node
    threshold: np.ndarray  # go left when x <= threshold; +inf at leaves
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray  # leaf value (0 at inner nodes)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Probability of the positive class for each row of X."""
        n_rows, n_trees = X.shape[0], self.feature.shape[0]
        tree = np.arange(n_trees)[None, :]
        rows = np.arange(n_rows)[:, None]
        node = np.zeros((n_rows, n_trees), dtype=np.int64)
        for _ in range(self.depth):
            go_left = X[rows, self.feature[tree, node]] <= self.threshold[tree, node]
            node = np.where(go_left, self.left[tree, node], self.right[tree, node])
        logit = self.prior + self.rate * self.value[tree, node].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-logit))

    @classmethod
    def from_dict(cls, data: dict) -> "TreeEnsemble":
        trees = data["trees"]
        width = max(len(t["value"]) for t in trees)
        shape = (len(trees), width)
        feature = np.zeros(shape, np.int64)
        threshold = np.full(shape, np.inf)
        left = np.tile(np.arange(width), (len(trees), 1))
        right = left.copy()
        value = np.zeros(shape)
        for k, t in enumerate(trees):
            for j, (f, thr, lo, hi, v) in enumerate(zip(t["feature"], t["threshold"], t["left"], t["right"],
                                                         t["value"])):
                if lo >= 0:  # inner node; leaves keep pointing at themselves
                    feature[k, j], threshold[k, j], left[k, j], right[k, j] = f, thr, lo, hi
                else:
                    value[k, j] = v
        return cls(tuple(data["features"]), float(data["prior"]), float(data["rate"]), int(data["depth"]),
                   feature, threshold, left, right, value)


@dataclass(frozen=True)
class DumpModel:
    """Two passes: block features -> p1; block features + neighbours' p1 -> p2; keep if p2 >= threshold."""

    name: str
    first: TreeEnsemble
    second: TreeEnsemble
    threshold: float
    trained_on: str


def dump_model_from_dict(data: dict) -> DumpModel:
    return DumpModel(data["name"], TreeEnsemble.from_dict(data["first"]), TreeEnsemble.from_dict(data["second"]),
                     float(data["threshold"]), data.get("trained_on", ""))


def model_digest(path: Path = DUMP_MODEL_PATH) -> str:
    """Short SHA-256 of the model file: part of the extractor's name, so a retrained model is a new version."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:8]


@lru_cache(maxsize=4)
def load_dump_model(path: str = str(DUMP_MODEL_PATH)) -> DumpModel:
    """The model shipped in pipeline/resources (read once per process)."""
    return dump_model_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
