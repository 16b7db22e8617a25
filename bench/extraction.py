"""Extraction benchmark: page dumps from every renderer, clean texts in every layout, perturbed dumps,
HTML against trafilatura, speed; on held-out pages whose sites never appear in training.

Run from the repository root (bench/renderers.py makes the other renderers' dumps first):

    .venv/bin/python bench/extraction.py            # everything, including leave-one-renderer-out
    .venv/bin/python bench/extraction.py --no-loro  # without the leave-one-renderer-out trainings
    .venv/bin/python bench/extraction.py --loro-every 4  # those trainings on a quarter of the pages

Metric: bag-of-words P/R/F1 per page (lowercased \\w+ tokens with counts, multiset overlap),
macro-averaged. The gold opens with the headline and keeps byline and date lines, which our
tables hold in `title`, `author` and `published_date`; so "ours" scores every block kept with
role title, author, date or body, in page order (extraction_data.kept_text).

Held-out pages: bench/extraction_sets.py (boilerplate-dev's test split plus the boilerplate-more
pages of held-out sites). The data stays in ../shared (AGPL-3.0), read in place.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from clean_layouts import LAYOUTS  # noqa: E402
from dump_perturb import PERTURBATIONS, interrupt_story  # noqa: E402
from extraction_data import kept_text  # noqa: E402
from extraction_sets import load_part, rendered_dump, renderers_available  # noqa: E402

from pipeline.core.records import Source  # noqa: E402
from pipeline.core.textutil import count_words  # noqa: E402
from pipeline.stages.extract.dispatch import ExtractionError, extract  # noqa: E402
from pipeline.stages.extract.dump import extract_dump  # noqa: E402
from pipeline.stages.extract.features import split_blocks  # noqa: E402
from pipeline.stages.extract.metrics import PRF, bow_prf  # noqa: E402
from pipeline.stages.extract.model import dump_model_from_dict, load_dump_model  # noqa: E402

SEEDS = REPO / "seeds"
LORO_CACHE = REPO / "build" / "loro"


def source(name: str, text: str, fmt: str = "text") -> Source:
    return Source(path=name, sha256="0" * 64, format=fmt, encoding="utf-8", text=text,
                  n_bytes=len(text.encode("utf-8")))


def mean(scores: list[PRF]) -> PRF:
    if not scores:
        return PRF(0.0, 0.0, 0.0)
    return PRF(*(statistics.fmean(s[i] for s in scores) for i in range(3)))


def cpu_ms(run):
    t0 = time.process_time()
    result = run()
    return result, (time.process_time() - t0) * 1000


def fmt(m: PRF) -> str:
    return f"P {m.precision:.3f}  R {m.recall:.3f}  F1 {m.f1:.3f}"


def score_dumps(pages, renderer: str, model=None, change=None) -> dict[str, PRF]:
    """Ours on each page's dump by `renderer` (changed by `change(name, text)` if given), through the
    stage's own dispatch (input kind, dump classifier, clean-text fallback)."""
    out = {}
    for page in pages:
        text = rendered_dump(renderer, page)
        if text is None:
            continue
        if change is not None:
            text = change(page.name, text)
        if model is None:
            ex = extract(source(page.name, text))
        else:
            ex = extract_dump(source(page.name, text), model)
        out[page.name] = bow_prf(kept_text(ex), page.gold)
    return out


def section_dumps(pages, renderers) -> dict[str, dict[str, PRF]]:
    print("\n== Page dumps, held-out pages, every renderer (ours: input kind + dump classifier) ==")
    print(f"{'renderer':14s} {'pages':>5s}  {'P':>6s} {'R':>6s} {'F1':>6s}   pages under 0.8 F1   kept under half"
          " (gold 100+ words)")
    per_renderer = {}
    gold_words = {p.name: count_words(p.gold) for p in pages}
    for renderer in renderers:
        scores = score_dumps(pages, renderer)
        per_renderer[renderer] = scores
        m = mean(list(scores.values()))
        low = sum(s.f1 < 0.8 for s in scores.values())
        half = sorted(n for n, s in scores.items() if gold_words[n] >= 100 and s.recall < 0.5)
        print(f"{renderer:14s} {len(scores):5d}  {m.precision:6.3f} {m.recall:6.3f} {m.f1:6.3f}   "
              f"{low:4d} ({low / max(len(scores), 1):.1%})        {len(half)}: {' '.join(half[:12])}")
    allm = mean([s for r in per_renderer.values() for s in r.values()])
    print(f"{'all renderers':14s} {sum(len(r) for r in per_renderer.values()):5d}  {allm.precision:6.3f} "
          f"{allm.recall:6.3f} {allm.f1:6.3f}")
    return per_renderer


def loro_model(left_out: str | None, renderers: tuple[str, ...], every: int = 1):
    """The dump model trained on the training part (every `every`-th page) without `left_out`'s dumps
    (None: with every renderer, the reference); cached under build/loro."""
    from train_dump_model import train

    train_pages = load_part("train")[::every]
    others = tuple(r for r in renderers if r != left_out)
    key = hashlib.sha1((f"{left_out}|{','.join(others)}|{every}|" +
                        (REPO / "bench" / "train_dump_model.py").read_text() +
                        (REPO / "pipeline" / "stages" / "extract" / "features.py").read_text()).encode()).hexdigest()[:12]
    path = LORO_CACHE / f"without-{left_out or 'none'}-{key}.json"
    if not path.exists():
        print(f"  training on {len(train_pages)} pages without {left_out or 'no renderer'} ...", flush=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(train(train_pages, others)), encoding="utf-8")
    return dump_model_from_dict(json.loads(path.read_text(encoding="utf-8")))


def section_loro(pages, renderers, every: int) -> None:
    print(f"\n== Leave one renderer out: the dump model trained without a renderer, scored on its dumps "
          f"(training pages: every {every}; reference: the same pages with every renderer) ==")
    reference = loro_model(None, renderers, every)
    for renderer in renderers:
        with_it = mean(list(score_dumps(pages, renderer, reference).values()))
        without = mean(list(score_dumps(pages, renderer, loro_model(renderer, renderers, every)).values()))
        print(f"  {renderer:14s} not in training {fmt(without)}   in training {fmt(with_it)}   "
              f"F1 change {without.f1 - with_it.f1:+.3f}", flush=True)


def section_interrupted(pages) -> None:
    print("\n== Stories interrupted (inscriptis dumps, held-out): captions, embedded posts, pull quotes, "
          "statistics, banners inserted inside the story ==")

    def interrupted(name: str, text: str) -> str:
        from extraction_data import line_labels
        blocks = split_blocks(text)
        gold = next(p.gold for p in pages if p.name == name)
        labels = [s >= 0.5 for s in line_labels(blocks, gold)]
        changed, _ = interrupt_story(name + "/eval", blocks, [float(y) for y in labels])
        return "\n\n".join(changed) + "\n"

    plain = score_dumps(pages, "inscriptis")
    changed = score_dumps(pages, "inscriptis", change=interrupted)
    print(f"  as rendered     {fmt(mean(list(plain.values())))}")
    print(f"  interrupted     {fmt(mean(list(changed.values())))}   pages whose recall fell by 0.2+: "
          f"{sum(plain[n].recall - changed[n].recall >= 0.2 for n in changed)}")


def section_perturbations(pages, renderers) -> None:
    print("\n== Perturbed dumps, held-out (mean F1 change against the unchanged dump; pages of 50+ gold words"
          " that lose their whole body) ==")
    gold_words = {p.name: count_words(p.gold) for p in pages}
    for renderer in renderers[:2]:
        plain = score_dumps(pages, renderer)
        for label, change in PERTURBATIONS.items():
            changed = score_dumps(pages, renderer, change=change)
            drop = statistics.fmean(plain[n].f1 - changed[n].f1 for n in changed)
            lost = sorted(n for n, s in changed.items() if gold_words[n] >= 50 and s.recall < 0.05)
            print(f"  {renderer:11s} {label:32s} mean F1 drop {drop:+.4f}   whole body lost: {len(lost)} "
                  f"{' '.join(lost[:8])}")


def clean_documents(pages) -> list[tuple[str, str]]:
    docs = [(p.name, p.gold) for p in pages]
    for path in sorted(SEEDS.glob("00[1-4]_*.txt")):
        docs.append((path.name, path.read_text(encoding="utf-8")))
    return docs


def section_clean(pages) -> None:
    print("\n== Clean texts (held-out gold texts and seeds 001-004) in every layout: share of the input's words"
          " kept (title + author + date + body) ==")
    docs = clean_documents(pages)
    print(f"  {len(docs)} texts per layout")
    for layout, lay in LAYOUTS.items():
        kept, quarantined, kinds = [], [], {}
        for name, text in docs:
            laid = lay(text)
            try:
                ex = extract(source(name, laid))
            except ExtractionError:
                quarantined.append(name)
                continue
            kinds[ex.input_kind] = kinds.get(ex.input_kind, 0) + 1
            kept.append(bow_prf(kept_text(ex), laid).recall)
        worst = min(kept) if kept else 0.0
        print(f"  {layout:26s} words kept {statistics.fmean(kept):.4f} (worst {worst:.3f}, under 0.95: "
              f"{sum(k < 0.95 for k in kept)})   quarantined {len(quarantined)}   kinds {kinds}")


def section_html(pages) -> None:
    import trafilatura

    print("\n== HTML, held-out pages: ours (trafilatura's text, our classifier only where it finds under 20 words) "
          "against trafilatura alone ==")
    ours, traf, ours_ms, traf_ms, meta_ms = [], [], [], [], []
    for page in pages:
        html = page.html()
        ex, ms = cpu_ms(lambda: extract(source(page.name + ".html", html, "html")))
        ours.append(bow_prf(kept_text(ex), page.gold))
        ours_ms.append(ms)
        text, ms = cpu_ms(lambda: trafilatura.extract(html, include_comments=False) or "")
        traf_ms.append(ms)
        meta, ms = cpu_ms(lambda: trafilatura.bare_extraction(html, include_comments=False, with_metadata=True))
        meta_ms.append(ms)
        title = (meta.title or "") if meta is not None else ""
        traf.append(bow_prf(title + "\n" + text, page.gold))
    print(f"  ours                              {fmt(mean(ours))}")
    print(f"  trafilatura + its title line      {fmt(mean(traf))}")
    print(f"  CPU per page, median: ours {statistics.median(ours_ms):.1f} ms, trafilatura.extract "
          f"{statistics.median(traf_ms):.1f} ms, ratio {statistics.median(ours_ms) / statistics.median(traf_ms):.2f}"
          f" (of sums {sum(ours_ms) / sum(traf_ms):.2f})")
    print(f"  trafilatura with its metadata (title, author, date, as ours reads them) {statistics.median(meta_ms):.1f} ms,"
          f" ours/that {statistics.median(ours_ms) / statistics.median(meta_ms):.2f}"
          f" (of sums {sum(ours_ms) / sum(meta_ms):.2f})")


def section_speed(pages, renderers) -> None:
    print("\n== Speed of the text path (CPU time in this process, one core) ==")
    load_dump_model()
    for renderer in renderers:
        times = []
        for page in pages:
            text = rendered_dump(renderer, page)
            if text is not None:
                times.append(cpu_ms(lambda: extract(source(page.name, text)))[1])
        print(f"  {renderer:14s} median {statistics.median(times):6.2f} ms   mean {statistics.fmean(times):6.2f} ms")


def seed_check() -> float | None:
    """Seed 000 (page dump with chrome) body vs seed 001 (clean copy of the story) body, same F1."""
    a, b = sorted(SEEDS.glob("000_*.txt")), sorted(SEEDS.glob("001_*.txt"))
    if not a or not b:
        return None
    bodies = []
    for path in (a[0], b[0]):
        ex = extract(source(path.name, path.read_text(encoding="utf-8")))
        bodies.append("\n".join(bl.text for bl in ex.body_blocks))
    return bow_prf(bodies[0], bodies[1]).f1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="only the first N held-out pages")
    ap.add_argument("--no-loro", action="store_true", help="skip the leave-one-renderer-out trainings")
    ap.add_argument("--no-html", action="store_true", help="skip the HTML comparison")
    ap.add_argument("--loro-every", type=int, default=1, metavar="N",
                    help="train the leave-one-renderer-out models on every N-th training page (quicker)")
    ap.add_argument("--sections", default="", help="comma-separated subset: dumps,loro,interrupted,"
                                                   "perturbations,clean,html,speed,seeds")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    pages = load_part("test")[: args.limit]
    renderers = renderers_available()
    wanted = set(filter(None, args.sections.split(","))) or {
        "dumps", "loro", "interrupted", "perturbations", "clean", "html", "speed", "seeds"}
    if args.no_loro:
        wanted.discard("loro")
    if args.no_html:
        wanted.discard("html")
    print(f"held-out: {len(pages)} pages (sites never in training); renderers: {', '.join(renderers)}")
    if "dumps" in wanted:
        section_dumps(pages, renderers)
    if "loro" in wanted:
        section_loro(pages, renderers, args.loro_every)
    if "interrupted" in wanted:
        section_interrupted(pages)
    if "perturbations" in wanted:
        section_perturbations(pages, renderers)
    if "clean" in wanted:
        section_clean(pages)
    if "html" in wanted:
        section_html(pages)
    if "speed" in wanted:
        section_speed(pages, renderers)
    if "seeds" in wanted:
        seed = seed_check()
        if seed is not None:
            print(f"\nseed 000 body vs seed 001 body (same story, page dump vs clean copy): F1 {seed:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
