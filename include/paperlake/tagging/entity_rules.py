"""The gazetteer and shape patterns as one spaCy step: phrase matchers for names, a Matcher for shapes."""

from __future__ import annotations

import json
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from paperlake.tagging.components import NAME_BREAKERS


def load_shape_patterns(path: Path) -> list[dict]:
    """Entity-ruler token patterns that generalise (name+version shapes, *Bench names), one JSON per line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class EntityRules:
    """The gazetteer and shape patterns as one entity-ruler step, built on phrase matchers.

    spaCy's entity ruler runs token patterns through its Matcher, which costs ~0.3 s an abstract with
    thousands of aliases; phrase matchers (one on LOWER, one on ORTH for case-sensitive names) do not.
    Overlaps keep the longest match (then the first); matches replace any entity they overlap.
    """

    def __init__(self, nlp: Language, name: str = "paperlake_entity_rules"):
        from spacy.matcher import Matcher, PhraseMatcher

        self.name = name
        self.vocab = nlp.vocab
        self.make_doc = nlp.make_doc
        self.by_case = {False: PhraseMatcher(nlp.vocab, attr="LOWER"), True: PhraseMatcher(nlp.vocab, attr="ORTH")}
        self.shapes = Matcher(nlp.vocab, validate=True)

    def add_phrases(self, patterns: list[tuple[str, str, str, bool]]) -> None:
        """(label, entity_id, phrase, case_sensitive) patterns, as `gazetteer.phrase_patterns` gives them."""
        grouped: dict[tuple[str, bool], list[str]] = {}
        for label, entity_id, phrase, case_sensitive in patterns:
            grouped.setdefault((f"{label}\t{entity_id}", case_sensitive), []).append(phrase)
        for (key, case_sensitive), phrases in grouped.items():
            self.by_case[case_sensitive].add(key, [self.make_doc(phrase) for phrase in dict.fromkeys(phrases)])

    def add_shapes(self, patterns: list[dict]) -> None:
        """Entity-ruler style token patterns (`{"label": ..., "pattern": [...]}`) with no entity id."""
        for pattern in patterns:
            self.shapes.add(f"{pattern['label']}\t", [pattern["pattern"]])

    def __call__(self, doc: Doc) -> Doc:
        spans = []
        for matcher in (*self.by_case.values(), self.shapes):
            for match_id, start, end in matcher(doc):
                label, entity_id = self.vocab.strings[match_id].split("\t")
                spans.append(Span(doc, start, end, label=label, span_id=entity_id))
        found = filter_spans(spans)
        taken = {i for span in found for i in range(span.start, span.end)}
        kept = [ent for ent in doc.ents if not any(i in taken for i in range(ent.start, ent.end))]
        doc.ents = sorted(kept + found, key=lambda span: span.start)
        return doc


@Language.factory("paperlake_entity_rules")
def make_entity_rules(nlp: Language, name: str) -> EntityRules:
    return EntityRules(nlp, name)


SENTENCE_ENDS = {".", "!", "?"}


def _variant_word(doc: Doc, i: int) -> bool:
    """doc[i] is a capitalised word inside a sentence, no rule tagged it, and it is neither a function word nor part of
    a longer name."""
    tok = doc[i]
    if i <= 0 or tok.ent_type_ or not tok.is_title or not tok.is_alpha or tok.is_stop or tok.lower_ in NAME_BREAKERS:
        return False
    before = doc[i - 1]
    # nor the last word of a longer name: "Threshold-Integrated U-Net", "Sequentially Sampled Chunk Conformer"
    if before.text == "-" or before.is_title or before.is_upper:
        return False
    return before.text not in SENTENCE_ENDS and not before.text.endswith(".")


@Language.component("paperlake_model_variants")
def named_model_variants(doc: Doc) -> Doc:
    """A capitalised word inside a sentence right before a model's name names a variant of it, one entity:
    "two variants: Generative Qwen3Guard, ... and Stream Qwen3Guard", "a hybrid version (Hybrid Phi-Mamba)"."""
    ents = [
        Span(doc, ent.start - 1, ent.end, label=ent.label_, span_id=doc[ent.start - 1 : ent.end].text)
        if ent.label_ == "MODEL" and _variant_word(doc, ent.start - 1)
        else ent
        for ent in doc.ents
    ]
    doc.ents = filter_spans(ents)
    return doc
