"""The hand-annotated gold set: its types, the splits, the training annotations, and the P/R/F1 they are scored with."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from paperlake.config import DATA_DIR

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
    """Every hand annotation the tagger may learn from: `train-*.jsonl`, then the gold dev split. Never the test
    split."""
    files = sorted(GOLD_PATH.parent.glob("train-*.jsonl"))
    return [doc for path in files for doc in load_gold(path)] + load_gold(split="dev")


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
