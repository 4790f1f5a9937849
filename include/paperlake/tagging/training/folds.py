"""Held-out folds of the hand annotations, the data tagging rules are chosen on: each fold is scored with
`annotated_names.jsonl` rebuilt from the other annotation files, so none of its names is known in advance
(the shipped file holds every training file's names, the dev split's too). Never reads the test split.

`python -m paperlake.tagging.training.folds` prints span P/R/F1, unseen-name recall and per-paper F1 per fold.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from paperlake.config import PATTERNS_PATH
from paperlake.tagging.gazetteer import alias_index, known_keys, load_gazetteer, load_gazetteers
from paperlake.tagging.tagger import build_tagger
from paperlake.tagging.training.annotated_names import annotated_names
from paperlake.tagging.training.evaluate import evaluate
from paperlake.tagging.training.gold import GOLD_PATH, GoldDoc, load_gold

# fold -> (the annotation files it scores, the files its annotated names are rebuilt from)
FOLDS = {
    "dev": (("dev",), ("train-a", "train-b", "train-c")),
    "train-c": (("train-c",), ("train-a", "train-b", "dev")),
    "train-a+b": (("train-a", "train-b"), ("train-c", "dev")),
}


def annotation_files() -> dict[str, list[GoldDoc]]:
    """The training annotations by file: the gold dev split ("dev") and each `train-*.jsonl` by its stem."""
    files = {path.stem: load_gold(path) for path in sorted(GOLD_PATH.parent.glob("train-*.jsonl"))}
    return {"dev": load_gold(split="dev"), **files}


def fold_names(rest: list[GoldDoc]) -> list[dict]:
    """The annotated-names entries `make train-ner` would write from `rest` alone."""
    return annotated_names(rest, known_keys(load_gazetteer(PATTERNS_PATH)))


def score_fold(held: list[GoldDoc], rest: list[GoldDoc], directory: Path) -> dict:
    """`evaluate.evaluate`'s report for the rules on `held`, with the annotated names rebuilt from `rest`."""
    names = directory / "annotated_names.jsonl"
    names.write_text(
        "".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in fold_names(rest)), encoding="utf-8"
    )
    paths = (PATTERNS_PATH, names)
    entries = load_gazetteers(paths)
    return evaluate(build_tagger(paths, model_dir=None), held, known_keys(entries), alias_index(entries))


def main() -> None:
    files = annotation_files()
    with tempfile.TemporaryDirectory() as tmp:
        for fold, (held, rest) in FOLDS.items():
            report = score_fold([d for f in held for d in files[f]], [d for f in rest for d in files[f]], Path(tmp))
            spans, unseen, papers = report["scores"]["overall"], report["unseen"], report["documents"]["overall"]
            print(f"{fold:<10} span P / R / F1 {spans['precision']:.3f} / {spans['recall']:.3f} / {spans['f1']:.3f}"
                  f"  unseen-name recall {unseen['recall']:.3f} ({unseen['support']})  per-paper F1 {papers['f1']:.3f}")


if __name__ == "__main__":
    main()
