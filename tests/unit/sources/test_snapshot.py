import codecs
from datetime import UTC, date, datetime

import pytest

from paperlake.config import BUNDLED_SNAPSHOT, Settings
from paperlake.errors import ParseError
from paperlake.lake import Lake, RawPage
from paperlake.pipeline import ingest
from paperlake.sources import FetchRequest, fetch_partition, parse_partition
from paperlake.sources.snapshot import HEADER_LINES, parse, parse_snapshot_page
from tests.support.http_sources import DAY
from tests.support.recorded_http import arxiv_answer, serve


def test_bundled_sample_yields_316_papers_with_stable_unique_ids():
    records = parse_snapshot_page(BUNDLED_SNAPSHOT.read_text(encoding="utf-8"))
    assert len(records) == 316
    assert len({r.paper_id for r in records}) == 316
    assert all(r.paper_id.startswith("snapshot:") for r in records)
    assert records == parse_snapshot_page(BUNDLED_SNAPSHOT.read_text(encoding="utf-8"))


def test_first_title_loses_the_glued_subscribe_and_headers_are_not_records():
    records = parse_snapshot_page(BUNDLED_SNAPSHOT.read_text(encoding="utf-8"))
    assert records[0].title == "FlashFormer: Whole-Model Kernels for Efficient Low-Batch Inference"
    assert records[0].abstract.startswith("The size and compute characteristics")
    titles = {r.title for r in records}
    assert not titles & set(HEADER_LINES)
    assert not any(t.startswith("Subscribe") for t in titles)


def test_id_is_derived_from_the_normalised_title():
    a = parse_snapshot_page("SubscribeTiny Paper: A Study\nabstract one")
    b = parse_snapshot_page("tiny  paper - a STUDY\nabstract two")
    assert a[0].paper_id == b[0].paper_id
    assert a[0].paper_id != parse_snapshot_page("Another Paper\nx")[0].paper_id


def test_crlf_and_trailing_newlines_are_tolerated():
    text = "\r\n".join([*HEADER_LINES, "SubscribeA Title", "An abstract.", "B Title", "B abstract.", "", ""])
    records = parse_snapshot_page(text)
    assert [r.title for r in records] == ["A Title", "B Title"]


def test_a_title_without_abstract_is_a_clear_error():
    with pytest.raises(ValueError, match="odd number of lines.*Lonely title"):
        parse_snapshot_page("\n".join([*HEADER_LINES, "T1", "A1", "Lonely title"]), "page.txt")


def test_fetch_lands_the_page_verbatim_and_parse_reads_it_back(settings, lake):
    day = date(2026, 11, 26)
    clock = lambda: datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # noqa: E731
    summary = fetch_partition(lake, "snapshot", FetchRequest.for_day(settings, day, clock=clock))
    assert summary.rows == 1 and summary.counts["bytes"] == BUNDLED_SNAPSHOT.stat().st_size
    pages = lake.read_raw("snapshot", day, summary.run_id)
    assert pages[0].body == BUNDLED_SNAPSHOT.read_bytes()
    assert pages[0].fetched_at == "2026-11-27T06:00:00+00:00"
    assert len(list(parse(pages))) == 316


def test_missing_snapshot_path_names_the_setting(tmp_path):
    from paperlake.config import Settings
    from paperlake.lake import Lake

    settings = Settings.from_env(
        {"PAPERLAKE_HOME": str(tmp_path), "PAPERLAKE_SNAPSHOT_PATH": str(tmp_path / "nope.txt")}
    )
    with pytest.raises(FileNotFoundError, match="PAPERLAKE_SNAPSHOT_PATH"):
        fetch_partition(Lake.from_settings(settings), "snapshot", FetchRequest.for_day(settings, date(2026, 1, 1)))


def saved_page(body: bytes, path: str = "/saves/page.txt") -> RawPage:
    return RawPage(name="page.txt", body=body, url=f"file://{path}")


@pytest.mark.parametrize(
    "bom, encoding",
    [(b"", "utf-8"), (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
     (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be")],
    ids=["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"],
)
def test_a_page_saved_with_a_byte_order_mark_reads_like_utf8(bom, encoding):
    text = BUNDLED_SNAPSHOT.read_text(encoding="utf-8")
    assert list(parse([saved_page(bom + text.encode(encoding))])) == parse_snapshot_page(text)


def test_an_undecodable_page_names_its_path_and_the_byte_offset():
    body = "Title\nAn abstract, then Latin-1: café au lait\n".encode("latin-1")
    with pytest.raises(
        ParseError, match=r"file:///saves/page.txt: not utf-8 text: byte 36 \(b'\\xe9'\) invalid continuation byte"
    ):
        list(parse([saved_page(body)]))


@pytest.mark.parametrize(
    "body",
    [b"Only a title\nAnother title\nA third title\n", bytes(range(256)) * 4],
    ids=["titles only", "random bytes"],
)
def test_a_page_that_is_not_a_saved_search_page_is_a_parse_error_naming_its_path(body):
    with pytest.raises(ParseError, match="file:///saves/page.txt"):
        list(parse([saved_page(body)]))


def test_snapshot_records_link_to_arxiv_ids_by_normalised_title(env, httpserver, tmp_path):
    serve(httpserver, "/api/query", arxiv_answer)
    settings = Settings.from_env(env)
    lake = Lake.from_settings(settings)
    ingest(settings, "arxiv", DAY)
    page = tmp_path / "page.txt"
    abstract = "An abstract long enough to pass validation, describing a low-rank adaptation study in some detail here."
    page.write_text(f"SubscribeLow-rank adaptation at scale\n{abstract}\nUnknown Paper\n{abstract}\n")
    settings = Settings.from_env(env | {"PAPERLAKE_SNAPSHOT_PATH": str(page)})
    run_id = fetch_partition(lake, "snapshot", FetchRequest.for_day(settings, DAY)).run_id
    assert parse_partition(lake, "snapshot", DAY, run_id).counts == {"linked_by_title": 1}
    parsed = lake.read_table("parsed", "snapshot", DAY, run_id=run_id).to_pylist()
    assert parsed[0]["paper_id"] == "2611.05678" and parsed[0]["source_id"].startswith("snapshot:")
    assert parsed[1]["paper_id"] == parsed[1]["source_id"]
