"""paraphrase: tagging only the windows around candidate words gives the full pass's traces.

The full pass (the tagger over every whole text) is run here as the reference, on real
text: the seeds' English paragraphs, their spun copies, and a fixed sample of
../shared/boilerplate-dev pages with spun copies of them.
"""
from __future__ import annotations

import random
import sys

import numpy as np
import pytest
from conftest import REPO, SEEDS, SHARED

from pipeline.core.config import PipelineConfig
from pipeline.stages.hygiene.paraphrase import (
    _candidate,
    _candidate_windows,
    _windows,
    article_agreement_traces,
    load_tagger,
    misplaced_verb_traces,
    traces_per_text,
)

sys.path.insert(0, str(REPO / "bench"))
import make_spun_set  # noqa: E402

MODEL = PipelineConfig().paraphrase_model
N_PAGES = 40

EDGE_CASES = [
    "",
    "   \n\n  ",
    "demonstrate of power was what the government wanted.",  # a candidate as the first token
    "In the end the government said the crackdown was a further demonstrate",  # ... and as the last
    # overlapping windows
    "Officials said on Monday that a demonstrate of the demonstrate to demonstrate the assist was "
    "planned for the weekend in the town centre.",
    # candidates 11 tokens apart (windows that touch) and far apart (windows joined across a gap)
    "We saw a demonstrate , one two three four five six seven eight the demonstrate of it "
    "and then a b c d e f g h i j k l m n o p q r s a demonstrate here .",
    # tokenizer-set norms ("n't" -> "not", "gon" -> "going") and whitespace tokens beside candidates
    "I ain't gonna demonstrate  it,\n\n  they don't   assist\tthe demonstrate we'll see.",
]


@pytest.fixture(scope="module")
def tagger():
    return load_tagger(MODEL)


def _full_pass(texts: list[str], nlp, lexicon) -> tuple[list, list[tuple]]:
    """The reference: every text tagged whole, as traces_per_text did before windows."""
    docs = list(nlp.pipe(texts, batch_size=64))
    traces = [tuple(article_agreement_traces(t) + misplaced_verb_traces(d, lexicon)) for t, d in zip(texts, docs)]
    return docs, traces


@pytest.fixture(scope="module")
def texts() -> list[str]:
    documents = make_spun_set.labelled_documents(SEEDS, data_dir=None, rates=(0.3, 1.0))
    texts = [p for doc in documents for p in doc.paragraphs]
    pages = sorted((SHARED / "boilerplate-dev").glob("*.dump.txt"))
    assert len(pages) >= N_PAGES, "../shared/boilerplate-dev is missing"
    for page in random.Random(0).sample(pages, N_PAGES):
        paragraphs = tuple(p for p in page.read_text(encoding="utf-8").split("\n\n") if p.strip())
        texts += paragraphs
        texts += make_spun_set.spin_document(page.name, paragraphs, 1.0)[0]
    return texts + EDGE_CASES


def test_windows_are_clipped_to_the_text_and_merged():
    assert _windows([0], 20) == [(0, 6)]
    assert _windows([19], 20) == [(14, 20)]
    assert _windows([3, 9], 30) == [(0, 15)]  # overlapping
    assert _windows([10, 21], 40) == [(5, 27)]  # touching
    assert _windows([10, 22], 40) == [(5, 16), (17, 28)]


def test_windowed_traces_equal_the_full_pass(tagger, texts):
    nlp, lexicon = tagger
    docs, expected = _full_pass(texts, nlp, lexicon)
    assert traces_per_text(texts, MODEL) == expected
    assert traces_per_text(texts[-len(EDGE_CASES):], MODEL, batch_size=2) == expected[-len(EDGE_CASES):]
    found = [t for per_text in expected for t in per_text if t.kind == "misplaced_verb"]
    assert len(found) >= 200, len(found)  # enough traces for the comparison to mean something

    # Stronger than the traces: each candidate's tok2vec row, tag, part of speech, morphology
    # and lemma are the full pass's, bit for bit.
    windowed = [(n, w) for n, d in enumerate(nlp.tokenizer.pipe(texts)) if (w := _candidate_windows(d, lexicon))]
    n_candidates = n_tagged = 0
    for (n, (_, positions)), sub in zip(windowed, nlp.pipe(sub for _, (sub, _) in windowed)):
        full = docs[n]
        candidates = [t.i for t in full if _candidate(t.text, lexicon)]
        assert len(candidates) == len(positions)
        for i, p in zip(candidates, positions):
            a, b = full[i], sub[p]
            assert (a.text, a.tag_, a.pos_, str(a.morph), a.lemma_) == (b.text, b.tag_, b.pos_, str(b.morph), b.lemma_)
            assert np.array_equal(full.tensor[i], sub.tensor[p]), (texts[n], a.text)
        n_candidates += len(candidates)
        n_tagged += len(sub)
    assert n_candidates >= 1000
    assert n_tagged < 0.3 * sum(len(d) for d in docs)  # the point of the windows
