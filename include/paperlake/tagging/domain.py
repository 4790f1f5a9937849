"""The domain gate: is a paper about machine learning? Papers it rejects keep only unambiguous gazetteer names.

A paper's arXiv categories decide when the source gives them (arXiv API, OAI-PMH): it is ML when its
primary category is in ML_CATEGORIES, not ML when none of them is, nor when its primary category lies outside
the computing archives (cs, stat, eess) and ML is only a cross-list (a physics or biology paper applying ML).
For a computing paper only cross-listed to an ML category (cs.RO, eess.SP, stat.ME), and for sources without
categories (saved pages, Hugging Face), a small spaCy text classifier decides: bag-of-words (TextCatBOW) over title and
abstract, trained by `make train-ner` on the real arXiv corpus's training half, labelled by those same categories.
Its probability is stored per paper as `ml_score` in either case; `is_ml` is the decision.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path

from paperlake.config import DATA_DIR

DOMAIN_MODEL_DIR = DATA_DIR / "models" / "domain"
ML_CATEGORIES = frozenset(
    {"cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.NE", "cs.IR", "cs.MA", "stat.ML", "eess.AS", "eess.IV"}
)
# Archives whose papers cross-listed to ML are let the text decide; from any other archive such a paper is not ML.
# Chosen on the real corpus's training half: it keeps the cs/stat/eess cross-lists (cs.RO, cs.SE, eess.SP) the
# classifier accepts and cuts mentions outside ML from 0.126 to 0.027 per abstract.
COMPUTING_ARCHIVES = frozenset({"cs", "stat", "eess"})
ML_LABEL, OTHER_LABEL = "ML", "OTHER"
# A paper without categories is ML from this text score on: chosen (with 2 epochs) by training on one half of the
# corpus's training half and scoring the other (ML recall 0.92, other papers accepted 0.11; 44 of the 45 gold dev
# abstracts pass).
ML_THRESHOLD = 0.3
# What a rejected paper keeps: a gazetteer MODEL or DATASET written with a digit or an inner capital
# (GPT-4, ImageNet, ResNet-50), which no other field spells that way.
_UNAMBIGUOUS = re.compile(r"\d|[a-z][A-Z]")

# (entity_id, label, text, start_char, end_char): one tagged mention, as `workers.entity_spans` gives it.
Mention = tuple[str, str, str, int, int]


def category_decision(categories: Sequence[str] | None) -> bool | None:
    """From arXiv categories (primary first): True when the primary one is an ML category; None (the text decides)
    when there are none, or when a computing paper (cs, stat, eess) is only cross-listed to ML; else False."""
    if not categories:
        return None
    if categories[0] in ML_CATEGORIES:
        return True
    cross_listed = bool(set(categories) & ML_CATEGORIES)
    return None if cross_listed and categories[0].split(".")[0] in COMPUTING_ARCHIVES else False


def primary_first(categories: Sequence[str] | None, primary: str | None) -> list[str]:
    """A paper's categories with its primary category first (the arXiv API lists them in no set order)."""
    rest = [c for c in categories or () if c != primary]
    return [primary, *rest] if primary else rest


def domain_text(title: str, abstract: str) -> str:
    return f"{title}\n\n{abstract}" if title else abstract


@functools.lru_cache(maxsize=2)
def load_domain_model(model_dir: Path = DOMAIN_MODEL_DIR):
    """The text classifier (built once per process), or None when `make train-ner` has not written it."""
    import spacy

    return spacy.load(model_dir) if model_dir.exists() else None


def ml_scores(
    titles: Sequence[str], abstracts: Sequence[str], model_dir: Path = DOMAIN_MODEL_DIR
) -> list[float | None]:
    """P(ML) of each paper from its text; None for every paper when there is no classifier."""
    nlp = load_domain_model(model_dir)
    if nlp is None:
        return [None] * len(abstracts)
    docs = nlp.pipe((domain_text(t, a) for t, a in zip(titles, abstracts, strict=True)), batch_size=256)
    return [round(doc.cats[ML_LABEL], 4) for doc in docs]


def is_ml(categories: Sequence[str] | None, score: float | None) -> bool:
    """The gate: the categories when they decide, else the text score (no classifier: every paper passes)."""
    decided = category_decision(categories)
    if decided is not None:
        return decided
    return score is None or score >= ML_THRESHOLD


def unambiguous(mention: Mention, gazetteer_ids: set[tuple[str, str]]) -> bool:
    """A gazetteer MODEL or DATASET spelled as only an ML name is (GPT-4, ImageNet)."""
    entity_id, label, text, _, _ = mention
    return label in {"MODEL", "DATASET"} and (entity_id, label) in gazetteer_ids and bool(_UNAMBIGUOUS.search(text))


def gated(mentions: list[Mention], ml: bool, gazetteer_ids: set[tuple[str, str]]) -> list[Mention]:
    """The mentions a paper keeps: all of them in an ML paper, only the unambiguous ones elsewhere."""
    return mentions if ml else [m for m in mentions if unambiguous(m, gazetteer_ids)]


def gate_papers(
    mentions: list[list[Mention]],
    categories: Sequence[Sequence[str] | None],
    titles: Sequence[str],
    abstracts: Sequence[str],
    index: dict[str, tuple[str, str]],
    model_dir: Path = DOMAIN_MODEL_DIR,
) -> list[tuple[float | None, bool, list[Mention]]]:
    """(ml_score, is_ml, kept mentions) per paper; `index` is the gazetteer's alias index (its values are its
    entities)."""
    gazetteer_ids = set(index.values())
    scores = ml_scores(titles, abstracts, model_dir)
    decisions = [is_ml(c, s) for c, s in zip(categories, scores, strict=True)]
    return [(s, d, gated(m, d, gazetteer_ids)) for s, d, m in zip(scores, decisions, mentions, strict=True)]
