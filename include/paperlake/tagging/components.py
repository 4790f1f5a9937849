"""Custom spaCy pieces: tokenizer fix, versioned model names, per-paper acronyms and defined names, false friends."""

from __future__ import annotations

import json
import re
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import compile_suffix_regex, filter_spans

# The head noun a paper uses to introduce a name decides its label (annotation guidelines, "proposed names").
HEAD_LABELS = {
    **dict.fromkeys("method methods approach algorithm technique attack recipe protocol paradigm strategy procedure scheme framework pipeline mechanism".split(), "METHOD"),
    **dict.fromkeys("model models architecture kernel kernels engine system assistant agent network transformer".split(), "MODEL"),
    **dict.fromkeys("dataset datasets benchmark benchmarks corpus suite environment testbed leaderboard".split(), "DATASET"),
}
# Generic classes the guidelines never annotate, however a paper introduces them.
GENERIC_NAMES = {"llm", "llms", "mllm", "mllms", "vlm", "vlms", "plm", "plms", "lm", "lms", "slm", "slms", "lrm", "lrms", "ai", "nlp", "ml", "gpu", "gpus", "cpu", "sota"}
GENERIC_LONG_FORMS = {"large language models", "large language model", "language models", "language model", "vision language models", "multimodal large language models", "small language models", "large reasoning models", "pre-trained language models", "pretrained language models", "natural language processing", "artificial intelligence", "machine learning"}
_COINED = re.compile(r"^(?:[A-Z][a-z0-9]*[A-Z][A-Za-z0-9]*|[A-Z]{3,}[a-z]?|[a-z]+[A-Z][A-Za-z0-9]*)(?:-[A-Za-z0-9.]+)*$")
_VERSION = re.compile(r"^(?:v?\d+(?:\.\d+)*(?:-\d+(?:\.\d+)?[BMK])?|\d+(?:\.\d+)?[BMK])$")

# "precision" right after these words is a number format, not the metric.
PRECISION_FORMATS = {"bit", "mixed", "full", "half", "single", "double", "low", "arbitrary", "reduced", "higher", "lower", "numerical", "floating", "point", "fp16", "fp32", "int8", "4-bit", "8-bit", "16-bit", "2-bit", "3-bit", "1-bit"}


# Names that mix letters and digits (GSM8K, Qwen3) are one token: the unit-suffix rule would split "8K".
_ALNUM_NAME = re.compile(r"^[A-Za-z]+\d+[A-Za-z]+\d*$")


def fix_tokenizer(nlp) -> None:
    """Split a sentence-final period from names ending in a capital or digit (`GSM8K.`, `ViT.`)."""
    suffixes = list(nlp.Defaults.suffixes) + [r"(?<=[A-Z0-9])\.$"]
    nlp.tokenizer.suffix_search = compile_suffix_regex(suffixes).search
    nlp.tokenizer.token_match = _ALNUM_NAME.match


def load_shape_patterns(path: Path) -> list[dict]:
    """Entity-ruler token patterns that generalise (name+version shapes, *Bench names), one JSON per line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def abbreviates(acronym: str, long_form: str) -> bool:
    """SpD for speculative decoding: same first letter, and every letter in order within the long form."""
    letters = re.sub(r"[^a-z]", "", acronym.removesuffix("s").lower())
    text = long_form.lower()
    if not 2 <= len(letters) <= 8 or not text.startswith(letters[0]):
        return False
    position = 0
    for letter in letters:
        position = text.find(letter, position) + 1
        if position == 0:
            return False
    return True


def _initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w[:1].isalnum()).lower()


@Language.component("paperlake_acronyms")
def acronym_aliases(doc: Doc) -> Doc:
    """"Foo Bar Baz (FBB)": when the long form is an entity, FBB becomes its alias in this paper."""
    aliases: dict[str, tuple[str, str]] = {}
    for ent in doc.ents:
        after = ent.end
        if after + 2 < len(doc) and doc[after].text == "(" and doc[after + 2].text == ")":
            acronym = doc[after + 1].text
            if acronym[:1].isupper() and abbreviates(acronym, ent.text):
                aliases[acronym] = (ent.label_, ent.ent_id_ or ent.text)
    if not aliases:
        return doc
    new = [
        Span(doc, tok.i, tok.i + 1, label=aliases[tok.text][0], span_id=aliases[tok.text][1])
        for tok in doc
        if tok.text in aliases and not tok.ent_type_
    ]
    doc.ents = filter_spans(list(doc.ents) + new)
    return doc


@Language.component("paperlake_false_friends")
def drop_false_friends(doc: Doc) -> Doc:
    """Remove METRIC `precision` when it names a number format ("4-bit precision", "mixed precision")."""
    kept = []
    for ent in doc.ents:
        if ent.label_ == "METRIC" and ent.text.lower() == "precision" and ent.start > 0:
            before = doc[ent.start - 1].lower_
            if before in PRECISION_FORMATS or before.endswith("-bit") or (ent.end < len(doc) and doc[ent.end].lower_ in {"format", "formats", "weights", "arithmetic"}):
                continue
        kept.append(ent)
    doc.ents = kept
    return doc


@Language.component("paperlake_versions")
def extend_model_versions(doc: Doc) -> Doc:
    """A model name followed by its version or size is one entity: `Llama 3.1-8B`, `PaLM 2`."""
    ents = []
    for ent in doc.ents:
        end = ent.end
        if ent.label_ == "MODEL":
            while end < len(doc) and not doc[end].ent_type_:
                if _VERSION.match(doc[end].text) and (end == ent.end or doc[end - 1].text == "-"):
                    end += 1
                elif doc[end].text == "-" and end + 1 < len(doc) and _VERSION.match(doc[end + 1].text):
                    end += 1
                else:
                    break
        # a versioned name is its own entity id, not the family's
        ents.append(Span(doc, ent.start, end, label=ent.label_, span_id=doc[ent.start:end].text) if end > ent.end else ent)
    doc.ents = filter_spans(ents)
    return doc


def _head_label(tokens) -> str | None:
    for tok in tokens:
        if tok.text in {".", ";"}:
            return None
        if tok.lower_ in HEAD_LABELS:
            return HEAD_LABELS[tok.lower_]
    return None


@Language.component("paperlake_definitions")
def defined_names(doc: Doc) -> Doc:
    """Names a paper defines take the label of their head noun, on every mention in the paper.

    "X, a training-free ... method" / "X is a ... benchmark" / "a new model called X" /
    "Title Case Long Form (TLF)": X (and TLF with its long form) get the head noun's label.
    """
    defined: dict[str, str] = {}
    spans: list[Span] = []
    for tok in doc:
        if not _COINED.match(tok.text) or tok.ent_type_ or tok.lower_ in GENERIC_NAMES:
            continue
        nxt = doc[tok.i + 1] if tok.i + 1 < len(doc) else None
        label = None
        if nxt is not None and (nxt.text in {",", ":", "("} or nxt.lower_ == "is"):
            label = _head_label(doc[tok.i + 2 : tok.i + 14])
        if label is None and tok.i >= 1 and doc[tok.i - 1].lower_ in {"called", "named", "dubbed", "termed", "coined"}:
            label = _head_label(reversed(doc[max(0, tok.i - 8) : tok.i - 1]))
        if label:
            defined[tok.text] = label
    for start, end, label, acronym in _long_forms(doc):
        if not any(t.ent_type_ for t in doc[start:end]):
            spans.append(Span(doc, start, end, label=label))
            defined.setdefault(acronym, label)
    spans += [Span(doc, t.i, t.i + 1, label=defined[t.text]) for t in doc if t.text in defined and not t.ent_type_]
    doc.ents = filter_spans(list(doc.ents) + spans)
    return doc


def _long_forms(doc: Doc) -> list[tuple[int, int, str, str]]:
    """(start, end, label, acronym) for "Title Case Words (TCW)" whose initials spell the acronym."""
    found = []
    for tok in doc:
        if tok.text != "(" or tok.i + 2 >= len(doc) or doc[tok.i + 2].text != ")":
            continue
        acronym = doc[tok.i + 1].text
        letters = re.sub(r"[^A-Z]", "", acronym)
        if len(letters) < 2:
            continue
        start = tok.i
        words = 0
        while start > 0 and doc[start - 1].text[:1].isupper() and words < len(letters) + 2:
            start -= 1
            words += 1
        long_form = doc[start : tok.i]
        if acronym.lower() in GENERIC_NAMES or long_form.text.lower() in GENERIC_LONG_FORMS:
            continue
        if words >= 2 and _initials([t.text for t in long_form]).upper().startswith(letters[:2]):
            found.append((start, tok.i, _head_label([long_form[-1]]) or "METHOD", acronym))
    return found

