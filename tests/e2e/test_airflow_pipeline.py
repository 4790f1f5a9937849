"""The bundled sample through real Airflow runs (`airflow dags test`), into a local lake and into S3."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date

import duckdb
import pytest

from paperlake.commit import committed_keys, committed_run
from paperlake.config import S3Options, Settings
from paperlake.lake import Lake
from paperlake.marts.published import local_marts_path
from tests.conftest import AIRFLOW_ENV, VENV_BIN

pytestmark = pytest.mark.e2e
DAY = "2026-11-26"
LAYERS = ("parsed", "clean", "quarantine", "entities")


def airflow_dags_test(env: dict, dag_id: str, day: str, *options: str) -> None:
    command = [str(VENV_BIN / "airflow"), "dags", "test", dag_id, day, *options]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{dag_id} {day} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


def airflow_env(home, **paperlake: str) -> dict:
    """The test session's Airflow settings, with no AWS/paperlake/connection variables but those given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PAPERLAKE_", "AIRFLOW_CONN_"))}
    return env | AIRFLOW_ENV | {"PAPERLAKE_HOME": str(home)} | paperlake


@pytest.fixture(params=["local", "s3"])
def target(request, airflow_home, tmp_path):
    """(environment for Airflow, settings to inspect the same lake) for a local lake or a SeaweedFS bucket."""
    home = tmp_path / "home"
    env = airflow_env(home)
    settings = Settings.from_env({"PAPERLAKE_HOME": str(home)})
    if request.param == "local":
        env["PAPERLAKE_TAG_CHUNK_ROWS"] = "120"  # 316 papers: three mapped tag tasks
    if request.param == "s3":
        seaweed = request.getfixturevalue("seaweed")
        bucket = request.getfixturevalue("s3_bucket")
        # Credentials and endpoint reach the tasks only through the Airflow connection, as in production.
        env["PAPERLAKE_LAKE_URL"] = f"s3://{bucket}/lake"
        env["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(
            {
                "conn_type": "aws",
                "login": seaweed.env["AWS_ACCESS_KEY_ID"],
                "password": seaweed.env["AWS_SECRET_ACCESS_KEY"],
                "extra": {"endpoint_url": seaweed.endpoint_url, "region_name": "us-east-1"},
            }
        )
        settings = Settings.from_env({"PAPERLAKE_HOME": str(home), "PAPERLAKE_LAKE_URL": env["PAPERLAKE_LAKE_URL"]})
        settings = settings._replace(
            s3=S3Options(seaweed.endpoint_url, seaweed.env["AWS_ACCESS_KEY_ID"], seaweed.env["AWS_SECRET_ACCESS_KEY"]),
        )
    return env, settings


def layer_counts(lake: Lake, day: date) -> dict[str, int]:
    counts = {
        layer: lake.read_table(layer, "snapshot", day, run_id=committed_run(lake, "snapshot", day)).num_rows
        for layer in LAYERS
    }
    counts["raw_pages"] = len(lake.read_raw("snapshot", day, committed_run(lake, 'snapshot', day)))
    return counts


def marts_counts(lake: Lake, settings: Settings) -> dict:
    with duckdb.connect(str(local_marts_path(lake, settings)), read_only=True) as con:
        return {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("papers", "paper_entities", "entity_counts")
        }


def speculative_decoding_search(settings: Settings) -> list[tuple[str, str]]:
    """(paper_id, title) of `paperlake search "speculative decoding"` on the published index, best first; checked
    against
    the marts' texts: every paper mentioning both words is found, and the papers with the phrase in their title come
    first."""
    from paperlake.search import open_search, search

    con = open_search(settings)
    try:
        hits = [(hit.paper_id, hit.title) for hit in search(con, "speculative decoding", size=100).rows]
        mentioning = {pid for (pid,) in con.execute(
            "SELECT paper_id FROM papers WHERE regexp_matches(lower(title || ' ' || abstract), 'speculative') "
            "AND regexp_matches(lower(title || ' ' || abstract), 'decod')").fetchall()}
    finally:
        con.close()
    assert {pid for pid, _ in hits} == mentioning and len(hits) >= 3
    in_title = ["speculative" in title.lower() for _, title in hits]
    assert in_title == sorted(in_title, reverse=True) and in_title[0]
    return hits


def test_sample_flows_through_airflow_into_the_lake_and_marts_and_a_rerun_changes_nothing(target):
    env, settings = target
    lake = Lake.from_settings(settings)
    day = date.fromisoformat(DAY)

    airflow_dags_test(env, "paperlake_ingest_snapshot", DAY)
    airflow_dags_test(env, "paperlake_marts", DAY)
    first = layer_counts(lake, day)
    assert first == {"parsed": 316, "clean": 316, "quarantine": 0, "entities": first["entities"], "raw_pages": 1}
    assert first["entities"] > 0
    clean_ids = set(
        lake.read_table("clean", "snapshot", day, run_id=committed_run(lake, "snapshot", day))
        .column("paper_id")
        .to_pylist()
    )
    with duckdb.connect(str(local_marts_path(lake, settings)), read_only=True) as con:
        paper_ids = {row[0] for row in con.execute("SELECT paper_id FROM papers").fetchall()}
        assert con.execute("SELECT count(*) FROM entity_counts WHERE n_papers > 0").fetchone()[0] > 0
        # the raw manifest and validation result, read as JSON documents from the lake (S3 included)
        health = (
            "SELECT fetched_pages, parsed, clean, validation_success FROM pipeline_health WHERE source = 'snapshot'"
        )
        assert con.execute(health).fetchall() == [(1, 316, 316, True)]
    assert len(paper_ids) == 316 and clean_ids <= paper_ids
    marts_first = marts_counts(lake, settings)
    # the marts DAG's update_search_index step ran after the publish
    search_first = speculative_decoding_search(settings)

    airflow_dags_test(env, "paperlake_ingest_snapshot", DAY)
    airflow_dags_test(env, "paperlake_marts", DAY)
    assert layer_counts(lake, day) == first
    assert marts_counts(lake, settings) == marts_first
    assert speculative_decoding_search(settings) == search_first
    from paperlake.commit import current_commit

    commit = current_commit(lake.store, "snapshot", day)
    assert commit.generation == 2 and commit.airflow_run_id  # the rerun committed a new run, with the same rows
    assert committed_keys(lake, 'clean') == [f"clean/source=snapshot/date=2026-11-26/part-{commit.run_id}.parquet"]


def test_arxiv_ingest_dag_fetches_from_the_configured_api_and_reparses_without_network(
    airflow_home, tmp_path, httpserver
):
    from tests.support.recorded_http import arxiv_answer, serve

    script = serve(httpserver, "/api/query", arxiv_answer)
    home = tmp_path / "home"
    env = airflow_env(
        home,
        PAPERLAKE_ARXIV_API_URL=httpserver.url_for("/api/query"),
        PAPERLAKE_ARXIV_PAGE_SIZE="2",
        PAPERLAKE_ARXIV_MIN_INTERVAL="0.2",
    )
    airflow_dags_test(env, "paperlake_ingest_arxiv", DAY)
    assert len(script.requests) == 3
    assert "submittedDate:[202611260000 TO 202611262359]" in script.requests[0].args["search_query"]
    lake = Lake.from_settings(Settings.from_env({"PAPERLAKE_HOME": str(home)}))
    day = date.fromisoformat(DAY)
    clean = lake.read_table("clean", "arxiv", day, run_id=committed_run(lake, 'arxiv', day))
    assert sorted(clean.column("paper_id").to_pylist()) == ["2611.01234", "2611.05678", "hep-th/9901001"]
    assert lake.read_table("entities", "arxiv", day, run_id=committed_run(lake, 'arxiv', day)).num_rows > 0

    airflow_dags_test(env, "paperlake_ingest_arxiv", DAY, "--conf", json.dumps({"reparse": True}))
    assert len(script.requests) == 3  # the reparse run made no request
    assert lake.read_table("clean", "arxiv", day, run_id=committed_run(lake, 'arxiv', day)).equals(clean)


def test_reparse_dag_rebuilds_every_committed_date_of_a_range_with_one_mapped_task_each_and_logs_its_work(
    airflow_home, tmp_path
):
    from paperlake import pipeline
    from paperlake.commit import current_commit

    home = tmp_path / "home"
    settings = Settings.from_env({"PAPERLAKE_HOME": str(home)})
    days = [date(2026, 11, 25), date(2026, 11, 26)]
    for day in days:
        pipeline.ingest(settings, "snapshot", day)
    lake = Lake.from_settings(settings)
    before = {day: layer_counts(lake, day) for day in days}
    env = airflow_env(home) | {"AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO"}
    conf = {"source": "snapshot", "from_date": "2026-11-20", "to_date": "2026-11-30"}
    command = [str(VENV_BIN / "airflow"), "dags", "test", "paperlake_reparse", "--conf", json.dumps(conf)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    output = result.stdout + result.stderr
    assert (
        "2 committed dates to reparse between 2026-11-20 and 2026-11-30; 9 dates without a committed run skipped"
        in output
    )
    for day in days:
        assert current_commit(lake.store, "snapshot", day).generation == 2
        assert layer_counts(lake, day) == before[day]
        # each stage says what it wrote, with counts, in the task's log
        assert f"tag snapshot {day}: run " in output and "'texts_from_cache': 316" in output
    assert output.count("reparse_date") >= 2  # one mapped task per date


def test_a_partition_over_the_quarantine_threshold_fails_the_dag_and_commits_nothing(airflow_home, tmp_path):
    good = "A perfectly ordinary abstract about efficient inference for large language models, long enough to pass."
    page = tmp_path / "dirty.txt"
    page.write_text(
        "\n".join(
            ["Get trending papers in your email inbox once a day!", "Get trending papers in your email inbox!"]
            + [line for i in range(10) for line in (f"Paper {i}", good if i < 7 else "too short")]
        )
    )
    home = tmp_path / "home"
    env = airflow_env(home, PAPERLAKE_SNAPSHOT_PATH=str(page))
    command = [str(VENV_BIN / "airflow"), "dags", "test", "paperlake_ingest_snapshot", DAY]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode != 0
    assert "3 of 10 records rejected (30.0% > 5%); top reasons: abstract_length: 3" in result.stdout + result.stderr
    lake = Lake.from_settings(Settings.from_env({"PAPERLAKE_HOME": str(home)}))
    day = date.fromisoformat(DAY)
    (quarantine,) = lake.store.list("quarantine/source=snapshot")  # the run's quarantine, there to inspect
    run_id = quarantine.rsplit("part-", 1)[1].removesuffix(".parquet")
    assert lake.read_table("quarantine", "snapshot", day, run_id=run_id).num_rows == 3
    assert lake.read_table("clean", "snapshot", day, run_id=run_id).num_rows == 7
    assert not lake.store.list("entities") and not lake.store.list("_commits")  # neither tag nor commit ran


class Inbox:
    """An aiosmtpd handler keeping every delivered envelope."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def test_digest_dag_delivers_the_digest_to_a_real_smtp_server(airflow_home, tmp_path):
    import email
    from email import policy

    from aiosmtpd.controller import Controller

    from paperlake import pipeline
    from tests.support.seaweed import free_ports

    inbox = Inbox()
    (port,) = free_ports(1)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        home = tmp_path / "home"
        settings = Settings.from_env({"PAPERLAKE_HOME": str(home)})
        pipeline.ingest(settings, "snapshot", date.fromisoformat(DAY))
        pipeline.marts_stage(settings)
        env = airflow_env(
            home,
            PAPERLAKE_DIGEST_RECIPIENTS="reader@example.org,team@example.org",
            AIRFLOW_CONN_SMTP_DEFAULT=json.dumps(
                {
                    "conn_type": "smtp",
                    "host": "127.0.0.1",
                    "port": port,
                    "extra": {"disable_tls": True, "disable_ssl": True},
                }
            ),
        )
        airflow_dags_test(env, "paperlake_digest", DAY)
    finally:
        controller.stop()
    assert len(inbox.envelopes) == 1
    envelope = inbox.envelopes[0]
    assert sorted(envelope.rcpt_tos) == ["reader@example.org", "team@example.org"]
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message["Subject"] == f"paperlake: trending papers for {DAY}"
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_content()
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    charts = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert text.startswith(f"Trending papers · {DAY}") and "1. " in text
    assert charts and all(p.get_content().startswith(b"\x89PNG") for p in charts)
    assert all(f"cid:{p['Content-ID'].strip('<>')}" in html for p in charts)
    lake = Lake.from_settings(settings)
    assert lake.store.exists(f"digests/date={DAY}/digest.html")
