"""resolve: every mention of the corpus -> one canonical entity per real entity.

Corpus-level (it needs all articles' mentions): ``resolve_mentions``, after tag, before the tables.
Each mention gets the entity's `canonical_name`, its stable `entity_id` and a
`resolution` saying how it was linked:

- ``exact``: written as the canonical name (after cleanup: possessive, leading "the" and
  titles are already outside the span);
- ``normalized``: same normalisation key as the canonical name (case, accents,
  punctuation, transliteration: Serikzhan/Serikjan, Tokayev/Tokaev, Kazakh/Kazakhs);
- ``alias``: another name the alias file gives for the entity (CCP, U.N., pseudonyms);
- ``variant``: the same name by a generic variant rule (names.is_variant), no list needed:
  without spaces or hyphens (Kassym-Jomart/Kassymjomart), or, for other labels than PERSON,
  the same content words in another order with function words added or dropped and a word
  in its plural or nationality form ("World Association of Kazakhs" / "World Kazakh
  Association", "Central Bank of Russia" / "Russian Central Bank");
- ``fuzzy``: a misspelling or variant within the same label, found with rapidfuzz behind
  guard rails (below): Nazarbayev/Nazerbayev, Maxutkanuly/Maxuthan, Kazkahstan;
- ``short_form``: one word of a full PERSON name written in the same article
  ("Bilash" after "Serikzhan Bilash", "Xi" after "Xi Jinping");
- ``surname``: a lone surname in an article without the full name, when it is a
  distinctive word (rare in English: `distinctive_name_max_zipf`), exactly one person in
  the corpus has a surname like it, and the two articles share another uncommon entity
  ("Nazarbayev" -> "Nursultan Nazerbayev", both stories naming Kazakhstan);
- ``catalog``: a known entity's name in a paragraph the model cannot read (catalog_match).

Guard rails against false merges (names.surnames_agree, names.same_person: misspellings keep
their consonants and shape; initials and a missing middle name only under a rare surname;
acronyms of the alias file only in articles of its domain): only mentions of one label merge; two full person names
merge only if surnames agree AND given names agree (equal, an initial, or fuzzy above
`person_name_min_similarity`), so namesakes with other first names and Ivanov/Ivanova stay
apart; merging is complete-link (every pair of inferred names in a cluster must agree, so
chains A~B~C cannot join A and C); other names need the same word count, the same first
letter, at least `fuzzy_name_min_chars` characters and every word alike; a short form or
surname that fits two people stays an entity of its own; two alias-file entities never merge.

Stable ids: ``entity_id = short_id("e", label, anchor)`` where the anchor is the key of the
alias file's canonical name when the entity is declared there, and otherwise the smallest
normalisation key among the entity's multi-word names (among all its names if it has
none). The anchor depends only on the entity's own names, never on other entities, on
article order or on counts: adding unrelated documents changes no id. The
`canonical_name` shown is the alias file's name, or else the longest-form spelling used by
most mentions (short forms count for the full name they stand for; ties: alphabetical).
"""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from pipeline.core import schema
from pipeline.core.config import PipelineConfig
from pipeline.core.stage import CORPUS, Stage
from pipeline.core.textutil import short_id
from pipeline.stages.entities.catalog_match import CATALOG, CatalogEntity, CatalogMatcher, CatalogMention
from pipeline.stages.entities.names import (
    NAME_LABELS,
    AliasEntity,
    AliasFile,
    PersonName,
    clean_name,
    compact,
    consonant_skeleton,
    is_distinctive,
    is_variant,
    load_aliases,
    name_key,
    names_agree,
    same_person,
    surname_stem,
    surnames_agree,
    variant_block,
    word_zipf,
)

EXACT, NORMALIZED, ALIAS, VARIANT, FUZZY, SHORT_FORM, SURNAME = (
    "exact", "normalized", "alias", "variant", "fuzzy", "short_form", "surname")
RESOLUTIONS = (EXACT, NORMALIZED, ALIAS, VARIANT, FUZZY, SHORT_FORM, SURNAME, CATALOG)

# Entities named with words this common (Zipf) are no evidence that two articles tell one story.
MAX_CONTEXT_ZIPF = 4.0
_ACRONYM = re.compile(r"(?:[^\W\d_]\.?){3,}")  # CCP, ODIHR, U.S.A., КНР; two letters (US, UN) are not


# A distinct name: (label, key), or (label, key, article_id) for a short form that fits
# two people of its article (an entity of its own there).
_Node = tuple


@dataclass(frozen=True)
class FoundNames:
    """The distinct (article, label, text) of a corpus's mentions, in order of first mention,
    with their numbers of mentions: columns of indices into the distinct articles and the
    distinct (label, text) pairs.

    Every mention of one resolves alike, so resolution works on these: a corpus's millions of
    mentions cost only their distinct names. And the same (label, text) recurs in thousands of
    articles, so what depends only on it (cleanup, key) is worked out once per pair.
    """

    article: np.ndarray  # index into articles
    pair: np.ndarray  # index into labels and texts
    count: np.ndarray
    articles: list[str]
    labels: list[str]  # of each distinct (label, text)
    texts: list[str]

    def __len__(self) -> int:
        return len(self.article)

    @classmethod
    def of(cls, tagged: pa.Table) -> tuple[FoundNames, np.ndarray]:
        """The found names of schema.TAGGED rows, and each row's index among them."""
        (article, articles), (label, labels), (text, texts) = (
            _codes(tagged[c]) for c in ("article_id", "label", "text"))
        n_texts = text.max(initial=0) + 1
        pairs, pair = _first_seen(label * n_texts + text)
        width = max(len(pairs), 1)
        names, name_of_row = _first_seen(article * width + pair)  # in order of first mention
        return cls(names // width, names % width, np.bincount(name_of_row, minlength=len(names)), articles,
                   [labels[i] for i in (pairs // n_texts).tolist()],
                   [texts[i] for i in (pairs % n_texts).tolist()]), name_of_row

    def extended(self, names: list[tuple[str, str, str]]) -> FoundNames:
        """These found names followed by one of one mention per (article_id, label, text) given."""
        article_index = {a: i for i, a in enumerate(self.articles)}
        pair_index = {p: i for i, p in enumerate(zip(self.labels, self.texts))}
        article = [article_index.setdefault(a, len(article_index)) for a, _, _ in names]
        pair = [pair_index.setdefault((label, text), len(pair_index)) for _, label, text in names]
        return FoundNames(np.concatenate([self.article, np.array(article, np.int64)]),
                          np.concatenate([self.pair, np.array(pair, np.int64)]),
                          np.concatenate([self.count, np.ones(len(names), np.int64)]),
                          list(article_index), [label for label, _ in pair_index], [text for _, text in pair_index])


@dataclass(frozen=True, slots=True)
class Resolution:
    canonical_name: str
    entity_id: str
    how: str  # the `resolution` column


def _is_multiword(node: _Node) -> bool:
    return " " in node[1]


class _NodeIds:
    """A number for each node: per-name arrays hold these, not tuples."""

    def __init__(self):
        self.nodes: list[_Node] = []
        self.index: dict[_Node, int] = {}

    def of(self, node: _Node) -> int:
        number = self.index.get(node)
        if number is None:
            number = self.index[node] = len(self.nodes)
            self.nodes.append(node)
        return number

    def __len__(self) -> int:
        return len(self.nodes)


class _Groups:
    """The members of numbered groups (the articles naming a node, the entities an article
    names), as one sorted array: a lookup costs numpy time, not a Python set per group."""

    def __init__(self, group: np.ndarray, member: np.ndarray):
        width = int(member.max(initial=0)) + 1
        pairs = _distinct(group.astype(np.int64) * width + member)
        self.group, self.member = pairs // width, pairs % width

    def of(self, groups) -> np.ndarray:
        """The members of these groups (repeated where groups share one)."""
        groups = np.asarray(groups, dtype=np.int64)
        starts = np.searchsorted(self.group, groups, "left")
        lengths = np.searchsorted(self.group, groups, "right") - starts
        index = np.arange(lengths.sum()) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        return self.member[index]


@dataclass
class _Cluster:
    nodes: set = field(default_factory=set)
    alias: AliasEntity | None = None


class _Clusters:
    """Union-find over name nodes; the root of a cluster is its smallest node."""

    def __init__(self):
        self.parent: dict[_Node, _Node] = {}
        self.clusters: dict[_Node, _Cluster] = {}

    def add(self, node: _Node, alias: AliasEntity | None = None) -> None:
        if node not in self.parent:
            self.parent[node] = node
            self.clusters[node] = _Cluster({node}, alias)

    def find(self, node: _Node) -> _Node:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def of(self, node: _Node) -> _Cluster:
        return self.clusters[self.find(node)]

    def union(self, a: _Node, b: _Node) -> None:
        ra, rb = sorted((self.find(a), self.find(b)))
        if ra == rb:
            return
        ca, cb = self.clusters.pop(ra), self.clusters.pop(rb)
        self.parent[rb] = ra
        self.clusters[ra] = _Cluster(ca.nodes | cb.nodes, ca.alias or cb.alias)


class Resolver:
    """Resolution over one corpus's mentions (see the module docstring)."""

    def __init__(self, config: PipelineConfig, aliases: AliasFile | None = None):
        self.aliases = aliases if aliases is not None else load_aliases(config.entity_aliases)
        self.person_min = config.person_name_min_similarity
        self.other_min = config.other_name_min_similarity
        self.min_chars = config.fuzzy_name_min_chars
        self.max_zipf = config.distinctive_name_max_zipf
        self._words_written: dict[str, set[str]] = defaultdict(set)

    # -- guard rails

    def _persons_agree(self, a: _Node, b: _Node) -> float | None:
        if compact(a[1]) == compact(b[1]):  # Kassym-Jomart / Kassymjomart
            return 100.0
        pa, pb = PersonName.from_key(a[1]), PersonName.from_key(b[1])
        if not (pa and pb):
            return None
        # Initials and a missing middle name join only under a rare surname: there is one
        # Gene (A.) Bunin, but A.J. Green is not Alex Green.
        return same_person(pa, pb, self.person_min, self._rare(pa.last) and self._rare(pb.last))

    def _rare(self, key_word: str, max_zipf: float | None = None) -> bool:
        """Whether a word of a name key is rare in English as the corpus writes it (keys fold
        spellings: "brovn" is Brown)."""
        limit = self.max_zipf if max_zipf is None else max_zipf
        return all(word_zipf(w) < limit for w in self._words_written.get(key_word) or {key_word})

    def _agree(self, a: _Node, b: _Node) -> float | None:
        if a[0] == "PERSON":
            return self._persons_agree(a, b)
        if is_variant(a[1], b[1]):
            return 100.0
        score = names_agree(a[1], b[1], self.other_min, self.min_chars)
        if score is not None and " " not in a[1] and not self._misspelt(a[1], b[1]):
            return None
        return score

    def _misspelt(self, a: str, b: str) -> bool:
        """Two one-word names as written are one word misspelt: same length and consonants
        (Kazkahstan/Kazakhstan); McIntosh is not Macintosh, nor Challenger Challenge."""
        return any(len(x) == len(y) and consonant_skeleton(x) == consonant_skeleton(y)
                   for x in self._words_written.get(a) or {a} for y in self._words_written.get(b) or {b})

    def _declared(self, cluster: _Cluster) -> set:
        alias = cluster.alias
        if alias is None:
            return set()
        return {(alias.label, name_key(form, alias.label)) for form in alias.forms}

    def _can_merge(self, clusters: _Clusters, a: _Node, b: _Node) -> bool:
        """Complete link: every inferred name of one cluster agrees with every inferred name
        of the other, and with at least one declared (alias-file) name of the other, if any."""
        ca, cb = clusters.of(a), clusters.of(b)
        if ca.alias is not None and cb.alias is not None and ca.alias != cb.alias:
            return False
        da, db = self._declared(ca), self._declared(cb)
        person = a[0] == "PERSON"
        xs = [n for n in ca.nodes - da if not person or _is_multiword(n)]
        ys = [n for n in cb.nodes - db if not person or _is_multiword(n)]
        if not all(self._agree(x, y) is not None for x in xs for y in ys):
            return False
        for inferred, declared in ((xs, db), (ys, da)):
            if declared and not all(any(self._agree(x, d) is not None for d in declared) for x in inferred):
                return False
        return True

    # -- candidate pairs

    @staticmethod
    def _similar_strings(strings: list[str], min_score: float, stem=None) -> list[tuple[str, str]]:
        """Pairs (a < b) alike enough to deserve a closer look; blocked by first letter."""
        blocks: dict[str, list[str]] = defaultdict(list)
        for s in sorted(set(strings)):
            blocks[s[:1]].append(s)
        pairs = []
        for block in blocks.values():
            if len(block) < 2:
                continue
            keys = [stem(s) for s in block] if stem else block
            scores = process.cdist(keys, keys, scorer=fuzz.ratio, score_cutoff=max(0.0, min_score - 5),
                                   dtype=np.uint8)
            for i, j in zip(*np.nonzero(scores)):
                if i < j:
                    pairs.append((block[i], block[j]))
        return pairs

    def _fuzzy_edges(self, nodes: list[_Node]) -> list[tuple[float, _Node, _Node]]:
        """Pairs of distinct names of one label that may be one name, most alike first."""
        edges = []
        by_surname: dict[str, list[_Node]] = defaultdict(list)
        for node in sorted(n for n in nodes if n[0] == "PERSON" and _is_multiword(n)):
            by_surname[PersonName.from_key(node[1]).last].append(node)
        surname_pairs = [(s, s) for s in by_surname]
        surname_pairs += self._similar_strings(list(by_surname), self.person_min, surname_stem)
        for s1, s2 in surname_pairs:
            if surnames_agree(s1, s2, self.person_min) is None:
                continue
            for a in by_surname[s1]:
                for b in by_surname[s2]:
                    if a < b and (score := self._persons_agree(a, b)) is not None:
                        edges.append((score, a, b))
        others: dict[str, list[str]] = defaultdict(list)
        for node in nodes:
            if node[0] != "PERSON" and node[0] in NAME_LABELS:
                others[node[0]].append(node[1])
        for label, keys in sorted(others.items()):
            for k1, k2 in self._similar_strings(keys, self.other_min):
                if (score := names_agree(k1, k2, self.other_min, self.min_chars)) is not None:
                    edges.append((score, (label, k1), (label, k2)))
        edges += self._variant_edges([n for n in nodes if n[0] in NAME_LABELS])
        return sorted(set(edges), key=lambda e: (-e[0], e[1], e[2]))

    def _variant_edges(self, nodes: list[_Node]) -> list[tuple[float, _Node, _Node]]:
        """Pairs of names that the generic variant rules make one (names.is_variant): the same
        name without spaces, and, for other labels than PERSON, the same content words in
        another order or form (blocked by their first letters)."""
        same_compact: dict[tuple, list[_Node]] = defaultdict(list)
        same_words: dict[tuple, list[_Node]] = defaultdict(list)
        for node in sorted(nodes):
            same_compact[(node[0], compact(node[1]))].append(node)
            if node[0] != "PERSON" and (block := variant_block(node[1])) is not None:
                same_words[(node[0], block)].append(node)
        pairs = [(a, b) for block in same_compact.values() for i, a in enumerate(block) for b in block[i + 1:]]
        pairs += [(a, b) for block in same_words.values() for i, a in enumerate(block) for b in block[i + 1:]
                  if is_variant(a[1], b[1])]
        return [(100.0, a, b) for a, b in pairs]

    # -- short forms and surnames

    def _short_forms(self, found: FoundNames, names: list[str], pair_nodes: list[_Node]) -> tuple[np.ndarray, np.ndarray]:
        """Each found name's index of the full name it stands for in its article: for single-word
        PERSON names and multi-word surnames ("Di Matteo"), a full name; for the others, itself.

        Also returns the indices of the names that fit several people of their article.
        """
        target = np.arange(len(found))
        is_person = np.array([label == "PERSON" for label in found.labels], dtype=bool)
        rows = np.flatnonzero(is_person[found.pair])
        rows = rows[np.argsort(found.article[rows], kind="stable")]  # by article, in order of first mention
        starts = np.flatnonzero(np.diff(found.article[rows], prepend=-1)).tolist() + [len(rows)]
        rows, pair_of, count_of = rows.tolist(), found.pair.tolist(), found.count.tolist()
        keys = [node[1] for node in pair_nodes]
        words = [tuple(key.split()) for key in keys]
        aliased = [node in self.aliases.by_key for node in pair_nodes]
        given_ok: dict[int, bool] = {}  # pair -> whether its name is rare enough to be a given name alone
        all_agree: dict[tuple[str, ...], bool] = {}
        short_for: dict[int, int] = {}
        ambiguous: list[int] = []
        for start, end in zip(starts, starts[1:]):
            indices = rows[start:end]
            full: dict[str, list[int]] = defaultdict(list)
            for i in indices:
                if len(words[pair_of[i]]) > 1:
                    full[keys[pair_of[i]]].append(i)
            if not full:
                continue
            # The article's full names by their surname, given name and endings of two words or more.
            by_last, by_first, by_ending = defaultdict(list), defaultdict(list), defaultdict(list)
            for k, where in full.items():
                person, key_words = _person_name(k), words[pair_of[where[0]]]
                by_last[person.last].append(k)
                by_first[person.first].append(k)
                for n in range(2, len(key_words)):
                    by_ending[key_words[-n:]].append(k)
            for i in indices:
                p = pair_of[i]
                key = keys[p]
                if aliased[p]:
                    continue
                if len(words[p]) > 1:  # a multi-word surname: "Di Matteo" of "Roberto Di Matteo"
                    candidates = by_ending.get(words[p], [])
                else:  # a given name alone only when rare: "Aliya", not "Tim" or "James" (anybody's)
                    candidates = by_last.get(key, [])
                    if key in by_first:
                        if p not in given_ok:
                            given_ok[p] = is_distinctive(names[p], self.max_zipf)
                        if given_ok[p]:
                            candidates = set(candidates) | set(by_first[key])
                if not candidates:
                    continue
                candidates = tuple(sorted(candidates))
                if candidates not in all_agree:
                    all_agree[candidates] = all(self._persons_agree(("PERSON", a), ("PERSON", b)) is not None
                                                for a in candidates for b in candidates if a < b)
                if all_agree[candidates]:
                    best = min(candidates, key=lambda k: (-sum(count_of[j] for j in full[k]), k))
                    short_for[i] = full[best][0]
                else:
                    ambiguous.append(i)
        for i, j in short_for.items():  # "Little" -> "Max Little" -> "Max A. Little": the longest
            while j in short_for:
                j = short_for[j]
            target[i] = j
        return target, np.array(ambiguous, np.int64)

    def _surname_links(self, clusters: _Clusters, plain: list[_Node], written: dict,
                       articles_of: _Groups, ids: _NodeIds) -> dict[_Node, _Node]:
        """Lone single-word PERSON names -> a full name of the one person whose surname fits.

        Only distinctive words of four letters or more ("Nazarbayev", not "James" or "Brown":
        a common one may be anybody's first name, or no name at all), and only when an article
        with the lone name and one with the full name share another, uncommon entity (seed 002's
        "Nazarbayev" and seed 004's "Nursultan Nazerbayev" both name Kazakhstan): one corpus
        holds many stories, and Redick of a basketball report is not Josh Reddick of a baseball
        one.
        """
        context = self._article_context(clusters, articles_of, ids)
        roots_by_surname: dict[str, set] = defaultdict(set)
        example: dict[_Node, _Node] = {}
        for node in sorted(plain):
            if node[0] == "PERSON" and _is_multiword(node):
                root = clusters.find(node)
                roots_by_surname[PersonName.from_key(node[1]).last].add(root)
                example.setdefault(root, node)
        by_letter: dict[str, list[str]] = defaultdict(list)
        for surname in sorted(roots_by_surname):
            by_letter[surname[:1]].append(surname)
        links = {}
        for node in sorted(plain):
            if node[0] != "PERSON" or _is_multiword(node):
                continue
            cluster = clusters.of(node)
            if cluster.alias is not None or any(_is_multiword(n) for n in cluster.nodes):
                continue
            if len(node[1]) < 4 or not all(is_distinctive(name, self.max_zipf) for name in written.get(node, ())):
                continue
            near = process.extract(node[1], by_letter.get(node[1][:1], []), scorer=fuzz.ratio,
                                   score_cutoff=max(0.0, self.person_min - 5), limit=None)
            roots = {root for surname, _, _ in near
                     if surnames_agree(node[1], surname, self.person_min) is not None
                     for root in roots_by_surname[surname]}
            if len(roots) == 1:
                root = roots.pop()
                near_name = context.of(articles_of.of([ids.of(node)]))
                near_person = context.of(articles_of.of([ids.of(n) for n in clusters.clusters[root].nodes]))
                shared = set(near_name.tolist()) & set(near_person.tolist())
                if shared - {ids.of(root), ids.of(clusters.find(node))}:
                    links[node] = example[root]
        return links

    def _aliases_out_of_context(self, found: FoundNames, names: list[str], pair_nodes: list[_Node]) -> np.ndarray:
        """Names the alias file gives an entity that stay names of their own in their article:
        an acronym of three letters or more in an article naming no other uncommon alias-file
        entity (an acronym means different things in different stories: CCP the party, CCP
        Games; CPC, cost per click), and a name written in lowercase letters where the file
        has only an acronym ("Us" is not US)."""
        lowercase, acronym, context = 1, 2, 3
        kind = np.zeros(len(names), np.int8)  # of each (label, text) pair
        for p, (name, node) in enumerate(zip(names, pair_nodes)):
            if node not in self.aliases.by_key:
                continue
            forms = [f for f in self.aliases.by_key[node].forms if name_key(f, node[0]) == node[1]]
            if not name.isupper() and forms and all(f.isupper() for f in forms):
                kind[p] = lowercase  # "Us" (Us Weekly, "Join Us") is not the acronym US
            elif _ACRONYM.fullmatch(name) and name.replace(".", "").isupper():
                kind[p] = acronym
            elif all(self._rare(w, MAX_CONTEXT_ZIPF) for w in node[1].split()):
                kind[p] = context
        kind = kind[found.pair]
        acronyms = np.flatnonzero(kind == acronym)
        in_context = np.isin(found.article[acronyms], found.article[kind == context])
        return np.concatenate([np.flatnonzero(kind == lowercase), acronyms[~in_context]])

    def _article_context(self, clusters: _Clusters, articles_of: _Groups, ids: _NodeIds) -> _Groups:
        """Article -> the uncommon entities it names (every word of the name rarer in English
        than MAX_CONTEXT_ZIPF: Kazakhstan and Atajurt, not "U.S." or "China"), as the numbers
        of their clusters' roots."""
        root = np.full(len(ids), -1, np.int64)
        for number in _distinct(articles_of.group).tolist():
            node = ids.nodes[number]
            if node[0] in NAME_LABELS and node in clusters.parent and all(
                    self._rare(w, MAX_CONTEXT_ZIPF) for w in node[1].split()):
                root[number] = ids.of(clusters.find(node))
        named = root[articles_of.group]
        return _Groups(articles_of.member[named >= 0], named[named >= 0])

    # -- entities

    @staticmethod
    def _entity(cluster: _Cluster, spellings: dict) -> tuple[str, str, str]:
        """(canonical_name, entity_id, key of the canonical name) of one cluster."""
        label = next(iter(cluster.nodes))[0]
        if cluster.alias is not None:
            key = name_key(cluster.alias.name, label)
            return cluster.alias.name, short_id("e", label, key), key
        keys = sorted({n[1] for n in cluster.nodes})
        full = [k for k in keys if " " in k] or keys
        anchor = full[0]
        most_words = max(len(k.split()) for k in full)
        written: Counter = Counter()
        for node in cluster.nodes:
            if len(node[1].split()) == most_words:
                written.update(spellings.get(node, {}))
        canonical = min(written.items(), key=lambda pair: (-pair[1], pair[0]))[0] if written else anchor
        return canonical, short_id("e", label, anchor), name_key(canonical, label)

    def _how(self, name: str, node: _Node, canonical: str, canonical_key: str) -> str:
        if name == canonical:
            return EXACT
        if node[1] == canonical_key:
            return NORMALIZED
        if node[:2] in self.aliases.by_key:
            return ALIAS
        if compact(node[1]) == compact(canonical_key) or (node[0] != "PERSON" and is_variant(node[1], canonical_key)):
            return VARIANT
        return FUZZY

    def resolve_names(self, found: FoundNames) -> tuple[np.ndarray, list[Resolution]]:
        """The resolution of each found name, as its index into the resolutions returned."""
        names = [clean_name(text) for text in found.texts]  # of each (label, text) pair
        pair_nodes: list[_Node] = [(label, name_key(name, label)) for label, name in zip(found.labels, names)]
        target, ambiguous = self._short_forms(found, names, pair_nodes)
        short = target != np.arange(len(found))
        ids = _NodeIds()
        node = np.array([ids.of(n) for n in pair_nodes], np.int64)[found.pair]  # of each found name

        def own_nodes(rows: np.ndarray) -> list[int]:
            """Names that are an entity of their own in their article: (label, key, article_id)."""
            return [ids.of((*pair_nodes[p], found.articles[a]))
                    for p, a in zip(found.pair[rows].tolist(), found.article[rows].tolist())]

        node[ambiguous] = own_nodes(ambiguous)
        self._words_written = defaultdict(set)  # key word -> the words it was written as
        for (_, key), name in zip(pair_nodes, names):
            key_words, name_words = key.split(), name.replace("-", " ").split()
            if len(key_words) == len(name_words):
                for k, w in zip(key_words, name_words):
                    self._words_written[k].add(w.casefold())
        written: dict[_Node, set[str]] = defaultdict(set)  # the names each node is written as (_surname_links)
        plain_rows = np.ones(len(found), bool)
        plain_rows[ambiguous] = False
        for p in _distinct(found.pair[plain_rows]).tolist():
            written[pair_nodes[p]].add(names[p])
        articles_of = _Groups(node[target], found.article)
        out_of_context = self._aliases_out_of_context(found, names, pair_nodes)
        node[out_of_context] = own_nodes(out_of_context)

        clusters = _Clusters()
        for number in _first_seen(node[~short])[0].tolist():
            clusters.add(ids.nodes[number], self.aliases.by_key.get(ids.nodes[number]))
        for entity in self.aliases.entities:
            anchor = (entity.label, name_key(entity.name, entity.label))
            clusters.add(anchor, entity)
        for n in list(clusters.parent):
            entity = self.aliases.by_key.get(n)
            if entity is not None:
                clusters.union(n, (entity.label, name_key(entity.name, entity.label)))

        plain = sorted(n for n in clusters.parent if len(n) == 2)
        for _, a, b in self._fuzzy_edges(plain):
            if clusters.find(a) != clusters.find(b) and self._can_merge(clusters, a, b):
                clusters.union(a, b)
        by_surname = self._surname_links(clusters, plain, written, articles_of, ids)
        for n, linked in by_surname.items():
            clusters.union(n, linked)

        # A short form's mentions count for the spelling of the full name it stands for.
        n_pairs = len(names)
        spelt, where = _first_seen(node[target] * n_pairs + found.pair[target])
        totals = np.bincount(where, weights=found.count, minlength=len(spelt)).astype(np.int64)
        spellings: dict[_Node, Counter] = defaultdict(Counter)
        for number, total in zip(spelt.tolist(), totals.tolist()):
            spellings[ids.nodes[number // n_pairs]][names[number % n_pairs]] += total
        entity_of: dict[_Node, tuple[str, str, str]] = {}

        # One resolution per (node, pair) as written, or per full name a short form stands for.
        combos, resolution = _first_seen(node[target] * (n_pairs + 1) + np.where(short, 0, found.pair + 1))
        resolutions = []
        for combo in combos.tolist():
            number, p = divmod(combo, n_pairs + 1)
            n = ids.nodes[number]
            root = clusters.find(n)
            if root not in entity_of:
                entity_of[root] = self._entity(clusters.clusters[root], spellings)
            canonical, entity_id, canonical_key = entity_of[root]
            if p == 0:
                how = SHORT_FORM
            elif n in by_surname:
                how = SURNAME
            else:
                how = self._how(names[p - 1], n, canonical, canonical_key)
            resolutions.append(Resolution(canonical, entity_id, how))
        return resolution, resolutions


def _first_seen(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values in order of first occurrence, and each value's index among them
    (Arrow's hash table: no sort of millions of values)."""
    values = pa.array(values, pa.int64())
    distinct = pc.unique(values)
    return distinct.to_numpy(), pc.index_in(values, value_set=distinct).to_numpy().astype(np.int64)


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted: np.unique, by sorting (numpy 2's hash table is many times slower on
    millions of integers)."""
    values = np.sort(values)
    return values[np.concatenate([values[:1] == values[:1], values[1:] != values[:-1]])]


@lru_cache(maxsize=1 << 16)
def _person_name(key: str) -> PersonName | None:
    return PersonName.from_key(key)


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    """Each value's index among the column's distinct values, and those values."""
    values = pc.unique(column)
    return pc.index_in(column, value_set=values).to_numpy().astype(np.int64), values.to_pylist()


def resolve_mentions(tagged: pa.Table, published: dict[str, str | None], config: PipelineConfig,
                     aliases: AliasFile | None = None) -> tuple[pa.Table, pa.Table]:
    """(entities, entity_catalog) tables from the tagged mentions (schema.TAGGED rows) of the
    whole corpus; `published`: article_id -> ISO date or None.

    Resolution runs once per distinct (article, label, text), in order of first mention
    (FoundNames), and its outcome is copied to every mention of it. Then the paragraphs
    the tag stage sent as catalog requests are searched for the resolved entities
    (catalog_match). ``aliases``: the config's alias file unless given (benchmarks compare others).
    """
    resolver = Resolver(config, aliases)
    is_request = pc.equal(tagged["tagged_by"], CATALOG)
    requests, tagged = tagged.filter(is_request), tagged.filter(pc.invert(is_request))
    found, name_of_mention = FoundNames.of(tagged)
    resolution, resolutions = resolver.resolve_names(found)
    of_mention = resolution[name_of_mention]
    entities = tagged
    for name, values in (("canonical_name", [r.canonical_name for r in resolutions]),
                         ("entity_id", [r.entity_id for r in resolutions]),
                         ("resolution", [r.how for r in resolutions])):
        entities = entities.append_column(schema.ENTITIES.schema.field(name),
                                          pa.array(values, pa.string()).take(of_mention))
    entities = entities.select(schema.ENTITIES.schema.names)
    if requests.num_rows:
        matched = _catalog_mentions(requests, found, resolution, resolutions, resolver.aliases, resolver.person_min)
        entities = pa.concat_tables([entities, schema.to_arrow(schema.ENTITIES, matched)])
        found = found.extended([(m["article_id"], m["label"], m["text"]) for m in matched])
        resolution = np.concatenate([resolution, np.arange(len(resolutions), len(resolutions) + len(matched))])
        resolutions = resolutions + [Resolution(m["canonical_name"], m["entity_id"], CATALOG) for m in matched]
    catalog = schema.to_arrow(schema.ENTITY_CATALOG, entity_catalog_rows(found, resolution, resolutions, published))
    return schema.sorted_table(schema.ENTITIES, entities), catalog


def _catalog_mentions(requests: pa.Table, found: FoundNames, resolution: np.ndarray, resolutions: list[Resolution],
                      aliases: AliasFile, person_min: float) -> list[dict]:
    """entities rows for the catalog's names in the requested paragraphs (catalog_match)."""
    # Each (name, entity) once, in order of first mention: the matcher keeps sets, so repeats change nothing.
    width = max(len(resolutions), 1)
    combos, _ = _first_seen(found.pair * width + resolution)
    named = dict.fromkeys(
        (clean_name(found.texts[p]), CatalogEntity(resolutions[r].entity_id, resolutions[r].canonical_name, label))
        for p, r in (divmod(c, width) for c in combos.tolist())
        if (label := found.labels[p]) in NAME_LABELS)
    matcher = CatalogMatcher(list(named), aliases, person_min)
    matches: dict[str, list[CatalogMention]] = {}  # a paragraph repeated across articles is matched once
    rows = []
    for article_id, paragraph_index, text in zip(*(requests[c].to_pylist()
                                                    for c in ("article_id", "paragraph_index", "text"))):
        if text not in matches:
            matches[text] = matcher.match(text)
        for m in matches[text]:
            rows.append({"article_id": article_id, "paragraph_index": paragraph_index,
                         "char_start": m.char_start, "char_end": m.char_end, "text": m.text,
                         "label": m.entity.label, "canonical_name": m.entity.canonical_name,
                         "entity_id": m.entity.entity_id, "resolution": CATALOG, "tagged_by": CATALOG})
    return rows


def entity_catalog_rows(found: FoundNames, resolution: np.ndarray, resolutions: list[Resolution],
                        published: dict[str, str | None]) -> list[dict]:
    """One `entity_catalog` row per entity, in order of first mention; `resolution`: each found
    name's index into `resolutions`; `published`: article_id -> ISO date or None."""
    if not len(found):
        return []
    numbers: dict[str, int] = {}
    of_resolution = np.array([numbers.setdefault(r.entity_id, len(numbers)) for r in resolutions], np.int64)
    _, entity = _first_seen(of_resolution[resolution])  # entities numbered in order of first mention
    n_entities, n_articles = entity.max() + 1, len(found.articles)
    seen = np.maximum.accumulate(entity)
    first = np.flatnonzero(np.concatenate([[True], seen[1:] > seen[:-1]]))  # each entity's first found name
    mentions = np.bincount(entity, weights=found.count, minlength=n_entities).astype(np.int64)
    in_article = _distinct(entity * n_articles + found.article)
    articles = np.bincount(in_article // n_articles, minlength=n_entities)
    # Dates as day numbers (-1: none); an entity's first and last over its articles.
    day = np.array([dt.date.fromisoformat(d).toordinal() if (d := published.get(a)) else -1
                    for a in found.articles], np.int64)
    dated = in_article[day[in_article % n_articles] >= 0]
    first_day = np.full(n_entities, np.iinfo(np.int64).max)
    last_day = np.full(n_entities, -1)
    np.minimum.at(first_day, dated // n_articles, day[dated % n_articles])
    np.maximum.at(last_day, dated // n_articles, day[dated % n_articles])
    # Aliases: the distinct clean names of each entity's found names.
    spelling: dict[str, int] = {}
    of_pair = np.array([spelling.setdefault(clean_name(t), len(spelling)) for t in found.texts], np.int64)
    spellings = list(spelling)
    aliases: list[list[str]] = [[] for _ in range(n_entities)]
    for combo in _distinct(entity * len(spellings) + of_pair[found.pair]).tolist():
        aliases[combo // len(spellings)].append(spellings[combo % len(spellings)])
    out = []
    for e, row in enumerate(first.tolist()):
        r = resolutions[resolution[row]]
        out.append({
            "entity_id": r.entity_id, "canonical_name": r.canonical_name, "label": found.labels[found.pair[row]],
            "aliases": sorted(aliases[e]), "n_mentions": int(mentions[e]), "n_articles": int(articles[e]),
            "first_published": dt.date.fromordinal(int(first_day[e])) if last_day[e] >= 0 else None,
            "last_published": dt.date.fromordinal(int(last_day[e])) if last_day[e] >= 0 else None,
        })
    return out


RESOLVE = Stage(
    "resolve", "resolve_entities_v2", CORPUS, resolve_mentions,
    reads=("entity_aliases", "distinctive_name_max_zipf", "person_name_min_similarity",
           "other_name_min_similarity", "fuzzy_name_min_chars"),
    resources=lambda config: {"entity_aliases_sha256": load_aliases(config.entity_aliases).sha256,
                              # keys of names in every script, and which words are common
                              "anyascii": metadata.version("anyascii"), "wordfreq": metadata.version("wordfreq")})
