"""hygiene: per-document signals and the quality flags built from them (columns, never deletions).

`document_signals` is the per-document part (pure, picklable, cacheable): the MinHash
signature for dedupe, how many words are in English paragraphs, and the traces of
machine paraphrasing (pipeline.stages.hygiene.paraphrase). Everything else is cheap and computed at
corpus level in pipeline.tables.assemble.build_tables: `article_flags` turns signals into the
articles' flag columns with the thresholds of PipelineConfig, and `paragraph_counts` says
how many articles carry each paragraph.

These flags are for researchers to filter on; they never remove anything. The hard limits
that send a document to quarantine instead are the `documents` suite's
(expectations/documents.json).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from importlib import metadata

from pipeline.core.config import PipelineConfig
from pipeline.core.models import model_version
from pipeline.core.records import Article, DocumentSignals
from pipeline.core.stage import DOCUMENT, Stage
from pipeline.core.textutil import count_number_words, count_words
from pipeline.stages.hygiene import dedupe
from pipeline.stages.hygiene.paraphrase import paraphrase_evidence, paraphrase_score

# The paraphrase traces are read with an English tagger and English word lists.
ENGLISH = "en"
EVIDENCE_SEPARATOR = "; "


def document_signals(article: Article, config: PipelineConfig) -> DocumentSignals:
    """The article's hygiene signals; they depend only on its paragraphs and the config."""
    english = [p.text for p in article.paragraphs if p.language == ENGLISH]
    evidence = paraphrase_evidence(english, config.paraphrase_model)
    return DocumentSignals(
        minhash=dedupe.signature(article.text, config),
        n_words=count_words(article.text),
        english_words=evidence.n_words,
        number_words=count_number_words(article.text),
        paraphrase_traces=tuple(t.text for t in evidence.distinct),
    )


def signals_of(articles: list[Article], config: PipelineConfig) -> list[DocumentSignals]:
    return [document_signals(a, config) for a in articles]


SIGNALS = Stage(
    "signals", "hygiene_signals_v2", DOCUMENT, signals_of,
    reads=("shingle_words", "minhash_permutations", "paraphrase_model"),
    # MinHash values depend on datasketch's hashing; paraphrase traces on the tagger model.
    resources=lambda config: {"model": model_version(config.paraphrase_model),
                              "datasketch": metadata.version("datasketch")},
    label="hygiene signals")


def english_share(signals: DocumentSignals) -> float:
    return round(signals.english_words / signals.n_words, 6) if signals.n_words else 0.0


def is_paraphrased(n_traces: int, n_english_words: int, config: PipelineConfig) -> bool:
    """The is_paraphrased rule: enough distinct traces, and enough of them per 100 words."""
    return (n_traces >= config.is_paraphrased_min_traces
            and paraphrase_score(n_traces, n_english_words) >= config.is_paraphrased_min_score)


def article_flags(signals: DocumentSignals, boilerplate_ratio: float, config: PipelineConfig) -> dict:
    """The articles table's hygiene columns for one article (no cross-document information)."""
    n_traces = len(signals.paraphrase_traces)
    share = english_share(signals)
    return {
        "english_share": share,
        "paraphrase_score": paraphrase_score(n_traces, signals.english_words),
        "paraphrase_traces": n_traces,
        "paraphrase_evidence": EVIDENCE_SEPARATOR.join(signals.paraphrase_traces) or None,
        "is_paraphrased": is_paraphrased(n_traces, signals.english_words, config),
        "is_short": signals.n_words < config.is_short_below_words,
        "is_mostly_boilerplate": boilerplate_ratio > config.is_mostly_boilerplate_above_ratio,
        "is_mostly_non_english": share < config.is_mostly_non_english_below_share,
        "is_mostly_numbers": signals.number_words > config.is_mostly_numbers_above_share * signals.n_words,
    }


_KEY_BYTES = 8


def paragraph_keys(paragraph_hashes: Iterable[str]) -> bytes:
    """An article's paragraphs as the repeat counts see them: the first 64 bits of each hash,
    in one bytes object (a run keeps these for every article; a collision among a corpus's
    million paragraphs has a chance of about 1 in 10 million)."""
    return b"".join(bytes.fromhex(h[:2 * _KEY_BYTES]) for h in paragraph_hashes)


def _split(keys: bytes) -> list[bytes]:
    return [keys[i:i + _KEY_BYTES] for i in range(0, len(keys), _KEY_BYTES)]


def paragraph_counts(articles_keys: Iterable[bytes]) -> Counter[bytes]:
    """Paragraph key -> number of articles holding that paragraph, from each article's paragraph_keys."""
    counts: Counter[bytes] = Counter()
    for keys in articles_keys:
        counts.update(set(_split(keys)))
    return counts


def repeat_counts(counts: Counter[bytes], keys: bytes) -> list[int]:
    """The number of articles holding each of an article's paragraphs (paragraph_keys), in order."""
    return [counts[key] for key in _split(keys)]
