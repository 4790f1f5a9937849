"""Commit hand-made tables as one complete run of a partition, as the pipeline would."""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from paperlake.commit import Commit, base_generation, commit_run, new_run_id
from paperlake.lake import TABLE_FILE, TAGGED_MANIFEST, VALIDATION_REPORT, VALIDATION_RESULT, Lake, RawPage
from paperlake.schemas import CLEAN, ENTITIES, PARSED, QUARANTINE


def paper(pid, version, title, chash, upvotes=None) -> dict:
    """A clean row of paper `pid` (the columns the marts read)."""
    return {
        "paper_id": pid,
        "version": version,
        "title": title,
        "abstract": f"abstract of {title}",
        "content_hash": chash,
        "upvotes": upvotes,
        "authors": [],
        "categories": [],
        "keywords": [],
    }


def spans(pid, chash, *found) -> list[dict]:
    """Entity rows of one paper text: `found` as (entity_id, label, start offset); the span text is the entity id."""
    return [{"paper_id": pid, "content_hash": chash, "entity_id": eid, "label": label, "text": eid,
             "start_char": start, "end_char": start + len(eid), "tagger_version": "v1"} for eid, label, start in found]


def table(rows, schema) -> pa.Table:
    """`rows` as a table of `schema` (missing columns null)."""
    full = [{name: row.get(name) for name in schema.names} for row in rows]
    return pa.Table.from_pylist(full, schema=schema)


def commit_tables(
    lake: Lake,
    source: str,
    day: date,
    *,
    clean: pa.Table | None = None,
    quarantine: pa.Table | None = None,
    entities: pa.Table | None = None,
    parsed: pa.Table | None = None,
    pages: list[RawPage] = (),
    validation: dict | None = None,
    run_id: str | None = None,
) -> Commit:
    """Write every document the run lacks (tables empty; parsed = clean + quarantine) and commit it."""
    run_id = run_id or new_run_id()
    clean = CLEAN.empty_table() if clean is None else clean
    quarantine = QUARANTINE.empty_table() if quarantine is None else quarantine
    if parsed is None:
        parsed = pa.concat_tables(
            [clean.select(PARSED.names).cast(PARSED), quarantine.select(PARSED.names).cast(PARSED)]
        )
    lake.write_raw(source, day, list(pages), {"base_generation": base_generation(lake.store, source, day)}, run_id)

    def lacks(layer: str, name: str = TABLE_FILE) -> bool:
        return not lake.store.exists(lake.run_key(layer, source, day, run_id, name))

    tables = {
        "parsed": parsed,
        "clean": clean,
        "quarantine": quarantine,
        "entities": ENTITIES.empty_table() if entities is None else entities,
    }
    for layer, table in tables.items():
        if lacks(layer):
            lake.write_table(layer, source, day, table, run_id)
    if lacks("validation", VALIDATION_RESULT):
        lake.write_json(
            "validation",
            source,
            day,
            VALIDATION_RESULT,
            validation or {"source": source, "date": day.isoformat(), "gx_success": True},
            run_id,
        )
        lake.write_document("validation", source, day, VALIDATION_REPORT, b"<html></html>", run_id)
    if lacks("entities", TAGGED_MANIFEST):
        lake.write_json("entities", source, day, TAGGED_MANIFEST, {"tagger_version": "test", "verdicts": []}, run_id)
    return commit_run(lake, source, day, run_id, min_keep_share=0.0, allow_shrink=True)
