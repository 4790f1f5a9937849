"""`make train-ner`: train the domain NER from the rule-labelled sample plus the hand-annotated dev split.

The gold *test* split is never used here. The result (one `ner` component, a few MB) is written to
include/data/models/ner and loaded from the repo at run time.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from paperlake.config import BUNDLED_SNAPSHOT, DATA_DIR
from paperlake.tagging.evaluate import GoldDoc, load_gold
from paperlake.tagging.pipeline import MODEL_DIR, build_tagger

CONFIG_PATH = Path(__file__).with_name("ner.cfg")
# Hand-annotated abstracts beyond the gold set, same guidelines, used for training only.
TRAIN_ANNOTATIONS = DATA_DIR / "ner_gold"
GOLD_WEIGHT = 3  # the hand-corrected dev abstracts count three times against rule-labelled ones


def gold_doc(nlp, item: GoldDoc):
    doc = nlp.make_doc(item.text)
    spans = [doc.char_span(start, end, label=label, alignment_mode="expand") for start, end, label in sorted(item.spans)]
    from spacy.util import filter_spans

    doc.ents = filter_spans([s for s in spans if s is not None])
    return doc


def training_docs():
    """(train docs, dev docs).

    With hand-annotated training files (`train-*.jsonl`): those train, and the gold dev split is
    held out for model selection. Without them: the gold dev split trains and selects. Rule labels
    cover the sample abstracts nobody annotated. The gold test split is never read.
    """
    from paperlake.sources.snapshot import parse_snapshot_page

    gold = load_gold()
    hand = [doc for path in sorted(TRAIN_ANNOTATIONS.glob("train-*.jsonl")) for doc in load_gold(path)]
    annotated = {d.paper_index for d in gold} | {d.paper_index for d in hand}
    dev = [d for d in gold if d.split == "dev"]
    rules = build_tagger(model_dir=None)
    records = parse_snapshot_page(BUNDLED_SNAPSHOT.read_text(encoding="utf-8"))
    texts = [" ".join(r.abstract.split()) for i, r in enumerate(records) if i not in annotated]
    rule_docs = []
    for tagged in rules.pipe(texts):
        doc = rules.make_doc(tagged.text)
        doc.ents = [doc.char_span(e.start_char, e.end_char, label=e.label_) for e in tagged.ents]
        rule_docs.append(doc)
    dev_docs = [gold_doc(rules, d) for d in dev]
    if hand:
        return rule_docs + [gold_doc(rules, d) for d in hand] * GOLD_WEIGHT, dev_docs
    return rule_docs + dev_docs * GOLD_WEIGHT, dev_docs


def train(output: Path = MODEL_DIR) -> Path:
    """Train with spaCy's trainer and copy the best model into the repo."""
    from spacy.cli.train import train as spacy_train
    from spacy.tokens import DocBin

    train_docs, dev_docs = training_docs()
    with tempfile.TemporaryDirectory(prefix="paperlake-ner-") as tmp:
        tmp_path = Path(tmp)
        DocBin(docs=train_docs).to_disk(tmp_path / "train.spacy")
        DocBin(docs=dev_docs).to_disk(tmp_path / "dev.spacy")
        spacy_train(
            CONFIG_PATH, tmp_path / "out",
            overrides={"paths.train": str(tmp_path / "train.spacy"), "paths.dev": str(tmp_path / "dev.spacy")},
        )
        if output.exists():
            shutil.rmtree(output)
        shutil.copytree(tmp_path / "out" / "model-best", output)
    return output


if __name__ == "__main__":
    print(f"trained model written to {train()}")
