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
