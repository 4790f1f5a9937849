from datetime import date

import duckdb
import pyarrow as pa
import pytest

from paperlake.marts.builder import build_marts, local_marts_path
from paperlake.schemas import CLEAN, ENTITIES

D1, D2 = date(2026, 11, 1), date(2026, 11, 2)


def paper(pid, version, title, chash, upvotes=None):
    return {"paper_id": pid, "version": version, "title": title, "abstract": f"abstract of {title}", "content_hash": chash,
            "upvotes": upvotes, "authors": [], "categories": [], "keywords": []}


def spans(pid, chash, *found):
    return [{"paper_id": pid, "content_hash": chash, "entity_id": eid, "label": label, "text": eid,
             "start_char": start, "end_char": start + len(eid), "tagger_version": "v1"} for eid, label, start in found]


def table(rows, schema):
    full = [{name: row.get(name) for name in schema.names} for row in rows]
    return pa.Table.from_pylist(full, schema=schema)


@pytest.fixture
def two_day_lake(lake):
    """p1 is revised on day 2 (new text); p2 appears in arxiv on day 1 and in hf_daily on day 2."""
    lake.write_table("clean", "arxiv", D1, table([paper("p1", 1, "Old title", "h1"), paper("p2", 1, "Second", "h2")], CLEAN))
    lake.write_table("clean", "arxiv", D2, table([paper("p1", 2, "New title", "h3")], CLEAN))
    lake.write_table("clean", "hf_daily", D2, table([paper("p2", 1, "Second", "h2", upvotes=7)], CLEAN))
    p2_spans = [("MMLU", "DATASET", 5), ("MMLU", "DATASET", 40), ("accuracy", "METRIC", 60)]
    lake.write_table("entities", "arxiv", D1, table(spans("p1", "h1", ("BERT", "MODEL", 0)) + spans("p2", "h2", *p2_spans), ENTITIES))
    lake.write_table("entities", "arxiv", D2, table(spans("p1", "h3", ("GPT-4", "MODEL", 0), ("MMLU", "DATASET", 10)), ENTITIES))
    lake.write_table("entities", "hf_daily", D2, table(spans("p2", "h2", *p2_spans), ENTITIES))
    return lake


def query(path, sql):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_papers_one_row_per_id_latest_version_with_first_and_last_seen(two_day_lake, settings):
    summary = build_marts(two_day_lake, settings)
    path = local_marts_path(two_day_lake, settings)
    assert summary.tables == {"papers": 2, "paper_entities": 4, "entity_counts": 3}
    assert query(path, "SELECT paper_id, version, title, first_seen, last_seen, sources, upvotes FROM papers ORDER BY 1") == [
        ("p1", 2, "New title", D1, D2, ["arxiv"], None),
        ("p2", 1, "Second", D1, D2, ["arxiv", "hf_daily"], 7),
    ]


def test_paper_entities_count_the_current_text_once_across_sources(two_day_lake, settings):
    build_marts(two_day_lake, settings)
    path = local_marts_path(two_day_lake, settings)
    assert query(path, "SELECT paper_id, entity_id, label, mentions, first_offset FROM paper_entities ORDER BY 1, 5") == [
        ("p1", "GPT-4", "MODEL", 1, 0),
        ("p1", "MMLU", "DATASET", 1, 10),
        ("p2", "MMLU", "DATASET", 2, 5),
        ("p2", "accuracy", "METRIC", 1, 60),
    ]
    assert query(path, "SELECT entity_id, n_papers, n_mentions FROM entity_counts ORDER BY 2 DESC, 1") == [
        ("MMLU", 2, 3), ("GPT-4", 1, 1), ("accuracy", 1, 1),
    ]


def test_an_empty_lake_builds_empty_marts(lake, settings):
    assert build_marts(lake, settings).tables == {"papers": 0, "paper_entities": 0, "entity_counts": 0}


def test_publish_replaces_the_file_and_open_readers_keep_the_old_one(two_day_lake, settings):
    build_marts(two_day_lake, settings)
    path = local_marts_path(two_day_lake, settings)
    reader = duckdb.connect(str(path), read_only=True)
    two_day_lake.write_table("clean", "arxiv", date(2026, 11, 3), table([paper("p3", 1, "Third", "h4")], CLEAN))
    build_marts(two_day_lake, settings)
    assert reader.execute("SELECT count(*) FROM papers").fetchone() == (2,)
    reader.close()
    assert query(path, "SELECT count(*) FROM papers") == [(3,)]
    assert sorted(p.name for p in path.parent.iterdir()) == ["paperlake.duckdb"]


def test_missing_marts_is_a_clear_error(lake, settings):
    with pytest.raises(FileNotFoundError, match="no marts at .*paperlake marts"):
        local_marts_path(lake, settings)
