"""300 real arXiv abstracts (250 with TeX) clean to their recorded output: a regression fixture from the real corpus.

The outputs were read and checked when the fixture was made (`tests/fixtures/clean/README.md`); a change here is a
deliberate change of a cleaning rule, re-recorded in the same commit.
"""

import gzip
import json
from pathlib import Path

import pytest

from paperlake.clean import clean_text
from paperlake.text_residue import text_residue

FIXTURE = Path(__file__).parents[2] / "fixtures" / "clean" / "real_expected.jsonl.gz"
ROWS = [json.loads(line) for line in gzip.open(FIXTURE, "rt", encoding="utf-8")]


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_real_abstract_cleans_to_its_recorded_text_and_passes_validation(row):
    for field in ("title", "abstract"):
        cleaned = clean_text(row[field])
        assert cleaned == row[f"{field}_cleaned"]
        assert clean_text(cleaned) == cleaned
        assert text_residue(row[field], cleaned) is None
