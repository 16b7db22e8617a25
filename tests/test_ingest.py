from pathlib import Path

import pytest

from pipeline.config import PipelineConfig
from pipeline.records import Rejected, Source
from pipeline.stages.ingest import decode, discover, ingest

CONFIG = PipelineConfig()


def write(folder: Path, name: str, data: bytes) -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path.relative_to(folder).as_posix()


def test_discover_is_recursive_sorted_and_skips_hidden(tmp_path):
    write(tmp_path, "b.txt", b"x")
    write(tmp_path, "sub/a.html", b"x")
    write(tmp_path, ".hidden.txt", b"x")
    write(tmp_path, ".git/config", b"x")
    assert discover(tmp_path) == ["b.txt", "sub/a.html"]


def test_seeds_are_utf8_text(seeds_dir):
    paths = discover(seeds_dir)
    assert len(paths) == 5
    for path in paths:
        source = ingest(seeds_dir, path, CONFIG)
        assert isinstance(source, Source)
        assert (source.format, source.encoding) == ("text", "utf-8")
        assert len(source.sha256) == 64 and source.text.strip()


@pytest.mark.parametrize("name,data,reason", [
    ("empty.txt", b"", "empty_file"),
    ("blank.txt", b"  \n\t\n ", "whitespace_only"),
    ("binary.txt", bytes(range(256)) * 8, "binary_file"),
    ("notes.pdf", b"%PDF-1.4", "unsupported_format"),
])
def test_bad_inputs_are_rejected_with_reason(tmp_path, name, data, reason):
    rel = write(tmp_path, name, data)
    result = ingest(tmp_path, rel, CONFIG)
    assert isinstance(result, Rejected)
    assert (result.stage, result.reason, result.source_path) == ("ingest", reason, rel)
    assert result.detail


def test_symlink_is_not_followed(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret text outside the seeds folder")
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "link.txt").symlink_to(outside)
    result = ingest(seeds, "link.txt", CONFIG)
    assert isinstance(result, Rejected) and result.reason == "symlink"


def test_too_large_file_is_rejected(tmp_path):
    rel = write(tmp_path, "big.txt", b"word " * 1000)
    result = ingest(tmp_path, rel, PipelineConfig(max_file_bytes=100))
    assert isinstance(result, Rejected) and result.reason == "too_large"


@pytest.mark.parametrize("text,encoding", [
    ("Привет! Это длинный текст на русском языке о политике в Казахстане и Китае.", "cp1251"),
    ("Kazakh activists said the situation in Xinjiang was a huge problem.", "utf-16"),
    ("Déjà vu: the café's naïve résumé ☕", "utf-8"),
])
def test_decode_detects_encodings(text, encoding):
    decoded, detected = decode(text.encode(encoding))
    assert decoded == text
    assert detected.replace("_", "-").lower().startswith(encoding.split("-")[0])


def test_html_suffix_gives_html_format(tmp_path):
    rel = write(tmp_path, "Page One.HTM", b"<html><body><p>Hello there</p></body></html>")
    source = ingest(tmp_path, rel, CONFIG)
    assert isinstance(source, Source) and source.format == "html" and source.path == "Page One.HTM"
