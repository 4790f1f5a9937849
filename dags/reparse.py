"""Rebuild committed partitions of one source from their raw pages, one mapped task per date (no network)."""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from paperlake import pipeline
from paperlake_airflow import DAG_DEFAULTS, REPARSED_ASSET, configured_sources, fail_without_retry, task_settings

DOC = """
### Reparse: rebuild dates from their committed raw pages

**Reads** the committed `raw/` pages of `source` for every date in `from_date`…`to_date` that has a
committed run. **Writes** a new run of each such date (parsed, clean, quarantine, validation,
entities) and commits it, exactly as an ingest run would, without any request to the source.
Use it after changing cleaning, validation or tagging rules.

**Trigger** it from the UI (*Trigger DAG* → fill the form) as often as you like: runs have no
logical date, so repeated reparses of the same dates never collide. Dates without a committed run
are listed in the `committed_dates` task log and skipped. One mapped `reparse_date` task runs per date
(two at a time). A run that would shrink a date is refused unless `allow_shrink` is ticked. The
marts DAG follows by itself (asset `paperlake_reparsed`).
"""


@dag(
    dag_id="paperlake_reparse",
    description="Rebuild committed partitions from raw/ (no network), one mapped task per date",
    doc_md=DOC,
    schedule=None,
    max_active_runs=1,
    is_paused_upon_creation=False,
    **DAG_DEFAULTS,
    tags=["paperlake", "reparse"],
    params={
        "source": Param(configured_sources()[0], enum=list(configured_sources()), description="the source to reparse"),
        "from_date": Param(type="string", format="date", description="first date (inclusive)"),
        "to_date": Param(type="string", format="date", description="last date (inclusive)"),
        "allow_shrink": Param(
            False, type="boolean", description="commit even if a date loses most of its committed rows"
        ),
    },
)
def paperlake_reparse():
    @task
    def committed_dates(params: dict) -> list[str]:
        return [
            day.isoformat()
            for day in pipeline.committed_dates_stage(
                task_settings(), params["source"], params["from_date"], params["to_date"]
            )
        ]

    @task(max_active_tis_per_dagrun=2)
    def reparse_date(day: str, params: dict) -> dict:
        from datetime import date

        with fail_without_retry():
            *_, commit = pipeline.ingest(
                task_settings(),
                params["source"],
                date.fromisoformat(day),
                reparse=True,
                allow_shrink=params["allow_shrink"],
            )
        return commit.to_dict()

    @task(outlets=[REPARSED_ASSET])
    def reparsed(commits: list[dict]) -> dict:
        return {"dates": sorted(commit["date"] for commit in commits)}

    reparsed(reparse_date.expand(day=committed_dates()))


paperlake_reparse()
