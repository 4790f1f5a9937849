"""Stages stream in batches: any batch size gives the same tables and validation, written as several row groups."""

from __future__ import annotations

from datetime import date

import pytest

from paperlake.commit import committed_run
from paperlake.config import BUNDLED_SNAPSHOT, Settings
from paperlake.lake import VALIDATION_RESULT, Lake
from paperlake.pipeline import ingest

DAY = date(2026, 11, 26)
LAYERS = ("parsed", "clean", "quarantine", "entities")
# Validation facts that must not depend on how the partition was batched.
RESULT_FIELDS = ("parsed", "clean", "quarantined", "reasons", "gx_success", "expectations")


@pytest.fixture(scope="module")
def sample_with_repeats(tmp_path_factory):
    """The bundled sample, then a revised copy of 20 of its papers: their first versions superseded across batches."""
    text = BUNDLED_SNAPSHOT.read_text(encoding="utf-8").rstrip("\n")
    body = text.split("\n")[2:]
    repeats = [line for i in range(2, 42, 2) for line in (body[i], body[i + 1] + " Revised.")]
    path = tmp_path_factory.mktemp("page") / "page.txt"
    path.write_text(text + "\n" + "\n".join(repeats) + "\n", encoding="utf-8")
    return path


def ingest_in_batches(tmp_path, page, batch_rows: int, tag_chunk_rows: int):
    """Ingest the page into a fresh lake; (lake, committed run id, tables per layer, validation result)."""
    settings = Settings.from_env({"PAPERLAKE_HOME": str(tmp_path / f"home-{batch_rows}")})
    settings = settings._replace(
        snapshot_path=page, batch_rows=batch_rows, tag_chunk_rows=tag_chunk_rows, max_quarantine_share=1.0
    )
    run_id = ingest(settings, "snapshot", DAY)[-1].run_id
    lake = Lake.from_settings(settings)
    tables = {
        layer: lake.read_table(layer, "snapshot", DAY, run_id=committed_run(lake, "snapshot", DAY)) for layer in LAYERS
    }
    return (
        lake,
        run_id,
        tables,
        lake.read_json("validation", "snapshot", DAY, VALIDATION_RESULT, committed_run(lake, "snapshot", DAY)),
    )


def test_batches_of_seven_rows_give_the_tables_and_reasons_of_one_batch(tmp_path, sample_with_repeats):
    _, _, whole, whole_result = ingest_in_batches(
        tmp_path, sample_with_repeats, batch_rows=100_000, tag_chunk_rows=100_000
    )
    lake, run_id, batched, batched_result = ingest_in_batches(
        tmp_path, sample_with_repeats, batch_rows=7, tag_chunk_rows=50
    )

    assert whole["parsed"].num_rows == 316 + 20
    assert whole["quarantine"].column("reason_codes").to_pylist().count(["superseded"]) == 20
    for layer in LAYERS:
        assert batched[layer].equals(whole[layer]), layer
    assert {f: batched_result[f] for f in RESULT_FIELDS} == {f: whole_result[f] for f in RESULT_FIELDS}
    for layer in ("parsed", "clean", "quarantine"):
        with lake.open_table(layer, "snapshot", DAY, run_id=run_id) as parquet:
            assert parquet.metadata.num_row_groups >= batched[layer].num_rows // 7, layer
    with lake.open_table("entities", "snapshot", DAY, run_id=run_id) as parquet:
        assert parquet.metadata.num_row_groups >= batched["clean"].num_rows // 50  # one per tagging chunk at least
