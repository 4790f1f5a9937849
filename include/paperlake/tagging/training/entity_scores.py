"""Scores for what a user of the marts sees: the entities a paper is counted under, not the spans.

A trend counts papers per (entity_id, label). So per paper the set of (entity_id, label) pairs is
scored against gold, and the entity ids are checked for splits (one gold entity under two ids: its
count is divided) and merges (two gold entities under one id: their counts are added).

Gold has spans, not ids. A gold entity is the group of gold spans of one label that share a spelling-
insensitive key (GPT4, gpt-4), a plural (PRM, PRMs), or an acronym definition in the paper ("natural
language inference (NLI)": NLI is that entity in this paper only). Its id is the gazetteer's canonical
id when one member is known there, else the long form of a definition, else its commonest spelling (the shortest on a
tie: the singular).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from paperlake.tagging.gazetteer import LABELS, canonical_id, entity_key, lookup_key
from paperlake.tagging.training.gold import GoldDoc, Span, prf

# (entity_id, label, text, start_char, end_char): one tagged mention, as `workers.entity_spans` gives it.
Mention = tuple[str, str, str, int, int]


def _defined_acronyms(doc: GoldDoc) -> dict[Span, Span]:
    """Gold spans written as "long form (SHORT)" in this paper, both starting with one letter: short span -> long
    span."""
    by_start = {span[0]: span for span in doc.spans}
    pairs = {}
    for long in doc.spans:
        gap = doc.text[long[1] : long[1] + 2]
        start = long[1] + (2 if gap == " (" else 1 if gap[:1] == "(" else 0)
        short = by_start.get(start) if start > long[1] else None
        same_initial = short and doc.text[short[0]].lower() == doc.text[long[0]].lower()
        if same_initial and short[2] == long[2] and doc.text[short[1] : short[1] + 1] == ")":
            pairs[short] = long
    return pairs


def gold_entity_ids(docs: list[GoldDoc], index: dict[str, tuple[str, str]]) -> list[dict[Span, str]]:
    """For each doc, every gold span -> the id of the gold entity it mentions (see the module docstring)."""
    parent: dict[tuple, tuple] = {}

    def find(node):
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    keys = {(entity_key(doc.text[s:e]), label) for doc in docs for s, e, label in doc.spans}

    def global_node(text: str, label: str) -> tuple:
        key = entity_key(text)
        singular = key.removesuffix("s")
        return ("key", singular if singular != key and (singular, label) in keys else key, label)

    span_nodes: list[dict[Span, tuple]] = []
    long_forms: set[tuple] = set()
    for i, doc in enumerate(docs):
        acronyms = _defined_acronyms(doc)
        short_keys = {entity_key(doc.text[s:e]) for s, e, _ in acronyms}
        nodes = {}
        for span in doc.spans:
            text = doc.text[span[0] : span[1]]
            in_paper = entity_key(text) in short_keys
            nodes[span] = ("paper", i, entity_key(text), span[2]) if in_paper else global_node(text, span[2])
        for short, long in acronyms.items():
            parent[find(nodes[short])] = find(nodes[long])
            long_forms.add(nodes[long])
        span_nodes.append(nodes)

    members: dict[tuple, list[tuple[str, tuple]]] = defaultdict(list)
    for doc, nodes in zip(docs, span_nodes):
        for span in sorted(doc.spans):
            members[find(nodes[span])].append((doc.text[span[0] : span[1]], nodes[span]))
    group_id = {}
    for root, texts in members.items():
        known = [canonical_id(t, index) for t, _ in texts if lookup_key(t, index)]
        defined = [t for t, node in texts if node in long_forms]
        spellings = Counter(canonical_id(t, {}) for t, _ in texts)
        group_id[root] = (known or defined or [max(spellings, key=lambda t: (spellings[t], -len(t)))])[0]
    return [{span: group_id[find(node)] for span, node in nodes.items()} for nodes in span_nodes]


def document_scores(gold_ids: list[dict[Span, str]], predicted: list[list[Mention]]) -> dict[str, dict[str, float]]:
    """Per paper, the set of (entity_id, label) pairs against gold's; micro-averaged over papers, per label and
    overall."""
    counts = {label: Counter() for label in LABELS}
    for gold_spans, mentions in zip(gold_ids, predicted, strict=True):
        gold = {(entity_id, span[2]) for span, entity_id in gold_spans.items()}
        found = {(entity_id, label) for entity_id, label, *_ in mentions}
        for pairs, outcome in ((found & gold, "tp"), (found - gold, "fp"), (gold - found, "fn")):
            for _, label in pairs:
                counts[label][outcome] += 1
    result = {label: prf(c["tp"], c["fp"], c["fn"]) for label, c in counts.items()}
    total = sum(counts.values(), Counter())
    result["overall"] = prf(total["tp"], total["fp"], total["fn"])
    return result


def normalisation_check(gold_ids: list[dict[Span, str]], predicted: list[list[Mention]]) -> dict:
    """Over tagged mentions that match a gold span exactly: gold entities whose mentions got more than one
    (entity_id, label) (splits), and (entity_id, label) pairs given to more than one gold entity (merges)."""
    ids_of_entity: dict[tuple[str, str], set] = defaultdict(set)
    spellings_of_entity: dict[tuple[str, str], set] = defaultdict(set)
    entities_of_id: dict[tuple[str, str], set] = defaultdict(set)
    for gold_spans, mentions in zip(gold_ids, predicted, strict=True):
        tagged = {(start, end, label): (entity_id, label, text) for entity_id, label, text, start, end in mentions}
        for span, gold_id in gold_spans.items():
            if span in tagged:
                entity_id, label, text = tagged[span]
                ids_of_entity[(gold_id, label)].add((entity_id, label))
                spellings_of_entity[(gold_id, label)].add(text)
                entities_of_id[(entity_id, label)].add((gold_id, label))
    splits = sorted((entity, sorted(ids)) for entity, ids in ids_of_entity.items() if len(ids) > 1)
    merges = sorted((pair, sorted(entities)) for pair, entities in entities_of_id.items() if len(entities) > 1)
    return {
        "entities": len(ids_of_entity),
        "with_variants": sum(len(s) > 1 for s in spellings_of_entity.values()),
        "splits": splits,
        "merges": merges,
    }
