"""Spark (pyspark from PyPI on Debian's Java 17) reads the marts' exports and, through the files the Delta
logs name, the lake's layers: exactly the committed rows. One SparkSession for the module (it takes seconds)."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from paperlake.delta import publish_partition, published_files, table_uri
from paperlake.lake import Lake
from paperlake.pipeline import marts_stage
from paperlake.schemas import CLEAN, ENTITIES
from tests.support.lake_runs import commit_tables, paper, spans, table

DAY = date(2026, 11, 26)

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime: `make test` installs openjdk-17-jre-headless")


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]").appName("paperlake-tests")
        .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    yield session
    session.stop()


def rerun_lake(settings) -> Lake:
    """A date committed twice (the second run replaces the first), its marts built."""
    lake = Lake.from_settings(settings)
    for generation, names in enumerate((["a", "b", "c"], ["b", "c", "d", "e"])):
        commit = commit_tables(
            lake, "snapshot", DAY, clean=table([paper(n, 1, f"title {n}", f"h{n}{generation}") for n in names], CLEAN),
            entities=table([row for n in names for row in spans(n, f"h{n}{generation}", ("BERT", "METHOD", 0))], ENTITIES),
        )
        publish_partition(lake, commit, settings.run_retention)  # as commit_stage does after committing
    marts_stage(settings)
    return lake


def test_spark_reads_the_marts_exports_and_the_lake_through_the_delta_file_lists(spark, settings):
    import duckdb

    from paperlake.marts.builder import local_marts_path

    lake = rerun_lake(settings)
    papers = spark.read.parquet(lake.uri("marts/papers"))
    assert sorted(row.paper_id for row in papers.select("paper_id").collect()) == ["b", "c", "d", "e"]
    with duckdb.connect(str(local_marts_path(lake, settings)), read_only=True) as con:
        assert papers.count() == con.execute("SELECT count(*) FROM papers").fetchone()[0]
        assert spark.read.parquet(lake.uri("marts/paper_entities")).count() == con.execute("SELECT count(*) FROM paper_entities").fetchone()[0]

    # Without Spark's Delta connector (its jars come from Maven): read the files the Delta log names.
    clean = spark.read.option("basePath", table_uri(lake, "clean")).parquet(*published_files(lake, "clean"))
    rows = clean.select("source", "date", "paper_id").collect()
    assert sorted((r.source, r.date, r.paper_id) for r in rows) == [("snapshot", DAY, n) for n in ["b", "c", "d", "e"]]
    # A plain read of the folder sees the superseded run too (until GC): the reason to go through the log.
    assert spark.read.parquet(table_uri(lake, "entities")).count() == 3 + 4
