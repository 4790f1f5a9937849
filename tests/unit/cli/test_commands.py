import json
import socket
import subprocess
import sys

import pytest

from paperlake.cli import main


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
        ("SET enable_external_access = true", "refused: the marts are read-only"),
        ("SELEC 1", "SQL error: Parser Error"),
        ("EXPLAIN ANALYZE COPY papers TO '/tmp/paperlake-should-not-exist.csv'", "refused"),
        ("SELECT 1; SELECT 2", "SQL error: give one statement, not 2"),
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


def test_verbose_is_accepted_before_and_after_the_command(built, capsys):
    assert main(["--verbose", "sql", "SELECT 1 AS one", "--format", "csv"]) == 0
    assert main(["sql", "SELECT 2 AS two", "--format", "csv", "--verbose"]) == 0
    assert capsys.readouterr().out == "one\n1\ntwo\n2\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["ingest", "--source", "snapshot", "--date", "2026-11-26"],
        ["reparse", "--source", "snapshot", "--date", "2026-11-26", "--allow-shrink", "--verbose"],
        ["marts", "--full"],
        ["--verbose", "sql", "SELECT 1", "--format", "csv", "--max-rows", "3", "--as-of", "2"],
        ["sql", "--file", "q.sql", "--output", "out.parquet", "--format", "parquet"],
        ["search", "speculative decoding", "--label", "DATASET", "--since", "2026-11-01", "--limit", "5"],
        ["shell", "--max-rows", "7"],
        ["publish"],
        ["migrate"],
        ["history", "--layer", "entities", "--limit", "3"],
        ["summary", "--date", "2026-11-26"],
    ],
)
def test_the_parser_of_the_command_run_reads_its_arguments_as_the_parser_of_every_command(argv):
    """A process declares only the subcommand it runs (a fresh `paperlake sql` pays for one parser, not ten)."""
    from paperlake.cli import build_parser, invoked_command

    command = invoked_command(argv)
    assert command == argv[argv[0] == "--verbose"]
    assert vars(build_parser(command).parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_help_and_a_misspelt_command_name_every_command(capsys):
    from paperlake.cli import SUBCOMMANDS

    for argv in (["--help"], ["sqll", "SELECT 1"], []):
        with pytest.raises(SystemExit):
            main(argv)
        printed = capsys.readouterr()
        assert all(name in printed.out + printed.err for name in SUBCOMMANDS), argv
    with pytest.raises(SystemExit):
        main(["sql", "--format", "xml", "SELECT 1"])
    assert "invalid choice: 'xml'" in capsys.readouterr().err


# --- the shell reaches the marts and the lake, nothing else ------------------------------------------------------


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
    line = one_line_failure(["ingest", "--source", "snapshot", "--date", "2026-11-26"], capsys)
    assert f"the lake s3://no-such-bucket-here/lake at {seaweed.endpoint_url} failed: NoSuchBucket" in line
    assert seaweed.env["AWS_SECRET_ACCESS_KEY"] not in line


def test_a_quarantine_over_the_threshold_is_one_line(home, monkeypatch, capsys):
    monkeypatch.setenv("PAPERLAKE_ABSTRACT_MIN_CHARS", "5000")
    line = one_line_failure(["ingest", "--source", "snapshot", "--date", "2026-11-26"], capsys)
    assert line.startswith("paperlake: snapshot 2026-11-26: ") and "records rejected" in line


IMPORTS_CHILD = (
    "import sys\n"
    "from paperlake.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print('modules:', *sorted(sys.modules), file=sys.stderr)\n"
    "sys.exit(code)\n"
)
# What a query does not need and would pay for in every fresh process: the data-frame stack, and the marts builder.


HEAVY_FOR_A_QUERY = {"pandas", "pyarrow", "numpy", "deltalake", "boto3", "botocore"}
# What a point query on the marts does not need either: dataclasses (with inspect, ast, dis) and the dataclasses built
# on import were ~8 ms of a ~110 ms `paperlake sql` in a fresh process (the settings are NamedTuples).


SLOW_FOR_A_POINT_QUERY = {"dataclasses", "inspect", "paperlake.marts.builder", "paperlake.commit"}


def imported_by(argv: list[str], stdin: str = "") -> tuple[str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS_CHILD, *argv], input=stdin, capture_output=True, text=True, check=True
    )
    return done.stdout, set(done.stderr.split("modules:")[-1].split())


def test_sql_and_shell_answer_without_importing_pandas_pyarrow_or_the_builder(built):
    out, modules = imported_by(["sql", "SELECT count(*) AS n FROM papers WHERE paper_id IS NOT NULL"])
    assert "316" in out
    assert not modules & (HEAVY_FOR_A_QUERY | SLOW_FOR_A_POINT_QUERY)
    out, modules = imported_by(
        ["shell"], "SELECT count(*) AS parsed FROM lake_parsed;\nSELECT count(*) AS n FROM papers;\n"
    )
    assert out.count("316") == 2
    assert not modules & HEAVY_FOR_A_QUERY
    # a point query on the marts: the shell answers before reading the lake's commits (lake_* views made when first
    # named)
    out, modules = imported_by(["shell"], "SELECT count(*) AS n FROM papers WHERE paper_id IS NOT NULL;\n")
    assert "316" in out
    assert not modules & (
        HEAVY_FOR_A_QUERY | SLOW_FOR_A_POINT_QUERY | {"paperlake.lake", "paperlake.lake_views"}
    )
