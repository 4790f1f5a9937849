"""Finding papers: the BM25 index built from real marts of a small hand-made lake, its updates, the CLI and the page."""

from __future__ import annotations

import json
from contextlib import closing
from datetime import date

import pytest

from paperlake.cli import main
from paperlake.marts.builder import build_marts
from paperlake.schemas import CLEAN, ENTITIES
from paperlake.search import (
    FORMER_INDEX_KEY,
    MAX_QUERY_CHARS,
    SEGMENTS_FOLDER,
    Manifest,
    SearchError,
    SearchFilters,
    build_search_index,
    open_search,
    search,
)
from tests.support.lake_runs import commit_tables, paper, spans, table

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
FILLER = "we report results on several benchmarks and discuss limitations"


def row(pid: str, title: str, abstract: str, chash: str | None = None) -> dict:
    return {**paper(pid, 1, title, chash or f"h{pid}"), "abstract": abstract}


# The lake: equal-length abstracts where "lora" occurs 3, 2 and 1 times (so BM25 must rank r3 > r2 > r1),
# a title hit, the phrase "speculative decoding" as written, its words apart, and British spelling.
PAPERS_D1 = [
    row("r1", "Adapters", f"lora tuning {FILLER} alpha beta gamma delta"),
    row("r2", "Adapters", f"lora tuning {FILLER} lora beta gamma delta"),
    row("r3", "Adapters", f"lora tuning {FILLER} lora lora gamma delta"),
    row("s1", "Speculative decoding for fast inference", f"A draft model proposes tokens. {FILLER}"),
    row("s2", "Fast inference", f"Decoding here is not speculative: we cache keys. {FILLER}"),
]
PAPERS_D2 = [
    row("q1", "Quantization of large models", f"Post-training quantization to 4 bits. {FILLER}"),
    row("q2", "A survey", f"We survey quantisation methods and speculative decoding. {FILLER}"),
]


def commit_day(lake, day, rows, source="arxiv", found=()):
    """Commit one partition; `found` = (paper_id, entity_id, label) spans."""
    ents = [s for pid, eid, label in found for s in spans(pid, f"h{pid}", (eid, label, 0))]
    commit_tables(lake, source, day, clean=table(rows, CLEAN), entities=table(ents, ENTITIES))


@pytest.fixture
def search_lake(lake, settings):
    commit_day(
        lake, D1, PAPERS_D1, found=[("r1", "LoRA", "METHOD"), ("r2", "LoRA", "METHOD"), ("s1", "Llama", "MODEL")]
    )
    commit_day(lake, D2, PAPERS_D2, found=[("q2", "Llama", "MODEL")])
    commit_day(lake, D2, [PAPERS_D1[3]], source="hf_daily", found=[("s1", "Llama", "MODEL")])
    build_marts(lake, settings)
    build_search_index(lake, settings)
    return lake


@pytest.fixture
def con(search_lake, settings):
    with closing(open_search(settings)) as con:
        yield con


def ids(con, text, **filters):
    return [hit.paper_id for hit in search(con, text, SearchFilters(**filters)).rows]


def test_bm25_ranks_by_term_frequency_and_title_and_shows_date_snippet_entities(con):
    assert ids(con, "lora") == ["r3", "r2", "r1"]
    hits = search(con, "speculative decoding").rows
    assert [h.paper_id for h in hits] == ["s1", "q2", "s2"]  # in the title (weighted) first; every word required
    top = hits[0]
    assert (top.date, top.title, top.entities) == (D1, "Speculative decoding for fast inference", ["Llama"])
    assert hits[1].snippet.startswith("…quantisation methods and **speculative** **decoding**. we report")
    assert hits[0].score > hits[1].score > hits[2].score > 0


def test_phrases_must_appear_as_written_and_words_match_their_other_forms(con):
    assert ids(con, '"speculative decoding"') == ["s1", "q2"]  # s2 has both words, not the phrase
    assert ids(con, '"decoding speculative"') == []
    assert ids(con, "decoders speculation") == ids(con, "decoding speculative")  # stemmed
    assert sorted(ids(con, "quantisation")) == sorted(ids(con, "quantization")) == ["q1", "q2"]
    assert ids(con, "quantised") == ids(con, "quantization")
    assert ids(con, "speculative quantization") == ["q2"]  # every word is required


def test_filters_by_entity_label_dates_and_source(con):
    assert ids(con, "lora", entity="LoRA") == ["r2", "r1"]
    assert ids(con, "speculative", label="MODEL") == ["s1", "q2"]
    assert ids(con, "speculative", entity="Llama", label="METHOD") == []
    assert ids(con, "speculative", label="model") == ids(con, "speculative", label="Model") == ["s1", "q2"]
    assert ids(con, "speculative", since=D2) == ["q2"]  # s1 was first seen on D1 (and again on D2 in hf_daily)
    assert ids(con, "speculative", until=D1) == ["s1", "s2"]
    assert ids(con, "speculative", source="hf_daily") == ["s1"]
    page = search(con, "lora", page=2, size=2)
    assert ([h.paper_id for h in page.rows], page.total, page.pages) == (["r1"], 3, 2)


def test_equal_scores_page_by_paper_id_whichever_way_the_page_is_read(con, monkeypatch):
    """r1-r3 hold "adapters" once each, in equal-length texts: equal scores, shown by paper id, page after page; the
    best matches read directly (a first page) and through the join every match (a deep page) give the same pages."""
    import paperlake.search

    def pages(text):
        return [[(h.paper_id, h.score, h.entities) for h in search(con, text, page=n, size=1).rows] for n in (1, 2, 3)]

    direct = pages("adapters")
    assert [page[0][0] for page in direct] == ["r1", "r2", "r3"] and len({page[0][1] for page in direct}) == 1
    monkeypatch.setattr(paperlake.search, "DIRECT_PAGE_ROWS", 0)
    assert pages("adapters") == direct


def test_joined_and_grouped_scoring_agree(con, monkeypatch):
    """Queries of a few terms are scored by joining each term's postings, longer ones by grouping them: the same
    papers, the same scores."""
    import paperlake.search

    monkeypatch.setattr(paperlake.search, "DIRECT_PAGE_ROWS", 0)  # every page scored in SQL (a first page: numpy)
    queries = ["lora", "lora tuning", "speculative decoding", "we report results on several benchmarks"]
    joined = {text: [(h.paper_id, h.score) for h in search(con, text).rows] for text in queries}
    monkeypatch.setattr(paperlake.search, "JOINED_TERMS", 0)
    assert {text: [(h.paper_id, h.score) for h in search(con, text).rows] for text in queries} == joined
    assert len(joined["we report results on several benchmarks"]) == 7


def test_the_first_page_scored_with_numpy_is_the_exact_bm25_of_every_match_scored_in_sql(lake, settings, monkeypatch):
    """Random texts of Zipf-distributed words and varied lengths, then a day revising every seventh (a delta segment:
    the replaced texts' postings stay in the base): for queries of frequent and rare words, the numpy scoring of a
    first page gives the same total and the same best matches, scores equal to the bit, as the SQL scoring of every
    match; and search shows the same pages either way."""
    import random

    import paperlake.search
    from paperlake.search import ParsedQuery, matches_sql, query_terms
    from paperlake.search_scores import best_matches

    rng = random.Random(24)
    words = [f"w{i}" for i in range(30)]

    def text(length):
        return " ".join(rng.choices(words, weights=[1 / (rank + 1) for rank in range(len(words))], k=length))

    commit_day(lake, D1, [row(f"p{i:03d}", text(rng.randint(1, 6)), text(rng.randint(3, 80))) for i in range(240)])
    build_marts(lake, settings)
    build_search_index(lake, settings)
    revised = [
        {**row(f"p{i:03d}", text(3), text(rng.randint(3, 80)), f"v2-{i}"), "version": 2} for i in range(0, 240, 7)
    ]
    commit_day(lake, D2, revised + [row(f"n{i:02d}", text(4), text(rng.randint(3, 80))) for i in range(30)])
    build_marts(lake, settings)
    assert build_search_index(lake, settings).build == "incremental"
    queries = ["w0", "w0 w1", "w1 w2 w3", "w5 w9", "w20", "w28 w29", "w0 w1 w2 w3 w4 w5 w6 w7", "w3 w3 w14"]
    with closing(open_search(settings)) as con:
        for query in queries:
            terms = query_terms(con, ParsedQuery.parse(query))
            exact = con.execute(f"SELECT score, docid FROM ({matches_sql(terms)}) ORDER BY score DESC").fetchall()
            for count in (1, 10, 1000):
                total, best = best_matches(con, terms.termids, count)
                expected = [hit for hit in exact if exact and hit[0] >= exact[min(count, len(exact)) - 1][0]]
                assert (total, sorted(best)) == (len(exact), sorted(expected)), (query, count)
        first_pages = {query: search(con, query, size=10) for query in queries}
        monkeypatch.setattr(paperlake.search, "DIRECT_PAGE_ROWS", 0)
        for query, page in first_pages.items():
            assert search(con, query, size=10) == page, query
    assert sum(page.total > 100 for page in first_pages.values()) >= 2  # frequent words: most papers match


def test_a_result_whose_first_seen_the_marts_changed_since_the_index_is_still_shown(search_lake, settings):
    """The marts republished with r1 first seen a day earlier, the index not updated yet: r1 is found by its id, with
    the marts' date."""
    commit_day(search_lake, date(2026, 10, 31), [PAPERS_D1[0]], source="hf_daily")
    build_marts(search_lake, settings)
    with closing(open_search(settings)) as con:
        hits = {hit.paper_id: hit for hit in search(con, "lora").rows}
    assert sorted(hits) == ["r1", "r2", "r3"] and hits["r1"].date == date(2026, 10, 31)


@pytest.mark.parametrize(
    "text",
    ['"', '""', '"speculative', 'speculative"', '"a" "b', "lora AND (tuning OR x) NOT -y +z* ~w^2 field:value",
     "'; DROP TABLE papers; --", '"a.*b" [x] {1,2} \\d+ $(rm -rf /)', "l\u00f6ra \u5b66\u4e60 \U0001f600",
     "lora\x00tuning"],
)
def test_hostile_queries_give_results_or_a_clear_error(con, text):
    try:
        page = search(con, text)
    except SearchError as err:
        assert "no words to search for" in str(err)
    else:
        assert page.total == len(page.rows)


def test_a_10kb_query_is_refused_clearly_and_the_index_is_intact(con):
    with pytest.raises(SearchError, match=f"at most {MAX_QUERY_CHARS:,}"):
        search(con, "lora " * 2000)
    assert ids(con, "lora") == ["r3", "r2", "r1"]


def test_an_added_day_indexes_only_its_papers_and_a_revised_text_replaces_the_old_one(search_lake, settings):
    lake = search_lake
    unchanged = build_search_index(lake, settings)
    assert (unchanged.build, unchanged.indexed, unchanged.removed) == ("unchanged", 0, 0)
    revised = {**row("r3", "Adapters", f"prefix tuning {FILLER} only prefixes here", "hr3-v2"), "version": 2}
    commit_day(lake, D3, [row("n1", "Lora everywhere", f"lora lora {FILLER}"), revised])
    build_marts(lake, settings)
    update = build_search_index(lake, settings)
    assert (update.build, update.indexed, update.removed, update.papers) == ("incremental", 2, 1, 8)
    # D3 (n1) and D1 (r3's first_seen): the partitions the marts build rewrote, read from the Delta logs
    assert update.partitions == 2
    with closing(open_search(settings)) as con:
        incremental = [(h.paper_id, h.score) for h in search(con, "lora tuning").rows]
        assert [pid for pid, _ in incremental] == ["r2", "r1"] and ids(con, "prefixes") == ["r3"]
        assert ids(con, "lora")[0] == "n1"
    full = build_search_index(lake, settings, full=True)
    assert (full.build, full.indexed) == ("full", 8)
    with closing(open_search(settings)) as con:  # the updated index scores exactly as one built from scratch
        assert [(h.paper_id, h.score) for h in search(con, "lora tuning").rows] == incremental


def test_an_update_refreshes_the_dates_and_entities_it_shows_when_only_the_paper_row_changed(search_lake, settings):
    """The index keeps each result's page; a sighting that changes a paper's first-seen date or entities, not its text,
    refreshes it."""
    lake = search_lake
    # r1 seen a day earlier (same text, a new entity); r2 seen again later with a new entity (same date, same text).
    commit_day(lake, date(2026, 10, 31), [PAPERS_D1[0]], source="hf_daily", found=[("r1", "Llama", "MODEL")])
    commit_day(lake, D3, [PAPERS_D1[1]], source="hf_daily", found=[("r2", "Mistral", "MODEL")])
    build_marts(lake, settings)
    update = build_search_index(lake, settings)
    assert (update.build, update.indexed, update.removed) == ("incremental", 2, 0)  # re-indexed, nothing dropped
    with closing(open_search(settings)) as con:
        incremental = search(con, "lora").rows
    by_id = {hit.paper_id: hit for hit in incremental}
    assert (by_id["r1"].date, sorted(by_id["r1"].entities)) == (date(2026, 10, 31), ["Llama", "LoRA"])
    assert (by_id["r2"].date, sorted(by_id["r2"].entities)) == (D1, ["LoRA", "Mistral"])
    build_search_index(lake, settings, full=True)
    with closing(open_search(settings)) as con:  # every shown field equals a fresh build's
        assert search(con, "lora").rows == incremental


def ranked(settings, text):
    with closing(open_search(settings)) as con:
        return [(h.paper_id, h.score, h.date, h.entities) for h in search(con, text).rows]


def test_an_update_reads_only_the_partitions_the_exports_versions_rewrote(search_lake, settings):
    """The index records the exports' versions; the Delta log entries after them name the partitions to re-read."""
    from deltalake import DeltaTable

    lake = search_lake
    commit_day(lake, D3, [row("n1", "Lora everywhere", f"lora lora {FILLER}")], found=[("n1", "LoRA", "METHOD")])
    build_marts(lake, settings)
    update = build_search_index(lake, settings)
    assert (update.build, update.indexed, update.removed, update.partitions) == ("incremental", 1, 0, 1)  # D3 only
    # A paper re-tagged without any change to its row (its entities' partition alone rewritten) gets its new entities.
    commit_day(
        lake,
        D1,
        PAPERS_D1,
        found=[("r1", "LoRA", "METHOD"), ("r2", "LoRA", "METHOD"), ("r2", "QLoRA", "METHOD"), ("s1", "Llama", "MODEL")],
    )
    build_marts(lake, settings)
    update = build_search_index(lake, settings)
    assert (update.indexed, update.partitions) == (1, 1)
    incremental = ranked(settings, "lora")
    assert sorted(dict((pid, ents) for pid, _, _, ents in incremental)["r2"]) == ["LoRA", "QLoRA"]
    build_search_index(lake, settings, full=True)
    assert ranked(settings, "lora") == incremental
    # A full marts build rewrites every partition (one version naming all of them): the update re-reads them all,
    # changes nothing.
    build_marts(lake, settings, full=True)
    update = build_search_index(lake, settings)
    assert (update.build, update.indexed, update.removed, update.partitions) == ("incremental", 0, 0, 3)
    # An export made anew (another Delta table id): the logs cannot tell what changed, so every partition is diffed.
    import shutil

    shutil.rmtree(lake.uri("marts/papers"))
    build_marts(lake, settings, full=True)
    assert DeltaTable(lake.uri("marts/papers")).version() == 0
    update = build_search_index(lake, settings)
    assert (update.build, update.indexed, update.partitions) == ("incremental", 0, None)
    assert ranked(settings, "lora") == incremental


def test_an_update_given_what_the_marts_build_committed_reads_its_partitions_as_the_logs_would(
    search_lake, settings, monkeypatch
):
    """The marts build hands over the partitions it rewrote and their files (MartsSummary.exports): the update re-reads
    those without the exports' Delta logs, and indexes as a full build would; a hand-off the index is not just
    before is not used."""
    import paperlake.search

    monkeypatch.setattr(paperlake.search, "MAX_DELTA_SHARE", 10.0)  # updates, not a new base, on this small lake
    lake = search_lake
    revised = {**row("r3", "Adapters", f"prefix tuning {FILLER} only prefixes here", "hr3-v2"), "version": 2}
    added = row("n1", "Lora everywhere", f"lora lora {FILLER}")
    commit_day(lake, D3, [added, revised], found=[("n1", "LoRA", "METHOD")])
    marts = build_marts(lake, settings)
    assert sorted(marts.exports["papers"]["partitions"]) == [D1.isoformat(), D3.isoformat()]
    update = build_search_index(lake, settings, marts_exports=marts.exports)
    assert (update.build, update.indexed, update.removed, update.partitions, update.partitions_from) == (
        "incremental", 2, 1, 2, "marts build"
    )
    handed = [ranked(settings, text) for text in ("lora", "prefixes", "adapters")]
    assert handed[0][0][0] == "n1" and handed[1][0][0] == "r3"
    # The next day, handed over an old build's exports (the index is past them): the logs name the partitions.
    commit_day(lake, date(2026, 11, 4), [row("n2", "More lora", f"lora {FILLER}")])
    build_marts(lake, settings)
    update = build_search_index(lake, settings, marts_exports=marts.exports)
    assert (update.indexed, update.partitions, update.partitions_from) == (1, 1, "delta logs")
    handed = [ranked(settings, text) for text in ("lora", "prefixes", "adapters")]
    build_search_index(lake, settings, full=True)
    assert [ranked(settings, text) for text in ("lora", "prefixes", "adapters")] == handed


def paper_keys(*paper_ids):
    """The marts' and the index's key of each paper: DuckDB's hash of its id."""
    import duckdb

    return sorted(key for (key,) in duckdb.execute("SELECT hash(unnest(?::VARCHAR[]))", [list(paper_ids)]).fetchall())


def test_an_update_handed_the_papers_the_marts_build_rewrote_compares_only_those_as_a_full_build_would(
    search_lake, settings, monkeypatch
):
    """The marts build hands over the keys of the papers whose rows it rewrote (MartsSummary.exports): the update
    re-reads and compares those alone, not every paper of their partitions, and indexes as a full build would (a new
    paper, a revised text, a paper first seen earlier with a new entity, a re-listing that changes nothing the index
    keeps); past HANDED_PAPER_KEYS none are handed and every paper of the partitions is compared."""
    import paperlake.marts.builder
    import paperlake.search

    monkeypatch.setattr(paperlake.search, "MAX_DELTA_SHARE", 10.0)  # updates, not a new base, on this small lake
    lake = search_lake
    revised = {**row("r3", "Adapters", f"prefix tuning {FILLER} only prefixes here", "hr3-v2"), "version": 2}
    added = row("n1", "Lora everywhere", f"lora lora {FILLER}")
    commit_day(lake, D3, [added, revised], found=[("n1", "LoRA", "METHOD")])
    commit_day(lake, date(2026, 10, 31), [PAPERS_D1[0]], source="hf_daily", found=[("r1", "Llama", "MODEL")])
    commit_day(lake, D3, [PAPERS_D2[0]], source="hf_daily")
    marts = build_marts(lake, settings)
    changed = paper_keys("n1", "r3", "r1", "q1")
    assert sorted(marts.exports["papers"]["paper_keys"]) == sorted(marts.exports["paper_entities"]["paper_keys"])
    assert sorted(marts.exports["papers"]["paper_keys"]) == changed
    update = build_search_index(lake, settings, marts_exports=marts.exports)
    # 4 compared (of the 9 papers the 4 partitions rewritten hold); q1 is as indexed
    assert (update.indexed, update.removed, update.partitions, update.compared) == (3, 1, 4, 4)
    texts = ("lora", "prefixes", "adapters", "quantization")
    handed = [ranked(settings, text) for text in texts]
    assert handed[0][0][0] == "n1" and handed[1][0][0] == "r3"
    assert dict((pid, (day, sorted(ents))) for pid, _, day, ents in handed[0])["r1"] == (
        date(2026, 10, 31), ["Llama", "LoRA"]
    )
    build_search_index(lake, settings, full=True)
    assert [ranked(settings, text) for text in texts] == handed
    # Too many papers to hand over: the update compares every paper of the partitions rewritten.
    monkeypatch.setattr(paperlake.marts.builder, "HANDED_PAPER_KEYS", 1)
    commit_day(lake, D2, PAPERS_D2 + [row("n2", "More lora", f"lora {FILLER}")], found=[("q2", "Llama", "MODEL")])
    marts = build_marts(lake, settings)
    assert marts.exports["papers"]["paper_keys"] is None
    update = build_search_index(lake, settings, marts_exports=marts.exports)
    assert (update.indexed, update.partitions, update.compared, update.partitions_from) == (1, 1, 3, "marts build")
    handed = [ranked(settings, text) for text in texts]
    build_search_index(lake, settings, full=True)
    assert [ranked(settings, text) for text in texts] == handed


def test_a_marts_build_hands_its_commits_to_the_index_update_in_the_cli_and_the_dag(search_lake, settings, capsys):
    """`paperlake marts` and the marts DAG's search task pass the build's exports on (the DAG as the build task's
    XCom)."""
    import ast
    from pathlib import Path

    commit_day(search_lake, D3, [row("n1", "Lora everywhere", f"lora lora {FILLER}")])
    from paperlake.pipeline import marts_stage, search_index_stage

    marts = marts_stage(settings)
    assert search_index_stage(settings, marts_exports=marts.to_dict()["exports"]).partitions_from == "marts build"
    dag = ast.parse(Path(__file__).parents[2].joinpath("dags/marts.py").read_text())
    calls = {ast.unparse(node) for node in ast.walk(dag) if isinstance(node, ast.Call)}
    assert "update_search_index(build_marts())" in calls


def test_an_update_without_the_log_entries_it_needs_diffs_every_partition(search_lake, settings):
    """A Delta log entry after the index's version gone (cleaned up after a checkpoint): every partition is diffed,
    nothing is missed."""
    from pathlib import Path

    lake = search_lake
    revised = {**row("r3", "Adapters", f"prefix tuning {FILLER} only prefixes here", "hr3-v2"), "version": 2}
    commit_day(lake, D3, [revised])
    build_marts(lake, settings)
    entries = sorted(Path(lake.uri("marts/papers/_delta_log")).glob("*.json"))
    from deltalake import DeltaTable

    DeltaTable(lake.uri("marts/papers")).create_checkpoint()
    entries[-1].unlink()  # the build's WRITE entry; the checkpoint keeps the table readable
    update = build_search_index(lake, settings)
    assert (update.indexed, update.removed, update.partitions) == (1, 1, None)
    assert ranked(settings, "prefixes")[0][0] == "r3" and "r3" not in [pid for pid, *_ in ranked(settings, "lora")]


def test_an_index_of_an_s3_lake_reads_the_exports_there_and_updates_in_place(
    seaweed, s3_bucket, tmp_path, monkeypatch
):
    """On S3 the update reads the exports' Delta logs and the touched partitions' files from the bucket (DuckDB over
    httpfs)."""
    import paperlake.search
    from paperlake.lake import Lake

    monkeypatch.setattr(paperlake.search, "MAX_DELTA_SHARE", 10.0)  # updates, not a new base, on this small lake
    from tests.unit.marts.test_builder import s3_settings

    settings = s3_settings(seaweed, s3_bucket, tmp_path / "home")
    lake = Lake.from_settings(settings)
    commit_day(lake, D1, PAPERS_D1, found=[("r1", "LoRA", "METHOD")])
    build_marts(lake, settings)
    assert build_search_index(lake, settings).build == "full"
    commit_day(lake, D2, PAPERS_D2 + [row("n1", "Lora everywhere", f"lora lora {FILLER}")])
    build_marts(lake, settings)
    update = build_search_index(lake, settings)
    assert (update.build, update.indexed, update.partitions) == ("incremental", 3, 1)
    incremental = ranked(settings, "lora")
    assert [pid for pid, *_ in incremental] == ["n1", "r3", "r2", "r1"] and incremental[-1][3] == ["LoRA"]
    # Handed the marts build's commits, the update reads the files it names from the bucket.
    commit_day(lake, D3, [row("n2", "More lora", f"lora {FILLER}")])
    marts = build_marts(lake, settings)
    assert all(uri.startswith("s3://") for uri in marts.exports["papers"]["files"])
    update = build_search_index(lake, settings, marts_exports=marts.exports)
    assert (update.indexed, update.partitions, update.partitions_from, update.compared) == (1, 1, "marts build", 1)
    incremental = ranked(settings, "lora")
    assert [pid for pid, *_ in incremental] == ["n1", "n2", "r3", "r2", "r1"]
    build_search_index(lake, settings, full=True)
    assert ranked(settings, "lora") == incremental


def add_day(lake, settings, day, pid):
    """Commit a day with one new paper, build the marts, update the index; the update's summary."""
    commit_day(lake, day, [row(pid, "Lora everywhere", f"lora lora {FILLER} {pid}")], found=[(pid, "LoRA", "METHOD")])
    build_marts(lake, settings)
    return build_search_index(lake, settings)


@pytest.fixture
def small_base(monkeypatch):
    """The hand-made lake's base is 7 papers: let its delta grow past them without a new base."""
    from paperlake import search as search_module

    monkeypatch.setattr(search_module, "MAX_DELTA_SHARE", 10.0)


def segment_files(lake):
    from pathlib import Path

    return {path.name for path in Path(lake.uri(SEGMENTS_FOLDER)).glob("*.duckdb")}


def test_an_update_writes_a_new_delta_beside_the_base_it_never_rewrites(search_lake, settings, small_base):
    """A reader opens the manifest's segments; an update publishes a new delta and a new manifest, and deletes only the
    segments neither the new manifest nor the one before it names (a reader may be opening those)."""
    from pathlib import Path

    lake = search_lake
    first = Manifest.read(lake.store)
    base = Path(lake.uri(first.segments[0]))
    base_bytes, base_stat = base.read_bytes(), base.stat()
    assert add_day(lake, settings, D3, "n1").build == "incremental"
    second = Manifest.read(lake.store)
    assert second.segments[0] == first.segments[0] and len(second.segments) == 2 and second.previous == first.segments
    assert add_day(lake, settings, date(2026, 11, 4), "n2").build == "incremental"
    third = Manifest.read(lake.store)
    assert third.segments[0] == first.segments[0] and third.segments[1] != second.segments[1]
    # the previous delta stays
    assert segment_files(lake) == {Path(key).name for key in {*third.segments, *second.segments}}
    assert add_day(lake, settings, date(2026, 11, 5), "n3").build == "incremental"
    fourth = Manifest.read(lake.store)
    assert second.segments[1] not in fourth.segments + fourth.previous and Path(
        second.segments[1]
    ).name not in segment_files(lake)
    assert (base.read_bytes(), base.stat().st_mtime_ns, base.stat().st_ino) == (
        base_bytes,
        base_stat.st_mtime_ns,
        base_stat.st_ino,
    )
    incremental = ranked(settings, "lora")
    assert {pid for pid, *_ in incremental[:3]} == {"n1", "n2", "n3"}
    full = build_search_index(lake, settings, full=True)
    assert (full.build, len(Manifest.read(lake.store).segments)) == ("full", 1)
    assert ranked(settings, "lora") == incremental  # base + delta score exactly as one index of the same papers


def test_a_reader_open_during_updates_keeps_its_answers_and_the_next_reader_sees_the_new_ones(
    search_lake, settings, small_base
):
    lake = search_lake
    with closing(open_search(settings)) as old:
        before = [(h.paper_id, h.score) for h in search(old, "lora").rows]
        add_day(lake, settings, D3, "n1")
        add_day(lake, settings, date(2026, 11, 4), "n2")
        add_day(lake, settings, date(2026, 11, 5), "n3")  # the segments `old` opened are deleted now
        assert [(h.paper_id, h.score) for h in search(old, "lora").rows] == before
    with closing(open_search(settings)) as new:
        assert {"n1", "n2", "n3"} <= set(ids(new, "lora")) and len(ids(new, "lora")) == len(before) + 3


def test_a_reader_that_read_a_manifest_whose_segments_were_deleted_reads_it_again(
    search_lake, settings, small_base, monkeypatch
):
    """Between a reader's read of the manifest and its opening of the segments, two updates were published: it reads the
    new one."""
    from paperlake import search as search_module
    from paperlake.search import segment_path

    lake = search_lake
    add_day(lake, settings, D3, "n1")
    stale = Manifest.read(lake.store)
    add_day(lake, settings, date(2026, 11, 4), "n2")
    add_day(lake, settings, date(2026, 11, 5), "n3")
    with pytest.raises(FileNotFoundError):
        segment_path(lake, settings, stale.segments[1])  # deleted by the second update after it
    reads = iter([stale])
    real_read = Manifest.read.__func__
    monkeypatch.setattr(
        search_module.Manifest, "read", classmethod(lambda cls, store: next(reads, None) or real_read(cls, store))
    )
    with closing(open_search(settings)) as con:
        assert {"n1", "n2", "n3"} <= set(ids(con, "lora"))


def test_a_delta_past_its_share_of_the_base_or_a_damaged_segment_means_a_new_base(search_lake, settings, monkeypatch):
    from pathlib import Path

    from paperlake import search as search_module

    lake = search_lake
    first = Manifest.read(lake.store)
    add_day(lake, settings, D3, "n1")
    monkeypatch.setattr(search_module, "MAX_DELTA_SHARE", 0.0)
    rebuilt = add_day(lake, settings, date(2026, 11, 4), "n2")
    manifest = Manifest.read(lake.store)
    assert (rebuilt.build, len(manifest.segments)) == ("full", 1) and manifest.segments[0] != first.segments[0]
    monkeypatch.setattr(search_module, "MAX_DELTA_SHARE", 10.0)
    Path(lake.uri(manifest.segments[0])).write_text("overwritten\n")
    assert add_day(lake, settings, date(2026, 11, 5), "n3").build == "full"
    assert {"n1", "n2", "n3"} <= set(pid for pid, *_ in ranked(settings, "lora"))


def test_a_failed_update_publishes_nothing_and_leaves_no_file(search_lake, settings, monkeypatch):
    from pathlib import Path

    from paperlake import search as search_module

    lake = search_lake
    before, files = Manifest.read(lake.store), segment_files(lake)
    expected = ranked(settings, "lora")

    def fail(con):
        raise RuntimeError("killed mid-update")

    monkeypatch.setattr(search_module, "index_new_docs", fail)
    commit_day(lake, D3, [row("n1", "Lora everywhere", f"lora lora {FILLER}")])
    build_marts(lake, settings)
    with pytest.raises(RuntimeError, match="killed mid-update"):
        build_search_index(lake, settings)
    assert Manifest.read(lake.store) == before and segment_files(lake) == files
    assert not [p for p in Path(lake.uri(SEGMENTS_FOLDER)).iterdir() if p.name.startswith(".")]  # no temp file either
    assert ranked(settings, "lora") == expected
    monkeypatch.undo()
    assert build_search_index(lake, settings).indexed == 1


def test_the_first_build_deletes_the_former_single_file_index(lake, settings):
    from pathlib import Path

    commit_day(lake, D1, PAPERS_D1)
    build_marts(lake, settings)
    former = Path(lake.uri(FORMER_INDEX_KEY))
    former.write_bytes(b"an index of the former layout")
    assert build_search_index(lake, settings).build == "full" and not former.exists()


def test_an_empty_lake_has_an_empty_index(lake, settings):
    build_marts(lake, settings)
    summary = build_search_index(lake, settings)
    assert (summary.build, summary.papers) == ("full", 0)
    with closing(open_search(settings)) as con:
        assert search(con, "anything").total == 0


def test_cli_search_formats_and_errors(search_lake, settings, monkeypatch, capsys):
    monkeypatch.setenv("PAPERLAKE_HOME", str(settings.home))
    assert main(["search", "speculative decoding", "--format", "json", "--limit", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["total"] == 3 and [r["paper_id"] for r in result["results"]] == ["s1", "q2"]
    assert result["results"][0]["entities"] == ["Llama"] and result["results"][0]["date"] == "2026-11-01"
    assert main(["search", "lora", "--entity", "LoRA", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "score,date,paper_id,title,snippet,entities" and [line.split(",")[2] for line in lines[1:]] == [
        "r2",
        "r1",
    ]
    assert main(["search", "speculative", "--since", "2026-11-02"]) == 0
    out = capsys.readouterr().out
    assert "q2" in out and "s1" not in out and "(1 matching paper)" in out
    assert main(["search", "lora", "--label", "method"]) == 0
    out = capsys.readouterr().out
    assert "r1" in out and "r2" in out and "r3" not in out and "(2 matching papers)" in out
    assert main(["search", "the of"]) == 2
    assert "no words to search for" in capsys.readouterr().err


def test_cli_search_without_an_index_says_how_to_build_it(lake, settings, monkeypatch, capsys):
    monkeypatch.setenv("PAPERLAKE_HOME", str(settings.home))
    build_marts(lake, settings)
    assert main(["search", "lora"]) == 2
    assert "paperlake marts" in capsys.readouterr().err


def test_the_search_page_is_paginated_escaped_and_never_a_server_error(search_lake, settings):
    from tests.unit.dashboard.test_app import client

    http = client(settings)
    page = http.get("/search", params={"q": "lora", "page": 1})
    assert page.status_code == 200 and page.text.count('<tr data-paper="') == 3
    assert "<mark>lora</mark>" in page.text and 'href="entity?id=LoRA"' in page.text
    filtered = http.get(
        "/search", params={"q": "lora", "entity": "LoRA", "label": "", "since": "", "until": "", "source": ""}
    )
    assert filtered.status_code == 200 and filtered.text.count('<tr data-paper="') == 2
    hostile = http.get("/search", params={"q": '<script>alert(1)</script> "lora'})
    assert hostile.status_code == 200 and "<script>alert" not in hostile.text and "&lt;script&gt;" in hostile.text
    assert http.get("/search", params={"q": "x" * 10_000}).status_code == 400
    assert http.get("/search", params={"q": "of the"}).status_code == 400
    assert http.get("/search", params={"q": "lora", "since": "yesterday"}).status_code == 400
    assert http.get("/search", params={"q": "lora", "page": 10**9}).status_code == 422
    assert http.get("/search", params={"q": "lora", "page": 500}).status_code == 200
    assert 'id="search-form"' in http.get("/search").text  # the form alone
    entity = http.get("/entity", params={"id": "LoRA"})
    assert 'href="search?q=LoRA"' in entity.text


def test_the_search_page_depends_on_the_login_check(search_lake, settings):
    from tests.unit.dashboard.test_app import client, refuse_everyone

    assert client(settings, refuse_everyone).get("/search", params={"q": "lora"}).status_code == 401
