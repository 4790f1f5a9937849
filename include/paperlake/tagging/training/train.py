"""`make train-ner`: refresh the annotated-names gazetteer, train the domain NER, then the domain gate's text classifier
(`domain.py`).

Every abstract of the bundled sample is hand-annotated (the gold dev/test splits and
`train-{a,b,c}.jsonl`), so the model learns from hand labels: rule labels would just teach it
to imitate the rules, which run anyway. With `make train-ner SCIREX_DIR=<checkout of allenai/SciREX>`
it also learns from the title and abstract sections of the SciREX papers, their labels mapped to ours
(`scirex.py`: weak supervision). The gold dev split selects the model; the test split is never
read. The result (one `ner` component, a few MB) is written to include/data/models/ner, with what it
was trained on in its meta.json, and loaded from the repo at run time.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from paperlake.config import PATTERNS_PATH
from paperlake.tagging.components import fix_tokenizer
from paperlake.tagging.gazetteer import alias_index, load_gazetteer
from paperlake.tagging.tagger import MODEL_DIR
from paperlake.tagging.training.gold import GoldDoc, load_gold, training_annotations
from paperlake.tagging.training.scirex import load_scirex

CONFIG_PATH = Path(__file__).with_name("ner.cfg")


def gold_doc(nlp, item: GoldDoc):
    """A spaCy Doc of the annotated text with its spans as entities (token-aligned outward)."""
    from spacy.util import filter_spans

    doc = nlp.make_doc(item.text)
    spans = [
        doc.char_span(start, end, label=label, alignment_mode="expand") for start, end, label in sorted(item.spans)
    ]
    doc.ents = filter_spans([s for s in spans if s is not None])
    return doc


# The title and abstract sections of each SciREX paper: the part most like the abstracts we tag.
SCIREX_SECTIONS = 2


def training_docs(extra: list[GoldDoc] = ()):
    """(train docs, dev docs): the `train-*.jsonl` files (and `extra` examples) train, the gold dev split selects."""
    import spacy

    nlp = spacy.blank("en")
    fix_tokenizer(nlp)
    dev_indexes = {d.paper_index for d in load_gold(split="dev")}
    train = [d for d in training_annotations() if d.paper_index not in dev_indexes]
    return [gold_doc(nlp, d) for d in [*train, *extra]], [gold_doc(nlp, d) for d in load_gold(split="dev")]


def scirex_examples(scirex_dir: Path) -> list[GoldDoc]:
    """The SciREX title and abstract sections under `scirex_dir`, labelled by the curated gazetteer and shape cues."""
    return load_scirex(scirex_dir, alias_index(load_gazetteer(PATTERNS_PATH)), max_sections=SCIREX_SECTIONS)


def train(output: Path = MODEL_DIR, scirex_dir: Path | None = None) -> Path:
    """Train with spaCy's trainer (on SciREX too when given) and copy the best model into the repo."""
    from spacy.cli.train import train as spacy_train
    from spacy.tokens import DocBin
    from spacy.util import load_config

    extra = scirex_examples(scirex_dir) if scirex_dir else []
    train_docs, dev_docs = training_docs(extra)
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
    record_training(output, len(train_docs) - len(extra), len(extra))
    return output


def record_training(model_dir: Path, hand_annotated: int, scirex_sections: int) -> None:
    """Say in the model's meta.json what it was trained on (read by whoever ships or loads it)."""
    import srsly

    meta_path = model_dir / "meta.json"
    meta = srsly.read_json(meta_path)
    meta["description"] = (
        f"`make train-ner`: spaCy NER ({CONFIG_PATH.name}, seed 0) trained on {hand_annotated} hand-annotated abstracts"
        f" (include/data/ner_gold/train-*.jsonl)"
        + (f" and {scirex_sections} SciREX title/abstract sections mapped to our labels" if scirex_sections else "")
        + "; selected on the gold dev split"
    )
    meta["sources"] = [{"name": "paperlake hand annotations", "url": "include/data/ner_gold", "license": "project"}] + (
        [{"name": "SciREX docs/train_docs", "url": "https://github.com/allenai/SciREX", "license": "Apache-2.0"}]
        if scirex_sections
        else []
    )
    srsly.write_json(meta_path, meta)  # spaCy's own format, so a retrained model's diff stays small


if __name__ == "__main__":
    import argparse

    from paperlake.tagging.training.annotated_names import write_annotated_names

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scirex", type=Path, help="a checkout of allenai/SciREX to learn from as well (docs/train_docs/*.json)"
    )
    args = parser.parse_args()
    print(f"annotated-names gazetteer: {write_annotated_names()} names")
    print(f"trained model written to {train(scirex_dir=args.scirex)}")
    from paperlake.tagging.domain import DOMAIN_MODEL_DIR
    from paperlake.tagging.training.domain_model import train_domain_model

    print(f"domain classifier written to {DOMAIN_MODEL_DIR}: {train_domain_model()}")
