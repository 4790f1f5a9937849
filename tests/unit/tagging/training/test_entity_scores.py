"""Per-paper entity scores and the normalisation check, on tiny hand-made gold and predictions."""

import pytest

from paperlake.tagging.gazetteer import canonical_id
from paperlake.tagging.training.entity_scores import document_scores, gold_entity_ids, normalisation_check
from paperlake.tagging.training.gold import GoldDoc


def doc(i, text, *names):
    """A gold doc whose spans are the first occurrence after the previous one of each (name, label)."""
    spans, at = [], 0
    for name, label in names:
        start = text.index(name, at)
        spans.append((start, start + len(name), label))
        at = start + len(name)
    return GoldDoc(i, text, frozenset(spans), "dev")


def ids(docs, index=None):
    return [
        sorted((d.text[s:e], eid) for (s, e, _), eid in m.items())
        for d, m in zip(docs, gold_entity_ids(docs, index or {}))
    ]


def test_spelling_variants_and_plurals_of_a_gold_entity_share_one_id():
    docs = [
        doc(0, "GPT4 beats PRMs.", ("GPT4", "MODEL"), ("PRMs", "METHOD")),
        doc(1, "gpt-4 and a PRM.", ("gpt-4", "MODEL"), ("PRM", "METHOD")),
    ]
    assert ids(docs) == [[("GPT4", "GPT4"), ("PRMs", "PRM")], [("PRM", "PRM"), ("gpt-4", "GPT4")]]


def test_a_gazetteer_entry_names_the_gold_entity():
    docs = [doc(0, "gpt4 and GPT-4", ("gpt4", "MODEL"), ("GPT-4", "MODEL"))]
    assert ids(docs, {"gpt4": ("GPT-4", "MODEL")}) == [[("GPT-4", "GPT-4"), ("gpt4", "GPT-4")]]


def test_an_acronym_is_its_long_form_only_in_the_paper_that_defines_it():
    docs = [
        doc(
            0,
            "natural language inference (NLI) and NLI again",
            ("natural language inference", "TASK"),
            ("NLI", "TASK"),
            ("NLI", "TASK"),
        ),
        doc(1, "NLI elsewhere", ("NLI", "TASK")),
    ]
    assert ids(docs) == [
        [
            ("NLI", "natural language inference"),
            ("NLI", "natural language inference"),
            ("natural language inference", "natural language inference"),
        ],
        [("NLI", "NLI")],
    ]


def test_a_parenthesis_after_a_name_is_no_definition_when_the_initials_differ():
    docs = [doc(0, "Vision Transformers (MatViT)", ("Vision Transformers", "MODEL"), ("MatViT", "MODEL"))]
    assert ids(docs) == [[("MatViT", "MatViT"), ("Vision Transformers", "Vision Transformers")]]


def test_the_same_spelling_with_two_labels_is_two_gold_entities():
    docs = [doc(0, "MATH and math", ("MATH", "DATASET"), ("math", "TASK"))]
    assert ids(docs) == [[("MATH", "MATH"), ("math", "math")]]


GOLD = [
    {(0, 4, "MODEL"): "GPT-4", (10, 14, "MODEL"): "GPT-4", (20, 24, "DATASET"): "MMLU"},
    {(0, 4, "MODEL"): "BERT"},
]


def test_document_scores_count_each_entity_once_per_paper():
    predicted = [
        # GPT-4 twice (one entity), MMLU missed, a wrong extra
        [("GPT-4", "MODEL", "GPT4", 0, 4), ("GPT-4", "MODEL", "gpt4", 10, 14), ("ARC", "DATASET", "ARC", 30, 33)],
        [("BERT", "MODEL", "BERT", 0, 4)],
    ]
    scores = document_scores(GOLD, predicted)
    assert scores["overall"] == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    assert scores["MODEL"]["f1"] == 1.0
    assert scores["DATASET"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_document_scores_count_a_split_entity_as_a_miss_and_an_extra():
    predicted = [
        [("GPT4", "MODEL", "GPT4", 0, 4), ("MMLU", "DATASET", "MMLU", 20, 24)],
        [("BERT", "MODEL", "BERT", 0, 4)],
    ]
    scores = document_scores(GOLD, predicted)["overall"]
    assert (scores["precision"], scores["recall"]) == (2 / 3, 2 / 3)


def test_normalisation_check_reports_splits_and_merges():
    predicted = [
        [("GPT-4", "MODEL", "GPT4", 0, 4), ("gpt4", "MODEL", "gpt4", 10, 14), ("MMLU", "DATASET", "MMLU", 20, 24)],
        [("GPT-4", "MODEL", "BERT", 0, 4)],
    ]
    check = normalisation_check(GOLD, predicted)
    assert check["entities"] == 3 and check["with_variants"] == 1
    assert check["splits"] == [(("GPT-4", "MODEL"), [("GPT-4", "MODEL"), ("gpt4", "MODEL")])]
    assert check["merges"] == [(("GPT-4", "MODEL"), [("BERT", "MODEL"), ("GPT-4", "MODEL")])]


def test_normalisation_check_ignores_mentions_off_the_gold_spans_or_labels():
    predicted = [[("X", "MODEL", "GPT4", 0, 3), ("Y", "DATASET", "GPT4", 10, 14)], []]
    assert normalisation_check(GOLD, predicted) == {"entities": 0, "with_variants": 0, "splits": [], "merges": []}


def test_a_plural_takes_its_singulars_canonical_id():
    index = {"processrewardmodel": ("process reward model", "METHOD")}
    assert canonical_id("process reward models", index) == "process reward model"
    assert canonical_id("FLOPs", {"flops": ("FLOPs", "METRIC")}) == "FLOPs"
