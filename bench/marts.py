"""`make bench`: marts build cost on a synthetic lake, full builds at two sizes and an added day, side by side.

    python bench/marts.py RESULTS.json [--days-small 100] [--days-large 400] [--papers 1000]

Generates a deterministic lake in a temp folder (one arXiv partition per day, a Hugging Face partition
re-listing some recent papers, revisions of older papers, Zipf-distributed entities), then measures,
each in a fresh process: a full build at the small and at the large size, and the build after one more
day (incremental) against a full build of the same lake: wall and CPU seconds, peak RSS, the build's
phases. Nothing is asserted; each figure is printed with its goal (the issue's: 1M papers in 30 s,
an added day at a tenth of a full build), and all are written to RESULTS.json.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import os
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

FIRST_DAY = date(2025, 1, 1)
ENTITY_VOCABULARY = 40_000
SPANS_PER_PAPER = 9  # mean; the lake had 3.4M entity rows for 358k papers
LABELS = ("METHOD", "MODEL", "DATASET", "TASK", "METRIC")
WORD_VOCABULARY = 5_000


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
    return {
        "paper_id": ids, "version": versions.tolist(), "title": words(rng, rng.integers(5, 12, papers)).to_pylist(),
        "abstract": pc.binary_join_element_wise(words(rng, rng.integers(60, 140, papers)), ".", "").to_pylist(),
        "content_hash": [f"{pid}-{v}" for pid, v in zip(ids, versions)],
    }


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
    }


def write_run(lake, source: str, day: date, clean: dict, entities: dict, quarantined: int, run_id: str) -> None:
    """Write every document of one complete run of (source, day) and commit it."""
    import pyarrow as pa

    from paperlake.commit import commit_run
    from paperlake.lake import TAGGED_MANIFEST, VALIDATION_REPORT, VALIDATION_RESULT
    from paperlake.schemas import CLEAN, ENTITIES, QUARANTINE, STAGED

    def table(columns: dict, schema) -> pa.Table:
        rows = len(next(iter(columns.values())))
        return pa.table({f.name: columns.get(f.name, pa.nulls(rows, f.type)) for f in schema}, schema=schema)

    clean_table = table(clean, CLEAN)
    rejected = clean_table.slice(0, quarantined)
    quarantine = table({**rejected.to_pydict(), "reason_codes": [["abstract_length"]] * quarantined, "reasons": [["too short"]] * quarantined}, QUARANTINE)
    clean_table = clean_table.slice(quarantined)
    lake.write_raw(source, day, [], {"base_generation": 0}, run_id)
    lake.write_table("staged", source, day, pa.concat_tables([clean_table.cast(STAGED), quarantine.select(STAGED.names).cast(STAGED)]), run_id)
    lake.write_table("clean", source, day, clean_table, run_id)
    lake.write_table("quarantine", source, day, quarantine, run_id)
    lake.write_table("entities", source, day, table(entities, ENTITIES), run_id)
    lake.write_json("validation", source, day, VALIDATION_RESULT, {"source": source, "date": day.isoformat(), "gx_success": True}, run_id)
    lake.write_document("validation", source, day, VALIDATION_REPORT, b"<html></html>", run_id)
    lake.write_json("entities", source, day, TAGGED_MANIFEST, {"tagger_version": "bench", "content_hashes": []}, run_id)
    commit_run(lake, source, day, run_id, min_keep_share=0.0, allow_shrink=True)


def day_papers(day_index: int, papers: int) -> tuple[dict, dict]:
    """The arXiv papers of day `day_index` and their spans (the same every time: seeded by the day)."""
    import numpy as np

    rng = np.random.default_rng(day_index)
    clean = paper_rows(rng, day_index, papers)
    return clean, entity_rows(rng, clean)


def add_day(lake, day_index: int, papers: int) -> None:
    """Commit day `day_index`: its arXiv partition, and from day 7 a Hugging Face partition re-listing 5% of an earlier day."""
    import numpy as np

    day = FIRST_DAY + timedelta(days=day_index)
    clean, entities = day_papers(day_index, papers)
    write_run(lake, "arxiv", day, clean, entities, quarantined=papers // 100, run_id=f"{day:%Y%m%d}T060000Z-{day_index:08x}")
    if day_index >= 7:
        rng = np.random.default_rng([day_index, 1])
        listed, spans = day_papers(day_index - int(rng.integers(1, 7)), papers)
        picked = set(rng.choice(listed["paper_id"], papers // 20, replace=False).tolist())
        rows = [i for i, pid in enumerate(listed["paper_id"]) if pid in picked]
        hf = {k: [v[i] for i in rows] for k, v in listed.items()} | {"upvotes": rng.integers(0, 200, len(rows)).tolist()}
        hf_spans = {k: [v for v, pid in zip(values, spans["paper_id"]) if pid in picked] for k, values in spans.items()}
        write_run(lake, "hf_daily", day, hf, hf_spans, quarantined=0, run_id=f"{day:%Y%m%d}T070000Z-{day_index:08x}")


def commit_day(home: str, day_index: int, papers: int) -> None:
    """Commit day `day_index` of the synthetic lake under `home`."""
    from paperlake.config import Settings
    from paperlake.lake import Lake

    add_day(Lake.from_settings(Settings.from_env({"PAPERLAKE_HOME": home})), day_index, papers)


def grow_lake(home: Path, days: range, papers: int) -> None:
    """Commit `days` of the synthetic lake under `home`, a few days at a time in parallel processes."""
    with ProcessPoolExecutor(max_workers=4, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(commit_day, [str(home)] * len(days), days, [papers] * len(days), chunksize=4))


def build(home: str, full: bool, queue) -> None:
    """Build the marts of the lake under `home` (run in a child process); report wall and CPU seconds, peak RSS, rows."""
    from paperlake.config import Settings
    from paperlake.lake import Lake
    from paperlake.marts.builder import MARTS_KEY, build_marts

    settings = Settings.from_env({"PAPERLAKE_HOME": home})
    lake = Lake.from_settings(settings)
    cpu, started = cpu_seconds(), time.perf_counter()
    summary = build_marts(lake, settings, full=full)
    queue.put({
        "build": summary.build, "seconds": round(time.perf_counter() - started, 2), "cpu_seconds": round(cpu_seconds() - cpu, 2),
        "phases": summary.seconds,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "papers": summary.tables["papers"],
        "paper_entities": summary.tables["paper_entities"], "marts_file_mb": round(Path(lake.uri(MARTS_KEY)).stat().st_size / 2**20),
    })


def cpu_seconds() -> float:
    """User and system CPU time of this process (and its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measured_build(home: Path, full: bool) -> dict:
    """One build in a fresh process, so each peak RSS is its own."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=build, args=(str(home), full, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def figure(name: str, value: float, goal: float, unit: str = "") -> dict:
    """A measured figure beside its goal (at most `goal`)."""
    return {"name": name, "value": value, "goal": goal, "unit": unit, "met": value <= goal}


def figures(small: dict, large: dict, incremental: dict, full: dict) -> list[dict]:
    """The figures the issue sets goals for: full builds scaled to 1M papers in 30 s, linear growth, an added day at a tenth."""
    growth = large["papers"] / small["papers"]
    return [
        figure(f"full build, {small['papers']:,} papers", small["seconds"], round(30 * small["papers"] / 1e6, 1), "s"),
        figure(f"full build, {large['papers']:,} papers", large["seconds"], round(30 * large["papers"] / 1e6, 1), "s"),
        figure(f"full build peak RSS, {large['papers']:,} papers", large["peak_rss_mb"], 2048, "MB"),
        figure(f"full build time {large['papers']:,} / {small['papers']:,} papers (papers x{growth:.1f})",
               round(large["seconds"] / small["seconds"], 2), round(growth * 1.1, 2)),
        figure("added day / full build, time", round(incremental["seconds"] / full["seconds"], 3), 0.1),
        figure("added day / full build, CPU", round(incremental["cpu_seconds"] / full["cpu_seconds"], 3), 0.1),
        figure("added day / full build, marts update alone", round(incremental["phases"]["update"] / full["phases"]["update"], 3), 0.1),
    ]


def print_report(runs: dict, results: list[dict]) -> None:
    """The builds side by side, then each figure with its goal."""
    print(f"{'build':<26} {'papers':>9} {'entity rows':>12} {'wall s':>7} {'CPU s':>7} {'peak RSS MB':>12} {'file MB':>8}  phases (s)")
    for name, run in runs.items():
        phases = " ".join(f"{phase} {seconds:.1f}" for phase, seconds in run["phases"].items())
        print(f"{name:<26} {run['papers']:>9,} {run['paper_entities']:>12,} {run['seconds']:>7.2f} {run['cpu_seconds']:>7.2f} "
              f"{run['peak_rss_mb']:>12,} {run['marts_file_mb']:>8,}  {phases}")
    print()
    for result in results:
        print(f"{result['name']:<62} {result['value']:>9} {result['unit']:<2} goal <= {result['goal']:<7} {'met' if result['met'] else 'NOT MET'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="write the figures here as JSON")
    parser.add_argument("--days-small", type=int, default=100)
    parser.add_argument("--days-large", type=int, default=400)
    parser.add_argument("--papers", type=int, default=1000, help="arXiv papers per day")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="paperlake-bench-marts-") as tmp:
        home = Path(tmp)
        grow_lake(home, range(args.days_small), args.papers)
        runs = {f"full, {args.days_small} days": measured_build(home, full=True)}
        grow_lake(home, range(args.days_small, args.days_large), args.papers)
        runs[f"full, {args.days_large} days"] = measured_build(home, full=True)
        grow_lake(home, range(args.days_large, args.days_large + 1), args.papers)
        runs["added day (incremental)"] = measured_build(home, full=False)
        runs[f"full, {args.days_large + 1} days"] = measured_build(home, full=True)
    small, large, incremental, full = runs.values()
    results = figures(small, large, incremental, full)
    print_report(runs, results)
    print(f"\nbench ran {time.perf_counter() - started:.0f} s on {multiprocessing.cpu_count()} CPUs (load average now {os.getloadavg()[0]:.1f})")
    args.results.write_text(json.dumps({"runs": runs, "figures": results, "cpus": multiprocessing.cpu_count()}, indent=2))


if __name__ == "__main__":
    main()
