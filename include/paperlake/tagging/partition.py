"""Tag a clean partition and write its `entities` partition, chunk by chunk (a chunk: a tag task's share of the clean
rows), reusing what an identical earlier run tagged (`cache`), then merge the chunks into the run's table."""

from __future__ import annotations

import functools
import logging
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from paperlake import schemas
from paperlake.config import GAZETTEER_PATHS
from paperlake.lake import TAGGED_MANIFEST, Lake, PartitionSummary
from paperlake.tagging.cache import cached_spans, tag_key
from paperlake.tagging.domain import gate_papers
from paperlake.tagging.gazetteer import alias_index, load_gazetteers
from paperlake.tagging.tagger import build_tagger, tagger_version
from paperlake.tagging.workers import tag_texts

log = logging.getLogger("paperlake")


@dataclass(frozen=True)
class TaggedChunk:
    """What one tagging chunk wrote: its counts and the tagger version (the merge refuses mixed versions)."""

    index: int
    rows: int
    papers: int
    texts_tagged: int
    texts_from_cache: int
    tagger_version: str

    def to_dict(self) -> dict:
        return asdict(self)


def chunk_file(index: int) -> str:
    """The document one tagging chunk of a run writes (merged into the run's entities table)."""
    return f"chunk{index:05d}.parquet"


def chunk_verdicts_file(index: int) -> str:
    """The gate's verdicts on one tagging chunk's papers (merged into the run's tagged manifest)."""
    return f"verdicts{index:05d}.json"


def tag_chunk_count(lake: Lake, source: str, day: date, run_id: str, chunk_rows: int) -> int:
    """How many chunks of `chunk_rows` clean rows the run's partition is tagged in (at least one)."""
    return max(1, -(-lake.table_rows("clean", source, day, run_id) // chunk_rows))


@functools.lru_cache(maxsize=2)
def loaded_tagger(gazetteer_paths: tuple[Path, ...], model_dir: Path | None):
    """(pipeline, alias index), built once per process."""
    return build_tagger(gazetteer_paths, model_dir), alias_index(load_gazetteers(gazetteer_paths))


def tag_chunk(
    lake: Lake, source: str, day: date, run_id: str, index: int, chunk_rows: int,
    gazetteer_paths: tuple[Path, ...] = GAZETTEER_PATHS, model_dir: Path | None = None,
) -> TaggedChunk:
    """Tag clean rows [index * chunk_rows, +chunk_rows) of a run into its chunk file; offsets index the cleaned
    abstract.

    Texts whose content_hash the same tagger version already tagged in the committed run are not tagged again.
    """
    import pyarrow as pa

    columns = ["paper_id", "content_hash", "title", "abstract", "categories", "primary_category"]
    clean = lake.read_rows("clean", source, day, index * chunk_rows, chunk_rows, columns, run_id=run_id).to_pylist()
    version = tagger_version(tuple(gazetteer_paths), model_dir)
    keys = [tag_key(row) for row in clean]
    cache = cached_spans(lake, source, day, version, set(keys))
    todo = {key: row for key, row in zip(keys, clean) if key not in cache}
    if todo:  # the pipeline is built (seconds) only when some text is not in the cache
        nlp, alias = loaded_tagger(tuple(gazetteer_paths), model_dir)
        rows = list(todo.values())
        titles, abstracts = [r["title"] for r in rows], [r["abstract"] for r in rows]
        tagged = tag_texts(nlp, abstracts, alias, titles)
        verdicts = gate_papers(tagged, [list(categories) for _, categories in todo], titles, abstracts, alias)
        for key, (ml_score, is_ml, kept) in zip(todo, verdicts):
            cache[key] = {
                "ml_score": ml_score,
                "is_ml": is_ml,
                "spans": [
                    {
                        "entity_id": e,
                        "label": label,
                        "text": text,
                        "start_char": start,
                        "end_char": end,
                        "ml_score": ml_score,
                        "is_ml": is_ml,
                    }
                    for e, label, text, start, end in kept
                ],
            }
    rows = [
        {**span, "paper_id": row["paper_id"], "content_hash": row["content_hash"], "tagger_version": version}
        for key, row in zip(keys, clean)
        for span in cache[key]["spans"]
    ]
    entities = pa.Table.from_pylist(rows, schema=schemas.ENTITIES)
    lake.write_table("entities", source, day, entities, run_id, chunk_file(index))
    papers = [
        {"paper_id": row["paper_id"], "content_hash": content_hash, "categories": list(categories),
         "ml_score": cache[(content_hash, categories)]["ml_score"], "is_ml": cache[(content_hash, categories)]["is_ml"]}
        for row, (content_hash, categories) in zip(clean, keys)
    ]
    lake.write_json("entities", source, day, chunk_verdicts_file(index), papers, run_id)
    log.info(
        "tag %s %s: chunk %d (%d papers): %d entities, %d texts tagged",
        source,
        day,
        index,
        len(clean),
        len(rows),
        len(todo),
    )
    return TaggedChunk(
        index=index, rows=len(rows), papers=len(clean), texts_tagged=len(todo),
        texts_from_cache=len(set(keys)) - len(todo), tagger_version=version,
    )


def merge_tag_chunks(lake: Lake, source: str, day: date, run_id: str, chunks: list[TaggedChunk]) -> PartitionSummary:
    """Stream a run's chunk files, batch by batch, into its entities table and write its tagged manifest: the tagger
    version and the domain gate's verdict on every paper (also those left with no entity)."""
    chunks = sorted(chunks, key=lambda chunk: chunk.index)
    names = [chunk_file(chunk.index) for chunk in chunks]
    with lake.table_writer("entities", source, day, run_id) as writer:
        for name in names:
            for batch in lake.table_batches("entities", source, day, run_id=run_id, name=name):
                writer.write(batch)
    versions = {chunk.tagger_version for chunk in chunks}
    if len(versions) != 1:
        raise RuntimeError(
            f"tag {source} {day}: run {run_id} was tagged by several tagger versions {sorted(versions)}; rerun the tag "
            "tasks"
        )
    verdict_files = [chunk_verdicts_file(chunk.index) for chunk in chunks]
    verdicts = [paper for name in verdict_files for paper in lake.read_json("entities", source, day, name, run_id)]
    lake.write_json(
        "entities", source, day, TAGGED_MANIFEST, {"tagger_version": versions.pop(), "verdicts": verdicts}, run_id
    )
    lake.store.delete([lake.run_key("entities", source, day, run_id, name) for name in names + verdict_files])
    total = {
        field: sum(getattr(chunk, field) for chunk in chunks)
        for field in ("rows", "papers", "texts_tagged", "texts_from_cache")
    }
    return PartitionSummary(
        layer="entities", source=source, date=day.isoformat(), rows=total.pop("rows"), uri=writer.uri, run_id=run_id,
        counts=total | {"chunks": len(chunks)},
    )


def tag_partition(
    lake: Lake, source: str, day: date, run_id: str, gazetteer_paths: tuple[Path, ...] = GAZETTEER_PATHS,
    model_dir: Path | None = None, chunk_rows: int = 5000,
) -> PartitionSummary:
    """Tag every clean abstract of a run in this process, chunk by chunk, into its entities table."""
    chunks = [
        tag_chunk(lake, source, day, run_id, index, chunk_rows, gazetteer_paths, model_dir)
        for index in range(tag_chunk_count(lake, source, day, run_id, chunk_rows))
    ]
    return merge_tag_chunks(lake, source, day, run_id, chunks)
