"""The figures table of docs/performance.md, written from one complete `make bench` run's results
(`python -m bench --doc docs/performance.md`, which `make bench` runs).

The table sits between two markers in the page; everything around it (how each figure is measured, where the
time goes) is prose kept by hand. Only a run of every measurement at full size may write it, so that every figure
in the table comes from the same run on the same machine.
"""

from __future__ import annotations

import json
from pathlib import Path

START = "<!-- figures of one `make bench` run: written by bench/figures_table.py -->"
END = "<!-- end of the figures of one `make bench` run -->"
DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"


class PartialRun(ValueError):
    """Results that cannot stand for one whole run: a quick run, or one that left measurements out."""


def figures_table(results: dict, measures: tuple[str, ...]) -> str:
    """The markdown table of a run's figures, each with its goal and verdict, under a line saying when and where
    the run was measured."""
    ran = tuple(results.get("measures", ()))
    if results.get("quick") or set(ran) != set(measures):
        left_out = sorted(set(measures) - set(ran))
        raise PartialRun(
            "only a full run of every measurement writes the table"
            + (" (this one was --quick)" if results.get("quick") else f" (this one left out {', '.join(left_out)})")
        )
    host, figures = results["machine"], results["figures"]
    judged = [figure for figure in figures if figure["goal"] is not None]
    met = sum(1 for figure in judged if figure["met"])
    lines = [
        f"One run, {results['started_utc']} UTC, {results['seconds']:,} s, on {host['cpus']} CPUs "
        f"({host['cpu_model']}) with {host['ram_gb']} GB RAM, load average {host['load_average_1min']} at the start "
        f"and {results['load_average_at_end']} at the end: {met} of {len(judged)} goals met.",
        "",
        "| figure | value | goal | |",
        "| --- | --- | --- | --- |",
    ]
    for figure in figures:
        goal = "" if figure["goal"] is None else f"{figure['op']} {figure['goal']:g} {figure['unit']}".rstrip()
        verdict = "" if figure["met"] is None else ("met" if figure["met"] else "**NOT met**")
        lines.append(f"| {figure['name']} | {figure['value']:g} {figure['unit']} | {goal} | {verdict} |")
    return "\n".join(lines)


def replace_table(doc: str, table: str) -> str:
    """`doc` with the text between the table's markers replaced by `table`."""
    if doc.count(START) != 1 or doc.count(END) != 1 or doc.index(START) > doc.index(END):
        raise ValueError(f"the page needs one {START!r} line and, after it, one {END!r} line")
    before, rest = doc.split(START)
    return f"{before}{START}\n{table}\n{END}{rest.split(END, 1)[1]}"


def write_table(results_path: Path, doc_path: Path, measures: tuple[str, ...]) -> None:
    """Rewrite the figures table of `doc_path` from the results file of one run."""
    table = figures_table(json.loads(results_path.read_text()), measures)
    doc_path.write_text(replace_table(doc_path.read_text(), table))
