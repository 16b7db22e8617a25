"""Plain records passed between stages. No stage imports Prefect or storage code."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Source:
    """One input file, read and decoded by ingest."""

    path: str  # relative to the seeds folder, POSIX separators
    sha256: str
    format: str  # "html" or "text"
    encoding: str
    text: str
    n_bytes: int


# Where a rejected input can stop (Rejected.stage), in pipeline order.
QUARANTINE_STAGES = ("ingest", "extract", "normalize", "validate")


@dataclass(frozen=True)
class Rejected:
    """An input that did not make it; becomes one `quarantine` row."""

    source_path: str
    stage: str  # one of QUARANTINE_STAGES
    reason: str  # short machine-readable code, e.g. "empty_file"
    detail: str  # one human sentence
    source_sha256: str | None = None


@dataclass(frozen=True, slots=True)  # slots: a corpus holds millions of blocks, paragraphs, mentions
class Block:
    """One block of a page (a line of a dump, a paragraph of HTML) with the extractor's verdict.

    `role` is "body" for story text, "title"/"author"/"date"/"site" for metadata lines that
    were recognised and moved into article fields, and "boilerplate" for removed blocks.
    `reason` says why the block was kept or removed (for metadata, what it was recognised as);
    every block has one, so `pipeline explain` can show a whole page.
    """

    index: int
    text: str
    role: str
    reason: str = ""

    @property
    def kept(self) -> bool:
        return self.role != "boilerplate"


@dataclass(frozen=True)
class Extracted:
    """What extraction made of a Source: metadata and every block with its verdict."""

    source: Source
    extractor: str  # name and version, e.g. "dump_blocks_v1"
    blocks: tuple[Block, ...]
    title: str | None = None
    author: str | None = None
    published_date: str | None = None  # ISO 8601 date, YYYY-MM-DD
    site_name: str | None = None
    url: str | None = None
    # What the input was: "html", "page_dump" (a whole page with site chrome) or "clean_text"
    # (already an article), and why extraction decided so.
    input_kind: str = ""
    input_kind_reason: str = ""

    @property
    def body_blocks(self) -> list[Block]:
        return [b for b in self.blocks if b.role == "body"]

    @property
    def removed_blocks(self) -> list[Block]:
        return [b for b in self.blocks if b.role == "boilerplate"]

    @property
    def boilerplate_ratio(self) -> float:
        """Share of the page's characters in removed blocks."""
        total = sum(len(b.text) for b in self.blocks)
        removed = sum(len(b.text) for b in self.removed_blocks)
        return round(removed / total, 6) if total else 0.0


@dataclass(frozen=True, slots=True)
class Paragraph:
    index: int
    text: str
    char_start: int  # offsets into Article.text
    char_end: int
    language: str
    paragraph_hash: str


@dataclass(frozen=True)
class Article:
    """A normalized document: text is the paragraphs joined by blank lines; metadata cleaned."""

    article_id: str
    extracted: Extracted
    text: str
    language: str
    paragraphs: tuple[Paragraph, ...] = field(default_factory=tuple)
    title: str | None = None
    author: str | None = None
    published_date: str | None = None
    site_name: str | None = None
    url: str | None = None
    # From extracted.blocks, kept here because a run drops the blocks once the boilerplate
    # table holds them (they are most of an article's memory).
    boilerplate_ratio: float = 0.0


@dataclass(frozen=True, slots=True)
class Mention:
    """One entity mention; offsets index into the paragraph text.

    tag fills `canonical_name`/`entity_id` from the mention alone; resolve replaces them
    with the corpus-wide entity's and says how in `resolution`.
    """

    article_id: str
    paragraph_index: int
    char_start: int
    char_end: int
    text: str
    label: str
    canonical_name: str
    entity_id: str
    resolution: str = ""  # set by resolve (resolve.RESOLUTIONS)
    tagged_by: str = "model"  # tag.TAGGED_BY


@dataclass(frozen=True)
class DocumentSignals:
    """Per-document hygiene measurements (pipeline.stages.hygiene.signals.document_signals).

    They depend only on the article's paragraphs and the config, never on other documents,
    so they can be cached per document; the corpus-level flags (duplicate clusters,
    repeated paragraphs) are computed from them in pipeline.tables.assemble.build_tables. No
    article_id inside: two files with identical text share one cached value.
    """

    minhash: tuple[int, ...]  # MinHash signature of the text's word shingles
    n_words: int  # \w+ words in the article text
    english_words: int  # \w+ words in paragraphs detected as English
    number_words: int  # \w+ words that are numbers (a results table, a price list)
    paraphrase_traces: tuple[str, ...]  # distinct traces of synonym swapping, e.g. "an formal"
