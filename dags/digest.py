"""The daily "trending papers" digest, composed whenever the marts are republished, sent by SMTP."""

from __future__ import annotations

import logging
import os

from airflow.sdk import dag, task

from paperlake import pipeline
from paperlake.digest import digest_message, send_message
from paperlake_airflow import DAG_DEFAULTS, MARTS_ASSET, smtp_settings, task_settings

log = logging.getLogger(__name__)


DOC = """
### Digest: the trending papers, by email

**Reads** the published marts. **Writes** `digests/date=<date>/digest.html` to the lake and emails
it (HTML with inline charts, plus plain text) to `PAPERLAKE_DIGEST_RECIPIENTS` through the
`smtp_default` connection (`PAPERLAKE_SMTP_CONN_ID`); with no recipients it only writes the page.

**Runs** after every marts build (asset `paperlake_marts`); created unpaused. Nothing to backfill:
it always describes the latest marts.
"""


@dag(
    dag_id="paperlake_digest",
    description="Compose the trending-papers digest from the marts, store it in the lake and email it",
    doc_md=DOC,
    schedule=[MARTS_ASSET],
    max_active_runs=1,
    is_paused_upon_creation=False,
    **DAG_DEFAULTS,
    tags=["paperlake", "digest"],
)
def paperlake_digest():
    @task
    def send_digest() -> dict:
        settings = task_settings()
        digest, uri = pipeline.digest_stage(settings)
        if uri is None:
            return {"uri": None, "sent_to": []}
        if not settings.digest_recipients:
            log.warning("digest written to %s; not emailed: PAPERLAKE_DIGEST_RECIPIENTS is empty", uri)
            return {"uri": uri, "sent_to": []}
        message = digest_message(digest, settings.digest_sender, list(settings.digest_recipients))
        send_message(message, smtp_settings(os.environ.get("PAPERLAKE_SMTP_CONN_ID", "smtp_default")))
        return {
            "uri": uri,
            "sent_to": list(settings.digest_recipients),
            "papers": len(digest.papers),
            "entities": len(digest.entities),
        }

    send_digest()


paperlake_digest()
