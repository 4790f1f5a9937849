"""`paperlake.clean.clean_text` on the corpus abstracts, in this process (one core). Goal: under 1 ms per abstract.

Timed in CPU seconds of this process (cleaning is single-threaded, so that is its cost on one core,
whatever else the machine runs). The bundled sample's abstracts are timed beside them, to show how
representative the corpus is.
"""

from __future__ import annotations

import time

from bench.corpus import sample_papers
from bench.report import Figure, best_times
from paperlake.clean import clean_text
from paperlake.real_corpus import load_real_corpus


def measure(abstracts: list[str], repeats: int) -> tuple[list[Figure], dict, list[str]]:
    """Best of `repeats` passes over the abstracts; also returns the cleaned abstracts (the tagging bench tags them)."""
    sample = [paper.abstract for paper in sample_papers()]
    real = [record.abstract for record in load_real_corpus()]  # real arXiv abstracts, TeX and all
    [clean_text(text) for text in abstracts[:50]]  # imports ftfy and pylatexenc
    passes = []
    seconds = best_times(repeats, {
        "corpus": lambda: passes.append([clean_text(text) for text in abstracts]),
        "sample": lambda: [clean_text(text) for text in sample],
        "real": lambda: [clean_text(text) for text in real],
    }, clock=time.process_time)
    cleaned = passes[-1]
    changed = sum(a != b for a, b in zip(abstracts, cleaned))
    per_abstract_ms = seconds["corpus"] * 1000 / len(abstracts)
    sample_ms = seconds["sample"] * 1000 / len(sample)
    real_ms = seconds["real"] * 1000 / len(real)
    print(
        f"  clean_text: {len(abstracts):,} corpus abstracts in {seconds['corpus']:.2f} CPU s ({per_abstract_ms:.3f} ms "
        "each, "
        f"{changed:,} changed by cleaning); the {len(sample)} sample abstracts {sample_ms:.3f} ms each; "
        f"{len(real):,} real arXiv abstracts {real_ms:.3f} ms each"
    )
    figure = Figure("clean_ms_per_abstract", f"clean_text, ms per abstract, one core ({len(abstracts):,} abstracts)",
                    round(per_abstract_ms, 3), "ms", 1.0, "<")
    real_figure = Figure(
        "clean_ms_per_real_abstract",
        f"clean_text, ms per real arXiv abstract, one core ({len(real):,})",
        round(real_ms, 3),
        "ms",
        1.0,
        "<",
    )
    details = {"abstracts": len(abstracts), "seconds": round(seconds["corpus"], 2), "changed": changed,
               "sample_ms_per_abstract": round(sample_ms, 3), "real_ms_per_abstract": round(real_ms, 3)}
    return [figure, real_figure], details, cleaned
