"""Airflow glue shared by the paperlake DAG files: assets, defaults, settings, the partition date.

A package of its own (installed with `paperlake`) so DAG files import it wherever they are parsed.

Only glue lives here; the work is in the Airflow-free `paperlake` library.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

from airflow.sdk import Asset

from paperlake.config import S3Options, Settings
from paperlake.digest import SmtpSettings
from paperlake.errors import CommitConflict, ShrinkRefused
from paperlake.validate import QuarantineThresholdExceeded

log = logging.getLogger("paperlake")


def log_task_failure(context) -> None:
    """One line per failed task try: DAG, date, task, reason (the task log holds the traceback)."""
    ti, run = context["ti"], context.get("dag_run")
    day = getattr(run, "logical_date", None) or getattr(run, "run_after", None)
    reason = context.get("exception")
    log.error(
        "paperlake task failed: dag=%s date=%s task=%s try=%s reason=%s",
        ti.dag_id, day.date().isoformat() if day else "-", ti.task_id, ti.try_number,
        f"{type(reason).__name__}: {reason}".splitlines()[0] if reason else "unknown",
    )


DEFAULT_ARGS = {
    "owner": "paperlake",
    "retries": int(os.environ.get("PAPERLAKE_TASK_RETRIES", "2")),
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    # A stuck task (a silent server, a hung S3 call) fails and retries instead of holding its slot forever.
    "execution_timeout": timedelta(hours=float(os.environ.get("PAPERLAKE_TASK_TIMEOUT_HOURS", "2"))),
    "on_failure_callback": log_task_failure,
}

# What every paperlake DAG shares: when history starts, no automatic catch-up (backfills are explicit),
# retries, timeouts, the failure line.
DAG_DEFAULTS = {
    "start_date": datetime(2026, 1, 1, tzinfo=timezone.utc),
    "catchup": False,
    "default_args": DEFAULT_ARGS,
    "dagrun_timeout": timedelta(hours=float(os.environ.get("PAPERLAKE_DAGRUN_TIMEOUT_HOURS", "8"))),
}

# Fetch tasks of sources that share a provider's rate limit share a one-slot pool (pools.json).
SOURCE_POOLS = {"arxiv": "arxiv_api", "arxiv_oai": "arxiv_api"}

MARTS_ASSET = Asset(name="paperlake_marts", uri="paperlake://marts/paperlake.duckdb")
# Updated when the reparse DAG has committed rebuilt partitions (of any source).
REPARSED_ASSET = Asset(name="paperlake_reparsed", uri="paperlake://reparsed")


def entities_asset(source: str) -> Asset:
    """Updated whenever a source's entities partition is (re)written."""
    return Asset(name=f"paperlake_entities_{source}", uri=f"paperlake://entities/{source}")


def ingest_dag_id(source: str) -> str:
    """The id of a source's ingest DAG."""
    return f"paperlake_ingest_{source}"


def fetch_pool(source: str) -> str:
    """The pool a source's fetch task runs in."""
    return SOURCE_POOLS.get(source, "default_pool")


def configured_sources() -> tuple[str, ...]:
    """Sources with an ingest DAG (PAPERLAKE_SOURCES); read at parse time, without touching the lake."""
    return Settings.from_env().sources


def task_settings() -> Settings:
    """Settings from the environment, with S3 endpoint/credentials from the Airflow connection if it exists."""
    settings = Settings.from_env()
    if not settings.lake_url.startswith("s3://"):
        return settings
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = Connection.get(os.environ.get("PAPERLAKE_AWS_CONN_ID", "aws_default"))
    except AirflowNotFoundException:
        return settings
    extra = conn.extra_dejson
    return settings._replace(
        s3=S3Options(
            endpoint_url=extra.get("endpoint_url") or settings.s3.endpoint_url,
            access_key_id=conn.login or extra.get("aws_access_key_id") or settings.s3.access_key_id,
            secret_access_key=conn.password or extra.get("aws_secret_access_key") or settings.s3.secret_access_key,
            region=extra.get("region_name") or settings.s3.region,
        ),
    )


def smtp_settings(conn_id: str):
    """SMTP host, port, login and TLS choice from an Airflow SMTP connection.

    As in Airflow's SMTP provider: SSL and STARTTLS are on unless the extra says `disable_ssl` / `disable_tls`.
    """
    from airflow.sdk import Connection

    conn = Connection.get(conn_id)
    extra = conn.extra_dejson
    return SmtpSettings(
        host=conn.host or "localhost",
        port=conn.port or 25,
        user=conn.login or None,
        password=conn.password or None,
        starttls=not extra.get("disable_tls", False),
        ssl=not extra.get("disable_ssl", False),
        timeout=float(extra.get("timeout", 30)),
    )


@contextmanager
def fail_without_retry():
    """Turn paperlake's expected failures that a retry cannot fix into AirflowFailException (no retries)."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except (CommitConflict, ShrinkRefused, QuarantineThresholdExceeded) as err:
        raise AirflowFailException(str(err)) from err


def data_interval(context) -> tuple[datetime, datetime]:
    """The interval a run covers, starting at its logical date.

    Scheduled and backfill runs get exactly Airflow's data interval (it starts at the logical
    date); a manual run for date D covers D onwards for one schedule period (Airflow would give it
    the period *ending* at D), so the partition named D always holds D's records.
    """
    logical = context.get("logical_date") or context["dag_run"].run_after
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    length = end - start if start is not None and end is not None and end > start else timedelta(days=1)
    return logical, logical + length


def partition_day(context) -> date:
    """The partition date D of a run: its logical date (UTC), never 'today'."""
    return data_interval(context)[0].astimezone(timezone.utc).date()
