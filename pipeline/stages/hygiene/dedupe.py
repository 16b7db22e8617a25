"""dedupe: exact and near-duplicate articles, flagged, never deleted.

Per document (cached with the hygiene signals): a MinHash signature of the text's word
shingles (`signature`). Corpus level (`duplicate_clusters`, called by build_tables): the
signatures go into a MinHash LSH index, each article is checked only against the
candidates LSH returns (never against every other article), candidates whose estimated
Jaccard similarity reaches the threshold are joined, and exact copies (same normalized
text) always are. Each cluster is represented by its earliest member (published date,
then source path), so clusters, representatives and similarities do not depend on the
order the articles arrive in.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.core.config import PipelineConfig
from pipeline.core.records import Article
from pipeline.core.stage import CORPUS, Stage
from pipeline.core.textutil import WORD_RE, sha256_hex, short_id

# Fixed seed and hashing scheme: the same text gives the same signature on every machine.
MINHASH_SEED = 1
MINHASH_SCHEME = "affine32"
# LSH only proposes candidates and each is verified on its estimated similarity, so the
# banding favours recall: weights (false positive, false negative) = (0.1, 0.9).
LSH_WEIGHTS = (0.1, 0.9)


def content_hash(article: Article) -> str:
    return sha256_hex(article.text)


@dataclass(frozen=True, slots=True)
class Member:
    """What duplicate detection needs of an article (a run keeps these, not whole articles)."""

    article_id: str
    precedence: tuple[str, str]  # see `precedence`
    content_sha256: str


def member(article: Article) -> Member:
    return Member(article.article_id, precedence(article), content_hash(article))


def precedence(article: Article) -> tuple[str, str]:
    """Sort key of a cluster's members: the earliest published copy represents the group."""
    return precedence_key(article.published_date, article.extracted.source.path)


def precedence_key(published_date: str | None, source_path: str) -> tuple[str, str]:
    """precedence from an article's date and path: undated copies come after dated ones, the
    source path breaks ties."""
    return (published_date or "9999-99-99", source_path)


def exact_duplicates(articles: list[Article], known: Mapping[str, str] | None = None) -> dict[str, str]:
    """article_id -> article_id of the earliest article with the same text, for every later copy.

    Earliest means already in ``known`` (content_sha256 -> article_id of a published corpus),
    else first by `precedence`, so the answer does not depend on input order.
    """
    return first_copies([(precedence(a), content_hash(a), a.article_id) for a in articles], known)


def first_copies(keyed: list[tuple[tuple[str, str], str, str]],
                 known: Mapping[str, str] | None = None) -> dict[str, str]:
    """exact_duplicates over (precedence, content hash, article_id) of each article."""
    first = dict(known or {})
    for _, digest, article_id in sorted(keyed):
        first.setdefault(digest, article_id)
    return {article_id: first[digest] for _, digest, article_id in keyed if first[digest] != article_id}


def shingles(text: str, size: int) -> set[str]:
    """Lower-cased word n-grams of the text; a text shorter than `size` words is one shingle."""
    words = WORD_RE.findall(text.lower())
    if not words:
        return set()
    return {" ".join(words[i:i + size]) for i in range(max(1, len(words) - size + 1))}


def signature(text: str, config: PipelineConfig) -> tuple[int, ...]:
    """MinHash signature of the text's word shingles; empty for a text without words."""
    grams = shingles(text, config.shingle_words)
    if not grams:
        return ()
    # datasketch is imported where it is used: it loads scipy (~1 s), which planning a run never needs.
    from datasketch import MinHash

    minhash = MinHash(num_perm=config.minhash_permutations, seed=MINHASH_SEED, scheme=MINHASH_SCHEME)
    minhash.update_batch([g.encode("utf-8") for g in sorted(grams)])
    return tuple(int(v) for v in minhash.hashvalues)


def estimated_similarity(a, b) -> float:
    """MinHash estimate of the Jaccard similarity of two texts' shingle sets (signatures as
    tuples or arrays): the share of equal slots."""
    if len(a) == 0 or len(a) != len(b):
        raise ValueError("signatures must be non-empty and of the same length")
    # The mean of the equal slots, as count / length: the same float, without np.mean's overhead.
    return round(np.count_nonzero(np.asarray(a) == np.asarray(b)) / len(a), 6)


@dataclass(frozen=True)
class DuplicateInfo:
    """An article's place in its duplicate cluster (articles in no cluster have none)."""

    duplicate_of: str | None  # the cluster's representative; None for the representative itself
    cluster: str  # stable id derived from the representative's article_id
    similarity: float  # estimated Jaccard similarity with the representative (1.0 for it)


def cluster_id(representative_id: str) -> str:
    return short_id("d", representative_id)


class Joins:
    """Union-find over articles in precedence order (by position), exact copies joined from the
    start: what duplicate_clusters and the persisted index (dedupe_index) build clusters with."""

    def __init__(self, ordered: list[Member]):
        self.ordered = ordered
        self.parent = list(range(len(ordered)))
        self.first_with_text: dict[str, int] = {}  # content_sha256 -> position of its first copy
        for i, m in enumerate(ordered):
            self.join(i, self.first_with_text.setdefault(m.content_sha256, i))

    def root(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        ri, rj = self.root(i), self.root(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)

    def groups(self) -> list[list[Member]]:
        """The clusters, each in precedence order."""
        groups: dict[int, list[Member]] = {}
        for i, m in enumerate(self.ordered):
            groups.setdefault(self.root(i), []).append(m)
        return list(groups.values())


def duplicate_clusters(articles: list[Member], signatures: Mapping[str, tuple[int, ...]],
                       config: PipelineConfig) -> dict[str, DuplicateInfo]:
    """article_id -> DuplicateInfo for every article (`member`) that has an exact or near duplicate."""
    ordered = sorted(articles, key=lambda m: m.precedence)
    joins = Joins(ordered)
    position = {a.article_id: i for i, a in enumerate(ordered)}

    signed = [a for a in ordered if signatures[a.article_id]]
    lengths = {len(signatures[a.article_id]) for a in signed}
    if len(lengths) > 1:
        raise ValueError(f"MinHash signatures of different lengths {sorted(lengths)}: mixed configs")
    if signed:
        from datasketch import LeanMinHash, MinHashLSH  # see `signature`

        lsh = MinHashLSH(threshold=config.near_duplicate_min_similarity, num_perm=lengths.pop(),
                         weights=LSH_WEIGHTS)
        values = {a.article_id: np.asarray(signatures[a.article_id], dtype=np.uint64) for a in signed}
        # LeanMinHash: rebuilding a full MinHash from stored values recomputes its permutations.
        minhashes = {i: LeanMinHash(seed=MINHASH_SEED, scheme=MINHASH_SCHEME, hashvalues=v) for i, v in values.items()}
        for article in signed:
            lsh.insert(article.article_id, minhashes[article.article_id])
        for article in signed:
            own = article.article_id
            for other in sorted(lsh.query(minhashes[own])):
                # Each pair once (from its first member in id order); order does not matter.
                if other > own and \
                        estimated_similarity(values[own], values[other]) >= config.near_duplicate_min_similarity:
                    joins.join(position[own], position[other])
    return cluster_infos(joins.groups(), signatures)


def cluster_infos(groups: Iterable[list[Member]], signatures: Mapping[str, Sequence[int]]) -> dict[str, DuplicateInfo]:
    """article_id -> DuplicateInfo for the members of every group of two or more articles (the
    connected components of `duplicate_clusters`), each group in precedence order."""
    clusters = {}
    for group in groups:
        if len(group) < 2:
            continue
        representative = group[0]
        rep_signature = signatures[representative.article_id]
        cluster = cluster_id(representative.article_id)
        for article in group:
            is_copy = article.content_sha256 == representative.content_sha256
            similarity = 1.0 if is_copy else estimated_similarity(signatures[article.article_id], rep_signature)
            clusters[article.article_id] = DuplicateInfo(
                duplicate_of=None if article is representative else representative.article_id,
                cluster=cluster,
                similarity=similarity,
            )
    return clusters


DUPLICATES = Stage("duplicates", "dedupe_minhash_lsh_v1", CORPUS, duplicate_clusters,
                   reads=("near_duplicate_min_similarity",))
