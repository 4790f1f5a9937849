"""The Great Expectations suite, the clean/quarantine split and the partition's validation report."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from paperlake.arxiv_ids import ARXIV_ID_PATTERN
from paperlake.clean import HTML_TAG_PATTERN, PAGE_HEADER_PATTERN
from paperlake.config import DEFAULT_BATCH_ROWS, Settings
from paperlake.errors import PaperlakeError
from paperlake.lake import VALIDATION_REPORT, VALIDATION_RESULT, Lake, PartitionSummary
from paperlake.text_residue import text_residue
from paperlake.validation_report import render_report

SUITE_NAME = "paperlake_clean_papers"
SUITE_VERSION = "5"
ROW_COLUMN = "_row"
IN_INTERVAL_COLUMN = "_listed_in_interval"
ENGLISH_COLUMN = "_looks_english"
# Per cleaned field: why it is not clean text (TeX math, a command, a ^{ or _{ group, words glued), or null.
TEX_RESIDUE_COLUMNS = {"title": "_title_tex_residue", "abstract": "_abstract_tex_residue"}
# Text no cleaned field may still contain: LaTeX commands, HTML tags, the saved page's header.
RESIDUE_PATTERN = rf"\\[A-Za-z]+|{HTML_TAG_PATTERN}|{PAGE_HEADER_PATTERN}"
ENGLISH_FUNCTION_WORDS = frozenset(
    "the of and to in a is that for we on with as by this are be from an our which it at these can or not".split()
)
# Well-formed `paper_id` per source: arXiv ids everywhere, or the title-derived id of a snapshot
# record not (yet) linked to an arXiv paper.
ID_PATTERNS = {"snapshot": rf"^(?:snapshot:[0-9a-f]{{16}}|{ARXIV_ID_PATTERN})$"}
DEFAULT_ID_PATTERN = rf"^{ARXIV_ID_PATTERN}$"
# Reasons that describe expected repetition, not bad data: they do not count toward the threshold.
BENIGN_REASONS = {"superseded"}
# The HTML report lists this many quarantined rows; the quarantine table holds them all.
REPORT_ROWS = 100


class QuarantineThresholdExceeded(PaperlakeError, RuntimeError):
    """Too large a share of a partition was quarantined; the quarantine is written all the same."""


@dataclass(frozen=True)
class ValidationRules:
    """Bounds the suite checks; from Settings in production, explicit in tests."""

    abstract_min_chars: int = 100
    abstract_max_chars: int = 10000
    max_quarantine_share: float = 0.05

    @classmethod
    def from_settings(cls, settings: Settings) -> ValidationRules:
        return cls(settings.abstract_min_chars, settings.abstract_max_chars, settings.max_quarantine_share)


def build_suite(rules: ValidationRules, source: str):
    """The versioned expectation suite; each expectation's meta carries the quarantine reason code."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name=SUITE_NAME, meta={"suite_version": SUITE_VERSION})
    for expectation in (
        gxe.ExpectColumnValuesToBeNull(
            column="parse_error",
            meta={
                "code": "malformed_item",
                "message": "the source's item could not be read as a paper (its parse_error says why)",
            },
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="paper_id", meta={"code": "missing_id", "message": "paper_id is missing"}
        ),
        gxe.ExpectColumnValuesToBeUnique(
            column="paper_id", meta={"code": "duplicate_id", "message": "paper_id is not unique in the partition"}
        ),
        gxe.ExpectColumnValuesToMatchRegex(
            column="paper_id",
            regex=ID_PATTERNS.get(source, DEFAULT_ID_PATTERN),
            meta={"code": "malformed_id", "message": f"paper_id is not a well-formed {source} id"},
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="title", meta={"code": "missing_title", "message": "title is missing"}
        ),
        gxe.ExpectColumnValueLengthsToBeBetween(
            column="title", min_value=1, meta={"code": "empty_title", "message": "title is empty"}
        ),
        gxe.ExpectColumnValuesToNotBeNull(
            column="abstract", meta={"code": "missing_abstract", "message": "abstract is missing"}
        ),
        gxe.ExpectColumnValueLengthsToBeBetween(
            column="abstract",
            min_value=rules.abstract_min_chars,
            max_value=rules.abstract_max_chars,
            meta={
                "code": "abstract_length",
                "message": (
                    f"abstract length outside [{rules.abstract_min_chars}, {rules.abstract_max_chars}] characters"
                ),
            },
        ),
        *(
            gxe.ExpectColumnValuesToNotMatchRegex(
                column=column,
                regex=RESIDUE_PATTERN,
                meta={"code": f"{column}_residue", "message": f"{column} still contains LaTeX, HTML or page residue"},
            )
            for column in ("title", "abstract")
        ),
        *(
            gxe.ExpectColumnValuesToBeNull(
                column=TEX_RESIDUE_COLUMNS[column],
                meta={
                    "code": f"{column}_tex_residue",
                    "message": f"{column} still holds TeX math, a command or a ^{{ or _{{ group, "
                    "or cleaning glued words of the raw text together",
                },
            )
            for column in ("title", "abstract")
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column=ENGLISH_COLUMN,
            value_set=[True],
            meta={"code": "not_english", "message": "abstract does not look like English"},
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column=IN_INTERVAL_COLUMN,
            value_set=[True],
            meta={"code": "outside_interval", "message": "listed by the source outside the run's data interval"},
        ),
    ):
        suite.add_expectation(expectation)
    return suite


def suite_runner(rules: ValidationRules, source: str):
    """A function running the suite on a pandas DataFrame (with a `_row` column); one GX context for all batches."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("paperlake")
        .add_dataframe_asset("partition")
        .add_batch_definition_whole_dataframe("whole")
    )
    suite = context.suites.add(build_suite(rules, source))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=SUITE_NAME, data=batch, suite=suite))
    return lambda frame: definition.run(
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_COLUMN]},
    )


def row_failures(result) -> dict[int, list[tuple[str, str]]]:
    """{row position: [(reason code, message), ...]} from a validation result."""
    failures: dict[int, list[tuple[str, str]]] = {}
    for outcome in result.results:
        if outcome.success:
            continue
        meta = outcome.expectation_config.meta or {}
        reason = (
            meta.get("code", outcome.expectation_config.type),
            meta.get("message", outcome.expectation_config.type),
        )
        for hit in outcome.result.get("unexpected_index_list") or []:
            failures.setdefault(int(hit[ROW_COLUMN]), []).append(reason)
    return failures


def validate_partition(
    lake: Lake,
    source: str,
    day: date,
    run_id: str,
    rules: ValidationRules,
    interval: tuple[datetime, datetime] | None = None,
    airflow_run_id: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> PartitionSummary:
    """Split a run's `parsed` into `clean` and `quarantine` (with reasons) and write the GX result.

    Works `batch_rows` rows at a time: superseded rows are found from the id and version columns
    alone, then the suite runs on each batch and its clean and quarantined rows are written as a
    row group each; the partition's result merges the batches' outcomes.
    `interval` is the fetched data interval; records the source listed outside it are quarantined.
    Raises QuarantineThresholdExceeded after writing the run's files when too many rows were
    rejected: the run is then never committed, and the committed partition stays as it was.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = lake.read_table("parsed", source, day, ["paper_id", "version"], run_id=run_id)
    superseded = find_superseded(ids.column("paper_id").to_pylist(), ids.column("version").to_pylist())
    del ids
    run_suite = suite_runner(rules, source)
    parsed, clean_rows, top_reasons, rejected, expectations, batch_results = 0, 0, Counter(), 0, [], []
    shown: list[dict] = []  # the quarantined rows the HTML report lists
    with (
        lake.table_writer("clean", source, day, run_id) as clean_writer,
        lake.table_writer("quarantine", source, day, run_id) as quarantine_writer,
    ):
        for batch in lake.table_batches("parsed", source, day, run_id=run_id, batch_rows=batch_rows):
            positions = range(parsed, parsed + batch.num_rows)
            reasons = {
                pos: [("superseded", f"a newer version of {superseded[pos]} is in the same partition")]
                for pos in positions if pos in superseded
            }
            result = run_suite(suite_frame(batch, positions, reasons, interval))
            for pos, failed in row_failures(result).items():
                reasons.setdefault(pos, []).extend(failed)
            keep = pa.array([pos not in reasons for pos in positions], pa.bool_())
            clean_writer.write(batch.filter(keep))
            rejected_reasons = [reasons[pos] for pos in positions if pos in reasons]
            quarantined = (
                batch.filter(pc.invert(keep))
                .append_column(
                    "reason_codes", pa.array([[code for code, _ in r] for r in rejected_reasons], pa.list_(pa.string()))
                )
                .append_column(
                    "reasons", pa.array([[msg for _, msg in r] for r in rejected_reasons], pa.list_(pa.string()))
                )
            )
            quarantine_writer.write(quarantined)
            shown += quarantined.select(["paper_id", "title", "reasons"]).slice(0, REPORT_ROWS - len(shown)).to_pylist()

            parsed += batch.num_rows
            clean_rows += batch.num_rows - quarantined.num_rows
            top_reasons.update(code for r in rejected_reasons for code, _ in r)
            rejected += sum(1 for r in rejected_reasons if any(code not in BENIGN_REASONS for code, _ in r))
            expectations = merge_outcomes(expectations, expectation_outcomes(result))
            batch_results.append(
                {"rows": batch.num_rows, "success": bool(result.success), "statistics": result.statistics}
            )
    quarantined_rows = quarantine_writer.rows
    if clean_writer.rows + quarantined_rows != parsed:
        raise AssertionError(
            f"{source} {day}: clean + quarantine != parsed ({clean_writer.rows} + {quarantined_rows} != {parsed})"
        )

    report = {
        "suite": SUITE_NAME, "suite_version": SUITE_VERSION, "source": source, "date": day.isoformat(),
        "run_id": run_id, "airflow_run_id": airflow_run_id,
        "parsed": parsed, "clean": clean_rows, "quarantined": quarantined_rows, "reasons": dict(top_reasons),
    }
    result_doc = report | {
        "gx_success": all(b["success"] for b in batch_results),
        "expectations": expectations,
        "gx_batches": batch_results,
    }
    lake.write_json("validation", source, day, VALIDATION_RESULT, result_doc, run_id)
    lake.write_document(
        "validation", source, day, VALIDATION_REPORT, render_report(report, expectations, shown).encode(), run_id
    )
    summary = PartitionSummary(
        layer="clean", source=source, date=day.isoformat(), rows=clean_rows, uri=clean_writer.uri, run_id=run_id,
        counts={"parsed": parsed, "clean": clean_rows, "quarantined": quarantined_rows},
    )
    share = rejected / parsed if parsed else 0.0
    if share > rules.max_quarantine_share:
        top = ", ".join(f"{code}: {n}" for code, n in top_reasons.most_common(5))
        raise QuarantineThresholdExceeded(
            f"{source} {day}: {rejected} of {parsed} records rejected ({share:.1%} > "
            f"{rules.max_quarantine_share:.0%}); top reasons: {top}. This run is not committed (the committed "
            f"partition is unchanged); its quarantine is at {quarantine_writer.uri}: inspect it, fix the source or "
            "raise "
            f"PAPERLAKE_MAX_QUARANTINE_SHARE."
        )
    return summary


def find_superseded(paper_ids: Sequence[str | None], versions: Sequence[int | None]) -> dict[int, str]:
    """Rows to set aside because another row has the same paper_id and a newer (or equal, later) version.

    Takes the partition's `paper_id` and `version` columns; returns {row position: paper_id of the
    kept row}. Same content under two ids is kept twice.
    """
    best: dict[str, int] = {}
    for pos, (pid, version) in enumerate(zip(paper_ids, versions)):
        if pid is None:
            continue
        if pid not in best or (version or 0) >= (versions[best[pid]] or 0):
            best[pid] = pos
    return {pos: pid for pos, pid in enumerate(paper_ids) if pid is not None and best[pid] != pos}


def suite_frame(batch, positions: range, superseded: dict[int, list], interval: tuple[datetime, datetime] | None):
    """The pandas frame the suite checks for a parsed batch: its rows not superseded, `_row` their partition positions.

    Superseded rows are left out, so every paper_id left is unique in the whole partition and the
    suite's uniqueness check on one batch is the partition's.
    """
    import pyarrow as pa

    candidates = batch.filter(pa.array([pos not in superseded for pos in positions], pa.bool_()))
    abstracts = candidates.column("abstract").to_pylist()
    return pa.table(
        {
            ROW_COLUMN: pa.array([pos for pos in positions if pos not in superseded], pa.int64()),
            **{
                col: candidates.column(col).cast(pa.string())
                for col in ("paper_id", "title", "abstract", "parse_error")
            },
            IN_INTERVAL_COLUMN: pa.array(
                [listed_in_interval(at, interval) for at in candidates.column("listed_at").to_pylist()], pa.bool_()
            ),
            ENGLISH_COLUMN: pa.array([looks_english(text) for text in abstracts], pa.bool_()),
            **{
                TEX_RESIDUE_COLUMNS[column]: pa.array(
                    [
                        text_residue(raw, cleaned)
                        for raw, cleaned in zip(
                            candidates.column(f"{column}_raw").to_pylist(), candidates.column(column).to_pylist()
                        )
                    ],
                    pa.string(),
                )
                for column in ("title", "abstract")
            },
        }
    ).to_pandas()


def merge_outcomes(merged: list[dict], outcomes: list[dict]) -> list[dict]:
    """Expectation outcomes of the batches so far and one more: success if all succeeded, unexpected counts summed."""
    if not merged:
        return outcomes
    return [
        m
        | {"success": m["success"] and o["success"], "unexpected_count": m["unexpected_count"] + o["unexpected_count"]}
        for m, o in zip(merged, outcomes, strict=True)
    ]


def expectation_outcomes(result) -> list[dict]:
    """One small dict per expectation: type, column, reason code, success, unexpected count."""
    return [
        {
            "type": outcome.expectation_config.type,
            "column": outcome.expectation_config.kwargs.get("column"),
            "code": (outcome.expectation_config.meta or {}).get("code"),
            "success": bool(outcome.success),
            "unexpected_count": int(outcome.result.get("unexpected_count") or 0),
        }
        for outcome in result.results
    ]


def looks_english(text: str | None) -> bool | None:
    """A cheap plausibility check: common English function words make up a fair share of the words."""
    words = re.findall(r"[a-z]+", (text or "").lower())
    if len(words) < 12:
        return None  # too short to judge; the length expectation speaks for it
    return sum(word in ENGLISH_FUNCTION_WORDS for word in words) / len(words) >= 0.08


def listed_in_interval(listed_at: datetime | None, interval: tuple[datetime, datetime] | None) -> bool | None:
    """None when there is nothing to check (no listing date or no interval)."""
    if listed_at is None or interval is None:
        return None
    return interval[0] <= listed_at < interval[1]
