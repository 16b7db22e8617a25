"""Evidence of machine paraphrasing ("spun" text): the traces word-for-word synonym swaps leave.

Article spinners replace word forms with thesaurus "synonyms" without reading the
sentence. Two traces of that are measurable with general resources and no phrase list:

* **article agreement** (`an_before_consonant`, `a_before_vowel`): "a"/"an" was chosen for
  the original word and stays when a swap starts with the other kind of sound
  ("an official video" -> "an formal video").
* **verb-only word in another part of speech's slot** (`misplaced_verb`): a synonym picked
  for the verb sense of a word lands where its noun sense was meant ("a show of force" ->
  "a demonstrate of force"). spaCy's tagger reads from the context that the slot holds a
  noun (or adjective, or adverb); WordNet's word lists, shipped inside the same spaCy model
  (the lemmatizer's `lemma_index` table), say the word has no such sense.

The score is traces per 100 words of the English text scored. Careful writers almost never
leave either trace (measured in bench/hygiene.py); a spinner leaves several per page.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from pipeline.core.textutil import count_words

# The tagger, its attribute ruler (tag -> part of speech) and the lemmatizer are what we use.
_EXCLUDED_PIPES = ["parser", "ner", "senter"]
_LEXICON_POS = ("noun", "verb", "adj", "adv")
_model_lock = threading.Lock()
_NON_VERB_SLOTS = ("NOUN", "ADJ", "ADV")
# Context tagged around each candidate word, in tokens each side. The model's tok2vec
# (MaxoutWindowEncoder, depth 4 x window 1) gives a token's tag from the 4 tokens either side
# of it, and the attribute ruler's two-token patterns read a neighbour's tag: 4 + 1.
_CONTEXT = 5
# Verbs that current English also uses as nouns and WordNet (2006) lists only as verbs: the
# clean texts of the labelled set's tune half showed these (upload as download's twin).
_VERB_NOUNS_WORDNET_LACKS = frozenset({"download", "upload", "sync", "follow", "podcast", "listen",
                                       "fail", "redirect"})

# "a"/"an" followed by a lower-case word: capitalised words, acronyms and numbers are left
# out (names and initialisms are read letter by letter: "an FBI agent", "a NATO summit").
_ARTICLE_RE = re.compile(r"(?<![\w'’.-])(a|an|A|An)\s+([a-z][a-z'’]*)")
_SENTENCE_START_RE = re.compile(r"(?:^|[.!?:;\"“”(]\s*)$")
# Words spelled with a vowel but said with a consonant ("a union", "a one-off", "a euro")...
_CONSONANT_SOUND_PREFIXES = ("uni", "use", "usu", "uti", "ure", "uri", "uro", "ura", "ubiq", "uku",
                             "eu", "ewe", "one", "once", "uvu", "ufo")
# ...and with a consonant but said with a vowel ("an hour", "an honest").
_VOWEL_SOUND_PREFIXES = ("hour", "honest", "honor", "honour", "heir")
# Either article is standard for these ("a/an historic", "a/an herb").
_EITHER_PREFIXES = ("herb", "histor", "hotel", "habit", "hero", "hypo", "hyster", "humble")


@dataclass(frozen=True)
class Trace:
    kind: str  # "a_before_vowel", "an_before_consonant" or "misplaced_verb"
    text: str  # the words that show it, e.g. "an formal" or "demonstrate (NOUN)"


@dataclass(frozen=True)
class ParaphraseEvidence:
    """The traces found in one document's English text, paragraph by paragraph."""

    n_words: int  # \w+ words in the texts scored
    traces: tuple[Trace, ...]

    @property
    def distinct(self) -> tuple[Trace, ...]:
        """Each trace once: a word a writer repeats (a term WordNet lacks) counts once."""
        return tuple(dict.fromkeys(self.traces))

    @property
    def score(self) -> float:
        return paraphrase_score(len(self.distinct), self.n_words)


def paraphrase_score(n_traces: int, n_words: int) -> float:
    """Distinct traces per 100 words (0 for no text)."""
    return round(100.0 * n_traces / n_words, 6) if n_words else 0.0


def _vowel_sound(word: str) -> bool | None:
    """Whether the word starts with a vowel sound; None when usage allows either article."""
    word = word.lower()
    if word.startswith(_EITHER_PREFIXES):
        return None
    if word.startswith(_VOWEL_SOUND_PREFIXES):
        return True
    if word.startswith(_CONSONANT_SOUND_PREFIXES):
        return False
    return word[0] in "aeiou"


def article_agreement_traces(text: str) -> list[Trace]:
    """Every "a" before a vowel sound and "an" before a consonant sound in the text."""
    traces = []
    for match in _ARTICLE_RE.finditer(text):
        article, word = match.group(1), match.group(2)
        if article[0] == "A" and not _SENTENCE_START_RE.search(text[:match.start()]):
            continue  # a capital "A" inside a sentence is a letter or a grade ("vitamin A is")
        if len(word) < 2:
            continue
        vowel = _vowel_sound(word)
        if vowel is None:
            continue
        if article.lower() == "a" and vowel:
            traces.append(Trace("a_before_vowel", f"{article} {word}"))
        elif article.lower() == "an" and not vowel:
            traces.append(Trace("an_before_consonant", f"{article} {word}"))
    return traces


@lru_cache(maxsize=2)
def load_tagger(model_name: str):
    """The spaCy model with tagger and lemmatizer, and the WordNet word lists it ships."""
    import spacy

    nlp = spacy.load(model_name, exclude=_EXCLUDED_PIPES)
    if "lemmatizer" not in nlp.pipe_names:
        raise ValueError(f"spaCy model {model_name!r} has no lemmatizer: the paraphrase score needs "
                         "its WordNet word lists (lemma_index)")
    index = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
    lexicon = {pos: frozenset(index.get(pos, ())) for pos in _LEXICON_POS}
    return nlp, lexicon


def _verb_only(word: str, lexicon: dict[str, frozenset[str]]) -> bool:
    return word in lexicon["verb"] and not any(word in lexicon[pos] for pos in ("noun", "adj", "adv"))


def _candidate(word: str, lexicon: dict[str, frozenset[str]]) -> bool:
    """The word-only tests of a misplaced_verb trace: a token failing them is never one."""
    return (len(word) >= 3 and word.isalpha() and word.islower() and not word.endswith(("ing", "ed"))
            and word not in _VERB_NOUNS_WORDNET_LACKS and _verb_only(word, lexicon))


def _misplaced_verb(token, lexicon: dict[str, frozenset[str]]) -> Trace | None:
    word = token.text
    if token.pos_ in _NON_VERB_SLOTS and _candidate(word, lexicon) and token.lemma_.lower() == word:
        return Trace("misplaced_verb", f"{word} ({token.pos_})")
    return None


def misplaced_verb_traces(doc, lexicon: dict[str, frozenset[str]]) -> list[Trace]:
    """Lower-case base-form words WordNet lists only as verbs, read as a noun, adjective or adverb.

    Only base forms count: gerunds and participles are nouns and adjectives in good English
    ("the training", "the accused"), and a verb's -s form read as a plural is a tagger slip.
    """
    return [trace for token in doc if (trace := _misplaced_verb(token, lexicon)) is not None]


def _windows(candidates: list[int], n_tokens: int) -> list[tuple[int, int]]:
    """[start, end) token ranges of _CONTEXT tokens around each candidate, clipped and merged."""
    windows: list[tuple[int, int]] = []
    for i in candidates:
        start, end = max(0, i - _CONTEXT), min(n_tokens, i + _CONTEXT + 1)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


def _candidate_windows(doc, lexicon: dict[str, frozenset[str]]):
    """(Doc of the candidates' windows, the candidates' positions in it), or None without any.

    A text's windows are joined into one Doc: a window's inner edge lies _CONTEXT tokens or
    more from every candidate, so the next window beside it reaches none. Texts are never
    joined: a window clipped at the text's edge must stay at the Doc's edge, as the model
    saw it. Tokens keep their whitespace and tokenizer-set norms ("n't" -> "not"), both
    model features. tests/test_paraphrase_windows.py checks the tags against a full pass.
    """
    from spacy.attrs import NORM
    from spacy.tokens import Doc

    candidates = [t.i for t in doc if _candidate(t.text, lexicon)]
    if not candidates:
        return None
    windows = _windows(candidates, len(doc))
    if windows == [(0, len(doc))]:
        return doc, candidates
    kept = [i for start, end in windows for i in range(start, end)]
    sub = Doc(doc.vocab, words=[doc[i].orth for i in kept], spaces=[bool(doc[i].whitespace_) for i in kept])
    sub.from_array([NORM], doc.to_array([NORM])[kept])
    position = {i: p for p, i in enumerate(kept)}
    return sub, [position[i] for i in candidates]


def traces_per_text(texts: list[str], model_name: str, batch_size: int = 64) -> list[tuple[Trace, ...]]:
    """The traces of each text.

    The tagger runs only on the windows around candidate words (see _candidate_windows):
    under a tenth of the tokens, at the same traces as a pass over every whole text.
    """
    found: list[list[Trace]] = [article_agreement_traces(t) for t in texts]
    if any(t.strip() for t in texts):
        nlp, lexicon = load_tagger(model_name)
        # One model shared by the process's threads: spaCy does not promise thread-safe inference.
        with _model_lock:
            windows = [(n, w) for n, text in enumerate(texts)
                       if (w := _candidate_windows(nlp.make_doc(text), lexicon)) is not None]
            tagged = nlp.pipe((sub for _, (sub, _) in windows), batch_size=batch_size)
            for (n, (_, positions)), sub in zip(windows, tagged):
                found[n] += [t for i in positions if (t := _misplaced_verb(sub[i], lexicon)) is not None]
    return [tuple(t) for t in found]


def paraphrase_evidence(texts: list[str], model_name: str, batch_size: int = 64) -> ParaphraseEvidence:
    """The traces in the texts (the English paragraphs of one document) and their word count."""
    traces = [t for per_text in traces_per_text(texts, model_name, batch_size) for t in per_text]
    return ParaphraseEvidence(sum(count_words(t) for t in texts), tuple(traces))
