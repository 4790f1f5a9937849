"""Spark (pyspark from PyPI on Debian's Java 17, in its own venv) reads the marts' exports and, through the files the
Delta log names, the lake's layers: exactly the committed rows. One Spark process, one SparkSession, for all reads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from paperlake.delta import publish_partition, published_files, table_uri
from paperlake.lake import Lake
from paperlake.pipeline import marts_stage
from paperlake.schemas import CLEAN, ENTITIES
from tests.conftest import REPO
from tests.support.lake_runs import commit_tables, paper, spans, table

DAY = date(2026, 11, 26)
SPARK_PYTHON = Path(os.environ.get("PAPERLAKE_SPARK_PYTHON", REPO / ".venv-spark/bin/python"))

SPARK_MISSING = "no Java runtime or no Spark venv: `make test` installs openjdk-17-jre-headless and makes .venv-spark"
# In CI (CI=true, as .ci/run runs) a missing Spark is a failure, not a skip: the reader test must run there.
pytestmark = pytest.mark.skipif(
    (shutil.which("java") is None or not SPARK_PYTHON.exists()) and not os.environ.get("CI"), reason=SPARK_MISSING,
)


def rerun_lake(settings) -> Lake:
    """A date committed twice (the second run replaces the first), published as commit_stage does, its marts built."""
    lake = Lake.from_settings(settings)
    for generation, names in enumerate((["a", "b", "c"], ["b", "c", "d", "e"])):
        commit = commit_tables(
            lake,
            "snapshot",
            DAY,
            clean=table([paper(n, 1, f"title {n}", f"h{n}{generation}") for n in names], CLEAN),
            entities=table(
                [row for n in names for row in spans(n, f"h{n}{generation}", ("BERT", "METHOD", 0))], ENTITIES
            ),
        )
        publish_partition(lake, commit, settings.run_retention)
    marts_stage(settings)
    return lake


def spark_read(reads: dict) -> dict:
    """What Spark reads (rows and counts) for each of `reads` (see tests/support/spark_reader.py)."""
    result = subprocess.run(
        [str(SPARK_PYTHON), str(REPO / "tests/support/spark_reader.py"), json.dumps(reads)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_spark_reads_the_marts_exports_and_the_lake_through_the_delta_file_lists(settings):
    import duckdb

    from paperlake.marts.published import local_marts_path

    lake = rerun_lake(settings)
    read = spark_read(
        {
            "papers": {"paths": [lake.uri("marts/papers")], "columns": ["paper_id"]},
            "paper_entities": {"paths": [lake.uri("marts/paper_entities")]},
            # Without Spark's Delta connector (its jars come from Maven): the files the Delta log names.
            "clean": {
                "paths": published_files(lake, "clean"),
                "base_path": table_uri(lake, "clean"),
                "columns": ["source", "date", "paper_id"],
            },
            "entities folder": {"paths": [table_uri(lake, "entities")]},
        }
    )
    assert read["papers"]["rows"] == [["b"], ["c"], ["d"], ["e"]]
    with duckdb.connect(str(local_marts_path(lake, settings)), read_only=True) as con:
        assert read["papers"]["count"] == con.execute("SELECT count(*) FROM papers").fetchone()[0]
        assert read["paper_entities"]["count"] == con.execute("SELECT count(*) FROM paper_entities").fetchone()[0] == 4
    assert read["clean"]["rows"] == [["snapshot", "2026-11-26", n] for n in ["b", "c", "d", "e"]]
    # A plain read of a layer's folder sees the superseded run too (until GC): the reason to go through the log.
    assert read["entities folder"]["count"] == 3 + 4
