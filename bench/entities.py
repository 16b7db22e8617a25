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
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from entity_gold import (  # noqa: E402
    EVAL_LABELS,
    Gold,
    cyrillic_gold,
    load_gold,
    mention_prf,
    pair_prf,
    resolved_mentions,
    text_article,
)
from news_gold import news_gold  # noqa: E402

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
    """Every join of two different names, over all human gold bodies of boilerplate-dev and
    boilerplate-more (1,343 English pages on other topics, read in place), for a person to judge."""
    from extraction_sets import more_pages_dir

    pages = sorted((REPO.parent / "shared" / "boilerplate-dev").glob("*.gold.txt"))
    pages += sorted(more_pages_dir().glob("*.gold.txt"))
    articles = [a for p in pages
                if (a := text_article(p.name, p.read_text(encoding="utf-8", errors="replace"), config)) is not None]
    print_audit(articles, tag.tag(articles, config), config)


def print_audit(articles: list[Article], tagged: list, config: PipelineConfig) -> None:
    mentions, _ = resolved_mentions(tagged, config)
    source_of = {a.article_id: a.extracted.source.path for a in articles}
    names: dict[str, dict[str, tuple[str, set[str]]]] = defaultdict(dict)  # entity -> key -> (how, pages)
    label_of, canonical_of = {}, {}
    for m in mentions:
        key = name_key(clean_name(m.text), m.label)
        how, where = names[m.entity_id].setdefault(key, (m.resolution, set()))
        where.add(source_of[m.article_id])
        label_of[m.entity_id], canonical_of[m.entity_id] = m.label, m.canonical_name
    joins = {e: keys for e, keys in names.items() if len(keys) > 1}

    def within_one_article(entity_id: str) -> bool:
        """Joined only as short forms, each on a page where the entity's full name stands."""
        keys = joins[entity_id].values()
        full_pages = {p for how, where in keys if how != resolve.SHORT_FORM for p in where}
        return ({how for how, _ in keys} <= {resolve.EXACT, resolve.NORMALIZED, resolve.SHORT_FORM}
                and all(where <= full_pages for how, where in keys if how == resolve.SHORT_FORM))

    print(f"\naudit: {len(articles)} gold bodies (boilerplate-dev and boilerplate-more), {len(mentions)} mentions, "
          f"{len(names)} entities; {len(joins)} join two or more different names (by label: "
          + ", ".join(f"{lab} {n}" for lab, n in sorted(Counter(label_of[e] for e in joins).items())) + ")")
    for title, part in (("joins by a rule across names or articles (fuzzy, surname, variant, alias, catalog)", False),
                        ("short forms of a full name in the same article", True)):
        chosen = sorted((e for e in joins if within_one_article(e) == part),
                        key=lambda e: (label_of[e], canonical_of[e]))
        print(f"\n{title}: {len(chosen)}")
        for entity_id in chosen:
            parts = [f"{k!r} [{how}; {', '.join(sorted(where)[:2])}{' ...' if len(where) > 2 else ''}]"
                     for k, (how, where) in sorted(joins[entity_id].items())]
            print(f"  {label_of[entity_id]:<7} {canonical_of[entity_id]!r}: " + " + ".join(parts))


def evaluate(title: str, articles: list[Article], gold: Gold, config: PipelineConfig, nlp_bare, aliases,
             errors: bool) -> dict[str, tuple]:
    """Print mention and clustering quality of the three systems on one gold set."""
    print(f"\n== {title}: {gold.n_found}/{gold.n_paragraphs} gold paragraphs found, {len(gold.items)} mentions "
          f"({'/'.join(EVAL_LABELS)}) scored; {gold.n_untagged} more in paragraphs not sent to the English model")
    for line in gold.missing:
        print(f"  not in the articles: {line}")
    systems = {
        "bare spaCy NER": bare_mentions(nlp_bare, articles, config),
        "ours, generic rules": ours(articles, config, aliases.without_labels(GENERIC_ONLY)),
        "ours, with aliases": ours(articles, config, aliases),
    }
    print("mentions (exact span and label)   P      R      F1    per-label F1")
    results = {name: print_quality(name, gold, rows) for name, rows in systems.items()}
    print("canonical clustering (pairs of found gold mentions)   pairs joined: gold / system")
    for name, (_, pairs, _, _) in results.items():
        print(f"{name:<22} precision {pairs.precision:.3f}  recall {pairs.recall:.3f}   "
              f"{pairs.n_gold} / {pairs.n_system}")
    if errors:
        for name in ("ours, generic rules", "ours, with aliases"):
            _, _, items, ids = results[name]
            print(f"\nerrors of {name}:")
            print_errors(gold, items, ids, systems[name])
    return {name: (*result, systems[name]) for name, result in results.items()}


def same_entity(rows: list[tuple], names: tuple[str, ...]) -> str:
    """Whether every mention written as one of the names has one entity_id."""
    ids = {r[5] for r in rows if len(r) > 6 and r[6].text in names}
    return "one id" if len(ids) == 1 else f"{len(ids)} ids"


@dataclass
class CatalogScore:
    right: int  # gold mentions of seed entities found with their span and linked to the right entity
    total: int
    wrong: list[tuple[str, str, list[str]]]  # (text, entity linked, gold groups there)


def cyrillic_score(config: PipelineConfig, alias_file, seed_articles: list[Article]) -> CatalogScore:
    """Catalog matches in the hand-written Russian and Kazakh paragraphs, with the seeds as the corpus."""
    articles, gold_paragraphs = cyrillic_gold(config)
    gold = Gold(articles, config, gold_paragraphs, other_languages=True)
    seed_gold = Gold(seed_articles, config)
    rows = ours(seed_articles + articles, config, alias_file)
    # The right entity: one the seeds' English mentions of the gold group resolve to (a group
    # the English side splits has several).
    right_ids: dict[str, set[str]] = defaultdict(set)
    _, ids = seed_gold.system(rows)
    for span, group in seed_gold.group.items():
        if span in ids:
            right_ids[group].add(ids[span])
    found = {r[:4]: r[6] for r in rows if r[:2] in gold.scope}
    linked = [(span, group) for span, group in gold.group.items() if not group.startswith("new:")]
    right = sum(span in found and found[span].entity_id in right_ids[group] for span, group in linked)
    wrong = []
    for span, mention in sorted(found.items()):
        overlapping = [g for g_span, g in gold.group.items()
                       if g_span[:2] == span[:2] and g_span[2] < span[3] and span[2] < g_span[3]]
        if not any(mention.entity_id in right_ids[g] for g in overlapping):
            wrong.append((mention.text, mention.canonical_name, overlapping))
    return CatalogScore(right, len(linked), wrong)


def cyrillic(config: PipelineConfig, aliases, seed_articles: list[Article]) -> None:
    articles, gold_paragraphs = cyrillic_gold(config)
    n_new = sum(m.group.startswith("new:") for ps in gold_paragraphs.values() for p in ps for m in p.mentions)
    print(f"\n== Cyrillic paragraphs (tests/data/entities_cyrillic): {len(articles)} Russian and Kazakh paragraphs, "
          f"the seeds as the corpus; {n_new} mentions of other entities must stay unlinked")
    for name, alias_file in (("ours, generic rules", aliases.without_labels(GENERIC_ONLY)),
                             ("ours, with aliases", aliases)):
        score = cyrillic_score(config, alias_file, seed_articles)
        print(f"{name:<22} found and linked to the right entity {score.right}/{score.total} "
              f"({score.right / score.total:.3f}); linked wrongly: {len(score.wrong)}")
        for text, canonical, groups in score.wrong:
            print(f"    wrong: {text!r} -> {canonical!r} (gold: {', '.join(groups) or 'no name'})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="print every wrong mention and cluster")
    parser.add_argument("--held-out", action="store_true",
                        help="also score the held-out third of the news gold (report it only at the end)")
    parser.add_argument("--audit", action="store_true",
                        help="list every link but exact ones over all boilerplate-dev and -more gold texts")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=2, help="copies of the seeds per timed pass")
    args = parser.parse_args(argv)

    config = PipelineConfig()
    aliases = load_aliases(config.entity_aliases)
    nlp_bare = bare_model(config)
    articles = load_articles(config)
    results = evaluate(f"seeds 001-004 ({len(load_gold())} files of tests/data/entities_gold)", articles,
                       Gold(articles, config), config, nlp_bare, aliases, args.errors)
    world = ("World Kazakh Association", "World Association of Kazakhs")
    print(f"{' and '.join(map(repr, world))}: " + ", ".join(
        f"{same_entity(results[name][-1], world)} ({name})" for name in ("ours, generic rules", "ours, with aliases")))
    parts = ["development"] + (["held-out"] if args.held_out else [])
    for part in parts:
        news_articles, news = news_gold(part, config)
        evaluate(f"news on other topics, {part} part ({len(news_articles)} pages, tests/data/entities_gold_news)",
                 news_articles, Gold(news_articles, config, news), config, nlp_bare, aliases, args.errors)
    cyrillic(config, aliases, articles)
    speed(articles, config, nlp_bare, args.rounds, args.repeat)
    if args.audit:
        audit(config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
