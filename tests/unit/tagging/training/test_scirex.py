"""The SciREX -> our-labels converter, on small inline documents in the corpus's own format."""

import json

import pytest

from paperlake.tagging.training.scirex import convert_section, detokenize, load_scirex, map_label

INDEX = {"cifar10": ("CIFAR-10", "DATASET"), "bert": ("BERT", "MODEL"), "accuracy": ("accuracy", "METRIC")}


def test_detokenize_glues_punctuation_and_hyphens_and_keeps_word_offsets():
    words = ["state", "-", "of", "-", "the", "-", "art", "results", "(", "i.e.", ",", "BLEU", ")", "."]
    text, offsets = detokenize(words)
    assert text == "state-of-the-art results (i.e., BLEU)."
    assert [text[s:e] for s, e in offsets] == words


@pytest.mark.parametrize(
    "text, scirex_type, expected",
    [
        ("ResNet", "Method", "MODEL"),  # a coined name
        ("Quaternion Convolutional Neural Networks", "Method", "MODEL"),  # Title Case name
        ("CNN", "Method", "METHOD"),  # an all-caps acronym names a family
        ("batch normalization", "Method", "METHOD"),
        ("pretrained networks", "Method", None),  # generic head
        ("deep DU-Net", "Method", None),  # a description around a name
        ("BERT", "Method", "MODEL"),  # the gazetteer's label
        ("CIFAR-10", "Method", None),  # the gazetteer says DATASET: a conflict, dropped
        ("Cityscapes", "Material", "DATASET"),
        ("Penn Treebank", "Material", "DATASET"),
        ("images", "Material", None),  # data, not a named dataset
        ("semantic segmentation", "Task", "TASK"),
        ("recognition", "Task", None),  # a lone lowercase word
        ("detecting objects", "Task", None),  # a verb phrase
        ("accurate understanding of the surrounding scene", "Task", None),  # a description
        ("intersection-over-union score", "Metric", "METRIC"),
        ("recognition performance", "Metric", None),  # vague
        ("mIoU", "Metric", "METRIC"),
        ("Other", "Unknown", None),
    ],
)
def test_map_label_follows_our_guidelines(text, scirex_type, expected):
    assert map_label(text, scirex_type, INDEX) == expected


def test_convert_section_trims_determiners_and_unbalanced_parentheses():
    words = [
        "the",
        "Cityscapes",
        "dataset",
        "and",
        "support",
        "vector",
        "machines",
        "(",
        "SVM",
        ")",
        "on",
        "our",
        "ResNet",
    ]
    ner = [(0, 3, "Material"), (4, 8, "Method"), (8, 10, "Method"), (11, 13, "Method")]
    text, spans = convert_section(words, ner, INDEX)
    assert text == "the Cityscapes dataset and support vector machines (SVM) on our ResNet"
    assert sorted((text[s:e], label) for s, e, label in spans) == [
        ("Cityscapes dataset", "DATASET"),
        ("ResNet", "MODEL"),
        ("SVM", "METHOD"),
        ("support vector machines", "METHOD"),
    ]


def test_load_scirex_reads_sections_without_their_headers(tmp_path):
    paper = {
        "doc_id": "x",
        "words": ["FRRN", "for", "Segmentation", "section", ":", "Abstract", "We", "use", "CIFAR", "-", "10", "."],
        "sentences": [[0, 3], [3, 6], [6, 12]],
        "sections": [[0, 3], [3, 12]],
        "ner": [[0, 1, "Method"], [8, 11, "Material"]],
    }
    (tmp_path / "docs" / "train_docs").mkdir(parents=True)
    (tmp_path / "docs" / "train_docs" / "x.json").write_text(json.dumps(paper))
    docs = load_scirex(tmp_path, INDEX)
    assert [d.text for d in docs] == ["FRRN for Segmentation", "We use CIFAR-10."]
    assert [sorted((d.text[s:e], label) for s, e, label in d.spans) for d in docs] == [
        [("FRRN", "METHOD")],
        [("CIFAR-10", "DATASET")],
    ]
    assert {d.paper_index for d in docs} == {0}
    assert len(load_scirex(tmp_path, INDEX, max_sections=1)) == 1


def test_load_scirex_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="SCIREX_DIR"):
        load_scirex(tmp_path, INDEX)


def test_a_trained_model_records_what_it_learned_from(tmp_path):
    from paperlake.tagging.training.train import record_training

    (tmp_path / "meta.json").write_text(json.dumps({"lang": "en", "pipeline": ["ner"]}))
    record_training(tmp_path, 226, 0)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert "226 hand-annotated abstracts" in meta["description"] and "SciREX" not in meta["description"]
    assert meta["pipeline"] == ["ner"]
    record_training(tmp_path, 226, 604)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert "604 SciREX" in meta["description"] and meta["sources"][-1]["license"] == "Apache-2.0"
