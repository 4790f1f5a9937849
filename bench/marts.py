"""Marts build cost at all-of-arXiv scale, measured directly: full builds beside a plain DuckDB build of the same marts,
and an added day.

    python -m bench.marts HOME full|incremental RESULT    # the step itself: one build of the lake under HOME

A deterministic lake (one arXiv partition per day, a Hugging Face partition re-listing some recent
papers, revisions of older papers, Zipf-distributed entities, the domain gate rejecting 15% of papers) is written
straight into the lake, and
each build (`paperlake.marts.builder.build_marts`, or `bench.plain_marts`) runs in a fresh process:
wall and CPU seconds, peak RSS, the build's phases. The two full builds alternate, and their marts
are checked equal row for row. Goals (issue 23): a full build of ~1M papers in 30 s and 0.75x the
plain build, peak RSS 4 GB; an added day in 2 s and 0.1x a full build.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from bench.plain_marts import differing_rows
from bench.processes import run_step, written_mb
from bench.report import Figure
from paperlake import schemas
from paperlake.commit import commit_run
from paperlake.config import Settings
from paperlake.lake import TAGGED_MANIFEST, VALIDATION_REPORT, VALIDATION_RESULT, Lake
from paperlake.marts.builder import build_marts
from paperlake.marts.published import MARTS_KEY

FIRST_DAY = date(2025, 1, 1)
ENTITY_VOCABULARY = 40_000
SPANS_PER_PAPER = 9  # mean; the lake had 3.4M entity rows for 358k papers
LABELS = ("METHOD", "MODEL", "DATASET", "TASK", "METRIC")
WORD_VOCABULARY = 5_000
NOT_ML_BELOW = 0.15  # the share of papers the domain gate rejects (left out of the trends)
PRINTED_PHASES = 8


@functools.cache
def vocabulary():
    """Pseudo-words of varied length."""
    import pyarrow as pa

    return pa.array([f"w{i:x}{'abcdefgh'[i % 8] * (i % 7)}" for i in range(WORD_VOCABULARY)])


def words(rng, counts):
    """One string per count: that many random pseudo-words (so abstracts compress like text, not like a pattern)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    chosen = vocabulary().take(pa.array(rng.zipf(1.2, int(np.sum(counts))) % WORD_VOCABULARY))
    return pc.binary_join(pa.ListArray.from_arrays(offsets, chosen), " ")


def paper_rows(rng, day_index: int, papers: int) -> dict:
    """The day's arXiv papers as columns: ids by day and position, a revision of an older paper for 2% of them."""
    import numpy as np
    import pyarrow.compute as pc

    first = day_index * papers
    numbers = np.arange(first, first + papers)
    revised = rng.random(papers) < 0.02 if day_index else np.zeros(papers, bool)
    numbers[revised] = rng.choice(max(first, 1), revised.sum(), replace=False)
    versions = np.where(revised, 2, 1)
    ids = [f"{n:07d}" for n in numbers]
    scores = ml_scores(numbers, versions)
    return {
        "paper_id": ids,
        "version": versions.tolist(),
        "title": words(rng, rng.integers(5, 12, papers)).to_pylist(),
        "abstract": pc.binary_join_element_wise(words(rng, rng.integers(60, 140, papers)), ".", "").to_pylist(),
        "content_hash": [f"{pid}-{v}" for pid, v in zip(ids, versions)],
        "record_index": list(range(papers)),
        "ml_score": scores.tolist(),
        "is_ml": (scores >= NOT_ML_BELOW).tolist(),  # the domain gate's verdict (not a CLEAN column)
    }


def ml_scores(numbers, versions):
    """The domain gate's score of each paper text, a fixed function of the paper and its version (a re-listing scores
    alike)."""
    return ((numbers * 2654435761 + versions * 40503) % 1000) / 1000


def entity_rows(rng, papers: dict) -> dict:
    """Spans for each paper's text: Zipf-distributed entity ids, a fixed label per id, a few lower-case aliases."""
    import numpy as np

    counts = rng.poisson(SPANS_PER_PAPER, len(papers["paper_id"]))
    entity = (rng.zipf(1.3, counts.sum()) - 1) % ENTITY_VOCABULARY
    offsets = rng.integers(0, 600, counts.sum())
    paper_of = np.repeat(np.arange(len(counts)), counts)
    names = [f"Entity{e}" for e in entity]
    return {
        "paper_id": [papers["paper_id"][i] for i in paper_of],
        "content_hash": [papers["content_hash"][i] for i in paper_of],
        "entity_id": [n.lower() for n in names],
        "label": [LABELS[e % len(LABELS)] for e in entity],
        "text": [n.lower() if o % 10 == 0 else n for n, o in zip(names, offsets)],
        "start_char": offsets.tolist(), "end_char": (offsets + 8).tolist(), "tagger_version": ["bench"] * len(names),
        "ml_score": [papers["ml_score"][i] for i in paper_of], "is_ml": [papers["is_ml"][i] for i in paper_of],
    }


def write_run(lake, source: str, day: date, clean: dict, entities: dict, quarantined: int, run_id: str) -> None:
    """Write every document of one complete run of (source, day) and commit it."""
    import pyarrow as pa

    def table(columns: dict, schema) -> pa.Table:
        rows = len(next(iter(columns.values())))
        return pa.table({f.name: columns.get(f.name, pa.nulls(rows, f.type)) for f in schema}, schema=schema)

    clean_table = table(clean, schemas.CLEAN)
    rejected = clean_table.slice(0, quarantined)
    quarantine = table(
        {
            **rejected.to_pydict(),
            "reason_codes": [["abstract_length"]] * quarantined,
            "reasons": [["too short"]] * quarantined,
        },
        schemas.QUARANTINE,
    )
    clean_table = clean_table.slice(quarantined)
    parsed = schemas.PARSED
    lake.write_raw(source, day, [], {"base_generation": 0}, run_id)
    lake.write_table(
        "parsed",
        source,
        day,
        pa.concat_tables([clean_table.cast(parsed), quarantine.select(parsed.names).cast(parsed)]),
        run_id,
    )
    lake.write_table("clean", source, day, clean_table, run_id)
    lake.write_table("quarantine", source, day, quarantine, run_id)
    lake.write_table("entities", source, day, table(entities, schemas.ENTITIES), run_id)
    lake.write_json(
        "validation",
        source,
        day,
        VALIDATION_RESULT,
        {"source": source, "date": day.isoformat(), "gx_success": True},
        run_id,
    )
    lake.write_document("validation", source, day, VALIDATION_REPORT, b"<html></html>", run_id)
    verdicts = [
        {"paper_id": pid, "content_hash": chash, "categories": [], "ml_score": score, "is_ml": ml}
        for pid, chash, score, ml in zip(
            *(clean_table[name].to_pylist() for name in ("paper_id", "content_hash")),
            clean["ml_score"][quarantined:],
            clean["is_ml"][quarantined:],
        )
    ]
    lake.write_json("entities", source, day, TAGGED_MANIFEST, {"tagger_version": "bench", "verdicts": verdicts}, run_id)
    commit_run(lake, source, day, run_id, min_keep_share=0.0, allow_shrink=True)


def day_papers(day_index: int, papers: int) -> tuple[dict, dict]:
    """The arXiv papers of day `day_index` and their spans (the same every time: seeded by the day)."""
    import numpy as np

    rng = np.random.default_rng(day_index)
    clean = paper_rows(rng, day_index, papers)
    return clean, entity_rows(rng, clean)


def add_day(lake, day_index: int, papers: int) -> None:
    """Commit day `day_index`: its arXiv partition, and from day 7 a Hugging Face partition re-listing 5% of an earlier
    day."""
    import numpy as np

    day = FIRST_DAY + timedelta(days=day_index)
    clean, entities = day_papers(day_index, papers)
    write_run(
        lake, "arxiv", day, clean, entities, quarantined=papers // 100, run_id=f"{day:%Y%m%d}T060000Z-{day_index:08x}"
    )
    if day_index >= 7:
        rng = np.random.default_rng([day_index, 1])
        listed, spans = day_papers(day_index - int(rng.integers(1, 7)), papers)
        picked = set(rng.choice(listed["paper_id"], papers // 20, replace=False).tolist())
        rows = [i for i, pid in enumerate(listed["paper_id"]) if pid in picked]
        hf = {k: [v[i] for i in rows] for k, v in listed.items()} | {
            "upvotes": rng.integers(0, 200, len(rows)).tolist()
        }
        hf_spans = {k: [v for v, pid in zip(values, spans["paper_id"]) if pid in picked] for k, values in spans.items()}
        write_run(lake, "hf_daily", day, hf, hf_spans, quarantined=0, run_id=f"{day:%Y%m%d}T070000Z-{day_index:08x}")


def commit_day(home: str, day_index: int, papers: int) -> None:
    """Commit day `day_index` of the synthetic lake under `home`."""
    add_day(Lake.from_settings(Settings.from_env({"PAPERLAKE_HOME": home})), day_index, papers)


def grow_lake(home: Path, days: range, papers: int) -> None:
    """Commit `days` of the synthetic lake under `home`, a few days at a time in parallel processes; then flush it to
    disk, so that no build pays for writing back the lake's pages (the first build after growing it would)."""
    import os

    with ProcessPoolExecutor(max_workers=4, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(commit_day, [str(home)] * len(days), days, [papers] * len(days), chunksize=4))
    os.sync()


def build(home: str, full: bool) -> dict:
    """Build the marts of the lake under `home`: wall and CPU seconds, peak RSS of this process, phases, rows."""
    settings = Settings.from_env({"PAPERLAKE_HOME": home})
    lake = Lake.from_settings(settings)
    cpu, started = cpu_seconds(), time.perf_counter()
    summary = build_marts(lake, settings, full=full)
    return {
        "build": summary.build,
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(cpu_seconds() - cpu, 2),
        "phases": summary.seconds,
        "written_mb": written_mb(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "papers": summary.tables["papers"],
        "paper_entities": summary.tables["paper_entities"],
        "marts_file_mb": round(Path(lake.uri(MARTS_KEY)).stat().st_size / 2**20),
        "exports": summary.exports,  # what the search index update after it is handed
    }


def cpu_seconds() -> float:
    """User and system CPU time of this process (and its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measured_build(home: Path, kind: str, name: str) -> dict:
    """One build (`full`, `incremental` or `plain`) in a fresh process, so each peak RSS is its own."""
    if kind == "plain":
        return run_step("bench.plain_marts", [str(home)], home.parent / f"marts-{name}.log")
    return run_step("bench.marts", [str(home), kind], home.parent / f"marts-{name}.log")


def median_run(runs: list[dict]) -> dict:
    """The run of median wall time (of an odd count; the lower middle of an even one)."""
    return sorted(runs, key=lambda run: run["seconds"])[(len(runs) - 1) // 2]


def measure(work: Path, days: int, papers_per_day: int, repeats: int) -> tuple[list[Figure], dict]:
    """`repeats` full builds of `days` days, alternating with the plain build; then one more day, built incrementally
    and in full."""
    home = work / "marts-lake"
    grow_lake(home, range(days), papers_per_day)
    ours, plain = [], []
    for repeat in range(repeats):
        ours.append(measured_build(home, "full", f"full-{repeat}"))
        plain.append(measured_build(home, "plain", f"plain-{repeat}"))
    differing = differing_rows(home / "lake" / "marts" / "paperlake.duckdb", home / "plain" / "plain.duckdb")
    grow_lake(home, range(days, days + 1), papers_per_day)
    runs = {
        f"full, {days} days (median of {repeats})": median_run(ours),
        f"plain DuckDB, {days} days (median)": median_run(plain),
        "added day (incremental)": measured_build(home, "incremental", "added-day"),
        f"full, {days + 1} days": measured_build(home, "full", "full-added-day"),
    }
    print_builds(runs)
    full, baseline, incremental, full_after = runs.values()
    size = f"{full['papers']:,} papers, {full['paper_entities'] / 1e6:.1f}M paper_entities rows"
    return [
        Figure("marts_full_seconds", f"marts full build, {days:,} days ({size})", full["seconds"], "s", 30.0),
        Figure(
            "marts_full_over_plain",
            "marts full build / plain DuckDB build of the same marts, time",
            round(full["seconds"] / baseline["seconds"], 3),
            "x",
            0.75,
        ),
        Figure(
            "marts_full_over_plain_cpu",
            "the same in CPU time (not inflated by a busy machine)",
            round(full["cpu_seconds"] / baseline["cpu_seconds"], 3),
            "x",
        ),
        Figure("marts_full_peak_rss", "marts full build peak RSS", full["peak_rss_mb"], "MB", 4096.0),
        Figure(
            "marts_full_differing_rows",
            "rows differing between the two builds' marts (EXCEPT ALL both ways)",
            sum(differing.values()),
            "rows",
            0.0,
        ),
        Figure(
            "marts_added_day_seconds",
            f"marts added day (incremental), day {days + 1:,}",
            incremental["seconds"],
            "s",
            2.0,
        ),
        Figure(
            "marts_added_day_over_full",
            "marts added day / full build of the same days, time",
            round(incremental["seconds"] / full_after["seconds"], 3),
            "x",
            0.1,
        ),
        Figure("marts_added_day_cpu_seconds", "marts added day, CPU seconds", incremental["cpu_seconds"], "s"),
        Figure(
            "marts_added_day_over_full_cpu",
            "marts added day / full build, CPU time",
            round(incremental["cpu_seconds"] / full_after["cpu_seconds"], 3),
            "x",
        ),
    ], runs | {
        "differing_rows": differing,
        "full_seconds": [run["seconds"] for run in ours],
        "plain_seconds": [run["seconds"] for run in plain],
    }


def print_builds(runs: dict) -> None:
    """The builds side by side: sizes, wall and CPU seconds, peak RSS, file size, the longest phases (all are in the
    results file)."""
    print(
        f"  {'build':<34} {'papers':>9} {'entity rows':>12} {'wall s':>7} {'CPU s':>7} {'peak RSS MB':>12} "
        f"{'file MB':>8} {'written MB':>11}  phases (s)"
    )
    for name, run in runs.items():
        largest = sorted(run["phases"].items(), key=lambda item: -item[1])[:PRINTED_PHASES]
        phases = " ".join(f"{phase} {seconds:.1f}" for phase, seconds in largest)
        print(
            f"  {name:<34} {run.get('papers', 0):>9,} {run.get('paper_entities', 0):>12,} {run['seconds']:>7.2f} "
            f"{run['cpu_seconds']:>7.2f} "
            f"{run['peak_rss_mb']:>12,} {run['marts_file_mb']:>8,} {run.get('written_mb') or 0:>11,}  {phases}"
        )


if __name__ == "__main__":
    home, kind, result = sys.argv[1:]
    Path(result).write_text(json.dumps(build(home, full=kind == "full")))
