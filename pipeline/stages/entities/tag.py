"""tag: Paragraphs -> entity Mentions: spaCy NER (NER only) plus a domain layer.

The domain layer (rules here, names in ``pipeline/resources/entity_aliases.toml``):

1. Tokenizer: footnote markers and glued references are split off ("Atajurt[1]",
   "Eriktileri(6K", "2021.Returnees"), so they cannot end up inside a name.
2. Each model span is cleaned: leading articles, titles ("Kazakh President"), lowercase
   words at the edges ("Kazakh village" -> "Kazakh"), everything from an inner possessive,
   bracket, URL or spaced dash on ("Atajurt's Human Rights Activities" -> "Atajurt") are cut
   off, and a span that is a link is dropped;
   the span's offsets move with it, so `text == paragraph[char_start:char_end]` holds.
3. Labels are fixed: names in the alias file get its label (ethnonyms are NORP, Atajurt is
   ORG), a title before a name makes it a PERSON, organisation words ("Human Rights",
   "Party") make an ORG, and so do capitalised words ending in one right after a name
   ("Xinjiang" + "Victims Database"); a nationality used as a language ("in Kazakh
   language", "into Turkish, Arabic, Russian, and English") is a LANGUAGE; a model number at
   the end makes a PRODUCT ("Asha 305"); a GPE followed by capitalised words ending in a place
   word is one GPE ("Xinjiang" + "Uyghur Autonomous Region").
4. Alias-file names the model missed are added (phrase matching, case-sensitive); a model
   span that is only alias names in a list ("Facebook and Instagram") is split into them.
5. Within one article: a distinctive word (rare in English, see
   names.is_distinctive) of a full PERSON name written in the same article is that
   person ("Ablyazov" tagged GPE next to "Mukhtar Ablyazov"), and is tagged where the model
   missed it, and so is the surname of a full name standing alone; adjacent parts of such a
   name join; a name tagged with several labels in the article takes the majority of the
   model's own labels (`tagged_by = model+vote`); untagged repeats of a distinctive name the
   article tags elsewhere get its label.
6. Paragraphs not in a language of the model become one catalog request each
   (`catalog_requests`): resolve looks there for the names of entities the corpus knows.

Everything depends only on one article and the config (the flow caches it per document);
which mentions are one entity across articles is decided later, in ``resolve``.
"""
from __future__ import annotations

import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import metadata

import pyarrow as pa

from pipeline.core.config import PipelineConfig
from pipeline.core.models import model_version
from pipeline.core.records import Article, Mention
from pipeline.core.schema import TAGGED
from pipeline.core.stage import DOCUMENT, Stage
from pipeline.core.textutil import WORD_RE, short_id
from pipeline.stages.entities.catalog_match import CATALOG
from pipeline.stages.entities.names import (
    NAME_LABELS,
    POSSESSIVE_SUFFIXES,
    AliasFile,
    clean_name,
    is_distinctive,
    load_aliases,
)

# Loading NER alone skips tok2vec, tagger and parser: ~2x faster than disabling them.
_EXCLUDED_PIPES = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
# Split "[" / "(" glued after a word ("Atajurt[1]"), "2021.Returnees" and "U.S.-funded".
_EXTRA_INFIXES = (r"(?<=[\w])[\[\(](?=[\w])", r"(?<=[0-9])\.(?=[A-Za-z])", r"(?<=\.)-(?=[A-Za-z])")
_model_lock = threading.Lock()

# Provenance of a mention (`tagged_by` column); CATALOG (catalog_match) marks paragraphs the
# model cannot read, and the mentions resolve finds there.
BY_MODEL, BY_RULES, BY_VOTE, BY_ALIASES = "model", "model+rules", "model+vote", "aliases"
TAGGED_BY = (BY_MODEL, BY_RULES, BY_VOTE, BY_ALIASES, CATALOG)

_DETERMINERS = {"the", "a", "an"}
# Lowercase words that may start a name (al-Assad, van Gogh) and words only inside one.
_NAME_PARTICLES = {"al", "bin", "ibn", "de", "del", "der", "di", "du", "la", "le", "van", "von"}
_INNER_WORDS = {"of", "and", "for", "&", "on", "in"}
# Words before a name that are not part of it, even capitalised at a sentence start.
_MODIFIERS = {"ethnic", "local", "fellow", "former", "late", "young", "pro", "anti", "so-called"}
_RELABEL_TO_ORG = {"PERSON", "NORP", "FAC", "PRODUCT", "WORK_OF_ART"}
_RELABEL_TO_PRODUCT = {"ORG", "PERSON", "FAC", "WORK_OF_ART"}
_DASHES = {"-", "–", "—"}
_TITLED_TO_PERSON = {"ORG", "GPE", "NORP", "FAC", "LOC", "PRODUCT", "WORK_OF_ART", "PERSON"}
_NO_TRAILING_NUMBER = {"PERSON", "NORP", "GPE", "LOC"}
# Labels a name may swap for its majority label in the article (NORP/LANGUAGE follow context).
_VOTING_LABELS = {"PERSON", "ORG", "GPE", "LOC", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"}
# Labels of names tagged again where the model missed a repeat of them in the article.
_SPREAD_LABELS = {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP"}
_LANGUAGE_CUE_BEFORE = {"in", "into"}
_LIST_GLUE = {",", "and", "or", "&"}
_SENTENCE_END = {".", "!", "?", "…", ":", "“", "\"", "—"}
_CUT_CHARS_RE = re.compile(r"[\[(]|\shttps?:|https?:")
_URL_RE = re.compile(r"https?://\S+|www\.\S+")  # its words are not words of the text ("xinjiang-atajurt")
_MAX_ORG_EXTENSION = 5  # words after a name that may complete it into an ORG


@lru_cache(maxsize=2)
def load_model(name: str):
    """The tagging model: spaCy NER only, with the tokenizer tweaks of the domain layer."""
    import spacy
    from spacy.util import compile_infix_regex

    nlp = spacy.load(name, exclude=_EXCLUDED_PIPES)
    nlp.tokenizer.infix_finditer = compile_infix_regex(
        [*nlp.Defaults.infixes, *_EXTRA_INFIXES]).finditer
    return nlp


def tagger_resources(config: PipelineConfig) -> dict:
    """What a document's mentions depend on besides the document and the config fields read."""
    return {
        "model": model_version(config.spacy_model),
        "entity_aliases_sha256": load_aliases(config.entity_aliases).sha256,
        "wordfreq": metadata.version("wordfreq"),  # word frequencies decide which name words spread
    }


def canonical_name(mention_text: str) -> str:
    """Basic cleanup of a mention's text (see names.clean_name)."""
    return clean_name(mention_text)


def entity_id_for(name: str, label: str) -> str:
    """Id of a cleaned name on its own (resolve gives the final, corpus-wide ids)."""
    return short_id("e", label, name)


def taggable(article: Article, config: PipelineConfig) -> list[tuple[int, str]]:
    """(paragraph_index, text) of the paragraphs the NER model knows the language of."""
    return [(p.index, p.text) for p in article.paragraphs if p.language in config.ner_languages]


# --------------------------------------------------------------------------- domain layer


@dataclass(frozen=True)
class _Span:
    start: int  # token offsets in the doc
    end: int
    label: str
    tagged_by: str
    from_alias: bool = False  # label fixed by the alias file: the article rules leave it alone
    model_label: bool = False  # the label is the model's own (the span may have been trimmed)


class DomainLayer:
    """The alias file compiled against one spaCy vocabulary."""

    def __init__(self, nlp, aliases: AliasFile, distinctive_max_zipf: float = 3.0):
        from spacy.matcher import PhraseMatcher

        self.aliases = aliases
        self.distinctive_max_zipf = distinctive_max_zipf
        self.label_of: dict[str, str] = {}
        self.matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        by_label: dict[str, list[str]] = defaultdict(list)
        for entity in aliases.entities:
            for form in entity.forms:
                self.label_of[form] = entity.label
                by_label[entity.label].append(form)
        for label, forms in sorted(by_label.items()):
            self.matcher.add(label, [nlp.make_doc(f) for f in sorted(set(forms))])
        self.ethnonyms = {f for e in aliases.entities if e.label == "NORP" for f in e.forms}
        self.titles = sorted((tuple(t.casefold().split()) for t in aliases.titles), key=len, reverse=True)
        self.title_starts = {t[0] for t in self.titles if t}
        self.org_word = _word_pattern(aliases.organisation_words)
        self.place_word_at_end = _word_pattern(aliases.place_words, at_end=True)
        self.not_entities = set(aliases.not_entities)

    # -- one paragraph

    def spans(self, doc) -> list[_Span]:
        spans: list[_Span] = []
        for ent in doc.ents:
            if ent.label_ in NAME_LABELS:
                spans.extend(self._clean(doc, ent.start, ent.end, ent.label_))
            else:  # dates, numbers, amounts: kept as the model found them
                spans.append(_Span(ent.start, ent.end, ent.label_, BY_MODEL, model_label=True))
        return self._add_alias_matches(doc, self._place_extensions(doc, spans))

    def _place_extensions(self, doc, spans: list[_Span]) -> list[_Span]:
        """A GPE followed by capitalised words ending in a place word is one GPE ("Xinjiang" +
        "Uyghur Autonomous Region"); model spans inside the extension go."""
        for span in [s for s in spans if s.label == "GPE"]:
            if span not in spans:  # inside an earlier place's extension
                continue
            end = span.end
            while end < len(doc) and end - span.end < _MAX_ORG_EXTENSION and doc[end].text[:1].isupper():
                end += 1
                if self.place_word_at_end.search(doc[span.start:end].text):
                    spans = [s for s in spans if s == span or not (s.start < end and span.start < s.end)]
                    spans[spans.index(span)] = replace(span, end=end, tagged_by=BY_RULES)
                    break
        return spans

    def _title_length(self, doc, start: int, end: int) -> int:
        if doc[start].lower_ not in self.title_starts:
            return 0
        words = [t.lower_ for t in doc[start:end]]
        for title in self.titles:
            if tuple(words[: len(title)]) == title:
                return len(title)
        return 0

    @staticmethod
    def _drop_at_start(token) -> bool:
        return (token.lower_ in _DETERMINERS or token.lower_ in _INNER_WORDS or token.lower_ in _MODIFIERS
                or token.is_punct or token.is_space
                or (token.is_lower and token.is_alpha and token.lower_ not in _NAME_PARTICLES))

    @staticmethod
    def _drop_at_end(token, label: str) -> bool:
        return (token.text in POSSESSIVE_SUFFIXES or token.is_punct or token.is_space
                or token.lower_ in _DETERMINERS or token.lower_ in _INNER_WORDS
                or token.lower_ in _NAME_PARTICLES
                or (token.is_lower and token.is_alpha)
                or (label in _NO_TRAILING_NUMBER and token.like_num))

    def _clean(self, doc, start: int, end: int, label: str) -> list[_Span]:
        """The model span trimmed to the name, relabelled by the rules (maybe plus a NORP)."""
        original = (start, end, label)
        extra: list[_Span] = []
        titled = after_demonym = False
        while start < end:
            title = self._title_length(doc, start, end)
            # The model's PERSON loses any title; another label only after a demonym ("Kazakh
            # President Tokayev") or before a multi-word name, so "General Motors" stays whole.
            if title and (label == "PERSON" or after_demonym or end - start - title >= 2):
                start, titled = start + title, True
            elif (doc[start].text in self.ethnonyms and start + 1 < end
                  and self._title_length(doc, start + 1, end)):
                extra.append(_Span(start, start + 1, "NORP", BY_RULES))  # "Kazakh President X"
                start, after_demonym = start + 1, True
            elif self._drop_at_start(doc[start]):
                start += 1
            else:
                break
        for i in range(start + 1, end):  # cut at an inner possessive, bracket, link or spaced dash
            text = doc[i].text
            if (text in POSSESSIVE_SUFFIXES or text in ("[", "(") or text.startswith(("http", "[", "("))
                    or (text in _DASHES and doc[i - 1].whitespace_)):
                end = i
                break
        while end > start and self._drop_at_end(doc[end - 1], label):
            end -= 1
        if start >= end:
            return extra
        text = doc[start:end].text
        if _URL_RE.match(text):
            return extra  # a link the model took for a name
        cut = _CUT_CHARS_RE.search(text)
        if cut and cut.start() > 0:  # a glued marker the tokenizer left ("Jastar[5")
            span = doc.char_span(doc[start].idx, doc[start].idx + cut.start(), alignment_mode="contract")
            if span is None or not len(span):
                return extra
            start, end, text = span.start, span.end, span.text
        if text in self.not_entities:
            return extra
        extended = self._org_extension(doc, end)
        if extended:  # "Nagyz Atajurt" + "Kazakh Human Rights"
            end, text, label = extended, doc[start:extended].text, "ORG"
        else:
            label = self._label(doc, start, end, text, label, titled)
        if label in _RELABEL_TO_PRODUCT and any(c.isdigit() for c in doc[end - 1].text) and text not in self.label_of:
            label = "PRODUCT"  # a model number ends it: "Asha 305", "Cortex A8", "Core i3"
        from_alias = text in self.label_of
        by = BY_MODEL if (start, end, label) == original else BY_RULES
        return extra + [_Span(start, end, label, by, from_alias, model_label=label == original[2])]

    def _org_extension(self, doc, end: int) -> int | None:
        """End of the capitalised words right after a name that complete it into an ORG, if any."""
        if end >= len(doc) or not doc[end].text[:1].isupper():
            return None
        best, i = None, end
        while i < len(doc) and i - end < _MAX_ORG_EXTENSION:
            token = doc[i]
            if not (token.text[:1].isupper() or token.lower_ in _INNER_WORDS - {",", "&"}) or token.ent_type_:
                break
            i += 1
            if token.text[:1].isupper() and self.org_word.search(doc[end:i].text):
                best = i
        return best

    def _label(self, doc, start: int, end: int, text: str, label: str, titled: bool) -> str:
        if label == "NORP" or text in self.ethnonyms:
            if end - start == 1 and self._used_as_language(doc, start, end):
                return "LANGUAGE"
        if text in self.label_of:
            return self.label_of[text]
        if titled and label in _TITLED_TO_PERSON and all(t.text[:1].isupper() for t in doc[start:end]):
            return "PERSON"
        if label in _RELABEL_TO_ORG and self.org_word.search(text):
            return "ORG"
        return label

    @staticmethod
    def _used_as_language(doc, start: int, end: int) -> bool:
        after = doc[end] if end < len(doc) else None
        before = doc[start - 1] if start > 0 else None
        if after is not None and after.lower_ == "language":
            return True
        return (before is not None and before.lower_ in _LANGUAGE_CUE_BEFORE
                and (after is None or after.is_punct))

    def _add_alias_matches(self, doc, spans: list[_Span]) -> list[_Span]:
        from spacy.util import filter_spans

        matches = filter_spans([doc[s:e] for _, s, e in self.matcher(doc)])
        by_span: dict[_Span, list] = defaultdict(list)
        for match in matches:
            for s in spans:
                if s.start <= match.start and match.end <= s.end and (s.start, s.end) != (match.start, match.end):
                    by_span[s].append(match)
        # A model span that is only alias names in a list ("Facebook and Instagram") is split.
        for s, inside in by_span.items():
            covered = {i for m in inside for i in range(m.start, m.end)}
            if all(i in covered or doc[i].lower_ in _LIST_GLUE for i in range(s.start, s.end)):
                spans = [x for x in spans if x != s]
        for match in matches:
            label = self.label_of[match.text]
            if label == "NORP" and self._used_as_language(doc, match.start, match.end):
                label = "LANGUAGE"
            overlapping = [s for s in spans if s.start < match.end and match.start < s.end]
            if any(s.start <= match.start and match.end <= s.end and (s.start, s.end) != (match.start, match.end)
                   for s in overlapping):
                continue  # a longer model span holds it ("Atajurt Kazakh Human Rights-USA")
            if any((s.start, s.end, s.label) == (match.start, match.end, label) for s in overlapping):
                continue
            spans = [s for s in spans if s not in overlapping]
            extended = self._org_extension(doc, match.end)
            if extended:  # "Xinjiang" + "Victims Database"
                spans.append(_Span(match.start, extended, "ORG", BY_RULES))
            else:
                spans.append(_Span(match.start, match.end, label, BY_ALIASES, True))
        return self._languages_in_lists(doc, sorted(spans, key=lambda s: (s.start, s.end)))

    @staticmethod
    def _languages_in_lists(doc, spans: list[_Span]) -> list[_Span]:
        """In a list holding a LANGUAGE ("into Turkish, Arabic, Russian, and English"), one-word
        NORP/GPE members are languages too."""
        out = list(spans)
        run: list[int] = []
        for k, span in enumerate(out + [None]):
            joined = (span is not None and run
                      and all(doc[i].lower_ in _LIST_GLUE for i in range(out[run[-1]].end, span.start)))
            if joined:
                run.append(k)
                continue
            if len(run) > 1 and any(out[j].label == "LANGUAGE" for j in run):
                for j in run:
                    if out[j].label in ("NORP", "GPE") and out[j].end - out[j].start == 1:
                        out[j] = replace(out[j], label="LANGUAGE", tagged_by=BY_RULES)
            run = [k] if span is not None else []
        return out


def _word_pattern(words, at_end: bool = False) -> re.Pattern:
    """Any of the words, whole words, case-sensitive (longest first); at_end: ending the text."""
    if not words:
        return re.compile(r"(?!x)x")
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})" + (r"$" if at_end else r"(?!\w)"))


@lru_cache(maxsize=4)
def _domain_layer(model_name: str, alias_setting: str, alias_sha256: str, max_zipf: float) -> DomainLayer:
    return DomainLayer(load_model(model_name), load_aliases(alias_setting), max_zipf)


def domain_layer(config: PipelineConfig) -> DomainLayer:
    aliases = load_aliases(config.entity_aliases)
    return _domain_layer(config.spacy_model, config.entity_aliases, aliases.sha256,
                         config.distinctive_name_max_zipf)


# --------------------------------------------------------------------------- one article


@dataclass
class _Found:
    paragraph_index: int
    doc: object
    span: _Span
    text: str = ""

    def __post_init__(self):
        self.text = self.text or self.doc[self.span.start:self.span.end].text

    def relabel(self, label: str) -> None:
        self.span = replace(self.span, label=label, tagged_by=BY_RULES)


def _next_to_capitalised(doc, start: int, end: int) -> bool:
    before = doc[start - 1] if start > 0 else None
    after = doc[end] if end < len(doc) else None
    return any(t is not None and t.text[:1].isupper() and not (t is before and _sentence_start(doc, start - 1))
               for t in (before, after))


def _sentence_start(doc, i: int) -> bool:
    return i == 0 or doc[i - 1].text in _SENTENCE_END


def _resolve_article_labels(found: list[_Found], docs: list[tuple[int, object, str]],
                            max_zipf: float) -> list[_Found]:
    """Label fixes that need the whole article: parts of full PERSON names, majority labels.

    Only distinctive name words spread (see names.is_distinctive): the model knows
    common names, and a common word ("Store" of a mis-tagged "Apple Store") is not a person.
    """
    full_names = {f.text for f in found if f.span.label == "PERSON" and " " in f.text}
    person_parts = {w for name in full_names for w in (name.split()[0], name.split()[-1])
                    if len(w) >= 2 and w[0].isupper() and is_distinctive(w, max_zipf)}
    # A surname alone is its person even when common ("Bryant" after "Dez Bryant", "Martin").
    surnames = {w for name in full_names if len(w := name.split()[-1]) >= 3 and w[0].isupper() and w.isalpha()}
    single_persons = {f.text for f in found if f.span.label == "PERSON" and " " not in f.text
                      and is_distinctive(f.text, max_zipf)}

    for f in found:
        span, text = f.span, f.text
        if not span.from_alias and span.label in NAME_LABELS - {"PERSON", "LANGUAGE"}:
            words = text.split()
            if (len(words) == 1 and (text in person_parts or text in surnames)) or (
                    len(words) > 1 and span.label != "NORP" and all(w[:1].isupper() for w in words)
                    and (words[-1] in single_persons or text in full_names)):
                f.relabel("PERSON")

    # One label per name in the article: the majority of the model's own labels for it. A label
    # the rules gave from context (a title, an organisation word, the alias file) stands.
    votes: dict[str, Counter] = defaultdict(Counter)
    for f in found:
        if f.span.model_label and f.span.label in _VOTING_LABELS:
            votes[f.text][f.span.label] += 1
    for f in found:
        counts = votes.get(f.text)
        if counts and len(counts) > 1 and f.span.model_label and f.span.label in _VOTING_LABELS:
            (top, n), (_, n2) = counts.most_common(2)
            if n > n2 and f.span.label != top:
                f.span = replace(f.span, label=top, tagged_by=BY_VOTE)

    return _join_split_names(found + _untagged_repeats(found, docs, person_parts, surnames, max_zipf), full_names)


def _join_split_names(found: list[_Found], full_names: set[str]) -> list[_Found]:
    """Adjacent PERSON spans that together are a full name of the article become one."""
    out: list[_Found] = []
    for f in sorted(found, key=lambda x: (x.paragraph_index, x.span.start)):
        prev = out[-1] if out else None
        if (prev is not None and prev.doc is f.doc and prev.span.end == f.span.start
                and prev.span.label == f.span.label == "PERSON"
                and f.doc[prev.span.start:f.span.end].text in full_names):
            prev.span = replace(prev.span, end=f.span.end, tagged_by=BY_RULES)
            prev.text = f.doc[prev.span.start:prev.span.end].text
            continue
        out.append(f)
    return out


def _untagged_repeats(found: list[_Found], docs: list[tuple[int, object, str]], person_parts: set[str],
                      surnames: set[str], max_zipf: float) -> list[_Found]:
    """Recall: names the article tags somewhere, at places where the model left them untagged.

    Distinctive words of its full PERSON names become PERSON, and so do their surnames
    standing alone (no capitalised word next to them: "Bryant said", not "Bryant Park"); a
    distinctive name (every word rare in English and capitalised: "Atajurt", "Talpyn Jastar")
    takes its majority label in the article. At a sentence start only when the word never
    appears in lowercase in the article ("Maxutkanuly joined ..." yes; "Will ..." next to
    "will" no).
    """
    label_of = {w: "PERSON" for w in person_parts | surnames if len(w) >= 3}
    alone_only = surnames - person_parts
    votes: dict[str, Counter] = defaultdict(Counter)
    for f in found:
        words = f.text.split()
        if (f.span.label in _SPREAD_LABELS and len(f.text) >= 3
                and all(w[:1].isupper() and w.isalpha() and is_distinctive(w, max_zipf) for w in words)):
            votes[f.text][f.span.label] += 1
    for name, counts in votes.items():
        (top, n), *rest = counts.most_common(2)
        if not rest or n > rest[0][1]:
            label_of.setdefault(name, top)
    if not label_of:
        return []
    names = sorted(label_of, key=lambda n: (-len(n), n))
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, names)) + r")(?!\w)")
    taken: dict[int, set[int]] = defaultdict(set)
    for f in found:
        taken[id(f.doc)].update(range(f.span.start, f.span.end))
    lowercase: set[str] | None = None
    added = []
    for paragraph_index, doc, text in docs:
        for match in pattern.finditer(text):
            span = doc.char_span(match.start(), match.end())
            if span is None or any(i in taken[id(doc)] for i in range(span.start, span.end)):
                continue
            if match.group() in alone_only and _next_to_capitalised(doc, span.start, span.end):
                continue
            if _sentence_start(doc, span.start):
                if lowercase is None:
                    lowercase = {w for _, _, t in docs for w in WORD_RE.findall(_URL_RE.sub(" ", t)) if w.islower()}
                if match.group().split()[0].lower() in lowercase:
                    continue
            taken[id(doc)].update(range(span.start, span.end))
            added.append(_Found(paragraph_index, doc, _Span(span.start, span.end, label_of[match.group()], BY_RULES)))
    return added


def _article_mentions(article_id: str, docs: list[tuple[int, object, str]], layer: DomainLayer) -> list[Mention]:
    """docs: (paragraph_index, spaCy doc, paragraph text) of one article's taggable paragraphs."""
    found = [_Found(index, doc, span) for index, doc, _ in docs for span in layer.spans(doc)]
    found = _resolve_article_labels(found, docs, layer.distinctive_max_zipf)
    mentions = []
    for f in found:
        span = f.doc[f.span.start:f.span.end]
        name = clean_name(span.text)
        mentions.append(Mention(
            article_id=article_id,
            paragraph_index=f.paragraph_index,
            char_start=span.start_char,
            char_end=span.end_char,
            text=span.text,
            label=f.span.label,
            canonical_name=name,
            entity_id=entity_id_for(name, f.span.label),
            resolution="",
            tagged_by=f.span.tagged_by,
        ))
    # One row per (span, label): rules can make two spans identical.
    unique = {(m.paragraph_index, m.char_start, m.char_end, m.label): m for m in mentions}
    return sorted(unique.values(), key=lambda m: (m.paragraph_index, m.char_start, m.char_end, m.label))


def _by_article(work: list[tuple[str, int, str]], docs: Iterator) -> Iterator[tuple[str, list]]:
    current, batch = None, []
    for (article_id, paragraph_index, text), doc in zip(work, docs):
        if article_id != current and batch:
            yield current, batch
            batch = []
        current = article_id
        batch.append((paragraph_index, doc, text))
    if batch:
        yield current, batch


def tag(articles: Iterable[Article], config: PipelineConfig, layer: DomainLayer | None = None) -> list[Mention]:
    """Mentions for every taggable paragraph of the articles, one nlp.pipe over all of them.

    The mentions of an article depend only on that article and the config. Their
    `canonical_name` is the cleaned name and `entity_id` that name's own id; `resolve`
    replaces both with the corpus-wide entity's and sets `resolution`. ``layer``: the domain
    layer of the config's alias file unless given (benchmarks compare other alias files).
    """
    layer = layer or domain_layer(config)
    articles = list(articles)
    work = [(a.article_id, index, text) for a in articles for index, text in taggable(a, config)]
    nlp = load_model(config.spacy_model)
    mentions = []
    # One model shared by the process's threads: spaCy does not promise thread-safe inference.
    with _model_lock:
        docs = nlp.pipe((text for _, _, text in work), batch_size=config.ner_batch_size)
        for article_id, article_docs in _by_article(work, docs):
            mentions.extend(_article_mentions(article_id, article_docs, layer))
    return mentions + [request for a in articles for request in catalog_requests(a, config)]


def catalog_requests(article: Article, config: PipelineConfig) -> list[Mention]:
    """One row per paragraph the model cannot read, holding the whole paragraph: resolve looks
    there for the names of entities the corpus already knows (catalog_match)."""
    return [Mention(article.article_id, p.index, 0, len(p.text), p.text, "", "", "", tagged_by=CATALOG)
            for p in article.paragraphs if p.language not in config.ner_languages]


def mention_batch(mentions: list[Mention]) -> pa.RecordBatch:
    """Tagged mentions as Arrow rows: a corpus's million mentions as objects would take GBs."""
    return pa.RecordBatch.from_pydict({name: [getattr(m, name) for m in mentions] for name in TAGGED.names},
                                      schema=TAGGED)


def tag_articles(articles: list[Article], config: PipelineConfig) -> list[pa.RecordBatch]:
    """The stage's output: each article's mentions as mention_batch rows (empty ones too: "no
    entities" is a result worth keeping)."""
    found: dict[str, list[Mention]] = {a.article_id: [] for a in articles}
    for mention in tag(articles, config):
        found[mention.article_id].append(mention)
    return [mention_batch(found[a.article_id]) for a in articles]


TAG = Stage("tag", "tag_spacy_ner_domain_v3", DOCUMENT, tag_articles,
            reads=("spacy_model", "ner_languages", "entity_aliases", "distinctive_name_max_zipf"),
            resources=tagger_resources)
