"""Whole-page text dumps of the Dragnet pages made by several renderers.

The chrome classifier was trained on inscriptis dumps only. This module renders the same HTML
pages with other renderers (w3m, lynx, headless Chromium's innerText, html2text, markdownify) so
that it can be trained and measured on all of them.

Dumps are a cache outside git: build/dumps/<renderer>/<NAME>.dump.txt (the data is AGPL-3.0 and
never goes into the repository). boilerplate-more is unpacked once to build/boilerplate-more/.

    .venv/bin/python bench/renderers.py [--renderers w3m,lynx,...] [--sets dev,more] [--limit N]

renders every page that has no cached dump yet (so a run can be resumed). Other bench scripts
call `dump_path(renderer, name)` and `load_dump(renderer, page)`; the latter renders on demand.

Every renderer's output is post-processed like the inscriptis dumps of the data READMEs (see
`normalise`). Input is the HTML decoded as `Page.html()` does (UTF-8, else cp1252 with replace).

Renderers (the exact settings are in the functions below):
- inscriptis: the dumps shipped with the data (inscriptis 2.7.6, strict CSS profile, no links,
  anchors or images); copied, not re-rendered. Rendering a page without one needs inscriptis.
- w3m: `w3m -dump -T text/html -cols 100 -O UTF-8 -I UTF-8`, HTML on stdin.
- lynx: `lynx -dump -stdin -nolist -width=100 -display_charset=utf-8 -assume_charset=utf-8`.
- chromium: headless Debian chromium via Playwright, `document.body.innerText` of the page loaded
  with page JavaScript off (so <noscript> shows, as for the gold annotators) and every network
  request blocked (external CSS/JS/images are never fetched, so only inline CSS applies).
- html2text: html2text with body_width=0, ignore_images, ignore_links, unicode_snob, and `*`
  (not `_`) for emphasis, on the HTML re-serialised by lxml without script/style/comments
  (see `lxml_clean`).
- markdownify: markdownify with ATX headings, links and images stripped to their text, no
  escaping of `_` (it would split \\w+ tokens), on the HTML re-serialised by lxml without
  head/script/style/comments (see `lxml_clean`).

For w3m and lynx the HTML's own charset declarations (<meta charset>, http-equiv Content-Type) are
rewritten to utf-8 before it is fed as UTF-8 bytes: lynx honours the page's declaration over
-assume_charset, which garbles UTF-8 pages that declare ISO-8859-1 (e.g. dragnet_T84).
"""
from __future__ import annotations

import argparse
import atexit
import csv
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Iterable

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make `bench` and `pipeline` importable
    sys.path.insert(0, str(REPO))

from bench.extraction_data import Page, load_pages  # noqa: E402
from pipeline.core.textutil import WORD_RE  # noqa: E402

SHARED = REPO.parent / "shared"
MORE_DATA = SHARED / "boilerplate-more"
MORE_ARCHIVE = MORE_DATA / "pages.tar.xz"
MORE_MANIFEST = MORE_DATA / "manifest.tsv"
BUILD = REPO / "build"
MORE_UNPACKED = BUILD / "boilerplate-more"
DUMPS = BUILD / "dumps"

SUBPROCESS_TIMEOUT_S = 60
CHROMIUM_TIMEOUT_MS = 20_000
CHROMIUM_BINARY = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic",
    # Belt and braces besides the request interception below: no name resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND",
]

W3M_CMD = ["w3m", "-dump", "-T", "text/html", "-cols", "100", "-O", "UTF-8", "-I", "UTF-8"]
LYNX_CMD = ["lynx", "-dump", "-stdin", "-nolist", "-width=100",
            "-display_charset=utf-8", "-assume_charset=utf-8"]


# ---------------------------------------------------------------- post-processing

_BLANK_RUNS = re.compile(r"\n{3,}")


def normalise(text: str) -> str:
    """The data READMEs' dump post-processing: \\r -> \\n, trailing whitespace removed from every
    line, runs of blank lines collapsed to one, leading/trailing blank lines removed, and the text
    ends with one newline (an empty dump stays empty)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _BLANK_RUNS.sub("\n\n", text).strip("\n")
    return text + "\n" if text else ""


def decode_html(raw: bytes) -> str:
    """As `Page.html()`: UTF-8, else cp1252 with replacement characters."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


# ---------------------------------------------------------------- renderers

_META_TAG = re.compile(r"<meta\b[^>]*>", re.I)
_CHARSET = re.compile(r"""(charset\s*=\s*["']?)[\w.:-]+""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_XML_DECL_ENCODING = re.compile(r"""(<\?xml[^>]*?encoding\s*=\s*["'])[\w.:-]+""", re.I)


def declare_utf8(html: str) -> str:
    """The HTML with its charset declarations rewritten to utf-8 (it is fed as UTF-8 bytes)."""
    html = _META_TAG.sub(lambda m: _CHARSET.sub(r"\1utf-8", m.group(0)), html)
    return _XML_DECL_ENCODING.sub(r"\1utf-8", html, count=1)


def _run(cmd: list[str], html: str) -> str:
    res = subprocess.run(cmd, input=declare_utf8(html).encode("utf-8"), capture_output=True,
                         timeout=SUBPROCESS_TIMEOUT_S, check=False,
                         env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": tempfile.gettempdir()})
    if res.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {res.returncode}: {res.stderr.decode('utf-8', 'replace')[:300]}")
    return res.stdout.decode("utf-8", errors="replace")


def render_w3m(html: str) -> str:
    return _run(W3M_CMD, html)


def render_lynx(html: str) -> str:
    return _run(LYNX_CMD, html)


def lxml_clean(html: str, drop: str = "//script|//style|//comment()") -> str:
    """The HTML parsed with lxml (as inscriptis does), the `drop` nodes removed (their tail text
    kept), serialised again. Python's HTMLParser, which html2text and markdownify's
    BeautifulSoup(html.parser) use, loses most of a page on some inputs: a script holding
    `document.write('<script ...></script>')` inside `<!--` (dragnet_R227, R48, R457: 2-4% of
    the gold tokens left), or an unclosed <head> that swallows the body (markdownify gave ""
    for dragnet_117, R756, R892, R893)."""
    import lxml.html

    try:  # lxml refuses a str that carries an XML encoding declaration
        doc = lxml.html.document_fromstring(_XML_DECL.sub("", html, count=1))
    except Exception:  # noqa: BLE001 - empty or unparsable: give the renderer the HTML as it is
        return html
    for el in doc.xpath(drop):
        if el.getparent() is not None:
            el.drop_tree()
    return lxml.html.tostring(doc, encoding="unicode")


def render_html2text(html: str) -> str:
    import html2text

    html = lxml_clean(html)
    h = html2text.HTML2Text()
    h.body_width = 0
    h.ignore_images = True
    h.ignore_links = True
    h.unicode_snob = True  # keep non-ASCII characters instead of ASCII stand-ins
    h.emphasis_mark = "*"  # not "_": `_word_` would be one \w+ token and never match the gold's
    return h.handle(html)


def render_markdownify(html: str) -> str:
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    soup = BeautifulSoup(lxml_clean(html, "//head|//script|//style|//comment()"), "html.parser")
    # convert_soup: the same output as markdownify(str(soup), ...) without parsing twice
    return MarkdownConverter(heading_style="ATX", strip=["a", "img"],
                             escape_underscores=False).convert_soup(soup)


def render_inscriptis(html: str) -> str:
    """What the data READMEs did; only needed for a page without a shipped dump (needs inscriptis)."""
    from inscriptis import get_text
    from inscriptis.css_profiles import CSS_PROFILES
    from inscriptis.model.config import ParserConfig

    config = ParserConfig(css=CSS_PROFILES["strict"].copy(), display_links=False,
                          display_anchors=False, display_images=False)
    return get_text(html, config)


class ChromiumRenderer:
    """One headless Chromium (via Playwright) reused for many pages: page JavaScript off, every
    request aborted, text = document.body.innerText. A page that fails or times out gives ""
    and is listed in `failures` (name or "?", reason)."""

    def __init__(self, timeout_ms: int = CHROMIUM_TIMEOUT_MS):
        self.timeout_ms = timeout_ms
        self.failures: list[tuple[str, str]] = []
        self.blocked_requests = 0
        self._pw = self._ctx = self._page = self._profile = None

    def _start(self) -> None:
        from playwright.sync_api import sync_playwright

        self._profile = tempfile.mkdtemp(prefix="chromium-profile-")  # a fresh --user-data-dir
        self._pw = sync_playwright().start()
        self._ctx = self._pw.chromium.launch_persistent_context(
            self._profile, executable_path=CHROMIUM_BINARY, args=CHROMIUM_ARGS, headless=True,
            java_script_enabled=False, offline=True, service_workers="block")
        self._ctx.route("**/*", self._block)
        self._page = self._ctx.new_page()

    def _block(self, route) -> None:
        self.blocked_requests += 1
        route.abort()

    def close(self) -> None:
        for closer in (lambda: self._ctx.close(), lambda: self._pw.stop()):
            try:
                closer()
            except Exception:  # noqa: BLE001 - best effort at shutdown
                pass
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
        self._pw = self._ctx = self._page = self._profile = None

    def render(self, html: str, name: str = "?") -> str:
        if self._page is None:
            self._start()
        try:
            self._page.set_content(html, timeout=self.timeout_ms, wait_until="domcontentloaded")
            return self._page.evaluate("() => document.body ? document.body.innerText : ''")
        except Exception as e:  # noqa: BLE001 - a hung or broken page must not stop the run
            self.failures.append((name, f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"))
            self.close()  # the page may be wedged: start afresh for the next one
            return ""

    __call__ = render


_chromium: ChromiumRenderer | None = None


def chromium_renderer() -> ChromiumRenderer:
    global _chromium
    if _chromium is None:
        _chromium = ChromiumRenderer()
        atexit.register(_chromium.close)
    return _chromium


def render_chromium(html: str) -> str:
    return chromium_renderer().render(html)


RENDERERS: dict[str, Callable[[str], str]] = {
    "inscriptis": render_inscriptis,
    "w3m": render_w3m,
    "lynx": render_lynx,
    "chromium": render_chromium,
    "html2text": render_html2text,
    "markdownify": render_markdownify,
}
# Rendered in a process pool of 2 (one per CPU core); chromium uses one shared browser instead.
POOLED = ("w3m", "lynx", "html2text", "markdownify")


# ---------------------------------------------------------------- data sets

def more_pages_dir() -> Path:
    """boilerplate-more's pages/ folder, unpacked from the shared archive into build/ on first use."""
    pages = MORE_UNPACKED / "pages"
    done = MORE_UNPACKED / ".unpacked"
    if not done.exists():
        if not MORE_ARCHIVE.exists():
            raise FileNotFoundError(f"boilerplate-more not found at {MORE_ARCHIVE}")
        MORE_UNPACKED.mkdir(parents=True, exist_ok=True)
        with tarfile.open(MORE_ARCHIVE, "r:xz") as tar:
            tar.extractall(MORE_UNPACKED, filter="data")
        done.write_text("unpacked from ../shared/boilerplate-more/pages.tar.xz\n", encoding="utf-8")
    return pages


def more_manifest() -> dict[str, dict[str, str]]:
    with open(MORE_MANIFEST, encoding="utf-8", newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f, delimiter="\t")}


def load_more_pages(names: list[str] | None = None) -> list[Page]:
    """boilerplate-more's pages as `Page`s (news is False where the manifest leaves it empty)."""
    meta = more_manifest()
    data = more_pages_dir()
    names = sorted(meta) if names is None else names
    return [Page(n, meta[n]["site"], meta[n]["news_outlet"] == "yes",
                 (data / f"{n}.dump.txt").read_text(encoding="utf-8"),
                 (data / f"{n}.gold.txt").read_text(encoding="utf-8"), data / f"{n}.html") for n in names]


SETS: dict[str, Callable[[], list[Page]]] = {"dev": load_pages, "more": load_more_pages}


def load_set(name: str) -> list[Page]:
    return SETS[name]()


# ---------------------------------------------------------------- cache

def dump_path(renderer: str, name: str) -> Path:
    """Where the cached dump of page `name` by `renderer` lives (it may not exist yet)."""
    if renderer not in RENDERERS:
        raise KeyError(f"unknown renderer {renderer!r}; known: {', '.join(RENDERERS)}")
    return DUMPS / renderer / f"{name}.dump.txt"


def failures_path(renderer: str) -> Path:
    return DUMPS / renderer / "failures.tsv"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _record_failure(renderer: str, name: str, reason: str) -> None:
    path = failures_path(renderer)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{name}\t{reason.replace(chr(9), ' ').replace(chr(10), ' ')}\n")


def render_page(renderer: str, page: Page) -> str:
    """Render one page now (no cache), normalised. inscriptis gives the shipped dump."""
    if renderer == "inscriptis":
        return normalise(page.dump)
    if renderer == "chromium":
        return normalise(chromium_renderer().render(page.html(), page.name))
    return normalise(RENDERERS[renderer](page.html()))


def load_dump(renderer: str, page: Page) -> str:
    """The page's dump by `renderer`: from the cache, else rendered now and cached."""
    path = dump_path(renderer, page.name)
    if path.exists():
        return path.read_text(encoding="utf-8")
    text = render_page(renderer, page)
    _write(path, text)
    return text


def _pooled_job(args: tuple[str, str, str]) -> tuple[str, str, str | None, float]:
    renderer, name, html_path = args
    t0 = time.perf_counter()
    try:
        text = normalise(RENDERERS[renderer](decode_html(Path(html_path).read_bytes())))
        err = None
    except Exception as e:  # noqa: BLE001 - record and go on
        text, err = "", f"{type(e).__name__}: {str(e)[:200]}"
    return name, text, err, time.perf_counter() - t0


def render_all(renderer: str, pages: list[Page], jobs: int = 2, force: bool = False,
               progress_every: int = 50) -> dict[str, float]:
    """Render every page without a cached dump; returns {"done", "failed", "seconds", "per_page"}."""
    todo = [p for p in pages if force or not dump_path(renderer, p.name).exists()]
    print(f"[{renderer}] {len(pages)} pages, {len(pages) - len(todo)} cached, {len(todo)} to render", flush=True)
    t0 = time.perf_counter()
    failed = 0

    def report(i: int) -> None:
        if i % progress_every == 0 or i == len(todo):
            dt = time.perf_counter() - t0
            print(f"[{renderer}] {i}/{len(todo)}  {i / dt if dt else 0:.2f} pages/s  failed {failed}", flush=True)

    if renderer == "inscriptis":
        for i, p in enumerate(todo, 1):
            _write(dump_path(renderer, p.name), normalise(p.dump))
            report(i)
    elif renderer == "chromium":
        chrome = chromium_renderer()
        for i, p in enumerate(todo, 1):
            n_fail = len(chrome.failures)
            text = normalise(chrome.render(p.html(), p.name))
            if len(chrome.failures) > n_fail:
                failed += 1
                _record_failure(renderer, p.name, chrome.failures[-1][1])
            _write(dump_path(renderer, p.name), text)
            report(i)
        print(f"[{renderer}] blocked requests: {chrome.blocked_requests}", flush=True)
    else:
        jobs_in = [(renderer, p.name, str(p.html_path)) for p in todo]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for i, (name, text, err, _) in enumerate(pool.map(_pooled_job, jobs_in, chunksize=4), 1):
                if err:
                    failed += 1
                    _record_failure(renderer, name, err)
                _write(dump_path(renderer, name), text)
                report(i)
    dt = time.perf_counter() - t0
    return {"done": len(todo), "failed": failed, "seconds": dt, "per_page": dt / len(todo) if todo else 0.0}


# ---------------------------------------------------------------- gold coverage

def gold_recall(dump: str, gold: str) -> float:
    """Share of gold tokens (lower-cased \\w+, multiset) present in the dump; bow_prf's recall."""
    d, g = Counter(WORD_RE.findall(dump.lower())), Counter(WORD_RE.findall(gold.lower()))
    n = sum(g.values())
    return sum((d & g).values()) / n if n else 0.0


def coverage(renderer: str, pages: Iterable[Page]) -> dict[str, float]:
    """Mean gold-token recall of the cached dumps, and how many are empty or missing."""
    recalls, empty, missing = [], 0, 0
    for p in pages:
        path = dump_path(renderer, p.name)
        if not path.exists():
            missing += 1
            continue
        text = path.read_text(encoding="utf-8")
        empty += not text.strip()
        recalls.append(gold_recall(text, p.gold))
    return {"pages": len(recalls), "mean_recall": sum(recalls) / len(recalls) if recalls else 0.0,
            "empty": empty, "missing": missing,
            "below_0.9": sum(r < 0.9 for r in recalls)}


# ---------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--renderers", default=",".join(RENDERERS),
                    help=f"comma-separated, from: {', '.join(RENDERERS)} (default: all)")
    ap.add_argument("--sets", default="dev,more", help="comma-separated, from: dev, more")
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages of each set")
    ap.add_argument("--jobs", type=int, default=2, help="processes for the subprocess/Python renderers")
    ap.add_argument("--force", action="store_true", help="re-render pages that are already cached")
    ap.add_argument("--stats", action="store_true", help="print gold-token recall per renderer and set")
    args = ap.parse_args(argv)

    renderers = [r for r in args.renderers.split(",") if r]
    sets = [s for s in args.sets.split(",") if s]
    for r in renderers:
        if r not in RENDERERS:
            ap.error(f"unknown renderer {r!r}")
    for s in sets:
        if s not in SETS:
            ap.error(f"unknown set {s!r}")
    pages_by_set = {s: load_set(s)[: args.limit] for s in sets}
    pages = [p for s in sets for p in pages_by_set[s]]
    for r in renderers:
        res = render_all(r, pages, jobs=args.jobs, force=args.force)
        print(f"[{r}] rendered {res['done']} in {res['seconds']:.1f} s "
              f"({res['per_page']:.3f} s/page), failed {res['failed']}", flush=True)
    if args.stats:
        print("renderer\tset\tpages\tmean_gold_recall\tbelow_0.9\tempty\tmissing")
        for r in renderers:
            for s in sets:
                c = coverage(r, pages_by_set[s])
                print(f"{r}\t{s}\t{c['pages']}\t{c['mean_recall']:.4f}\t{c['below_0.9']}\t{c['empty']}\t{c['missing']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
