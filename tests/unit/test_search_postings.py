"""Postings counted in bulk with numpy equal those of the index's SQL macros, word for word and term for term."""

from __future__ import annotations

from contextlib import closing

import duckdb
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from paperlake import search, search_postings
from paperlake.search import (
    INDEX_SCHEMA,
    SearchFilters,
    build_search_index,
    define_index_views,
    index_new_docs,
    load_fts,
    open_search,
)
from tests.unit.test_search import search_lake  # noqa: F401  (fixture)

# ASCII texts (punctuation, controls, digits, capitals: split in bulk) and texts with accented Latin, ligatures, Greek,
# CJK, dashes and math symbols too (cleaned by SQL first).
ASCII = [*map(chr, range(128))]
TEXT = st.text(st.sampled_from(ASCII), max_size=80) | st.text(
    st.sampled_from([*ASCII, *"éÉèçñÑüßæœﬁΩαβ学习—–×∞µ\u0301\u00a0"]), max_size=80
)


def postings_of(titles_abstracts: list[tuple[str | None, str | None]], bulk: bool) -> set[tuple[str, int, int]]:
    """(term, docid, tf) of every posting of an index of these papers, counted in bulk or by SQL."""
    with closing(duckdb.connect()) as con:
        load_fts(con)
        con.execute("ATTACH ':memory:' AS search")
        con.execute("USE search")
        con.execute(INDEX_SCHEMA)
        define_index_views(con, delta=False)
        con.execute(
            "CREATE TEMP TABLE outdated (docid INTEGER, paper_id VARCHAR, first_seen DATE, paper_key UBIGINT, text_key "
            "UBIGINT, page_key UBIGINT, "
            "entities_key UBIGINT, title VARCHAR, abstract VARCHAR, entities VARCHAR[])"
        )
        con.executemany("INSERT INTO outdated VALUES (?, ?, NULL, 0, 0, 0, 0, ?, ?, [])",
                        [(i + 1, str(i), title, abstract) for i, (title, abstract) in enumerate(titles_abstracts)])
        con.execute("CREATE TEMP VIEW new_texts AS SELECT docid, title, abstract FROM outdated")
        original = search.BULK_DOCS
        search.BULK_DOCS = 0 if bulk else 10**9
        try:
            index_new_docs(con)
        finally:
            search.BULK_DOCS = original
        return set(con.execute("SELECT term, docid, tf FROM postings JOIN terms USING (termid)").fetchall())


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.none() | TEXT, st.none() | TEXT), min_size=1, max_size=6))
def test_bulk_postings_equal_the_sql_macros_postings(papers):
    assert postings_of(papers, bulk=True) == postings_of(papers, bulk=False)


def test_bulk_postings_on_real_looking_text_and_across_chunks(monkeypatch):
    papers = [
        (
            "Speculative Decoding for LLMs",
            "We quantise (4-bit) models; the optimiser's behaviour at 10^3 steps... GPT-4, ViT.",
        ),
        ("Naïve Bayes — revisited", "Café résumé: straße, ﬁne-tuning αβ 学习 e.g. x×y ∞"),
        (None, "lora\x00tuning\ttab\nnew line  double  spaces"),
        ("snake_case x^2 {a} [b]", "a|b ~c @d #e $f %g &h *i +j =k <l> `m` \\n a/b a-b a.b 'q' \"r\" MiXeD 3D"),
        ("", ""),
    ] * 3
    monkeypatch.setattr(search_postings, "CHUNK_DOCS", 5)  # chunks that split the papers unevenly
    assert postings_of(papers, bulk=True) == postings_of(papers, bulk=False)


def test_a_full_build_counted_in_bulk_ranks_and_scores_as_the_sql_build(search_lake, settings, monkeypatch):
    with closing(open_search(settings)) as con:
        queries = {
            text: [(h.paper_id, h.score) for h in search.search(con, text).rows]
            for text in ("lora tuning", "speculative decoding", "quantisation")
        }
        by_entity = [h.paper_id for h in search.search(con, "lora", SearchFilters(entity="LoRA")).rows]
    monkeypatch.setattr(search, "BULK_DOCS", 0)
    build_search_index(search_lake, settings, full=True)
    with closing(open_search(settings)) as con:
        assert {text: [(h.paper_id, h.score) for h in search.search(con, text).rows] for text in queries} == queries
        assert [h.paper_id for h in search.search(con, "lora", SearchFilters(entity="LoRA")).rows] == by_entity
