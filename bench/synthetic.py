"""Synthetic corpora for the benchmarks: copies of seeds/, ../shared/boilerplate-dev and
../shared/boilerplate-more pages (each page as its text dump and as HTML).

Each copy gets a unique first paragraph, so every file has its own content hash (the pages
themselves repeat, which the duplicate detection marks, as it would in real news).
"""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def document_pool() -> list[tuple[str, str]]:
    """(suffix, text) of every seed and every boilerplate-dev and boilerplate-more dump and HTML page."""
    from extraction_sets import more_pages_dir

    pool = [(".txt", p.read_text(encoding="utf-8")) for p in sorted((REPO / "seeds").glob("*.txt"))]
    for folder in (SHARED / "boilerplate-dev", more_pages_dir()):
        for page in sorted(folder.glob("*.dump.txt")):
            pool.append((".txt", page.read_text(encoding="utf-8")))
            html = page.with_name(page.name.replace(".dump.txt", ".html"))
            pool.append((".html", html.read_text(encoding="utf-8", errors="replace")))
    return pool


def synthetic_document(pool: list[tuple[str, str]], i: int) -> tuple[str, str]:
    suffix, text = pool[i % len(pool)]
    marker = (f"Bulletin {i}: correspondents filed report number {i} of the series on regional politics, "
              f"covering elections, courts and civil society in detail.")
    if suffix == ".html":
        at = text.lower().find("<body")
        at = text.find(">", at) + 1 if at >= 0 else 0
        return suffix, f"{text[:at]}<p>{marker}</p>{text[at:]}"
    return suffix, f"{marker}\n\n{text}"


def write_corpus(seeds: Path, pool, start: int, stop: int) -> None:
    for i in range(start, stop):
        suffix, text = synthetic_document(pool, i)
        folder = seeds / f"{i // 1000:03d}"  # 1,000 files per folder, as people tend to keep them
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"doc_{i:06d}{suffix}").write_text(text, encoding="utf-8")
