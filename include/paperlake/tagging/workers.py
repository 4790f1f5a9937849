"""Tagging texts in this process or, from MULTIPROCESS_MIN_TEXTS on, in two forked workers that each take batches of
WORKER_BATCH texts (a batch is a worker's unit; a chunk, in `partition`, is a tag task's share of a partition)."""

from __future__ import annotations

from paperlake.tagging.gazetteer import canonical_id
from paperlake.tagging.tagger import titled_docs

# `make bench` on 2 cores: with phrase-matcher rules (80-95k words/s in one process) a second process
# gives 1.15-1.25x from ~1,300 abstracts on, which still pays; small partitions (the sample, tests)
# stay in one process, which also keeps forking out of test runs.
MULTIPROCESS_MIN_TEXTS = 1000


def tag_texts(
    nlp,
    texts: list[str],
    index: dict | None = None,
    titles: list[str] | None = None,
    batch_size: int = 64,
    processes: int | None = None,
) -> list[list[tuple[str, str, str, int, int]]]:
    """For each abstract (with its paper's title as context): (entity_id, label, span text, start_char, end_char) per
    entity.

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
    batches = [(texts[i : i + WORKER_BATCH], titles[i : i + WORKER_BATCH]) for i in range(0, len(texts), WORKER_BATCH)]
    # Frozen objects are never visited by a worker's garbage collector, so the workers do not copy the parent's heap
    # page by page.
    gc.collect()
    gc.freeze()
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            return [spans for batch in pool.imap(_tag_batch_in_worker, batches) for spans in batch]
    finally:
        gc.unfreeze()
        _FORKED_TAGGER = None


def entity_spans(
    nlp, index: dict, texts: list[str], titles: list[str], batch_size: int
) -> list[list[tuple[str, str, str, int, int]]]:
    """Tag texts in this process; each entity as (entity_id, label, text, start_char, end_char)."""
    return [
        [
            (ent.ent_id_ or canonical_id(ent.text, index), ent.label_, ent.text, ent.start_char, ent.end_char)
            for ent in doc.ents
        ]
        for doc in nlp.pipe(titled_docs(nlp, texts, titles), batch_size=batch_size)
    ]


# The pipeline a forked worker inherits from its parent (set only while a pool runs).
_FORKED_TAGGER = None
WORKER_BATCH = 256


def _tag_batch_in_worker(batch: tuple[list[str], list[str]]):
    nlp, index, batch_size = _FORKED_TAGGER
    return entity_spans(nlp, index, *batch, batch_size)
