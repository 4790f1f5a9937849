from tests.unit.cli.conftest import shell


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
            "SELECT count(*) AS n\n  FROM papers;\nSELECT count(*) AS parsed FROM lake_parsed;\nDROP TABLE "
            "papers;\n.quit\n"
        ),
        out,
    )
    con.close()
    text = out.getvalue()
    assert "316" in text.split("parsed")[0] and text.count("316") >= 2
    assert "refused: the marts are read-only" in text


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
    assert {"lake_clean", "lake_parsed", "lake_raw", "lake_verdicts", "papers"} <= set(tables.split())
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
