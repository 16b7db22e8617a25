"""Operations: incremental reuse, the run lock, kills, full disk, permissions, bad inputs.

Everything runs the real flow (in process, or as the `pipeline` command in a subprocess).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import REPO, SEEDS, read_seed

import pipeline
from pipeline.checks import gx
from pipeline.checks.files import check_files
from pipeline.cli import main as cli_main
from pipeline.cli.options import EXIT_BUSY, EXIT_IO_ERROR
from pipeline.core.config import PipelineConfig
from pipeline.core.textutil import file_sha256
from pipeline.orchestration.flow import corpus_flow
from pipeline.storage.lock import RunLock

BAD_INPUTS = REPO / "tests" / "data" / "bad_inputs"
PIPELINE = [sys.executable, "-m", "pipeline"]

# Where each bad input must end: (table, stage/reason) -- stage/reason only for quarantine.
EXPECTED_BAD_INPUTS = {
    "empty.txt": ("quarantine", "ingest/empty_file"),
    "whitespace only.txt": ("quarantine", "ingest/whitespace_only"),
    "binary.html": ("quarantine", "ingest/binary_file"),
    "utf16_bom.txt": ("articles", None),
    "cp1251_cyrillic.txt": ("articles", None),
    "latin1.txt": ("articles", None),
    "mixed_line_endings.txt": ("articles", None),
    "scripts_only.html": ("quarantine", "extract/no_body"),
    "zero_width_and_controls.txt": ("articles", None),
    "ünïcödé name — 新闻 report.txt": ("articles", None),
    "huge.txt": ("quarantine", "ingest/too_large"),
    "outside-link.txt": ("quarantine", "ingest/symlink"),
    "feed.txt": ("quarantine", "ingest/not_a_regular_file"),
    "socket.txt": ("quarantine", "ingest/not_a_regular_file"),
    "loop": ("quarantine", "ingest/symlink"),
    "line\nbreak.txt": ("articles", None),
    "tab\tand\nnewline.txt": ("quarantine", "ingest/empty_file"),
}


def copy_seeds(target: Path) -> Path:
    shutil.copytree(SEEDS, target)
    return target


def error_lines(stderr: str) -> list[str]:
    """The CLI's own error lines (Prefect may log after them)."""
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def published(data: Path) -> dict:
    return json.loads((data / "latest" / "manifest.json").read_text())


def assert_latest_is_complete(data: Path) -> None:
    """`latest` is absent or points at a whole version whose files match its manifest."""
    if not (data / "latest").exists():
        assert not (data / "latest").is_symlink(), "latest is a dangling link"
        return
    manifest = published(data)
    for name, info in manifest["tables"].items():
        for part in info["parts"]:
            path = data / "latest" / part["file"]
            assert file_sha256(path) == part["sha256"], part["file"]
            assert pq.read_metadata(path).num_rows == part["rows"], part["file"]
        assert sum(part["rows"] for part in info["parts"]) == info["rows"], name


# --------------------------------------------------------------------------- bad inputs


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    seeds = root / "seeds"
    shutil.copytree(BAD_INPUTS, seeds, ignore=shutil.ignore_patterns("README.md"))
    with open(seeds / "huge.txt", "wb") as handle:  # 50 MiB of plausible text
        line = b"A line of ordinary English text that repeats to make a very large file.\n"
        handle.write(line * (50 * 1024 * 1024 // len(line) + 1))
    outside = root / "outside.txt"
    outside.write_text("A file outside the seeds folder that must never be read.\n")
    (seeds / "outside-link.txt").symlink_to(outside)
    (seeds / "loop").symlink_to("..")  # the folder above: neither a loop nor a way out
    os.mkfifo(seeds / "feed.txt")  # as an export tool or a mounted share leaves one; never opened
    sock = socket.socket(socket.AF_UNIX)
    cwd = os.getcwd()
    os.chdir(seeds)  # a relative address: AF_UNIX paths are limited to ~100 bytes
    try:
        sock.bind("socket.txt")
    finally:
        os.chdir(cwd)
    # Names git cannot hold well: control characters, kept exactly in the tables.
    (seeds / "line\nbreak.txt").write_text(read_seed("001"), encoding="utf-8")
    (seeds / "tab\tand\nnewline.txt").write_bytes(b"")
    data = root / "data"
    try:
        summary = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
        yield seeds, data, summary
    finally:
        sock.close()


def seed_files(seeds: Path) -> list[Path]:
    """Every input as ingest lists it: files, links (to folders too), pipes, sockets."""
    return sorted(p for p in seeds.rglob("*") if p.is_symlink() or not p.is_dir())


def test_every_bad_input_lands_in_articles_or_quarantine(bad_corpus):
    seeds, data, summary = bad_corpus
    articles = pipeline.load("articles", data_dir=data).set_index("source_path")
    quarantine = pipeline.load("quarantine", data_dir=data).set_index("source_path")
    inputs = [p.relative_to(seeds).as_posix() for p in seed_files(seeds)]
    assert summary.n_inputs == len(inputs) == len(articles) + len(quarantine)
    assert sorted([*articles.index, *quarantine.index]) == inputs
    assert summary.validation_success, summary.validation_failures
    for name, (table, reason) in EXPECTED_BAD_INPUTS.items():
        if table == "articles":
            assert name in articles.index, (name, quarantine.loc[name].to_dict() if name in quarantine.index else None)
        else:
            row = quarantine.loc[name]
            assert f"{row.stage}/{row.reason}" == reason, name
            assert len(row.detail) > 10, name
    nested = "deeply_nested.html"  # either outcome is fine, as long as it is explained
    assert nested in articles.index or quarantine.loc[nested].reason == "no_body"


def test_bad_inputs_decode_and_clean_correctly(bad_corpus):
    _, data, _ = bad_corpus
    articles = pipeline.load("articles", data_dir=data).set_index("source_path")
    assert "café" in articles.text["latin1.txt"] and "déjà vu" in articles.text["latin1.txt"]
    assert articles.encoding["utf16_bom.txt"] == "utf-16"
    assert "Президент Казахстана" in articles.text["cp1251_cyrillic.txt"]
    assert articles.language["cp1251_cyrillic.txt"] == "ru"
    assert articles.n_paragraphs["mixed_line_endings.txt"] == 3
    assert "\r" not in articles.text["mixed_line_endings.txt"]
    cleaned = articles.text["zero_width_and_controls.txt"]
    assert "Tokayev" in cleaned and not any(ch in cleaned for ch in "\u200b\u200d\u2060\ufeff\x07\x1b")
    # With the invisible characters gone it is the same story as the UTF-16 file: flagged, kept.
    zero_width, utf16 = articles.loc["zero_width_and_controls.txt"], articles.loc["utf16_bom.txt"]
    assert zero_width.content_sha256 == utf16.content_sha256
    assert zero_width.near_duplicate_cluster == utf16.near_duplicate_cluster
    assert zero_width.duplicate_of is not None
    entities = pipeline.load("entities", data_dir=data)
    # The Russian article never reaches the English model; it only gets the corpus's known
    # entities (Tokayev, Almaty: named in the English inputs), found by their transliterations.
    russian = entities[entities.article_id == articles.article_id["cp1251_cyrillic.txt"]]
    assert set(russian.tagged_by) == {"catalog"}
    assert {"Kassym-Jomart Tokayev", "Almaty"} <= set(russian.canonical_name)
    assert articles.article_id["latin1.txt"] in set(entities.article_id)


def test_validate_command_agrees_with_the_run(bad_corpus):
    seeds, data, _ = bad_corpus
    quarantine = pipeline.load("quarantine", data_dir=data).set_index("source_path")
    files = seed_files(seeds)
    verdicts = {Path(v.path).relative_to(seeds).as_posix(): v
                for v in check_files(files, PipelineConfig(), gx.SUITES_DIR)}
    assert len(verdicts) == len(files)
    for name, verdict in verdicts.items():
        if name in quarantine.index:
            row = quarantine.loc[name]
            assert (verdict.passed, verdict.stage, verdict.reason) == (False, row.stage, row.reason), name
        else:
            assert verdict.passed, (name, verdict)


def test_validate_command_output_and_exit_codes(bad_corpus, capsys):
    seeds, data, _ = bad_corpus
    code = cli_main(["validate", str(seeds / "latin1.txt"), str(seeds / "empty.txt"), "--data", str(data)])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL" in out and "empty.txt: ingest/empty_file" in out
    assert "PASS" in out and "latin1.txt" in out and "1 passed, 1 failed" in out
    # A copy of a published article passes with a duplicate warning naming the original.
    copy = seeds.parent / "incoming" / "copy of latin1.txt"
    copy.parent.mkdir()
    shutil.copy(seeds / "latin1.txt", copy)
    assert cli_main(["validate", str(copy), "--data", str(data)]) == 0
    out = capsys.readouterr().out
    original = pipeline.load("articles", data_dir=data).set_index("source_path").article_id["latin1.txt"]
    assert "duplicate_of_existing" in out and original in out
    assert cli_main(["validate", str(seeds / "no-such-file.txt")]) == 2


def test_paths_with_control_characters_print_escaped_one_entry_per_line(bad_corpus, capsys):
    seeds, data, summary = bad_corpus
    awkward, article = "tab\tand\nnewline.txt", "line\nbreak.txt"
    lines = summary.lines()
    assert len("\n".join(lines).splitlines()) == len(lines)
    assert "    tab\\tand\\nnewline.txt: ingest/empty_file" in lines
    assert "    feed.txt: ingest/not_a_regular_file" in lines
    # The tables keep the exact names.
    assert awkward in set(pipeline.load("quarantine", data_dir=data).source_path)
    assert article in set(pipeline.load("articles", data_dir=data).source_path)

    code = cli_main(["validate", str(seeds / awkward), str(seeds / article), str(seeds / "feed.txt"),
                     "--data", str(data)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert all(line.startswith(("PASS  ", "FAIL  ", "      warning: ", "3 files: ")) for line in out), out
    assert any(line.startswith("FAIL  ") and line.endswith("tab\\tand\\nnewline.txt: ingest/empty_file: "
                                                           "file has 0 bytes") for line in out), out
    assert any(line.startswith("PASS  ") and "line\\nbreak.txt (article " in line for line in out), out
    assert any(line.startswith("FAIL  ") and "feed.txt: ingest/not_a_regular_file: a named pipe" in line
               for line in out), out

    assert cli_main(["explain", "--source", article, "--data", str(data)]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("  source line\\nbreak.txt")

    # <wbr> marks where the report lets a long name wrap; a reader sees the name without them
    report = (data / "latest" / "report.html").read_text(encoding="utf-8").replace("<wbr>", "")
    assert "tab\\tand\\nnewline.txt" in report and awkward not in report


# --------------------------------------------------------------------------- incremental


def test_incremental_runs_redo_only_what_changed(tmp_path):
    seeds, data = copy_seeds(tmp_path / "seeds"), tmp_path / "data"
    first = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
    assert (first.counts["prepare"].processed, first.counts["tag"].processed) == (5, 5)

    again = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
    assert (again.counts["prepare"].processed, again.counts["tag"].processed) == (0, 0)
    assert again.counts["prepare"].reused == 5 and again.version_id == first.version_id and not again.version_created

    shutil.copy(BAD_INPUTS / "latin1.txt", seeds / "new story.txt")
    added = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
    assert (added.counts["prepare"].processed, added.counts["prepare"].reused) == (1, 5)
    assert (added.counts["tag"].processed, added.counts["tag"].reused) == (1, 5)
    assert added.n_articles == 6 and added.version_created

    edited = seeds / "new story.txt"
    edited.write_bytes(edited.read_bytes().replace(b"Tuesday", b"Wednesday"))
    changed = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
    assert (changed.counts["prepare"].processed, changed.counts["tag"].processed) == (1, 1)
    assert "Wednesday" in pipeline.load("articles", data_dir=data).set_index("source_path").text["new story.txt"]

    # A tagging setting redoes tagging only; a normalize setting redoes normalize and tagging.
    tag_config = PipelineConfig(ner_languages=("en", "ru"))
    retagged = corpus_flow(seeds_dir=str(seeds), data_dir=str(data), config=tag_config)
    assert (retagged.counts["prepare"].processed, retagged.counts["tag"].processed, retagged.counts["signals"].processed) == (0, 6, 0)
    normalize_config = dataclasses.replace(tag_config, min_words_for_paragraph_language=5)
    renormalized = corpus_flow(seeds_dir=str(seeds), data_dir=str(data), config=normalize_config)
    assert (renormalized.counts["prepare"].processed, renormalized.counts["tag"].processed,
            renormalized.counts["signals"].processed) == (6, 6, 6)

    (seeds / "new story.txt").unlink()
    removed = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
    assert removed.n_articles == 5 and (removed.counts["prepare"].processed, removed.counts["tag"].processed) == (0, 0)
    # Outputs assembled from reused pieces are byte-identical to a run from scratch.
    assert removed.version_id == first.version_id
    assert (data / "latest").resolve().name == first.version_id


# --------------------------------------------------------------------------- lock


def test_files_rewritten_or_removed_during_a_real_run(tmp_path, capsys):
    """A real `pipeline run` lists and hashes its inputs (planning), then reads them again in
    extract. Stopped right after planning (SIGSTOP when it prints what it found), one file is
    rewritten and one removed; the inputs sort after the five seeds, so ingest reads them
    only after the change. The run must use the bytes it read throughout."""
    from pipeline.core.keys import PlannedDocument, build_key
    from pipeline.core.manifest import recipe

    seeds, data = copy_seeds(tmp_path / "seeds"), tmp_path / "data"
    name = "zz changing\nstory.txt"
    byline, story = read_seed("002").split("\n", 1)
    old, new = (f"{byline}\nThis is the {which} version of the story.\n{story}".encode()
                for which in ("first", "second"))
    (seeds / name).write_bytes(old)
    (seeds / "zz gone.txt").write_text(read_seed("003") + "\n\nA file removed during the run.\n")
    child = subprocess.Popen([*PIPELINE, "run", "--seeds", str(seeds), "--data", str(data)], cwd=REPO,
                             stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        for line in child.stderr:
            if line.startswith("found 7 input files under"):
                child.send_signal(signal.SIGSTOP)
                (seeds / name).write_bytes(new)
                (seeds / "zz gone.txt").unlink()
                child.send_signal(signal.SIGCONT)
                break
        else:
            pytest.fail("the run never said what it found")
        stdout, stderr = child.communicate(timeout=300)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, stderr[-3000:]
    assert "note: zz changing\\nstory.txt changed after it was listed" in stderr
    assert "    zz gone.txt: ingest/disappeared" in stdout.splitlines()

    articles = pipeline.load("articles", data_dir=data).set_index("source_path")
    quarantine = pipeline.load("quarantine", data_dir=data).set_index("source_path")
    assert len(articles) + len(quarantine) == 7
    assert "This is the second version of the story." in articles.text[name]
    assert articles.source_sha256[name] == hashlib.sha256(new).hexdigest()
    assert (quarantine.stage["zz gone.txt"], quarantine.reason["zz gone.txt"]) == ("ingest", "disappeared")
    manifest = published(data)
    used = {entry["path"]: entry["sha256"] for entry in manifest["inputs"]}
    assert used[name] == hashlib.sha256(new).hexdigest() and used["zz gone.txt"] is None
    # The build key names the bytes the tables were made from, not those planning hashed.
    fingerprints = {**used, "zz gone.txt": f"unread:disappeared:{quarantine.detail['zz gone.txt']}"}
    assert manifest["build_key"] == build_key([PlannedDocument(p, f, "") for p, f in fingerprints.items()],
                                              recipe(PipelineConfig(), gx.SUITES_DIR))

    # The next run: the rewritten file's outcome was cached under the key of its new bytes.
    again = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
    assert (again.counts["prepare"].processed, again.counts["prepare"].reused) == (0, 6)
    # And a later change is seen by the run after it.
    (seeds / name).write_bytes(old)
    later = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
    assert (later.counts["prepare"].processed, later.counts["prepare"].reused) == (1, 5)
    articles = pipeline.load("articles", data_dir=data).set_index("source_path")
    assert "This is the first version of the story." in articles.text[name]
    assert articles.source_sha256[name] == hashlib.sha256(old).hexdigest()
    capsys.readouterr()
    assert cli_main(["diff", again.version_id, later.version_id, "--data", str(data)]) == 0
    diff = capsys.readouterr().out.splitlines()
    assert any(line.startswith("changed ") and "  zz changing\\nstory.txt: " in line for line in diff), diff
    assert len(diff) == 3, diff  # header, the one change, totals


def test_second_run_on_a_locked_data_folder_fails_or_waits(tmp_path, capsys):
    seeds, data = copy_seeds(tmp_path / "seeds"), tmp_path / "data"
    args = ["run", "--seeds", str(seeds), "--data", str(data)]
    with RunLock(data):
        assert cli_main([*args, "--no-wait"]) == EXIT_BUSY
        err = capsys.readouterr().err
        assert f"{data} is in use by run pid {os.getpid()}" in err and "--no-wait" in err
        assert cli_main([*args, "--lock-timeout", "1"]) == EXIT_BUSY
        assert "gave up after 1 s" in capsys.readouterr().err
    assert not (data / "latest").exists()

    holder = RunLock(data).__enter__()
    stderr = sys.stderr  # capsys's buffer, where the second run says it is waiting

    def release_once_waited_for() -> None:
        deadline = time.monotonic() + 120
        while "waiting:" not in stderr.getvalue() and time.monotonic() < deadline:
            time.sleep(0.1)
        holder.__exit__(None, None, None)

    threading.Thread(target=release_once_waited_for, daemon=True).start()
    assert cli_main(args) == 0  # waits for the holder, then runs
    captured = capsys.readouterr()
    assert "waiting:" in captured.err and "validation:       passed" in captured.out


# --------------------------------------------------------------------------- kills


_PUBLISH_LOOP = """
import sys
from pipeline.core import schema
from pipeline.storage.versions import VersionStore
store = VersionStore(sys.argv[1])
i = 0
while True:
    i += 1
    rows = [{"source_path": f"{i}/{j}", "source_sha256": None, "stage": "ingest", "reason": "r", "detail": "d"}
            for j in range(i % 7 * 3000)]
    store.publish({"quarantine": schema.to_arrow(schema.QUARANTINE, rows)}, {"run": i % 7}, move_latest=True)
"""


def test_sigkill_during_publishing_never_breaks_latest(tmp_path):
    """Kill a process that publishes versions in a loop at many points; latest stays whole."""
    data = tmp_path / "data"
    kills_after_a_publish = 0
    for attempt in range(30):
        child = subprocess.Popen([sys.executable, "-c", _PUBLISH_LOOP, str(data)], cwd=REPO)
        time.sleep(0.8 + 0.07 * attempt)  # startup, then kills land in different phases
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert_latest_is_complete(data)
        kills_after_a_publish += (data / "latest").exists()
        if kills_after_a_publish >= 10:
            break
    assert kills_after_a_publish >= 10, "the child never got to publish: machine too slow?"


def _run_until(seeds: Path, data: Path, trigger: str) -> bool:
    """Start `pipeline run` and SIGKILL its whole process group when stderr shows trigger."""
    child = subprocess.Popen([*PIPELINE, "run", "--seeds", str(seeds), "--data", str(data)], cwd=REPO,
                             stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                             start_new_session=True)
    killed = False
    for line in child.stderr:
        if trigger in line:
            os.killpg(child.pid, signal.SIGKILL)
            killed = True
            break
    child.stderr.close()
    child.wait()
    return killed


def test_sigkill_at_each_stage_leaves_latest_valid_and_next_run_completes(tmp_path):
    """Kill successive runs on one folder in extract, in tag and while publishing."""
    seeds, data = copy_seeds(tmp_path / "seeds"), tmp_path / "data"
    shutil.copy(BAD_INPUTS / "latin1.txt", seeds / "latin1.txt")
    for trigger in ("extract+normalize: 0 reused", "tag: 0 reused", "publish:"):
        assert _run_until(seeds, data, trigger), f"the run never printed {trigger!r}"
        assert_latest_is_complete(data)
    finished = subprocess.run([*PIPELINE, "run", "--seeds", str(seeds), "--data", str(data)], cwd=REPO,
                              capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert_latest_is_complete(data)
    assert not (data / ".staging").exists() or not any((data / ".staging").iterdir())
    # What the killed runs left in the cache does not change the result.
    reference = corpus_flow(seeds_dir=str(seeds), data_dir=str(tmp_path / "reference"))
    assert published(data)["version_id"] == reference.version_id


# --------------------------------------------------------------------------- disk and permissions


def _can_mount_tmpfs() -> bool:
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=16k none /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(shutil.which("unshare") is None or not _can_mount_tmpfs(),
                    reason="needs a private mount namespace to make a small disk (unshare -m)")
def test_full_disk_gives_a_clear_error_naming_the_path(tmp_path):
    data = tmp_path / "small-disk"
    data.mkdir()
    script = f'mount -t tmpfs -o size=200k none "{data}" && exec "$@"'
    result = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", *PIPELINE, "run",
                             "--seeds", str(SEEDS), "--data", str(data)],
                            cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == EXIT_IO_ERROR, result.stderr[-2000:]
    (last,) = error_lines(result.stderr)
    assert last.startswith("error: No space left on device: ") and str(data) in last
    assert "latest was not moved" in last


def _make_unwritable(folder: Path) -> bool:
    """Root ignores file modes, so as root mark the folder immutable instead (chattr +i)."""
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        return True
    return shutil.which("chattr") is not None and subprocess.run(
        ["chattr", "+i", str(folder)], capture_output=True).returncode == 0


def _make_writable(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    os.chmod(folder, 0o755)


def test_permission_error_names_the_path(tmp_path):
    """A data folder we may not write to: exit 3 and the path, no traceback."""
    data = tmp_path / "data"
    data.mkdir()
    if not _make_unwritable(data):
        pytest.skip("running as root on a file system without chattr +i")
    try:
        result = subprocess.run([*PIPELINE, "run", "--seeds", str(SEEDS), "--data", str(data)],
                                cwd=REPO, capture_output=True, text=True, timeout=300)
    finally:
        _make_writable(data)
    assert result.returncode == EXIT_IO_ERROR, result.stderr[-2000:]
    (last,) = error_lines(result.stderr)
    assert last.startswith(("error: Permission denied: ", "error: Operation not permitted: "))
    assert f"{data}/.lock" in last and "Traceback" not in result.stderr


def test_remembered_fingerprints_never_hide_a_change(tmp_path, monkeypatch):
    """Planning reuses a file's hash while its lstat is unchanged (DATA/.fingerprints.json).
    A rewrite of the same size with the old mtime put back still changes the ctime and is
    hashed again; a file changed just before planning is not remembered at all."""
    from pipeline.orchestration import plan

    seeds, data = tmp_path / "seeds", tmp_path / "data"
    seeds.mkdir()
    data.mkdir()
    story = seeds / "story.txt"
    story.write_bytes(b"The first version of the story.\n")

    def fingerprint() -> str:
        (planned,) = plan.plan_run(str(seeds), str(data), PipelineConfig(), gx.SUITES_DIR).planned
        return planned.fingerprint

    assert fingerprint() == hashlib.sha256(story.read_bytes()).hexdigest()
    assert not (data / plan.FINGERPRINTS).exists()  # written just now: not settled, not remembered

    monkeypatch.setattr(plan, "SETTLED_NS", 50_000_000)
    time.sleep(0.2)
    fingerprint()
    assert "story.txt" in json.loads((data / plan.FINGERPRINTS).read_text())["files"]
    before = story.stat()
    story.write_bytes(b"The other version of the story.\n")
    os.utime(story, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (story.stat().st_size, story.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert fingerprint() == hashlib.sha256(b"The other version of the story.\n").hexdigest()
