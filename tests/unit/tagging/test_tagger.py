import json
from pathlib import Path

import pytest

from paperlake.config import GAZETTEER_PATHS
from paperlake.tagging.gazetteer import (
    known_keys,
    load_gazetteers,
)
from paperlake.tagging.tagger import tagger_files, tagger_version
from paperlake.tagging.training.evaluate import evaluate
from paperlake.tagging.training.gold import GOLD_PATH, load_gold
from tests.unit.tagging.conftest import entities


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "We fine-tune Llama 3.1-8B and GPT-4o.",
            [("Llama-3.1-8B", "MODEL", "Llama 3.1-8B"), ("GPT-4o", "MODEL", "GPT-4o")],
        ),
        (
            "Results on HumanEval and SpreadsheetBench improve.",
            [("HumanEval", "DATASET", "HumanEval"), ("SpreadsheetBench", "DATASET", "SpreadsheetBench")],
        ),
        ("We report pass@k and perplexity.", [("pass@k", "METRIC", "pass@k"), ("perplexity", "METRIC", "perplexity")]),
        (
            "A study of question answering and code generation.",
            [("question answering", "TASK", "question answering"), ("code generation", "TASK", "code generation")],
        ),
        (
            "We combine LoRA with knowledge distillation.",
            [("LoRA", "METHOD", "LoRA"), ("knowledge distillation", "METHOD", "knowledge distillation")],
        ),
    ],
    ids=["MODEL", "DATASET", "METRIC", "TASK", "METHOD"],
)
def test_one_sentence_per_label(nlp, text, expected):
    assert entities(nlp, text) == expected


def test_architectural_components_are_no_entities(nlp):
    """Guidelines, not annotated: architectural components (FFN, attention heads, cross-attention, ...)."""
    assert entities(nlp, "Its MLP and self-attention layers use RMSNorm; dense MLPs are slow.") == []
    # nor does a head noun after one make it a coined name
    assert entities(nlp, "Our fused Sparse MLP kernel is fast. The memory bound RMSNorm kernel overlaps.") == []


def test_tagger_version_follows_the_patterns(tmp_path):
    a = tmp_path / "a.jsonl"
    a.write_text(json.dumps({"id": "X", "label": "MODEL", "aliases": ["X"]}) + "\n")
    before = tagger_version((a,), None)
    a.write_text(json.dumps({"id": "Y", "label": "MODEL", "aliases": ["Y"]}) + "\n")
    assert tagger_version((a,), None) != before


def test_tagger_version_hashes_the_runtime_code_and_no_training_or_evaluation_code():
    from paperlake.tagging import tagger, training

    hashed = {path.resolve() for path in tagger_files()}
    runtime = Path(tagger.__file__).parent
    assert {p.resolve() for p in runtime.glob("*.py") if p.name != "__init__.py"} <= hashed, (
        "a runtime module is missing from RUNTIME_MODULES"
    )
    patterns = {p.resolve() for p in (Path(tagger.DATA_DIR) / "patterns").rglob("*") if p.is_file()}
    assert patterns <= hashed, "editing a word list or pattern file must change the tagger version"
    training_code = {p.resolve() for p in Path(training.__file__).parent.glob("*.py")}
    assert {"train.py", "evaluate.py", "scirex.py", "entity_scores.py"} <= {p.name for p in training_code}
    assert not hashed & training_code, "editing an evaluation script must not invalidate every partition's tag cache"


def test_annotation_files_are_well_formed_and_never_overlap_the_test_split():
    docs = load_gold()
    assert len(docs) >= 80 and {d.split for d in docs} == {"dev", "test"}
    test_papers = {d.paper_index for d in docs if d.split == "test"}
    for path in sorted(GOLD_PATH.parent.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            item = json.loads(line)
            spans = item["spans"]
            assert all(item["text"][s["start"]:s["end"]] == s["text"] for s in spans), (path.name, item["paper_index"])
            assert all(a["end"] <= b["start"] for a, b in zip(spans, spans[1:])), (path.name, item["paper_index"])
            assert path == GOLD_PATH or item["paper_index"] not in test_papers


def test_annotated_names_join_when_marked_in_most_of_their_occurrences():
    from paperlake.tagging.training.annotated_names import annotated_names
    from paperlake.tagging.training.gold import GoldDoc

    texts = [
        "TokenWeave beats vLLM. TokenWeave is fast.",
        "We study ghost sentences and other ghost sentences here.",
        "Plain text, TokenWeave.",
    ]
    docs = [
        GoldDoc(0, texts[0], frozenset({(0, 10, "MODEL"), (17, 21, "MODEL"), (23, 33, "MODEL")}), "train"),
        GoldDoc(1, texts[1], frozenset({(9, 24, "METHOD")}), "train"),  # marked once, written twice
        GoldDoc(2, texts[2], frozenset({(12, 22, "METHOD")}), "train"),
    ]
    entries = annotated_names(docs, known={"vllm"})
    assert entries == [{"id": "TokenWeave", "label": "MODEL", "aliases": ["TokenWeave"], "case_sensitive": True}]
    assert annotated_names(docs, known={"vllm"}, min_papers=2) == entries  # marked in papers 0 and 2
    assert annotated_names(docs, known={"vllm"}, min_papers=3) == []


def test_shipped_annotated_names_are_what_the_training_annotations_give(tmp_path):
    from paperlake.config import ANNOTATED_NAMES_PATH
    from paperlake.tagging.training.annotated_names import write_annotated_names
    from paperlake.tagging.training.gold import training_annotations

    assert all(doc.split != "test" for doc in training_annotations())
    write_annotated_names(tmp_path / "names.jsonl")
    assert (tmp_path / "names.jsonl").read_text() == ANNOTATED_NAMES_PATH.read_text()


# Regression floor for the shipped (rules-only) tagger on the gold test split: measured 0.747 F1 (0.735 before issue
# 20).


TEST_F1_FLOOR = 0.70


def test_gold_test_f1_does_not_regress(nlp, index):
    known = known_keys(load_gazetteers(GAZETTEER_PATHS))
    report = evaluate(nlp, load_gold(split="test"), known, index)
    assert report["scores"]["overall"]["f1"] >= TEST_F1_FLOOR


# The 20 bundled abstracts outside ML (ecology, history, ...), through the domain gate as a source without
# categories sees them: measured 1 stray label (9 before the gate and the evidence rules). Issue 20's target: 2.


NON_ML_STRAY_CEILING = 2


def test_abstracts_outside_ml_get_only_rare_stray_labels(nlp, index):
    from paperlake.tagging.training.evaluate import non_ml_labels

    tagged = non_ml_labels(nlp, index)
    assert len(tagged) == 20
    assert sum(len(mentions) for _, mentions in tagged) <= NON_ML_STRAY_CEILING


def test_the_training_config_make_train_ner_reads_is_a_spacy_ner_config():
    import spacy

    from paperlake.tagging.training.train import CONFIG_PATH

    config = spacy.util.load_config(CONFIG_PATH)
    assert config["nlp"]["pipeline"][-1] == "ner"


def test_the_plural_of_a_task_named_by_an_activity_is_no_task(nlp):
    # "commonsense inferences" are inferences made, not the task commonsense inference (no training span is such a
    # plural; on the held-out folds 10 of 10 were wrong)
    text = "Models make commonsense inferences and next token predictions. We study commonsense inference and MIAs."
    assert [(e[2], e[1]) for e in entities(nlp, text)] == [("commonsense inference", "TASK"), ("MIAs", "TASK")]
    # a plural the gazetteer lists as an alias still matches, and other labels keep their plurals
    found = entities(nlp, "We run membership inference attacks on diffusion models.")
    assert [(e[2], e[1]) for e in found] == [("membership inference attacks", "TASK"), ("diffusion models", "METHOD")]
