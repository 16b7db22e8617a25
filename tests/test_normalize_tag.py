import pytest

from pipeline.core.config import PipelineConfig
from pipeline.core.records import Block, Extracted, Source
from pipeline.stages.entities.catalog_match import CATALOG
from pipeline.stages.entities.tag import canonical_name, entity_id_for, tag
from pipeline.stages.hygiene.dedupe import exact_duplicates
from pipeline.stages.normalize import NormalizationError, clean_text, detect_language, normalize

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
    assert detect_language("https://example.com/a/b", 1) == ("und", 0.0)


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
    tagged = tag([article], CONFIG)
    paragraph_texts = {p.index: p.text for p in article.paragraphs}
    # The Kazakh paragraph is not sent to English NER: it goes to resolve whole, as a request to
    # look for the catalog's known names there (catalog_match).
    mentions = [m for m in tagged if m.tagged_by != CATALOG]
    assert {m.paragraph_index for m in mentions} == {0}
    assert [(m.paragraph_index, m.text) for m in tagged if m.tagged_by == CATALOG] == [(1, paragraph_texts[1])]
    found = {(m.canonical_name, m.label) for m in mentions}
    assert ("Serikzhan Bilash", "PERSON") in found
    assert ("Almaty", "GPE") in found
    for m in mentions:
        assert paragraph_texts[m.paragraph_index][m.char_start:m.char_end] == m.text


def tagged(*paragraphs: str) -> tuple[list, dict[int, str]]:
    article = normalize(extracted(*paragraphs), CONFIG)
    mentions = tag([article], CONFIG)
    texts = {p.index: p.text for p in article.paragraphs}
    for m in mentions:  # offsets always index the paragraph text
        assert texts[m.paragraph_index][m.char_start:m.char_end] == m.text
    return mentions, texts


def test_domain_layer_trims_spans_to_the_name_and_fixes_labels():
    mentions, _ = tagged(
        "This week, Kazakh President Kassym-Jomart Tokayev met Xi on the airport tarmac.",
        "When the arrests began, thousands of Kazakhs, Kyrgyz, Uzbeks and others were abducted along with Uyghurs.",
        "This blog post delves into the grassroots initiative Nagyz Atajurt Eriktileri (Volunteers of the "
        "Homeland, also known as Atajurt[1]), which aids the relatives of detainees.",
        "Later, he began running WeChat channels in Kazakh language with pro-Kazakh nationalist content.",
        "Born to farmers in a small, heavily Kazakh village, he lived modestly but tested well.",
    )
    found = {(m.paragraph_index, m.text, m.label) for m in mentions}
    assert {(0, "Kazakh", "NORP"), (0, "Kassym-Jomart Tokayev", "PERSON")} <= found
    assert {(1, name, "NORP") for name in ("Kazakhs", "Kyrgyz", "Uzbeks", "Uyghurs")} <= found
    assert {(2, "Nagyz Atajurt Eriktileri", "ORG"), (2, "Atajurt", "ORG")} <= found
    assert {(3, "Kazakh", "LANGUAGE"), (3, "Kazakh", "NORP"), (3, "WeChat", "ORG")} <= found
    assert (4, "Kazakh", "NORP") in found
    assert not any("[" in m.text or m.text.startswith(("the ", "President")) for m in mentions)
    assert {m.tagged_by for m in mentions} <= {"model", "model+rules", "aliases"}


def test_words_of_a_full_name_are_that_person_within_the_article():
    mentions, _ = tagged(
        "Talking from exile in France, fugitive banker Mukhtar Ablyazov urged people to assemble on the streets.",
        "Any person at the places Ablyazov remotely named for protest was taken away, a shorthand for Ablyazov.",
        "Ablyazov cannot return to Kazakhstan as a free man.",
    )
    ablyazov = [(m.paragraph_index, m.label) for m in mentions if m.text == "Ablyazov"]
    assert ablyazov == [(1, "PERSON"), (1, "PERSON"), (2, "PERSON")]


def test_exact_duplicates_pick_earliest_regardless_of_order():
    a = normalize(extracted("Same story text here.", path="b.txt", date="2024-01-02"), CONFIG)
    b = normalize(extracted("Same story text here.", path="a.txt", date="2024-01-05"), CONFIG)
    c = normalize(extracted("Different story.", path="c.txt"), CONFIG)
    assert exact_duplicates([a, b, c]) == {b.article_id: a.article_id}
    assert exact_duplicates([c, b, a]) == {b.article_id: a.article_id}


def test_unsure_language_detection_takes_the_article_language():
    """Short English lines come out of py3langid as Pidgin or Javanese with low probability."""
    article = normalize(extracted(
        "The president said on Monday that the reforms would continue through the winter session.",
        "Follow us on Twitter for more updates",
        "Бұл мақала қазақ тілінде жазылған және Алматы туралы айтады, Серікжан Біләш туралы.",
    ), CONFIG)
    assert detect_language("Follow us on Twitter for more updates", 1)[1] < CONFIG.min_paragraph_language_confidence
    assert [p.language for p in article.paragraphs] == ["en", "en", "kk"]
    assert article.language == "en"


def test_model_version_is_read_from_meta_without_loading_the_model():
    import subprocess
    import sys

    import spacy

    from pipeline.core.models import model_version
    from pipeline.stages.entities.tag import load_model

    meta = load_model(CONFIG.spacy_model).meta
    expected = f"{meta['lang']}_{meta['name']}-{meta['version']}"
    assert model_version(CONFIG.spacy_model) == expected
    data_folder = next(p for p in spacy.util.get_package_path(CONFIG.spacy_model).iterdir() if p.is_dir()
                       and (p / "config.cfg").exists())
    assert model_version(str(data_folder)) == expected
    with pytest.raises(OSError, match="neither an installed package nor a folder"):
        model_version("no_such_model_package")
    # The flow process computes cache keys with it: it must not import spaCy for that.
    code = ("import sys; from pipeline.core.models import model_version; "
            f"model_version({CONFIG.spacy_model!r}); print('spacy' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
