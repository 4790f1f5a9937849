"""`make train-ner`: refresh the annotated-names gazetteer, then train the domain NER.

Every abstract of the bundled sample is hand-annotated (the gold dev/test splits and
`train-{a,b,c}.jsonl`), so the model learns from hand labels only: rule labels would just teach it
to imitate the rules, which run anyway. The gold dev split selects the model; the test split is never
read. The result (one `ner` component, a few MB) is written to include/data/models/ner and loaded
from the repo at run time.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from paperlake.tagging.evaluate import GoldDoc, load_gold, training_annotations
from paperlake.tagging.pipeline import MODEL_DIR

CONFIG_PATH = Path(__file__).with_name("ner.cfg")


def gold_doc(nlp, item: GoldDoc):
    """A spaCy Doc of the annotated text with its spans as entities (token-aligned outward)."""
    from spacy.util import filter_spans

    doc = nlp.make_doc(item.text)
    spans = [doc.char_span(start, end, label=label, alignment_mode="expand") for start, end, label in sorted(item.spans)]
    doc.ents = filter_spans([s for s in spans if s is not None])
    return doc


def training_docs():
    """(train docs, dev docs): the `train-*.jsonl` files train, the gold dev split selects."""
    import spacy

    from paperlake.tagging.components import fix_tokenizer

    nlp = spacy.blank("en")
    fix_tokenizer(nlp)
    dev_indexes = {d.paper_index for d in load_gold(split="dev")}
    train = [d for d in training_annotations() if d.paper_index not in dev_indexes]
    return [gold_doc(nlp, d) for d in train], [gold_doc(nlp, d) for d in load_gold(split="dev")]


def train(output: Path = MODEL_DIR) -> Path:
    """Train with spaCy's trainer and copy the best model into the repo."""
    from spacy.cli.train import train as spacy_train
    from spacy.tokens import DocBin
    from spacy.util import load_config

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
    # the temporary corpus paths would make every retrained copy differ from the last
    config = load_config(output / "config.cfg")
    config["paths"]["train"] = config["paths"]["dev"] = None
    config.to_disk(output / "config.cfg")
    return output


if __name__ == "__main__":
    from paperlake.tagging.annotated_names import write_annotated_names

    print(f"annotated-names gazetteer: {write_annotated_names()} names")
    print(f"trained model written to {train()}")
