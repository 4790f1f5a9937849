import json
from pathlib import Path

import pytest

from paperlake.commit import committed_run
from paperlake.config import GAZETTEER_PATHS
from paperlake.tagging.gazetteer import (
    alias_index,
    canonical_id,
    entity_key,
    known_keys,
    load_gazetteer,
    load_gazetteers,
    spellings,
)
from paperlake.tagging.tagger import build_tagger, tagger_files, tagger_version
from paperlake.tagging.training.evaluate import evaluate
from paperlake.tagging.training.gold import GOLD_PATH, load_gold
from paperlake.tagging.workers import tag_texts


@pytest.fixture(scope="module")
def nlp():
    return build_tagger(model_dir=None)


@pytest.fixture(scope="module")
def index():
    return alias_index(load_gazetteers(GAZETTEER_PATHS))


def entities(nlp, text, index=None):
    return [(eid, label, span) for eid, label, span, _, _ in tag_texts(nlp, [text], index)[0]]


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


def test_acronym_defined_in_a_paper_becomes_an_alias_there(nlp):
    found = entities(nlp, "We use speculative decoding (SpD). With SpD the latency drops.")
    assert ("speculative decoding", "METHOD", "SpD") in found
    # another paper's SpD is not speculative decoding
    assert ("speculative decoding", "METHOD", "SpD") not in entities(nlp, "With SpD the latency drops.")


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "We study inference-time intervention (ITI). ITI helps.",
            [("inference-time intervention", "METHOD"), ("ITI", "METHOD"), ("ITI", "METHOD")],
        ),
        (
            "Recent synthetic data generation (SDG) methods fail; SDG is hard.",
            [("synthetic data generation", "TASK"), ("SDG", "TASK"), ("SDG", "TASK")],
        ),
        (
            "We report the plausibility preference error (PPE); PPE drops.",
            [("plausibility preference error", "METRIC"), ("PPE", "METRIC"), ("PPE", "METRIC")],
        ),
        (
            "We use Masked generative models (MGMs). One MGM suffices.",
            [("Masked generative models", "METHOD"), ("MGMs", "METHOD"), ("MGM", "METHOD")],
        ),
        ("Vision Transformers (ViT) are strong.", [("Vision Transformers", "MODEL"), ("ViT", "MODEL")]),
        ("Large Language Models (LLMs) and Multi-Head Attention (MHA) are not entities.", []),
        (
            "We propose a decoding strategy called Best-of-Zorbs (BoZ). BoZ wins.",
            [("Best-of-Zorbs", "METHOD"), ("BoZ", "METHOD"), ("BoZ", "METHOD")],
        ),
        (
            "We build Quorra Glim (QG), an agentic planning system. QG plans.",
            [("Quorra Glim", "MODEL"), ("QG", "MODEL"), ("QG", "MODEL")],
        ),
        ("The zorbic lattice (ZL) model improves detectors.", [("zorbic lattice", "MODEL"), ("ZL", "MODEL")]),
        (
            "We run Zonal Zipping Zooms (Z3). Z3 is cheap.",
            [("Zonal Zipping Zooms", "METHOD"), ("Z3", "METHOD"), ("Z3", "METHOD")],
        ),
    ],
    ids=[
        "method",
        "task",
        "metric",
        "plural",
        "gazetteer-acronym",
        "generic",
        "called-before",
        "appositive-after",
        "head-noun-after",
        "letter-count",
    ],
)
def test_acronym_definitions_label_the_long_form_and_every_mention(nlp, text, expected):
    assert [(e[2], e[1]) for e in entities(nlp, text)] == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "We add zorbic token pruning~(ZTP) to the decoder; ZTP is cheap.",
            [("zorbic token pruning", "METHOD"), ("ZTP", "METHOD"), ("ZTP", "METHOD")],
        ),
        (
            r"We propose \textbf{Quorra Echo Sampling} (QES) for decoding. QES is fast.",
            [("Quorra Echo Sampling", "METHOD"), ("QES", "METHOD"), ("QES", "METHOD")],
        ),
        (
            r"We introduce \`Zorb-la-Glim Prompt Tuning (ZGPT), a scheme to tune prompts. ZGPT helps.",
            [("Zorb-la-Glim Prompt Tuning", "METHOD"), ("ZGPT", "METHOD"), ("ZGPT", "METHOD")],
        ),
        (
            "We introduce `Quorra Token Merging' (QTM) for vision models. QTM is fast.",
            [("Quorra Token Merging", "METHOD"), ("QTM", "METHOD"), ("QTM", "METHOD")],
        ),
    ],
    ids=["non-breaking-space", "command-braces", "escaped-quote", "quotes"],
)
def test_latex_markup_around_a_definition_is_neither_long_form_nor_acronym(nlp, text, expected):
    """Abstracts keep LaTeX markup: "learning~(RL)", "\\textbf{...} (ACR)", "`...' (ACR)" still define ACR."""
    assert [(e[2], e[1]) for e in entities(nlp, text)] == expected


def test_architectural_components_are_no_entities(nlp):
    """Guidelines, not annotated: architectural components (FFN, attention heads, cross-attention, ...)."""
    assert entities(nlp, "Its MLP and self-attention layers use RMSNorm; dense MLPs are slow.") == []
    # nor does a head noun after one make it a coined name
    assert entities(nlp, "Our fused Sparse MLP kernel is fast. The memory bound RMSNorm kernel overlaps.") == []


def test_an_evaluation_setting_is_no_kind_of_the_technique_it_modifies(nlp):
    """Guidelines: few-shot / zero-shot settings are not annotated, so they do not join the technique after them."""
    found = [e[2] for e in entities(nlp, "We compare few-shot in-context learning with one-shot pruning.")]
    assert found == ["in-context learning", "one-shot pruning"]


def test_an_acronym_defined_inside_a_name_is_part_of_it(nlp):
    """Guidelines, boundaries 4: "LF (ACR) prompting" is one name, and so is "ACR prompting" later on."""
    found = [
        (e[2], e[1], e[0])
        for e in entities(nlp, "We introduce the Sorry, Zorb Again (SZA) prompting. SZA prompting helps.")
    ]
    assert found == [("Sorry, Zorb Again (SZA) prompting", "METHOD", "Sorry, Zorb Again prompting"),
                     ("SZA prompting", "METHOD", "Sorry, Zorb Again prompting")]
    found = [(e[2], e[1]) for e in entities(nlp, "We study Quaxed Zorbing (QZ) sampling. QZ is cheap.")]
    assert found == [("Quaxed Zorbing (QZ) sampling", "METHOD"), ("QZ", "METHOD")]
    # any other word after the bracket is not part of the name
    assert [e[2] for e in entities(nlp, "We study Quaxed Zorbing (QZ) methods.")] == ["Quaxed Zorbing", "QZ"]


def test_names_glued_by_hyphens_are_one_entity(nlp):
    found = [
        (e[2], e[1])
        for e in entities(nlp, "We train Nemotron-Nano-9B-v2 and compare with Phi-Mamba, not BoN-aware tuning.")
    ]
    assert ("Nemotron-Nano-9B-v2", "MODEL") in found and ("Phi-Mamba", "MODEL") in found
    assert ("BoN", "METHOD") in found
    found = [(e[2], e[1]) for e in entities(nlp, "Scores on SNLI-hard drop for GPT-4-based judges.")]
    assert found == [("SNLI-hard", "DATASET"), ("GPT-4", "MODEL")]
    # a name widened by its kind words keeps the part hyphen-glued before them
    found = [(e[2], e[1]) for e in entities(nlp, "We train with our Multi-Zorb-Head DPO and A-la-zorb Prompt Tuning.")]
    assert found == [("Multi-Zorb-Head DPO", "METHOD"), ("A-la-zorb Prompt Tuning", "METHOD")]


def test_the_name_a_title_announces_is_an_entity_in_the_abstract(nlp):
    abstract = ["We present Zorblax. Zorblax is fast on long inputs."]
    assert tag_texts(nlp, abstract)[0] == []
    found = tag_texts(nlp, abstract, titles=["Zorblax: Inherently Parallel Inference"])[0]
    assert [(text, label) for _, label, text, _, _ in found] == [("Zorblax", "METHOD"), ("Zorblax", "METHOD")]
    found = tag_texts(nlp, ["We release Fooset to test agents."], titles=["Fooset: A Benchmark for Agents"])[0]
    assert [(text, label) for _, label, text, _, _ in found] == [("Fooset", "DATASET")]
    # a dataset the title announces is one entity, not the task named inside it
    found = tag_texts(
        nlp, ["We release Zorb-NLI publicly. Zorb-NLI is hard."], titles=["Zorb-NLI: a Dataset for Inferring Zorbs"]
    )[0]
    assert [(text, label) for _, label, text, _, _ in found] == [("Zorb-NLI", "DATASET"), ("Zorb-NLI", "DATASET")]
    # the abstract's own introduction labels it when the title's words do not
    found = tag_texts(
        nlp,
        ["Zorblax is an evolution of the Transformer architecture. Zorblax is fast."],
        titles=["Zorblax: Inherently Parallel Inference"],
    )[0]
    assert [(text, label) for _, label, text, _, _ in found if text == "Zorblax"] == [
        ("Zorblax", "MODEL"),
        ("Zorblax", "MODEL"),
    ]


def test_items_a_paper_lists_after_a_class_noun_take_its_label(nlp):
    found = [
        (e[2], e[1])
        for e in entities(
            nlp, "It helps on tasks such as calendar planning, negotiation and compression, even when small."
        )
    ]
    assert found == [("calendar planning", "TASK"), ("negotiation", "TASK")]
    found = [
        (e[2], e[1])
        for e in entities(nlp, "We test three tasks: estimating percentiles, drawing samples, and counting zorbs.")
    ]
    assert found == [("estimating percentiles", "TASK"), ("drawing samples", "TASK"), ("counting zorbs", "TASK")]
    assert [(e[2], e[1]) for e in entities(nlp, "Two dialogue datasets (Zorbchat and Quaxtalk) show it.")] == [
        ("Zorbchat", "DATASET"),
        ("Quaxtalk", "DATASET"),
    ]
    # one item in brackets, or a sentence after the colon, is no list
    assert entities(nlp, "We test reasoning tasks (zorbing). On three tasks: the model must plan ahead.") == []


def test_names_a_paper_defines_take_their_head_nouns_label(nlp):
    found = entities(nlp, "We propose KeyDiff, a training-free KV cache eviction method. KeyDiff is fast.")
    assert [(e[2], e[1]) for e in found if e[2] == "KeyDiff"] == [("KeyDiff", "METHOD"), ("KeyDiff", "METHOD")]
    assert ("ColorGrid", "DATASET") in [(e[2], e[1]) for e in entities(nlp, "We release ColorGrid, a new benchmark.")]
    assert [(e[2], e[1]) for e in entities(nlp, "We introduce Quaxen, an attention-based module. Quaxen is fast.")] == [
        ("Quaxen", "METHOD")
    ] * 2
    # its plural is the same entity
    found = entities(nlp, "We introduce Quaxen, an attention-based module. Quaxens are fast.")
    assert found == [("Quaxen", "METHOD", "Quaxen"), ("Quaxen", "METHOD", "Quaxens")]
    assert [(e[2], e[1]) for e in entities(nlp, "We report a 14% ZQR1 metric gain. ZQR1 rises.")] == [
        ("ZQR1", "METRIC")
    ] * 2
    assert [(e[2], e[1]) for e in entities(nlp, "Results on the ZebraMix dataset and two Chinese datasets.")] == [
        ("ZebraMix", "DATASET")
    ]


def test_an_evaluation_framework_a_paper_introduces_is_a_dataset(nlp):
    """Guidelines: "dataset/benchmark/environment/evaluation framework" -> DATASET, also for a hyphenated name."""
    labels = lambda text: [(span, label) for _, label, span in entities(nlp, text)]
    assert labels("We propose ZORB-Scope, an efficient framework for long-context evaluation.") == [
        ("ZORB-Scope", "DATASET")
    ]
    assert labels("We propose QuaxEval, a new evaluation paradigm for agents.") == [("QuaxEval", "DATASET")]
    assert labels("We propose ZORB-Kit, an efficient framework for long-context training.") == [("ZORB-Kit", "METHOD")]
    assert labels("We propose ZorbScore, a metric for summary evaluation.") == [("ZorbScore", "METRIC")]


def test_a_capitalised_word_after_an_abbreviations_period_starts_a_sentence(nlp):
    assert entities(nlp, "The level is close to p. Secondly, we construct a dataset of pairs.") == []


def test_a_papers_own_introduction_of_a_known_name_overrides_the_gazetteers_label(nlp):
    labels = lambda text, name: [label for _, label, span in entities(nlp, text) if span == name]
    assert labels("We curate CICERO, a dataset of dyadic conversations. Models fail on CICERO.", "CICERO") == [
        "DATASET",
        "DATASET",
    ]
    assert labels("Our method, called MOHAWK, distills Transformers into SSMs.", "MOHAWK") == ["METHOD"]
    # no introduction: the gazetteer's label
    assert labels("Cicero plays Diplomacy with people.", "Cicero") == ["MODEL"]
    # the last part of a hyphenated name is not what the introduction names
    assert labels("We propose LRQ-DiT, an efficient quantization framework for DiT models.", "DiT") == ["MODEL"]


def test_an_unknown_coined_name_listed_beside_a_model_or_dataset_takes_its_label(nlp):
    found = lambda text: [(span, label) for _, label, span in entities(nlp, text)]
    assert found("LLM serving frameworks like SGLang, vLLM and ZRB-Engine.")[-1] == ("ZRB-Engine", "MODEL")
    assert found("We test MaskGIT, ZORG, and QUAX.") == [("MaskGIT", "MODEL"), ("ZORG", "MODEL"), ("QUAX", "MODEL")]
    assert found("Results on ZOrb77 and ImageNet improve.") == [("ZOrb77", "DATASET"), ("ImageNet", "DATASET")]
    # hardware, units and lowercase words are no names, listed or not
    assert (
        found("We compare GPT-4 and NVIDIA hardware, GPT-4 and TeV scales, GPT-4 and humans.")
        == [("GPT-4", "MODEL")] * 3
    )


def test_a_task_like_phrase_listed_beside_a_task_is_a_task(nlp):
    found = lambda text: [(span, label) for _, label, span in entities(nlp, text)]
    assert found("It covers logical reasoning, zorbic sense reasoning, and quaxing.") == [
        ("logical reasoning", "TASK"), ("zorbic sense reasoning", "TASK"),
    ]
    assert found("It covers logical reasoning, zorbic sense reasoning, and quax planning.")[-1] == (
        "quax planning",
        "TASK",
    )
    assert found("Work in the field of zorbic reasoning and theorem proving.")[0] == ("zorbic reasoning", "TASK")
    # a clause is no name: the phrase must start after a list boundary
    assert found("We study zorbic reasoning and theorem proving.") == [("theorem proving", "TASK")]


def test_a_task_like_name_right_before_dataset_names_a_dataset(nlp):
    found = lambda text: [(span, label) for _, label, span in entities(nlp, text)]
    assert ("Zorbic ToM", "DATASET") in found("Stories come from the Zorbic ToM Dataset.")
    assert ("Quaxic-VQA", "DATASET") in found("It improves on Quaxic-VQA and InfoSeek datasets.")
    assert found("We use two NLI datasets and question answering benchmarks.") == [
        ("NLI", "TASK"),
        ("question answering", "TASK"),
    ]


def test_sentence_final_period_is_split_from_a_name(nlp):
    assert [t.text for t in nlp.make_doc("We test on GSM8K. It works with ViT.")] == [
        "We", "test", "on", "GSM8K", ".", "It", "works", "with", "ViT", ".",
    ]
    assert entities(nlp, "We test on GSM8K.") == [("GSM8K", "DATASET", "GSM8K")]


def test_numeric_precision_is_not_the_metric(nlp):
    text = "Weights in 4-bit precision and mixed precision training, activations in bfloat16 precision."
    assert [e for e in entities(nlp, text) if e[2] == "precision"] == []
    assert ("precision", "METRIC", "precision") in entities(nlp, "We report precision and recall.")


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
    training_code = {p.resolve() for p in Path(training.__file__).parent.glob("*.py")}
    assert {"train.py", "evaluate.py", "scirex.py", "entity_scores.py"} <= {p.name for p in training_code}
    assert not hashed & training_code, "editing an evaluation script must not invalidate every partition's tag cache"


def test_gazetteer_rejects_unknown_labels(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "X", "label": "ANIMAL", "aliases": ["X"]}) + "\n")
    with pytest.raises(ValueError, match="bad.jsonl:1: label 'ANIMAL'"):
        load_gazetteer(bad)


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


def test_a_rerun_with_unchanged_texts_and_tagger_tags_nothing_and_writes_the_same_partition(lake):
    from datetime import date

    import pyarrow as pa

    from paperlake.clean import clean_records
    from paperlake.commit import new_run_id
    from paperlake.records import PaperRecord
    from paperlake.schemas import CLEAN
    from paperlake.tagging.partition import loaded_tagger, tag_partition
    from tests.support.lake_runs import commit_tables

    day = date(2026, 11, 26)
    records = [
        PaperRecord(paper_id="2401.00001", title="A", abstract="We evaluate GPT-4 on MMLU with accuracy."),
        PaperRecord(paper_id="2401.00002", title="B", abstract="Nothing to see here at all."),
        PaperRecord(paper_id="2401.00003", title="C", abstract="LoRA and speculative decoding."),
    ]

    def tag_and_commit(records):
        run_id = new_run_id()
        clean = pa.Table.from_pylist(list(clean_records(records)), schema=CLEAN)
        lake.write_table("clean", "arxiv", day, clean, run_id)
        summary = tag_partition(lake, "arxiv", day, run_id)
        commit_tables(lake, "arxiv", day, clean=clean, run_id=run_id)
        return summary, lake.store.get(lake.run_key("entities", "arxiv", day, run_id))

    first, before = tag_and_commit(records)
    loaded_tagger.cache_clear()
    second, after = tag_and_commit(records)
    assert (first.counts["texts_tagged"], second.counts["texts_tagged"], second.counts["texts_from_cache"]) == (3, 0, 3)
    assert after == before
    assert loaded_tagger.cache_info().currsize == 0  # every text came from the cache: the pipeline was never built

    records[2] = PaperRecord(paper_id="2401.00003", title="C", abstract="LoRA and speculative decoding on GSM8K.")
    third, _ = tag_and_commit(records)
    assert third.counts["texts_tagged"] == 1
    assert (
        "GSM8K"
        in lake.read_table("entities", "arxiv", day, run_id=committed_run(lake, "arxiv", day))
        .column("entity_id")
        .to_pylist()
    )


def test_tagging_in_chunks_gives_the_same_entities_table_as_one_chunk(lake):
    from datetime import date

    import pyarrow as pa

    from paperlake.clean import clean_records
    from paperlake.config import BUNDLED_SNAPSHOT
    from paperlake.schemas import CLEAN
    from paperlake.sources.snapshot import parse_snapshot_page
    from paperlake.tagging.partition import tag_partition

    day = date(2026, 11, 26)
    clean = pa.Table.from_pylist(
        list(clean_records(parse_snapshot_page(BUNDLED_SNAPSHOT.read_text(encoding="utf-8"))[:60])), schema=CLEAN
    )
    tables = {}
    for chunk_rows, run_id in ((1000, "20261126T000000Z-0000000a"), (7, "20261126T000000Z-0000000b")):
        lake.write_table("clean", "snapshot", day, clean, run_id)
        summary = tag_partition(lake, "snapshot", day, run_id, chunk_rows=chunk_rows)
        tables[chunk_rows] = lake.read_table("entities", "snapshot", day, run_id=run_id)
        assert summary.counts["chunks"] == -(-60 // chunk_rows) and summary.counts["papers"] == 60
        assert not [key for key in lake.store.list("entities") if "chunk" in key]  # merged, then removed
    assert tables[7].num_rows > 0 and tables[7].equals(tables[1000])


@pytest.mark.parametrize(
    "text",
    [
        "Proton collisions at 13 TeV and 8 GeV recorded by ATLAS at the LHC; neutrinos above 100 keV seen by IceCube "
        "and LIGO.",
        "Thin films of FeSe on SrTiO3 and GaAs, with 56Ni decay lines, show a Phase III transition.",
        "Lattice QCD and AdS/CFT methods constrain the CFT data; published in PLoS ONE and at FOCS and RANDOM.",
        "DEEP SPECTRAL ANALYSIS OF STELLAR WINDS reveals variability.",
    ],
    ids=["units-facilities", "formulas-isotopes-roman", "theories-venues", "all-caps-words"],
)
def test_units_formulas_facilities_venues_and_all_caps_words_get_no_label(nlp, text):
    assert entities(nlp, text) == []


def test_an_unknown_coined_name_needs_evidence(nlp):
    assert entities(nlp, "Our ZorbLax results improve on the baseline.") == []  # no evidence: no label
    assert ("ZorbLax", "METHOD", "ZorbLax") in entities(nlp, "We propose ZorbLax to cut decoding cost.")
    assert ("ZorbLax", "METHOD", "ZorbLax") in entities(nlp, "We build a ZorbLax framework for agents.")
    # an ML-specific shape
    assert ("ZorbBench", "DATASET", "ZorbBench") in entities(
        nlp, "Scores on ZorbBench improve."
    )
    assert entities(nlp, "The burst GRB221009 and AMS-02 data agree.") == []  # a numbered name alone is no evidence
    assert [e[1] for e in entities(nlp, "We design the framework ZORBLAX for private inference. ZORBLAX is fast.")] == [
        "METHOD",
        "METHOD",
    ]
    assert [e[1] for e in entities(nlp, "We release a new benchmark ZorbLax.")] == ["DATASET"]


def test_an_acronym_and_the_long_form_its_definition_labels_share_one_entity_id(nlp):
    found = entities(nlp, "We study inference-time intervention (ITI). ITI helps.")
    assert {eid for eid, _, _ in found} == {"inference-time intervention"}
    # an accented initial spells its base letter
    found = entities(nlp, "We introduce Èlan Prompt Tuning (EPT) for decoding. EPT helps.")
    assert [(e[2], e[1]) for e in found] == [("Èlan Prompt Tuning", "METHOD"), ("EPT", "METHOD"), ("EPT", "METHOD")]
    assert {eid for eid, _, _ in found} == {"Èlan Prompt Tuning"}


def test_the_tag_stage_gates_each_paper_by_its_categories_and_stores_the_verdict(lake):
    from datetime import date

    import pyarrow as pa

    from paperlake.clean import clean_records
    from paperlake.commit import new_run_id
    from paperlake.records import PaperRecord
    from paperlake.schemas import CLEAN
    from paperlake.tagging.partition import tag_partition

    day, run_id = date(2026, 11, 26), new_run_id()
    text = "We fine-tune GPT-4 with LoRA and report accuracy on MMLU."
    records = [
        PaperRecord(paper_id="2401.00001", title="A", abstract=text, categories=["cs.CL"], primary_category="cs.CL"),
        PaperRecord(
            paper_id="2401.00002",
            title="B",
            abstract=text + " More.",
            categories=["hep-ex", "hep-ph"],
            primary_category="hep-ph",
        ),
    ]
    lake.write_table("clean", "arxiv", day, pa.Table.from_pylist(list(clean_records(records)), schema=CLEAN), run_id)
    tag_partition(lake, "arxiv", day, run_id)
    rows = lake.read_table("entities", "arxiv", day, run_id=run_id).to_pylist()
    by_paper = {
        pid: [(r["entity_id"], r["is_ml"]) for r in rows if r["paper_id"] == pid]
        for pid in ("2401.00001", "2401.00002")
    }
    assert by_paper["2401.00001"] == [("GPT-4", True), ("LoRA", True), ("accuracy", True), ("MMLU", True)]
    assert by_paper["2401.00002"] == [("GPT-4", False)]  # outside ML only the unambiguous name stays
    assert all(isinstance(r["ml_score"], float) for r in rows)


def test_the_tagged_sidecar_holds_the_gates_verdict_on_every_paper_even_one_left_with_no_entity(lake):
    from datetime import date

    import pyarrow as pa

    from paperlake.clean import clean_records
    from paperlake.commit import new_run_id
    from paperlake.lake import TAGGED_MANIFEST
    from paperlake.records import PaperRecord
    from paperlake.schemas import CLEAN
    from paperlake.tagging.partition import tag_partition

    day, run_id = date(2026, 11, 26), new_run_id()
    records = [
        PaperRecord(
            paper_id="2401.00001", title="A", abstract="We fine-tune LoRA adapters.",
            categories=["cs.CL"], primary_category="cs.CL",
        ),
        PaperRecord(
            paper_id="2401.00002", title="B", abstract="We fine-tune LoRA adapters.",
            categories=["hep-ph"], primary_category="hep-ph",
        ),
    ]
    lake.write_table("clean", "arxiv", day, pa.Table.from_pylist(list(clean_records(records)), schema=CLEAN), run_id)
    tag_partition(lake, "arxiv", day, run_id)
    entity_papers = {r["paper_id"] for r in lake.read_table("entities", "arxiv", day, run_id=run_id).to_pylist()}
    verdicts = {v["paper_id"]: v for v in lake.read_json("entities", "arxiv", day, TAGGED_MANIFEST, run_id)["verdicts"]}
    assert entity_papers == {"2401.00001"}  # the rejected paper keeps no entity row ...
    # ... but its verdict is kept
    assert (verdicts["2401.00001"]["is_ml"], verdicts["2401.00002"]["is_ml"]) == (
        True,
        False,
    )
    assert verdicts["2401.00002"]["categories"] == ["hep-ph"] and isinstance(verdicts["2401.00002"]["ml_score"], float)


def test_a_rerun_regates_a_paper_whose_categories_changed_while_its_text_did_not(lake):
    from datetime import date

    import pyarrow as pa

    from paperlake.clean import clean_records
    from paperlake.commit import new_run_id
    from paperlake.records import PaperRecord
    from paperlake.schemas import CLEAN
    from paperlake.tagging.partition import tag_partition
    from tests.support.lake_runs import commit_tables

    day = date(2026, 11, 26)
    text = "We fine-tune GPT-4 with LoRA and report accuracy on MMLU."

    def tag_and_commit(categories):
        run_id = new_run_id()
        record = PaperRecord(
            paper_id="2401.00001", title="A", abstract=text, categories=categories, primary_category=categories[0]
        )
        clean = pa.Table.from_pylist(list(clean_records([record])), schema=CLEAN)
        lake.write_table("clean", "arxiv", day, clean, run_id)
        summary = tag_partition(lake, "arxiv", day, run_id)
        commit_tables(lake, "arxiv", day, clean=clean, run_id=run_id)
        rows = lake.read_table("entities", "arxiv", day, run_id=run_id).to_pylist()
        return summary, sorted((r["entity_id"], r["is_ml"]) for r in rows)

    _, rejected = tag_and_commit(["hep-ph"])
    recategorised, accepted = tag_and_commit(["cs.CL", "hep-ph"])
    _, again = tag_and_commit(["cs.CL", "hep-ph"])
    assert rejected == [("GPT-4", False)]
    assert recategorised.counts["texts_tagged"] == 1  # same text, new categories: tagged and gated again
    assert accepted == again == [("GPT-4", True), ("LoRA", True), ("MMLU", True), ("accuracy", True)]


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


def test_a_metric_spelled_like_a_verb_is_no_metric_where_it_is_the_verb(nlp):
    text = "The model learns to recall facts and to accurately recall them. We report recall and precision."
    assert [(e[2], e[1]) for e in entities(nlp, text)] == [("recall", "METRIC"), ("precision", "METRIC")]


def test_a_gazetteer_alias_written_as_a_definition_matches_as_its_two_names(nlp):
    # guidelines, boundaries 4: "vision transformer (ViT)" is two spans; a bracketed variant stays part of the name
    found = entities(nlp, "We introduce a vision transformer (ViT) architecture and compare it with GPT-3 (175B).")
    assert [(e[2], e[1]) for e in found] == [
        ("vision transformer", "MODEL"), ("ViT", "MODEL"), ("GPT-3 (175B)", "MODEL"),
    ]


def test_a_phrase_the_title_names_and_the_abstract_repeats_is_one_entity(nlp):
    """Guidelines, boundaries 5: a kind modifier belongs to the name; the title says which phrase is the paper's."""
    found = lambda text, title: [(span, label) for _, label, span, _, _ in tag_texts(nlp, [text], titles=[title])[0]]
    text = "We propose zorbic prompting, a cheap scheme. Zorbic prompting halves the cost of prompting."
    assert found(text, "Zorbic Prompting: Efficient Inference with Language Model APIs") == [
        ("zorbic prompting", "METHOD"), ("Zorbic prompting", "METHOD"), ("prompting", "METHOD"),
    ]
    # without the title, or said once, the modifier stays out
    assert found(text, "") == [("prompting", "METHOD")] * 3
    assert found("We propose zorbic prompting, a cheap scheme.", "Zorbic Prompting: Efficient Inference") == [
        ("prompting", "METHOD")
    ]
    # a phrase ending in a task head noun is a task; generic heads and classes name nothing
    text = "Humans and models disagree on quax verification. A quax verification benchmark is built."
    assert found(text, "Rethinking Quax Verification with Language Models") == [("quax verification", "TASK")] * 2
    # an inference or attack the title names is a problem: a TASK (guidelines: inference problems, membership
    # inference attacks)
    text = "We study zorb inference. Zorb inference algorithms are compared."
    assert found(text, "A Dataset for Zorb Inference Algorithms") == [
        ("zorb inference", "TASK"), ("Zorb inference", "TASK"),
    ]
    text = "Efficient inference of large language models is costly; efficient inference of large language models helps."
    assert found(text, "Efficient Inference of Large Language Models") == []


def test_a_long_form_spelled_out_in_brackets_after_a_tagged_name_is_the_same_entity(nlp):
    """Guidelines, boundaries 4: the acronym and its long form are two spans of one label, whichever comes first."""
    text = "We propose ZORK (Zero Overhead Reasoning over Knowledge), a scalable approach. ZORK is fast."
    found = entities(nlp, text)
    assert found == [
        ("ZORK", "METHOD", "ZORK"),
        ("ZORK", "METHOD", "Zero Overhead Reasoning over Knowledge"),
        ("ZORK", "METHOD", "ZORK"),
    ]
    # brackets that do not spell the name out are no long form
    text = "We propose ZORK (based on earlier work), a scalable approach."
    assert entities(nlp, text) == [("ZORK", "METHOD", "ZORK")]


def test_a_lowercase_phrase_after_a_calling_word_is_a_name_on_every_mention(nlp):
    found = lambda text: [(span, label) for _, label, span in entities(nlp, text)]
    text = "A chain of steps which we term zorbic reasoning. Zorbic reasoning is hard, and zorbic reasoning matters."
    assert found(text) == [("zorbic reasoning", "TASK"), ("Zorbic reasoning", "TASK"), ("zorbic reasoning", "TASK")]
    # the head noun before the calling word gives the label, and a tagged name at its end widens
    assert found("We introduce a methodology called quax fine-tuning, to adapt models.") == [
        ("quax fine-tuning", "METHOD")
    ]
    # one word before a stop word is no name
    assert found("A failure termed lost in the middle appears.") == []
    # LaTeX's opening quotes before the phrase are no part of it
    for quoted in (r"``zorbic glim sampling''", r"\`zorbic glim sampling'"):
        text = f"We use a method termed {quoted}. Then zorbic glim sampling runs."
        assert found(text) == [("zorbic glim sampling", "METHOD"), ("zorbic glim sampling", "METHOD")]


def test_a_metric_at_a_cutoff_is_a_metric_by_its_shape(nlp):
    found = lambda text: [(span, label) for _, label, span in entities(nlp, text)]
    assert found("It raises pass@48 from 60% to 67% and NDCG@25 to 0.8, with zorb@k voting.") == [
        ("pass@48", "METRIC"), ("NDCG@25", "METRIC"), ("zorb@k", "METRIC"),
    ]
    assert found("Write to someone@example for data.") == []


def test_a_dash_glued_to_a_definitions_bracket_hides_no_acronym(nlp):
    """"an ability called Theory-of-Mind (ToM)--and ...": spaCy splits a dash only between letters."""
    found = [(e[2], e[1]) for e in entities(nlp, "We add zorbic token pruning (ZTP)--and show that ZTP is cheap.")]
    assert found == [("zorbic token pruning", "METHOD"), ("ZTP", "METHOD"), ("ZTP", "METHOD")]


def test_a_verb_starts_no_phrase_the_title_names(nlp):
    """"Can We Use Probing to ...": `probing` is the name, "use probing" is no kind of it."""
    text = "In this article, we use probing to study fine-tuning. Our purpose was to use probing to understand it."
    spans = [span for _, _, span, _, _ in tag_texts(nlp, [text], titles=["Can We Use Probing to Understand BERT?"])[0]]
    assert spans == ["probing", "fine-tuning", "probing"]


def test_a_capitalised_word_before_a_model_name_names_a_variant_of_it(nlp):
    found = lambda text: [(span, label) for _, label, span in entities(nlp, text)]
    text = "It comes in two variants: Generative Llama-2, which writes, and Stream Llama-2, which reads."
    assert found(text) == [("Generative Llama-2", "MODEL"), ("Stream Llama-2", "MODEL")]
    # a word starting a sentence, or a function word, is no part of the name
    assert found("We train it. Stream Llama-2 is fast. And Llama-2 is slow.") == [("Llama-2", "MODEL")] * 2
    # nor is the last word of a longer name
    text = "We train a Threshold-Integrated Llama-2 model and a Sequentially Sampled Chunk Llama-2 here."
    assert found(text) == [("Llama-2", "MODEL")] * 2
