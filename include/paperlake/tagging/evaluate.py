"""Score the tagger against the hand-annotated gold set: P/R/F1 per label, recall on unseen names, the
per-paper entity sets and their normalisation (`entity_scores`), and stray labels on abstracts outside ML."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from paperlake.config import DATA_DIR
from paperlake.tagging.gazetteer import LABELS, entity_key, known_keys, load_gazetteers

GOLD_PATH = DATA_DIR / "ner_gold" / "gold.jsonl"
NON_ML_PATH = DATA_DIR / "non_ml" / "abstracts.jsonl"

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


def predict(nlp, docs: list[GoldDoc], index: dict[str, tuple[str, str]]) -> list[list[tuple[str, str, str, int, int]]]:
    """The tagger's mentions (entity_id, label, text, start, end) per gold abstract, read with its title as the tag stage does."""
    from paperlake.tagging.partition import entity_spans

    return entity_spans(nlp, index, [d.text for d in docs], [d.title for d in docs], batch_size=64)


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


def evaluate(nlp, docs: list[GoldDoc], known: set[str], index: dict[str, tuple[str, str]]) -> dict:
    """Span scores, unseen-name recall, per-paper entity scores and the normalisation check for one tagger."""
    from paperlake.tagging.entity_scores import document_scores, gold_entity_ids, normalisation_check

    mentions = predict(nlp, docs, index)
    predicted = [frozenset((start, end, label) for _, label, _, start, end in m) for m in mentions]
    gold_ids = gold_entity_ids(docs, index)
    return {
        "scores": score([d.spans for d in docs], predicted),
        "unseen": unseen_recall(docs, predicted, known),
        "documents": document_scores(gold_ids, mentions),
        "normalisation": normalisation_check(gold_ids, mentions),
    }


def non_ml_labels(nlp, index: dict[str, tuple[str, str]], path: Path = NON_ML_PATH) -> list[tuple[str, list[tuple[str, str, str, int, int]]]]:
    """(field, mentions) for each abstract outside ML: every label the tagger gives there is a stray."""
    from paperlake.tagging.partition import entity_spans

    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    mentions = entity_spans(nlp, index, [i["text"] for i in items], [i["title"] for i in items], batch_size=64)
    return [(item["field"], m) for item, m in zip(items, mentions)]


def _score_table(scores: dict[str, dict[str, float]]) -> list[str]:
    lines = [f"  {'label':<8} {'P':>6} {'R':>6} {'F1':>6} {'support':>8}"]
    for label, s in scores.items():
        lines.append(f"  {label:<8} {s['precision']:>6.3f} {s['recall']:>6.3f} {s['f1']:>6.3f} {s['support']:>8}")
    return lines


def format_scores(name: str, report: dict) -> str:
    unseen, norm = report["unseen"], report["normalisation"]
    lines = [f"{name}: spans (exact offsets and label)", *_score_table(report["scores"])]
    lines.append(f"  unseen-name recall {unseen['recall']:.3f} (of {unseen['support']} gold spans not in the gazetteer)")
    lines += [f"{name}: per paper, the set of (entity_id, label) against gold", *_score_table(report["documents"])]
    lines.append(
        f"  normalisation over exactly found mentions: {norm['entities']} gold entities ({norm['with_variants']} found in"
        f" 2+ spellings); {len(norm['splits'])} split over several entity ids, {len(norm['merges'])} entity ids merging several"
    )
    lines += [f"    split {entity[0]!r} ({entity[1]}) -> {[i for i, _ in ids]}" for entity, ids in norm["splits"]]
    lines += [f"    merge {pair[0]!r} ({pair[1]}) <- {[e for e, _ in entities]}" for pair, entities in norm["merges"]]
    return "\n".join(lines)


def format_non_ml(name: str, tagged: list[tuple[str, list]]) -> str:
    labels = sum(len(m) for _, m in tagged)
    clean = sum(not m for _, m in tagged)
    lines = [f"{name}: {labels} stray labels on {len(tagged)} abstracts outside ML ({labels / len(tagged):.2f} per abstract;"
             f" {clean} with none)"]
    lines += [f"    {field}: " + ", ".join(f"{text} {label}" for _, label, text, _, _ in m) for field, m in tagged if m]
    return "\n".join(lines)


def main(split: str = "test") -> None:
    """`make eval-ner`: rules only, and rules + trained model when it exists, on the gold split and the non-ML abstracts."""
    from paperlake.config import GAZETTEER_PATHS
    from paperlake.tagging.gazetteer import alias_index
    from paperlake.tagging.pipeline import MODEL_DIR, build_tagger

    docs = load_gold(split=split)
    entries = load_gazetteers(GAZETTEER_PATHS)
    known, index = known_keys(entries), alias_index(entries)
    print(f"gold {split} split: {len(docs)} abstracts, {sum(len(d.spans) for d in docs)} spans")
    taggers = {"rules only": build_tagger(model_dir=None)}
    if MODEL_DIR.exists():
        taggers["rules + trained model"] = build_tagger(model_dir=MODEL_DIR)
    else:
        print(f"no trained model at {MODEL_DIR}: run `make train-ner`")
    for name, nlp in taggers.items():
        print(format_scores(name, evaluate(nlp, docs, known, index)))
        print(format_non_ml(name, non_ml_labels(nlp, index)))


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "test")
