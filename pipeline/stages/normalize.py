"""normalize: Extracted -> Article with Paragraphs (Unicode fixes, whitespace, offsets, language)."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

import ftfy
from py3langid import langid

from pipeline.core.config import PipelineConfig
from pipeline.core.records import Article, Extracted, Paragraph
from pipeline.core.textutil import collapse_whitespace, count_words, sha256_hex, short_id

STAGE = "normalize"
VERSION = "normalize_v4"
PARAGRAPH_SEPARATOR = "\n\n"
UNDETERMINED = "und"
_URL_RE = re.compile(r"\S*(?:https?://|www\.)\S*")
_LETTERS_RE = re.compile(r"[^\W\d_]{2,}")
# Zero-width and other invisible format characters carry no text and break matching.
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")


# Keep typographic quotes: they are the author's text, not an encoding error.
_FTFY_CONFIG = ftfy.TextFixerConfig(uncurl_quotes=False, normalization="NFC")
# Printable ASCII without "&" is what most paragraphs are, and nothing clean_text repairs: no
# mojibake, entity, control, line-break, wide or invisible character, and NFC leaves it as is.
_PLAIN_ASCII_RE = re.compile(r"[\x20-\x25\x27-\x7e]*")


class NormalizationError(ValueError):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def article_id_for(source_path: str) -> str:
    """Article ids follow the file, so an edited document keeps its id."""
    return short_id("a", source_path)


def clean_text(text: str) -> str:
    """ftfy repairs (mojibake, HTML entities), NFC, no invisible characters, one-space runs."""
    if _PLAIN_ASCII_RE.fullmatch(text):
        return collapse_whitespace(text)
    text = ftfy.fix_text(text, _FTFY_CONFIG)
    text = _INVISIBLE_RE.sub("", text)
    return collapse_whitespace(unicodedata.normalize("NFC", text))


def clean_optional(value: str | None) -> str | None:
    cleaned = clean_text(value) if value else ""
    return cleaned or None


def paragraph_hash(text: str) -> str:
    """Hash of the casefolded, whitespace-collapsed text: equal for syndicated copies."""
    return sha256_hex(collapse_whitespace(text).casefold())


@lru_cache(maxsize=1)
def _identifier():
    """py3langid's shipped model with probabilities that sum to 1, so a threshold means something."""
    return langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)


def detect_language(text: str, min_words: int = 1) -> tuple[str, float]:
    """(ISO 639 code, detector probability), or ("und", 0.0) with fewer than min_words words
    of letters (URLs aside)."""
    letters_only = _URL_RE.sub(" ", text)
    if len(_LETTERS_RE.findall(letters_only)) < max(min_words, 1):
        return UNDETERMINED, 0.0
    language, probability = _identifier().classify(letters_only)
    return language, float(probability)


def _non_latin_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum(ord(c) > 0x24F for c in letters) / len(letters) if letters else 0.0


def _in_its_own_script(text: str, language: str, article_text: str, article_language: str) -> bool:
    """A paragraph mostly in another alphabet than its article (Cyrillic in a Latin-script
    article) keeps the language detected for it, however unsure: it cannot be the article's."""
    return (language not in (UNDETERMINED, article_language) and _non_latin_share(text) > 0.5
            and _non_latin_share(article_text) < 0.5)


def majority_language(texts: list[str], languages: list[str]) -> str | None:
    """The language that carries the most words; a foreign footnote does not outvote the story."""
    words: Counter[str] = Counter()
    for text, language in zip(texts, languages):
        if language != UNDETERMINED:
            words[language] += count_words(text)
    return min(words, key=lambda lang: (-words[lang], lang)) if words else None


def normalize(extracted: Extracted, config: PipelineConfig) -> Article:
    paragraphs_text = [t for t in (clean_text(b.text) for b in extracted.body_blocks) if t]
    if not paragraphs_text:
        raise NormalizationError("no_text_after_normalization",
                                 "body blocks were empty after Unicode and whitespace cleanup")
    text = PARAGRAPH_SEPARATOR.join(paragraphs_text)
    detected = [detect_language(t, config.min_words_for_paragraph_language) for t in paragraphs_text]
    # Every detection votes for the article's language, weighted by words; a paragraph keeps
    # its own language only when the detector is sure of it, so a foreign footnote is
    # marked but a short English line full of names does not become Pidgin.
    article_language = (majority_language(paragraphs_text, [language for language, _ in detected])
                        or detect_language(text)[0])
    paragraphs = []
    offset = 0
    for index, (paragraph_text, (language, probability)) in enumerate(zip(paragraphs_text, detected)):
        if ((language == UNDETERMINED or probability < config.min_paragraph_language_confidence)
                and not _in_its_own_script(paragraph_text, language, text, article_language)):
            language = article_language
        end = offset + len(paragraph_text)
        paragraphs.append(Paragraph(index, paragraph_text, offset, end, language,
                                    paragraph_hash(paragraph_text)))
        offset = end + len(PARAGRAPH_SEPARATOR)
    return Article(
        article_id=article_id_for(extracted.source.path),
        extracted=extracted,
        text=text,
        language=article_language,
        paragraphs=tuple(paragraphs),
        title=clean_optional(extracted.title),
        author=clean_optional(extracted.author),
        published_date=extracted.published_date,
        site_name=clean_optional(extracted.site_name),
        url=clean_optional(extracted.url),
        boilerplate_ratio=extracted.boilerplate_ratio,
    )

