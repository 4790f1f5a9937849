import io
import json
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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


def test_sql_from_a_file_into_csv_json_and_parquet_outputs(built, capsys, tmp_path):
    import pyarrow.parquet as pq

    query = tmp_path / "q.sql"
    query.write_text("SELECT paper_id FROM papers ORDER BY paper_id LIMIT 4")
    assert main(["sql", "--file", str(query), "--format", "csv", "--output", str(tmp_path / "out.csv")]) == 0
    assert (tmp_path / "out.csv").read_text().splitlines()[0] == "paper_id" and len(
        (tmp_path / "out.csv").read_text().splitlines()
    ) == 5
    assert main(["sql", "--file", str(query), "--format", "json", "--output", str(tmp_path / "out.json")]) == 0
    assert len(json.loads((tmp_path / "out.json").read_text())) == 4
    assert main(["sql", "--file", str(query), "--format", "parquet", "--output", str(tmp_path / "out.parquet")]) == 0
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 4
    assert main(["sql", "SELECT 1", "--format", "parquet"]) == 2
    assert "--format parquet needs --output" in capsys.readouterr().err
    assert main(["sql", "--file", str(tmp_path / "missing.sql")]) == 2


def test_shell_answers_statements_on_marts_and_lake_views_and_refuses_writes(built):
    import io

    from paperlake.cli.shell import run_shell
    from paperlake.config import Settings
    from paperlake.readonly import open_shell_connection

    con = open_shell_connection(Settings.from_env())
    out = io.StringIO()
    run_shell(
        con,
        io.StringIO(
            "SELECT count(*) AS n\n  FROM papers;\nSELECT count(*) AS staged FROM lake_staged;\nDROP TABLE "
            "papers;\n.quit\n"
        ),
        out,
    )
    con.close()
    text = out.getvalue()
    assert "316" in text.split("staged")[0] and text.count("316") >= 2
    assert "refused: the marts are read-only" in text


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


@dataclass
class ShellLake:
    root: str  # the lake's root as DuckDB names it: a folder or s3://bucket/prefix
    clean_file: str  # an existing clean partition file, by the same kind of name
    outside: list[str]  # readable objects that are not in the lake
    read: Callable[[str], bytes | None]  # an object's (or a local file's) bytes by name; None when absent


@pytest.fixture(params=["local", "s3"])
def shell_lake(request, built, tmp_path, monkeypatch) -> ShellLake:
    """The sample lake and its marts, in the module's folder or copied to a SeaweedFS bucket."""
    local_root = built / "lake"
    clean_key = next(p for p in (local_root / "clean").rglob("*.parquet")).relative_to(local_root).as_posix()
    outside_file = tmp_path / "outside.csv"
    outside_file.write_text("secret\n1\n")
    if request.param == "local":
        return ShellLake(str(local_root), f"{local_root}/{clean_key}", [str(outside_file)], _read_local)
    seaweed, bucket = request.getfixturevalue("seaweed"), request.getfixturevalue("s3_bucket")
    client = seaweed.client()
    for path in local_root.rglob("*"):
        if path.is_file():
            client.upload_file(str(path), bucket, f"lake/{path.relative_to(local_root).as_posix()}")
    other_bucket = f"{bucket}-other"
    client.create_bucket(Bucket=other_bucket)
    for where, key in ((bucket, "lake-other/x.csv"), (bucket, "other/x.csv"), (other_bucket, "lake/x.csv")):
        client.put_object(Bucket=where, Key=key, Body=b"secret\n1\n")
    for name, value in {**seaweed.env, "PAPERLAKE_HOME": str(tmp_path / "home"), "PAPERLAKE_LAKE_URL": f"s3://{bucket}/lake",
                        "PAPERLAKE_S3_ENDPOINT_URL": seaweed.endpoint_url}.items():
        monkeypatch.setenv(name, value)

    def read_s3(uri: str) -> bytes | None:
        if not uri.startswith("s3://"):
            return _read_local(uri)
        where, key = uri.removeprefix("s3://").split("/", 1)
        try:
            return client.get_object(Bucket=where, Key=key)["Body"].read()
        except client.exceptions.NoSuchKey:
            return None

    outside = [f"s3://{bucket}/lake-other/x.csv", f"s3://{bucket}/other/x.csv", f"s3://{other_bucket}/lake/x.csv"]
    return ShellLake(f"s3://{bucket}/lake", f"s3://{bucket}/lake/{clean_key}", outside + [str(outside_file)], read_s3)


def _read_local(path: str) -> bytes | None:
    return Path(path).read_bytes() if Path(path).is_file() else None


def shell(*statements: str) -> list[str]:
    """What a fresh shell on the current settings prints for each statement, in order (the connection `paperlake shell`
    opens: confined first, its lake_* views created before the first statement that may read them)."""
    from paperlake.cli.shell import run_shell
    from paperlake.config import Settings
    from paperlake.readonly import open_marts_shell

    con, create_lake_views = open_marts_shell(Settings.from_env())
    try:
        outputs = []
        for statement in statements:
            out = io.StringIO()
            run_shell(con, io.StringIO(statement + "\n"), out, create_lake_views=create_lake_views)
            outputs.append(out.getvalue().split("paperlake> ")[1])
        return outputs
    finally:
        con.close()


def test_shell_reads_the_marts_and_the_lake(shell_lake):
    outputs = shell(
        "SELECT count(*) AS n FROM papers;",
        "SELECT count(*) AS n FROM lake_clean;",
        f"SELECT count(*) AS n FROM read_parquet('{shell_lake.clean_file}');",
        "SELECT sum(pages) AS n FROM lake_raw;",
        "EXPLAIN SELECT count(*) FROM lake_entities;",
        "DESCRIBE papers;",
    )
    assert [o.splitlines()[2].strip() for o in outputs[:3]] == ["316", "316", "316"]
    assert int(outputs[3].splitlines()[2]) >= 1
    assert "refused" not in "".join(outputs) and "error" not in "".join(outputs).lower()


def test_a_fresh_shell_sees_the_lake_views_whatever_statement_first_names_them(shell_lake):
    assert "316" in shell("SELECT count(*) AS n FROM papers WHERE paper_id IN (SELECT paper_id FROM lake_clean);")[0]
    tables = shell("SELECT table_name FROM information_schema.tables ORDER BY 1;")[0]
    assert {"lake_clean", "lake_staged", "lake_raw", "lake_verdicts", "papers"} <= set(tables.split())
    assert "lake_entities" in shell("SELECT view_name FROM duckdb_views() WHERE NOT internal;")[0]
    assert "316" in shell("WITH c AS (SELECT * FROM lake_clean) SELECT count(*) AS n FROM c;")[0]


def test_only_statements_naming_nothing_but_marts_tables_answer_before_the_lake_views_exist(built):
    from paperlake.config import Settings
    from paperlake.readonly import open_marts_shell, reads_only_marts

    con, _ = open_marts_shell(Settings.from_env())
    try:
        for statement in ("SELECT paper_id, title FROM papers WHERE paper_id = 'x'", "SELECT 1",
                          "SELECT e.entity_id FROM entity_counts e JOIN paper_entities USING (entity_id) LIMIT 1",
                          "SELECT * FROM entity_cooccurrence", 'SELECT * FROM "Papers"'):
            assert reads_only_marts(con, statement), statement
        for statement in (
            "SELECT * FROM lake_clean",
            "SELECT count(*) FROM papers WHERE paper_id IN (SELECT paper_id FROM lake_clean)",
            "WITH c AS (SELECT 1) SELECT * FROM c",
            "SELECT * FROM information_schema.tables",
            "SELECT * FROM duckdb_views()",
            "SELECT * FROM sqlite_master",
            "SELECT * FROM duckdb_tables",  # system views, not the marts', though named like a table
            "SELECT * FROM pg_tables",
            "SELECT * FROM build",  # a table of the marts file's `state` schema, not of the marts
            "SELECT * FROM marts.papers",
            "SELECT * FROM state.build",
            "SHOW TABLES",
            "DESCRIBE papers",
            "EXPLAIN SELECT * FROM papers",
            "SELECT * FROM range(3)",
        ):
            assert not reads_only_marts(con, statement), statement
    finally:
        con.close()


def test_shell_refuses_other_files_and_every_write_and_goes_on(shell_lake, tmp_path):
    lake_target = f"{shell_lake.root}/clean/new.csv"
    local_target = str(tmp_path / "written.csv")
    before = shell_lake.read(shell_lake.clean_file)
    reads = ["SELECT * FROM read_text('/etc/passwd');"] + [
        f"SELECT * FROM read_text('{path}');" for path in shell_lake.outside
    ]
    writes = [
        f"COPY (SELECT 1 AS x) TO '{local_target}';",
        f"COPY (SELECT 1 AS x) TO '{lake_target}';",
        f"COPY (SELECT 1 AS x) TO '{shell_lake.clean_file}' (FORMAT parquet);",
        f"EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{lake_target}';",
        f"SELECT * FROM enable_logging(storage = 'file', storage_path = '{shell_lake.root}/logs');",
        f"SELECT 1; COPY (SELECT 1 AS x) TO '{lake_target}';",
        f"ATTACH '{tmp_path / 'new.duckdb'}' AS other;",
        "INSTALL httpfs;",
        "LOAD httpfs;",
        "SET enable_external_access = true;",
        "CREATE TABLE x AS SELECT 1;",
    ]
    outputs = shell(*reads, *writes, "SELECT count(*) AS n FROM papers;")
    for statement, output in zip(reads + writes, outputs):
        assert output.startswith("refused: ") and output.count("\n") == 1, (statement, output)
    assert "316" in outputs[-1]
    assert shell_lake.read(shell_lake.clean_file) == before
    assert shell_lake.read(lake_target) is shell_lake.read(local_target) is None
    assert (
        not (tmp_path / "new.duckdb").exists()
        and shell_lake.read(f"{shell_lake.root}/logs/duckdb_log_entries.csv") is None
    )


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
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE_CHILD, *command], capture_output=True, text=True, check=True
    )
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
    line = one_line_failure(["ingest", "--source", "snapshot", "--date", "2026-11-26"], capsys)
    assert f"the lake s3://no-such-bucket-here/lake at {seaweed.endpoint_url} failed: NoSuchBucket" in line
    assert seaweed.env["AWS_SECRET_ACCESS_KEY"] not in line


def test_a_quarantine_over_the_threshold_is_one_line(home, monkeypatch, capsys):
    monkeypatch.setenv("PAPERLAKE_ABSTRACT_MIN_CHARS", "5000")
    line = one_line_failure(["ingest", "--source", "snapshot", "--date", "2026-11-26"], capsys)
    assert line.startswith("paperlake: snapshot 2026-11-26: ") and "records rejected" in line


def test_sql_piped_into_a_reader_that_stops_early_ends_quietly(built):
    """`paperlake sql ... | head -2`: no error message, and the exit status of a filter killed by SIGPIPE."""
    command = [sys.executable, "-m", "paperlake.cli", "sql", BIG_QUERY, "--format", "csv"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as writer:
        head = [writer.stdout.readline() for _ in range(2)]
        writer.stdout.close()
        stderr = writer.stderr.read()
    assert head == [b"i,s\n", b"0,x0\n"]
    assert stderr == b"" and writer.returncode == 141


# A fresh process running the CLI, then naming every module it imported (on stderr, after the command's own output).
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
        ["shell"], "SELECT count(*) AS staged FROM lake_staged;\nSELECT count(*) AS n FROM papers;\n"
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
