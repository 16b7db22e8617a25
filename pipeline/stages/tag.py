"""tag: Paragraphs -> entity Mentions with spaCy NER (NER only) and canonical ids."""
from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import lru_cache

from pipeline.config import PipelineConfig
from pipeline.records import Article, Mention
from pipeline.textutil import collapse_whitespace, short_id

STAGE = "tag"
# Loading NER alone skips tok2vec, tagger and parser: ~2x faster than disabling them.
_EXCLUDED_PIPES = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
_LEADING_ARTICLE_RE = re.compile(r"^the\s+", re.IGNORECASE)
_EDGE_PUNCT = "\"'“”‘’()[]{}.,;:!?-–—«»"
_model_lock = threading.Lock()


@lru_cache(maxsize=2)
def load_model(name: str):
    import spacy

    return spacy.load(name, exclude=_EXCLUDED_PIPES)


def model_version(name: str) -> str:
    meta = load_model(name).meta
    return f"{meta.get('lang')}_{meta.get('name')}-{meta.get('version')}"


def canonical_name(mention_text: str) -> str:
    """Basic cleanup: whitespace, surrounding punctuation, leading 'the', possessive 's."""
    name = collapse_whitespace(mention_text).strip(_EDGE_PUNCT)
    name = _LEADING_ARTICLE_RE.sub("", name)
    if name.endswith(("'s", "’s")):
        name = name[:-2]
    elif name.endswith(("s'", "s’")):
        name = name[:-1]
    return name.strip(_EDGE_PUNCT) or collapse_whitespace(mention_text)


def entity_id_for(name: str, label: str) -> str:
    return short_id("e", label, name)


def taggable(article: Article, config: PipelineConfig) -> list[tuple[int, str]]:
    """(paragraph_index, text) of the paragraphs the NER model knows the language of."""
    return [(p.index, p.text) for p in article.paragraphs if p.language in config.ner_languages]


def tag(articles: Iterable[Article], config: PipelineConfig) -> list[Mention]:
    """Mentions for every taggable paragraph of the articles, one nlp.pipe over all of them."""
    work = [(a.article_id, index, text) for a in articles for index, text in taggable(a, config)]
    nlp = load_model(config.spacy_model)
    mentions = []
    # One model shared by the process's threads: spaCy does not promise thread-safe inference.
    with _model_lock:
        docs = nlp.pipe((text for _, _, text in work), batch_size=config.ner_batch_size)
        for (article_id, paragraph_index, _), doc in zip(work, docs):
            for ent in doc.ents:
                name = canonical_name(ent.text)
                mentions.append(Mention(
                    article_id=article_id,
                    paragraph_index=paragraph_index,
                    char_start=ent.start_char,
                    char_end=ent.end_char,
                    text=ent.text,
                    label=ent.label_,
                    canonical_name=name,
                    entity_id=entity_id_for(name, ent.label_),
                ))
    return mentions
