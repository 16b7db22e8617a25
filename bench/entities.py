"""Entity benchmark: tagging and canonical entities against the hand gold, speed against bare spaCy.

Run from the repository root:

    .venv/bin/python bench/entities.py            # about 30 s
    .venv/bin/python bench/entities.py --errors   # also every wrong mention and cluster
    .venv/bin/python bench/entities.py --audit    # also: links made on 300 unseen pages (~30 s more)

Prints, in one run over the seeds (all five are tagged and resolved as one corpus; the gold
covers 001-004, see tests/data/entities_gold/README.md):

- mention precision, recall and F1 for PERSON, ORG, GPE, LOC, NORP (exact span and
  label), overall and per label, for bare spaCy NER, for our tagger with only the generic
  rules of the alias file (ethnonyms, titles, organisation words; no named entities) and
  for our full tagger;
- canonical clustering precision and recall over pairs of gold mentions the system found
  (same span, any label): a pair is right when the system gives both one entity_id exactly
  when the gold puts them in one group. The bare row uses the foundation's ids (label +
  cleaned name);
- words per second of bare spaCy NER and of ours (tag + resolve) on the same paragraphs in
  the same process, interleaved rounds, medians and the median ratio; by wall clock and by
  CPU time (the process's own CPU seconds: steadier on a shared machine).

--audit tags and resolves the human gold bodies of ../shared/boilerplate-dev (300 English
pages on other topics, read in place, never copied) and lists every fuzzy and surname link
for a person to judge: the false-merge check on text the rules were not written for.

Scope: gold paragraphs are matched to the extracted paragraphs by exact text; mentions are
scored in matched paragraphs that the pipeline sends to the English model (the others, a
language-detection matter, are counted and printed apart).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from entity_gold import EVAL_LABELS, Gold, load_gold, mention_prf, pair_prf, resolved_mentions  # noqa: E402

from pipeline.core.config import PipelineConfig  # noqa: E402
from pipeline.core.records import Article  # noqa: E402
from pipeline.core.textutil import count_words, short_id  # noqa: E402
from pipeline.stages.entities import resolve, tag  # noqa: E402
from pipeline.stages.entities.names import clean_name, load_aliases, name_key  # noqa: E402
from pipeline.stages.prepare import Prepared, prepare_document  # noqa: E402

SEEDS = REPO / "seeds"
GENERIC_ONLY = {"PERSON", "ORG", "GPE", "LOC", "FAC"}  # named [[entity]] entries dropped


def load_articles(config: PipelineConfig) -> list[Article]:
    prepared = [prepare_document(SEEDS, p.name, config) for p in sorted(SEEDS.glob("*.txt"))]
    return [p.article for p in prepared if isinstance(p, Prepared)]


def bare_model(config: PipelineConfig):
    import spacy

    return spacy.load(config.spacy_model, exclude=["tok2vec", "tagger", "parser", "attribute_ruler",
                                                   "lemmatizer", "senter"])


def bare_mentions(nlp, articles: list[Article], config: PipelineConfig) -> list[tuple]:
    """(article_id, paragraph_index, start, end, label, entity_id) from spaCy alone, foundation ids."""
    work = [(a.article_id, i, t) for a in articles for i, t in tag.taggable(a, config)]
    out = []
    for (article_id, index, _), doc in zip(work, nlp.pipe((t for _, _, t in work), batch_size=config.ner_batch_size)):
        for ent in doc.ents:
            out.append((article_id, index, ent.start_char, ent.end_char, ent.label_,
                        short_id("e", ent.label_, clean_name(ent.text))))
    return out


def ours(articles: list[Article], config: PipelineConfig, aliases) -> list[tuple]:
    layer = tag.DomainLayer(tag.load_model(config.spacy_model), aliases, config.distinctive_name_max_zipf)
    mentions, _ = resolved_mentions(tag.tag(articles, config, layer), config, aliases)
    return [(m.article_id, m.paragraph_index, m.char_start, m.char_end, m.label, m.entity_id, m)
            for m in mentions]


def print_quality(name: str, gold: Gold, rows: list[tuple]) -> tuple:
    items, ids = gold.system(rows)
    total = mention_prf(gold.items, items)
    per_label = "  ".join(f"{label} {mention_prf(gold.items, items, label).f1:.3f}" for label in EVAL_LABELS)
    pairs = pair_prf(gold.group, ids)
    print(f"{name:<22} {total.precision:6.3f} {total.recall:6.3f} {total.f1:6.3f}   {per_label}")
    return total, pairs, items, ids


def print_errors(gold: Gold, items: set[tuple], ids: dict[tuple, str], rows: list[tuple]) -> None:
    text_of = {r[:5]: (r[6].text if len(r) > 6 else "") for r in rows}
    print("\n  missed (gold not found with this span and label):")
    for g in sorted(gold.items - items):
        print(f"    {g[0][:8]} p{g[1]:<3} {g[4]:<7} {gold.text[g[:4]]!r}")
    print("  spurious (system span or label not in the gold):")
    for s in sorted(items - gold.items):
        print(f"    {s[0][:8]} p{s[1]:<3} {s[4]:<7} {text_of.get(s, '')!r}")
    by_group: dict[str, set[str]] = defaultdict(set)
    by_id: dict[str, set[str]] = defaultdict(set)
    for span, group in gold.group.items():
        if span in ids:
            by_group[group].add(ids[span])
            by_id[ids[span]].add(group)
    print("  gold groups split over several ids:")
    for group, found in sorted(by_group.items()):
        if len(found) > 1:
            texts = sorted({gold.text[s] for s, g in gold.group.items() if g == group and s in ids})
            print(f"    {group}: {len(found)} ids ({', '.join(texts)})")
    print("  ids joining several gold groups:")
    for entity_id, groups in sorted(by_id.items()):
        if len(groups) > 1:
            print(f"    {entity_id}: {sorted(groups)}")


def speed(articles: list[Article], config: PipelineConfig, nlp_bare, rounds: int, repeat: int) -> None:
    corpus = [replace(a, article_id=f"{a.article_id}-{k}") for k in range(repeat) for a in articles]
    texts = [t for a in corpus for _, t in tag.taggable(a, config)]
    words = sum(count_words(t) for t in texts)

    def run_bare() -> None:
        for doc in nlp_bare.pipe(texts, batch_size=config.ner_batch_size):
            [(e.start_char, e.end_char, e.label_) for e in doc.ents]

    def run_ours() -> None:
        clean_name.cache_clear(), name_key.cache_clear()  # as cold as a real run's resolution
        resolved_mentions(tag.tag(corpus, config), config)

    def timed(fn) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - wall, time.process_time() - cpu

    run_bare(), run_ours()  # warm-up: models loaded, caches filled
    times: dict[str, list[tuple[float, float]]] = {"bare": [], "ours": []}
    for r in range(rounds):
        order = (("bare", run_bare), ("ours", run_ours))
        for name, fn in order if r % 2 == 0 else order[::-1]:
            times[name].append(timed(fn))
    print(f"\nspeed: {len(texts)} paragraphs, {words} words per pass ({repeat}x the seeds), "
          f"{rounds} interleaved rounds, one process; medians")
    for clock, k in (("wall clock", 0), ("CPU time", 1)):
        bare = [words / t[k] for t in times["bare"]]
        ours_wps = [words / t[k] for t in times["ours"]]
        ratios = [o / b for o, b in zip(ours_wps, bare)]
        print(f"  {clock:<10}  bare spaCy NER {statistics.median(bare):7.0f} words/s   "
              f"ours (tag + resolve) {statistics.median(ours_wps):7.0f} words/s   "
              f"ratio {statistics.median(ratios):.3f} (rounds {min(ratios):.3f}-{max(ratios):.3f})")


def audit(config: PipelineConfig) -> None:
    from pipeline.core.records import Block, Extracted, Source
    from pipeline.stages.normalize import NormalizationError, normalize

    pages = sorted((REPO.parent / "shared" / "boilerplate-dev").glob("*.gold.txt"))
    articles = []
    for page in pages:
        text = page.read_text(encoding="utf-8", errors="replace")
        blocks = tuple(Block(i, line, "body") for i, line in enumerate(ln for ln in text.split("\n") if ln.strip()))
        try:
            articles.append(normalize(Extracted(Source(page.name, "0" * 64, "text", "utf-8", text, len(text)),
                                                "gold", blocks), config))
        except NormalizationError:
            continue
    mentions, _ = resolved_mentions(tag.tag(articles, config), config)
    links: dict[tuple, set] = defaultdict(set)
    for m in mentions:
        if m.resolution in (resolve.FUZZY, resolve.SURNAME):
            links[(m.label, m.canonical_name, m.resolution)].add(m.text)
    print(f"\naudit: {len(articles)} unseen pages (boilerplate-dev gold bodies), {len(mentions)} mentions, "
          f"{len(links)} entities reached by fuzzy or surname links:")
    for (label, name, how), texts in sorted(links.items()):
        print(f"  {label:<7} {name!r} <- {how}: {', '.join(sorted(texts))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="print every wrong mention and cluster")
    parser.add_argument("--audit", action="store_true", help="list the fuzzy and surname links on 300 unseen pages")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=2, help="copies of the seeds per timed pass")
    args = parser.parse_args(argv)

    config = PipelineConfig()
    articles = load_articles(config)
    gold = Gold(articles, config)
    aliases = load_aliases(config.entity_aliases)
    print(f"gold: {len(load_gold())} seeds, {gold.n_found}/{gold.n_paragraphs} gold paragraphs found in the "
          f"extraction, {len(gold.items)} mentions ({'/'.join(EVAL_LABELS)}) scored; "
          f"{gold.n_untagged} more in paragraphs not sent to the English model")
    for line in gold.missing:
        print(f"  not in the extraction: {line}")

    nlp_bare = bare_model(config)
    systems = {
        "bare spaCy NER": bare_mentions(nlp_bare, articles, config),
        "ours, generic rules": ours(articles, config, aliases.without_labels(GENERIC_ONLY)),
        "ours": ours(articles, config, aliases),
    }
    print("\nmentions (exact span and label)   P      R      F1    per-label F1")
    results = {name: print_quality(name, gold, rows) for name, rows in systems.items()}
    print("\ncanonical clustering (pairs of found gold mentions)   pairs joined: gold / system")
    for name, (_, pairs, _, _) in results.items():
        print(f"{name:<22} precision {pairs.precision:.3f}  recall {pairs.recall:.3f}   "
              f"{pairs.n_gold} / {pairs.n_system}")
    if args.errors:
        for name in ("ours",):
            _, _, items, ids = results[name]
            print(f"\nerrors of {name}:")
            print_errors(gold, items, ids, systems[name])
    speed(articles, config, nlp_bare, args.rounds, args.repeat)
    if args.audit:
        audit(config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
