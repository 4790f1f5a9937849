from paperlake.clean import clean_records, clean_text, content_hash
from paperlake.records import PaperRecord


def test_whitespace_invisible_characters_and_nfc():
    raw = "  Cafe\u0301\u00a0au\tlait\u200b\nis\r\n  good\x07 "
    assert clean_text(raw) == "Café au lait is good"
    assert clean_text(clean_text(raw)) == clean_text(raw)


def test_none_cleans_to_empty_text():
    assert clean_text(None) == ""


def test_clean_records_keeps_the_original_text_beside_the_cleaned():
    (row,) = clean_records([PaperRecord(paper_id="x", title=" A  title ", abstract="Some\n text.")])
    assert (row["title"], row["abstract"]) == ("A title", "Some text.")
    assert (row["title_raw"], row["abstract_raw"]) == (" A  title ", "Some\n text.")
    assert row["content_hash"] == content_hash("A title", "Some text.")
    assert row["record_index"] == 0


def test_same_content_under_two_ids_is_kept_twice_and_flagged():
    same = dict(title="Same", abstract="Same text.")
    rows = list(
        clean_records(
            [PaperRecord(paper_id="a", **same), PaperRecord(paper_id="b", **same), PaperRecord(paper_id="a", **same)]
        )
    )
    assert [r["content_duplicate_of"] for r in rows] == [None, "a", None]


def test_urls_are_listed_beside_the_text():
    (row,) = clean_records([PaperRecord(paper_id="a", title="T", abstract="Code: https://github.com/x/y.")])
    assert row["abstract"] == "Code: <https://github.com/x/y>." and row["urls"] == ["https://github.com/x/y"]
