import math
from datetime import date
from pathlib import Path

import duckdb
import pytest

from paperlake.commit import commit_prefix, committed_run, new_run_id
from paperlake.marts.builder import build_marts
from paperlake.marts.published import local_marts_path
from paperlake.schemas import CLEAN, ENTITIES, QUARANTINE
from tests.support.lake_runs import commit_tables, paper, spans, table

D1, D2 = date(2026, 11, 1), date(2026, 11, 2)


@pytest.fixture
def two_day_lake(lake):
    """p1 is revised on day 2 (new text); p2 appears in arxiv on day 1 and in hf_daily on day 2."""
    p2_spans = [("MMLU", "DATASET", 5), ("MMLU", "DATASET", 40), ("accuracy", "METRIC", 60)]
    commit_tables(
        lake, "arxiv", D1, clean=table([paper("p1", 1, "Old title", "h1"), paper("p2", 1, "Second", "h2")], CLEAN),
        entities=table(spans("p1", "h1", ("BERT", "MODEL", 0)) + spans("p2", "h2", *p2_spans), ENTITIES),
    )
    commit_tables(
        lake, "arxiv", D2, clean=table([paper("p1", 2, "New title", "h3")], CLEAN),
        entities=table(spans("p1", "h3", ("GPT-4", "MODEL", 0), ("MMLU", "DATASET", 10)), ENTITIES),
    )
    commit_tables(
        lake,
        "hf_daily",
        D2,
        clean=table([paper("p2", 1, "Second", "h2", upvotes=7)], CLEAN),
        entities=table(spans("p2", "h2", *p2_spans), ENTITIES),
    )
    return lake


def query(path, sql):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_papers_one_row_per_id_latest_version_with_first_and_last_seen(two_day_lake, settings):
    summary = build_marts(two_day_lake, settings)
    path = local_marts_path(two_day_lake, settings)
    assert {t: summary.tables[t] for t in ("papers", "paper_entities", "entity_counts")} == {
        "papers": 2,
        "paper_entities": 4,
        "entity_counts": 3,
    }
    assert query(
        path, "SELECT paper_id, version, title, first_seen, last_seen, sources, upvotes FROM papers ORDER BY 1"
    ) == [
        ("p1", 2, "New title", D1, D2, ["arxiv"], None),
        ("p2", 1, "Second", D1, D2, ["arxiv", "hf_daily"], 7),
    ]


def test_paper_entities_count_the_current_text_once_across_sources(two_day_lake, settings):
    build_marts(two_day_lake, settings)
    path = local_marts_path(two_day_lake, settings)
    assert query(
        path, "SELECT paper_id, entity_id, label, mentions, first_offset, first_seen FROM paper_entities ORDER BY 1, 5"
    ) == [
        ("p1", "GPT-4", "MODEL", 1, 0, D1),  # the paper's first_seen, though these spans are on its day-2 text
        ("p1", "MMLU", "DATASET", 1, 10, D1),
        ("p2", "MMLU", "DATASET", 2, 5, D1),
        ("p2", "accuracy", "METRIC", 1, 60, D1),
    ]
    assert query(path, "SELECT entity_id, n_papers, n_mentions FROM entity_counts ORDER BY 2 DESC, 1") == [
        ("MMLU", 2, 3), ("GPT-4", 1, 1), ("accuracy", 1, 1),
    ]


def test_an_empty_lake_builds_empty_marts(lake, settings):
    tables = build_marts(lake, settings).tables
    assert set(tables) == {"papers", "paper_entities", "entity_counts", "entities", "entity_daily", "trending_entities",
                           "trending_papers", "entity_cooccurrence", "pipeline_health", "quarantine"}
    assert set(tables.values()) == {0}


def test_publish_replaces_the_file_and_open_readers_keep_the_old_one(two_day_lake, settings):
    build_marts(two_day_lake, settings)
    path = local_marts_path(two_day_lake, settings)
    reader = duckdb.connect(str(path), read_only=True)
    commit_tables(two_day_lake, "arxiv", date(2026, 11, 3), clean=table([paper("p3", 1, "Third", "h4")], CLEAN))
    build_marts(two_day_lake, settings)
    assert reader.execute("SELECT count(*) FROM papers").fetchone() == (2,)
    reader.close()
    assert query(path, "SELECT count(*) FROM papers") == [(3,)]
    assert sorted(p.name for p in path.parent.iterdir() if p.is_file()) == ["paperlake.duckdb"]


def test_missing_marts_is_a_clear_error(lake, settings):
    with pytest.raises(FileNotFoundError, match="no marts at .*paperlake marts"):
        local_marts_path(lake, settings)


R = date(2026, 11, 30)


def days_before(n: int) -> date:
    from datetime import timedelta

    return R - timedelta(days=n)


@pytest.fixture
def trend_lake(lake):
    """Nine papers over five weeks (R = 2026-11-30); numbers below are worked out by hand.

    recent window R-6..R, baseline R-34..R-7:
      MMLU  recent p1 p2, baseline p3          -> lift (2/7)/((1+1)/28) = 4.0
      LoRA  recent p2 p4, baseline none        -> lift (2/7)/(1/28)     = 8.0
      BLEU  recent p5 p6, baseline p3 p7 p8    -> lift (2/7)/(4/28)     = 2.0
      GPT-4 recent p1 only                     -> below the minimum support of 2
      Old   only on R-35                       -> outside both windows
    """
    papers = {  # paper_id: (days before R, upvotes, entities)
        "p1": (0, 10, ["MMLU", "GPT-4"]), "p2": (1, None, ["MMLU", "LoRA"]), "p3": (20, None, ["MMLU", "BLEU"]),
        "p4": (5, 0, ["LoRA"]), "p5": (6, None, ["BLEU"]), "p6": (6, 3, ["BLEU"]), "p7": (29, None, ["BLEU"]),
        "p8": (34, None, ["BLEU"]), "p9": (35, None, ["Old"]),
    }
    labels = {"MMLU": "DATASET", "GPT-4": "MODEL", "LoRA": "METHOD", "BLEU": "METRIC", "Old": "MODEL"}
    by_day: dict[date, list] = {}
    for pid, (back, upvotes, ents) in papers.items():
        by_day.setdefault(days_before(back), []).append((pid, upvotes, ents))
    for day, items in by_day.items():
        rows = [
            s
            for pid, _, ents in items
            for s in spans(pid, f"h{pid}", *[(e, labels[e], 10 * i) for i, e in enumerate(ents)])
        ]
        commit_tables(
            lake, "arxiv", day, entities=table(rows, ENTITIES),
            clean=table([paper(pid, 1, f"Title {pid}. More.", f"h{pid}", upvotes) for pid, upvotes, _ in items], CLEAN),
        )
    return lake


def test_trending_entities_rank_by_smoothed_lift_with_minimum_support(trend_lake, settings):
    build_marts(trend_lake, settings)
    rows = query(
        local_marts_path(trend_lake, settings),
        "SELECT reference_date, entity_id, recent_papers, baseline_papers, lift, rank FROM trending_entities ORDER BY "
        "rank",
    )
    assert rows == [(R, "LoRA", 2, 0, 8.0, 1), (R, "MMLU", 2, 1, 4.0, 2), (R, "BLEU", 2, 3, 2.0, 3)]


def test_trending_papers_add_upvotes_and_entity_momentum(trend_lake, settings):
    build_marts(trend_lake, settings)
    rows = query(
        local_marts_path(trend_lake, settings),
        "SELECT paper_id, score, trending_entities, first_sentence, rank FROM trending_papers ORDER BY rank",
    )
    assert rows == [
        ("p2", 12.0, ["LoRA", "MMLU"], "abstract of Title p2.", 1),
        ("p4", 8.0, ["LoRA"], "abstract of Title p4.", 2),
        ("p1", round(math.log(11) + 4.0, 4), ["MMLU"], "abstract of Title p1.", 3),
        ("p6", round(math.log(4) + 2.0, 4), ["BLEU"], "abstract of Title p6.", 4),
        ("p5", 2.0, ["BLEU"], "abstract of Title p5.", 5),
    ]


def test_trending_papers_include_an_old_paper_listed_again_this_week(trend_lake, settings):
    """p9, first seen 35 days before R, is listed again on R by Hugging Face with 50 upvotes: it is a recent paper
    (last seen R) and ranks by its upvotes, in the full build and in the incremental one that adds the listing."""
    build_marts(trend_lake, settings)
    commit_tables(
        trend_lake, "hf_daily", R, clean=table([paper("p9", 1, "Title p9. More.", "hp9", 50)], CLEAN),
        entities=table(spans("p9", "hp9", ("Old", "MODEL", 0)), ENTITIES),
    )
    ranked = "SELECT paper_id, upvotes, score, trending_entities, rank FROM trending_papers ORDER BY rank"
    expected = [
        ("p2", None, 12.0, ["LoRA", "MMLU"], 1),
        ("p4", 0, 8.0, ["LoRA"], 2),
        ("p1", 10, round(math.log(11) + 4.0, 4), ["MMLU"], 3),
        ("p9", 50, round(math.log(51), 4), [], 4),
        ("p6", 3, round(math.log(4) + 2.0, 4), ["BLEU"], 5),
        ("p5", None, 2.0, ["BLEU"], 6),
    ]
    build_marts(trend_lake, settings)
    assert query(local_marts_path(trend_lake, settings), ranked) == expected
    build_marts(trend_lake, settings, full=True)
    assert query(local_marts_path(trend_lake, settings), ranked) == expected


def test_entity_daily_and_entities(trend_lake, settings):
    build_marts(trend_lake, settings)
    path = local_marts_path(trend_lake, settings)
    assert query(path, "SELECT date, n_papers FROM entity_daily WHERE entity_id = 'BLEU' ORDER BY date") == [
        (days_before(34), 1), (days_before(29), 1), (days_before(20), 1), (days_before(6), 2),
    ]
    assert query(
        path,
        "SELECT entity_id, label, canonical_name, aliases_seen, n_papers, first_seen, last_seen FROM entities WHERE "
        "entity_id IN ('BLEU', 'MMLU') ORDER BY 1",
    ) == [
        ("BLEU", "METRIC", "BLEU", ["BLEU"], 5, days_before(34), days_before(6)),
        ("MMLU", "DATASET", "MMLU", ["MMLU"], 3, days_before(20), R),
    ]


def test_cooccurrence_pmi_over_papers_with_entities(trend_lake, settings):
    build_marts(trend_lake, settings)
    rows = query(
        local_marts_path(trend_lake, settings),
        "SELECT other_entity_id, n_papers, pmi, rank FROM entity_cooccurrence WHERE entity_id = 'MMLU' ORDER BY rank",
    )
    # 9 papers with entities; MMLU in 3, GPT-4 in 1, LoRA in 2, BLEU in 5; each pair in one paper
    assert rows == [
        ("GPT-4", 1, round(math.log(9 / 3), 4), 1),
        ("LoRA", 1, round(math.log(9 / 6), 4), 2),
        ("BLEU", 1, round(math.log(9 / 15), 4), 3),
    ]


def test_cooccurrence_is_stored_on_keys_and_named_where_it_is_read(trend_lake, settings):
    """The ranking, rewritten each build as PMI moves, is stored on entity keys; the mart is a view naming them (also
    for a reader that attaches the file under another name, as the shell and the search index do)."""
    build_marts(trend_lake, settings)
    path = local_marts_path(trend_lake, settings)
    assert query(path, "SELECT table_type FROM information_schema.tables WHERE table_name = 'entity_cooccurrence'") == [
        ("VIEW",)
    ]
    assert query(
        path, "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'cooccurrence' AND data_type = 'VARCHAR'"
    ) == [(0,)]
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{path}' AS other (READ_ONLY)")
        assert con.execute(
            "SELECT other_entity_id FROM other.entity_cooccurrence WHERE entity_id = 'MMLU' ORDER BY rank"
        ).fetchall() == [("GPT-4",), ("LoRA",), ("BLEU",)]


def test_cooccurrence_ties_on_papers_together_go_to_the_partner_with_fewer_papers(lake, settings):
    """Among partners sharing as many papers with an entity, exact PMI ranks the one with fewer papers first, also where
    the PMIs shown (4 decimals) are equal: Focus shares one paper with Zebra (20,000 papers) and one with Aardvark
    (20,001), PMI 0.00005 and 0, both shown as 0.0."""
    rows = [paper(f"q{i}", 1, f"Q{i}", f"h{i}") for i in range(20_001)]
    found = [
        s
        for i in range(20_001)
        for s in spans(
            f"q{i}", f"h{i}", ("Aardvark", "MODEL", 0), *([("Zebra", "MODEL", 10)] if i < 20_000 else []),
            *([("Focus", "METHOD", 20)] if i == 0 else []),
        )
    ]
    commit_tables(lake, "arxiv", D1, clean=table(rows, CLEAN), entities=table(found, ENTITIES))
    build_marts(lake, settings)
    assert query(
        local_marts_path(lake, settings),
        "SELECT other_entity_id, n_papers, pmi, rank FROM entity_cooccurrence WHERE entity_id = 'Focus' ORDER BY rank",
    ) == [("Zebra", 1, 0.0, 1), ("Aardvark", 1, 0.0, 2)]


def test_an_added_day_re_ranks_only_the_entities_whose_partners_it_reorders(trend_lake, settings):
    """Four more papers on LoRA alone: no pair changes, but LoRA (now 6 papers) passes BLEU (5) among MMLU's partners
    sharing one paper with it, so MMLU is re-ranked; GPT-4's ranking (MMLU alone) is left as stored, a marker written
    into it survives, while its PMI follows the new total of papers."""
    build_marts(trend_lake, settings)
    path = local_marts_path(trend_lake, settings)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "UPDATE state.cooccurrence SET n_papers = 7 "
            "WHERE entity_key IN (hash('GPT-4', 'MODEL'), hash('MMLU', 'DATASET'))"
        )
    lora = [paper(f"l{i}", 1, f"L{i}", f"hl{i}") for i in range(4)]
    lora_spans = [s for p in lora for s in spans(p["paper_id"], p["content_hash"], ("LoRA", "METHOD", 0))]
    commit_tables(trend_lake, "hf_daily", R, clean=table(lora, CLEAN), entities=table(lora_spans, ENTITIES))
    assert build_marts(trend_lake, settings).build == "incremental"
    ranking = "SELECT other_entity_id, n_papers, pmi, rank FROM entity_cooccurrence WHERE entity_id = '{}' ORDER BY 4"
    # 13 papers with entities: MMLU in 3, GPT-4 in 1, BLEU in 5, LoRA in 6
    assert query(path, ranking.format("MMLU")) == [
        ("GPT-4", 1, round(math.log(13 / 3), 4), 1),
        ("BLEU", 1, round(math.log(13 / 15), 4), 2),
        ("LoRA", 1, round(math.log(13 / 18), 4), 3),
    ]
    assert query(path, ranking.format("GPT-4")) == [("MMLU", 7, round(math.log(7 * 13 / 3), 4), 1)]


def test_pipeline_health_per_source_and_date(lake, settings):
    from paperlake.lake import RawPage
    from paperlake.schemas import PARSED, QUARANTINE

    day = date(2026, 10, 1)
    rows = [paper("q1", 1, "Q1", "hq1"), paper("q2", 1, "Q2", "hq2"), paper("q3", 1, "Q3", "hq3")]
    commit = commit_tables(
        lake,
        "hf_daily",
        day,
        pages=[
            RawPage(name="a.json", body=b"[1]", url="u", fetched_at="2026-10-02T06:00:00+00:00"),
            RawPage(name="b.json", body=b"[22]", url="u", fetched_at="2026-10-02T06:00:01+00:00"),
        ],
        parsed=table(rows, PARSED),
        clean=table(rows[:2], CLEAN),
        quarantine=table(
            [{**rows[2], "record_index": 2, "reason_codes": ["abstract_length", "not_english"], "reasons": ["a", "b"]}],
            QUARANTINE,
        ),
        entities=table(spans("q1", "hq1", ("BLEU", "METRIC", 0), ("F1", "METRIC", 9)), ENTITIES),
        # a result as validation wrote it before issue 25: Airflow's id as its run_id (the lake's run is in the file
        # name)
        validation={
            "source": "hf_daily",
            "date": "2026-10-01",
            "gx_success": False,
            "run_id": "scheduled__2026-10-01",
            "suite_version": "3",
        },
    )
    build_marts(lake, settings)
    assert query(local_marts_path(lake, settings), "SELECT * FROM pipeline_health") == [
        ("hf_daily", day, 2, 7, "2026-10-02T06:00:01+00:00", 3, 2, 1, {"abstract_length": 1, "not_english": 1}, 2, 1,
         False, commit.run_id, "scheduled__2026-10-01"),
    ]
    assert query(
        local_marts_path(lake, settings),
        "SELECT source, date, record_index, paper_id, reason_codes, reasons FROM quarantine",
    ) == [
        ("hf_daily", day, 2, "q3", ["abstract_length", "not_english"], ["a", "b"]),
    ]


def test_pipeline_health_names_the_lake_run_and_the_airflow_run_each_under_its_own_name(lake, settings):
    """As validation writes its result now: `run_id` the lake's run, `airflow_run_id` Airflow's (none for a CLI run)."""
    for source, airflow_run_id in (("arxiv", "scheduled__2026-10-01T00:00:00+00:00"), ("hf_daily", None)):
        run_id = new_run_id()
        commit_tables(lake, source, date(2026, 10, 1), run_id=run_id, clean=table([paper("p", 1, "P", "hp")], CLEAN),
                      validation={"gx_success": True, "run_id": run_id, "airflow_run_id": airflow_run_id})
    build_marts(lake, settings)
    rows = query(
        local_marts_path(lake, settings), "SELECT source, run_id, airflow_run_id FROM pipeline_health ORDER BY source"
    )
    runs = {source: committed_run(lake, source, date(2026, 10, 1)) for source in ("arxiv", "hf_daily")}
    assert rows == [
        ("arxiv", runs["arxiv"], "scheduled__2026-10-01T00:00:00+00:00"),
        ("hf_daily", runs["hf_daily"], None),
    ]


def test_every_mart_is_exported_as_a_delta_table_that_plain_parquet_readers_also_read(trend_lake, settings):
    import pyarrow.parquet as pq
    from deltalake import DeltaTable

    summary = build_marts(trend_lake, settings)
    for name, rows in summary.tables.items():
        assert DeltaTable(trend_lake.uri(f"marts/{name}")).to_pyarrow_table().num_rows == rows
        assert pq.read_table(trend_lake.uri(f"marts/{name}")).num_rows == rows  # no file beside the current version's
    assert {path.split("/")[0] for path in export_files_on_disk(trend_lake)["entity_daily"]} == {
        f"date={day:%Y-%m-%d}" for day in (days_before(n) for n in (0, 1, 5, 6, 20, 29, 34, 35))
    }
    assert len(list(Path(trend_lake.uri("marts/entities")).glob("*.parquet"))) == 1


def test_a_full_build_checkpoints_every_export_at_the_version_it_wrote(two_day_lake, settings):
    """An update opens each export from the full build's checkpoint, not by replaying its log's add actions."""
    import json

    from deltalake import DeltaTable

    build_marts(two_day_lake, settings)
    for mart in MARTS:
        log = Path(two_day_lake.uri(f"marts/{mart}")) / "_delta_log"
        version = DeltaTable(two_day_lake.uri(f"marts/{mart}")).version()
        assert json.loads((log / "_last_checkpoint").read_text())["version"] == version, mart
        assert (log / f"{version:020d}.checkpoint.parquet").is_file(), mart


def export_files(lake) -> dict:
    """mart -> the Parquet files of its export's current version (relative to the table), and the version."""
    from deltalake import DeltaTable

    tables = {mart: DeltaTable(lake.uri(f"marts/{mart}")) for mart in MARTS}
    return {
        mart: (table.version(), set(table.get_add_actions(flatten=True).column("path").to_pylist()))
        for mart, table in tables.items()
    }


def test_an_added_day_commits_only_the_export_partitions_it_touches_as_one_version(two_day_lake, settings):
    build_marts(two_day_lake, settings)
    before = export_files(two_day_lake)
    commit_tables(
        two_day_lake,
        "arxiv",
        D3,
        clean=table([paper("p3", 1, "Third", "h4")], CLEAN),
        entities=table(spans("p3", "h4", ("BERT", "MODEL", 0)), ENTITIES),
    )
    assert build_marts(two_day_lake, settings).build == "incremental"
    after = export_files(two_day_lake)
    for mart in ("papers", "paper_entities", "entity_daily", "pipeline_health"):
        column = "date" if mart in ("entity_daily", "pipeline_health") else "first_seen"
        (_, old), (_, new) = before[mart], after[mart]
        assert old <= new and {path.split("/")[0] for path in new - old} == {f"{column}=2026-11-03"}, mart
    for mart in (
        "entity_counts", "entities", "trending_entities", "trending_papers", "entity_cooccurrence", "quarantine"
    ):
        assert not after[mart][1] & before[mart][1], mart
    # one version each (the replaced files are deleted without a vacuum's two log entries) ...
    assert {mart: version for mart, (version, _) in after.items()} == {
        mart: version + 1 for mart, (version, _) in before.items()
    }
    # ... and what is left on disk is exactly the current versions' files
    assert export_files_on_disk(two_day_lake) == {mart: files for mart, (_, files) in after.items()}


def export_files_on_disk(lake) -> dict:
    """mart -> the Parquet files in its export's folder (relative to the table)."""
    return {
        mart: {p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet") if "_delta_log" not in p.parts}
        for mart, folder in ((mart, Path(lake.uri(f"marts/{mart}"))) for mart in MARTS)
    }


def test_an_added_day_deletes_replaced_export_files_in_the_partitions_it_rewrote_and_its_rerun_after_a_kill(
    two_day_lake, settings, monkeypatch
):
    """A build killed between an export's write and its deletes leaves the replaced files: its rerun (which rewrites the
    same partitions) deletes them. The folders of partitions it did not rewrite are not looked into: a file there that
    no version names stays."""
    from paperlake.marts import builder

    build_marts(two_day_lake, settings)
    untouched = Path(two_day_lake.uri("marts/papers")) / "first_seen=2026-11-01"
    stray = untouched / "not-named-by-the-table.parquet"
    stray.write_bytes((next(untouched.glob("part-*.parquet"))).read_bytes())
    commit_tables(two_day_lake, "arxiv", D3, clean=table([paper("p3", 1, "Third", "h4")], CLEAN))

    def killed(*args):
        raise RuntimeError("killed after the write")

    with monkeypatch.context() as patched:
        patched.setattr(builder, "delete_replaced_files", killed)
        with pytest.raises(RuntimeError, match="killed after the write"):
            build_marts(two_day_lake, settings)
    assert build_marts(two_day_lake, settings).build == "incremental"
    current = {mart: files for mart, (_, files) in export_files(two_day_lake).items()}
    assert export_files_on_disk(two_day_lake) == current | {
        "papers": current["papers"] | {"first_seen=2026-11-01/not-named-by-the-table.parquet"}
    }


MARTS = (
    "papers",
    "paper_entities",
    "entity_counts",
    "entities",
    "entity_daily",
    "trending_entities",
    "trending_papers",
    "entity_cooccurrence",
    "pipeline_health",
    "quarantine",
)


def mart_rows(path) -> dict:
    """Every mart's column types and rows, sorted."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            t: (con.execute(f"DESCRIBE {t}").fetchall(), con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall())
            for t in MARTS
        }


def exported_rows(lake) -> dict:
    """Every mart's rows as the current version of its Delta export holds them, sorted."""
    from deltalake import DeltaTable

    with duckdb.connect() as con:
        rows = {}
        for t in MARTS:
            con.register("export", DeltaTable(lake.uri(f"marts/{t}")).to_pyarrow_table())
            rows[t] = con.execute("SELECT * FROM export ORDER BY ALL").fetchall()
        return rows


def marts_as_exported(path) -> dict:
    """Every mart's rows, sorted."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in MARTS}


def full_build_rows(lake, tmp_path) -> dict:
    """The marts a full build makes of a copy of the lake (its published marts left alone)."""
    import shutil

    from paperlake.config import Settings
    from paperlake.lake import Lake

    home = tmp_path / f"full-{len(list(tmp_path.glob('full-*')))}"
    shutil.copytree(lake.uri("."), home / "lake", ignore=shutil.ignore_patterns("marts"))
    settings = Settings.from_env({"PAPERLAKE_HOME": str(home)})
    copy = Lake.from_settings(settings)
    assert build_marts(copy, settings, full=True).build == "full"
    return mart_rows(local_marts_path(copy, settings)), exported_rows(copy)


D0, D3 = date(2026, 10, 31), date(2026, 11, 3)
LABELS = {
    "BERT": "MODEL",
    "GPT-4": "MODEL",
    "MMLU": "DATASET",
    "GSM8K": "DATASET",
    "accuracy": "METRIC",
    "F1": "METRIC",
    "LoRA": "METHOD",
}


def tagged(pid, version, chash, entities, upvotes=None, alias=None):
    """A clean row and its spans: each entity once, at offsets 0, 10, 20, ... (`alias` spells the first one
    differently)."""
    found = [{**s, "text": alias or s["text"]} if i == 0 else s
             for i, s in enumerate(spans(pid, chash, *[(e, LABELS[e], 10 * i) for i, e in enumerate(entities)]))]
    return paper(pid, version, f"Title {pid} {chash}. More.", chash, upvotes), found


def commit_papers(lake, source, day, *papers, quarantined=()):
    rows = [p for p, _ in papers]
    quarantine = [
        {**paper(pid, 1, pid, f"q{pid}"), "record_index": i, "reason_codes": ["not_english"], "reasons": ["?"]}
        for i, pid in enumerate(quarantined)
    ]
    return commit_tables(
        lake,
        source,
        day,
        clean=table(rows, CLEAN),
        entities=table([s for _, found in papers for s in found], ENTITIES),
        quarantine=table(quarantine, QUARANTINE),
    )


def test_incremental_builds_equal_a_full_build_mart_for_mart(lake, settings, tmp_path):
    """Add day 1, add day 2, reprocess day 1 with new content, add day 3, lose a partition: after each build the
    published marts equal a full build of the same lake, row for row; paths exercised: revisions, re-listings (current
    row kept), a paper whose current row moves to an untouched partition, pairs and entities lost, windows moving."""
    steps = [
        lambda: (
            commit_papers(
                lake,
                "arxiv",
                D1,
                tagged("p1", 1, "h1", ["BERT", "MMLU", "GSM8K"]),
                tagged("p2", 1, "h2", ["MMLU", "accuracy"]),
                tagged("p3", 1, "h3", ["LoRA", "BERT"]),
            ),
            commit_papers(lake, "hf_daily", D1, tagged("p2", None, "h2", ["MMLU", "accuracy"], upvotes=5)),
        ),
        lambda: (
            commit_papers(
                lake,
                "arxiv",
                D2,
                tagged("p1", 2, "h1b", ["GPT-4", "MMLU"]),
                tagged("p4", 1, "h4", ["LoRA", "GSM8K", "accuracy"]),
            ),
            commit_papers(lake, "hf_daily", D2, tagged("p3", None, "h3", ["LoRA", "BERT"], upvotes=9, alias="lora")),
        ),
        lambda: commit_papers(
            lake,
            "arxiv",
            D1,
            tagged("p1", 1, "h1", ["BERT", "MMLU", "GSM8K"]),
            tagged("p2", 2, "h2b", ["MMLU", "F1"]),
            tagged("p5", 1, "h5", ["BERT"]),
            quarantined=["p3"],
        ),
        lambda: (
            commit_papers(lake, "arxiv", D3, tagged("p6", 1, "h6", ["MMLU", "F1", "accuracy"])),
            commit_papers(lake, "hf_daily", D3, tagged("p4", None, "h4", ["LoRA", "GSM8K", "accuracy"], upvotes=3)),
        ),
        # p4 re-listed on an earlier date: its row is kept, its first_seen moves back
        lambda: commit_papers(lake, "hf_daily", D0, tagged("p4", None, "h4", ["LoRA", "GSM8K", "accuracy"], upvotes=2)),
        lambda: lake.store.delete(lake.store.list(commit_prefix("hf_daily", D2))),  # a partition no longer committed
        lambda: lake.store.delete(
            lake.store.list(commit_prefix("arxiv", D3)) + lake.store.list(commit_prefix("hf_daily", D3))
        ),  # a date gone
        lambda: commit_papers(lake, "arxiv", D3, tagged("p6", 1, "h6", ["MMLU", "F1"])),  # and back
    ]
    for number, step in enumerate(steps):
        step()
        summary = build_marts(lake, settings)
        assert summary.build == ("full" if number == 0 else "incremental")
        published = local_marts_path(lake, settings)
        assert (mart_rows(published), exported_rows(lake)) == full_build_rows(lake, tmp_path), (
            f"after step {number + 1}"
        )
        assert exported_rows(lake) == marts_as_exported(published), f"after step {number + 1}"
        papers = {row[0]: row for row in mart_rows(local_marts_path(lake, settings))["papers"][1]}
        if number == 3:
            assert (papers["p3"][1], papers["p3"][15]) == (None, ["hf_daily"])  # its current row moved to hf_daily D2
        if number == 4:
            assert (papers["p4"][1], papers["p4"][13]) == (1, D0)
    incremental = mart_rows(local_marts_path(lake, settings))
    assert build_marts(lake, settings, full=True).build == "full"
    assert mart_rows(local_marts_path(lake, settings)) == incremental
    assert (
        incremental["trending_entities"][1]
        and incremental["entity_cooccurrence"][1]
        and "p3" not in {r[0] for r in incremental["papers"][1]}
    )


def test_incremental_cooccurrence_equals_a_full_build_when_a_top_partner_loses_papers(lake, settings, tmp_path):
    """Hub shares two papers with each of P1..P10 and one with P11 (its only paper): its candidates are P1..P10, P1
    (in one more paper) 10th. A revision drops P1 from one of Hub's papers, so P11 (fewer papers than P1) comes in as
    10th; then P1 returns, and P11 goes again. After each build the marts equal a full build's."""

    def commit_hub_papers(day, dropped=False):
        rows, found = [paper("solo", 1, "solo", "hs")], spans("solo", "hs", ("P1", "MODEL", 0))
        for i in range(1, 12):
            for j in range(1 if i == 11 else 2):
                pid, chash = f"h{i}-{j}", f"h{i}-{j}{'b' if dropped and (i, j) == (1, 0) else ''}"
                rows.append(paper(pid, 2 if dropped and (i, j) == (1, 0) else 1, pid, chash))
                partner = [] if dropped and (i, j) == (1, 0) else [(f"P{i}", "MODEL", 10)]
                found += spans(pid, chash, ("Hub", "METHOD", 0), *partner)
        commit_tables(lake, "arxiv", day, clean=table(rows, CLEAN), entities=table(found, ENTITIES))

    tenth = "SELECT other_entity_id FROM entity_cooccurrence WHERE entity_id = 'Hub' AND rank = 10"
    for number, (dropped, partner) in enumerate([(False, "P1"), (True, "P11"), (False, "P1")]):
        commit_hub_papers(D1, dropped)
        assert build_marts(lake, settings).build == ("full" if number == 0 else "incremental")
        published = local_marts_path(lake, settings)
        assert query(published, tenth) == [(partner,)], f"after step {number + 1}"
        assert mart_rows(published) == full_build_rows(lake, tmp_path)[0], f"after step {number + 1}"


def test_marts_without_a_state_of_this_version_are_rebuilt_in_full(two_day_lake, settings):
    path = two_day_lake.uri("marts/paperlake.duckdb")
    Path(path).parent.mkdir(parents=True)
    with duckdb.connect(path) as con:  # as an earlier builder left it: marts only, exported whole
        con.execute("CREATE TABLE papers AS SELECT 'stale' AS paper_id")
        Path(two_day_lake.uri("marts/papers")).mkdir()
        con.execute(f"COPY papers TO '{two_day_lake.uri('marts/papers/part.parquet')}' (FORMAT parquet)")
    assert build_marts(two_day_lake, settings).build == "full"
    assert query(path, "SELECT paper_id FROM papers ORDER BY 1") == [("p1",), ("p2",)]
    assert exported_rows(two_day_lake)["papers"] == marts_as_exported(path)["papers"]
    assert not Path(
        two_day_lake.uri("marts/papers/part.parquet")
    ).exists()  # the earlier export is replaced, not mixed in


BUILD_CHILD = (
    "import sys\n"
    "from paperlake.config import Settings\n"
    "from paperlake.lake import Lake\n"
    "from paperlake.marts.builder import build_marts\n"
    "settings = Settings.from_env({'PAPERLAKE_HOME': sys.argv[1]})\n"
    "build = build_marts(Lake.from_settings(settings), settings).build\n"
    "print(build, 'pandas' in sys.modules, 'pyarrow' in sys.modules)\n"
)


def test_a_build_does_not_import_pandas_nor_an_update_pyarrow(two_day_lake, settings):
    """Neither a full nor an incremental build binds a parameter or registers an Arrow table (each imports pandas: ~0.25
    s a build); an update exports without pyarrow too (its import: 0.15-0.3 s of an added day)."""
    import subprocess
    import sys

    def build() -> str:
        return subprocess.run(
            [sys.executable, "-c", BUILD_CHILD, str(settings.home)], capture_output=True, text=True, check=True
        ).stdout.split()

    assert build()[:2] == ["full", "False"]
    commit_papers(two_day_lake, "arxiv", D3, tagged("p6", 1, "h6", ["MMLU", "F1"]))
    assert build() == ["incremental", "False", "False"]


def test_an_update_checks_paper_entities_on_the_rows_it_wrote_on_keys(two_day_lake, settings, tmp_path):
    """paper_entities' written rows carry keys only (hashes of paper_id and entity_id, label), and a paper's rows are
    replaced whole: the check counts distinct keys among the rows written, and fails rows written for a paper whose
    earlier rows were kept (not among the affected papers); the mart's other rows are not scanned again."""
    import shutil

    from paperlake.marts.builder import SQL_DIR, MartCheckFailed, check_marts

    build_marts(two_day_lake, settings)
    path = tmp_path / "copy.duckdb"
    shutil.copyfile(local_marts_path(two_day_lake, settings), path)
    with duckdb.connect(str(path)) as con:
        con.execute((SQL_DIR / "keys.sql").read_text())
        con.execute("CREATE TEMP TABLE affected_papers AS SELECT paper_key('p2') AS paper_key")
        written = (
            "SELECT paper_key(paper_id) AS paper_key, entity_key(entity_id, label) AS entity_key "
            "FROM paper_entities WHERE paper_id = '{}'"
        )
        con.execute(f"CREATE TEMP TABLE paper_entities_after AS {written.format('p2')}")
        con.execute("INSERT INTO paper_entities SELECT * FROM paper_entities WHERE paper_id = 'p1' LIMIT 1")
        assert check_marts(con, new=False)["paper_entities"] == 5  # p1's duplicate was not written by this update
        con.execute(f"INSERT INTO paper_entities_after {written.format('p2')} LIMIT 1")
        with pytest.raises(MartCheckFailed, match="paper_entities: 1 duplicate keys"):
            check_marts(con, new=False)
        con.execute(f"CREATE OR REPLACE TEMP TABLE paper_entities_after AS {written.format('p1')}")
        with pytest.raises(MartCheckFailed, match="rows written for papers whose earlier rows were kept"):
            check_marts(con, new=False)


def test_a_build_failing_after_its_steps_leaves_the_exports_as_the_published_marts(two_day_lake, settings, monkeypatch,
                                                                                  tmp_path):
    """A step (or a check, or the checkpoint) failing after every mart was computed exports nothing: the exports stay
    those of the published marts file, also when the day that failed is then retracted and the next build has nothing
    to do."""
    from paperlake.marts import builder

    build_marts(two_day_lake, settings)
    published = marts_as_exported(local_marts_path(two_day_lake, settings))
    commit_papers(two_day_lake, "arxiv", D3, tagged("p3", 1, "h3x", ["BERT"]))
    failing = tmp_path / "13_fails.sql"
    failing.write_text("SELECT error('a step after every mart was computed fails');")
    steps = builder.mart_sql_files()
    with monkeypatch.context() as patched:
        patched.setattr(builder, "mart_sql_files", lambda: [*steps, failing])
        with pytest.raises(builder.MartCheckFailed, match="13_fails.sql failed"):
            build_marts(two_day_lake, settings)

    assert exported_rows(two_day_lake) == published
    two_day_lake.store.delete(two_day_lake.store.list(commit_prefix("arxiv", D3)))  # the day that failed, retracted
    assert build_marts(two_day_lake, settings).build == "unchanged"
    assert exported_rows(two_day_lake) == marts_as_exported(local_marts_path(two_day_lake, settings)) == published


def row_groups(path, table: str) -> int:
    return query(path, f"SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('{table}')")[0][0]


def test_an_update_appends_row_groups_that_an_update_every_few_weeks_merges(two_day_lake, settings, monkeypatch):
    """An update's checkpoint leaves the row groups it did not write alone (merging them cost an added day at 1M papers
    0.3 s); the update after COMPACT_AFTER_UPDATES - 1 that merged none merges them, whatever its dates: here a
    backfill, whose trends stay as of a date that is no multiple of 28 days."""
    from paperlake.marts import builder

    monkeypatch.setattr(builder, "COMPACT_AFTER_UPDATES", 2, raising=False)
    build_marts(two_day_lake, settings)
    path = local_marts_path(two_day_lake, settings)
    assert row_groups(path, "paper_entities") == 1
    commit_papers(two_day_lake, "arxiv", D3, tagged("p6", 1, "h6", ["MMLU", "F1"]))
    assert build_marts(two_day_lake, settings).build == "incremental"
    assert row_groups(path, "paper_entities") == 2
    commit_papers(two_day_lake, "arxiv", date(2026, 10, 20), tagged("p7", 1, "h7", ["BERT"]))  # a backfilled day
    assert build_marts(two_day_lake, settings).build == "incremental"
    assert row_groups(path, "paper_entities") == 1
    commit_papers(two_day_lake, "arxiv", date(2026, 10, 21), tagged("p8", 1, "h8", ["BERT"]))
    assert build_marts(two_day_lake, settings).build == "incremental"
    assert row_groups(path, "paper_entities") == 2  # counted again from that compaction


def test_a_build_with_nothing_new_publishes_nothing(two_day_lake, settings):
    build_marts(two_day_lake, settings)
    published = local_marts_path(two_day_lake, settings).stat()
    summary = build_marts(two_day_lake, settings)
    assert (summary.build, summary.partitions, summary.tables["papers"]) == ("unchanged", 0, 2)
    assert local_marts_path(two_day_lake, settings).stat().st_ino == published.st_ino



def commit_reads(lake, monkeypatch) -> list:
    """The commit documents this lake's store reads from now on."""
    reads, get = [], lake.store.get

    def counted_get(key):
        if key.startswith("_commits/"):
            reads.append(key)
        return get(key)

    monkeypatch.setattr(lake.store, "get", counted_get)
    return reads


def test_an_update_reads_only_the_commits_of_generations_it_has_not_built(
    two_day_lake, settings, monkeypatch, tmp_path
):
    build_marts(two_day_lake, settings)
    reads = commit_reads(two_day_lake, monkeypatch)
    d3 = date(2026, 11, 3)
    commit_tables(  # a rerun of a built partition (its generation 2: BERT gone), and a new day
        two_day_lake, "arxiv", D1, clean=table([paper("p1", 1, "Rerun", "h9"), paper("p2", 1, "Second", "h2")], CLEAN),
        entities=table(spans("p2", "h2", ("MMLU", "DATASET", 5)), ENTITIES),
    )
    commit_tables(two_day_lake, "hf_daily", d3, clean=table([paper("p3", 1, "Third", "h4")], CLEAN))
    reads.clear()
    summary = build_marts(two_day_lake, settings)
    assert (summary.build, summary.partitions) == ("incremental", 2)
    assert sorted(reads) == [
        f"{commit_prefix('arxiv', D1)}/0000000002.json", f"{commit_prefix('hf_daily', d3)}/0000000001.json"
    ]
    path = local_marts_path(two_day_lake, settings)
    assert query(path, "SELECT count(*) FROM entity_daily WHERE entity_id = 'BERT'") == [(0,)]
    assert (mart_rows(path), exported_rows(two_day_lake)) == full_build_rows(two_day_lake, tmp_path)
    reads.clear()
    assert build_marts(two_day_lake, settings).build == "unchanged"
    assert reads == []


def test_touched_export_partitions_read_alike_one_query_each_or_in_one_scan(two_day_lake, settings, monkeypatch):
    from paperlake.marts import builder

    build_marts(two_day_lake, settings)
    export = builder.PARTITIONED_EXPORTS["papers"]
    with duckdb.connect(str(local_marts_path(two_day_lake, settings)), read_only=True) as con:
        def rows(values):
            return sorted(con.execute(builder.partition_rows(export, values)).fetchall())

        one_query_each = rows([D1.isoformat(), D2.isoformat()])
        monkeypatch.setattr(builder, "PARTITION_QUERIES_MAX", 1)
        assert rows([D1.isoformat(), D2.isoformat()]) == one_query_each == sorted(
            con.execute("SELECT * FROM papers").fetchall()
        )
        assert rows([D2.isoformat()]) == []  # both papers were first seen on day 1


def test_a_build_sweeps_the_temp_marts_files_a_killed_build_left_and_keeps_fresh_ones(two_day_lake, settings):
    import os
    import time

    from paperlake.storage import TEMP_FILE_MAX_AGE, TEMP_SUFFIX

    build_marts(two_day_lake, settings)
    published = local_marts_path(two_day_lake, settings)
    old, fresh = (published.with_name(f".{published.name}.{name}{TEMP_SUFFIX}") for name in ("old", "fresh"))
    for leftover in (old, fresh):
        leftover.write_bytes(b"half a build")
    stale_time = time.time() - TEMP_FILE_MAX_AGE.total_seconds() - 60
    os.utime(old, (stale_time, stale_time))
    commit_tables(two_day_lake, "arxiv", date(2026, 11, 4), clean=table([paper("p9", 1, "Ninth", "h9")], CLEAN))
    assert build_marts(two_day_lake, settings).build == "incremental"
    assert (old.exists(), fresh.exists()) == (False, True)


def s3_settings(seaweed, bucket, home):
    """Settings of a lake in a SeaweedFS bucket, with their own home (and so their own marts cache)."""
    from paperlake.config import S3Options, Settings

    env = {"PAPERLAKE_HOME": str(home), "PAPERLAKE_LAKE_URL": f"s3://{bucket}/lake"}
    return Settings.from_env(env)._replace(
        s3=S3Options(seaweed.endpoint_url, seaweed.env["AWS_ACCESS_KEY_ID"], seaweed.env["AWS_SECRET_ACCESS_KEY"]),
    )


def marts_gets(lake) -> list:
    """The GET requests of the marts file this lake's S3 client makes from now on."""
    from paperlake.marts.published import MARTS_KEY

    gets = []
    lake.store.client.meta.events.register(
        "before-parameter-build.s3.GetObject",
        lambda params, **_: gets.append(params["Key"]) if params["Key"].endswith(MARTS_KEY) else None,
    )
    return gets


def test_marts_on_s3_are_downloaded_once_per_published_version(seaweed, s3_bucket, tmp_path):
    from paperlake.lake import Lake

    writer_settings, reader_settings = (
        s3_settings(seaweed, s3_bucket, tmp_path / name) for name in ("writer", "reader")
    )
    writer, reader = Lake.from_settings(writer_settings), Lake.from_settings(reader_settings)
    writer_gets, reader_gets = marts_gets(writer), marts_gets(reader)
    commit_papers(writer, "arxiv", D1, tagged("p1", 1, "h1", ["BERT", "MMLU"]), tagged("p2", 1, "h2", ["MMLU"]))
    assert build_marts(writer, writer_settings).build == "full"

    first = local_marts_path(reader, reader_settings)
    assert query(first, "SELECT count(*) FROM papers") == [(2,)] and len(reader_gets) == 1
    assert local_marts_path(reader, reader_settings).stat().st_ino == first.stat().st_ino and len(reader_gets) == 1

    commit_papers(writer, "arxiv", D2, tagged("p3", 1, "h3", ["BERT", "GSM8K"]))
    assert build_marts(writer, writer_settings).build == "incremental"
    assert writer_gets == []  # the writer's own copy is the file it published last
    assert (
        query(local_marts_path(reader, reader_settings), "SELECT count(*) FROM papers") == [(3,)]
        and len(reader_gets) == 2
    )
    from deltalake import DeltaTable


    export = DeltaTable(reader.uri("marts/papers"), storage_options=reader.store.delta_options())
    assert (
        sorted(export.to_pyarrow_table().column("paper_id").to_pylist()) == ["p1", "p2", "p3"] and export.version() == 1
    )
