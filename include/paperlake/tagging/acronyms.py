"""Acronyms a paper defines: "long form (LF)" labels the long form and every later mention of LF; "LF" spelled out
in brackets after a tagged name ("PERK (Parameter Efficient ...)") is that name's entity too."""

from __future__ import annotations

import unicodedata

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from paperlake.tagging.components import (
    CALLING_WORDS,
    GENERIC_NAMES,
    HEAD_LABELS,
    OPENING_MARKS,
    head_label,
    latex_markup,
    singular_noun,
)
from paperlake.tagging.exclusions import excluded_kind
from paperlake.tagging.gazetteer import canonical_id
from paperlake.tagging.vocabulary import labelled_words, words

GENERIC_LONG_FORMS = words("generic_long_forms")
GENERIC_LONG_FORM_ENDINGS = tuple(sorted(words("generic_long_form_endings")))
NOT_ENTITY_LONG_FORMS = words("not_entity_long_forms")
LONG_FORM_HEADS = labelled_words("long_form_heads")
LONG_FORM_STOPS = {".", ";", ":", "(", ")", "[", "]", '"', "\u2018", "\u201c"} | OPENING_MARKS
# Markup between a long form and its bracket ("learning~(RL)", "\\textbf{...} (MMtSBM)", "`Tests ...' (TARP)").
DEFINITION_CLOSERS = words("definition_closers")
ACRONYM_NAME_HEADS = words("acronym_name_heads")
ACRONYM_CLASS_HEADS = words("acronym_class_heads")


def long_form_start(words: list[str], acronym: str) -> int | None:
    """Schwartz & Hearst: the index of the word where the shortest long form spelling `acronym` starts.

    Read backwards, every acronym character appears in order in the words before it and the first
    one starts a word (or a hyphenated part): "inference-time intervention (ITI)", "speculative decoding (SpD)".
    """
    letters = [c for c in acronym.lower() if c.isalpha()]  # digits are counts or versions: SH2, R3, IA2
    if acronym.endswith("s") and acronym[:-1].isupper():
        letters = letters[:-1]  # MIAs, GNNs
    if len(acronym) == 2 and acronym[0].isupper() and acronym[1] in "2345":
        # a letter's count: Rollout Routing Replay (R3), Structured State Space Sequence (S4)
        letters = letters * int(acronym[1])
    if not 2 <= len(letters) <= 10 or not acronym[0].isalpha() or len(words) == 0:
        return None
    words = [_base_letters(word) for word in words]  # "À-la-carte Prompt Tuning (APT)": À spells A
    initials = _initials_start(words, letters)
    if initials is not None:
        return initials
    text = " ".join(words)
    starts = {0} | {i + 1 for i, ch in enumerate(text) if ch in " -"}
    position = len(text) - 1
    for index in range(len(letters) - 1, -1, -1):
        letter = letters[index]
        while position >= 0 and (text[position].lower() != letter or (index == 0 and position not in starts)):
            position -= 1
        if position < 0:
            return None
        position -= 1
    first_char = position + 1
    word = text[:first_char].count(" ")
    if len(words) - word > min(len(letters) + 5, 2 * len(letters)):
        return None
    return word


LONG_FORM_FILLERS = words("long_form_fillers")
HEAD_PREPOSITIONS = words("head_prepositions")


def _base_letters(word: str) -> str:
    """`word` with each accented letter as its base letter, one character for one (À -> A, ñ -> n)."""
    return word if word.isascii() else "".join(unicodedata.normalize("NFD", ch)[0] for ch in word)


def _initials_start(words: list[str], letters: list[str]) -> int | None:
    """The word where the long form starts when its word (or hyphen-part) initials spell the acronym."""
    parts = [(w, i) for i, word in enumerate(words) for w in word.split("-") if w]
    remaining = list(letters)
    for part, word_index in reversed(parts):
        if remaining and part[0].lower() == remaining[-1]:
            remaining.pop()
            if not remaining:
                return word_index
        elif part.lower() not in LONG_FORM_FILLERS:
            return None
    return None


def _is_title_case(words: list[str]) -> bool:
    return all(w[:1].isupper() or w.lower() in LONG_FORM_FILLERS or not w[:1].isalpha() for w in words)


def _generic_long_form(text: str) -> bool:
    """A generic class, field or non-entity, in the singular or plural ("Artificial Intelligences (AIs)"), or a long
    form headed by a generic class ("small language models")."""
    lowered = " ".join(text.lower().replace("-", " ").split())
    forms = {lowered, lowered[:-1]} if lowered.endswith("s") else {lowered}
    if forms & (GENERIC_LONG_FORMS | NOT_ENTITY_LONG_FORMS):
        return True
    ending = next((e for e in GENERIC_LONG_FORM_ENDINGS if lowered.endswith(e)), None)
    if ending is None:
        return False
    before = lowered[: -len(ending)].split()
    # "fine-tuning stacks of language models (FSLM)": a class after a preposition is not the long form's head
    return not before or before[-1] not in HEAD_PREPOSITIONS


def _head_name_label(long_form: Span) -> str | None:
    """The label of a name the rules tagged around the head of a Title Case long form "A for B", the last word
    of A: "Natural Language Inference for Clinical Trial Data" is a task."""
    preposition = next((t.i for t in long_form[1:] if t.lower_ in HEAD_PREPOSITIONS), None)
    if preposition is None:
        return None
    return long_form.doc[preposition - 1].ent_type_ or None


def _model_before_class(long_form: Span, by_end: dict[int, Span]) -> bool:
    """Whether a long form ending in a generic class is a tagged model's name and that class: "MatFormer language
    model", not "large language model"."""
    lowered = long_form.text.lower()
    ending = next((e for e in GENERIC_LONG_FORM_ENDINGS if lowered.endswith(" " + e)), None)
    if ending is None:
        return False
    ent = by_end.get(long_form.end - len(ending.split()))
    return ent is not None and ent.label_ == "MODEL" and ent.start >= long_form.start


def _context_label(doc: Doc, start: int, after: int) -> str | None:
    """The label the words around a definition give it: "a strategy called Best-of-Majority (BoM)", "Rollout
    Routing Replay (R3), a method that ...", "feature selective anchor-free (FSAF) module"."""
    if start > 0 and doc[start - 1].lower_ in CALLING_WORDS:
        return head_label(reversed(doc[max(0, start - 12) : start - 1]))
    if after < len(doc) and doc[after].lower_ in HEAD_LABELS:
        return HEAD_LABELS[doc[after].lower_]
    if after + 1 < len(doc) and doc[after].text == "," and doc[after + 1].lower_ in {"a", "an"}:
        return head_label(doc[after + 2 : after + 12])
    return None


def _name_with_acronym(
    doc: Doc, start: int, bracket: int, closing: int, label: str, named: dict, spans: list[Span], own: bool = False
) -> None:
    """A definition "LF (ACR)" at doc[start:closing + 1] followed by a technique noun is one name with it
    (guidelines, boundaries 4: "Best-of-N (BoN) sampling"), and so is one followed by a class noun when the long
    form is the paper's `own` (no known name: "Structured state space sequence (S4) models"); its id is the name
    without the bracket, the long form's alone after a class noun (S4 models are S4)."""
    end = closing + 2
    if end > len(doc) or not (
        doc[end - 1].lower_ in ACRONYM_NAME_HEADS or (own and doc[end - 1].lower_ in ACRONYM_CLASS_HEADS)
    ):
        return
    name = doc[start:bracket].text
    entity_id = canonical_id(name if doc[end - 1].lower_ in ACRONYM_CLASS_HEADS else f"{name} {doc[end - 1].text}", {})
    spans.append(Span(doc, start, end, label=label, span_id=entity_id))
    named[doc[bracket + 1 : closing].text] = (doc[end - 1].lower_, label, entity_id)


def _hyphen_glued(span: Span) -> bool:
    """Three tokens written as one hyphenated word: "On-AVEP"."""
    return span[1].text == "-" and not span[0].whitespace_ and not span[1].whitespace_


def _closing_bracket(doc: Doc, opening: int) -> int | None:
    """The index of the ")" closing a bracket around one word at `opening`: "(LF)", or a hyphenated "(On-AVEP)"."""
    if opening + 2 < len(doc) and doc[opening + 2].text == ")":
        return opening + 2
    if opening + 4 < len(doc) and doc[opening + 4].text == ")" and _hyphen_glued(doc[opening + 1 : opening + 4]):
        return opening + 4
    return None


@Language.component("paperlake_acronyms")
def acronym_definitions(doc: Doc) -> Doc:
    """"long form (LF)" defines LF for this paper; both get one label, and every later LF mention too.

    The label is the long form's own entity's when the rules found one there; otherwise the head
    noun's ("... detection (XD)" is a TASK, "... error rate (ER)" a METRIC); an unknown head noun in a
    Title Case long form is a METHOD (the guidelines' commonest label for coined procedures).
    """
    aliases: dict[str, tuple[str, str]] = {}
    named: dict[
        str, tuple[str, str, str]
    ] = {}  # acronym -> (technique noun, label, entity id) of "LF (ACR) noun" names
    spans: list[Span] = []
    by_end = {ent.end: ent for ent in doc.ents}
    for tok in doc:
        closing = _closing_bracket(doc, tok.i) if tok.text == "(" else None
        if closing is None:
            continue
        acronym = doc[tok.i + 1 : closing].text
        if (
            not any(ch.isupper() for ch in acronym)
            or acronym.lower() in GENERIC_NAMES
            or excluded_kind(acronym)
            # a hyphenated acronym with an excluded part of 3+ letters: SDSS-V, DESI-DR1 (not TW-ESA: TW is a unit)
            or ("-" in acronym and any(len(p) > 2 and excluded_kind(p) for p in acronym.split("-")))
        ):
            continue
        close = tok.i
        while close > 0 and doc[close - 1].text in DEFINITION_CLOSERS:
            close -= 1
        window_start = close
        while (
            window_start > 0
            and doc[window_start - 1].text not in LONG_FORM_STOPS
            and not latex_markup(doc[window_start - 1].text)
            and close - window_start < 16
        ):
            window_start -= 1
        window = doc[window_start:close]
        words = window.text.split()
        start_word = long_form_start(words, acronym)
        if start_word is None:
            continue
        start_char = window.start_char + len(" ".join(words[:start_word])) + (1 if start_word else 0)
        long_form = doc.char_span(start_char, window.end_char, alignment_mode="expand")
        if long_form is None:
            continue
        if _generic_long_form(long_form.text):
            if _model_before_class(long_form, by_end):  # "MatFormer language model (MatLM)": a model of its own
                aliases[acronym] = ("MODEL", canonical_id(acronym, {}))
            continue
        ent = by_end.get(close)
        if ent is not None and ent.start <= long_form.start:
            aliases[acronym] = (ent.label_, ent.ent_id_ or ent.text)
            _name_with_acronym(doc, ent.start, tok.i, closing, ent.label_, named, spans)
            continue
        label = LONG_FORM_HEADS.get(singular_noun(long_form[-1].lower_))
        if ent is not None and ent.start > long_form.start and not doc[long_form.start].text[:1].isupper():
            # a kind of it: "cross-silo federated learning"
            label = ent.label_ if ent.label_ in {"METHOD", "TASK"} else None
        elif label is None:
            label = _context_label(doc, long_form.start, closing + 1)
            if label is None and _is_title_case(words[start_word:]) and len(words) - start_word >= 2:
                label = _head_name_label(long_form) or "METHOD"
        tagged_inside = any(t.ent_type_ and t.i < (ent.start if ent is not None else long_form.end) for t in long_form)
        # names tagged inside the paper's own long form are parts of it ("ICL Activation Alignment (IA2)"), unless a
        # tagged name ends it ("MatFormer-based ViT (MatViT)") or runs on over the bracket
        if label is None or (tagged_inside and (ent is not None or long_form[-1].ent_type_)):
            continue
        # the long form and its acronym are one entity: "inference-time intervention" and ITI share its id
        entity_id = canonical_id(long_form.text, {})
        spans.append(Span(doc, long_form.start, long_form.end, label=label, span_id=entity_id))
        aliases[acronym] = (label, entity_id)
        _name_with_acronym(doc, long_form.start, tok.i, closing, label, named, spans, own=True)
    plural = {a + "s": v for a, v in aliases.items() if not a.endswith("s")}
    singular = {a[:-1]: v for a, v in aliases.items() if a.endswith("s") and len(a) > 2}
    aliases = {**singular, **plural, **aliases}
    # the paper's own definition beats a shape or gazetteer guess on the acronym itself
    kept = [ent for ent in doc.ents if not (len(ent) == 1 and ent.text in aliases)]
    covered = {i for ent in kept for i in range(ent.start, ent.end)}
    spans += [
        Span(doc, t.i, t.i + 1, label=aliases[t.text][0], span_id=aliases[t.text][1])
        for t in doc
        if t.text in aliases and t.i not in covered
    ]
    spans += [  # a hyphenated acronym is three tokens: "On-AVEP"
        Span(doc, t.i, t.i + 3, label=aliases[glued.text][0], span_id=aliases[glued.text][1])
        for t in doc[:-2]
        if _hyphen_glued(glued := doc[t.i : t.i + 3]) and glued.text in aliases
    ]
    spans += [  # "FIRE sampling" after "Flaming-hot Initiation with Regular Execution (FIRE) sampling"
        Span(doc, t.i, t.i + 2, label=named[t.text][1], span_id=named[t.text][2])
        for t in doc[:-1]
        if t.text in named and doc[t.i + 1].lower_ == named[t.text][0] and t.i not in covered
    ]
    if spans:
        doc.ents = filter_spans(spans + kept)
    return doc


@Language.component("paperlake_expansions")
def bracketed_expansions(doc: Doc) -> Doc:
    """"PERK (Parameter Efficient Reasoning over Knowledge)": the long form spelled out in brackets right after a
    one-token name the rules tagged is the same entity, with its label (guidelines, boundaries 4: long form and
    acronym are separate spans of one label)."""
    spans = []
    for ent in doc.ents:
        opening = ent.end
        if len(ent) != 1 or opening + 3 >= len(doc) or doc[opening].text != "(":
            continue
        close = next((t.i for t in doc[opening + 1 : opening + 17] if t.text in LONG_FORM_STOPS), None)
        if close is None or doc[close].text != ")" or close - opening < 3:
            continue
        long_form = doc[opening + 1 : close]
        if long_form_start(long_form.text.split(), ent.text) == 0 and not _generic_long_form(long_form.text):
            spans.append(Span(doc, long_form.start, long_form.end, label=ent.label_, span_id=ent.ent_id_ or ent.text))
    if spans:
        inside = {i for span in spans for i in range(span.start, span.end)}
        kept = [ent for ent in doc.ents if not any(i in inside for i in range(ent.start, ent.end))]
        doc.ents = filter_spans(kept + spans)
    return doc
