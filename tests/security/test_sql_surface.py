"""Attacks on `paperlake sql` and `paperlake shell`: nothing outside the lake is read, nothing is written,
no setting is changed, no secret is shown, and hostile input gets one line, never a traceback."""

import io
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from paperlake.cli import main
from tests.unit.cli.conftest import built, built_home, shell, shell_lake, use_home  # noqa: F401 (fixtures)

LONG_QUERY = "SELECT sum(a.range * b.range) FROM range(1000000000) a, range(1000) b"


def failure(argv, capsys) -> str:
    """The one line a refused or failed command prints (exit status 2, no traceback)."""
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_csv('/etc/passwd', header = false)",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM 'https://example.com/x.csv'",
        "SELECT * FROM query('SELECT 1')",
        "SELECT * FROM query_table('papers')",
        "CALL enable_logging()",
        "SELECT * FROM enable_logging(storage = 'file', storage_path = '/tmp/paperlake-logs')",
        "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
        "COPY papers TO '/tmp/paperlake-should-not-exist.csv'",
        "EXPORT DATABASE '/tmp/paperlake-should-not-exist'",
        "ATTACH '/tmp/paperlake-should-not-exist.duckdb' AS other",
        "DETACH DATABASE IF EXISTS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "RESET allowed_directories",
        "PRAGMA enable_profiling",
        "CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
        "SELECT * FROM duckdb_secrets()",
        "CHECKPOINT",
        "DROP TABLE papers",
        "UPDATE papers SET title = 'x'",
        # multi-statement and comment tricks: the parser, not a regex, splits and classifies
        "SELECT 1; DROP TABLE papers",
        "SELECT 1 /* ; */; COPY papers TO '/tmp/paperlake-should-not-exist.csv'",
        "-- SELECT 1\nCOPY papers TO '/tmp/paperlake-should-not-exist.csv'",
        "/* SELECT */ DELETE FROM papers",
        "SELECT '; DROP TABLE papers; --'; DELETE FROM papers",
        "EXPLAIN ANALYZE COPY papers TO '/tmp/paperlake-should-not-exist.csv'",
        "EXPLAIN (FORMAT json) DELETE FROM papers",
        # homoglyphs: a Cyrillic 'е' and fullwidth letters name no function and no keyword
        "SELECT * FROM rеad_text('/etc/passwd')",
        "ＳＥＬＥＣＴ 1",
        "SELECT * FROM \"read_text\"('/etc/passwd')",
        "SELECT * FROM READ_TEXT('/etc/passwd')",
    ],
)
def test_a_read_outside_a_write_a_setting_or_a_trick_is_refused_in_one_line(built, capsys, sql):
    line = failure(["sql", sql], capsys)
    assert line.startswith(("paperlake: refused", "paperlake: SQL error")), line
    assert not os.path.exists("/tmp/paperlake-should-not-exist.csv")
    assert main(["sql", "SELECT count(*) AS n FROM papers", "--format", "csv"]) == 0
    assert capsys.readouterr().out == "n\n316\n"


NESTED = {
    "function calls": lambda n: "SELECT " + "abs(" * n + "1" + ")" * n,
    "lists": lambda n: "SELECT " + "[" * n + "1" + "]" * n,
    "sums": lambda n: "SELECT " + "1 + " * n + "1",
    "cases": lambda n: "SELECT " + "CASE WHEN true THEN " * n + "1" + " END" * n,
    "subqueries": lambda n: "SELECT * FROM (" * n + "SELECT 1" + ") t" * n,
}


@pytest.mark.parametrize("shape", NESTED)
@pytest.mark.parametrize("depth", [500, 2000])
def test_a_deeply_nested_query_is_checked_without_a_recursion_error(built, shape, depth):
    """The read-only check walks a parse tree of any depth; DuckDB's own depth limit is one line."""
    from paperlake.config import Settings
    from paperlake.readonly import open_marts_readonly, read_only_statements

    con = open_marts_readonly(Settings.from_env())
    try:
        statements = read_only_statements(con, NESTED[shape](depth))
        assert len(statements) == 1
    except Exception as err:
        assert type(err).__name__ in ("QueryError", "ParserException"), repr(err)
    finally:
        con.close()


def test_a_table_function_deep_inside_a_nested_query_is_still_found(built, capsys):
    sql = "SELECT " + "abs(" * 600 + "(SELECT count(*) FROM query('SELECT 1'))" + ")" * 600
    assert "the table function query()" in failure(["sql", sql], capsys)
    assert "the table function query()" in shell(sql + ";")[0]


def test_a_nested_query_in_the_cli_is_one_line_and_the_shell_goes_on(built, capsys):
    sql = "SELECT " + "[" * 600 + "1" + "]" * 600
    assert main(["sql", sql, "--format", "csv", "--output", os.devnull]) == 0
    outputs = shell("SELECT " + "abs(" * 3000 + "1" + ")" * 3000 + ";", "SELECT 42 AS answer;")
    assert outputs[0].startswith("SQL error: Parser Error") and outputs[0].count("\n") == 1
    assert "42" in outputs[1]


def test_a_statement_over_the_timeout_is_cancelled_in_one_line(built, capsys, monkeypatch):
    monkeypatch.setenv("PAPERLAKE_SQL_TIMEOUT", "1")
    line = failure(["sql", LONG_QUERY], capsys)
    assert line == "paperlake: cancelled: the statement ran longer than PAPERLAKE_SQL_TIMEOUT (1 s)\n"
    from paperlake.cli.shell import run_shell
    from paperlake.config import Settings
    from paperlake.readonly import open_shell_connection

    settings = Settings.from_env()
    out = io.StringIO()
    with open_shell_connection(settings) as con:
        run_shell(con, io.StringIO(LONG_QUERY + ";\nSELECT 42 AS answer;\n"), out, timeout=settings.sql_timeout)
    assert "cancelled: the statement ran longer than PAPERLAKE_SQL_TIMEOUT (1 s)\n" in out.getvalue()
    assert "answer" in out.getvalue() and "42" in out.getvalue()


def test_ctrl_c_in_the_shell_cancels_the_statement_and_keeps_the_shell(built):
    shell_process = subprocess.Popen(
        [sys.executable, "-m", "paperlake.cli", "shell"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        shell_process.stdin.write(LONG_QUERY + ";\n")
        shell_process.stdin.flush()
        time.sleep(3)  # the statement is running (it takes minutes)
        shell_process.send_signal(signal.SIGINT)
        out, err = shell_process.communicate("SELECT 42 AS answer;\n.quit\n", timeout=60)
    finally:
        shell_process.kill()
        shell_process.wait()
    assert "cancelled (Ctrl-C)" in out and "answer" in out and "42" in out, out
    assert shell_process.returncode == 0 and "Traceback" not in err, err


def test_sql_answers_without_importing_pandas(built):
    """DuckDB imports pandas on the first bound parameter (0.4 s): the read-only check binds none."""
    probe = (
        "import sys; from paperlake.cli import main; main(['sql', 'SELECT count(*) FROM papers']); "
        "print('pandas' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "False"


def test_a_huge_result_shows_its_first_rows_and_says_so(built, capsys):
    assert main(["sql", "SELECT * FROM range(1000000000000)", "--max-rows", "3"]) == 0
    assert "only the first 3 rows are shown" in capsys.readouterr().out


def test_output_into_the_lake_is_refused_and_the_marts_stay_readable(built, capsys):
    marts = built / "lake" / "marts" / "paperlake.duckdb"
    before = marts.read_bytes()
    for target in (marts, built / "lake" / "clean" / "x.csv", built / "cache" / "x.csv"):
        line = failure(["sql", "SELECT 1", "--format", "csv", "--output", str(target)], capsys)
        assert line.startswith(f"paperlake: refused: --output {target} is inside"), line
    assert marts.read_bytes() == before
    assert main(["sql", "SELECT count(*) FROM papers"]) == 0


def test_a_damaged_marts_file_is_one_line_with_the_fix_and_marts_rebuilds_it(built, tmp_path, monkeypatch, capsys):
    home = use_home(monkeypatch, tmp_path / "home")
    shutil.copytree(built, home)
    marts = home / "lake" / "marts" / "paperlake.duckdb"
    marts.write_text("paperlake_id,title\n1,overwritten by a CSV\n")
    for argv in (["sql", "SELECT 1"], ["summary", "--date", "2026-11-26"], ["search", "decoding"]):
        line = failure(argv, capsys)
        assert "cannot be opened" in line and "paperlake marts --full" in line, line
    from paperlake.config import Settings
    from paperlake.readonly import open_shell_connection

    with pytest.raises(Exception, match="rebuild it with `paperlake marts --full`"):
        open_shell_connection(Settings.from_env())
    assert main(["marts"]) == 0
    assert main(["sql", "SELECT count(*) AS n FROM papers", "--format", "csv"]) == 0
    assert capsys.readouterr().out.endswith("n\n316\n")
    from pathlib import Path

    from paperlake.lake import Lake
    from paperlake.search import Manifest

    lake = Lake.from_settings(Settings.from_env())
    # a damaged index is derived: the next build replaces it
    Path(lake.uri(Manifest.read(lake.store).segments[0])).write_text("overwritten too\n")
    assert main(["marts"]) == 0
    assert main(["search", "speculative decoding", "--format", "json"]) == 0
    assert '"total": ' in capsys.readouterr().out


@pytest.mark.parametrize("shell_lake", ["s3"], indirect=True)
def test_the_shell_on_an_s3_lake_shows_no_credential(shell_lake):
    """httpfs copies the AWS_* variables (as the README configures an S3 lake) into settings anyone could read."""
    from tests.support.seaweed import ACCESS_KEY, SECRET_KEY

    assert os.environ["AWS_SECRET_ACCESS_KEY"] == SECRET_KEY
    outputs = shell(
        "SELECT current_setting('s3_secret_access_key') AS v;",
        "SELECT current_setting('s3_access_key_id') AS v;",
        "SELECT name, value FROM duckdb_settings() WHERE name LIKE 's3%';",
        "SELECT * FROM duckdb_secrets();",
        "SELECT count(*) AS n FROM lake_clean;",
    )
    printed = "".join(outputs)
    assert SECRET_KEY not in printed and ACCESS_KEY not in printed, printed
    assert outputs[3].startswith("refused") and "316" in outputs[4]
