"""dedupe: exact and near-duplicate clusters with MinHash LSH, on the real seeds."""
from __future__ import annotations

import random
import shutil
from dataclasses import replace

from conftest import SEEDS

from pipeline.core.config import PipelineConfig
from pipeline.core.records import Article, Block, Extracted, Source
from pipeline.stages.hygiene import dedupe
from pipeline.stages.normalize import normalize
from pipeline.stages.prepare import prepare_document

CONFIG = PipelineConfig()



def _article(path: str, paragraphs: list[str], date: str | None = None) -> Article:
    text = "\n".join(paragraphs)
    source = Source(path=path, sha256="0" * 64, format="text", encoding="utf-8", text=text, n_bytes=len(text))
    blocks = tuple(Block(i, p, "body") for i, p in enumerate(paragraphs))
    return normalize(Extracted(source=source, extractor="test", blocks=blocks, published_date=date), CONFIG)


def _clusters(articles: list[Article], config: PipelineConfig = CONFIG) -> dict[str, dedupe.DuplicateInfo]:
    signatures = {a.article_id: dedupe.signature(a.text, config) for a in articles}
    return dedupe.duplicate_clusters(articles, signatures, config)


def test_seeds_000_and_001_form_the_only_cluster(seed_articles):
    clusters = _clusters(list(seed_articles.values()))
    ids = {prefix: a.article_id for prefix, a in seed_articles.items()}
    assert set(clusters) == {ids["000"], ids["001"]}
    assert clusters[ids["000"]].cluster == clusters[ids["001"]].cluster
    # The earlier published copy (then the first source path) represents the story.
    rep, member = sorted((seed_articles["000"], seed_articles["001"]),
                         key=lambda a: (a.published_date or "9999-99-99", a.extracted.source.path))
    assert clusters[rep.article_id].duplicate_of is None
    assert clusters[rep.article_id].similarity == 1.0
    assert clusters[member.article_id].duplicate_of == rep.article_id
    # 000 is a page dump with site chrome, 001 a clean copy: similar, not identical.
    assert CONFIG.near_duplicate_min_similarity <= clusters[member.article_id].similarity < 1.0


def test_clusters_and_representatives_do_not_depend_on_input_order(seed_articles):
    articles = list(seed_articles.values())
    copy = replace(seed_articles["004"], article_id="a-copy-of-004",
                   extracted=replace(seed_articles["004"].extracted,
                                     source=replace(seed_articles["004"].extracted.source, path="zzz/copy.txt")))
    articles.append(copy)
    expected = _clusters(articles)
    for seed in range(5):
        shuffled = articles[:]
        random.Random(seed).shuffle(shuffled)
        assert _clusters(shuffled) == expected
    # The exact copy joins 004, which represents it (earlier source path), with similarity 1.0.
    assert expected[copy.article_id].duplicate_of == seed_articles["004"].article_id
    assert expected[copy.article_id].similarity == 1.0
    assert expected[seed_articles["004"].article_id].duplicate_of is None


def test_the_earliest_published_copy_represents_the_cluster():
    story = [f"Paragraph {i} of a wire story about the harbour, the ferry timetable and the weather "
             f"that week, told at some length so that shingles repeat across copies ({i})." for i in range(8)]
    later = _article("a/first-by-path.txt", story, date="2021-05-02")
    earlier = _article("z/last-by-path.txt", story[:-1] + ["A different closing paragraph written by the site."],
                       date="2021-05-01")
    undated = _article("m/undated.txt", story)
    clusters = _clusters([later, earlier, undated])
    assert {info.duplicate_of for info in clusters.values()} == {None, earlier.article_id}
    assert clusters[earlier.article_id].duplicate_of is None
    assert clusters[earlier.article_id].similarity == 1.0
    assert len({info.cluster for info in clusters.values()}) == 1


def test_unrelated_texts_stay_apart_and_the_threshold_is_respected():
    base = [f"Sentence {i}: the council met on Tuesday to discuss bus routes, parking and the new library."
            for i in range(20)]
    half = base[:10] + [f"Entirely new line {i} about football results, transfers and the coach's plans."
                        for i in range(10)]
    a, b = _article("a.txt", base), _article("b.txt", half)
    similarity = dedupe.estimated_similarity(dedupe.signature(a.text, CONFIG), dedupe.signature(b.text, CONFIG))
    strict = replace(CONFIG, near_duplicate_min_similarity=min(1.0, similarity + 0.2))
    loose = replace(CONFIG, near_duplicate_min_similarity=max(0.05, similarity - 0.2))
    assert _clusters([a, b], strict) == {}
    assert set(_clusters([a, b], loose)) == {a.article_id, b.article_id}


def test_lsh_checks_candidates_only_not_every_pair(monkeypatch):
    rng = random.Random(3)
    vocabulary = [f"w{i}" for i in range(5000)]
    articles = [_article(f"doc{i:03d}.txt", [" ".join(rng.choice(vocabulary) for _ in range(120))])
                for i in range(120)]
    articles.append(_article("doc-copy.txt", [articles[0].text]))
    calls = []
    real = dedupe.estimated_similarity
    monkeypatch.setattr(dedupe, "estimated_similarity", lambda a, b: calls.append(1) or real(a, b))
    clusters = _clusters(articles)
    assert set(clusters) == {articles[0].article_id, articles[-1].article_id}
    n = len(articles)
    assert len(calls) < n * (n - 1) // 2 / 20


def test_signature_is_stable_and_empty_without_words():
    text = "The same words give the same signature on every run and machine."
    assert dedupe.signature(text, CONFIG) == dedupe.signature(text, CONFIG)
    assert len(dedupe.signature(text, CONFIG)) == CONFIG.minhash_permutations
    assert all(isinstance(v, int) for v in dedupe.signature(text, CONFIG))
    assert dedupe.signature("... --- !!!", CONFIG) == ()
    # Case and punctuation do not matter: shingles are lower-cased words.
    assert dedupe.signature("Hello, World! Again.", CONFIG) == dedupe.signature("hello world again", CONFIG)


def test_identical_files_in_the_seed_folder_are_one_cluster(tmp_path, seed_articles):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    original = next(SEEDS.glob("002_*.txt"))
    shutil.copy(original, seeds / original.name)
    shutil.copy(original, seeds / "copy_of_002.txt")
    articles = [prepare_document(seeds, name, CONFIG).article for name in (original.name, "copy_of_002.txt")]
    clusters = _clusters(articles)
    assert {i.similarity for i in clusters.values()} == {1.0}
    # "0..." sorts before "c...": the seed file represents its copy.
    assert clusters[articles[1].article_id].duplicate_of == articles[0].article_id
