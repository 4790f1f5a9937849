"""Tag a clean partition and write its `entities` partition, reusing what an identical earlier run tagged."""

from __future__ import annotations

import functools
import logging
from datetime import date
from pathlib import Path

from paperlake.config import GAZETTEER_PATHS
from paperlake.lake import TAGGED_MANIFEST, Lake, PartitionSummary
from paperlake.tagging.gazetteer import alias_index, canonical_id, load_gazetteers

# `make bench` on 2 cores: with phrase-matcher rules (80-95k words/s in one process) a second process
# gives 1.15-1.25x from ~1,300 abstracts on, which still pays; small partitions (the sample, tests)
# stay in one process, which also keeps forking out of test runs.
MULTIPROCESS_MIN_TEXTS = 1000
log = logging.getLogger("paperlake")


def tag_texts(
    nlp, texts: list[str], index: dict | None = None, titles: list[str] | None = None, batch_size: int = 64, processes: int | None = None,
) -> list[list[tuple[str, str, str, int, int]]]:
    """For each abstract (with its paper's title as context): (entity_id, label, span text, start_char, end_char) per entity.

    From MULTIPROCESS_MIN_TEXTS texts on, two forked workers share the work: they inherit the built
    pipeline, and only texts and titles go to them and span tuples come back (no Docs are pickled).
    """
    titles = list(titles) if titles else [""] * len(texts)
    processes = processes or (2 if len(texts) >= MULTIPROCESS_MIN_TEXTS else 1)
    if processes == 1:
        return entity_spans(nlp, index or {}, texts, titles, batch_size)
    import gc
    import multiprocessing

    global _FORKED_TAGGER
    _FORKED_TAGGER = (nlp, index or {}, batch_size)
    chunks = [(texts[i : i + WORKER_CHUNK], titles[i : i + WORKER_CHUNK]) for i in range(0, len(texts), WORKER_CHUNK)]
    # Frozen objects are never visited by a worker's garbage collector, so the workers do not copy the parent's heap page by page.
    gc.collect()
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            return [spans for chunk in pool.imap(_tag_chunk_in_worker, chunks) for spans in chunk]
    finally:
        gc.unfreeze()
        _FORKED_TAGGER = None


def entity_spans(nlp, index: dict, texts: list[str], titles: list[str], batch_size: int) -> list[list[tuple[str, str, str, int, int]]]:
    """Tag texts in this process; each entity as (entity_id, label, text, start_char, end_char)."""
    from paperlake.tagging.pipeline import titled_docs

    return [
        [(ent.ent_id_ or canonical_id(ent.text, index), ent.label_, ent.text, ent.start_char, ent.end_char) for ent in doc.ents]
        for doc in nlp.pipe(titled_docs(nlp, texts, titles), batch_size=batch_size)
    ]


# The pipeline a forked worker inherits from its parent (set only while a pool runs).
_FORKED_TAGGER = None
WORKER_CHUNK = 256


def _tag_chunk_in_worker(chunk: tuple[list[str], list[str]]):
    nlp, index, batch_size = _FORKED_TAGGER
    return entity_spans(nlp, index, *chunk, batch_size)


def tag_key(row: dict) -> tuple[str, tuple[str, ...]]:
    """What a paper's tags depend on besides the tagger: its text (content_hash) and the categories the domain gate reads."""
    from paperlake.tagging.domain import primary_first

    return row["content_hash"], tuple(primary_first(row["categories"], row["primary_category"]))


def cached_spans(lake: Lake, source: str, day: date, version: str, keys: set[tuple]) -> dict[tuple, dict]:
    """tag key -> {"ml_score", "is_ml", "spans": entity rows}, for those of `keys` (see `tag_key`) the committed run of this
    partition tagged with the same tagger.

    The committed entities table is read batch by batch, keeping only the rows of one paper per key.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        manifest = lake.read_json("entities", source, day, TAGGED_MANIFEST)
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
    for batch in lake.table_batches("entities", source, day):
        for row in batch.filter(pc.is_in(batch.column("content_hash"), value_set=wanted)).to_pylist():
            if (key := by_paper.get((row["paper_id"], row["content_hash"]))) is not None:
                cached[key]["spans"].append(row)
    return cached


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
    from paperlake.tagging.pipeline import build_tagger

    return build_tagger(gazetteer_paths, model_dir), alias_index(load_gazetteers(gazetteer_paths))


def tag_chunk(
    lake: Lake, source: str, day: date, run_id: str, index: int, chunk_rows: int,
    gazetteer_paths: tuple[Path, ...] = GAZETTEER_PATHS, model_dir: Path | None = None,
) -> dict[str, int]:
    """Tag clean rows [index * chunk_rows, +chunk_rows) of a run into its chunk file; offsets index the cleaned abstract.

    Texts whose content_hash the same tagger version already tagged in the committed run are not tagged again.
    """
    import pyarrow as pa

    from paperlake.schemas import ENTITIES
    from paperlake.tagging.pipeline import tagger_version

    from paperlake.tagging.domain import gate_papers

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
            cache[key] = {"ml_score": ml_score, "is_ml": is_ml, "spans": [
                {"entity_id": e, "label": label, "text": text, "start_char": start, "end_char": end, "ml_score": ml_score, "is_ml": is_ml}
                for e, label, text, start, end in kept
            ]}
    rows = [
        {**span, "paper_id": row["paper_id"], "content_hash": row["content_hash"], "tagger_version": version}
        for key, row in zip(keys, clean)
        for span in cache[key]["spans"]
    ]
    lake.write_table("entities", source, day, pa.Table.from_pylist(rows, schema=ENTITIES), run_id, chunk_file(index))
    papers = [
        {"paper_id": row["paper_id"], "content_hash": content_hash, "categories": list(categories),
         "ml_score": cache[(content_hash, categories)]["ml_score"], "is_ml": cache[(content_hash, categories)]["is_ml"]}
        for row, (content_hash, categories) in zip(clean, keys)
    ]
    lake.write_json("entities", source, day, chunk_verdicts_file(index), papers, run_id)
    log.info("tag %s %s: chunk %d (%d papers): %d entities, %d texts tagged", source, day, index, len(clean), len(rows), len(todo))
    return {
        "index": index, "rows": len(rows), "papers": len(clean), "texts_tagged": len(todo),
        "texts_from_cache": len(set(keys)) - len(todo), "tagger_version": version,
    }


def merge_tag_chunks(lake: Lake, source: str, day: date, run_id: str, chunks: list[dict]) -> PartitionSummary:
    """Stream a run's chunk files, batch by batch, into its entities table and write its tagged manifest: the tagger
    version and the domain gate's verdict on every paper (also those left with no entity)."""
    chunks = sorted(chunks, key=lambda chunk: chunk["index"])
    names = [chunk_file(chunk["index"]) for chunk in chunks]
    with lake.table_writer("entities", source, day, run_id) as writer:
        for name in names:
            for batch in lake.table_batches("entities", source, day, run_id=run_id, name=name):
                writer.write(batch)
    versions = {chunk["tagger_version"] for chunk in chunks}
    if len(versions) != 1:
        raise RuntimeError(f"tag {source} {day}: run {run_id} was tagged by several tagger versions {sorted(versions)}; rerun the tag tasks")
    verdict_files = [chunk_verdicts_file(chunk["index"]) for chunk in chunks]
    verdicts = [paper for name in verdict_files for paper in lake.read_json("entities", source, day, name, run_id)]
    lake.write_json("entities", source, day, TAGGED_MANIFEST, {"tagger_version": versions.pop(), "verdicts": verdicts}, run_id)
    lake.store.delete([lake.run_key("entities", source, day, run_id, name) for name in names + verdict_files])
    total = {field: sum(chunk[field] for chunk in chunks) for field in ("rows", "papers", "texts_tagged", "texts_from_cache")}
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
