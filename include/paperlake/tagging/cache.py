"""The tag cache: what a paper's tags depend on besides the tagger, and the committed run's spans for papers whose key
and tagger are unchanged."""

from __future__ import annotations

from datetime import date

from paperlake.commit import committed_run
from paperlake.lake import TAGGED_MANIFEST, Lake
from paperlake.tagging.domain import primary_first


def tag_key(row: dict) -> tuple[str, tuple[str, ...]]:
    """What a paper's tags depend on besides the tagger: its text (content_hash) and the categories the domain gate
    reads."""
    return row["content_hash"], tuple(primary_first(row["categories"], row["primary_category"]))


def cached_spans(lake: Lake, source: str, day: date, version: str, keys: set[tuple]) -> dict[tuple, dict]:
    """tag key -> {"ml_score", "is_ml", "spans": entity rows}, for those of `keys` (see `tag_key`) the committed run of
    this partition tagged with the same tagger.

    The committed entities table is read batch by batch, keeping only the rows of one paper per key.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        run_id = committed_run(lake, source, day)
        manifest = lake.read_json("entities", source, day, TAGGED_MANIFEST, run_id)
    except FileNotFoundError:
        return {}
    if manifest.get("tagger_version") != version:
        return {}
    donors: dict[tuple, dict] = {}  # one tagged paper's verdict and spans stand for every paper with the same key
    for verdict in manifest.get("verdicts", ()):  # none in a run tagged before verdicts were kept: tagged again
        if (key := (verdict["content_hash"], tuple(verdict["categories"]))) in keys:
            donors.setdefault(key, verdict)
    cached = {key: {"ml_score": v["ml_score"], "is_ml": v["is_ml"], "spans": []} for key, v in donors.items()}
    if not cached:
        return cached
    by_paper = {(v["paper_id"], v["content_hash"]): key for key, v in donors.items()}
    wanted = pa.array(sorted({content_hash for content_hash, _ in donors}), pa.string())
    for batch in lake.table_batches("entities", source, day, run_id=run_id):
        for row in batch.filter(pc.is_in(batch.column("content_hash"), value_set=wanted)).to_pylist():
            if (key := by_paper.get((row["paper_id"], row["content_hash"]))) is not None:
                cached[key]["spans"].append(row)
    return cached
