import json

import pytest

from paperlake.tagging.gazetteer import load_gazetteer
from paperlake.tagging.partition import tag_texts
from paperlake.tagging.pipeline import build_tagger, tagger_version


@pytest.fixture(scope="module")
def nlp():
    return build_tagger()


def entities(nlp, text):
    return [(eid, label, span) for eid, label, span, _, _ in tag_texts(nlp, [text])[0]]


def test_aliases_map_to_the_canonical_entity(nlp):
    found = entities(nlp, "We compare GPT4 with Llama 2 on GSM8K and MMLU, reporting accuracy and F1 score.")
    assert found == [
        ("GPT-4", "MODEL", "GPT4"),
        ("LLaMA-2", "MODEL", "Llama 2"),
        ("GSM8K", "DATASET", "GSM8K"),
        ("MMLU", "DATASET", "MMLU"),
        ("accuracy", "METRIC", "accuracy"),
        ("F1", "METRIC", "F1 score"),
    ]


def test_acronyms_match_only_as_written(nlp):
    assert entities(nlp, "We solve MATH problems.") == [("MATH", "DATASET", "MATH")]
    assert entities(nlp, "We solve math problems.") == []


def test_offsets_index_the_text(nlp):
    text = "Speculative decoding speeds up inference."
    (eid, label, span, start, end), = tag_texts(nlp, [text])[0]
    assert text[start:end] == span == "Speculative decoding" and eid == "speculative decoding" and label == "METHOD"


def test_tagger_version_follows_the_patterns(tmp_path):
    a = tmp_path / "a.jsonl"
    a.write_text(json.dumps({"id": "X", "label": "MODEL", "aliases": ["X"]}) + "\n")
    before = tagger_version(a)
    a.write_text(json.dumps({"id": "Y", "label": "MODEL", "aliases": ["Y"]}) + "\n")
    assert tagger_version(a) != before


def test_gazetteer_rejects_unknown_labels(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "X", "label": "ANIMAL", "aliases": ["X"]}) + "\n")
    with pytest.raises(ValueError, match="bad.jsonl:1: label 'ANIMAL'"):
        load_gazetteer(bad)
