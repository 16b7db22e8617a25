"""Entity names: cleanup, normalisation keys, person-name comparison and the alias file.

Shared by the tag stage (domain layer over spaCy NER) and the resolve stage (canonical
entities), so each rule about names lives in one place.

Normalisation key (`name_key`): what two spellings of one name have in common. Casefold,
any script to Latin letters (anyascii: Назарбаев -> nazarbaev, Тоқаев -> toqaev, accents
dropped), apostrophes dropped (O'Brien/OBrien, the soft sign), other punctuation to spaces,
then per token the transliteration folds of Central Asian and Russian names in English and
Kazakh Latin text (dzh/zh/dj -> j, kh -> h, q -> k, ks -> x, ph -> f,
w -> v, ou -> u), `y` dropped between vowels (Tokayev/Tokaev) and otherwise, after the first
letter, read as `i` (Kyrgyz/Kirgiz, Uyghur/Uighur), doubled consonants collapsed
(Kassym/Kasym; not vowels: Peel is not Pell). Words under three letters are left alone
(Yi, Xi). NORP names also lose a plural `s` (Kazakhs/Kazakh). Equal keys mean "the same
name written differently".
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from anyascii import anyascii
from rapidfuzz.distance import Indel

from pipeline.core.config import RESOURCES_DIR
from pipeline.core.textutil import collapse_whitespace

DEFAULT_ALIAS_FILE = "entity_aliases.toml"

# Labels that name something; the numeric ones (DATE, CARDINAL, MONEY, ...) are kept as
# written: merging "5 million" with "5 millions" would help nobody.
NAME_LABELS = frozenset({"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT",
                         "WORK_OF_ART", "LAW", "LANGUAGE"})

_LEADING_ARTICLE_RE = re.compile(r"^the\s+", re.IGNORECASE)
EDGE_PUNCT = "\"'“”‘’()[]{}.,;:!?-–—«»*"
POSSESSIVE_SUFFIXES = ("'s", "’s", "'", "’")

_SPECIAL_LETTERS = str.maketrans({"ı": "i", "ə": "a", "ş": "sh", "ç": "ch", "ğ": "g", "ß": "ss",
                                  "ø": "o", "æ": "ae", "đ": "d", "ł": "l"})
_TRANSLIT = (("dzh", "j"), ("zh", "j"), ("dj", "j"), ("kh", "h"), ("q", "k"), ("ks", "x"),
             ("ph", "f"), ("w", "v"), ("ou", "u"))
_Y_BETWEEN_VOWELS = re.compile(r"(?<=[aeiou])y(?=[aeiou])")
_DOUBLED_CONSONANT = re.compile(r"([b-df-hj-np-tv-z])\1+")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# Dropped, not spaced: O'Brien is OBrien, and anyascii writes the Cyrillic soft and hard signs so.
_APOSTROPHES = re.compile(r"['’ʼʻ`´\"]")
# Fuzzy matching needs words this long: short names differ by one letter (Kim/Keim, Bass/Bias).
MIN_FUZZY_SURNAME_CHARS = 6
MIN_FUZZY_GIVEN_NAME_CHARS = 5
MIN_FUZZY_WORD_CHARS = 5
MIN_FUZZY_ONE_WORD_NAME_CHARS = 8  # a one-word name: BlogHer is not Blogger, Kazkahstan is Kazakhstan
# Kazakh/Kyrgyz patronymic endings (-uly "son of", -kyzy "daughter of") as keys spell them:
# Maxutkanuly is Maxutkan's son, and is also written Maxutkhan.
_PATRONYMIC_ENDINGS = ("uli", "ulu", "kizi")


@lru_cache(maxsize=1 << 16)
def clean_name(mention_text: str) -> str:
    """The name as written, minus whitespace runs, edge punctuation, a leading 'the', a possessive."""
    name = collapse_whitespace(mention_text).strip(EDGE_PUNCT)
    name = _LEADING_ARTICLE_RE.sub("", name)
    for suffix in ("'s", "’s"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    else:
        if name.endswith(("s'", "s’")):
            name = name[:-1]
    return name.strip(EDGE_PUNCT) or collapse_whitespace(mention_text)


def _fold_token(token: str) -> str:
    if len(token) < 3:  # "Yi", "Xi", "Li": too short to fold safely ("Yi" is not an initial)
        return token
    for written, folded in _TRANSLIT:
        token = token.replace(written, folded)
    token = _Y_BETWEEN_VOWELS.sub("", token)
    token = token[:1] + token[1:].replace("y", "i")
    return _DOUBLED_CONSONANT.sub(r"\1", token)


@lru_cache(maxsize=1 << 16)
def name_key(name: str, label: str) -> str:
    """The normalisation key of a (clean) name: equal for spellings of the same name."""
    text = anyascii(name.casefold().translate(_SPECIAL_LETTERS)).casefold()
    text = _APOSTROPHES.sub("", text)
    tokens = [_fold_token(t) for t in _NON_ALNUM.sub(" ", text).split()]
    if label == "NORP":
        tokens = [t[:-1] if len(t) > 3 and t.endswith("s") else t for t in tokens]
    return " ".join(tokens) or collapse_whitespace(name).casefold()


def similarity(a: str, b: str) -> float:
    """0..100, rapidfuzz's normalized Indel similarity (fuzz.ratio)."""
    return Indel.normalized_similarity(a, b) * 100


@lru_cache(maxsize=1 << 14)
def word_zipf(word: str) -> float:
    """How common a word is in English text (wordfreq's Zipf scale: 0 unseen, 3 = once per
    million words, 6+ very common)."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word.casefold(), "en")


def is_distinctive(word: str, max_zipf: float) -> bool:
    """A name word rare in English text: "Maxutkanuly", "Bilash" yes; "Brown", "Store", "James" no.

    Rules that spread a name beyond the model's own spans (other words of an article, other
    articles) use only distinctive words: a common word is as likely a noun or another person.
    """
    return word_zipf(word) < max_zipf


def surname_stem(token: str) -> str:
    for ending in _PATRONYMIC_ENDINGS:
        if token.endswith(ending) and len(token) - len(ending) >= 4:
            return token[: -len(ending)]
    return token


@dataclass(frozen=True)
class PersonName:
    """A person's key split into given name, middle parts and surname (all keys)."""

    first: str
    middle: tuple[str, ...]
    last: str

    @classmethod
    def from_key(cls, key: str) -> PersonName | None:
        tokens = key.split()
        if len(tokens) < 2:
            return None
        if len(tokens[-1]) == 1 and len(tokens[0]) > 1:  # "Mukanova Z": reference style
            return cls(tokens[-1], tuple(tokens[1:-1]), tokens[0])
        return cls(tokens[0], tuple(tokens[1:-1]), tokens[-1])


_VOWELS = re.compile(r"[aeiouy]")


def consonant_skeleton(key: str) -> str:
    """A name key without vowels, k read as h and z as s: spellings of one name share it
    (Nazarbaev/Nazerbaev, Maxutkan/Maxuthan, Organisation/Organization); most different names
    that look alike do not (Scherer/Shermer, Specter/Spencer, Challenge/Challenger)."""
    return _VOWELS.sub("", key).replace("k", "h").replace("z", "s")


def _given_names_agree(a: str, b: str, min_similarity: float, initials: bool) -> float | None:
    """Equal; an initial of the other (only when ``initials``); or a spelling variant: alike,
    same first letter, and either same length and last letter (Nursultan/Nursutlan; not
    Christina/Christian) or one letter more with the same consonants (Alexander/Aleksandr);
    never the other plus "a" (Nigel/Nigella, Paul/Paula: another name, often a relative's)."""
    if a == b:
        return 100.0
    if len(a) == 1 or len(b) == 1:  # an initial agrees with a name it starts
        return 100.0 if initials and a[0] == b[0] else None
    if a[0] != b[0] or min(len(a), len(b)) < MIN_FUZZY_GIVEN_NAME_CHARS or a + "a" == b or b + "a" == a:
        return None
    same_shape = len(a) == len(b) and a[-1] == b[-1]
    if not same_shape and not (abs(len(a) - len(b)) == 1 and consonant_skeleton(a) == consonant_skeleton(b)):
        return None
    score = similarity(a, b)
    return score if score >= min_similarity else None


def surnames_agree(a: str, b: str, min_similarity: float) -> float | None:
    """Similarity of two surname keys if they may be one surname, else None.

    Compared as written and without patronymic endings; fuzzy only for surnames of
    MIN_FUZZY_SURNAME_CHARS or more whose lengths differ by at most one and whose consonants
    are the same (consonant_skeleton: vowels vary between transliterations, consonants between
    names); never equal when one is the other plus a final 'a' or 's' (Ivanov/Ivanova,
    Armstrong/the Armstrongs: usually two people, or a whole family).
    """
    if a == b:
        return 100.0
    if any(x + end == y for x, y in ((a, b), (b, a)) for end in ("a", "s")):
        return None  # Ivanov/Ivanova: two people of one family; Armstrong/"the Armstrongs"
    if min(len(a), len(b)) < MIN_FUZZY_SURNAME_CHARS:
        return None
    # Variants of one surname differ by a letter or two, not by a syllable (Meghann/Meenaghan).
    scores = [similarity(x, y) for x, y in ((a, b), (surname_stem(a), surname_stem(b)))
              if abs(len(x) - len(y)) <= 1 and consonant_skeleton(x) == consonant_skeleton(y)]
    score = max(scores, default=0.0)
    return score if score >= min_similarity else None


def same_person(a: PersonName, b: PersonName, min_similarity: float, loose: bool = True) -> float | None:
    """How alike two full names are if they can be one person, else None.

    Guard rail against merging relatives and namesakes: the surnames must agree AND the
    given names must agree (equal, fuzzy above the threshold, or an initial); middle parts are
    compared when both names have them. ``loose=False`` (a common surname: Green, Cook) also
    refuses initials and a middle part only one name has: A.J. Green is not Alex Green, John D.
    Cook not John Cook.
    """
    last = surnames_agree(a.last, b.last, min_similarity)
    first = _given_names_agree(a.first, b.first, min_similarity, loose)
    if last is None or first is None:
        return None
    scores = [last, first]
    if a.middle and b.middle:
        if len(a.middle) != len(b.middle):
            return None
        for x, y in zip(a.middle, b.middle):
            agree = _given_names_agree(x, y, min_similarity, initials=True)
            if agree is None:
                return None
            scores.append(agree)
    elif (a.middle or b.middle) and not loose:
        return None
    return min(scores)


def names_agree(a: str, b: str, min_similarity: float, min_chars: int) -> float | None:
    """Similarity of two non-person name keys if they may be one name (misspelling), else None.

    Same number of words, same first letter, long enough, and every word that differs is
    alike on its own and long (acronyms, numbers and short words must be equal: Nikon is
    not Nikkor).
    """
    ta, tb = a.split(), b.split()
    if a == b:
        return 100.0
    if len(ta) != len(tb) or min(len(a), len(b)) < min_chars or a[0] != b[0]:
        return None
    if len(ta) == 1 and min(len(a), len(b)) < MIN_FUZZY_ONE_WORD_NAME_CHARS:
        return None
    for x, y in zip(ta, tb):
        if x != y and (min(len(x), len(y)) < MIN_FUZZY_WORD_CHARS or any(c.isdigit() for c in x + y)
                       or similarity(x, y) < min_similarity):
            return None
    score = similarity(a, b)
    return score if score >= min_similarity else None


# Words a name's variants add or drop: "World Association of Kazakhs" / "World Kazakh Association".
FUNCTION_WORDS = frozenset({"of", "the", "for", "and", "in", "on", "at", "to", "a", "an"})
# What a nationality or place word adds to its stem: Kazak-stan/Kazak, Russia/Russia-n,
# Chin-a/Chin-ese, America/America-n, Uzbek-istan/Uzbek.
_DEMONYM_SUFFIXES = ("istan", "stan", "ian", "ese", "an", "n", "i")
MIN_VARIANT_STEM_CHARS = 4


def _plural_stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def words_agree(a: str, b: str) -> bool:
    """Two key words that are one word in another form: plural (kazaks/kazak) or a
    nationality and its place (kazakstan/kazak, rusia/rusian, china/chinese)."""
    a, b = _plural_stem(a), _plural_stem(b)
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    for stem in (short, short[:-1] if short[-1:] in "aei" else short):
        rest = long_[len(stem):]
        if (len(stem) >= MIN_VARIANT_STEM_CHARS and long_.startswith(stem) and rest in _DEMONYM_SUFFIXES
                and not (stem == short and rest == "")):
            return True
    return False


def content_words(key: str) -> list[str]:
    return [w for w in key.split() if w not in FUNCTION_WORDS]


def variant_block(key: str) -> tuple[str, ...] | None:
    """A blocking key for word-order variants: the content words' first letters, sorted;
    None for names of one content word (those are never reordered)."""
    words = content_words(key)
    return tuple(sorted(w[:MIN_VARIANT_STEM_CHARS - 1] for w in words)) if len(words) >= 2 else None


def compact(key: str) -> str:
    """A name key without its spaces: Kassym-Jomart, Kassym Jomart and Kassymjomart share it."""
    return key.replace(" ", "")


def is_variant(a: str, b: str) -> bool:
    """Two non-person name keys that are one name by a generic rule: the same words without
    spaces or hyphens (kasim jomart / kasimjomart, al kaida / alkaida), or the same content
    words in another order, with function words added or dropped and words in another form
    ("world asociation of kazaks" / "world kazak asociation"); two words only with a function
    word in one of them ("department of justice" / "justice department")."""
    if compact(a) == compact(b):
        return True
    wa, wb = content_words(a), content_words(b)
    if len(wa) < 2 or len(wa) != len(wb):
        return False
    if len(wa) == 2 and len(a.split()) == len(b.split()):
        return False  # two words swapped without "of": Daily News is not News Daily
    unmatched = list(wb)
    for word in wa:
        match = next((w for w in unmatched if words_agree(word, w)), None)
        if match is None:
            return False
        unmatched.remove(match)
    return True


# --------------------------------------------------------------------------- alias file


@dataclass(frozen=True)
class AliasEntity:
    """One entity the alias file declares: its canonical name, label and other names."""

    name: str
    label: str
    aliases: tuple[str, ...] = ()

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class AliasFile:
    """The parsed alias and pattern file (see its header for the format)."""

    path: str
    sha256: str
    version: str
    entities: tuple[AliasEntity, ...]
    titles: tuple[str, ...] = ()
    organisation_words: tuple[str, ...] = ()
    not_entities: tuple[str, ...] = ()
    place_words: tuple[str, ...] = ()
    by_key: dict[tuple[str, str], AliasEntity] = field(default_factory=dict, compare=False, repr=False)

    def lookup(self, name: str, label: str) -> AliasEntity | None:
        return self.by_key.get((label, name_key(name, label)))

    def without_labels(self, labels: set[str]) -> AliasFile:
        """The same file minus the entities of some labels (benchmarks and tests)."""
        return build_alias_file(self.path, self.sha256, self.version,
                                [e for e in self.entities if e.label not in labels],
                                self.titles, self.organisation_words, self.not_entities, self.place_words)


def build_alias_file(path: str, sha256: str, version: str, entities: list[AliasEntity],
                     titles=(), organisation_words=(), not_entities=(), place_words=()) -> AliasFile:
    by_key: dict[tuple[str, str], AliasEntity] = {}
    for entity in entities:
        for form in entity.forms:
            key = (entity.label, name_key(form, entity.label))
            other = by_key.get(key)
            if other is not None and other != entity:
                raise ValueError(f"{path}: {form!r} ({entity.label}) names both {other.name!r} "
                                 f"and {entity.name!r}")
            by_key[key] = entity
    return AliasFile(path, sha256, version, tuple(entities), tuple(titles), tuple(organisation_words),
                     tuple(not_entities), tuple(place_words), by_key)


def alias_file_path(setting: str) -> Path:
    """The alias file a config names: a bare file name is looked up in pipeline/resources."""
    path = Path(setting)
    return path if path.is_absolute() or path.parent != Path(".") else RESOURCES_DIR / path


def load_aliases(setting: str = DEFAULT_ALIAS_FILE) -> AliasFile:
    path = alias_file_path(setting)
    data = path.read_bytes()
    return _parse_aliases(str(path), data)


@lru_cache(maxsize=8)
def _parse_aliases(path: str, data: bytes) -> AliasFile:
    raw = tomllib.loads(data.decode("utf-8"))
    entities = []
    for position, entry in enumerate(raw.get("entity", [])):
        unknown = set(entry) - {"name", "label", "aliases", "note"}
        if unknown or not entry.get("name") or not entry.get("label"):
            raise ValueError(f"{path}: [[entity]] #{position} needs name and label "
                             f"(and optional aliases, note); got {sorted(entry)}")
        entities.append(AliasEntity(entry["name"], entry["label"], tuple(entry.get("aliases", ()))))
    for name, aliases in raw.get("ethnonyms", {}).items():
        entities.append(AliasEntity(name, "NORP", tuple(aliases)))
    return build_alias_file(path, hashlib.sha256(data).hexdigest(), str(raw.get("version", "")), entities,
                            raw.get("titles", {}).get("words", ()),
                            raw.get("organisation_words", {}).get("words", ()),
                            raw.get("not_entities", {}).get("names", ()),
                            raw.get("place_words", {}).get("words", ()))
