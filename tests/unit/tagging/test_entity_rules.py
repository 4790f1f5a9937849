

from tests.unit.tagging.conftest import entities


def test_a_metric_at_a_cutoff_is_a_metric_by_its_shape(nlp):
    found = lambda text: [(span, label) for _, label, span in entities(nlp, text)]
    assert found("It raises pass@48 from 60% to 67% and NDCG@25 to 0.8, with zorb@k voting.") == [
        ("pass@48", "METRIC"), ("NDCG@25", "METRIC"), ("zorb@k", "METRIC"),
    ]
    assert found("Write to someone@example for data.") == []
