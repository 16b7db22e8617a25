"""Extraction benchmark on boilerplate-dev (300 English pages: HTML, whole-page text dump, human gold).

Run from the repository root:

    .venv/bin/python bench/extraction.py            # everything below, about 1-2 minutes
    .venv/bin/python bench/extraction.py --cv       # also 5-fold cross-validation of the dump model (~5 min)

Prints, per system, bag-of-words P/R/F1 (lowercased \\w+ tokens with counts, multiset overlap,
macro-averaged over pages) on all pages, the training split and the held-out split
(bench/extraction_split.tsv); how many gold paragraphs come out whole; ms per document; the
ten worst pages with their site; seed 000 against seed 001.

Like with like: the gold usually opens with the headline and keeps byline and date lines,
which our tables hold in `title`, `author` and `published_date`; so "ours" scores every block
we keep with role title, author, date or body, in page order (the article's text plus its
metadata lines; headed by the `title` value when no block on the page shows it), and "ours,
body only" is printed beside it. trafilatura's own output has no headline line: it is scored
as it comes (the reference figure, 0.929) and, like with like, headed by its title.

The data stays in ../shared/boilerplate-dev (AGPL-3.0): read in place, never copied here.
"""
from __future__ import annotations

import argparse
import html as htmllib
import statistics
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from extraction_data import DATA, KEPT_ROLES, folds, kept_text, load_pages, read_split, whole_paragraphs  # noqa: E402

from pipeline.records import Source  # noqa: E402
from pipeline.stages.extract_dump import dump_lines, extract_dump, hand_rules  # noqa: E402
from pipeline.textmetrics import PRF, bow_prf  # noqa: E402

SEEDS = REPO / "seeds"


def source(name: str, text: str, fmt: str = "text") -> Source:
    return Source(path=name, sha256="0" * 64, format=fmt, encoding="utf-8", text=text,
                  n_bytes=len(text.encode("utf-8")))


def kept_blocks(extracted) -> list[str]:
    return [b.text for b in extracted.blocks if b.role in KEPT_ROLES]


def mean(scores: list[PRF]) -> PRF:
    if not scores:
        return PRF(0.0, 0.0, 0.0)
    return PRF(*(statistics.fmean(s[i] for s in scores) for i in range(3)))


def trafilatura_on_dump(dump: str) -> str:
    import trafilatura

    body = "\n".join(f"<p>{htmllib.escape(line)}</p>" for line in dump.splitlines() if line.strip())
    return trafilatura.extract(f"<html><body>{body}</body></html>", include_comments=False) or ""


def seed_check(model=None) -> float | None:
    """Seed 000 (page dump with chrome) body vs seed 001 (clean copy of the story) body, same F1."""
    a, b = sorted(SEEDS.glob("000_*.txt")), sorted(SEEDS.glob("001_*.txt"))
    if not a or not b:
        return None
    bodies = []
    for path in (a[0], b[0]):
        ex = extract_dump(source(path.name, path.read_text(encoding="utf-8")), model)
        bodies.append("\n".join(bl.text for bl in ex.body_blocks))
    return bow_prf(bodies[0], bodies[1]).f1


def _timed(out: dict, name: str, run):
    """run(), recording its wall and CPU milliseconds under out["ms"][name] and name + "_cpu"."""
    t0, c0 = time.perf_counter(), time.process_time()
    result = run()
    out["ms"][name] = (time.perf_counter() - t0) * 1000
    out["ms"][name + "_cpu"] = (time.process_time() - c0) * 1000
    return result


def _score_ours(out: dict, name: str, extracted, gold: str) -> None:
    """Our extractor's scores: kept blocks, body blocks only, and whole paragraphs."""
    out["prf"][name] = bow_prf(kept_text(extracted), gold)
    out["prf"][name + "_body"] = bow_prf("\n".join(b.text for b in extracted.body_blocks), gold)
    out["whole"][name] = whole_paragraphs(kept_blocks(extracted), gold)


def score_page(page, with_html: bool, with_traf_dump: bool) -> dict:
    """Every system on one page: scores, kept blocks (for whole paragraphs) and timings."""
    import trafilatura

    from pipeline.stages.extract import extract_html

    out: dict = {"prf": {}, "whole": {}, "ms": {}}
    ex = _timed(out, "dump", lambda: extract_dump(source(page.name, page.dump)))
    _score_ours(out, "ours_dump", ex, page.gold)
    lines = dump_lines(page.dump)
    keep, _, _ = hand_rules(lines)
    out["prf"]["hand_dump"] = bow_prf("\n".join(ln.text for ln, k in zip(lines, keep) if k), page.gold)
    out["prf"]["whole_dump"] = bow_prf(page.dump, page.gold)
    out["prf"]["long_lines"] = bow_prf("\n".join(ln for ln in page.dump.splitlines() if len(ln.split()) >= 12),
                                       page.gold)
    if with_traf_dump:
        out["prf"]["traf_dump"] = bow_prf(trafilatura_on_dump(page.dump), page.gold)
    if with_html:
        html = page.html()
        exh = _timed(out, "html", lambda: extract_html(source(page.name + ".html", html, "html")))
        _score_ours(out, "ours_html", exh, page.gold)
        traf = _timed(out, "traf_html", lambda: trafilatura.extract(html, include_comments=False) or "")
        out["prf"]["traf_html"] = bow_prf(traf, page.gold)
        traf_title = trafilatura.bare_extraction(html, include_comments=False, with_metadata=True)
        title = (traf_title.title or "") if traf_title is not None else ""
        out["prf"]["traf_html_title"] = bow_prf(title + "\n" + traf, page.gold)
        out["whole"]["traf_html"] = whole_paragraphs(traf.split("\n"), page.gold)
    return out


LABELS = {
    "ours_dump": "ours on the dump (title+author+date+body)",
    "ours_dump_body": "ours on the dump, body only",
    "hand_dump": "hand rules alone on the dump (v1 region)",
    "ours_html": "ours on the HTML (title+author+date+body)",
    "ours_html_body": "ours on the HTML, body only",
    "traf_html": "trafilatura on the HTML, comments excluded",
    "traf_html_title": "trafilatura on the HTML + its title line",
    "traf_dump": "trafilatura on the dump, one <p> per line",
    "whole_dump": "whole dump kept",
    "long_lines": "dump lines of 12+ words",
}


def cross_validate(pages, k: int = 5) -> list[PRF]:
    """Dump model retrained k times, each time without one fold, and scored on that fold."""
    from train_dump_model import train

    from pipeline.stages.extract_model import dump_model_from_dict

    by_name = {p.name: p for p in pages}
    scores: list[PRF] = []
    for i, fold in enumerate(folds(sorted(by_name), k)):
        held = set(fold)
        model = dump_model_from_dict(train([p for n, p in sorted(by_name.items()) if n not in held]))
        fold_scores = []
        for name in fold:
            page = by_name[name]
            ex = extract_dump(source(name, page.dump), model)
            fold_scores.append(bow_prf(kept_text(ex), page.gold))
        m = mean(fold_scores)
        print(f"  fold {i + 1}/{k}: {len(fold)} pages  P {m.precision:.3f}  R {m.recall:.3f}  F1 {m.f1:.3f}",
              flush=True)
        scores.extend(fold_scores)
    return scores


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages (sorted by name)")
    ap.add_argument("--no-html", action="store_true", help="skip the HTML systems (the slow part)")
    ap.add_argument("--trafilatura-dump", action="store_true", help="also trafilatura on the dump (slow)")
    ap.add_argument("--cv", action="store_true", help="also 5-fold cross-validation of the dump model")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")

    split = read_split()
    pages = load_pages(data=args.data)[: args.limit]
    rows = {p.name: score_page(p, not args.no_html, args.trafilatura_dump) for p in pages}
    parts = {"all": [p.name for p in pages],
             "train": [p.name for p in pages if split[p.name] == "train"],
             "test": [p.name for p in pages if split[p.name] == "test"]}
    site = {p.name: p.site for p in pages}

    print(f"boilerplate-dev: {len(pages)} pages from {args.data}; fixed split (bench/extraction_split.tsv): "
          f"train {len(parts['train'])}, held-out test {len(parts['test'])}")
    print("Bag-of-words P/R/F1 per page (lowercased \\w+ tokens with counts), macro-averaged.")
    print("'ours' scores title+author+date+body blocks in page order: the gold keeps headline, byline and date.\n")
    header = f"{'system':46s} {'P':>6s} {'R':>6s} {'F1':>6s}  | {'train P':>7s} {'R':>6s} {'F1':>6s}  | " \
             f"{'test P':>6s} {'R':>6s} {'F1':>6s}"
    print(header)
    print("-" * len(header))
    present = next(iter(rows.values()))["prf"]
    for key, label in LABELS.items():
        if key not in present:
            continue
        cells = []
        for part in ("all", "train", "test"):
            m = mean([rows[n]["prf"][key] for n in parts[part]])
            cells.append(f"{m.precision:6.3f} {m.recall:6.3f} {m.f1:6.3f}")
        print(f"{label:46s} {cells[0]}  | {cells[1]:>21s}  | {cells[2]}")

    print("\nGold paragraphs that come out whole (one kept block with exactly the paragraph's words):")
    for key in ("ours_dump", "ours_html", "traf_html"):
        if key in next(iter(rows.values()))["whole"]:
            for part in ("all", "test"):
                got = sum(rows[n]["whole"][key][0] for n in parts[part])
                total = sum(rows[n]["whole"][key][1] for n in parts[part])
                print(f"  {LABELS[key]:46s} {part:5s} {got:5d} / {total:5d} = {got / max(total, 1):.3f}")

    print("\nTime per document in this one process (one core): CPU time, which other load on the machine"
          " barely changes, and wall time; median / max")
    for key, label in (("dump", "ours on the dump"), ("html", "ours on the HTML (includes trafilatura)"),
                       ("traf_html", "trafilatura alone on the HTML")):
        cpu = [rows[n]["ms"][key + "_cpu"] for n in rows if key + "_cpu" in rows[n]["ms"]]
        wall = [rows[n]["ms"][key] for n in rows if key in rows[n]["ms"]]
        if wall:
            print(f"  {label:46s} CPU {statistics.median(cpu):7.2f} ms / {max(cpu):7.1f} ms   "
                  f"wall {statistics.median(wall):7.2f} ms / {max(wall):7.1f} ms")

    seed = seed_check()
    if seed is not None:
        print(f"\nseed 000 body vs seed 001 body (same story, page dump vs clean copy): F1 {seed:.3f}")

    print("\n10 worst pages, ours on the dump:")
    for name in sorted(rows, key=lambda n: (rows[n]["prf"]["ours_dump"].f1, n))[:10]:
        p, r, f = rows[name]["prf"]["ours_dump"]
        print(f"  {name:16s} {split[name]:5s} {site[name]:28s} P {p:.3f}  R {r:.3f}  F1 {f:.3f}")
    if "ours_html" in present:
        print("\n10 worst pages, ours on the HTML:")
        for name in sorted(rows, key=lambda n: (rows[n]["prf"]["ours_html"].f1, n))[:10]:
            p, r, f = rows[name]["prf"]["ours_html"]
            print(f"  {name:16s} {split[name]:5s} {site[name]:28s} P {p:.3f}  R {r:.3f}  F1 {f:.3f}")

    if args.cv:
        print("\n5-fold cross-validation of the dump model over all pages (retrained per fold; folds by page):")
        cv = mean(cross_validate(pages))
        print(f"  5-fold CV, ours on the dump: P {cv.precision:.3f}  R {cv.recall:.3f}  F1 {cv.f1:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
