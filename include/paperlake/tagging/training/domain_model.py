"""The domain gate's text classifier: which half of the real corpus trains it, and its training (`make train-ner`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from paperlake.clean import clean_text
from paperlake.real_corpus import load_real_corpus
from paperlake.tagging.domain import (
    DOMAIN_MODEL_DIR,
    ML_CATEGORIES,
    ML_LABEL,
    OTHER_LABEL,
    domain_text,
    load_domain_model,
)


def corpus_half(paper_id: str | None, title: str) -> str:
    """"train" or "eval": a stable half of the real corpus (by id, else title) for training and for measuring."""
    return "train" if hashlib.sha256((paper_id or title).encode()).digest()[0] % 2 == 0 else "eval"


def train_domain_model(output: Path = DOMAIN_MODEL_DIR, epochs: int = 2, seed: int = 0) -> dict[str, int]:
    """Train the text classifier on the real corpus's training half (papers with categories) and write it."""
    import random
    import shutil

    import spacy
    from spacy.training import Example

    spacy.util.fix_random_seed(seed)
    papers = [p for p in load_real_corpus() if p.categories and corpus_half(p.id, p.title) == "train"]
    labels = [bool(set(p.categories) & ML_CATEGORIES) for p in papers]
    nlp = spacy.blank("en")
    textcat = nlp.add_pipe(
        "textcat",
        config={
            "model": {
                "@architectures": "spacy.TextCatBOW.v3",
                "exclusive_classes": True,
                "ngram_size": 1,
                "no_output_layer": False,
            }
        },
    )
    textcat.add_label(ML_LABEL)
    textcat.add_label(OTHER_LABEL)
    examples = []
    for paper, ml in zip(papers, labels, strict=True):
        doc = nlp.make_doc(domain_text(clean_text(paper.title), clean_text(paper.abstract)))
        examples.append(Example.from_dict(doc, {"cats": {ML_LABEL: float(ml), OTHER_LABEL: float(not ml)}}))
    optimizer = nlp.initialize(lambda: examples)
    order = random.Random(seed)
    for _ in range(epochs):
        order.shuffle(examples)
        for start in range(0, len(examples), 32):
            nlp.update(examples[start : start + 32], sgd=optimizer)
    if output.exists():
        shutil.rmtree(output)
    nlp.meta["name"] = "paperlake_domain"
    nlp.meta["description"] = (
        f"`make train-ner`: is a paper about ML? spaCy textcat (TextCatBOW, seed {seed}, {epochs} epochs) on the"
        f" training half of include/data/real_corpus ({len(papers)} papers), labelled ML when any category is in "
        f"{sorted(ML_CATEGORIES)}"
    )
    nlp.to_disk(output)
    load_domain_model.cache_clear()
    return {"papers": len(papers), "ml": sum(labels)}
