"""dedupe: exact and near-duplicate clusters with MinHash LSH, on the real seeds; the persisted
index (dedupe_index) against them."""
from __future__ import annotations

import random
import shutil
from dataclasses import replace

import numpy as np
from conftest import SEEDS, SHARED

from pipeline.core.config import PipelineConfig
from pipeline.core.records import Article, Block, Extracted, Source
from pipeline.core.textutil import sha256_hex
from pipeline.stages.hygiene import dedupe
from pipeline.stages.hygiene.dedupe_index import DuplicateIndex
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
    return dedupe.duplicate_clusters([dedupe.member(a) for a in articles], signatures, config)


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


# The persisted index (dedupe_index): every update equals duplicate_clusters from scratch.

_SIGNATURES: dict[str, tuple[int, ...]] = {}


def _signature(text: str, config: PipelineConfig = CONFIG) -> tuple[int, ...]:
    key = f"{config.shingle_words}/{config.minhash_permutations}/{text}"
    if key not in _SIGNATURES:
        _SIGNATURES[key] = dedupe.signature(text, config)
    return _SIGNATURES[key]


def _texts(n_pages: int | None = 40, n_words: int | None = 300) -> list[str]:
    """Real texts: the seeds and the openings of boilerplate-dev page dumps."""
    pages = sorted((SHARED / "boilerplate-dev").glob("*.dump.txt"))[:n_pages]
    assert pages, "../shared/boilerplate-dev is missing"
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    return texts + [" ".join(p.read_text(encoding="utf-8").split()[:n_words]) for p in pages]


class _Corpus:
    """Articles (id -> date, path, text) changed at random: near copies with a few words edited,
    exact copies, copies with a stretch rewritten (near the threshold), texts without words."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.pool = _texts()
        self.articles: dict[str, tuple[str | None, str, str]] = {}
        self.next_id = 0

    def _text(self) -> str:
        rng, existing = self.rng, [t for _, _, t in self.articles.values()]
        kind = rng.random()
        if kind < 0.3 or not existing:
            return rng.choice(self.pool)
        source = rng.choice(existing).split() or ["empty"]
        if kind < 0.6:  # a few words edited: stays a near duplicate
            for _ in range(rng.randint(1, 4)):
                source[rng.randrange(len(source))] = f"edit{rng.randrange(10**6)}"
        elif kind < 0.85:  # a stretch rewritten: around the threshold, sometimes a bridge
            length = int(len(source) * rng.uniform(0.15, 0.45))
            start = rng.randrange(max(1, len(source) - length))
            source[start:start + length] = rng.choice(self.pool).split()[:length]
        elif kind < 0.95:
            pass  # an exact copy
        else:
            return "... --- !!!"
        return " ".join(source)

    def _date(self) -> str | None:
        return self.rng.choice([None, "2021-03-01", "2021-03-02", "2021-04-10"])

    def step(self) -> None:
        rng = self.rng
        for _ in range(rng.choice([1, 1, 1, 2, 5])):
            op = rng.random()
            ids = sorted(self.articles)
            if op < 0.45 or len(ids) < 5:
                aid = f"art{self.next_id:04d}"
                self.next_id += 1
                self.articles[aid] = (self._date(), f"site{rng.randrange(9)}/{aid}.html", self._text())
            elif op < 0.75:
                aid = rng.choice(ids)
                date, path, text = self.articles[aid]
                if rng.random() < 0.3:
                    self.articles[aid] = (self._date(), path, text)  # another date: another representative
                else:
                    self.articles[aid] = (date, path, self._text())
            else:
                del self.articles[rng.choice(ids)]

    def members(self) -> list[dedupe.Member]:
        members = [dedupe.Member(aid, dedupe.precedence_key(date, path), sha256_hex(text))
                   for aid, (date, path, text) in self.articles.items()]
        self.rng.shuffle(members)
        return members

    def signatures(self, config: PipelineConfig = CONFIG) -> dict[str, tuple[int, ...]]:
        return {aid: _signature(text, config) for aid, (_, _, text) in self.articles.items()}


class _Counting:
    """signature_of that records the articles it was asked for."""

    def __init__(self, signatures: dict[str, tuple[int, ...]]):
        self.signatures, self.calls = signatures, []

    def __call__(self, article_id: str) -> tuple[int, ...]:
        self.calls.append(article_id)
        return self.signatures[article_id]


def test_index_updates_equal_duplicate_clusters_from_scratch(tmp_path):
    corpus = _Corpus(seed=7)
    index, stored = DuplicateIndex(CONFIG), {}
    sizes = set()
    for step in range(60):
        corpus.step()
        members, signatures = corpus.members(), corpus.signatures()
        signature_of = _Counting(signatures)
        result = index.update(members, signature_of)
        expected = dedupe.duplicate_clusters(members, signatures, CONFIG)
        assert result == expected, step
        assert DuplicateIndex(CONFIG).update(members, signatures.__getitem__) == expected
        # Only new and changed articles are signed again.
        changed = {m.article_id for m in members if stored.get(m.article_id) != m}
        assert sorted(signature_of.calls) == sorted(changed)
        stored = {m.article_id: m for m in members}
        sizes.update(sum(i.cluster == c for i in result.values()) for c in {i.cluster for i in result.values()})
        if step % 7 == 6:  # continue from the saved file
            index.save(tmp_path / "index" / "duplicates.parquet")
            index = DuplicateIndex.load(tmp_path / "index" / "duplicates.parquet", CONFIG)
            assert len(index) == len(members)
    assert max(sizes) >= 4 and len(corpus.articles) >= 20  # the walk built real clusters


def test_saved_index_round_trips_and_skips_unchanged_articles(tmp_path):
    corpus = _Corpus(seed=11)
    for _ in range(25):
        corpus.step()
    members, signatures = corpus.members(), corpus.signatures()
    index = DuplicateIndex(CONFIG)
    expected = index.update(members, signatures.__getitem__)
    path = tmp_path / "duplicates.parquet"
    index.save(path)
    first = path.read_bytes()
    index.save(path)
    assert path.read_bytes() == first  # the same index, the same bytes
    assert [p.name for p in tmp_path.iterdir()] == ["duplicates.parquet"]  # no temporary left behind
    loaded = DuplicateIndex.load(path, CONFIG)
    signature_of = _Counting(signatures)
    assert loaded.update(members, signature_of) == expected
    assert signature_of.calls == []
    # One removal after a load: still only the touched clusters change, still equal.
    del corpus.articles[sorted(corpus.articles)[0]]
    members = corpus.members()
    assert loaded.update(members, signature_of) == dedupe.duplicate_clusters(members, corpus.signatures(), CONFIG)
    assert signature_of.calls == []


def test_an_index_built_with_other_parameters_or_unreadable_is_rebuilt(tmp_path):
    corpus = _Corpus(seed=3)
    for _ in range(20):
        corpus.step()
    members = corpus.members()
    path = tmp_path / "duplicates.parquet"
    index = DuplicateIndex(CONFIG)
    index.update(members, corpus.signatures().__getitem__)
    index.save(path)
    for config in (replace(CONFIG, near_duplicate_min_similarity=0.7), replace(CONFIG, shingle_words=4)):
        signatures = corpus.signatures(config)
        signature_of = _Counting(signatures)
        rebuilt = DuplicateIndex.load(path, config)
        assert len(rebuilt) == 0
        assert rebuilt.update(members, signature_of) == dedupe.duplicate_clusters(members, signatures, config)
        assert sorted(signature_of.calls) == sorted(m.article_id for m in members)
    path.write_bytes(b"not a parquet file")
    assert len(DuplicateIndex.load(path, CONFIG)) == 0
    assert len(DuplicateIndex.load(tmp_path / "absent.parquet", CONFIG)) == 0


def _synthetic(n: int, copies: int, texts: list[str]) -> tuple[list[dedupe.Member], np.ndarray]:
    """n members in groups of `copies` near-copies of the signatures of 150-word stretches of
    `texts` (up to 11 slots changed each, so they stay near duplicates)."""
    rng = np.random.default_rng(0)
    words = [w for t in texts for w in t.split()]
    bases = [dedupe.signature(" ".join(words[i:i + 150]), CONFIG) for i in range(0, len(words) - 150, 150)]
    bases = np.array(bases[:-(-n // copies)], dtype=np.uint32)
    signatures = np.repeat(bases, copies, axis=0)[:n]
    for row in signatures:
        slots = rng.choice(signatures.shape[1], rng.integers(0, 12), replace=False)
        row[slots] = rng.integers(0, 2**32, len(slots), dtype=np.uint64)
    members = [dedupe.Member(f"a{i:05d}", dedupe.precedence_key(f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}",
                                                                 f"src/{i:05d}.html"), f"{i:064x}")
               for i in range(n)]
    return members, signatures


def test_one_change_reclusters_only_the_clusters_it_touches(monkeypatch):
    from pipeline.stages.hygiene import dedupe_index

    members, signatures = _synthetic(1200, 12, _texts())
    by_id = {m.article_id: tuple(s.tolist()) for m, s in zip(members, signatures)}
    index = DuplicateIndex(CONFIG)
    index.update(members[:-1], by_id.__getitem__)
    reclustered = []
    real = dedupe_index.cluster_infos
    monkeypatch.setattr(dedupe_index, "cluster_infos",
                        lambda groups, sigs: reclustered.append(len(sigs)) or real(groups, sigs))
    for step in (members, members[1:]):  # one add (to a cluster of 11), one removal (from 12)
        assert index.update(step, by_id.__getitem__) == dedupe.duplicate_clusters(step, by_id, CONFIG)
    assert reclustered == [12, 11]  # the cluster with the new article; the one it left
