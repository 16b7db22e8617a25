import hashlib
import os
import stat
from pathlib import Path

import pytest
from conftest import read_seed

from pipeline.core.config import PipelineConfig
from pipeline.core.records import Rejected, Source
from pipeline.stages.ingest import decode, discover, fingerprint, ingest

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


# --------------------------------------------------------------------------- not plain files


def _returns_without_blocking(call, fifo: Path | None = None, timeout_s: float = 10):
    """call()'s result; fails (instead of hanging) if it waits on a named pipe."""
    import threading

    result: list = []
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        if fifo is not None:  # a writer that closes at once gives the stuck reader EOF
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout_s)
        pytest.fail(f"blocked on {fifo}")
    return result[0]


def test_named_pipe_is_quarantined_without_being_opened(tmp_path):
    os.mkfifo(tmp_path / "feed.txt")
    assert discover(tmp_path) == ["feed.txt"]
    result = _returns_without_blocking(lambda: ingest(tmp_path, "feed.txt", CONFIG), tmp_path / "feed.txt")
    assert isinstance(result, Rejected)
    assert (result.stage, result.reason, result.source_sha256) == ("ingest", "not_a_regular_file", None)
    assert "named pipe" in result.detail
    assert _returns_without_blocking(lambda: fingerprint(tmp_path, "feed.txt", CONFIG), tmp_path / "feed.txt") \
        == f"unread:not_a_regular_file:{result.detail}"


def test_socket_and_device_are_quarantined(tmp_path, monkeypatch):
    import socket

    server = socket.socket(socket.AF_UNIX)
    monkeypatch.chdir(tmp_path)  # a short relative address: AF_UNIX paths are limited to ~100 bytes
    server.bind("socket.txt")
    try:
        result = ingest(tmp_path, "socket.txt", CONFIG)
        assert (result.reason, "socket" in result.detail) == ("not_a_regular_file", True)
    finally:
        server.close()
    try:
        os.mknod(tmp_path / "null.txt", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        return  # not root: no device node to test with
    result = ingest(tmp_path, "null.txt", CONFIG)
    assert (result.reason, "character device" in result.detail) == ("not_a_regular_file", True)


def test_a_file_swapped_for_a_pipe_or_link_after_listing_is_not_read(tmp_path, monkeypatch):
    """The open itself is guarded: the precheck (lstat) saw a regular file, then it changed."""
    from pipeline.stages import ingest as ingest_module

    monkeypatch.setattr(ingest_module, "_precheck", lambda *args: None)  # as if listed before the swap
    os.mkfifo(tmp_path / "feed.txt")
    result = _returns_without_blocking(lambda: ingest(tmp_path, "feed.txt", CONFIG), tmp_path / "feed.txt")
    assert isinstance(result, Rejected) and result.reason == "not_a_regular_file"
    (tmp_path / "target.txt").write_text("A story that must only be read under its own name.")
    (tmp_path / "link.txt").symlink_to(tmp_path / "target.txt")
    result = ingest(tmp_path, "link.txt", CONFIG)
    assert isinstance(result, Rejected) and result.reason == "symlink"


def test_a_file_gone_between_listing_and_reading_has_its_own_reason(tmp_path):
    rel = write(tmp_path, "gone.txt", b"A short story.")
    assert discover(tmp_path) == [rel]
    (tmp_path / rel).unlink()
    result = ingest(tmp_path, rel, CONFIG)
    assert isinstance(result, Rejected)
    assert (result.stage, result.reason, result.source_sha256) == ("ingest", "disappeared", None)
    assert fingerprint(tmp_path, rel, CONFIG) == f"unread:disappeared:{result.detail}"


def test_a_link_to_a_folder_above_is_listed_once_and_never_entered(tmp_path):
    seeds = tmp_path / "seeds"
    write(seeds, "story.txt", b"A story inside the seeds folder.")
    write(tmp_path, "outside.txt", b"A file outside the seeds folder that must never be read.")
    (seeds / "loop").symlink_to("..")
    (seeds / "sub").mkdir()
    (seeds / "sub" / "up").symlink_to("../..")
    assert discover(seeds) == ["loop", "story.txt", "sub/up"]
    for rel in ("loop", "sub/up"):
        result = ingest(seeds, rel, CONFIG)
        assert isinstance(result, Rejected) and result.reason == "symlink", rel
    # A path through the link (as if the link had been made after listing) is not read either.
    result = ingest(seeds, "loop/outside.txt", CONFIG)
    assert isinstance(result, Rejected) and result.reason == "symlink" and "loop" in result.detail


def test_control_characters_in_names_are_kept_exactly(tmp_path):
    rel = write(tmp_path, "line\nbreak\tand tab.txt", b"A story with an awkward file name.")
    assert discover(tmp_path) == [rel]
    source = ingest(tmp_path, rel, CONFIG)
    assert isinstance(source, Source) and source.path == "line\nbreak\tand tab.txt"


def test_printable_path_escapes_controls_and_keeps_unicode():
    from pipeline.core.textutil import printable_path

    assert printable_path("line\nbreak\tand\rcr.txt") == "line\\nbreak\\tand\\rcr.txt"
    assert printable_path("bell\x07 esc\x1b del\x7f nel\x85 ls\u2028.txt") == \
        "bell\\x07 esc\\x1b del\\x7f nel\\x85 ls\\u2028.txt"
    assert printable_path(Path("ünïcödé — 新闻 report.txt")) == "ünïcödé — 新闻 report.txt"
    assert printable_path(os.fsdecode(b"bad\xffbyte.txt")) == "bad\\xffbyte.txt"
    assert "\n" not in printable_path("a\nb") and len(printable_path("a\nb").splitlines()) == 1


def test_a_run_keys_a_file_rewritten_after_planning_on_the_bytes_it_read(tmp_path):
    """Planning hashed the old bytes, ingest read the new ones: the key follows what was read."""
    from pipeline.core.keys import KeyMaker
    from pipeline.stages.prepare import prepare_document

    keys = KeyMaker(CONFIG)
    story = read_seed("000").encode("utf-8")
    rel = write(tmp_path, "story.txt", story + b"\n\nThe first version of this story ends here.\n")
    planned = keys.plan(tmp_path, rel)
    new_bytes = story + b"\n\nThe second version of this story ends here instead.\n"
    write(tmp_path, rel, new_bytes)
    outcome = prepare_document(tmp_path, rel, CONFIG)
    assert not planned.matches(outcome)
    used = keys.as_used(planned, outcome)
    assert used.fingerprint == hashlib.sha256(new_bytes).hexdigest() == outcome.article.extracted.source.sha256
    assert used == keys.plan(tmp_path, rel)  # what the next run plans for these bytes
    assert keys.as_used(used, outcome) is used
    (tmp_path / rel).unlink()  # and a file gone before ingest read it
    gone = prepare_document(tmp_path, rel, CONFIG)
    assert keys.as_used(used, gone) == keys.plan(tmp_path, rel)
