from paperlake.tagging.workers import tag_texts
from tests.unit.tagging.conftest import entities


def test_an_evaluation_setting_is_no_kind_of_the_technique_it_modifies(nlp):
    """Guidelines: few-shot / zero-shot settings are not annotated, so they do not join the technique after them."""
    found = [e[2] for e in entities(nlp, "We compare few-shot in-context learning with one-shot pruning.")]
    assert found == ["in-context learning", "one-shot pruning"]


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


def test_a_metric_spelled_like_a_verb_is_no_metric_where_it_is_the_verb(nlp):
    text = "The model learns to recall facts and to accurately recall them. We report recall and precision."
    assert [(e[2], e[1]) for e in entities(nlp, text)] == [("recall", "METRIC"), ("precision", "METRIC")]


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


def test_a_verb_starts_no_phrase_the_title_names(nlp):
    """"Can We Use Probing to ...": `probing` is the name, "use probing" is no kind of it."""
    text = "In this article, we use probing to study fine-tuning. Our purpose was to use probing to understand it."
    spans = [span for _, _, span, _, _ in tag_texts(nlp, [text], titles=["Can We Use Probing to Understand BERT?"])[0]]
    assert spans == ["probing", "fine-tuning", "probing"]


def test_an_authors_name_in_a_citation_is_no_name(nlp):
    """"(Webb, Holyoak, and Lu, 2023)": capitalised words in a bracket with a year are authors, whatever the words
    before them; the same word listed outside a citation still counts."""
    text = '"Emergent reasoning in language models," (Webb, Zorbak, and Lu, 2023) argue that large models such as GPT-3'
    assert [e[2] for e in entities(nlp, text)] == ["GPT-3"]
    text = "We train large language models, Zorbak, and GPT-3."
    assert "Zorbak" in [e[2] for e in entities(nlp, text)]
