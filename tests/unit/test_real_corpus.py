"""The vendored real corpus loads as the agreed records, and a local folder adds to it."""

import gzip
import json

import pytest

from paperlake.real_corpus import RealAbstract, load_real_corpus, primary_category


def test_vendored_corpus_holds_thousands_of_real_abstracts_across_fields():
    records = load_real_corpus()
    assert len(records) >= 5000
    assert all(isinstance(r, RealAbstract) and r.title and r.abstract and "@" in r.origin for r in records)
    archives = {primary_category(r).split(".")[0] for r in records}
    assert {"astro-ph", "hep-ph", "math", "cs", "stat", "q-bio", "econ"} <= archives


def test_extra_directory_adds_its_files_and_categories_may_be_unknown(tmp_path):
    row = {"id": None, "title": "T", "abstract": "A $x$.", "categories": [], "origin": "o/r@c:p"}
    with gzip.open(tmp_path / "extra.jsonl.gz", "wt") as out:
        out.write(json.dumps(row) + "\n")
    records = load_real_corpus(str(tmp_path))
    assert records[-1] == RealAbstract(None, "T", "A $x$.", (), "o/r@c:p")
    assert primary_category(records[-1]) is None


def test_a_malformed_line_names_its_file_and_line(tmp_path):
    with gzip.open(tmp_path / "bad.jsonl.gz", "wt") as out:
        out.write('{"id": "1"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl.gz:1"):
        load_real_corpus(str(tmp_path))


def test_an_extra_directory_without_files_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="PAPERLAKE_REAL_CORPUS_DIR"):
        load_real_corpus(str(tmp_path))
