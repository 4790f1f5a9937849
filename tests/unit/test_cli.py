import json
import socket
import subprocess
import sys

import pytest

from paperlake.cli import main


def use_home(monkeypatch, home):
    monkeypatch.setenv("PAPERLAKE_HOME", str(home))
    for name in ("PAPERLAKE_LAKE_URL", "PAPERLAKE_SNAPSHOT_PATH", "PAPERLAKE_SOURCES"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def home(tmp_path, monkeypatch):
    return use_home(monkeypatch, tmp_path / "home")


@pytest.fixture(scope="module")
def built_home(tmp_path_factory):
    """The sample ingested and the marts built once for the module's read-only tests."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        home = use_home(monkeypatch, tmp_path_factory.mktemp("cli") / "home")
        assert main(["ingest", "--source", "snapshot", "--date", "2026-11-26"]) == 0
        assert main(["marts"]) == 0
    return home


@pytest.fixture
def built(built_home, monkeypatch, capsys):
    capsys.readouterr()
    return use_home(monkeypatch, built_home)


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


def test_sql_from_a_file_into_csv_json_and_parquet_outputs(built, capsys, tmp_path):
    import pyarrow.parquet as pq

    query = tmp_path / "q.sql"
    query.write_text("SELECT paper_id FROM papers ORDER BY paper_id LIMIT 4")
    assert main(["sql", "--file", str(query), "--format", "csv", "--output", str(tmp_path / "out.csv")]) == 0
    assert (tmp_path / "out.csv").read_text().splitlines()[0] == "paper_id" and len((tmp_path / "out.csv").read_text().splitlines()) == 5
    assert main(["sql", "--file", str(query), "--format", "json", "--output", str(tmp_path / "out.json")]) == 0
    assert len(json.loads((tmp_path / "out.json").read_text())) == 4
    assert main(["sql", "--file", str(query), "--format", "parquet", "--output", str(tmp_path / "out.parquet")]) == 0
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 4
    assert main(["sql", "SELECT 1", "--format", "parquet"]) == 2
    assert "--format parquet needs --output" in capsys.readouterr().err
    assert main(["sql", "--file", str(tmp_path / "missing.sql")]) == 2


def test_shell_answers_statements_on_marts_and_lake_views_and_refuses_writes(built):
    import io

    from paperlake.cli import open_shell_connection, run_shell
    from paperlake.config import Settings

    con = open_shell_connection(Settings.from_env())
    out = io.StringIO()
    run_shell(con, io.StringIO("SELECT count(*) AS n\n  FROM papers;\nSELECT count(*) AS staged FROM lake_staged;\nDROP TABLE papers;\n.quit\n"), out)
    con.close()
    text = out.getvalue()
    assert "316" in text.split("staged")[0] and text.count("316") >= 2
    assert "refused: the marts are read-only" in text


def test_verbose_is_accepted_before_and_after_the_command(built, capsys):
    assert main(["--verbose", "sql", "SELECT 1 AS one", "--format", "csv"]) == 0
    assert main(["sql", "SELECT 2 AS two", "--format", "csv", "--verbose"]) == 0
    assert capsys.readouterr().out == "one\n1\ntwo\n2\n"


# --- paperlake sql streams its result -----------------------------------------------------------------------------

BIG_QUERY = "SELECT range AS i, 'x' || range AS s FROM range(3000000)"
# Peak RSS allowed for writing BIG_QUERY as CSV. Measured: ~160 MB streamed (DuckDB + pandas imports alone are
# ~155 MB), ~700 MB when the rows were fetched all at once.
STREAMING_RSS_LIMIT_KB = 350 * 1024
MEASURE_CHILD = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def test_sql_writes_a_large_csv_in_flat_memory(built, tmp_path):
    output = tmp_path / "big.csv"
    command = [sys.executable, "-m", "paperlake.cli", "sql", BIG_QUERY, "--format", "csv", "--output", str(output)]
    measured = subprocess.run([sys.executable, "-c", MEASURE_CHILD, *command], capture_output=True, text=True, check=True)
    assert int(measured.stdout) < STREAMING_RSS_LIMIT_KB
    with output.open() as lines:
        count, last = 0, ""
        for count, last in enumerate(lines):
            pass
    assert count == 3_000_000 and last == "2999999,x2999999\n"


def test_sql_outputs_have_every_row_across_batches(built, tmp_path, capsys):
    import pyarrow.parquet as pq

    n = 250_001  # more than one CSV/JSON fetch and more than one Parquet record batch
    query = f"SELECT range AS i, 'x' || range AS s FROM range({n})"
    for fmt in ("csv", "json", "parquet"):
        assert main(["sql", query, "--format", fmt, "--output", str(tmp_path / f"out.{fmt}")]) == 0
        assert capsys.readouterr().out == f"wrote {n} rows to {tmp_path / f'out.{fmt}'}\n"
    assert (tmp_path / "out.csv").read_text().count("\n") == n + 1
    rows = json.loads((tmp_path / "out.json").read_text())
    assert len(rows) == n and rows[-1] == {"i": n - 1, "s": f"x{n - 1}"}
    assert pq.read_table(tmp_path / "out.parquet").column("i").to_pylist() == list(range(n))
    assert main(["sql", "SELECT 1 AS i WHERE false", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_table_output_stops_at_max_rows_and_says_how_to_get_all(built, capsys):
    assert main(["sql", "SELECT * FROM range(5000)"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + 1000 + 1 and lines[-2].strip() == "999"
    assert "only the first 1000 rows are shown" in lines[-1] and "--format csv|json|parquet --output" in lines[-1]
    assert main(["sql", "SELECT * FROM range(5)", "--max-rows", "5"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "(5 rows)"
    assert main(["sql", "SELECT * FROM range(6)", "--max-rows", "5"]) == 0
    assert "only the first 5 rows" in capsys.readouterr().out


# --- expected failures are one line -------------------------------------------------------------------------------


def one_line_failure(argv: list[str], capsys) -> str:
    """Run the CLI, check it failed with exactly one `paperlake: ...` line on stderr, and return that line."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("paperlake: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def test_a_failed_fetch_is_one_line_and_verbose_adds_the_traceback(home, monkeypatch, httpserver, capsys):
    httpserver.expect_request("/api/query").respond_with_data("no such query", status=404)
    monkeypatch.setenv("PAPERLAKE_ARXIV_API_URL", httpserver.url_for("/api/query"))
    monkeypatch.setenv("PAPERLAKE_ARXIV_MIN_INTERVAL", "0")
    argv = ["ingest", "--source", "arxiv", "--date", "2026-11-26"]
    line = one_line_failure(argv, capsys)
    assert line.startswith(f"paperlake: arxiv 2026-11-26: HTTP 404 from {httpserver.url_for('/api/query')}")
    assert main(["--verbose", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and "FetchError" in err and err.splitlines()[-1] == line


def test_an_unreachable_s3_endpoint_is_one_line_without_credentials(home, monkeypatch, capsys):
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    for name, value in {"PAPERLAKE_LAKE_URL": "s3://paperlake-nowhere/lake", "PAPERLAKE_S3_ENDPOINT_URL": endpoint,
                        "AWS_ACCESS_KEY_ID": "AKIAKEYIDNOTSHOWN", "AWS_SECRET_ACCESS_KEY": "secret-not-shown"}.items():
        monkeypatch.setenv(name, value)
    line = one_line_failure(["sql", "SELECT 1"], capsys)
    assert f"the lake s3://paperlake-nowhere/lake at {endpoint} failed: EndpointConnectionError" in line
    assert "KEYIDNOTSHOWN" not in line and "secret-not-shown" not in line


def test_an_s3_error_code_is_one_line(home, monkeypatch, seaweed, capsys):
    for name, value in {**seaweed.env, "PAPERLAKE_LAKE_URL": "s3://no-such-bucket-here/lake",
                        "PAPERLAKE_S3_ENDPOINT_URL": seaweed.endpoint_url}.items():
        monkeypatch.setenv(name, value)
    line = one_line_failure(["sql", "SELECT 1"], capsys)
    assert f"the lake s3://no-such-bucket-here/lake at {seaweed.endpoint_url} failed: NoSuchBucket" in line
    assert seaweed.env["AWS_SECRET_ACCESS_KEY"] not in line


def test_a_quarantine_over_the_threshold_is_one_line(home, monkeypatch, capsys):
    monkeypatch.setenv("PAPERLAKE_ABSTRACT_MIN_CHARS", "5000")
    line = one_line_failure(["ingest", "--source", "snapshot", "--date", "2026-11-26"], capsys)
    assert line.startswith("paperlake: snapshot 2026-11-26: ") and "records rejected" in line
