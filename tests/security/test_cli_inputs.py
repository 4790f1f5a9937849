"""Hostile or odd inputs to the `paperlake` command: each is one clear line (or works), never a traceback."""

import os
import threading
from pathlib import Path

import pytest

from paperlake.cli import main
from paperlake.config import Settings
from paperlake.lake import Lake
from paperlake.sources.snapshot import MAX_SNAPSHOT_BYTES
from tests.unit.cli.conftest import home, use_home  # noqa: F401 (fixtures)


def one_line(argv, capsys, status: int = 2) -> str:
    capsys.readouterr()
    assert main(argv) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_the_last_representable_date_is_refused_in_one_line(home, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["ingest", "--source", "snapshot", "--date", "9999-12-31"])
    assert exit_.value.code == 2
    assert "past the last date a partition can cover (9999-12-30)" in capsys.readouterr().err


def test_the_first_representable_date_is_ingested(home, capsys):
    assert main(["ingest", "--source", "snapshot", "--date", "0001-01-01"]) == 0


@pytest.mark.parametrize("kind", ["device", "fifo", "folder", "too large"])
def test_a_snapshot_path_that_is_no_saved_page_is_refused_before_any_read(home, tmp_path, monkeypatch, capsys, kind):
    if kind == "device":
        path = Path("/dev/zero")  # read_bytes() would fill memory
    elif kind == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)  # opening it for reading would block until a writer comes
    elif kind == "folder":
        path = tmp_path
    else:
        path = tmp_path / "huge.txt"
        with open(path, "wb") as sparse:
            sparse.truncate(MAX_SNAPSHOT_BYTES + 1)
    monkeypatch.setenv("PAPERLAKE_SNAPSHOT_PATH", str(path))
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("line", one_line(
        ["ingest", "--source", "snapshot", "--date", "2026-11-26"], capsys)), daemon=True)
    worker.start()
    worker.join(60)
    if kind == "fifo" and worker.is_alive():
        with open(path, "wb"):  # release the blocked reader so the test process can end
            pass
    assert not worker.is_alive() and "line" in result, f"{kind}: no answer within 60 s"
    expected = "is larger than 256 MiB" if kind == "too large" else "is not a regular file"
    assert f"PAPERLAKE_SNAPSHOT_PATH={path} {expected}" in result["line"], result["line"]


@pytest.mark.parametrize("name", ["my home", "données ü 論文"])
def test_a_home_with_spaces_or_non_ascii_holds_the_lake_in_that_folder(tmp_path, monkeypatch, capsys, name):
    home = use_home(monkeypatch, tmp_path / name)
    assert main(["ingest", "--source", "snapshot", "--date", "2026-11-26"]) == 0
    assert main(["marts"]) == 0
    assert (home / "lake" / "marts" / "paperlake.duckdb").is_file()
    assert not any("%" in p.name for p in tmp_path.iterdir())
    assert main(["sql", "SELECT count(*) AS n FROM papers", "--format", "csv"]) == 0
    assert capsys.readouterr().out.endswith("n\n316\n")


def test_a_file_url_is_unescaped_and_one_naming_a_host_is_refused(tmp_path):
    lake = Lake.from_settings(
        Settings.from_env({"PAPERLAKE_HOME": str(tmp_path), "PAPERLAKE_LAKE_URL": (tmp_path / "a b").as_uri()})
    )
    lake.store.put("x.txt", b"x")
    assert (tmp_path / "a b" / "x.txt").is_file() and not (tmp_path / "a%20b").exists()
    with pytest.raises(ValueError, match="names the host 'host'"):
        Lake.from_settings(Settings.from_env({"PAPERLAKE_HOME": str(tmp_path), "PAPERLAKE_LAKE_URL": "file://host/x"}))
    local = Lake.from_settings(Settings.from_env({"PAPERLAKE_HOME": str(tmp_path), "PAPERLAKE_LAKE_URL": f"file://localhost{tmp_path}/c"}))
    assert local.store.root == tmp_path / "c"


def test_a_lake_url_naming_a_host_is_one_line_from_the_cli(home, monkeypatch, capsys):
    monkeypatch.setenv("PAPERLAKE_LAKE_URL", "file://host/x")
    assert "names the host 'host'" in one_line(["sql", "SELECT 1"], capsys)
