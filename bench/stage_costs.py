"""CPU per document of extraction (the prepare stage) against spaCy NER, on the same documents.

In one process, one after the other, it measures the CPU time (time.process_time) of
  - extraction: the prepare stage's work on each document as the flow calls it
    (`prepare_document`: ingest + extract + normalize + the document's boilerplate rows), and
  - NER: spaCy's NER alone (the tagging model without its other components, loaded as
    bench/scale.py loads it) through `nlp.pipe` over the text of the articles extraction published,
and prints both, per document, and their ratio (the target: extraction at most half of NER).
Extraction is broken down by input kind (HTML, page dump, clean text, rejected) and by sub-step
(ingest, extract with trafilatura's own share, normalize, boilerplate rows). Before the clocks
start, the first WARM_UP_DOCUMENTS documents go through both once, so what a process builds once
(the models, trafilatura's and htmldate's tables, dateparser's per-locale patterns: seconds of
CPU) is not charged to the documents; its CPU time is printed apart.

    .venv/bin/python bench/stage_costs.py                  # 1,000 synthetic documents (bench/synthetic.py)
    .venv/bin/python bench/stage_costs.py --documents 300
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import trafilatura  # noqa: E402
from synthetic import document_pool, write_corpus  # noqa: E402

from pipeline.core.config import PipelineConfig  # noqa: E402
from pipeline.stages import ingest, normalize, prepare  # noqa: E402
from pipeline.stages.entities import tag  # noqa: E402

WARM_UP_DOCUMENTS = 20
# Sub-steps timed by wrapping the functions prepare_document calls: (module, attribute, label).
_SUB_STEPS = ((ingest, "ingest", "ingest (read, decode)"), (prepare, "extract", "extract"),
              (trafilatura, "bare_extraction", "  of which trafilatura"),
              (normalize, "normalize", "normalize"), (prepare, "boilerplate_batch", "boilerplate rows"))


@contextmanager
def _timed(module, name: str, seconds: dict[str, float], label: str):
    """Replace module.name by a wrapper that adds its CPU seconds to seconds[label]."""
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        started = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            seconds[label] += time.process_time() - started

    setattr(module, name, wrapper)
    try:
        yield
    finally:
        setattr(module, name, original)


def _kind(outcome) -> str:
    if isinstance(outcome, prepare.Prepared):
        return outcome.article.extracted.input_kind
    return "rejected"


def load_ner():
    """The tagging model with NER only, as bench/scale.py's baseline loads it."""
    import spacy

    return spacy.load(PipelineConfig().spacy_model, exclude=tag._EXCLUDED_PIPES)


def stage_costs(seeds_dir: Path, paths: list[str]) -> dict:
    """CPU seconds of extraction and of bare NER over the same documents, with the breakdowns.

    Keys: documents, articles, extract_s, ner_s, ratio, by_kind {kind: (documents, seconds)},
    by_step {label: seconds}, warm_up_s (loading and warming up both, not counted in the others).
    """
    config = PipelineConfig()
    started = time.process_time()
    nlp = load_ner()
    for path in paths[:WARM_UP_DOCUMENTS]:
        outcome = prepare.prepare_document(seeds_dir, path, config)
        if isinstance(outcome, prepare.Prepared):
            list(nlp.pipe([outcome.article.text]))
    warm_up_s = time.process_time() - started

    by_step: dict[str, float] = defaultdict(float)
    kind_seconds: dict[str, float] = defaultdict(float)
    kind_documents: dict[str, int] = defaultdict(int)
    texts: list[str] = []
    with ExitStack() as stack:
        for module, name, label in _SUB_STEPS:
            stack.enter_context(_timed(module, name, by_step, label))
        for path in paths:
            started = time.process_time()
            outcome = prepare.prepare_document(seeds_dir, path, config)
            spent = time.process_time() - started
            kind = _kind(outcome)
            kind_seconds[kind] += spent
            kind_documents[kind] += 1
            if isinstance(outcome, prepare.Prepared):
                texts.append(outcome.article.text)
    extract_s = sum(kind_seconds.values())

    nlp.max_length = max([nlp.max_length, *(len(t) + 1 for t in texts)])
    started = time.process_time()
    for _ in nlp.pipe(texts, batch_size=64):
        pass
    ner_s = time.process_time() - started
    return {
        "documents": len(paths), "articles": len(texts), "extract_s": extract_s, "ner_s": ner_s,
        "ratio": extract_s / ner_s if ner_s else float("inf"),
        "by_kind": {k: (kind_documents[k], kind_seconds[k]) for k in sorted(kind_seconds)},
        "by_step": dict(by_step), "warm_up_s": warm_up_s,
    }


def report(costs: dict) -> str:
    n = costs["documents"]
    trafilatura_s = costs["by_step"].get(_SUB_STEPS[2][2], 0.0)
    lines = [
        f"documents: {n} ({costs['articles']} articles for NER); CPU time, one process; "
        f"loading and warm-up ({WARM_UP_DOCUMENTS} documents) {costs['warm_up_s']:.1f} s, not counted",
        f"{'':<28}{'CPU s':>9}{'ms/doc':>9}",
        f"{'extraction (prepare)':<28}{costs['extract_s']:>9.2f}{1000 * costs['extract_s'] / n:>9.2f}",
        f"{'bare spaCy NER':<28}{costs['ner_s']:>9.2f}{1000 * costs['ner_s'] / n:>9.2f}",
        f"ratio extraction / NER: {costs['ratio']:.3f} (target <= 0.5); trafilatura alone / NER: "
        f"{trafilatura_s / costs['ner_s']:.3f}, the rest / NER: "
        f"{(costs['extract_s'] - trafilatura_s) / costs['ner_s']:.3f}",
        "extraction by input kind:",
    ]
    for kind, (documents, seconds) in costs["by_kind"].items():
        lines.append(f"  {kind:<26}{seconds:>9.2f}{1000 * seconds / max(documents, 1):>9.2f}  ({documents} documents)")
    lines.append("extraction by sub-step:")
    for _, _, label in _SUB_STEPS:
        seconds = costs["by_step"].get(label, 0.0)
        lines.append(f"  {label:<26}{seconds:>9.2f}{1000 * seconds / n:>9.2f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-stage-costs-") as workdir:
        seeds = Path(workdir)
        write_corpus(seeds, document_pool(), 0, args.documents)
        print(report(stage_costs(seeds, ingest.discover(seeds))))


if __name__ == "__main__":
    main()
