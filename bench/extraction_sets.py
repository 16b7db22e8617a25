"""The extraction data sets, split by site: training pages and held-out pages whose sites are never
used in training, over boilerplate-dev (300 pages) and boilerplate-more (1,043 pages).

- boilerplate-dev keeps its fixed page split (bench/extraction_split.tsv); each of its sites has
  one page there, so a held-out dev page's site is a held-out site.
- boilerplate-more: a page whose site is a boilerplate-dev site follows that site's split; a site
  only in boilerplate-more is held out when the SHA-1 of "extraction-sites-v1:" + site falls in
  the first third. Pages that repeat a dev story follow its page (143 = 100's wire story; T77 and
  T162 share their dev twins' sites anyway); R427 has no site in the manifest, and its gold is a
  fivecentnickel.com article.
- Pages whose gold does not match the page (the README's "Known problems": gold_tokens_in_dump
  below 0.9, or gold that holds comments) are left out of both parts.

The data stays in ../shared (AGPL-3.0); boilerplate-more is unpacked under build/ (ignored by git).
"""
from __future__ import annotations

import csv
import hashlib
import subprocess
from functools import lru_cache
from pathlib import Path

from extraction_data import DATA as DEV
from extraction_data import REPO, Page, load_pages, read_split

MORE = REPO.parent / "shared" / "boilerplate-more"
MORE_PAGES = REPO / "build" / "boilerplate-more" / "pages"
SAME_STORY = {"dragnet_143": "dragnet_100"}
SITE_FIXES = {"dragnet_R427": "fivecentnickel.com"}
BAD_GOLD = {"dragnet_R427", "dragnet_R237", "dragnet_R35", "dragnet_T49", "dragnet_201", "dragnet_R581",
            "dragnet_R281", "dragnet_R531", "dragnet_R534", "dragnet_R709", "dragnet_R513", "dragnet_R515"}


def more_pages_dir() -> Path:
    """boilerplate-more's pages, unpacked under build/ on first use."""
    if not (MORE_PAGES / "dragnet_102.gold.txt").exists():
        MORE_PAGES.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["tar", "-xJf", str(MORE / "pages.tar.xz"), "-C", str(MORE_PAGES.parent)], check=True)
    return MORE_PAGES


def _manifest(path: Path) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}


@lru_cache(maxsize=1)
def page_split() -> dict[str, str]:
    """Page name -> "train" | "test" over both sets (pages with bad gold left out)."""
    dev_split = read_split()
    dev_meta = _manifest(DEV / "manifest.tsv")
    site_split = {dev_meta[n]["site"]: part for n, part in dev_split.items()}
    split = dict(dev_split)
    for name, row in _manifest(MORE / "manifest.tsv").items():
        if name in BAD_GOLD:
            continue
        site = SITE_FIXES.get(name, row["site"])
        if name in SAME_STORY:
            split[name] = dev_split[SAME_STORY[name]]
        elif site in site_split:
            split[name] = site_split[site]
        else:
            digest = hashlib.sha1(f"extraction-sites-v1:{site}".encode()).hexdigest()
            split[name] = "test" if int(digest, 16) % 3 == 0 else "train"
    return split


def load_more_pages(names: list[str]) -> list[Page]:
    meta = _manifest(MORE / "manifest.tsv")
    root = more_pages_dir()
    return [Page(n, SITE_FIXES.get(n, meta[n]["site"]), meta[n]["news_outlet"] == "yes",
                 (root / f"{n}.dump.txt").read_text(encoding="utf-8"),
                 (root / f"{n}.gold.txt").read_text(encoding="utf-8"), root / f"{n}.html") for n in names]


def load_part(part: str, sets: tuple[str, ...] = ("dev", "more")) -> list[Page]:
    """Every page of one part ("train" or "test") from the given sets, sorted by name within each set."""
    split = page_split()
    dev_names = set(read_split())
    pages: list[Page] = []
    if "dev" in sets:
        pages += load_pages(sorted(n for n in dev_names if split[n] == part))
    if "more" in sets:
        pages += load_more_pages(sorted(n for n, p in split.items() if p == part and n not in dev_names))
    return pages


DUMPS = REPO / "build" / "dumps"  # bench/renderers.py writes build/dumps/<renderer>/<page>.dump.txt


def renderers_available() -> tuple[str, ...]:
    """inscriptis (the data sets' own dumps) and every renderer bench/renderers.py has run."""
    made = sorted(d.name for d in DUMPS.glob("*") if d.is_dir() and d.name != "inscriptis") if DUMPS.exists() else []
    return ("inscriptis", *made)


def rendered_dump(renderer: str, page: Page) -> str | None:
    """The page's dump by that renderer, or None when it was not made."""
    if renderer == "inscriptis":
        return page.dump
    path = DUMPS / renderer / f"{page.name}.dump.txt"
    return path.read_text(encoding="utf-8") if path.exists() else None
