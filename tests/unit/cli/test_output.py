import json
import subprocess
import sys

from paperlake.cli import main


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
