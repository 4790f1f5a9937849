from tests.unit.tagging.conftest import entities


def test_a_metric_at_a_cutoff_is_a_metric_by_its_shape(nlp):
    found = lambda text: [(span, label) for _, label, span in entities(nlp, text)]
    assert found("It raises pass@48 from 60% to 67% and NDCG@25 to 0.8, with zorb@k voting.") == [
        ("pass@48", "METRIC"), ("NDCG@25", "METRIC"), ("zorb@k", "METRIC"),
    ]
    assert found("Write to someone@example for data.") == []


def test_a_capitalised_word_before_a_model_name_names_a_variant_of_it(nlp):
    found = lambda text: [(span, label) for _, label, span in entities(nlp, text)]
    text = "It comes in two variants: Generative Llama-2, which writes, and Stream Llama-2, which reads."
    assert found(text) == [("Generative Llama-2", "MODEL"), ("Stream Llama-2", "MODEL")]
    # a word starting a sentence, or a function word, is no part of the name
    assert found("We train it. Stream Llama-2 is fast. And Llama-2 is slow.") == [("Llama-2", "MODEL")] * 2
    # nor is the last word of a longer name
    text = "We train a Threshold-Integrated Llama-2 model and a Sequentially Sampled Chunk Llama-2 here."
    assert found(text) == [("Llama-2", "MODEL")] * 2
