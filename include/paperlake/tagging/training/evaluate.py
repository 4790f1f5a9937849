"""Score the tagger against the hand-annotated gold set: P/R/F1 per label, recall on unseen names, the
per-paper entity sets and their normalisation (`entity_scores`), and stray labels on abstracts outside ML."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from paperlake.clean import clean_text
from paperlake.config import DATA_DIR, GAZETTEER_PATHS
from paperlake.real_corpus import REAL_CORPUS_DIR_ENV, load_real_corpus, primary_category
from paperlake.tagging.domain import gate_papers
from paperlake.tagging.gazetteer import LABELS, alias_index, entity_key, known_keys, load_gazetteers
from paperlake.tagging.tagger import MODEL_DIR, build_tagger
from paperlake.tagging.training.domain_model import corpus_half
from paperlake.tagging.training.entity_scores import document_scores, gold_entity_ids, normalisation_check
from paperlake.tagging.training.gold import GoldDoc, Span, load_gold, prf
from paperlake.tagging.workers import entity_spans

NON_ML_PATH = DATA_DIR / "non_ml" / "abstracts.jsonl"

def predict(nlp, docs: list[GoldDoc], index: dict[str, tuple[str, str]]) -> list[list[tuple[str, str, str, int, int]]]:
    """The tagger's mentions (entity_id, label, text, start, end) per gold abstract, read with its title as the tag
    stage does."""
    return entity_spans(nlp, index, [d.text for d in docs], [d.title for d in docs], batch_size=64)


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


def evaluate(nlp, docs: list[GoldDoc], known: set[str], index: dict[str, tuple[str, str]], gate: bool = False) -> dict:
    """Span scores, unseen-name recall, per-paper entity scores and the normalisation check for one tagger;
    with `gate`, after the domain gate decided on each text (as for a source without categories)."""
    mentions = predict(nlp, docs, index)
    rejected = 0
    if gate:
        verdicts = gate_papers(mentions, [None] * len(docs), [d.title for d in docs], [d.text for d in docs], index)
        mentions, rejected = [kept for _, _, kept in verdicts], sum(not ml for _, ml, _ in verdicts)
    predicted = [frozenset((start, end, label) for _, label, _, start, end in m) for m in mentions]
    gold_ids = gold_entity_ids(docs, index)
    return {
        "scores": score([d.spans for d in docs], predicted),
        "unseen": unseen_recall(docs, predicted, known),
        "documents": document_scores(gold_ids, mentions),
        "normalisation": normalisation_check(gold_ids, mentions),
        "rejected": rejected,
    }


def non_ml_labels(
    nlp, index: dict[str, tuple[str, str]], path: Path = NON_ML_PATH, gate: bool = True,
) -> list[tuple[str, list[tuple[str, str, str, int, int]]]]:
    """(field, mentions) for each abstract outside ML: every label the tagger gives there is a stray.
    With `gate`, the domain gate decides from the text, as the tag stage does for a source without categories."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    titles, texts = [i["title"] for i in items], [i["text"] for i in items]
    mentions = entity_spans(nlp, index, texts, titles, batch_size=64)
    if gate:
        mentions = [kept for _, _, kept in gate_papers(mentions, [None] * len(items), titles, texts, index)]
    return [(item["field"], m) for item, m in zip(items, mentions)]


# The ML categories whose entity yield `make eval-ner` reports, and the fields counted as outside ML.
YIELD_CATEGORIES = ("cs.LG", "cs.CL", "cs.CV", "cs.AI")
OUTSIDE_ML_FIELDS = ("physics", "math", "q-bio", "q-fin", "econ")
GATES = ("no gate", "gate: categories", "gate: text only")


def real_field(category: str) -> str:
    """The group `make eval-ner` reports a real paper under, by its primary category."""
    archive = category.split(".")[0]
    if category in YIELD_CATEGORIES:
        return "ML: cs.LG/CL/CV/AI"
    if archive in {"cs", "stat", "eess"}:
        return f"{archive}, other"
    return archive if archive in OUTSIDE_ML_FIELDS else "physics"


def real_corpus_mentions(
    nlp, index: dict[str, tuple[str, str]], half: str = "eval"
) -> dict[str, dict[str, list[list]]]:
    """field -> gate -> the mentions kept per paper, on one half of the real arXiv corpus (cleaned as the parse stage
    does)."""
    import os

    papers = [
        p
        for p in load_real_corpus(os.environ.get(REAL_CORPUS_DIR_ENV))
        if p.categories and corpus_half(p.id, p.title) == half
    ]
    titles, abstracts = [clean_text(p.title) for p in papers], [clean_text(p.abstract) for p in papers]
    mentions = entity_spans(nlp, index, abstracts, titles, batch_size=64)
    by_gate = {
        "no gate": mentions,
        "gate: categories": [
            kept for _, _, kept in gate_papers(mentions, [p.categories for p in papers], titles, abstracts, index)
        ],
        "gate: text only": [
            kept for _, _, kept in gate_papers(mentions, [None] * len(papers), titles, abstracts, index)
        ],
    }
    fields: dict[str, dict[str, list[list]]] = {}
    for i, paper in enumerate(papers):
        field = fields.setdefault(real_field(primary_category(paper)), {gate: [] for gate in GATES})
        for gate in GATES:
            field[gate].append(by_gate[gate][i])
    return fields


def format_real_corpus(name: str, fields: dict[str, dict[str, list[list]]], half: str = "eval") -> str:
    def per_abstract(groups: list[dict[str, list[list]]], gate: str) -> str:
        papers = [m for group in groups for m in group[gate]]
        return f"{sum(map(len, papers)) / len(papers):>16.3f}" if papers else f"{'-':>16}"

    lines = [
        f"{name}: real arXiv abstracts ({'evaluation' if half == 'eval' else 'training'} half), ML entity mentions per "
        "abstract by primary category",
        f"  {'field':<20} {'abstracts':>9} " + " ".join(f"{gate:>16}" for gate in GATES),
    ]
    for field in sorted(fields):
        lines.append(
            f"  {field:<20} {len(fields[field]['no gate']):>9} "
            + " ".join(per_abstract([fields[field]], g) for g in GATES)
        )
    outside = [fields[f] for f in OUTSIDE_ML_FIELDS if f in fields]
    lines.append(f"  {'outside ML (' + ', '.join(OUTSIDE_ML_FIELDS) + ')':<20}")
    lines.append(
        f"  {'':<20} {sum(len(f['no gate']) for f in outside):>9} " + " ".join(per_abstract(outside, g) for g in GATES)
    )
    texts = Counter((text, label) for f in outside for m in f["gate: text only"] for _, label, text, _, _ in m)
    lines.append(
        "  commonest outside ML, text-only gate: "
        + ", ".join(f"{t} {label} {n}" for (t, label), n in texts.most_common(12))
    )
    return "\n".join(lines)


def _score_table(scores: dict[str, dict[str, float]]) -> list[str]:
    lines = [f"  {'label':<8} {'P':>6} {'R':>6} {'F1':>6} {'support':>8}"]
    for label, s in scores.items():
        lines.append(f"  {label:<8} {s['precision']:>6.3f} {s['recall']:>6.3f} {s['f1']:>6.3f} {s['support']:>8}")
    return lines


def format_scores(name: str, report: dict) -> str:
    unseen, norm = report["unseen"], report["normalisation"]
    lines = [f"{name}: spans (exact offsets and label)", *_score_table(report["scores"])]
    lines.append(
        f"  unseen-name recall {unseen['recall']:.3f} (of {unseen['support']} gold spans not in the gazetteer)"
    )
    lines += [f"{name}: per paper, the set of (entity_id, label) against gold", *_score_table(report["documents"])]
    lines.append(
        f"  normalisation over exactly found mentions: {norm['entities']} gold entities ({norm['with_variants']} found "
        "in"
        f" 2+ spellings); {len(norm['splits'])} split over several entity ids, {len(norm['merges'])} entity ids "
        "merging several"
    )
    lines += [f"    split {entity[0]!r} ({entity[1]}) -> {[i for i, _ in ids]}" for entity, ids in norm["splits"]]
    lines += [f"    merge {pair[0]!r} ({pair[1]}) <- {[e for e, _ in entities]}" for pair, entities in norm["merges"]]
    return "\n".join(lines)


def format_non_ml(name: str, tagged: list[tuple[str, list]]) -> str:
    labels = sum(len(m) for _, m in tagged)
    clean = sum(not m for _, m in tagged)
    lines = [
        f"{name}: {labels} stray labels on {len(tagged)} abstracts outside ML ({labels / len(tagged):.2f} per abstract;"
        f" {clean} with none)"
    ]
    lines += [f"    {field}: " + ", ".join(f"{text} {label}" for _, label, text, _, _ in m) for field, m in tagged if m]
    return "\n".join(lines)


def main(split: str = "test") -> None:
    """`make eval-ner`: rules only, and rules + trained model when it exists, on the gold split, the non-ML abstracts
    and the real corpus's evaluation half; `dev` reads the gold dev split and the corpus's training half (data for
    choices)."""
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
        gated = evaluate(nlp, docs, known, index, gate=True)
        overall = gated["scores"]["overall"]
        print(
            f"{name}, domain gate on the text (these papers have no categories): {gated['rejected']} of {len(docs)} "
            "rejected;"
            f" span P / R / F1 {overall['precision']:.3f} / {overall['recall']:.3f} / {overall['f1']:.3f},"
            f" unseen-name recall {gated['unseen']['recall']:.3f}"
        )
        print(format_non_ml(f"{name}, no gate", non_ml_labels(nlp, index, gate=False)))
        print(format_non_ml(f"{name}, domain gate on the text", non_ml_labels(nlp, index)))
        half = "eval" if split == "test" else "train"
        print(format_real_corpus(name, real_corpus_mentions(nlp, index, half), half))


if __name__ == "__main__":
    import sys

    main(sys.argv[1] if len(sys.argv) > 1 else "test")
