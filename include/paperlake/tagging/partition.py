"""Tag a clean partition and write its `entities` partition."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from paperlake.config import PATTERNS_PATH
from paperlake.lake import Lake, PartitionSummary


def tag_texts(nlp, texts: list[str], batch_size: int = 64) -> list[list[tuple[str, str, str, int, int]]]:
    """For each text: (entity_id, label, span text, start_char, end_char) per entity, in order."""
    return [
        [(ent.ent_id_ or ent.text, ent.label_, ent.text, ent.start_char, ent.end_char) for ent in doc.ents]
        for doc in nlp.pipe(texts, batch_size=batch_size)
    ]


def tag_partition(lake: Lake, source: str, day: date, patterns_path: Path = PATTERNS_PATH) -> PartitionSummary:
    """Tag every clean abstract of the partition; offsets index the cleaned abstract."""
    import pyarrow as pa

    from paperlake.schemas import ENTITIES
    from paperlake.tagging.pipeline import build_tagger, tagger_version

    clean = lake.read_table("clean", source, day).select(["paper_id", "content_hash", "abstract"]).to_pylist()
    version = tagger_version(patterns_path)
    spans = tag_texts(build_tagger(patterns_path), [row["abstract"] for row in clean])
    rows = [
        {
            "paper_id": row["paper_id"], "content_hash": row["content_hash"], "entity_id": entity_id,
            "label": label, "text": text, "start_char": start, "end_char": end, "tagger_version": version,
        }
        for row, found in zip(clean, spans)
        for entity_id, label, text, start, end in found
    ]
    uri = lake.write_table("entities", source, day, pa.Table.from_pylist(rows, schema=ENTITIES))
    return PartitionSummary(
        layer="entities", source=source, date=day.isoformat(), rows=len(rows), uri=uri,
        counts={"papers_tagged": len(clean), "papers_with_entities": sum(1 for s in spans if s)},
    )
