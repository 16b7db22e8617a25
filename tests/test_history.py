"""`pipeline versions`, `diff` and `report` over two real versions built from edited seeds."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import SEEDS

from pipeline.cli import main
from pipeline.cli.history import diff_versions
from pipeline.orchestration.flow import corpus_flow
from pipeline.reporting.report import REPORT_FILE
from pipeline.storage.versions import UnknownVersion, resolve_version

EDITED = "004_fac940e4a35532ca.txt"
EDIT = ("She is also the mother of two young children.", "She is also the proud mother of two young children.")

# Stories on their own topics, with no dates or numbers ("this week" is in the seeds too): adding or
# removing them changes no other article's entities.
OLD_STORY = """Library reopens after long renovation

The public library in Ashwick reopened its doors after a long renovation that added a reading garden, brighter study rooms and a workshop for repairing old books.

Librarians said that visitors had waited patiently through the closure and that the children's corner was busy at once, with families queuing before the doors opened.

The council said the building now uses far less energy for heating, and that the garden will host readings by local writers.
"""

NEW_STORY = """Harbour festival draws crowds despite the rain

Fishing boats decorated with lanterns filled the harbour at Penmoor as the festival returned, drawing visitors from across the coast despite steady rain.

Stallholders sold smoked fish, bread and cider along the quay, while a brass band played under the awning of the old lifeboat station until late.

Organisers said the festival would keep its place on the harbour and asked visitors to arrive by bus, because parking near the quay filled up early.
"""


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> dict:
    """Two versions: the seeds plus an extra story, then one seed edited, the story deleted, another added."""
    root = tmp_path_factory.mktemp("history")
    seeds, data = root / "seeds", root / "data"
    shutil.copytree(SEEDS, seeds)
    (seeds / "old_story.txt").write_text(OLD_STORY, encoding="utf-8")
    (seeds / "empty.txt").write_bytes(b"")
    first = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))

    (seeds / "old_story.txt").unlink()
    (seeds / "new_story.txt").write_text(NEW_STORY, encoding="utf-8")
    edited = seeds / EDITED
    text = edited.read_text(encoding="utf-8")
    assert EDIT[0] in text
    edited.write_text(text.replace(*EDIT), encoding="utf-8")
    second = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
    assert first.validation_success and second.validation_success
    assert (first.n_articles, second.n_articles, len(second.quarantined)) == (6, 6, 1)
    return {"data": data, "first": first.version_id, "second": second.version_id}


@pytest.fixture
def data_copy(versions, tmp_path) -> Path:
    """A copy of the data folder, for tests that change it (no cache: it is not needed)."""
    copy = tmp_path / "data"
    shutil.copytree(versions["data"], copy, symlinks=True, ignore=shutil.ignore_patterns("cache", ".lock"))
    return copy


def test_diff_names_exactly_the_added_removed_and_changed_articles(versions):
    diff = diff_versions(versions["data"], versions["first"], versions["second"])
    assert [c.source_path for c in diff.added] == ["new_story.txt"]
    assert [c.source_path for c in diff.removed] == ["old_story.txt"]
    assert [c.source_path for c in diff.changed] == [EDITED]
    assert diff.unchanged == 4
    what = diff.changed[0].what
    assert {"text", "n_words", "source_sha256", "paragraphs", "entities"} <= set(what)
    assert "title" not in what and "article_id" not in what


def test_diff_command_prints_each_article_and_a_count(versions, capsys):
    code = main(["diff", versions["first"][:6], "latest", "--data", str(versions["data"])])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert [line.split()[0] for line in lines[1:-1]] == ["added", "removed", "changed"]
    assert lines[1].endswith("new_story.txt") and lines[2].endswith("old_story.txt")
    assert f"  {EDITED}: " in lines[3] and "text" in lines[3] and "entities" in lines[3]
    assert lines[-1] == "1 added, 1 removed, 1 changed, 4 unchanged"


def test_diff_of_a_version_with_itself_is_empty(versions):
    diff = diff_versions(versions["data"], versions["second"], versions["second"])
    assert (diff.added, diff.removed, diff.changed, diff.unchanged) == ([], [], [], 6)


def test_versions_lists_both_oldest_first_and_marks_latest(versions, capsys):
    assert main(["versions", "--data", str(versions["data"])]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith((versions["first"], versions["second"]))]
    assert [row.split()[0] for row in rows] == [versions["first"], versions["second"]]
    first, second = (row.split() for row in rows)
    # version, date, time, inputs, articles, quarantined, paragraphs, mentions, entities, validation
    assert first[3:6] == ["7", "6", "1"] and second[3:6] == ["7", "6", "1"]
    assert first[-1] == "passed" and second[-2:] == ["<-", "latest"]
    assert "~" not in "\n".join(lines)  # dates came from runs.jsonl


def test_versions_without_run_log_uses_folder_dates(data_copy, capsys):
    (data_copy / "runs.jsonl").unlink()
    assert main(["versions", "--data", str(data_copy)]) == 0
    out = capsys.readouterr().out
    assert out.count("~  ") == 2 and "no entry in runs.jsonl" in out and "<- latest" in out


def test_version_names_resolve_by_id_prefix_and_latest(versions, data_copy):
    data, first, second = versions["data"], versions["first"], versions["second"]
    assert resolve_version(data, first) == first
    assert resolve_version(data, first[:5]) == first
    assert resolve_version(data, "latest") == second
    with pytest.raises(UnknownVersion, match="no version 'zzz'"):
        resolve_version(data, "zzz")
    twin = first[:3] + ("0" if first[3] != "0" else "1") + first[4:]
    shutil.copytree(data_copy / "versions" / first, data_copy / "versions" / twin)
    with pytest.raises(UnknownVersion, match="ambiguous"):
        resolve_version(data_copy, first[:3])


def test_unknown_versions_exit_2_and_no_versions_exit_3_with_a_message(versions, tmp_path, capsys):
    data = str(versions["data"])
    assert main(["diff", "zzz", "latest", "--data", data]) == 2
    assert "no version 'zzz'" in capsys.readouterr().err
    assert main(["report", "zzz", "--data", data]) == 2
    assert "no version 'zzz'" in capsys.readouterr().err
    assert main(["report", "--data", str(tmp_path / "nothing")]) == 3
    assert "no latest version" in capsys.readouterr().err
    assert main(["versions", "--data", str(tmp_path / "nothing")]) == 0
    assert "no versions" in capsys.readouterr().out


def test_report_command_writes_a_missing_report_and_prints_its_path(versions, data_copy, capsys):
    version_dir = data_copy / "versions" / versions["first"]
    (version_dir / REPORT_FILE).unlink(missing_ok=True)  # as for a version published before reports
    assert main(["report", versions["first"][:6], "--data", str(data_copy)]) == 0
    printed = Path(capsys.readouterr().out.strip())
    assert printed == version_dir / REPORT_FILE and printed.is_file()
    manifest = json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version_id"] in printed.read_text(encoding="utf-8")
    assert main(["report", "--data", str(data_copy)]) == 0
    assert Path(capsys.readouterr().out.strip()) == data_copy / "versions" / versions["second"] / REPORT_FILE
