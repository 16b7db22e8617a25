"""boilerplate-dev access shared by the extraction benchmark, the model trainer and the floors test.

The data stays in ../shared/boilerplate-dev (AGPL-3.0): it is read in place, never copied
into this project. Only page names and our own scores are written into the repository.
"""
from __future__ import annotations

import csv
import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.textutil import WORD_RE

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "boilerplate-dev"
SPLIT_FILE = REPO / "bench" / "extraction_split.tsv"

# What the gold keeps besides the story: it usually opens with the headline and keeps the
# byline and date lines, which our tables hold in title/author/published_date. So "kept"
# text is every block with one of these roles, in page order (like with like).
KEPT_ROLES = ("title", "author", "date", "body")


def kept_text(extracted) -> str:
    """What we compare with the gold: the kept blocks in page order, headed by the article's
    title when the page shows no block with it (an HTML page whose headline is only in its
    metadata): the gold opens with the headline, and our `title` column holds it."""
    blocks = [b.text for b in extracted.blocks if b.role in KEPT_ROLES]
    if extracted.title and not any(b.role == "title" for b in extracted.blocks):
        blocks.insert(0, extracted.title)
    return "\n".join(blocks)


@dataclass(frozen=True)
class Page:
    name: str
    site: str
    news: bool
    dump: str
    gold: str
    html_path: Path

    def html(self) -> str:
        """The HTML decoded as the data README says: UTF-8, else the page's charset (as cp1252)."""
        raw = self.html_path.read_bytes()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1252", errors="replace")


def manifest(data: Path = DATA) -> dict[str, dict[str, str]]:
    with open(data / "manifest.tsv", encoding="utf-8", newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}


def load_pages(names: list[str] | None = None, data: Path = DATA) -> list[Page]:
    if not (data / "manifest.tsv").exists():
        raise FileNotFoundError(f"boilerplate-dev not found at {data} (expected ../shared beside the repository)")
    meta = manifest(data)
    names = sorted(meta) if names is None else names
    return [Page(n, meta[n]["site"], meta[n]["news_outlet"] == "yes",
                 (data / f"{n}.dump.txt").read_text(encoding="utf-8"),
                 (data / f"{n}.gold.txt").read_text(encoding="utf-8"), data / f"{n}.html") for n in names]


def make_split(names: list[str], test_share: float = 1 / 3) -> dict[str, str]:
    """The fixed split: per news/other stratum, pages sorted by SHA-1 of "extraction-split-v2:" + name,
    the first third held out as "test". Recorded in bench/extraction_split.tsv; never re-drawn."""
    meta = manifest()
    split: dict[str, str] = {}
    for stratum in ("yes", "no"):
        group = sorted((n for n in names if meta[n]["news_outlet"] == stratum),
                       key=lambda n: hashlib.sha1(f"extraction-split-v2:{n}".encode()).hexdigest())
        k = round(len(group) * test_share)
        for i, n in enumerate(group):
            split[n] = "test" if i < k else "train"
    return split


def read_split(path: Path = SPLIT_FILE) -> dict[str, str]:
    rows = [ln.split("\t") for ln in path.read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.startswith("#")]
    return {name: part for name, part in rows[1:]}  # first row is the header


def folds(names: list[str], k: int = 5) -> list[list[str]]:
    """k cross-validation folds by page (each site has one page, so this is also by site)."""
    ordered = sorted(names, key=lambda n: hashlib.sha1(f"extraction-cv:{n}".encode()).hexdigest())
    return [ordered[i::k] for i in range(k)]


def line_labels(lines: list[str], gold: str) -> list[float]:
    """Share of each line's tokens that align with the gold text (difflib over token sequences).

    Keeping exactly the lines with share >= 0.5 scores bag-of-words F1 0.998 on the set,
    so these labels are a faithful target for a line classifier.
    """
    toks: list[str] = []
    owner: list[int] = []
    for i, line in enumerate(lines):
        for t in WORD_RE.findall(line.lower()):
            toks.append(t)
            owner.append(i)
    gold_toks = WORD_RE.findall(gold.lower())
    hit = [0] * len(lines)
    total = [0] * len(lines)
    for o in owner:
        total[o] += 1
    matcher = difflib.SequenceMatcher(None, toks, gold_toks, autojunk=False)
    for a, _, size in matcher.get_matching_blocks():
        for k in range(a, a + size):
            hit[owner[k]] += 1
    return [hit[i] / total[i] if total[i] else 0.0 for i in range(len(lines))]


def gold_paragraphs(gold: str) -> list[str]:
    return [p.strip() for p in gold.split("\n\n") if p.strip()]


def whole_paragraphs(kept_blocks: list[str], gold: str) -> tuple[int, int]:
    """(gold paragraphs that come out whole, gold paragraphs): a gold paragraph is whole when one
    kept block has exactly its words (lowercased \\w+ sequence), neither cut nor merged with another."""
    kept = {" ".join(WORD_RE.findall(b.lower())) for b in kept_blocks}
    paras = [" ".join(WORD_RE.findall(p.lower())) for p in gold_paragraphs(gold)]
    paras = [p for p in paras if p]
    return sum(p in kept for p in paras), len(paras)
