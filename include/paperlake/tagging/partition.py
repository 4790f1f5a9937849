"""Tag a clean partition and write its `entities` partition, reusing what an identical earlier run tagged."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from paperlake.config import GAZETTEER_PATHS
from paperlake.lake import TAGGED_MANIFEST, Lake, PartitionSummary
from paperlake.tagging.gazetteer import alias_index, canonical_id, load_gazetteers

# `make bench` on 2 cores: with phrase-matcher rules (80-95k words/s in one process) a second process
# gives 1.15-1.25x from ~1,300 abstracts on, which still pays; small partitions (the sample, tests)
# stay in one process, which also keeps forking out of test runs.
MULTIPROCESS_MIN_TEXTS = 1000


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
    import multiprocessing

    global _FORKED_TAGGER
    _FORKED_TAGGER = (nlp, index or {}, batch_size)
    chunks = [(texts[i : i + WORKER_CHUNK], titles[i : i + WORKER_CHUNK]) for i in range(0, len(texts), WORKER_CHUNK)]
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            return [spans for chunk in pool.imap(_tag_chunk_in_worker, chunks) for spans in chunk]
    finally:
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


def cached_spans(lake: Lake, source: str, day: date, version: str) -> dict[str, list[dict]]:
    """content_hash -> entity rows from the committed run of this partition, if made by the same tagger."""
    try:
        manifest = lake.read_json("entities", source, day, TAGGED_MANIFEST)
        table = lake.read_table("entities", source, day)
    except FileNotFoundError:
        return {}
    if manifest.get("tagger_version") != version:
        return {}
    spans: dict[str, list[dict]] = {h: [] for h in manifest["content_hashes"]}
    seen_papers: dict[str, str] = {}
    for row in table.to_pylist():
        # one paper's spans stand for every paper with the same content
        if seen_papers.setdefault(row["content_hash"], row["paper_id"]) == row["paper_id"]:
            spans.setdefault(row["content_hash"], []).append(row)
    return spans


def tag_partition(
    lake: Lake, source: str, day: date, run_id: str, gazetteer_paths: tuple[Path, ...] = GAZETTEER_PATHS, model_dir: Path | None = None,
) -> PartitionSummary:
    """Tag every clean abstract of a run; offsets index the cleaned abstract.

    Texts whose content_hash the same tagger version already tagged in the committed run are not tagged again.
    """
    import pyarrow as pa

    from paperlake.schemas import ENTITIES
    from paperlake.tagging.pipeline import build_tagger, tagger_version

    clean = lake.read_table("clean", source, day, run_id=run_id).select(["paper_id", "content_hash", "title", "abstract"]).to_pylist()
    version = tagger_version(gazetteer_paths, model_dir)
    cache = cached_spans(lake, source, day, version)
    todo = {row["content_hash"]: row for row in clean if row["content_hash"] not in cache}
    if todo:
        index = alias_index(load_gazetteers(gazetteer_paths))
        rows = list(todo.values())
        tagged = tag_texts(build_tagger(gazetteer_paths, model_dir), [r["abstract"] for r in rows], index, [r["title"] for r in rows])
        for content_hash, found in zip(todo, tagged):
            cache[content_hash] = [
                {"entity_id": e, "label": label, "text": text, "start_char": start, "end_char": end}
                for e, label, text, start, end in found
            ]
    rows = [
        {**span, "paper_id": row["paper_id"], "content_hash": row["content_hash"], "tagger_version": version}
        for row in clean
        for span in cache[row["content_hash"]]
    ]
    uri = lake.write_table("entities", source, day, pa.Table.from_pylist(rows, schema=ENTITIES), run_id)
    lake.write_json(
        "entities", source, day, TAGGED_MANIFEST,
        {"tagger_version": version, "content_hashes": sorted({row["content_hash"] for row in clean})}, run_id,
    )
    return PartitionSummary(
        layer="entities", source=source, date=day.isoformat(), rows=len(rows), uri=uri, run_id=run_id,
        counts={"papers": len(clean), "texts_tagged": len(todo), "texts_from_cache": len({r["content_hash"] for r in clean}) - len(todo)},
    )
