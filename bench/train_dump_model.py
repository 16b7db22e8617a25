"""Train the dump classifier's model (pipeline/resources/dump_model_v2.json) on the training split.

Run from the repository root:  .venv/bin/python bench/train_dump_model.py

Data: ../shared/boilerplate-dev (AGPL-3.0), read in place; only pages marked "train" in
bench/extraction_split.tsv are used. Labels: a dump block is story text when at least half
of its tokens align with the human gold (difflib over token sequences); the gold's headline,
byline and date lines count as story text, as in the benchmark.

Model: scikit-learn HistGradientBoostingClassifier (no early stopping, no subsampling, so
a fit is deterministic), twice: pass 1 on the block features, pass 2 on the block features
plus the neighbours' pass-1 scores (out-of-fold on the training pages, so pass 2 learns from
honest pass-1 scores). Each block is weighted by its share of the page's words, so every page
counts the same, as in the macro-averaged metric. The keep threshold maximises out-of-fold
F1 on the training pages among thresholds whose recall is at least `MIN_RECALL`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from extraction_data import folds, line_labels, load_pages, read_split  # noqa: E402

from pipeline.stages.extract_dump import dump_lines, hand_rules  # noqa: E402
from pipeline.stages.extract_features import (  # noqa: E402
    CONTEXT_NAMES, FEATURE_NAMES, block_features, context_features,
)
from pipeline.stages.extract_model import DUMP_MODEL_PATH, dump_model_from_dict  # noqa: E402

PARAMS = dict(max_iter=120, max_depth=4, max_leaf_nodes=12, learning_rate=0.1, min_samples_leaf=40,
              l2_regularization=1.0, early_stopping=False, random_state=0)
MODEL_NAME = "dump_model_v2"  # the logic's version; the extractor's name adds the file's digest
INNER_FOLDS = 4
MIN_RECALL = 0.93  # losing story text is worse than keeping a stray line


ABLATE: tuple[str, ...] = ()  # feature-name substrings zeroed for an ablation run (never for the shipped model)


class PageData:
    def __init__(self, page):
        self.name = page.name
        lines = dump_lines(page.dump)
        keep, _, region = hand_rules(lines)
        self.X = block_features(lines, keep, region)
        for j, name in enumerate(FEATURE_NAMES):
            if any(a in name for a in ABLATE):
                self.X[:, j] = 0.0
        self.label = np.array([s >= 0.5 for s in line_labels([ln.text for ln in lines], page.gold)], float)
        self.words = np.array([ln.words for ln in lines], float)
        weight = self.words + 1.0
        self.weight = weight / weight.sum()


def _fit(X: np.ndarray, y: np.ndarray, w: np.ndarray):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(**PARAMS).fit(X, y, sample_weight=w)


def _stack(pages: list[PageData], extra: dict[str, np.ndarray] | None = None):
    X = np.vstack([p.X if extra is None else np.hstack([p.X, extra[p.name]]) for p in pages])
    y = np.concatenate([p.label for p in pages])
    w = np.concatenate([p.weight for p in pages])
    return X, y, w


def _oof(pages: list[PageData], extra=None) -> dict[str, np.ndarray]:
    """Out-of-fold probabilities per page (inner folds over the given pages)."""
    out: dict[str, np.ndarray] = {}
    names = [p.name for p in pages]
    by_name = {p.name: p for p in pages}
    for fold in folds(names, INNER_FOLDS):
        held = set(fold)
        model = _fit(*_stack([p for p in pages if p.name not in held], extra))
        for name in fold:
            p = by_name[name]
            X = p.X if extra is None else np.hstack([p.X, extra[name]])
            out[name] = model.predict_proba(X)[:, 1] if len(X) else np.zeros(0)
    return out


def _page_prf(words: np.ndarray, label: np.ndarray, keep: np.ndarray) -> tuple[float, float, float]:
    # Token-weighted P/R/F1 of a keep decision against the line labels (close to the BoW metric).
    tp = float((words * keep * label).sum())
    pred, gold = float((words * keep).sum()), float((words * label).sum())
    if not pred or not gold or not tp:
        return 0.0, 0.0, 0.0
    p, r = tp / pred, tp / gold
    return p, r, 2 * p * r / (p + r)


def _choose_threshold(pages: list[PageData], oof2: dict[str, np.ndarray]) -> float:
    best = (-1.0, 0.5)
    for t in np.arange(0.05, 0.95, 0.01):
        scores = np.array([_page_prf(p.words, p.label, oof2[p.name] >= t) for p in pages])
        recall, f1 = scores[:, 1].mean(), scores[:, 2].mean()
        if recall >= MIN_RECALL and f1 > best[0]:
            best = (f1, round(float(t), 2))
    return best[1]


def _export_trees(model, names: list[str]) -> dict:
    trees = []
    depth = 0
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        trees.append({
            "feature": [int(f) for f in nodes["feature_idx"]],
            "threshold": [float(t) for t in nodes["num_threshold"]],
            "left": [int(lo) if not leaf else -1 for lo, leaf in zip(nodes["left"], nodes["is_leaf"])],
            "right": [int(hi) if not leaf else -1 for hi, leaf in zip(nodes["right"], nodes["is_leaf"])],
            "value": [float(v) for v in nodes["value"]],
        })
        depth = max(depth, int(nodes["depth"].max()))
    baseline = float(np.ravel(model._baseline_prediction)[0])
    return {"features": names, "prior": baseline, "rate": 1.0, "depth": depth, "trees": trees}


def train(pages) -> dict:
    """Fit both passes and the threshold on `pages`; returns the model as a JSON-ready dict."""
    data = [PageData(p) for p in pages]
    data = [d for d in data if len(d.X)]
    oof1 = _oof(data)
    ctx = {name: context_features(p) for name, p in oof1.items()}
    oof2 = _oof(data, ctx)
    threshold = _choose_threshold(data, oof2)
    oof = np.array([_page_prf(p.words, p.label, oof2[p.name] >= threshold) for p in data]).mean(axis=0)
    print(f"  out-of-fold on these {len(data)} pages (token-weighted, line labels): "
          f"P {oof[0]:.3f} R {oof[1]:.3f} F1 {oof[2]:.3f} at threshold {threshold}", flush=True)
    first = _fit(*_stack(data))
    second = _fit(*_stack(data, ctx))
    digest = hashlib.sha1("\n".join(sorted(p.name for p in pages)).encode()).hexdigest()[:12]
    return {
        "name": MODEL_NAME,
        "trained_on": f"../shared/boilerplate-dev, {len(pages)} pages (sha1 of sorted names {digest})",
        "params": PARAMS,
        "threshold": threshold,
        "first": _export_trees(first, FEATURE_NAMES),
        "second": _export_trees(second, FEATURE_NAMES + CONTEXT_NAMES),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DUMP_MODEL_PATH)
    ap.add_argument("--ablate", default="", help="comma-separated feature-name parts to zero (an experiment: "
                                                  "prints the out-of-fold figures, writes no model)")
    args = ap.parse_args(argv)
    if args.ablate:
        global ABLATE
        ABLATE = tuple(a for a in args.ablate.split(",") if a)
    split = read_split()
    pages = load_pages(sorted(n for n, part in split.items() if part == "train"))
    t0 = time.perf_counter()
    model = train(pages)
    model["trained_on"] = "training split of " + model["trained_on"] + " (bench/extraction_split.tsv)"
    if ABLATE:
        print(f"ablation of {ABLATE}: no model written")
        return 0
    dump_model_from_dict(model)  # it must load
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    print(f"trained on {len(pages)} pages in {time.perf_counter() - t0:.0f} s; threshold {model['threshold']}; "
          f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
