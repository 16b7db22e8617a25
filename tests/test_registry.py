"""The stage contract and registry: identities come from the registry, an extra stage is cached,
reused and recorded like the built-in ones, and the package's layers import downwards only."""
from __future__ import annotations

import ast
import json
import shutil
from dataclasses import fields, replace
from pathlib import Path

import pytest
from conftest import REPO, SEEDS, table_bytes

from pipeline.core import manifest as manifests
from pipeline.core import registry
from pipeline.core.config import SPEED_ONLY, PipelineConfig
from pipeline.core.records import Article
from pipeline.core.stage import CORPUS, DOCUMENT, Stage
from pipeline.orchestration.flow import corpus_flow
from pipeline.reporting.summary import StageCounts

PACKAGE = REPO / "pipeline"


def mean_word_length(articles: list[Article], config: PipelineConfig) -> list[float]:
    """A small extra document stage, as docs/architecture.md adds one."""
    return [sum(map(len, a.text.split())) / max(1, len(a.text.split())) for a in articles]


WORD_LENGTH = Stage("word_length", "word_length_v1", DOCUMENT, mean_word_length, label="word length")


def copy_seeds(folder: Path, prefixes: tuple[str, ...]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for prefix in prefixes:
        (path,) = SEEDS.glob(f"{prefix}_*.txt")
        shutil.copy(path, folder / path.name)
    return folder


def runs(data: Path) -> list[dict]:
    return [json.loads(line) for line in (data / "runs.jsonl").read_text(encoding="utf-8").splitlines()]


def test_every_config_field_is_read_by_a_stage_or_changes_speed_only():
    read = {name for stage in registry.STAGES for name in stage.reads}
    assert {f.name for f in fields(PipelineConfig)} - read == set(SPEED_ONLY)
    assert not read & SPEED_ONLY


def test_stage_declarations_are_checked():
    with pytest.raises(ValueError, match="unknown config fields: no_such_field"):
        Stage("x", "x_v1", DOCUMENT, mean_word_length, reads=("no_such_field",))
    with pytest.raises(ValueError, match="scope"):
        Stage("x", "x_v1", "shard", mean_word_length)
    names = [s.name for s in registry.STAGES]
    assert len(names) == len(set(names))
    with pytest.raises(ValueError, match="already registered: tag"):
        with registry.extended(replace(WORD_LENGTH, name="tag")):
            pass
    assert [s.scope for s in registry.STAGES].count(DOCUMENT) == 3
    assert registry.STAGES[-1].scope == CORPUS


def test_an_extra_stage_is_cached_reused_and_recorded(tmp_path):
    seeds, data = copy_seeds(tmp_path / "seeds", ("000", "002", "004")), tmp_path / "data"
    with registry.extended(WORD_LENGTH):
        first = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
        copy_seeds(seeds, ("003",))
        second = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
    # A new version of the stage reruns it alone: the other stages' keys did not move.
    with registry.extended(replace(WORD_LENGTH, version="word_length_v2")):
        bumped = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))

    assert first.ok and second.ok and bumped.ok
    assert first.counts["word_length"] == StageCounts("word length", 3, 0)
    assert second.counts["word_length"] == StageCounts("word length", 1, 3)
    assert (second.counts["tag"].processed, second.counts["tag"].reused) == (1, 3)
    assert bumped.counts["word_length"] == StageCounts("word length", 4, 0)
    assert all(bumped.counts[name].processed == 0 for name in ("prepare", "tag", "signals"))
    assert "word length 1 processed, 3 reused" in "\n".join(second.lines())

    assert len(list((data / "cache" / "word_length").rglob("*.pkl"))) == 4 + 4  # two versions' entries
    manifest = json.loads((data / "latest" / "manifest.json").read_text(encoding="utf-8"))
    recorded = {s["name"]: s for s in manifest["stages"]}
    assert recorded["word_length"] == WORD_LENGTH.identity(PipelineConfig()) | {"version": "word_length_v2"}
    assert list(recorded) == [s.name for s in registry.STAGES] + ["word_length"]
    assert [r["processed"]["word_length"] for r in runs(data)] == [3, 1, 4]
    assert [r["processed"]["tag"] for r in runs(data)] == [3, 1, 0]


def test_only_code_that_decides_the_tables_is_in_the_code_digest(tmp_path, monkeypatch, capsys):
    """A comment in the report module and a new help string make no new build; a comment in a
    stage does (its tables are the same bytes)."""
    package = tmp_path / "pipeline"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(manifests, "PACKAGE_DIR", package)
    seeds, data = copy_seeds(tmp_path / "seeds", ("001", "004")), tmp_path / "data"
    first = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))

    with open(package / "reporting" / "report.py", "a", encoding="utf-8") as handle:
        handle.write("\n# A note for the next engineer.\n")
    run_module = package / "cli" / "run.py"
    text = run_module.read_text(encoding="utf-8")
    assert 'help="run the flow over a seeds folder and publish a version"' in text
    run_module.write_text(text.replace("and publish a version", "and publish a new version"), encoding="utf-8")
    capsys.readouterr()
    again = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
    assert "nothing new: the latest version was built from these inputs" in capsys.readouterr().err
    assert again.version_id == first.version_id and not again.version_created
    assert again.counts["prepare"] == StageCounts("extract+normalize", 0, 2)
    assert len(runs(data)) == 1  # stopped before building anything: no run recorded

    with open(package / "stages" / "normalize.py", "a", encoding="utf-8") as handle:
        handle.write("\n# A comment, still code that decides the tables.\n")
    rebuilt = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
    assert "nothing new" not in capsys.readouterr().err
    assert rebuilt.version_created and rebuilt.version_id != first.version_id
    assert len(runs(data)) == 2
    assert table_bytes(Path(rebuilt.tables_dir)) == table_bytes(Path(first.tables_dir))


# --------------------------------------------------------------------------- layers


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module the file imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                found.add(name if name in modules else node.module)
    return found


def test_no_import_circles_and_stages_import_no_prefect_storage_or_cli():
    modules = _modules()
    graph = {name: {m for m in _imports(path, modules) if m in modules} for name, path in modules.items()}

    # Layers below orchestration know nothing of Prefect, storage, the CLI or reporting.
    lower = ("pipeline.core", "pipeline.stages", "pipeline.tables", "pipeline.checks")
    upper = ("prefect", "prefect_dask", "distributed", "dask", "pipeline.storage", "pipeline.cli",
             "pipeline.orchestration", "pipeline.reporting")
    for name, path in modules.items():
        if name.startswith(lower):
            bad = sorted(m for m in _imports(path, modules) if m.split(".")[0] in upper or m.startswith(upper))
            assert not bad, f"{name} imports {bad}"

    # No circles (a package's __init__ importing its own submodules is not one).
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for other in sorted(graph[name]):
            if name.startswith(other + "."):
                continue
            if state.get(other) == 1:
                raise AssertionError("import circle: " + " -> ".join(trail[trail.index(other):] + [other]))
            if other not in state:
                visit(other, trail + [other])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
