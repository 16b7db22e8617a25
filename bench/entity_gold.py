"""The hand-annotated entity gold (tests/data/entities_gold/) and how mentions are scored.

Used by bench/entities.py and tests/test_entities.py. Format: README.md in the gold folder.
"""
from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.core.config import PipelineConfig
    from pipeline.core.records import Article, Mention

REPO = Path(__file__).resolve().parent.parent
GOLD_DIR = REPO / "tests" / "data" / "entities_gold"
EVAL_LABELS = ("PERSON", "ORG", "GPE", "LOC", "NORP")

_MARK_RE = re.compile(r"\[\[([^|\]\[]+)\|([A-Z_]+)(?:\|([^\]]+))?\]\]")


@dataclass(frozen=True)
class GoldMention:
    start: int  # offsets in the paragraph text
    end: int
    text: str
    label: str
    group: str  # the real entity: mentions with one group are one entity, across files


@dataclass(frozen=True)
class GoldParagraph:
    number: int  # 0-based line number among the file's paragraph lines
    text: str
    mentions: tuple[GoldMention, ...]


def parse_line(line: str) -> GoldParagraph:
    """One annotated line -> its plain text and mentions (offsets into the plain text)."""
    plain, mentions, last = [], [], 0
    length = 0
    for match in _MARK_RE.finditer(line):
        before = line[last:match.start()]
        plain.append(before)
        length += len(before)
        text, label, group = match.group(1), match.group(2), match.group(3) or match.group(1)
        mentions.append(GoldMention(length, length + len(text), text, label, group))
        plain.append(text)
        length += len(text)
        last = match.end()
    plain.append(line[last:])
    joined = "".join(plain)
    if "[[" in joined or "]]" in joined:
        raise ValueError(f"unbalanced markup in gold line: {line[:80]!r}")
    return GoldParagraph(-1, joined, tuple(mentions))


def read_gold(path: Path) -> list[GoldParagraph]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    out = []
    for number, line in enumerate(lines):
        paragraph = parse_line(line)
        out.append(GoldParagraph(number, paragraph.text, paragraph.mentions))
    return out


def load_gold(gold_dir: Path = GOLD_DIR) -> dict[str, list[GoldParagraph]]:
    """Seed file name -> its annotated paragraphs (the gold file is named after the seed)."""
    return {p.stem + ".txt": read_gold(p) for p in sorted(gold_dir.glob("*.txt"))}


def align(gold: list[GoldParagraph], paragraphs) -> dict[int, int]:
    """Gold paragraph number -> index of the article paragraph with exactly its text."""
    free: dict[str, list[int]] = {}
    for p in paragraphs:
        free.setdefault(p.text, []).append(p.index)
    out = {}
    for g in gold:
        if free.get(g.text):
            out[g.number] = free[g.text].pop(0)
    return out


@dataclass(frozen=True)
class PRF:
    tp: int
    n_system: int
    n_gold: int

    @property
    def precision(self) -> float:
        return self.tp / self.n_system if self.n_system else 1.0

    @property
    def recall(self) -> float:
        return self.tp / self.n_gold if self.n_gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def mention_prf(gold: set[tuple], system: set[tuple], label: str | None = None) -> PRF:
    """Exact-span, exact-label matching; items are (article, paragraph, start, end, label)."""
    if label is not None:
        gold = {g for g in gold if g[-1] == label}
        system = {s for s in system if s[-1] == label}
    return PRF(len(gold & system), len(system), len(gold))


def pair_prf(gold_group: dict[tuple, str], system_id: dict[tuple, str]) -> PRF:
    """Pairwise clustering over gold mentions the system found (same span, any label).

    A pair is positive when both mentions share the gold group (truth) or the entity_id
    (system). precision = pairs right / pairs the system joined, recall = pairs right /
    pairs the gold joins.
    """
    spans = sorted(set(gold_group) & set(system_id))
    tp = n_system = n_gold = 0
    for a, b in itertools.combinations(spans, 2):
        same_gold = gold_group[a] == gold_group[b]
        same_system = system_id[a] == system_id[b]
        tp += same_gold and same_system
        n_gold += same_gold
        n_system += same_system
    return PRF(tp, n_system, n_gold)


class Gold:
    """The gold mapped onto the extracted articles.

    ``gold``: source path -> annotated paragraphs (the seed gold unless given). Scored are the
    paragraphs the pipeline sends to the English model, or with ``other_languages`` the others
    (where only catalog matches can be found).
    """

    def __init__(self, articles: list[Article], config: PipelineConfig,
                 gold: dict[str, list[GoldParagraph]] | None = None, other_languages: bool = False):
        by_source = {a.extracted.source.path: a for a in articles}
        self.items: set[tuple] = set()  # (article, paragraph, start, end, label)
        self.group: dict[tuple, str] = {}  # (article, paragraph, start, end) -> group
        self.text: dict[tuple, str] = {}
        self.scope: set[tuple] = set()  # (article, paragraph) scored
        self.n_paragraphs = self.n_found = self.n_untagged = 0
        self.missing: list[str] = []
        for source, paragraphs in (load_gold() if gold is None else gold).items():
            article = by_source.get(source)
            mapping = align(paragraphs, article.paragraphs) if article else {}
            self.n_paragraphs += len(paragraphs)
            languages = {p.index: p.language for p in article.paragraphs} if article else {}
            for g in paragraphs:
                if g.number not in mapping:
                    self.missing.append(f"{source} line {g.number}: {g.text[:60]!r}")
                    continue
                self.n_found += 1
                index = mapping[g.number]
                if (languages[index] in config.ner_languages) == other_languages:
                    self.n_untagged += sum(m.label in EVAL_LABELS for m in g.mentions)
                    continue
                self.scope.add((article.article_id, index))
                for m in g.mentions:
                    if m.label in EVAL_LABELS:
                        span = (article.article_id, index, m.start, m.end)
                        self.items.add((*span, m.label))
                        self.group[span] = m.group
                        self.text[span] = m.text

    def system(self, rows: list[tuple]) -> tuple[set[tuple], dict[tuple, str]]:
        items = {r[:5] for r in rows if r[:2] in self.scope and r[4] in EVAL_LABELS}
        ids = {r[:4]: r[5] for r in rows if r[:2] in self.scope and r[4] in EVAL_LABELS}
        return items, ids


def text_article(source: str, text: str, config: "PipelineConfig") -> "Article | None":
    """An article whose paragraphs are the text's non-empty lines, as the pipeline normalizes
    them (gold bodies and hand-written paragraphs, not extracted from a page); None if empty."""
    from pipeline.core.records import Block, Extracted, Source
    from pipeline.stages.normalize import NormalizationError, normalize

    lines = [line for line in text.split("\n") if line.strip()]
    blocks = tuple(Block(i, line, "body") for i, line in enumerate(lines))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    try:
        return normalize(Extracted(Source(source, digest, "text", "utf-8", text, len(text)), "gold", blocks), config)
    except NormalizationError:
        return None


CYRILLIC_GOLD = REPO / "tests" / "data" / "entities_cyrillic" / "paragraphs.txt"


def cyrillic_gold(config: "PipelineConfig") -> tuple[list["Article"], dict[str, list[GoldParagraph]]]:
    """The hand-written Russian and Kazakh paragraphs, one article each, and their gold."""
    articles, gold = [], {}
    for n, paragraph in enumerate(read_gold(CYRILLIC_GOLD)):
        source = f"cyrillic_{n:02d}.txt"
        articles.append(text_article(source, paragraph.text, config))
        gold[source] = [GoldParagraph(0, paragraph.text, paragraph.mentions)]
    return articles, gold


def resolved_mentions(mentions: list["Mention"], config: "PipelineConfig", aliases=None,
                      articles: list["Article"] = ()) -> tuple[list["Mention"], list[dict]]:
    """The mentions as the run's resolve stage resolves them (tag's in their order, then those
    it found in catalog-request paragraphs); and the catalog rows."""
    import pyarrow as pa

    from pipeline.core.records import Mention
    from pipeline.stages.entities import resolve, tag
    from pipeline.stages.entities.catalog_match import CATALOG

    published = {a.article_id: a.published_date for a in articles}
    entities, catalog = resolve.resolve_mentions(pa.Table.from_batches([tag.mention_batch(mentions)]), published,
                                                 config, aliases)
    key = ("article_id", "paragraph_index", "char_start", "char_end", "label", "text")
    rows = entities.to_pylist()
    tagged = [m for m in mentions if m.tagged_by != CATALOG]
    by_key = {tuple(row[k] for k in key): Mention(**row) for row in rows if row["tagged_by"] != CATALOG}
    if not len(by_key) == len(tagged):
        raise ValueError("two mentions share a span, label and text")
    found_in_catalog = [Mention(**row) for row in rows if row["tagged_by"] == CATALOG]
    return [by_key[tuple(getattr(m, k) for k in key)] for m in tagged] + found_in_catalog, catalog.to_pylist()
