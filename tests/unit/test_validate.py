from datetime import date

import pyarrow as pa
import pytest

from paperlake.clean import clean_records
from paperlake.records import PaperRecord
from paperlake.schemas import STAGED
from paperlake.validate import QuarantineThresholdExceeded, ValidationRules, validate_partition

DAY = date(2026, 11, 26)
GOOD = "A perfectly ordinary abstract about language models. " * 3


def stage(lake, records):
    lake.write_table("staged", "arxiv", DAY, pa.Table.from_pylist(clean_records(records), schema=STAGED))


def test_bad_rows_go_to_quarantine_with_every_reason_and_nothing_is_lost(lake):
    records = [PaperRecord(paper_id=f"2401.{i:05d}", version=1, title=f"Paper {i}", abstract=GOOD) for i in range(6)]
    records += [
        PaperRecord(paper_id=None, title="No id", abstract=GOOD),
        PaperRecord(paper_id="2401.90000", version=1, title="", abstract="short"),
        PaperRecord(paper_id="2401.00001", version=2, title="Paper 1 v2", abstract=GOOD),
    ]
    stage(lake, records)
    summary = validate_partition(lake, "arxiv", DAY, ValidationRules(max_quarantine_share=1.0))
    clean = lake.read_table("clean", "arxiv", DAY).to_pylist()
    quarantine = lake.read_table("quarantine", "arxiv", DAY).to_pylist()
    assert len(clean) + len(quarantine) == len(records) == summary.counts["parsed"]
    reasons = {(q["paper_id"], q["title"]): q["reason_codes"] for q in quarantine}
    assert reasons == {
        (None, "No id"): ["missing_id"],
        ("2401.90000", ""): ["empty_title", "abstract_length"],
        ("2401.00001", "Paper 1"): ["superseded"],
    }
    assert {r["title"] for r in clean} >= {"Paper 1 v2", "Paper 0"}
    assert all(q["reasons"] and len(q["reasons"]) == len(q["reason_codes"]) for q in quarantine)
    result = lake.read_json("validation", "arxiv", DAY, "result.json")
    assert (result["parsed"], result["clean"], result["quarantined"]) == (9, 6, 3)
    assert result["gx_success"] is False and result["suite_version"]


def test_over_the_threshold_the_task_fails_after_writing_the_quarantine(lake):
    records = [PaperRecord(paper_id=f"2401.{i:05d}", title=f"T{i}", abstract=GOOD if i < 8 else "tiny") for i in range(10)]
    stage(lake, records)
    with pytest.raises(QuarantineThresholdExceeded, match=r"2 of 10 records rejected \(20.0% > 5%\).*abstract_length: 2"):
        validate_partition(lake, "arxiv", DAY, ValidationRules())
    assert lake.read_table("quarantine", "arxiv", DAY).num_rows == 2
    assert lake.read_table("clean", "arxiv", DAY).num_rows == 8


def test_an_empty_partition_validates_to_empty_clean_and_quarantine(lake):
    stage(lake, [])
    summary = validate_partition(lake, "arxiv", DAY, ValidationRules())
    assert summary.rows == 0
    assert lake.read_table("quarantine", "arxiv", DAY).num_rows == 0
