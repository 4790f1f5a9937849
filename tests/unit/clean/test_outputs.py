"""clean_text gives exactly the outputs frozen in tests/fixtures/clean/expected.jsonl (see its README)."""

import json
from pathlib import Path

from paperlake.clean import clean_text

FROZEN = Path(__file__).parents[2] / "fixtures" / "clean" / "expected.jsonl"


def frozen_rows() -> list[dict]:
    """Every row of the fixture, with `cleaned` filled in where the input was already clean."""
    rows = [json.loads(line) for line in FROZEN.read_text().splitlines()]
    return [{"cleaned": row["text"], **row} for row in rows]


def test_every_frozen_output_is_unchanged():
    rows = frozen_rows()
    changed = [(row["origin"], row["text"], row["cleaned"], clean_text(row["text"])) for row in rows]
    changed = [case for case in changed if case[2] != case[3]]
    assert not changed, f"{len(changed)} of {len(rows)} outputs changed; the first: " + "\n".join(
        f"{origin}: {text!r}\n  expected {expected!r}\n  got      {got!r}"
        for origin, text, expected, got in changed[:5]
    )


def test_every_frozen_output_is_already_clean():
    assert [row["cleaned"] for row in frozen_rows() if clean_text(row["cleaned"]) != row["cleaned"]] == []
