"""Names the hand-annotated training abstracts mark, kept as a second gazetteer file.

Paper-specific names (TokenWeave, contextual QA) recur across related abstracts; a name joins when the
annotators marked it in most of its occurrences. Only the gold dev split and `train-*.jsonl` are read,
never the test split, so the test split still measures the tagger on names it has not seen.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from paperlake.config import ANNOTATED_NAMES_PATH, PATTERNS_PATH
from paperlake.tagging.gazetteer import known_keys, load_gazetteer, lookup_key, mention_pattern
from paperlake.tagging.training.gold import GoldDoc, training_annotations

# Marked in at least this share of its occurrences. Harvested from two of the three train files and
# scored on the third, 0.7 added F1 0.009 and 0.014 on two and cost 0.004 on one.
MIN_SHARE = 0.7


def occurrences(name: str, corpus: str) -> int:
    """Whole-word occurrences of `name` in the corpus text, case-insensitive unless it has a capital."""
    pattern = mention_pattern(name, ignore_case=not any(ch.isupper() for ch in name))
    return len(pattern.findall(corpus))


def annotated_names(
    docs: list[GoldDoc], known: set[str], min_share: float = MIN_SHARE, min_papers: int = 1
) -> list[dict]:
    """Gazetteer entries for span texts the curated gazetteer does not know, marked in at least `min_papers`
    papers and in `min_share` of their occurrences, labelled as most often marked."""
    labels: dict[str, Counter] = defaultdict(Counter)
    papers: dict[str, set[int]] = defaultdict(set)
    for doc in docs:
        for start, end, label in doc.spans:
            labels[doc.text[start:end]][label] += 1
            papers[doc.text[start:end]].add(doc.paper_index)
    corpus = "\n".join(doc.text for doc in docs)
    entries = []
    for name in sorted(labels):
        marked = sum(labels[name].values())
        if (
            len(name) < 2
            or len(papers[name]) < min_papers
            or lookup_key(name, known)
            or marked < min_share * occurrences(name, corpus)
        ):
            continue
        label = max(sorted(labels[name]), key=labels[name].__getitem__)
        entries.append(
            {"id": name, "label": label, "aliases": [name], "case_sensitive": any(ch.isupper() for ch in name)}
        )
    return entries


def write_annotated_names(path: Path = ANNOTATED_NAMES_PATH) -> int:
    """Rewrite the annotated-names gazetteer from the training annotations; returns the entry count."""
    entries = annotated_names(training_annotations(), known_keys(load_gazetteer(PATTERNS_PATH)))
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries), encoding="utf-8")
    return len(entries)
