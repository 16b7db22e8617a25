"""Corpus hygiene benchmark: paraphrase detection, near-duplicates, language and quality flags.

Run from the repository root:  .venv/bin/python bench/hygiene.py [--limit N] [--data DIR]

Needs ../shared/boilerplate-dev (AGPL-3.0, read in place, never copied). Sections:

1. Paraphrase ("spun" text): the labelled set of bench/make_spun_set.py (clean paragraphs
   and documents, spun copies at three swap rates; seed 003 as real spun text). The
   is_paraphrased thresholds are chosen on the "tune" half (grid below) and the figures
   that count are the "test" half's. Baseline in the same run: the share of rare words
   (wordfreq Zipf < 4), its threshold chosen on the tune half the same way.
2. Near-duplicates: each boilerplate-dev page twice, as its human gold text and as our
   extraction of its page dump (a real copy with extraction noise): 300 true pairs, and no
   cluster may span two pages. LSH clustering against comparing every pair, timed.
3. Languages and flags: the English pages' paragraphs detected as another language, and
   the quality flags on our extraction of the page dumps.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from make_spun_set import DEFAULT_BOILERPLATE_DEV, LabelledDocument, labelled_documents, seed_articles, split_of  # noqa: E402

from pipeline.core.config import PipelineConfig  # noqa: E402
from pipeline.core.records import Article, Source  # noqa: E402
from pipeline.core.textutil import WORD_RE, count_words  # noqa: E402
from pipeline.stages.extract.dump import extract_dump  # noqa: E402
from pipeline.stages.hygiene import dedupe  # noqa: E402
from pipeline.stages.hygiene import signals as hygiene
from pipeline.stages.hygiene.paraphrase import traces_per_text  # noqa: E402
from pipeline.stages.normalize import normalize  # noqa: E402

# Threshold choice: no clean tune document flagged. Spun articles are rare in a real corpus,
# so even 1% of clean articles flagged would outnumber the true finds.
MAX_CLEAN_FLAGGED = 0.0
GRID_TRACES = (1, 2, 3, 4)
GRID_SCORE = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
RARE_ZIPF = 4.0


# --------------------------------------------------------------------------- paraphrase


class Scored:
    """One labelled document with its traces per paragraph (scored once, used at both levels)."""

    def __init__(self, doc: LabelledDocument, traces: list[tuple], words: list[int]):
        self.doc, self.traces, self.words = doc, traces, words
        self.distinct = list(dict.fromkeys(t.text for per in traces for t in per))
        self.n_words = sum(words)
        self.rare_share = rare_word_share(doc.text)


def rare_word_share(text: str) -> float:
    """Baseline: share of lower-case words that wordfreq calls rare (Zipf < 4)."""
    from wordfreq import zipf_frequency

    words = [w for w in WORD_RE.findall(text) if w.isalpha() and w.islower()]
    return sum(zipf_frequency(w, "en") < RARE_ZIPF for w in words) / len(words) if words else 0.0


def score_documents(docs: list[LabelledDocument], model: str) -> list[Scored]:
    return [Scored(d, traces_per_text(list(d.paragraphs), model), [count_words(p) for p in d.paragraphs])
            for d in docs]


def _groups(scored: list[Scored], split: str) -> dict[str, list[Scored]]:
    """'clean' and one 'spun r' group per swap rate, for one split."""
    out: dict[str, list[Scored]] = {}
    for s in scored:
        if s.doc.split == split and s.doc.label in ("clean", "spun"):
            key = "clean" if s.doc.label == "clean" else f"spun {s.doc.spin_rate:.1f}"
            out.setdefault(key, []).append(s)
    return dict(sorted(out.items()))


def _rate(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def _precision(recall: float, false_rate: float) -> float:
    """Precision with one spun copy per clean document (the set's own balance)."""
    return recall / (recall + false_rate) if recall + false_rate else 0.0


def choose(groups: dict[str, list[Scored]], decide) -> tuple:
    """The grid point with the best mean recall over the spun rates among those that flag at
    most MAX_CLEAN_FLAGGED of the clean documents; ties go to the stricter point."""
    best = None
    for point in decide.grid:
        if _rate([decide(s, point) for s in groups["clean"]]) > MAX_CLEAN_FLAGGED:
            continue
        recall = statistics.fmean(_rate([decide(s, point) for s in g]) for k, g in groups.items() if k != "clean")
        if best is None or recall > best[0] + 1e-12:
            best = (recall, point)
    return best[1] if best else decide.grid[-1]


class TraceRule:
    """is_paraphrased at (min distinct traces, min traces per 100 words)."""

    grid = [(k, s) for k in GRID_TRACES for s in GRID_SCORE]

    def __call__(self, scored: Scored, point: tuple[int, float]) -> bool:
        config = PipelineConfig(is_paraphrased_min_traces=point[0], is_paraphrased_min_score=point[1])
        return hygiene.is_paraphrased(len(scored.distinct), scored.n_words, config)


class RareWordRule:
    """Baseline: flag when the share of rare words reaches a threshold."""

    grid = [(t / 1000,) for t in range(0, 301, 5)]

    def __call__(self, scored: Scored, point: tuple[float]) -> bool:
        return scored.rare_share >= point[0]


def paraphrase_section(scored: list[Scored], config: PipelineConfig) -> None:
    rule, baseline = TraceRule(), RareWordRule()
    tune, test = _groups(scored, "tune"), _groups(scored, "test")
    chosen = choose(tune, rule)
    configured = (config.is_paraphrased_min_traces, config.is_paraphrased_min_score)
    base_point = choose(tune, baseline)
    print("1. Paraphrase detection (is_paraphrased)")
    print(f"   labelled set: {len(scored)} documents; swaps per 100 words by group (test):",
          ", ".join(f"{k} {100 * sum(sum(s.doc.swaps) for s in g) / sum(s.n_words for s in g):.1f}"
                    for k, g in test.items()))
    print(f"   thresholds chosen on the tune half (clean flagged <= {MAX_CLEAN_FLAGGED:.0%}, then best mean recall): "
          f"min traces {chosen[0]}, min score {chosen[1]}; config has {configured[0]}, {configured[1]}"
          + ("" if chosen == configured else "  <-- config differs from the tune-half choice"))
    print(f"   baseline (share of words with Zipf < {RARE_ZIPF}) threshold chosen the same way: {base_point[0]:.3f}")

    print("\n   Article level (whole documents), config thresholds; P assumes one spun copy per clean document:")
    print(f"   {'split':5s} {'group':9s} {'n':>4s}  {'flagged':>7s}  {'P':>5s}  {'R':>5s}   baseline flagged / P")
    for split, groups in (("tune", tune), ("test", test)):
        false_rate = _rate([rule(s, configured) for s in groups["clean"]])
        base_false = _rate([baseline(s, base_point) for s in groups["clean"]])
        for key, group in groups.items():
            flagged = _rate([rule(s, configured) for s in group])
            base = _rate([baseline(s, base_point) for s in group])
            if key == "clean":
                print(f"   {split:5s} {key:9s} {len(group):4d}  {flagged:7.3f}  {'':>5s}  {'':>5s}   {base:.3f}")
            else:
                print(f"   {split:5s} {key:9s} {len(group):4d}  {flagged:7.3f}  {_precision(flagged, false_rate):5.3f}"
                      f"  {flagged:5.3f}   {base:.3f} / {_precision(base, base_false):.3f}")

    for s in test["clean"]:
        if rule(s, configured):
            print(f"   clean test document flagged: {s.doc.document} ({s.n_words} words): {'; '.join(s.distinct)}")

    print("\n   Paragraph level (paragraphs of 40+ words), rule: at least one trace in the paragraph:")
    print(f"   {'split':5s} {'group':9s} {'n':>5s}  {'flagged':>7s}  {'P':>5s}  {'R':>5s}")
    for split, groups in (("tune", tune), ("test", test)):
        rates = {}
        for key, group in groups.items():
            flags = [bool(s.traces[i]) for s in group for i in s.doc.long_paragraphs]
            rates[key] = (_rate(flags), len(flags))
        for key, (flagged, n) in rates.items():
            extra = "" if key == "clean" else f"  {_precision(flagged, rates['clean'][0]):5.3f}  {flagged:5.3f}"
            print(f"   {split:5s} {key:9s} {n:5d}  {flagged:7.3f}{extra}")
    real = [s for s in scored if s.doc.label == "real_spun"]
    for s in real:
        flags = [bool(s.traces[i]) for i in s.doc.long_paragraphs]
        print(f"   seed {s.doc.document} (real spinner): {sum(flags)}/{len(flags)} paragraphs with a trace")

    kinds: dict[str, dict[str, int]] = {}
    for s in scored:
        if s.doc.split == "test" and s.doc.label in ("clean", "spun"):
            key = "clean" if s.doc.label == "clean" else "spun"
            for per in s.traces:
                for t in per:
                    kinds.setdefault(t.kind, {}).setdefault(key, 0)
                    kinds[t.kind][key] += 1
    print("\n   traces by kind (test half, all rates pooled):",
          "; ".join(f"{k}: clean {v.get('clean', 0)}, spun {v.get('spun', 0)}" for k, v in sorted(kinds.items())))


def seed_section(seeds: dict[str, Article], config: PipelineConfig) -> None:
    print("\n   Seeds through the pipeline (hygiene.document_signals -> article_flags):")
    for prefix, article in seeds.items():
        signals = hygiene.document_signals(article, config)
        flags = hygiene.article_flags(signals, article.boilerplate_ratio, config)
        print(f"   seed {prefix}: score {flags['paraphrase_score']:.3f} traces {flags['paraphrase_traces']:2d} "
              f"is_paraphrased {flags['is_paraphrased']!s:5s}  "
              f"english_share {flags['english_share']:.3f}  evidence: {flags['paraphrase_evidence'] or '-'}")


# --------------------------------------------------------------------------- near duplicates


def _source(name: str, text: str) -> Source:
    return Source(path=name, sha256="0" * 64, format="text", encoding="utf-8", text=text,
                  n_bytes=len(text.encode("utf-8")))


def dump_articles(data_dir: Path, names: list[str], config: PipelineConfig) -> dict[str, Article]:
    """Our extraction and normalization of each page dump (the pipeline's own path)."""
    out = {}
    for name in names:
        text = (data_dir / f"{name}.dump.txt").read_text(encoding="utf-8")
        try:
            out[name] = normalize(extract_dump(_source(f"dump/{name}.txt", text)), config)
        except Exception as err:  # noqa: BLE001 - a page we cannot extract is reported, not fatal
            print(f"   (skipped {name}: {type(err).__name__})")
    return out


def gold_articles(data_dir: Path, names: list[str], config: PipelineConfig) -> dict[str, Article]:
    """The human gold text of each page as an Article (one block per gold paragraph)."""
    from pipeline.core.records import Block, Extracted

    out = {}
    for name in names:
        gold = (data_dir / f"{name}.gold.txt").read_text(encoding="utf-8")
        blocks = tuple(Block(i, p, "body") for i, p in enumerate(p for p in gold.split("\n\n") if p.strip()))
        extracted = Extracted(source=_source(f"gold/{name}.txt", gold), extractor="gold", blocks=blocks)
        out[name] = normalize(extracted, config)
    return out


def all_pairs_baseline(articles: list[Article], signatures: dict, config: PipelineConfig) -> tuple[int, float]:
    """Baseline: every pair's estimated similarity (vectorized per row); (pairs found, seconds)."""
    import numpy as np

    t0 = time.perf_counter()
    matrix = np.array([signatures[a.article_id] for a in articles if signatures[a.article_id]], dtype=np.uint64)
    found = 0
    for i in range(len(matrix) - 1):
        similar = (matrix[i + 1:] == matrix[i]).mean(axis=1) >= config.near_duplicate_min_similarity
        found += int(similar.sum())
    return found, time.perf_counter() - t0


def scaling(articles: list[Article], signatures: dict, config: PipelineConfig,
            sizes: tuple[int, ...] = (2000, 8000)) -> list[tuple[int, float, float]]:
    """LSH clustering vs every pair as the corpus grows: the real articles plus `size` articles
    with random signatures (unrelated texts), timed for both."""
    from dataclasses import replace

    import numpy as np

    rng = np.random.default_rng(11)
    base = articles[0]
    out = []
    for size in sizes:
        extra = [replace(base, article_id=f"synthetic{i:06d}", text=f"synthetic text {i}",
                         extracted=replace(base.extracted, source=replace(base.extracted.source,
                                                                          path=f"synthetic/{i:06d}.txt")))
                 for i in range(size)]
        values = rng.integers(0, 2**32 - 1, size=(size, config.minhash_permutations), dtype=np.uint64)
        grown = dict(signatures) | {a.article_id: tuple(int(v) for v in row) for a, row in zip(extra, values)}
        t0 = time.perf_counter()
        dedupe.duplicate_clusters([dedupe.member(a) for a in articles + extra], grown, config)
        t_lsh = time.perf_counter() - t0
        _, t_pairs = all_pairs_baseline(articles + extra, grown, config)
        out.append((size, t_lsh, t_pairs))
    return out


def near_duplicate_section(gold: dict[str, Article], dumps: dict[str, Article], seeds: dict[str, Article],
                           config: PipelineConfig) -> None:
    print("\n2. Near-duplicates (MinHash LSH, word 5-gram shingles, "
          f"threshold {config.near_duplicate_min_similarity})")
    seed_list = list(seeds.values())
    seed_signatures = {a.article_id: dedupe.signature(a.text, config) for a in seed_list}
    clusters = dedupe.duplicate_clusters([dedupe.member(a) for a in seed_list], seed_signatures, config)
    by_cluster: dict[str, list[str]] = {}
    for prefix, article in seeds.items():
        if article.article_id in clusters:
            by_cluster.setdefault(clusters[article.article_id].cluster, []).append(prefix)
    print("   seeds: clusters", sorted(by_cluster.values()) or "none",
          "| similarity", {p: clusters[a.article_id].similarity for p, a in seeds.items() if a.article_id in clusters})

    articles = [*gold.values(), *dumps.values()]
    page_of = {a.article_id: name for name, a in gold.items()} | {a.article_id: name for name, a in dumps.items()}
    t0 = time.perf_counter()
    signatures = {a.article_id: dedupe.signature(a.text, config) for a in articles}
    t_sign = time.perf_counter() - t0
    t0 = time.perf_counter()
    clusters = dedupe.duplicate_clusters([dedupe.member(a) for a in articles], signatures, config)
    t_lsh = time.perf_counter() - t0
    shuffled = articles[:]
    random.Random(7).shuffle(shuffled)
    same_order_free = dedupe.duplicate_clusters([dedupe.member(a) for a in shuffled], signatures, config) == clusters
    all_pairs, t_pairs = all_pairs_baseline(articles, signatures, config)

    members: dict[str, set[str]] = {}
    for article_id, info in clusters.items():
        members.setdefault(info.cluster, set()).add(page_of[article_id])
    mixed = [c for c, pages in members.items() if len(pages) > 1]
    paired = [name for name in gold if name in dumps and gold[name].article_id in clusters
              and dumps[name].article_id in clusters
              and clusters[gold[name].article_id].cluster == clusters[dumps[name].article_id].cluster]
    sims = sorted(dedupe.estimated_similarity(signatures[gold[n].article_id], signatures[dumps[n].article_id])
                  for n in gold if n in dumps)
    print(f"   boilerplate-dev: {len(gold)} pages as gold text + our dump extraction = {len(articles)} articles")
    print(f"   true pairs clustered: {len(paired)}/{len(sims)} (recall {len(paired) / len(sims):.3f}); "
          f"clusters spanning two pages: {len(mixed)} (precision {1 - len(mixed) / max(len(members), 1):.3f})")
    print("   estimated similarity gold vs our extraction, quantiles 5/25/50/75%: "
          + " ".join(f"{sims[int(q * (len(sims) - 1))]:.2f}" for q in (0.05, 0.25, 0.5, 0.75)))
    print(f"   comparing every pair finds {all_pairs} pairs at the threshold; LSH clusters hold {len(clusters)} "
          "articles")
    n = len(articles)
    print(f"   signatures {1000 * t_sign / n:.2f} ms/article; clustering {n} articles: LSH {t_lsh:.2f} s, "
          f"every pair ({n * (n - 1) // 2} comparisons, numpy) {t_pairs:.2f} s")
    for size, t_lsh_n, t_pairs_n in scaling(articles, signatures, config):
        print(f"   with {size} more unrelated signatures ({size + n} articles): LSH {t_lsh_n:.2f} s, "
              f"every pair {t_pairs_n:.2f} s ({t_pairs_n / t_lsh_n:.1f}x the LSH time)")
    print(f"   same clusters and representatives after shuffling the input: {same_order_free}")


# --------------------------------------------------------------------------- languages and flags


def language_and_flags_section(gold: dict[str, Article], dumps: dict[str, Article], seeds: dict[str, Article],
                               config: PipelineConfig) -> None:
    print("\n3. Languages and quality flags")
    paragraphs = [p for a in gold.values() for p in a.paragraphs]
    foreign = [p for p in paragraphs if p.language != hygiene.ENGLISH]
    words = sum(count_words(p.text) for p in paragraphs)
    foreign_words = sum(count_words(p.text) for p in foreign)
    langs: dict[str, int] = {}
    for p in foreign:
        langs[p.language] = langs.get(p.language, 0) + 1
    print(f"   boilerplate-dev gold (English pages): {len(foreign)}/{len(paragraphs)} paragraphs "
          f"({foreign_words / words:.2%} of words) detected as another language: "
          + ", ".join(f"{k} {v}" for k, v in sorted(langs.items(), key=lambda kv: -kv[1])[:8]))
    for prefix, article in seeds.items():
        other = [f"#{p.index} {p.language}" for p in article.paragraphs if p.language != hygiene.ENGLISH]
        if other:
            print(f"   seed {prefix}: paragraphs not in English (not sent to NER): {', '.join(other)}")
    flags = {}
    for name, article in dumps.items():
        signals = hygiene.document_signals(article, config)
        flags[name] = hygiene.article_flags(signals, article.boilerplate_ratio, config)
    print(f"   our extraction of the {len(dumps)} page dumps: "
          + ", ".join(f"{k} {sum(f[k] for f in flags.values())}" for k in
                      ("is_short", "is_mostly_boilerplate", "is_mostly_non_english", "is_paraphrased")))
    for name, f in flags.items():
        if f["is_paraphrased"]:
            print(f"   is_paraphrased: {name}: {f['paraphrase_evidence']}")
        if f["is_mostly_non_english"]:
            print(f"   is_mostly_non_english: {name} (english_share {f['english_share']:.2f}, "
                  f"{len(dumps[name].paragraphs)} paragraphs)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_BOILERPLATE_DEV)
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages (sorted by name)")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"no boilerplate-dev data at {args.data}", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore")
    config = PipelineConfig()
    started = time.perf_counter()
    names = sorted(p.name[: -len(".gold.txt")] for p in args.data.glob("*.gold.txt"))[: args.limit]
    seeds = seed_articles(REPO / "seeds", config)

    docs = [d for d in labelled_documents(REPO / "seeds", args.data)
            if d.source == "seed" or d.document in set(names)]
    t0 = time.perf_counter()
    scored = score_documents(docs, config.paraphrase_model)
    elapsed = time.perf_counter() - t0
    paraphrase_section(scored, config)
    seed_section(seeds, config)
    print(f"   paraphrase traces: {sum(s.n_words for s in scored) / elapsed:,.0f} words/s "
          f"({len(scored)} documents in {elapsed:.1f} s)")
    print(f"   pages per split: tune {sum(split_of(n) == 'tune' for n in names)}, "
          f"test {sum(split_of(n) == 'test' for n in names)} (sha1 of the name)")

    gold = gold_articles(args.data, names, config)
    dumps = dump_articles(args.data, names, config)
    near_duplicate_section(gold, dumps, seeds, config)
    language_and_flags_section(gold, dumps, seeds, config)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
