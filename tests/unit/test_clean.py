from paperlake.clean import clean_records, clean_text, content_hash
from paperlake.identity import normalise_title, title_key
from paperlake.validate import find_superseded
from paperlake.records import PaperRecord


def test_whitespace_invisible_characters_and_nfc():
    raw = "  Cafe\u0301\u00a0au\tlait\u200b\nis\r\n  good\x07 "
    assert clean_text(raw) == "Café au lait is good"
    assert clean_text(clean_text(raw)) == clean_text(raw)


def test_none_cleans_to_empty_text():
    assert clean_text(None) == ""


def test_normalised_title_ignores_case_accents_punctuation_and_spacing():
    assert normalise_title("Schrödinger's  CAT: a Study!") == normalise_title("schrodingers cat - A study")
    assert title_key("Schrödinger's  CAT: a Study!") == title_key("schrödinger's cat a study")
    assert title_key("Paper A") != title_key("Paper B")


def test_clean_records_keeps_the_original_text_beside_the_cleaned():
    (row,) = clean_records([PaperRecord(paper_id="x", title=" A  title ", abstract="Some\n text.")])
    assert (row["title"], row["abstract"]) == ("A title", "Some text.")
    assert (row["title_raw"], row["abstract_raw"]) == (" A  title ", "Some\n text.")
    assert row["content_hash"] == content_hash("A title", "Some text.")
    assert row["record_index"] == 0


def test_superseded_versions_point_at_the_kept_row():
    paper_ids = ["2401.1", "2401.1", "2401.1", "2401.2", None]
    versions = [1, 3, 2, 1, None]
    assert find_superseded(paper_ids, versions) == {0: "2401.1", 2: "2401.1"}


def test_same_content_under_two_ids_is_kept_twice_and_flagged():
    same = dict(title="Same", abstract="Same text.")
    rows = list(clean_records([PaperRecord(paper_id="a", **same), PaperRecord(paper_id="b", **same), PaperRecord(paper_id="a", **same)]))
    assert [r["content_duplicate_of"] for r in rows] == [None, "a", None]


def test_urls_are_listed_beside_the_text():
    (row,) = clean_records([PaperRecord(paper_id="a", title="T", abstract="Code: https://github.com/x/y.")])
    assert row["abstract"] == "Code: <https://github.com/x/y>." and row["urls"] == ["https://github.com/x/y"]
