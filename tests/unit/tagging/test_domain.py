"""The domain gate: its decision per paper, what rejected papers keep, and trends that count only ML papers."""

from datetime import date, timedelta

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from paperlake.commit import new_run_id
from paperlake.marts.builder import build_marts
from paperlake.marts.published import local_marts_path
from paperlake.schemas import CLEAN, ENTITIES
from paperlake.tagging.domain import category_decision, gate_papers, is_ml, ml_scores, primary_first
from tests.support.lake_runs import commit_tables, paper, spans, table

PHYSICS = (
    "Search for heavy resonances decaying to top quarks",
    "We search for heavy resonances decaying to top-quark pairs in proton-proton collisions at 13 TeV recorded by the"
    " ATLAS detector at the LHC, with an integrated luminosity of 139 fb-1. No significant excess over the Standard"
    " Model background is observed and limits are set on the production cross section.",
)
ML = (
    "Sparse attention for long-context language models",
    "We propose a sparse attention method for long-context language models. Fine-tuning Llama 3.1-8B with it improves"
    " accuracy on LongBench and reduces inference latency, and we release our training code and benchmark.",
)


@pytest.mark.parametrize(
    "categories, decision",
    [
        (["cs.LG", "stat.ML"], True),
        (["hep-ex", "hep-ph"], False),
        (["cs.RO", "cs.LG"], None),
        (["eess.SP", "cs.AI"], None),
        (["stat.ME", "stat.ML"], None),
        (["physics.comp-ph", "cs.LG"], False),
        (["q-bio.NC", "cs.NE", "cs.LG"], False),
        ([], None),
        (None, None),
    ],
    ids=[
        "primary-ml",
        "no-ml-category",
        "cs-cross-list",
        "eess-cross-list",
        "stat-cross-list",
        "physics-cross-list",
        "q-bio-cross-list",
        "empty",
        "none",
    ],
)
def test_categories_decide_unless_a_computing_paper_is_only_cross_listed_to_ml(categories, decision):
    assert category_decision(categories) is decision


def test_the_primary_category_comes_first_whatever_order_the_source_lists_them_in():
    assert primary_first(["stat.ML", "hep-ph"], "hep-ph") == ["hep-ph", "stat.ML"]
    assert category_decision(primary_first(["stat.ML", "cs.RO"], "cs.RO")) is None  # ML only as a cross-list
    assert primary_first(["cs.CL"], None) == ["cs.CL"] and primary_first(None, None) == []


def test_the_text_classifier_scores_ml_above_physics_and_decides_without_categories():
    physics, ml = ml_scores([PHYSICS[0], ML[0]], [PHYSICS[1], ML[1]])
    assert ml > physics
    assert (is_ml(None, physics), is_ml(None, ml)) == (False, True)
    assert is_ml(["hep-ex"], ml) is False and is_ml(["cs.CL"], physics) is True  # categories win over the text
    # a computing cross-list: the text decides
    assert is_ml(["eess.SP", "cs.LG"], ml) is True and is_ml(["eess.SP", "cs.LG"], physics) is False
    assert is_ml(["physics.data-an", "cs.LG"], ml) is False  # ML as a cross-list of another field's paper: not ML


def test_a_rejected_paper_keeps_only_unambiguous_gazetteer_names():
    index = {"gpt4": ("GPT-4", "MODEL"), "accuracy": ("accuracy", "METRIC"), "imagenet": ("ImageNet", "DATASET")}
    mentions = [
        ("GPT-4", "MODEL", "GPT-4", 0, 5),
        ("accuracy", "METRIC", "accuracy", 10, 18),
        ("Zorb", "METHOD", "Zorb", 20, 24),
        ("ImageNet", "DATASET", "ImageNet", 30, 38),
    ]
    (score, decision, kept), = gate_papers([mentions], [["hep-ph"]], ["t"], ["a"], index)
    assert decision is False and isinstance(score, float)
    assert kept == [mentions[0], mentions[3]]
    (_, decision, kept), = gate_papers([mentions], [["cs.CL"]], ["t"], ["a"], index)
    assert decision is True and kept == mentions


R = date(2026, 11, 30)


def gated_spans(pid, chash, entity, ml, score):
    return [{**row, "is_ml": ml, "ml_score": score} for row in spans(pid, chash, (entity, "METHOD", 0))]


def write_verdicts(lake, source, day, verdicts) -> str:
    """The tagged sidecar of a new run with the gate's verdicts, as (paper_id, content_hash, ml_score, is_ml); returns
    the run id."""
    from paperlake.lake import TAGGED_MANIFEST

    run_id = new_run_id()
    papers = [
        {"paper_id": p, "content_hash": h, "categories": [], "ml_score": score, "is_ml": ml}
        for p, h, score, ml in verdicts
    ]
    lake.write_json("entities", source, day, TAGGED_MANIFEST, {"tagger_version": "test", "verdicts": papers}, run_id)
    return run_id


def write_old_entities(lake, source, day, rows) -> str:
    """An entities table as tagged before the gate existed (no ml_score / is_ml columns); returns its run id."""
    run_id = new_run_id()
    old_schema = pa.schema([f for f in ENTITIES if f.name not in {"ml_score", "is_ml"}])
    with lake.store.writing(lake.run_key("entities", source, day, run_id)) as path:
        pq.write_table(pa.Table.from_pylist(rows, schema=old_schema), path)
    return run_id


def test_trends_count_only_papers_the_gate_takes_for_ml_and_old_partitions_still_read(lake, settings):
    """p1, p2 (ML) and p3, p4 (rejected) mention one entity each in the recent window; p5 sits in a partition
    tagged before the gate (no gate columns), which counts as before."""
    day, old_day = R, R - timedelta(days=1)
    rows = [*gated_spans("p1", "h1", "LoRA", True, 0.9), *gated_spans("p2", "h2", "LoRA", True, 0.8),
            *gated_spans("p3", "h3", "GeV", False, 0.1), *gated_spans("p4", "h4", "GeV", False, 0.05)]
    run_id = write_verdicts(
        lake,
        "arxiv",
        day,
        [("p1", "h1", 0.9, True), ("p2", "h2", 0.8, True), ("p3", "h3", 0.1, False), ("p4", "h4", 0.05, False)],
    )
    commit_tables(
        lake,
        "arxiv",
        day,
        entities=table(rows, ENTITIES),
        run_id=run_id,
        clean=table([paper(p, 1, f"Title {p}.", f"h{p[1]}", upvotes=5) for p in ("p1", "p2", "p3", "p4")], CLEAN),
    )
    run_id = write_old_entities(lake, "arxiv", old_day, spans("p5", "h5", ("LoRA", "METHOD", 0)))
    commit_tables(lake, "arxiv", old_day, clean=table([paper("p5", 1, "Title p5.", "h5")], CLEAN), run_id=run_id)

    build_marts(lake, settings)
    con = duckdb.connect(str(local_marts_path(lake, settings)), read_only=True)
    trending = con.execute("SELECT entity_id, recent_papers FROM trending_entities ORDER BY rank").fetchall()
    papers = {
        pid: (score, ml) for pid, score, ml in con.execute("SELECT paper_id, ml_score, is_ml FROM papers").fetchall()
    }
    trending_papers = {r[0] for r in con.execute("SELECT paper_id FROM trending_papers").fetchall()}
    daily = con.execute("SELECT date, entity_id, n_papers FROM entity_daily ORDER BY date, entity_id").fetchall()
    assert trending == [("LoRA", 3)]
    # the trend series too: the rejected papers' GeV is not in it
    assert daily == [
        (old_day, "LoRA", 1),
        (day, "LoRA", 2),
    ]
    # p5: no verdict, counts as ML
    assert (papers["p1"], papers["p3"], papers["p5"]) == (
        (0.9, True),
        (0.1, False),
        (None, None),
    )
    assert trending_papers == {"p1", "p2", "p5"}


def test_a_rejected_paper_with_no_entity_row_shows_its_verdict_and_does_not_trend(lake, settings):
    """p3 is upvoted and rejected by the gate, and kept no entity: its verdict comes from the tagged sidecar."""
    run_id = write_verdicts(lake, "hf", R, [("p1", "h1", 0.9, True), ("p3", "h3", 0.1, False)])
    commit_tables(
        lake,
        "hf",
        R,
        entities=table(gated_spans("p1", "h1", "LoRA", True, 0.9), ENTITIES),
        run_id=run_id,
        clean=table(
            [paper("p1", 1, "Title p1.", "h1", upvotes=5), paper("p3", 1, "Title p3.", "h3", upvotes=50)], CLEAN
        ),
    )

    build_marts(lake, settings)
    con = duckdb.connect(str(local_marts_path(lake, settings)), read_only=True)
    papers = {
        pid: (score, ml) for pid, score, ml in con.execute("SELECT paper_id, ml_score, is_ml FROM papers").fetchall()
    }
    assert papers == {"p1": (0.9, True), "p3": (0.1, False)}
    assert {r[0] for r in con.execute("SELECT paper_id FROM trending_papers").fetchall()} == {"p1"}


def test_a_partition_whose_tagged_sidecar_is_over_16_mb_still_builds(lake, settings):
    """90,000 verdicts (~18 MB of JSON): more than DuckDB's default maximum JSON object size (16 MB)."""
    verdicts = [(f"2401.{i:05d}", f"{i:064x}", 0.5, True) for i in range(90_000)]
    run_id = write_verdicts(lake, "oai", R, verdicts)
    commit_tables(lake, "oai", R, run_id=run_id)
    assert lake.store.stat(lake.run_key("entities", "oai", R, run_id, "tagged.json"))[0] > 16 * 2**20
    build_marts(lake, settings)
    con = duckdb.connect(str(local_marts_path(lake, settings)), read_only=True)
    assert con.execute("SELECT count(*) FROM state.verdicts").fetchone() == (90_000,)


def test_the_real_corpus_report_names_the_half_it_read():
    from paperlake.tagging.training.evaluate import GATES, format_real_corpus

    mention = ("GPT-4", "MODEL", "GPT-4", 0, 5)
    fields = {
        "physics": {gate: [[mention], []] for gate in GATES},
        "ML: cs.LG/CL/CV/AI": {gate: [[mention]] for gate in GATES},
    }
    assert "(training half)" in format_real_corpus("rules only", fields, "train")
    report = format_real_corpus("rules only", fields)
    assert "(evaluation half)" in report and "physics                      2            0.500" in report
