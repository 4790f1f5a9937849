"""A small lake for the paperlake page's tests, with its marts built; the numbers below are worked out by hand.

arxiv has partitions on R-10, R-3, R-1 and R (gaps R-9..R-4 and R-2), hf_daily on R only.
Recent window R-6..R, baseline R-34..R-7:
  MMLU  recent p1 p3 p4, baseline none -> lift (3/7)/(1/28) = 12.0
  LoRA  recent p3 p4,    baseline none -> lift (2/7)/(1/28) = 8.0
  BERT  recent p1 p2,    baseline p0   -> lift (2/7)/(2/28) = 4.0
arxiv on R: 3 parsed, 1 clean, 2 quarantined (not_english 2, abstract_length 1), validation failed, Airflow run RUN_R.
"""

from __future__ import annotations

from datetime import date, timedelta

from paperlake.config import Settings
from paperlake.lake import Lake
from paperlake.marts.builder import build_marts
from paperlake.schemas import CLEAN, ENTITIES, QUARANTINE
from paperlake.search import build_search_index
from tests.support.lake_runs import commit_tables, paper, spans, table

R = date(2026, 11, 30)
RUN_R = "scheduled__2026-11-30T00:00:00+00:00"
LABELS = {"MMLU": "DATASET", "BERT": "MODEL", "LoRA": "METHOD"}


def before(days: int) -> date:
    return R - timedelta(days=days)


def quarantined(pid: str, index: int, *codes: str) -> dict:
    return {
        **paper(pid, 1, f"Rejected {pid}", f"h{pid}"),
        "record_index": index,
        "reason_codes": list(codes),
        "reasons": [f"{c}!" for c in codes],
    }


def build_page_lake(lake: Lake, settings: Settings) -> None:
    """Commit the partitions described above and build the marts and the search index."""
    def commit(source, day, papers, quarantine=(), **kwargs):
        found = [
            s
            for pid, _, ents in papers
            for s in spans(pid, f"h{pid}", *[(e, LABELS[e], 10 * i) for i, e in enumerate(ents)])
        ]
        commit_tables(
            lake,
            source,
            day,
            clean=table([paper(pid, 1, f"Title {pid}. More.", f"h{pid}", up) for pid, up, _ in papers], CLEAN),
            entities=table(found, ENTITIES),
            quarantine=table(list(quarantine), QUARANTINE),
            **kwargs,
        )

    commit("arxiv", before(10), [("p0", None, ["BERT"])])
    commit(
        "arxiv",
        before(3),
        [("p1", None, ["MMLU", "BERT"]), ("p2", None, ["BERT"])],
        [quarantined("q1", 2, "not_english")],
    )
    commit("arxiv", before(1), [("p3", None, ["MMLU", "LoRA"])])
    commit(
        "arxiv",
        R,
        [("p4", None, ["MMLU", "LoRA"])],
        [quarantined("q2", 1, "not_english"), quarantined("q3", 2, "abstract_length", "not_english")],
        validation={"source": "arxiv", "date": R.isoformat(), "gx_success": False, "run_id": RUN_R},
    )
    hf_spans = spans("p4", "hp4", ("MMLU", "DATASET", 0), ("LoRA", "METHOD", 10))
    hf_spans[1]["text"] = "lora"
    commit_tables(
        lake,
        "hf_daily",
        R,
        clean=table([paper("p4", 1, "Title p4. More.", "hp4", 5)], CLEAN),
        entities=table(hf_spans, ENTITIES),
    )
    build_marts(lake, settings)
    build_search_index(lake, settings)
