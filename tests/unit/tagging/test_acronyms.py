import pytest

from tests.unit.tagging.conftest import entities


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


def test_an_acronym_and_the_long_form_its_definition_labels_share_one_entity_id(nlp):
    found = entities(nlp, "We study inference-time intervention (ITI). ITI helps.")
    assert {eid for eid, _, _ in found} == {"inference-time intervention"}
    # an accented initial spells its base letter
    found = entities(nlp, "We introduce Èlan Prompt Tuning (EPT) for decoding. EPT helps.")
    assert [(e[2], e[1]) for e in found] == [("Èlan Prompt Tuning", "METHOD"), ("EPT", "METHOD"), ("EPT", "METHOD")]
    assert {eid for eid, _, _ in found} == {"Èlan Prompt Tuning"}


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


def test_a_dash_glued_to_a_definitions_bracket_hides_no_acronym(nlp):
    """"an ability called Theory-of-Mind (ToM)--and ...": spaCy splits a dash only between letters."""
    found = [(e[2], e[1]) for e in entities(nlp, "We add zorbic token pruning (ZTP)--and show that ZTP is cheap.")]
    assert found == [("zorbic token pruning", "METHOD"), ("ZTP", "METHOD"), ("ZTP", "METHOD")]


def test_a_class_noun_after_a_papers_own_definition_is_part_of_the_name(nlp):
    """Guidelines, boundaries 4: "Structured state space sequence (S4) models" is one span; the later S4 is the same
    entity. After a name the rules know, "models" is the class it modifies: `Mixture-of-Experts` + `MoE`."""
    found = entities(nlp, "Structured zorb wave (SZW) models are fast. We scale SZW further.")
    assert found == [
        ("Structured zorb wave", "MODEL", "Structured zorb wave (SZW) models"),
        ("Structured zorb wave", "MODEL", "SZW"),
    ]
    found = [(e[2], e[1]) for e in entities(nlp, "Sparse Mixture-of-Experts (MoE) models scale well.")]
    assert ("Mixture-of-Experts (MoE) models", "METHOD") not in found
    assert ("MoE", "METHOD") in found


def test_a_hyphenated_acronym_in_brackets_is_defined_too(nlp):
    """"Online Audio-Visual Event Parsing (On-AVEP)": spaCy splits the acronym at its hyphen into three tokens."""
    text = "We introduce Zorbic Audio-Visual Quark Parsing (Zo-AVQP), a new setting. The Zo-AVQP task is hard."
    found = [(e[2], e[1], e[0]) for e in entities(nlp, text)]
    assert found == [
        ("Zorbic Audio-Visual Quark Parsing", "TASK", "Zorbic Audio-Visual Quark Parsing"),
        ("Zo-AVQP", "TASK", "Zorbic Audio-Visual Quark Parsing"),
        ("Zo-AVQP", "TASK", "Zorbic Audio-Visual Quark Parsing"),
    ]
    # a part the exclusion lists know keeps a hyphenated acronym out: a survey's data release is no method
    assert entities(nlp, "We use the Sloan Digital Sky Survey V (SDSS-V). SDSS-V spectra help.") == []


def test_an_acronym_for_a_tagged_model_and_a_generic_class_is_a_model_of_its_own(nlp):
    """"MatFormer language model (MatLM)": the long form is generic past the name, the acronym names a model; a
    "large language model (LLM)" stays generic."""
    found = entities(nlp, "We train a RoBERTa language model (RoLM). RoLM is fast.")
    assert [(e[2], e[1], e[0]) for e in found if e[2] == "RoLM"] == [("RoLM", "MODEL", "RoLM")] * 2
    assert not [e for e in found if "language model" in e[2]]
    assert entities(nlp, "We train a large language model (LLM). The LLM is fast.") == []


def test_the_plural_of_a_generic_long_form_is_generic_too(nlp):
    """"Artificial Intelligences (AIs)" is a class, like "artificial intelligence (AI)"."""
    assert entities(nlp, "We study humans and Artificial Intelligences (AIs). AIs learn.") == []


def test_names_tagged_inside_a_papers_own_long_form_are_parts_of_it(nlp):
    """"ICL Activation Alignment (IA2)": a tagged name inside the long form does not hide the definition; one that
    ends it ("MatFormer-based ViT (MatViT)") or runs on over the bracket (a known "... (S4) models") keeps its span."""
    text = "We introduce RoBERTa Zorb Alignment (RZA), a new idea. RZA helps."
    long_form = "RoBERTa Zorb Alignment"
    assert [(e[2], e[1], e[0]) for e in entities(nlp, text)] == [
        (span, "METHOD", long_form) for span in (long_form, "RZA", "RZA")
    ]
    found = [(e[2], e[1], e[0]) for e in entities(nlp, "Structured state space sequence (S4) models are fast.")]
    name = "Structured state space sequence (S4) models"
    assert found == [(name, "MODEL", name)]


def test_a_title_case_long_form_takes_the_label_of_a_name_around_its_head(nlp):
    """"Natural Language Inference for Clinical Trial Data (NLI4CT)": the head ends before "for", in a tagged task;
    with no such name the Title Case default stays METHOD ("Tests of Accuracy with Random Points")."""
    text = "We release Natural Language Inference for Zorb Quark Data (NLIZQD). NLIZQD is hard."
    assert {(e[2], e[1]) for e in entities(nlp, text)} == {
        ("Natural Language Inference for Zorb Quark Data", "TASK"),
        ("NLIZQD", "TASK"),
    }
    text = "We introduce Tests of Accuracy with Zorbic Points (TAZP) as a check. TAZP works."
    assert {(e[2], e[1]) for e in entities(nlp, text)} == {
        ("Tests of Accuracy with Zorbic Points", "METHOD"),
        ("TAZP", "METHOD"),
    }


def test_a_generic_class_after_a_preposition_is_not_the_long_forms_head(nlp):
    """"fine-tuning stacks of language models (FSLM)" names a method; "small language models (SLMs)" stays generic."""
    found = {(e[2], e[1]) for e in entities(nlp, "We propose zorbic towers of language models (ZTLM). ZTLM is cheap.")}
    assert found == {("zorbic towers of language models", "METHOD"), ("ZTLM", "METHOD")}
    assert entities(nlp, "We train small zorbic language models (SZLMs). SZLMs are cheap.") == []
