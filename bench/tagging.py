"""The tag stage's tagging (`paperlake.tagging.partition.tag_texts`) against bare `nlp.pipe` of the same pipeline, in
one process.

Same cleaned abstracts, same pipeline (rules only, the default): tag_texts with one process against
bare `nlp.pipe` (goal: at least 0.9 of its throughput), then tag_texts with two forked processes
against one (goal: at least 1.7x), beside bare `nlp.pipe(n_process=2)` against one process, which
shows what a second core gives on this machine at all.
"""

from __future__ import annotations

from bench.report import Figure, best_times
from paperlake.clean import clean_text
from paperlake.config import GAZETTEER_PATHS
from paperlake.tagging.partition import loaded_tagger
from paperlake.tagging.workers import tag_texts

BATCH_SIZE = 64


def measure(abstracts: list[str], titles: list[str], repeats: int) -> tuple[list[Figure], dict]:
    """Each pair of sides back to back, best of `repeats`; the titles (context for tag_texts) are cleaned first, as in
    the stage."""
    titles = [clean_text(title) for title in titles]
    nlp, index = loaded_tagger(GAZETTEER_PATHS, None)
    list(nlp.pipe(abstracts[:50]))  # warm up

    def bare(processes: int):
        return lambda: list(nlp.pipe(abstracts, batch_size=BATCH_SIZE, n_process=processes))

    def stage(processes: int):
        return lambda: tag_texts(nlp, abstracts, index, titles, batch_size=BATCH_SIZE, processes=processes)

    seconds = best_times(repeats, {"bare, 1 process": bare(1), "tag_texts, 1 process": stage(1)})
    seconds |= best_times(repeats, {"tag_texts, 2 processes": stage(2), "bare, 2 processes": bare(2)})
    words = sum(len(text.split()) for text in abstracts)
    for name, value in seconds.items():
        print(f"  {name:<24} {len(abstracts):,} abstracts: {value:6.1f} s, {words / value:8,.0f} words/s")
    n = f"{len(abstracts):,} abstracts"
    figures = [
        Figure("tag_over_bare_throughput", f"tag_texts / bare nlp.pipe throughput, 1 process, {n}",
               round(seconds["bare, 1 process"] / seconds["tag_texts, 1 process"], 2), "x", 0.9, ">="),
        Figure("tag_two_process_speedup", f"tag_texts speed-up, 2 processes over 1, {n}",
               round(seconds["tag_texts, 1 process"] / seconds["tag_texts, 2 processes"], 2), "x", 1.7, ">="),
        Figure("bare_two_process_speedup", f"bare nlp.pipe speed-up, 2 processes over 1 (this machine's ceiling), {n}",
               round(seconds["bare, 1 process"] / seconds["bare, 2 processes"], 2), "x"),
    ]
    return figures, {
        "abstracts": len(abstracts),
        "words": words,
        "seconds": {k: round(v, 2) for k, v in seconds.items()},
    }
