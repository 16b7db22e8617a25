"""Extraction benchmark on boilerplate-dev (300 English page dumps with human gold text).

Run from the repository root:  .venv/bin/python bench/extraction.py [--limit N] [--data DIR]

The data stays in ../shared/boilerplate-dev (AGPL-3.0): it is read in place, never copied
into this project. Metric: bag-of-words P/R/F1 per page, macro-averaged (the data README's).
"""
from __future__ import annotations

import argparse
import hashlib
import html
import statistics
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.records import Source  # noqa: E402
from pipeline.stages.extract_dump import extract_dump  # noqa: E402
from pipeline.textmetrics import PRF, bow_prf  # noqa: E402

KEPT_ROLES = ("title", "author", "date", "body")


def _source(name: str, text: str) -> Source:
    return Source(path=name, sha256="0" * 64, format="text", encoding="utf-8", text=text,
                  n_bytes=len(text.encode("utf-8")))


def split_half(name: str) -> str:
    """Fixed split: 'A' or 'B' by the SHA-1 of the page name (A was looked at while tuning)."""
    return "A" if int(hashlib.sha1(name.encode()).hexdigest(), 16) % 2 == 0 else "B"


def trafilatura_on_dump(dump: str) -> str:
    import trafilatura

    body = "\n".join(f"<p>{html.escape(line)}</p>" for line in dump.splitlines() if line.strip())
    return trafilatura.extract(f"<html><body>{body}</body></html>", include_comments=False) or ""


def _mean(scores: list[PRF]) -> PRF:
    if not scores:
        return PRF(0.0, 0.0, 0.0)
    return PRF(*(statistics.fmean(s[i] for s in scores) for i in range(3)))


def seed_check() -> float | None:
    """Seed 000 (page dump with chrome) body vs seed 001 (clean copy) body, same F1."""
    seeds = REPO / "seeds"
    a, b = sorted(seeds.glob("000_*.txt")), sorted(seeds.glob("001_*.txt"))
    if not a or not b:
        return None
    bodies = []
    for path in (a[0], b[0]):
        ex = extract_dump(_source(path.name, path.read_text(encoding="utf-8")))
        bodies.append("\n".join(bl.text for bl in ex.body_blocks))
    return bow_prf(bodies[0], bodies[1]).f1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "boilerplate-dev")
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages (sorted by name)")
    ap.add_argument("--no-trafilatura", action="store_true", help="skip baseline (c), the slow one")
    args = ap.parse_args(argv)

    names = sorted(p.name[: -len(".dump.txt")] for p in args.data.glob("*.dump.txt"))[: args.limit]
    if not names:
        print(f"no *.dump.txt pages under {args.data}", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore")

    rows: dict[str, dict[str, PRF]] = {}
    ms: list[float] = []
    for name in names:
        dump = (args.data / f"{name}.dump.txt").read_text(encoding="utf-8")
        gold = (args.data / f"{name}.gold.txt").read_text(encoding="utf-8")
        t0 = time.perf_counter()
        ex = extract_dump(_source(name, dump))
        ms.append((time.perf_counter() - t0) * 1000)
        kept = "\n".join(b.text for b in ex.blocks if b.role in KEPT_ROLES)
        body = "\n".join(b.text for b in ex.body_blocks)
        r = {
            "a": bow_prf(kept, gold),
            "b": bow_prf(body, gold),
            "d": bow_prf(dump, gold),
            "e": bow_prf("\n".join(ln for ln in dump.splitlines() if len(ln.split()) >= 12), gold),
        }
        if not args.no_trafilatura:
            r["c"] = bow_prf(trafilatura_on_dump(dump), gold)
        rows[name] = r

    labels = {
        "a": "(a) ours: kept blocks (title+author+date+body, page order)",
        "b": "(b) ours: body blocks only",
        "c": "(c) trafilatura on dump, one <p> per line, no comments",
        "d": "(d) whole dump kept",
        "e": "(e) lines of 12+ words",
    }
    halves = {h: [n for n in names if split_half(n) == h] for h in ("A", "B")}
    print(f"boilerplate-dev: {len(names)} pages from {args.data} (half A {len(halves['A'])} / B {len(halves['B'])},"
          " split by sha1(name) % 2)")
    print("Gold keeps headline and byline/date lines, so (a) scores every kept block, not only body.")
    print("Bag-of-words P/R/F1 per page (\\w+ tokens, lowercased, multiset overlap), macro-averaged.\n")
    print(f"{'system':62s} {'P':>6s} {'R':>6s} {'F1':>6s}   {'F1 A':>6s} {'F1 B':>6s}")
    for key in "abcde":
        if key not in next(iter(rows.values())):
            continue
        allm = _mean([rows[n][key] for n in names])
        fa = _mean([rows[n][key] for n in halves["A"]]).f1
        fb = _mean([rows[n][key] for n in halves["B"]]).f1
        print(f"{labels[key]:62s} {allm.precision:6.3f} {allm.recall:6.3f} {allm.f1:6.3f}   {fa:6.3f} {fb:6.3f}")

    ours = _mean([rows[n]["a"] for n in names]).f1
    print()
    if "c" in rows[names[0]]:
        print(f"margin of (a) over (c) trafilatura-on-dump: {ours - _mean([rows[n]['c'] for n in names]).f1:+.3f} F1")
    print(f"margin of (a) over (d) whole dump:          {ours - _mean([rows[n]['d'] for n in names]).f1:+.3f} F1")
    print(f"our extractor: median {statistics.median(ms):.2f} ms per dump (max {max(ms):.1f} ms)")
    seed = seed_check()
    if seed is not None:
        print(f"seed 000 body vs seed 001 body: F1 {seed:.3f}")
    print("\n10 worst pages for (a):")
    for name in sorted(names, key=lambda n: rows[n]["a"].f1)[:10]:
        p, r, f = rows[name]["a"]
        print(f"  {name:16s} half {split_half(name)}  P {p:.3f}  R {r:.3f}  F1 {f:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
