"""Known entities in paragraphs the NER model cannot read (Russian, Kazakh, ...).

The tag stage sends every paragraph that is not in a language of the model to resolve as one
``tagged_by = "catalog"`` row holding the whole paragraph (`catalog_requests`). Once the
corpus's English mentions are resolved, ``CatalogMatcher`` looks in those paragraphs for the
names of entities already in the catalog, through their transliterated forms: a dictionary
match, no model. A paragraph never creates an entity; what it does not match is not tagged.

Matching, word by word, longest first (up to four words):

- a word's key is its `name_key` (any script to Latin: Назарбаев -> nazarbaev) with, when
  nothing else matches, one grammatical ending removed (Russian and Kazakh case endings:
  Назарбаевтың, Токаеву, Алматыда, Казахстане); the Kazakh letter қ is tried as English
  k and kh (Тоқаев Tokayev, Қазақстан Kazakhstan);
- an entity's forms are the keys of its names in the corpus and in the alias file, and for a
  person the surname of its full names (never a given name alone);
- a full person name may also be spelled differently, behind the guard rails of
  `names.same_person` (Нурсултана Назарбаева / Nursultan Nazerbayev, Ася Төлесова / Asya
  Tulesova; given name and surname must both agree);
- a form that names two entities is not used; forms under four letters match only as the
  alias file writes them (КНР, Си);
- a match inside a short quoted name is not one when the name is longer («Базы данных жертв
  Синьцзяна» is a database, not Xinjiang);
- capitalised words match any label; lowercase words only nationalities (NORP: казахов);
- a place followed by a place word of the alias file is not that place (Алматы облысы: the
  region, not the city); a lone Russian surname in -ова/-ева/-ина or a plural is not linked (a
  woman's name or the man's genitive: Назарбаева; a family: Назарбаевых);
- guard rails: a person's name must not run on into another capitalised word (Назарбаев
  Университеті), nor follow one that is not a common word starting its sentence (Дарига
  Назарбаева: a relative, and also how the genitive of Назарбаев is written).
"""
from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from pipeline.stages.entities.names import AliasFile, PersonName, name_key, same_person, surnames_agree, word_zipf

CATALOG = "catalog"  # tagged_by of the requests, and of the mentions they yield
MAX_WORDS = 4
MIN_FORM_CHARS = 4
# Case endings, by the paragraph's language: Kazakh (its text has letters Russian lacks) or
# Russian; Latin-script text gets exact forms only.
_RUSSIAN_ENDINGS = ("а", "я", "у", "ю", "е", "и", "ы", "ом", "ем", "ём", "ым", "им", "ой", "ей", "ого", "его",
                    "ому", "ему", "ами", "ями", "ах", "ях", "ам", "ям",
                    # adjectives: Центральная / Центральной, Уйгурский / Уйгурском
                    "ая", "яя", "ую", "юю", "ый", "ий", "ые", "ие", "ых", "их", "ыми", "ими")
_KAZAKH_ENDINGS = (  # genitive, dative, accusative, locative (+ relative -дағы), ablative, instrumental
    "тың", "тің", "дың", "дің", "ның", "нің", "ға", "ге", "қа", "ке", "на", "не", "ты", "ті", "ды", "ді", "ны", "ні",
    "н", "та", "те", "да", "де", "нда", "нде", "дағы", "тағы", "дегі", "тегі", "ндағы", "ндегі",
    "тан", "тен", "дан", "ден", "нан", "нен", "мен", "бен", "пен", "сы", "сі", "ы", "і")
ENDINGS = {"kk": tuple(sorted(_KAZAKH_ENDINGS, key=len, reverse=True)),
           "ru": tuple(sorted(_RUSSIAN_ENDINGS, key=len, reverse=True))}
# Plural suffixes of nationality words under a case ending: қазақтардың, казахов.
_PLURALS = {"kk": ("тар", "тер", "дар", "дер", "лар", "лер"), "ru": ("ов", "ев")}
# A dictionary form's own last letter that its inflected forms drop: Китай / Китае, Китаем.
_STEM_FINALS = ("й", "я", "а")
MIN_STEM_CHARS = 3
_KAZAKH_LETTERS = re.compile("[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
_CYRILLIC = re.compile("[а-яёА-ЯЁ]")
# A Russian surname ending so is a woman's or his genitive (Назарбаева), or a family's
# (Назарбаевых, Назарбаевы): never linked alone.
_NOT_ONE_MAN = ("ова", "ева", "ёва", "ина", "ой", "ы", "ых", "ыми")
# A quoted name («Базы данных жертв Синьцзяна», «Демократический выбор Казахстана»): short, no
# sentence punctuation. A place inside it is part of the name, not a mention of the place.
_QUOTED_NAME = re.compile(r"[«“„\"]([^«»“”„\".!?,;:]{1,80})[»”\"]")
_WORD_RE = re.compile(r"[^\W\d_][\w’'ʼ-]*")
_SENTENCE_END = re.compile(r"[.!?…:;«»\"“”()\[\]]\s*$")
# A capitalised word this common in Russian text starts a sentence rather than a name ("В", "Президент").
_COMMON_WORD_ZIPF = 3.0


@dataclass(frozen=True, slots=True)
class CatalogEntity:
    entity_id: str
    canonical_name: str
    label: str


@dataclass(frozen=True, slots=True)
class CatalogMention:
    char_start: int
    char_end: int
    text: str
    entity: CatalogEntity


@lru_cache(maxsize=1 << 14)
def _kazakh_k_variants(word: str) -> tuple[str, ...]:
    """The word with each Kazakh қ (Cyrillic, or q in Latin script) read as k or as kh, and ғ as g."""
    word = word.replace("ғ", "г").replace("Ғ", "Г")
    positions = [i for i, c in enumerate(word) if c in "қҚqQ"][:4]
    out = []
    for choice in itertools.product(("k", "kh"), repeat=len(positions)):
        letters = list(word)
        for i, c in zip(positions, choice):
            letters[i] = c.upper() if word[i].isupper() else c
        out.append("".join(letters))
    return tuple(out) or (word,)


def _keys(word: str, label: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name_key(w, label) for w in _kazakh_k_variants(word)))


def _without(word: str, endings) -> list[str]:
    """The word without each of the endings it has."""
    lower = word.casefold()
    return [word[: len(word) - len(end)] for end in endings if lower.endswith(end)]


def _stem_keys(stems: list[str], label: str) -> list[str]:
    return [key for stem in stems if len(stem) >= MIN_STEM_CHARS for key in _keys(stem, label)]


@lru_cache(maxsize=1 << 16)
def word_keys(word: str, label: str, language: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(keys as written, keys of the word without a grammatical ending) of one word of a
    paragraph; language "kk", "ru" or "" (no endings)."""
    exact = _keys(word, label)
    stems = _without(word, ENDINGS.get(language, ()))
    if label == "NORP":
        stems += [stem for s in [word, *stems] for stem in _without(s, _PLURALS.get(language, ()))]
    stripped = _stem_keys(stems, label)
    return exact, tuple(dict.fromkeys(k for k in stripped if len(k) >= MIN_FORM_CHARS and k not in exact))


@lru_cache(maxsize=1 << 14)
def _form_stems(word: str, label: str) -> tuple[str, ...]:
    """Keys of a Cyrillic form's word without an ending of its own or the last letter its
    inflections drop (Китай: кита; Центральная: центральн; мусульмане: мусульман)."""
    stems = [stem for endings in (*ENDINGS.values(), _STEM_FINALS) for stem in _without(word, endings)]
    return tuple(dict.fromkeys(_stem_keys(stems, label)))


def _unambiguous(named: dict) -> dict:
    """Only the keys that name one entity: a form naming two is no evidence for either."""
    return {k: next(iter(v)) for k, v in named.items() if len(v) == 1}


def paragraph_language(text: str) -> str:
    """"kk" for Kazakh Cyrillic, "ru" for other Cyrillic, "" otherwise."""
    if _KAZAKH_LETTERS.search(text):
        return "kk"
    return "ru" if _CYRILLIC.search(text) else ""


@lru_cache(maxsize=1 << 14)
def _is_common_word(word: str) -> bool:
    from wordfreq import zipf_frequency

    return max(word_zipf(word), zipf_frequency(word.casefold(), "ru")) >= _COMMON_WORD_ZIPF


class CatalogMatcher:
    """The catalog's names, keyed for matching in other scripts and languages."""

    def __init__(self, named: list[tuple[str, CatalogEntity]], aliases: AliasFile, person_min_similarity: float):
        """named: (clean name as the corpus writes it, its entity) for every resolved name."""
        self.person_min = person_min_similarity
        self.place_words = tuple(w.casefold() for w in aliases.place_words)
        forms: dict[tuple[bool, str], set[CatalogEntity]] = defaultdict(set)
        written: dict[str, set[CatalogEntity]] = defaultdict(set)
        given_names: dict[CatalogEntity, set[str]] = defaultdict(set)
        single: list[tuple[str, CatalogEntity]] = []
        by_canonical: dict[tuple[str, str], set[CatalogEntity]] = defaultdict(set)
        for name, entity in named:
            by_canonical[(entity.label, name_key(entity.canonical_name, entity.label))].add(entity)
            key = name_key(name, entity.label)
            words = key.split()
            if entity.label == "PERSON":
                if len(words) < 2:
                    single.append((key, entity))
                    continue
                given_names[entity].add(words[0])
                forms[(False, words[-1])].add(entity)
            forms[(entity.label == "NORP", key)].add(entity)
        for key, entity in single:  # a surname alone ("Nazarbayev"), never a given name ("Aliya")
            if key not in given_names[entity]:
                forms[(False, key)].add(entity)
        for alias in aliases.entities:
            for entity in by_canonical.get((alias.label, name_key(alias.name, alias.label)), ()):
                for form in alias.forms:
                    forms[(alias.label == "NORP", name_key(form, alias.label))].add(entity)
                    written[form].add(entity)
        self.forms = _unambiguous(forms)
        # Full person names by the first letter of the surname, for spelling variants
        # (Назарбаев / Nazerbayev): the guard rails of names.same_person apply.
        # Grouped by surname too: most candidates' surnames agree with none of a letter's.
        self.people: dict[str, dict[str, list[tuple[PersonName, CatalogEntity]]]] = defaultdict(dict)
        for (_, key), entity in sorted(self.forms.items(), key=lambda item: item[0]):
            person = PersonName.from_key(key) if entity.label == "PERSON" else None
            if person is not None:
                self.people[person.last[:1]].setdefault(person.last, []).append((person, entity))
        self._same_surname: dict[str, list[tuple[PersonName, CatalogEntity]]] = {}
        self.written = _unambiguous(written)
        # Cyrillic forms of the alias file also by their stem: an inflected form may share only
        # that with the dictionary form (Китай / Китае, Китаем: кита).
        stems: dict[tuple[bool, str], set[CatalogEntity]] = defaultdict(set)
        for form, entity in self.written.items():
            if _CYRILLIC.search(form):
                options = [(*_keys(word, entity.label), *_form_stems(word, entity.label)) for word in form.split()]
                for combo in itertools.product(*options):
                    stems[(entity.label == "NORP", " ".join(combo))].add(entity)
        self.stems = {k: v for k, v in _unambiguous(stems).items() if k not in self.forms}
        self.max_words = max((len(k[1].split()) for k in self.forms), default=1)

    def _lookup(self, words: list[str], language: str) -> CatalogEntity | None:
        text = " ".join(words)
        if text in self.written:
            return self.written[text]
        found: set[CatalogEntity] = set()
        # Lowercase words can only be nationalities (казахов, қазақтар).
        for norp in (False, True) if words[0][:1].isupper() else (True,):
            label = "NORP" if norp else "ORG"  # name_key treats every label but NORP alike
            per_word = [word_keys(w, label, language) for w in words]
            for stripped in (False, True):
                if stripped and found:
                    break
                options = [exact + (rest if stripped else ()) for exact, rest in per_word]
                for combo in itertools.product(*options):
                    key = " ".join(combo)
                    entity = self.forms.get((norp, key)) or (self.stems.get((norp, key)) if stripped else None)
                    if entity is not None and len(key.replace(" ", "")) >= MIN_FORM_CHARS:
                        found.add(entity)
        if not found and len(words) >= 2:
            found = self._similar_people(words, language)
        return found.pop() if len(found) == 1 else None

    def _similar_people(self, words: list[str], language: str) -> set[CatalogEntity]:
        """People of the catalog whose full name agrees with the words (names.same_person)."""
        found = set()
        per_word = [exact + stripped for exact, stripped in (word_keys(w, "PERSON", language) for w in words)]
        for combo in itertools.product(*per_word):
            candidate = PersonName.from_key(" ".join(combo))
            if candidate is None:
                continue
            for person, entity in self._people_named(candidate.last):
                if same_person(candidate, person, self.person_min) is not None:
                    found.add(entity)
        return found

    def _people_named(self, surname: str) -> list[tuple[PersonName, CatalogEntity]]:
        """The catalog's people whose surname agrees with this one (the first test of
        names.same_person), once per surname: the same words recur in thousands of paragraphs."""
        people = self._same_surname.get(surname)
        if people is None:
            people = [person for last, group in self.people.get(surname[:1], {}).items()
                      if surnames_agree(surname, last, self.person_min) is not None for person in group]
            self._same_surname[surname] = people
        return people

    def match(self, text: str) -> list[CatalogMention]:
        """The catalog's entities named in one paragraph, left to right, never overlapping."""
        words = list(_WORD_RE.finditer(text))
        language = paragraph_language(text)
        found: list[tuple[int, int, CatalogEntity]] = []  # (first word, number of words, entity)
        i = 0
        while i < len(words):
            for n in range(min(MAX_WORDS, self.max_words + 1, len(words) - i), 0, -1):
                span = words[i:i + n]
                if not all(_joined_by_space(text, a, b) for a, b in zip(span, span[1:])):
                    continue
                entity = self._lookup([m.group() for m in span], language)
                if entity is not None and self._fits(words, i, n, entity, language):
                    found.append((i, n, entity))
                    i += n - 1
                    break
            i += 1
        matched = {k for i, n, _ in found for k in range(i, i + n)}
        quoted = [(m.start(1), m.end(1)) for m in _QUOTED_NAME.finditer(text)]
        found = [(i, n, entity) for i, n, entity in found
                 if not any(start <= words[i].start() and words[i + n - 1].end() <= end
                            and (start, end) != (words[i].start(), words[i + n - 1].end()) for start, end in quoted)]
        return [CatalogMention(words[i].start(), words[i + n - 1].end(),
                               text[words[i].start():words[i + n - 1].end()], entity)
                for i, n, entity in found
                if entity.label != "PERSON" or _stands_alone(text, words, i, n, matched)]

    def _fits(self, words: list[re.Match], i: int, n: int, entity: CatalogEntity, language: str) -> bool:
        first, last = words[i].group(), words[i + n - 1].group()
        if not first[:1].isupper():
            return entity.label == "NORP"  # nationality words are lowercase in Russian and Kazakh
        if (entity.label == "PERSON" and n == 1 and language == "ru" and last.casefold().endswith(_NOT_ONE_MAN)
                and not any((False, key) in self.forms for key in _keys(last, "PERSON"))):
            return False
        after = words[i + n].group().casefold() if i + n < len(words) else ""
        if entity.label == "GPE" and after.startswith(self.place_words):
            return False  # "Алматы облысы": the region, not the city
        return True


def _stands_alone(text: str, words: list[re.Match], i: int, n: int, matched: set[int]) -> bool:
    """A person's name with no other, unknown capitalised word glued to it: not "Назарбаев
    Университеті" (a university named after him); a surname alone not after one either
    ("Дарига Назарбаева": a relative), unless that word is a common one starting the sentence."""
    after = i + n
    if (after < len(words) and after not in matched and words[after].group()[:1].isupper()
            and not words[after].group().isupper()  # an acronym after a name is not part of it (ҚХР)
            and _joined_by_space(text, words[after - 1], words[after])):
        return False
    before = i - 1
    if (n == 1 and before >= 0 and before not in matched and words[before].group()[:1].isupper()
            and _joined_by_space(text, words[before], words[i])):
        starts_sentence = before == 0 or bool(_SENTENCE_END.search(text[:words[before].start()]))
        return starts_sentence and _is_common_word(words[before].group())
    return True


def _joined_by_space(text: str, a: re.Match, b: re.Match) -> bool:
    return text[a.end():b.start()] == " "
