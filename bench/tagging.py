"""`make bench`: tagging throughput measured side by side in one run, printed as ratios.

- one process vs two (`nlp.pipe(n_process=2)`) at several partition sizes: where a second process pays;
- a cold tag of a partition vs a rerun served by the content-hash cache.
No timing is asserted anywhere; these numbers inform MULTIPROCESS_MIN_TEXTS and the README.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date
from pathlib import Path

from paperlake.config import BUNDLED_SNAPSHOT, Settings
from paperlake.sources.snapshot import parse_snapshot_page
from paperlake.tagging.pipeline import build_tagger


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    abstracts = [r.abstract for r in parse_snapshot_page(BUNDLED_SNAPSHOT.read_text(encoding="utf-8"))]
    words = sum(len(a.split()) for a in abstracts)
    nlp = build_tagger(model_dir=None)
    list(nlp.pipe(abstracts[:20]))  # warm up
    print(f"{'texts':>6} {'words':>8} {'1 proc w/s':>11} {'2 proc w/s':>11} {'2/1':>6}")
    for repeat in (1, 4, 16):
        texts = abstracts * repeat
        one = timed(lambda: list(nlp.pipe(texts, batch_size=64)))
        two = timed(lambda: list(nlp.pipe(texts, batch_size=64, n_process=2)))
        print(f"{len(texts):>6} {words * repeat:>8} {words * repeat / one:>11.0f} {words * repeat / two:>11.0f} {one / two:>6.2f}")

    from paperlake.pipeline import clean_stage, commit_stage, fetch_stage, tag_stage, validate_stage

    with tempfile.TemporaryDirectory() as home:
        settings = Settings.from_env({"PAPERLAKE_HOME": home})
        day = date(2026, 11, 26)

        def run_to_tag() -> str:
            run_id = fetch_stage(settings, "snapshot", day)["run_id"]
            clean_stage(settings, "snapshot", day, run_id)
            validate_stage(settings, "snapshot", day, run_id)
            return run_id

        first = run_to_tag()
        cold = timed(lambda: tag_stage(settings, "snapshot", day, first))
        commit_stage(settings, "snapshot", day, first)  # the next run reuses what this one tagged
        second = run_to_tag()
        cached = timed(lambda: tag_stage(settings, "snapshot", day, second))
        print(f"tag stage on the sample: cold {cold:.2f} s, rerun from cache {cached:.2f} s, cold/cached {cold / cached:.1f}x")

if __name__ == "__main__":
    main()
