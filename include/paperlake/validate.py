"""The Great Expectations suite, the clean/quarantine split and the partition's validation report."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from paperlake.clean import HTML_TAG_PATTERN, PAGE_HEADER_PATTERN, find_superseded
from paperlake.config import Settings
from paperlake.errors import PaperlakeError
from paperlake.lake import VALIDATION_REPORT, VALIDATION_RESULT, Lake, PartitionSummary
from paperlake.sources.arxiv_ids import ARXIV_ID_PATTERN
from paperlake.validation_report import render_report

SUITE_NAME = "paperlake_clean_papers"
SUITE_VERSION = "4"
ROW_COLUMN = "_row"
IN_INTERVAL_COLUMN = "_listed_in_interval"
ENGLISH_COLUMN = "_looks_english"
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
            meta={"code": "malformed_item", "message": "the source's item could not be read as a paper (its parse_error says why)"},
        ),
        gxe.ExpectColumnValuesToNotBeNull(column="paper_id", meta={"code": "missing_id", "message": "paper_id is missing"}),
        gxe.ExpectColumnValuesToBeUnique(column="paper_id", meta={"code": "duplicate_id", "message": "paper_id is not unique in the partition"}),
        gxe.ExpectColumnValuesToMatchRegex(
            column="paper_id", regex=ID_PATTERNS.get(source, DEFAULT_ID_PATTERN),
            meta={"code": "malformed_id", "message": f"paper_id is not a well-formed {source} id"},
        ),
        gxe.ExpectColumnValuesToNotBeNull(column="title", meta={"code": "missing_title", "message": "title is missing"}),
        gxe.ExpectColumnValueLengthsToBeBetween(column="title", min_value=1, meta={"code": "empty_title", "message": "title is empty"}),
        gxe.ExpectColumnValuesToNotBeNull(column="abstract", meta={"code": "missing_abstract", "message": "abstract is missing"}),
        gxe.ExpectColumnValueLengthsToBeBetween(
            column="abstract", min_value=rules.abstract_min_chars, max_value=rules.abstract_max_chars,
            meta={"code": "abstract_length", "message": f"abstract length outside [{rules.abstract_min_chars}, {rules.abstract_max_chars}] characters"},
        ),
        *(
            gxe.ExpectColumnValuesToNotMatchRegex(
                column=column, regex=RESIDUE_PATTERN,
                meta={"code": f"{column}_residue", "message": f"{column} still contains LaTeX, HTML or page residue"},
            )
            for column in ("title", "abstract")
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column=ENGLISH_COLUMN, value_set=[True],
            meta={"code": "not_english", "message": "abstract does not look like English"},
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column=IN_INTERVAL_COLUMN, value_set=[True],
            meta={"code": "outside_interval", "message": "listed by the source outside the run's data interval"},
        ),
    ):
        suite.add_expectation(expectation)
    return suite


def run_suite(frame, rules: ValidationRules, source: str):
    """Run the suite on a pandas DataFrame (with a `_row` column) in an ephemeral GX context."""
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
    return definition.run(
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
        reason = (meta.get("code", outcome.expectation_config.type), meta.get("message", outcome.expectation_config.type))
        for hit in outcome.result.get("unexpected_index_list") or []:
            failures.setdefault(int(hit[ROW_COLUMN]), []).append(reason)
    return failures


def validate_partition(
    lake: Lake, source: str, day: date, run_id: str, rules: ValidationRules,
    interval: tuple[datetime, datetime] | None = None, airflow_run_id: str | None = None,
) -> PartitionSummary:
    """Split a run's `staged` into `clean` and `quarantine` (with reasons) and write the GX result.

    `interval` is the fetched data interval; records the source listed outside it are quarantined.
    Raises QuarantineThresholdExceeded after writing the run's files when too many rows were
    rejected: the run is then never committed, and the committed partition stays as it was.
    """
    import pyarrow as pa

    from paperlake.schemas import CLEAN, QUARANTINE

    rows = lake.read_table("staged", source, day, run_id=run_id).to_pylist()
    reasons: dict[int, list[tuple[str, str]]] = {
        pos: [("superseded", f"a newer version of {pid} is in the same partition")]
        for pos, pid in find_superseded(rows).items()
    }
    candidates = [pos for pos in range(len(rows)) if pos not in reasons]
    frame = pa.table(
        {
            ROW_COLUMN: pa.array(candidates, pa.int64()),
            **{col: pa.array([rows[p][col] for p in candidates], pa.string()) for col in ("paper_id", "title", "abstract", "parse_error")},
            IN_INTERVAL_COLUMN: pa.array([listed_in_interval(rows[p]["listed_at"], interval) for p in candidates], pa.bool_()),
            ENGLISH_COLUMN: pa.array([looks_english(rows[p]["abstract"]) for p in candidates], pa.bool_()),
        }
    ).to_pandas()
    result = run_suite(frame, rules, source)
    for pos, failed in row_failures(result).items():
        reasons.setdefault(pos, []).extend(failed)

    clean_rows = [row for pos, row in enumerate(rows) if pos not in reasons]
    quarantine_rows = [
        {**row, "reason_codes": [code for code, _ in reasons[pos]], "reasons": [msg for _, msg in reasons[pos]]}
        for pos, row in enumerate(rows)
        if pos in reasons
    ]
    if len(clean_rows) + len(quarantine_rows) != len(rows):
        raise AssertionError(f"{source} {day}: clean + quarantine != parsed ({len(clean_rows)} + {len(quarantine_rows)} != {len(rows)})")

    top_reasons = Counter(code for codes in reasons.values() for code, _ in codes)
    quarantine_uri = lake.write_table("quarantine", source, day, pa.Table.from_pylist(quarantine_rows, schema=QUARANTINE), run_id)
    report = {
        "suite": SUITE_NAME, "suite_version": SUITE_VERSION, "source": source, "date": day.isoformat(),
        "run_id": airflow_run_id, "lake_run_id": run_id,
        "parsed": len(rows), "clean": len(clean_rows), "quarantined": len(quarantine_rows), "reasons": dict(top_reasons),
    }
    expectations = expectation_outcomes(result)
    result_doc = report | {"gx_success": bool(result.success), "expectations": expectations, "gx_result": result.to_json_dict()}
    lake.write_json("validation", source, day, VALIDATION_RESULT, result_doc, run_id)
    lake.write_document("validation", source, day, VALIDATION_REPORT, render_report(report, expectations, quarantine_rows).encode(), run_id)
    uri = lake.write_table("clean", source, day, pa.Table.from_pylist(clean_rows, schema=CLEAN), run_id)
    summary = PartitionSummary(
        layer="clean", source=source, date=day.isoformat(), rows=len(clean_rows), uri=uri, run_id=run_id,
        counts={"parsed": len(rows), "clean": len(clean_rows), "quarantined": len(quarantine_rows)},
    )
    rejected = sum(1 for codes in reasons.values() if any(code not in BENIGN_REASONS for code, _ in codes))
    share = rejected / len(rows) if rows else 0.0
    if share > rules.max_quarantine_share:
        top = ", ".join(f"{code}: {n}" for code, n in top_reasons.most_common(5))
        raise QuarantineThresholdExceeded(
            f"{source} {day}: {rejected} of {len(rows)} records rejected ({share:.1%} > "
            f"{rules.max_quarantine_share:.0%}); top reasons: {top}. This run is not committed (the committed "
            f"partition is unchanged); its quarantine is at {quarantine_uri}: inspect it, fix the source or raise "
            f"PAPERLAKE_MAX_QUARANTINE_SHARE."
        )
    return summary


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
