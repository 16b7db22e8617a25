"""The second entity gold set: news pages on other topics, stored as annotations that point
into the human gold texts of ../shared/boilerplate-dev (never a copy of the pages).

Format and conventions: tests/data/entities_gold_news/README.md. Annotators write a marked
copy of a page outside the repository (`[[text|LABEL|group]]` in place, as in the seed gold),
and this module turns it into the stored annotation file, checking that the marks removed
give the page's exact text:

    .venv/bin/python bench/news_gold.py convert dragnet_T109 /tmp/marked/dragnet_T109.txt
    .venv/bin/python bench/news_gold.py check            # every stored file still matches its page
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from entity_gold import EVAL_LABELS, GoldMention, GoldParagraph, parse_line, text_article  # noqa: E402

PAGES_DIR = REPO.parent / "shared" / "boilerplate-dev"
NEWS_GOLD_DIR = REPO / "tests" / "data" / "entities_gold_news"
COLUMNS = ("paragraph", "start", "end", "label", "group", "text")


@dataclass(frozen=True)
class NewsMention:
    paragraph: int  # 0-based index among the page's non-empty lines
    start: int  # offsets in that line
    end: int
    label: str
    group: str
    text: str


def page_path(page: str) -> Path:
    return PAGES_DIR / f"{page}.gold.txt"


def page_paragraphs(page: str) -> list[str]:
    """The page's paragraphs: its non-empty lines, as the gold text holds them."""
    return [line for line in page_path(page).read_text(encoding="utf-8").split("\n") if line.strip()]


def page_sha256(page: str) -> str:
    return hashlib.sha256(page_path(page).read_bytes()).hexdigest()


def convert(page: str, marked: Path) -> list[NewsMention]:
    """Mentions of a marked copy of the page; raises if its text is not the page's."""
    lines = [line for line in marked.read_text(encoding="utf-8").split("\n") if line.strip()]
    paragraphs = page_paragraphs(page)
    if len(lines) != len(paragraphs):
        raise ValueError(f"{marked}: {len(lines)} paragraphs, the page has {len(paragraphs)}")
    mentions = []
    for number, (line, original) in enumerate(zip(lines, paragraphs)):
        parsed = parse_line(line)
        if parsed.text != original:
            raise ValueError(f"{marked} paragraph {number}: text differs from the page:\n"
                             f"  marked: {parsed.text[:200]!r}\n  page:   {original[:200]!r}")
        for m in parsed.mentions:
            if m.label not in EVAL_LABELS:
                raise ValueError(f"{marked} paragraph {number}: label {m.label!r} of {m.text!r} "
                                 f"is not one of {EVAL_LABELS}")
            mentions.append(NewsMention(number, m.start, m.end, m.label, m.group, m.text))
    return mentions


def write(page: str, mentions: list[NewsMention], out_dir: Path = NEWS_GOLD_DIR) -> Path:
    path = out_dir / f"{page}.tsv"
    lines = [f"# page: boilerplate-dev/{page}.gold.txt sha256: {page_sha256(page)}",
             "\t".join(COLUMNS)]
    lines += ["\t".join(str(getattr(m, c)) for c in COLUMNS) for m in mentions]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read(path: Path) -> tuple[str, list[NewsMention]]:
    """(page name, mentions) of one stored annotation file, checked against the page."""
    page = path.stem
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split()
    if header[-1] != page_sha256(page):
        raise ValueError(f"{path}: {page_path(page)} changed since it was annotated")
    if lines[1].split("\t") != list(COLUMNS):
        raise ValueError(f"{path}: second line must be the column names {COLUMNS}")
    paragraphs = page_paragraphs(page)
    mentions = []
    for row in lines[2:]:
        paragraph, start, end, label, group, text = row.split("\t")
        m = NewsMention(int(paragraph), int(start), int(end), label, group, text)
        if paragraphs[m.paragraph][m.start:m.end] != m.text:
            raise ValueError(f"{path}: {m} does not point at its text in the page")
        mentions.append(m)
    return page, mentions


def load_news_gold(out_dir: Path = NEWS_GOLD_DIR) -> dict[str, list[NewsMention]]:
    return dict(read(p) for p in sorted(out_dir.glob("*.tsv")))


def held_out_pages(out_dir: Path = NEWS_GOLD_DIR) -> list[str]:
    lines = (out_dir / "held_out.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def news_gold(part: str, config) -> tuple[list, dict[str, list[GoldParagraph]]]:
    """(articles, gold) of one part of the set: "development" or "held-out".

    Each page's gold body becomes an article whose paragraphs are its lines; the gold is keyed
    by the article's source path, as entity_gold.Gold expects.
    """
    held_out = set(held_out_pages())
    articles, gold = [], {}
    for page, mentions in load_news_gold().items():
        if (page in held_out) != (part == "held-out"):
            continue
        source = page_path(page).name
        article = text_article(source, page_path(page).read_text(encoding="utf-8"), config)
        if article is None:
            continue
        articles.append(article)
        by_paragraph: dict[int, list[GoldMention]] = {}
        for m in mentions:
            by_paragraph.setdefault(m.paragraph, []).append(GoldMention(m.start, m.end, m.text, m.label, m.group))
        gold[source] = [GoldParagraph(n, text, tuple(by_paragraph.get(n, ())))
                        for n, text in enumerate(page_paragraphs(page))]
    return articles, gold


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("convert", help="marked copy of a page -> its annotation file")
    c.add_argument("page", help="page name, e.g. dragnet_T109")
    c.add_argument("marked", type=Path)
    sub.add_parser("check", help="check every annotation file against its page")
    args = parser.parse_args(argv)
    if args.command == "convert":
        mentions = convert(args.page, args.marked)
        path = write(args.page, mentions)
        print(f"{path.relative_to(REPO)}: {len(mentions)} mentions")
    else:
        gold = load_news_gold()
        print(f"{len(gold)} pages, {sum(map(len, gold.values()))} mentions: all point at their page text")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
