"""The public SciREX corpus (allenai/SciREX, Apache-2.0) converted to our five labels, as weak supervision.

SciREX annotates full ML papers with Method / Task / Metric / Material spans under its own guidelines:
Method covers models and components, Material any data, and spans are often descriptions
("accurate understanding of the surrounding scene"). `map_label` keeps what our guidelines
(docs/annotation-guidelines.md) would annotate: Method -> MODEL or METHOD (the gazetteer's label, else
the shape of the name), Material -> DATASET when it is a name, Task -> TASK, Metric -> METRIC, and
drops generic, descriptive and component phrases. The corpus is read from a local copy given at run
time (`make train-ner SCIREX_DIR=...`); it is never copied into this repository.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from paperlake.tagging.gazetteer import lookup_key
from paperlake.tagging.training.gold import GoldDoc

# Our labels a SciREX type may become; a gazetteer label outside them is a conflict and the span is dropped.
COMPATIBLE = {"Method": {"MODEL", "METHOD"}, "Material": {"DATASET"}, "Task": {"TASK"}, "Metric": {"METRIC"}}
LEADING_WORDS = {
    "the",
    "a",
    "an",
    "our",
    "their",
    "its",
    "this",
    "these",
    "those",
    "such",
    "proposed",
    "novel",
    "standard",
    "existing",
}
# Heads that make a Method span a component or a description, not a named technique (guidelines: "Not annotated").
GENERIC_METHOD_HEADS = {
    "network",
    "networks",
    "architecture",
    "architectures",
    "model",
    "models",
    "approach",
    "approaches",
    "method",
    "methods",
    "framework",
    "frameworks",
    "system",
    "systems",
    "module",
    "modules",
    "layer",
    "layers",
    "component",
    "components",
    "unit",
    "units",
    "operation",
    "operations",
    "step",
    "steps",
    "stream",
    "streams",
    "feature",
    "features",
    "encoder",
    "encoders",
    "decoder",
    "decoders",
    "block",
    "blocks",
    "function",
    "functions",
    "baseline",
    "baselines",
    "variant",
    "variants",
    "technique",
    "techniques",
    "algorithm",
    "algorithms",
    "classifier",
    "classifiers",
    "parameters",
    "weights",
    "representation",
    "representations",
    "vectors",
    "embeddings",
    "head",
    "heads",
    "mechanism",
    "generator",
    "generators",
    "discriminator",
    "discriminators",
    "detector",
    "detectors",
    "filter",
    "filters",
    "policy",
    "policies",
    "configuration",
    "convolution",
    "convolutions",
    "kernel",
    "kernels",
    "objective",
    "training",
    "implementations",
}
GENERIC_TASK_HEADS = {
    "system",
    "systems",
    "step",
    "steps",
    "scenario",
    "scenarios",
    "problem",
    "problems",
    "setting",
    "settings",
    "applications",
}
VAGUE_METRICS = {
    "performance",
    "quality",
    "efficiency",
    "cost",
    "memory",
    "complexity",
    "robustness",
    "speed",
    "results",
    "gains",
    "improvement",
}
METRIC_HEADS = {
    "accuracy",
    "score",
    "scores",
    "rate",
    "rates",
    "error",
    "errors",
    "precision",
    "recall",
    "loss",
    "time",
    "perplexity",
    "f1",
    "auc",
    "map",
    "iou",
    "latency",
    "throughput",
    "speedup",
    "flops",
    "distance",
    "ratio",
    "likelihood",
}
DATASET_WORDS = (
    "dataset",
    "datasets",
    "data set",
    "corpus",
    "corpora",
    "benchmark",
    "benchmarks",
    "treebank",
    "challenge",
    "suite",
)
MAX_TASK_WORDS = 5


def detokenize(words: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """The words as running text (no space before closing punctuation, hyphens glued) and each word's char offsets."""
    pieces, offsets, length = [], [], 0
    for i, word in enumerate(words):
        glued = (
            i == 0
            or word in {",", ".", ";", ":", ")", "]", "?", "!", "%", "'s", "-"}
            or words[i - 1] in {"(", "[", "-"}
        )
        if not glued:
            pieces.append(" ")
            length += 1
        offsets.append((length, length + len(word)))
        pieces.append(word)
        length += len(word)
    return "".join(pieces), offsets


def _trimmed(text: str) -> tuple[int, int]:
    """Offsets inside `text` without leading determiners/evaluative words, a trailing possessive, and an
    unbalanced parenthesis ("reinforcement learning (RL" -> "reinforcement learning", "SVM)" -> "SVM")."""
    start, end = 0, len(text)
    while True:
        first = text[start:end].split(" ", 1)
        if len(first) == 2 and first[0].lower() in LEADING_WORDS:
            start += len(first[0]) + 1
        else:
            break
    if "(" in text[start:end] and ")" not in text[start:end]:
        end = start + len(text[start:end].split("(")[0].rstrip())
    elif text[start:end].endswith(")") and "(" not in text[start:end]:
        end -= 1
    if text[start:end].endswith("'s"):
        end -= 2
    return start, end


def _is_name(word: str) -> bool:
    """A coined name rather than a common word: a capital after the first letter, or a digit (ResNet, CIFAR-10)."""
    return any(ch.isdigit() for ch in word) or any(ch.isupper() for ch in word[1:])


def _is_title_case(words: list[str]) -> bool:
    return len(words) > 1 and all(
        w[:1].isupper() or w in {"of", "with", "for", "and", "the", "in", "on"} for w in words
    )


def map_label(text: str, scirex_type: str, index: dict[str, tuple[str, str]]) -> str | None:
    """Our label for a (trimmed) SciREX span, or None when our guidelines would not annotate it.

    The gazetteer's label wins when it is compatible with the SciREX type (else the span is dropped).
    Otherwise: a Method is a MODEL when it is a coined name (ends in one: ResNet, DU-Net; or is Title
    Case: Quaternion Convolutional Neural Networks) and not an all-caps acronym (CNN, LSTM-CRF are
    families: METHOD); a lowercase description around a name ("deep DU-Net", "GAN training") and
    component or generic heads are dropped. Materials are DATASETs only when named; tasks and methods
    written as verb phrases ("detecting objects") and lone lowercase words ("face", "unsupervised") are
    dropped; metrics need a measure head or a name.
    """
    if scirex_type not in COMPATIBLE or len(text) < 2 or not text[0].isalnum():
        return None
    key = lookup_key(text, index)
    if key:
        label = index[key][1]
        return label if label in COMPATIBLE[scirex_type] else None
    words = text.split()
    lowered = text.lower().replace("-", " ").split()
    head, named = lowered[-1], any(_is_name(w) for w in words)
    if (
        scirex_type in {"Method", "Task"}
        and lowered[0].endswith("ing")
        and len(words) > 1
        and lowered[0] not in {"learning", "training"}
    ):
        return None
    if scirex_type == "Method":
        acronym = text.replace("-", "").rstrip("s").isupper()
        if _is_title_case(words) and not acronym:
            return "MODEL"
        if named and len(words) > 1 and not words[0][:1].isupper():
            return None
        if head in GENERIC_METHOD_HEADS:
            return None
        return "MODEL" if _is_name(words[-1]) and not acronym else "METHOD"
    if scirex_type == "Material":
        capitalised = any(w[:1].isupper() for w in words)
        return "DATASET" if named or capitalised or text.lower().endswith(DATASET_WORDS) else None
    if scirex_type == "Task":
        if len(words) > MAX_TASK_WORDS or head in GENERIC_TASK_HEADS or (len(words) == 1 and text.islower()):
            return None
        return "TASK"
    if text.lower() in VAGUE_METRICS or head in VAGUE_METRICS:
        return None
    return "METRIC" if head in METRIC_HEADS or named else None


def convert_section(
    words: list[str], ner: list[tuple[int, int, str]], index: dict[str, tuple[str, str]]
) -> tuple[str, list[tuple[int, int, str]]]:
    """Running text of a stretch of words and its spans in our labels (word offsets in `ner` are relative to it)."""
    text, offsets = detokenize(words)
    spans = []
    for start, end, scirex_type in ner:
        char_start, char_end = offsets[start][0], offsets[end - 1][1]
        inner_start, inner_end = _trimmed(text[char_start:char_end])
        span_text = text[char_start + inner_start : char_start + inner_end]
        label = map_label(span_text, scirex_type, index)
        if label:
            spans.append((char_start + inner_start, char_start + inner_end, label))
    return text, spans


def scirex_files(root: Path) -> list[Path]:
    """The SciREX document files under a checkout or a download: `docs/train_docs/*.json`, else any *.json/*.jsonl."""
    found = sorted((root / "docs" / "train_docs").glob("*.json")) or sorted(root.rglob("*.json")) + sorted(
        root.rglob("*.jsonl")
    )
    if not found:
        raise FileNotFoundError(f"no SciREX documents under {root}: point SCIREX_DIR at a checkout of allenai/SciREX")
    return found


def _documents(path: Path) -> Iterator[dict]:
    if path.suffix == ".jsonl":
        yield from (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    else:
        yield json.loads(path.read_text(encoding="utf-8"))


def load_scirex(root: Path, index: dict[str, tuple[str, str]], max_sections: int | None = None) -> list[GoldDoc]:
    """One example per section of each SciREX paper (section headers left out; `paper_index` numbers the paper),
    its spans mapped to our labels.

    `max_sections` keeps the first sections of each paper (title and abstract first), the part most like ours.
    """
    examples = []
    papers = (paper for path in scirex_files(root) for paper in _documents(path))
    for paper_number, paper in enumerate(p for p in papers if {"words", "sections", "sentences", "ner"} <= p.keys()):
        words = paper["words"]
        for section_start, section_end in paper["sections"][:max_sections]:
            sentences = [
                (s, e)
                for s, e in paper["sentences"]
                if section_start <= s < section_end and words[s : s + 2] != ["section", ":"]
            ]
            if not sentences:
                continue
            start, end = sentences[0][0], sentences[-1][1]
            ner = [(s - start, e - start, t) for s, e, t in paper["ner"] if start <= s and e <= end]
            text, spans = convert_section(words[start:end], ner, index)
            examples.append(GoldDoc(paper_number, text, frozenset(spans), "scirex"))
    return examples
