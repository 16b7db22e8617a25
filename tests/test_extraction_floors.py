"""Extraction quality floors on a fixed subset of held-out ../shared/boilerplate-dev pages, pinned in
bench/extraction_floors.json (which only ever rises; see the file's "how_to_raise"): the inscriptis
dumps, the same pages rendered by html2text (a second renderer, made here), their HTML, and their
gold texts as clean texts in three layouts (share of the words kept)."""
from __future__ import annotations

import json
import statistics
import sys
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from clean_layouts import LAYOUTS  # noqa: E402
from extraction_data import kept_text, load_pages, read_split  # noqa: E402
from renderers import normalise, render_html2text  # noqa: E402

from pipeline.core.records import Source  # noqa: E402
from pipeline.stages.extract.dispatch import extract  # noqa: E402
from pipeline.stages.extract.metrics import bow_prf  # noqa: E402

FLOORS_FILE = REPO / "bench" / "extraction_floors.json"
METRICS = ("precision", "recall", "f1")
CLEAN_LAYOUTS = ("as_is", "one_line", "wrapped_70")


def _floors() -> dict:
    return json.loads(FLOORS_FILE.read_text(encoding="utf-8"))


def _subset() -> list[str]:
    floors = _floors()
    split = read_split()
    names = sorted(n for n, part in split.items() if part == floors["subset"]["split"])
    return names[: floors["subset"]["pages"]]


def _src(name: str, text: str, fmt: str) -> Source:
    return Source(path=name, sha256="0" * 64, format=fmt, encoding="utf-8", text=text, n_bytes=len(text))


@pytest.fixture(scope="module")
def scores() -> dict[str, dict[str, float]]:
    warnings.filterwarnings("ignore")  # trafilatura's chatter on odd markup
    pages = load_pages(_subset())  # fails (does not skip) when ../shared/boilerplate-dev is missing
    per_system: dict[str, list] = {"dump": [], "dump_html2text": [], "html": [],
                                   **{f"clean_{layout}": [] for layout in CLEAN_LAYOUTS}}
    for page in pages:
        html = page.html()
        per_system["dump"].append(bow_prf(kept_text(extract(_src(page.name, page.dump, "text"))), page.gold))
        second = normalise(render_html2text(html))
        per_system["dump_html2text"].append(bow_prf(kept_text(extract(_src(page.name, second, "text"))), page.gold))
        per_system["html"].append(bow_prf(kept_text(extract(_src(page.name, html, "html"))), page.gold))
        for layout in CLEAN_LAYOUTS:
            text = LAYOUTS[layout](page.gold)  # words kept = recall of the text's own words
            per_system[f"clean_{layout}"].append(bow_prf(kept_text(extract(_src(page.name, text, "text"))), text))
    result = {system: {m: statistics.fmean(s[i] for s in prf) for i, m in enumerate(METRICS)}
              for system, prf in per_system.items()}
    print(f"\nboilerplate-dev floors subset ({len(pages)} pages): {json.dumps(result)}")  # shown with -s
    return result


def test_floors_only_rise():
    history = _floors()["history"]
    assert history, "the floors file keeps every pinned set of floors, oldest first"
    for older, newer in zip(history, history[1:]):
        assert set(older["floors"]) <= set(newer["floors"]), "a system's floors are never dropped"
        for system, metrics in older["floors"].items():
            for metric, value in metrics.items():
                assert newer["floors"][system][metric] >= value, (
                    f"floor {system}.{metric} was lowered from {value} to {newer['floors'][system][metric]} "
                    f"({newer['date']}): floors only ever rise")


@pytest.mark.parametrize("system", ["dump", "dump_html2text", "html", *(f"clean_{x}" for x in CLEAN_LAYOUTS)])
def test_extraction_meets_pinned_floors(scores, system):
    floors = _floors()["history"][-1]["floors"][system]
    got = scores[system]
    for metric, floor in floors.items():
        assert got[metric] >= floor, f"{system} {metric} {got[metric]:.4f} is below its floor {floor}"


def test_dump_keeps_story_text(scores):
    # The bar for dumps: losing story text is worse than keeping a stray line.
    assert scores["dump"]["recall"] >= 0.90
