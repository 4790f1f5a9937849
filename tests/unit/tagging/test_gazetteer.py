import json

import pytest

from paperlake.tagging.gazetteer import (
    canonical_id,
    entity_key,
    load_gazetteer,
    spellings,
)
from tests.unit.tagging.conftest import entities


def test_spellings_normalise_to_one_entity_id(nlp, index):
    found = entities(nlp, "GPT4 beats gpt-4 and GPT-4 on NLI.")
    assert [e[0] for e in found] == ["GPT-4", "GPT-4", "GPT-4", "natural language inference"]
    assert entity_key("GPT 4") == entity_key("gpt-4") == "gpt4"
    assert canonical_id("gpt4", index) == "GPT-4" and canonical_id("MatFormer's", index) == "MatFormer"


def test_a_name_numbered_in_its_last_part_matches_glued_to_its_number(nlp):
    found = entities(nlp, "Experiments on Llama2 and CIFAR10 agree with Llama 2 on CIFAR-10.")
    assert [(e[0], e[2]) for e in found] == [
        ("LLaMA-2", "Llama2"),
        ("CIFAR-10", "CIFAR10"),
        ("LLaMA-2", "Llama 2"),
        ("CIFAR-10", "CIFAR-10"),
    ]
    # short words glued are other names
    assert spellings("Llama 2") == ["Llama 2", "Llama2"] and spellings("Veo 2") == ["Veo 2"]


def test_gazetteer_rejects_unknown_labels(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "X", "label": "ANIMAL", "aliases": ["X"]}) + "\n")
    with pytest.raises(ValueError, match="bad.jsonl:1: label 'ANIMAL'"):
        load_gazetteer(bad)


def test_a_gazetteer_alias_written_as_a_definition_matches_as_its_two_names(nlp):
    # guidelines, boundaries 4: "vision transformer (ViT)" is two spans; a bracketed variant stays part of the name
    found = entities(nlp, "We introduce a vision transformer (ViT) architecture and compare it with GPT-3 (175B).")
    assert [(e[2], e[1]) for e in found] == [
        ("vision transformer", "MODEL"), ("ViT", "MODEL"), ("GPT-3 (175B)", "MODEL"),
    ]
