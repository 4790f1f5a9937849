"""Score the tagger against the hand-annotated gold set: P/R/F1 per label, and recall on unseen names."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from paperlake.config import DATA_DIR
from paperlake.tagging.gazetteer import LABELS, entity_key, known_keys, load_gazetteers

GOLD_PATH = DATA_DIR / "ner_gold" / "gold.jsonl"

Span = tuple[int, int, str]


@dataclass(frozen=True)
class GoldDoc:
    paper_index: int
    text: str
    spans: frozenset[Span]
    split: str
    title: str = ""


def load_gold(path: Path = GOLD_PATH, split: str | None = None) -> list[GoldDoc]:
    """The gold documents, optionally one split ("dev" or "test")."""
    docs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if split is None or item["split"] == split:
            spans = frozenset((s["start"], s["end"], s["label"]) for s in item["spans"])
            docs.append(GoldDoc(item["paper_index"], item["text"], spans, item["split"], item.get("title", "")))
    return docs


def training_annotations() -> list[GoldDoc]:
    """Every hand annotation the tagger may learn from: `train-*.jsonl`, then the gold dev split. Never the test split."""
    files = sorted(GOLD_PATH.parent.glob("train-*.jsonl"))
    return [doc for path in files for doc in load_gold(path)] + load_gold(split="dev")


def predict(nlp, docs: list[GoldDoc]) -> list[frozenset[Span]]:
    """The tagger's spans for each gold abstract, read with its title as context (as the tag stage does)."""
    from paperlake.tagging.pipeline import titled_docs

    tagged = nlp.pipe(titled_docs(nlp, [d.text for d in docs], [d.title for d in docs]))
    return [frozenset((e.start_char, e.end_char, e.label_) for e in doc.ents) for doc in tagged]


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def score(gold: list[frozenset[Span]], predicted: list[frozenset[Span]]) -> dict[str, dict[str, float]]:
    """Exact-match scores (same offsets and label) per label and overall (micro-averaged)."""
    counts = {label: Counter() for label in LABELS}
    for g, p in zip(gold, predicted):
        for span in p & g:
            counts[span[2]]["tp"] += 1
        for span in p - g:
            counts[span[2]]["fp"] += 1
        for span in g - p:
            counts[span[2]]["fn"] += 1
    result = {label: prf(c["tp"], c["fp"], c["fn"]) for label, c in counts.items()}
    total = sum(counts.values(), Counter())
    result["overall"] = prf(total["tp"], total["fp"], total["fn"])
    return result


def unseen_recall(docs: list[GoldDoc], predicted: list[frozenset[Span]], known: set[str]) -> dict[str, float]:
    """Recall on gold spans whose name is not in the gazetteer (what only generalisation can find)."""
    hits = total = 0
    for doc, p in zip(docs, predicted):
        for span in doc.spans:
            if entity_key(doc.text[span[0]:span[1]]) not in known:
                total += 1
                hits += span in p
    return {"recall": hits / total if total else 0.0, "support": total}


def evaluate(nlp, docs: list[GoldDoc], known: set[str]) -> dict:
    predicted = predict(nlp, docs)
    return {"scores": score([d.spans for d in docs], predicted), "unseen": unseen_recall(docs, predicted, known)}


def format_scores(name: str, report: dict) -> str:
    lines = [f"{name}", f"  {'label':<8} {'P':>6} {'R':>6} {'F1':>6} {'support':>8}"]
    for label, s in report["scores"].items():
        lines.append(f"  {label:<8} {s['precision']:>6.3f} {s['recall']:>6.3f} {s['f1']:>6.3f} {s['support']:>8}")
    unseen = report["unseen"]
    lines.append(f"  unseen-name recall {unseen['recall']:.3f} (of {unseen['support']} gold spans not in the gazetteer)")
    return "\n".join(lines)


def main(split: str = "test") -> None:
    """`make eval-ner`: rules only, and rules + trained model when it exists, on the gold split."""
    from paperlake.tagging.pipeline import MODEL_DIR, build_tagger
    from paperlake.config import GAZETTEER_PATHS

    docs = load_gold(split=split)
    known = known_keys(load_gazetteers(GAZETTEER_PATHS))
    print(f"gold {split} split: {len(docs)} abstracts, {sum(len(d.spans) for d in docs)} spans")
    print(format_scores("rules only", evaluate(build_tagger(model_dir=None), docs, known)))
    if MODEL_DIR.exists():
        print(format_scores("rules + trained model", evaluate(build_tagger(model_dir=MODEL_DIR), docs, known)))
    else:
        print(f"no trained model at {MODEL_DIR}: run `make train-ner`")


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "test")
