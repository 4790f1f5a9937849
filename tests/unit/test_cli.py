import json

import pytest

from paperlake.cli import main


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPERLAKE_HOME", str(tmp_path / "home"))
    for name in ("PAPERLAKE_LAKE_URL", "PAPERLAKE_SNAPSHOT_PATH", "PAPERLAKE_SOURCES"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "home"


@pytest.fixture
def built(home, capsys):
    assert main(["ingest", "--source", "snapshot", "--date", "2026-11-26"]) == 0
    assert main(["marts"]) == 0
    capsys.readouterr()
    return home


def test_ingest_marts_and_sql_on_the_sample(built, capsys):
    assert main(["sql", "SELECT count(*) AS n FROM papers", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"n": 316}]
    assert main(["sql", "SELECT paper_id, title FROM papers ORDER BY paper_id LIMIT 2", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "paper_id,title" and len(lines) == 3
    assert main(["sql", "SELECT entity_id FROM entity_counts LIMIT 3"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("(3 rows)")


@pytest.mark.parametrize(
    "sql, message",
    [
        ("DELETE FROM papers", "refused: the marts are read-only"),
        ("CREATE TABLE x AS SELECT 1", "refused: the marts are read-only"),
        ("COPY papers TO '/tmp/paperlake-should-not-exist.csv'", "refused"),
        ("SET enable_external_access = true", "SQL error"),
        ("SELEC 1", "SQL error: Parser Error"),
    ],
)
def test_writes_are_refused_and_bad_sql_is_one_clear_line(built, capsys, sql, message):
    assert main(["sql", sql]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"paperlake: {message}") and "Traceback" not in err


def test_sql_before_any_marts_says_how_to_build_them(home, capsys):
    assert main(["sql", "SELECT 1"]) == 2
    assert "no marts at" in capsys.readouterr().err


def test_unknown_source_is_a_clear_error(home, capsys):
    assert main(["ingest", "--source", "nope", "--date", "2026-11-26"]) == 2
    assert "unknown source 'nope'" in capsys.readouterr().err


def test_rerunning_a_date_changes_no_count(built, capsys):
    assert main(["ingest", "--source", "snapshot", "--date", "2026-11-26"]) == 0
    assert main(["marts"]) == 0
    capsys.readouterr()
    assert main(["summary", "--date", "2026-11-26"]) == 0
    out = capsys.readouterr().out
    assert "snapshot   clean           316" in out and "papers               316 rows" in out
