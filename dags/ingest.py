"""One ingest DAG per source, a run per date: fetch -> parse (and clean) -> validate -> tag (over chunks) -> commit."""

from __future__ import annotations

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from paperlake import pipeline
from paperlake.tagging.partition import TaggedChunk
from paperlake_airflow import (
    DAG_DEFAULTS,
    configured_sources,
    data_interval,
    entities_asset,
    fail_without_retry,
    fetch_pool,
    ingest_dag_id,
    partition_day,
    task_settings,
)

DOC = """
### Ingest `{source}`: one date per run

**Reads** the `{source}` source for the run's data interval (the logical date's UTC day), or with
`reparse` the committed raw pages. **Writes** a new run of `raw/`, `parsed/`, `clean/`,
`quarantine/`, `validation/` and `entities/` for `source={source}/date=<logical date>`, all made
current at once by the `commit` task (nothing is visible before it; a failed run changes nothing).
Tagging runs as one mapped `tag` task per chunk of `PAPERLAKE_TAG_CHUNK_ROWS` clean rows (default
5,000), so a large date spreads over the workers; `merge_tags` joins the chunks.

**Backfill** from the UI: *Backfill* on this DAG, a date range, "unpause" ticked, reprocess
behaviour as you need (`completed` re-runs dates that succeeded). The marts and digest DAGs follow
by themselves. A run that would shrink a committed date drastically fails in `commit` unless the
param `allow_shrink` is set; two runs of one date never mix (the later-started one fails
with a commit conflict). To rebuild dates from raw pages, use the `paperlake_reparse` DAG.
"""


def build_ingest_dag(source: str):
    @dag(
        dag_id=ingest_dag_id(source),
        description=f"Fetch, clean, validate and tag the {source} source into the lake, one date per run",
        doc_md=DOC.format(source=source),
        schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
        max_active_runs=4,
        **DAG_DEFAULTS,
        tags=["paperlake", "ingest", source],
        params={
            "reparse": Param(
                False, type="boolean", description="rebuild from the committed raw pages without fetching"
            ),
            "allow_shrink": Param(
                False, type="boolean", description="commit even if the date loses most of its committed rows"
            ),
        },
    )
    def ingest():
        @task(pool=fetch_pool(source))
        def fetch(params: dict, **context) -> dict:
            if params["reparse"]:
                return pipeline.reparse_stage(task_settings(), source, partition_day(context)).to_dict()
            return pipeline.fetch_stage(
                task_settings(), source, partition_day(context), data_interval(context)
            ).to_dict()

        @task
        def parse(run: dict, **context) -> dict:
            return pipeline.parse_stage(task_settings(), source, partition_day(context), run["run_id"]).to_dict()

        @task
        def validate(run: dict, **context) -> dict:
            with fail_without_retry():  # a retry would reject the same rows
                return pipeline.validate_stage(
                    task_settings(), source, partition_day(context), run["run_id"], context["run_id"]
                ).to_dict()

        @task
        def plan_tagging(run: dict, **context) -> list[dict]:
            indexes = pipeline.tag_chunks_stage(task_settings(), source, partition_day(context), run["run_id"])
            return [{"run_id": run["run_id"], "index": index} for index in indexes]

        @task
        def tag(chunk: dict, **context) -> dict:
            return pipeline.tag_chunk_stage(
                task_settings(), source, partition_day(context), chunk["run_id"], chunk["index"]
            ).to_dict()

        @task
        def merge_tags(run: dict, chunks: list[dict], **context) -> dict:
            tagged = [TaggedChunk(**chunk) for chunk in chunks]
            return pipeline.tag_merge_stage(
                task_settings(), source, partition_day(context), run["run_id"], tagged
            ).to_dict()

        @task(outlets=[entities_asset(source)])
        def commit(run: dict, params: dict, **context) -> dict:
            with fail_without_retry():  # a conflict or a refused shrink needs an operator, not a retry
                return pipeline.commit_stage(
                    task_settings(), source, partition_day(context), run["run_id"],
                    allow_shrink=params["allow_shrink"], airflow_run_id=context["run_id"],
                ).to_dict()

        validated = validate(parse(fetch()))
        commit(merge_tags(validated, tag.expand(chunk=plan_tagging(validated))))

    return ingest()


for _source in configured_sources():
    globals()[f"paperlake_ingest_{_source}"] = build_ingest_dag(_source)
