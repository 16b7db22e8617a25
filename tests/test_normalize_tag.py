from pipeline.config import PipelineConfig
from pipeline.records import Block, Extracted, Source
from pipeline.stages.dedupe import exact_duplicates
from pipeline.stages.normalize import NormalizationError, clean_text, detect_language, normalize
from pipeline.stages.tag import canonical_name, entity_id_for, tag

import pytest

CONFIG = PipelineConfig()


def extracted(*body: str, path: str = "doc.txt", date: str | None = None) -> Extracted:
    text = "\n".join(body)
    source = Source(path, "0" * 64, "text", "utf-8", text, len(text.encode()))
    blocks = tuple(Block(i, line, "body") for i, line in enumerate(body))
    return Extracted(source, "test_v0", blocks, title="  A  title ", published_date=date)


def test_clean_text_fixes_mojibake_whitespace_and_invisibles():
    assert clean_text("The cafÃ©\u200b  opened\tat  noon ") == "The café opened at noon"
    assert clean_text("e\u0301") == "\u00e9"  # NFC


def test_paragraph_offsets_index_the_article_text():
    article = normalize(extracted("First   paragraph here.", "", "Second one, about Kazakhstan."), CONFIG)
    assert [p.text for p in article.paragraphs] == ["First paragraph here.", "Second one, about Kazakhstan."]
    for p in article.paragraphs:
        assert article.text[p.char_start:p.char_end] == p.text
    assert article.title == "A title"
    assert article.article_id.startswith("a") and len(article.article_id) == 17


def test_language_per_article_and_paragraph():
    article = normalize(extracted(
        "Kazakhstan's government pleaded with Beijing to release Kazakhs swept up in the crackdown.",
        "Әділет Ділмұрат. Жарқын жеті деген кім? Ағартушы ма, әлде арандатушы ма? Бұл мақала қазақ тілінде жазылған.",
        "Still, he is determined to press on and speak about it.",
    ), CONFIG)
    assert article.language == "en"
    assert [p.language for p in article.paragraphs] == ["en", "kk", "en"]
    assert detect_language("https://example.com/a/b", 1) == "und"


def test_empty_body_is_an_error():
    with pytest.raises(NormalizationError):
        normalize(extracted("\u200b", " "), CONFIG)


def test_canonical_name_cleanup():
    assert canonical_name("the  Atajurt") == "Atajurt"
    assert canonical_name("Bilash’s") == "Bilash"
    assert canonical_name("Kazakhs'") == "Kazakhs"
    assert entity_id_for("Bilash", "PERSON") == entity_id_for(canonical_name("Bilash's"), "PERSON")
    assert entity_id_for("Bilash", "PERSON") != entity_id_for("Bilash", "ORG")


def test_tag_finds_people_places_with_offsets_and_skips_other_languages():
    article = normalize(extracted(
        "He spotted speeches online by Serikzhan Bilash, a Chinese-born Kazakh activist in Almaty.",
        "Бұл мақала қазақ тілінде жазылған және Алматы туралы айтады, Серікжан Біләш туралы.",
    ), CONFIG)
    mentions = tag([article], CONFIG)
    paragraph_texts = {p.index: p.text for p in article.paragraphs}
    assert {m.paragraph_index for m in mentions} == {0}  # Kazakh paragraph not sent to English NER
    found = {(m.canonical_name, m.label) for m in mentions}
    assert ("Serikzhan Bilash", "PERSON") in found
    assert ("Almaty", "GPE") in found
    for m in mentions:
        assert paragraph_texts[m.paragraph_index][m.char_start:m.char_end] == m.text


def test_exact_duplicates_pick_earliest_regardless_of_order():
    a = normalize(extracted("Same story text here.", path="b.txt", date="2024-01-02"), CONFIG)
    b = normalize(extracted("Same story text here.", path="a.txt", date="2024-01-05"), CONFIG)
    c = normalize(extracted("Different story.", path="c.txt"), CONFIG)
    assert exact_duplicates([a, b, c]) == {b.article_id: a.article_id}
    assert exact_duplicates([c, b, a]) == {b.article_id: a.article_id}
