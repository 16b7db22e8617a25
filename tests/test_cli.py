import shutil
import subprocess
import sys

from conftest import REPO, SEEDS

from pipeline.cli import main
from pipeline.cli.options import EXIT_IO_ERROR, EXIT_USAGE


def test_missing_seeds_folder_is_a_usage_error(tmp_path, capsys):
    assert main(["run", "--seeds", str(tmp_path / "nope"), "--data", str(tmp_path / "data")]) == EXIT_USAGE
    assert "does not exist" in capsys.readouterr().err


def test_unwritable_data_folder_names_the_path(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["run", "--seeds", str(tmp_path), "--data", str(blocker / "data")]) == EXIT_IO_ERROR
    assert str(blocker / "data") in capsys.readouterr().err


# Runs `pipeline run` and says on stderr whether Prefect was imported (a started flow imports it).
_PROBE = ("import sys; from pipeline.cli import main; code = main(sys.argv[1:]); "
          "print('prefect imported:', 'prefect' in sys.modules, file=sys.stderr); sys.exit(code)")


def test_nothing_new_is_found_before_prefect_starts_and_a_change_still_runs(tmp_path, capsys):
    from pipeline.orchestration.flow import corpus_flow

    seeds, data = tmp_path / "seeds", tmp_path / "data"
    shutil.copytree(SEEDS, seeds)
    first = corpus_flow(seeds_dir=str(seeds), data_dir=str(data))
    args = ["run", "--seeds", str(seeds), "--data", str(data)]

    again = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=REPO, capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "nothing new: the latest version was built from these inputs" in again.stderr
    assert "prefect imported: False" in again.stderr
    assert f"version:          {first.version_id} (unchanged: identical to an existing version" in again.stdout
    assert "documents:        extract+normalize 0 processed, 5 reused" in again.stdout
    assert len((data / "runs.jsonl").read_text().splitlines()) == 1  # no flow run, nothing recorded

    edited = sorted(seeds.glob("*.txt"))[0]
    edited.write_bytes(edited.read_bytes().replace(b".", b"!", 1))
    capsys.readouterr()
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "nothing new" not in err
    assert "extract+normalize 1 processed, 4 reused" in out and "(new version)" in out
