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
from functools import cache
from importlib import metadata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from pipeline.core import schema
from pipeline.core.config import PipelineConfig
from pipeline.core.stage import CORPUS, Stage
from pipeline.core.textutil import short_id
from pipeline.stages.entities.catalog_match import CATALOG, CatalogEntity, CatalogMatcher
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


@dataclass(frozen=True, slots=True)
class NameInArticle:
    """One distinct (article, label, text) of the mentions, with its number of mentions.

    Every mention of it resolves alike, so resolution works on these: a corpus's millions
    of mentions cost only their distinct names.
    """

    article_id: str
    label: str
    text: str
    count: int = 1


@dataclass(frozen=True, slots=True)
class Resolution:
    canonical_name: str
    entity_id: str
    how: str  # the `resolution` column


def _is_multiword(node: _Node) -> bool:
    return " " in node[1]


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

    def _short_forms(self, found: list[NameInArticle], nodes: list[_Node]) -> tuple[dict[int, int], set[int]]:
        """Single-word PERSON names, and multi-word surnames ("Di Matteo"), -> index of the full name
        they stand for in their article.

        Also returns the single words that fit several people of their article.
        """
        by_article: dict[str, list[int]] = defaultdict(list)
        for i, name in enumerate(found):
            if name.label == "PERSON":
                by_article[name.article_id].append(i)
        short_for: dict[int, int] = {}
        ambiguous: set[int] = set()
        for indices in by_article.values():
            full: dict[str, list[int]] = defaultdict(list)
            for i in indices:
                if _is_multiword(nodes[i]):
                    full[nodes[i][1]].append(i)
            parts = {k: PersonName.from_key(k) for k in full}
            mentions_of = {k: sum(found[i].count for i in where) for k, where in full.items()}
            for i in indices:
                key = nodes[i][1]
                if nodes[i] in self.aliases.by_key:
                    continue
                if _is_multiword(nodes[i]):  # a multi-word surname: "Di Matteo" of "Roberto Di Matteo"
                    words = key.split()
                    candidates = sorted(k for k in full if len(k.split()) > len(words)
                                        and k.split()[-len(words):] == words)
                else:  # a given name alone only when rare: "Aliya", not "Tim" or "James" (anybody's)
                    given_ok = is_distinctive(clean_name(found[i].text), self.max_zipf)
                    candidates = sorted(k for k, p in parts.items() if key == p.last or (given_ok and key == p.first))
                if not candidates:
                    continue
                if all(self._persons_agree(("PERSON", a), ("PERSON", b)) is not None
                       for a in candidates for b in candidates if a < b):
                    best = min(candidates, key=lambda k: (-mentions_of[k], k))
                    short_for[i] = full[best][0]
                else:
                    ambiguous.add(i)
        for i, j in short_for.items():  # "Little" -> "Max Little" -> "Max A. Little": the longest
            while j in short_for:
                j = short_for[j]
            short_for[i] = j
        return short_for, ambiguous

    def _surname_links(self, clusters: _Clusters, plain: list[_Node], written: dict,
                       articles_of: dict[_Node, set[str]]) -> dict[_Node, _Node]:
        """Lone single-word PERSON names -> a full name of the one person whose surname fits.

        Only distinctive words of four letters or more ("Nazarbayev", not "James" or "Brown":
        a common one may be anybody's first name, or no name at all), and only when an article
        with the lone name and one with the full name share another, uncommon entity (seed 002's
        "Nazarbayev" and seed 004's "Nursultan Nazerbayev" both name Kazakhstan): one corpus
        holds many stories, and Redick of a basketball report is not Josh Reddick of a baseball
        one.
        """
        context = self._article_context(clusters, articles_of)
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
                near_name = {r for a in articles_of[node] for r in context.get(a, ())}
                near_person = {r for n in clusters.clusters[root].nodes
                               for a in articles_of.get(n, ()) for r in context.get(a, ())}
                shared = near_name & near_person
                if shared - {root, clusters.find(node)}:
                    links[node] = example[root]
        return links

    def _aliases_out_of_context(self, found: list[NameInArticle], names: list[str], nodes: list[_Node]) -> list[int]:
        """Names the alias file gives an entity that stay names of their own in their article:
        an acronym of three letters or more in an article naming no other uncommon alias-file
        entity (an acronym means different things in different stories: CCP the party, CCP
        Games; CPC, cost per click), and a name written in lowercase letters where the file
        has only an acronym ("Us" is not US)."""
        in_context: set[str] = set()
        acronyms, lowercase = [], []
        for i, (name, node) in enumerate(zip(names, nodes)):
            if node not in self.aliases.by_key:
                continue
            forms = [f for f in self.aliases.by_key[node].forms if name_key(f, node[0]) == node[1]]
            if not name.isupper() and forms and all(f.isupper() for f in forms):
                lowercase.append(i)  # "Us" (Us Weekly, "Join Us") is not the acronym US
            elif _ACRONYM.fullmatch(name) and name.replace(".", "").isupper():
                acronyms.append(i)
            elif all(self._rare(w, MAX_CONTEXT_ZIPF) for w in node[1].split()):
                in_context.add(found[i].article_id)
        return lowercase + [i for i in acronyms if found[i].article_id not in in_context]

    def _article_context(self, clusters: _Clusters, articles_of: dict[_Node, set[str]]) -> dict[str, set]:
        """Article -> the uncommon entities it names (every word of the name rarer in English
        than MAX_CONTEXT_ZIPF: Kazakhstan and Atajurt, not "U.S." or "China")."""
        context: dict[str, set] = defaultdict(set)
        for node, articles in articles_of.items():
            if node[0] in NAME_LABELS and node in clusters.parent and all(
                    self._rare(w, MAX_CONTEXT_ZIPF) for w in node[1].split()):
                root = clusters.find(node)
                for a in articles:
                    context[a].add(root)
        return context

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

    def resolve_names(self, found: list[NameInArticle]) -> list[Resolution]:
        """The resolution of each distinct name of each article, in order."""
        # Once per distinct text and (label, name): the same names recur in thousands of articles.
        clean, node_for = cache(clean_name), cache(lambda label, name: (label, name_key(name, label)))
        names = [clean(f.text) for f in found]
        nodes: list[_Node] = [node_for(f.label, n) for f, n in zip(found, names)]
        short_for, ambiguous = self._short_forms(found, nodes)
        for i in ambiguous:
            nodes[i] = (*nodes[i], found[i].article_id)
        written: dict[_Node, set[str]] = defaultdict(set)
        articles_of: dict[_Node, set[str]] = defaultdict(set)
        self._words_written = defaultdict(set)  # key word -> the words it was written as
        for i, node in enumerate(nodes):
            written[node].add(names[i])
            articles_of[nodes[short_for.get(i, i)]].add(found[i].article_id)
            key_words, name_words = node[1].split(), names[i].replace("-", " ").split()
            if len(key_words) == len(name_words):
                for k, w in zip(key_words, name_words):
                    self._words_written[k].add(w.casefold())
        for i in self._aliases_out_of_context(found, names, nodes):
            nodes[i] = (*nodes[i], found[i].article_id)

        clusters = _Clusters()
        for i, node in enumerate(nodes):
            if i not in short_for:
                clusters.add(node, self.aliases.by_key.get(node))
        for entity in self.aliases.entities:
            anchor = (entity.label, name_key(entity.name, entity.label))
            clusters.add(anchor, entity)
        for node in list(clusters.parent):
            entity = self.aliases.by_key.get(node)
            if entity is not None:
                clusters.union(node, (entity.label, name_key(entity.name, entity.label)))

        plain = sorted(n for n in clusters.parent if len(n) == 2)
        for _, a, b in self._fuzzy_edges(plain):
            if clusters.find(a) != clusters.find(b) and self._can_merge(clusters, a, b):
                clusters.union(a, b)
        by_surname = self._surname_links(clusters, plain, written, articles_of)
        for node, target in by_surname.items():
            clusters.union(node, target)

        spellings: dict[_Node, Counter] = defaultdict(Counter)
        for i, f in enumerate(found):
            j = short_for.get(i, i)
            spellings[nodes[j]][names[j]] += f.count
        entity_of = {root: self._entity(cluster, spellings) for root, cluster in clusters.clusters.items()}

        resolved = []
        for i in range(len(found)):
            node = nodes[short_for.get(i, i)]
            canonical, entity_id, canonical_key = entity_of[clusters.find(node)]
            if i in short_for:
                how = SHORT_FORM
            elif nodes[i] in by_surname:
                how = SURNAME
            else:
                how = self._how(names[i], nodes[i], canonical, canonical_key)
            resolved.append(Resolution(canonical, entity_id, how))
        return resolved


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, list]:
    """Each value's index among the column's distinct values, and those values."""
    values = pc.unique(column)
    return pc.index_in(column, value_set=values).to_numpy().astype(np.int64), values.to_pylist()


def resolve_mentions(tagged: pa.Table, published: dict[str, str | None], config: PipelineConfig,
                     aliases: AliasFile | None = None) -> tuple[pa.Table, pa.Table]:
    """(entities, entity_catalog) tables from the tagged mentions (schema.TAGGED rows) of the
    whole corpus; `published`: article_id -> ISO date or None.

    Resolution runs once per distinct (article, label, text), in order of first mention
    (NameInArticle), and its outcome is copied to every mention of it. Then the paragraphs
    the tag stage sent as catalog requests are searched for the resolved entities
    (catalog_match). ``aliases``: the config's alias file unless given (benchmarks compare others).
    """
    resolver = Resolver(config, aliases)
    is_request = pc.equal(tagged["tagged_by"], CATALOG)
    requests, tagged = tagged.filter(is_request), tagged.filter(pc.invert(is_request))
    (article, articles), (label, labels), (text, texts) = (
        _codes(tagged[c]) for c in ("article_id", "label", "text"))
    key = (article * (label.max(initial=0) + 1) + label) * (text.max(initial=0) + 1) + text
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # distinct names by first mention
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    name_of_mention = rank[inverse.reshape(-1)]
    counts = np.bincount(name_of_mention, minlength=len(order)).tolist()
    rows = first[order]
    # Each distinct string once in memory: a name's text repeats across thousands of articles.
    found = [NameInArticle(articles[a], labels[lab], texts[t], n) for a, lab, t, n in
             zip(article[rows].tolist(), label[rows].tolist(), text[rows].tolist(), counts)]
    resolved = resolver.resolve_names(found)
    entities = tagged
    for name, values in (("canonical_name", [r.canonical_name for r in resolved]),
                         ("entity_id", [r.entity_id for r in resolved]),
                         ("resolution", [r.how for r in resolved])):
        entities = entities.append_column(schema.ENTITIES.schema.field(name),
                                          pa.array(values, pa.string()).take(name_of_mention))
    entities = entities.select(schema.ENTITIES.schema.names)
    if requests.num_rows:
        matched = _catalog_mentions(requests, found, resolved, resolver.aliases, resolver.person_min)
        entities = pa.concat_tables([entities, schema.to_arrow(schema.ENTITIES, matched)])
        found += [NameInArticle(m["article_id"], m["label"], m["text"]) for m in matched]
        resolved += [Resolution(m["canonical_name"], m["entity_id"], CATALOG) for m in matched]
    catalog = schema.to_arrow(schema.ENTITY_CATALOG, entity_catalog_rows(found, resolved, published))
    return schema.sorted_table(schema.ENTITIES, entities), catalog


def _catalog_mentions(requests: pa.Table, found: list[NameInArticle], resolved: list[Resolution],
                      aliases: AliasFile, person_min: float) -> list[dict]:
    """entities rows for the catalog's names in the requested paragraphs (catalog_match)."""
    matcher = CatalogMatcher([(clean_name(f.text), CatalogEntity(r.entity_id, r.canonical_name, f.label))
                              for f, r in zip(found, resolved) if f.label in NAME_LABELS], aliases, person_min)
    rows = []
    for article_id, paragraph_index, text in zip(*(requests[c].to_pylist()
                                                    for c in ("article_id", "paragraph_index", "text"))):
        for m in matcher.match(text):
            rows.append({"article_id": article_id, "paragraph_index": paragraph_index,
                         "char_start": m.char_start, "char_end": m.char_end, "text": m.text,
                         "label": m.entity.label, "canonical_name": m.entity.canonical_name,
                         "entity_id": m.entity.entity_id, "resolution": CATALOG, "tagged_by": CATALOG})
    return rows


def entity_catalog_rows(found: list[NameInArticle], resolved: list[Resolution],
                        published: dict[str, str | None]) -> list[dict]:
    """One `entity_catalog` row per entity; `published`: article_id -> ISO date or None."""
    rows: dict[str, dict] = {}
    for name, r in zip(found, resolved):
        row = rows.setdefault(r.entity_id, {
            "entity_id": r.entity_id, "canonical_name": r.canonical_name, "label": name.label,
            "aliases": set(), "n_mentions": 0, "articles": set()})
        row["aliases"].add(clean_name(name.text))
        row["n_mentions"] += name.count
        row["articles"].add(name.article_id)
    out = []
    for row in rows.values():
        dates = sorted(dt.date.fromisoformat(d) for a in row["articles"] if (d := published.get(a)))
        out.append({
            "entity_id": row["entity_id"], "canonical_name": row["canonical_name"], "label": row["label"],
            "aliases": sorted(row["aliases"]), "n_mentions": row["n_mentions"],
            "n_articles": len(row["articles"]),
            "first_published": dates[0] if dates else None,
            "last_published": dates[-1] if dates else None,
        })
    return out


RESOLVE = Stage(
    "resolve", "resolve_entities_v2", CORPUS, resolve_mentions,
    reads=("entity_aliases", "distinctive_name_max_zipf", "person_name_min_similarity",
           "other_name_min_similarity", "fuzzy_name_min_chars"),
    resources=lambda config: {"entity_aliases_sha256": load_aliases(config.entity_aliases).sha256,
                              # keys of names in every script, and which words are common
                              "anyascii": metadata.version("anyascii"), "wordfreq": metadata.version("wordfreq")})
