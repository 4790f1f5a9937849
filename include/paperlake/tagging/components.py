"""Custom spaCy pieces: the tokenizer fix, then the components in the order `tagger.build_tagger` adds them
(after gazetteer matching, `entity_rules.py`): versions, definitions (after acronyms, `acronyms.py`, and before
its bracketed expansions), title names, named phrases, compounds, kind modifiers, enumerations, coordinations,
dataset names, false friends. Each component follows the helpers and word lists only it uses."""

from __future__ import annotations

import re
from collections import Counter

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, filter_spans

from paperlake.tagging.exclusions import all_caps_run, excluded_kind
from paperlake.tagging.gazetteer import mention_pattern
from paperlake.tagging.vocabulary import labelled_words, words

# The paper's title, set before the pipeline runs (`pipeline.titled_docs`): context for the abstract.
if not Doc.has_extension("paper_title"):
    Doc.set_extension("paper_title", default="")


HEAD_LABELS = labelled_words("head_labels")
DATASET_NOUNS = {word for word, label in HEAD_LABELS.items() if label == "DATASET"} | words("more_dataset_nouns")
GENERIC_NAMES = words("generic_names")
_COINED = re.compile(
    r"^(?:[A-Z][a-z0-9]*[A-Z][A-Za-z0-9]*|[A-Z]{3,}[a-z]?|[a-z]+[A-Z][A-Za-z0-9]*)(?:-[A-Za-z0-9.]+)*$"
)
_VERSION = re.compile(r"^(?:[vV]?\d+(?:\.\d+)*(?:-\d+(?:\.\d+)?[BMK])?|\d+(?:\.\d+)?[BMKk]|\d+x\d+(?:\.\d+)?[BM])$")

PRECISION_FORMATS = words("precision_formats")
PRECISION_FORMAT_NOUNS = words("precision_format_nouns")
VERB_METRICS = words("verb_metrics")
VERB_OPENERS = words("verb_openers")


# Names that mix letters and digits (GSM8K, Qwen3) are one token: the unit-suffix rule would split "8K".
_ALNUM_NAME = re.compile(r"^[A-Za-z]+\d+[A-Za-z]+\d*$")


# LaTeX markup left in arXiv abstracts, split from the words it wraps: a command's opening brace and an escaped
# quote before a word (`\textbf{Multi-Marginal`, `\`A-la-carte`), and the non-breaking space `~` before a bracket
# ("reinforcement learning~(RL)").
_LATEX_PREFIXES = [r"\\[A-Za-z]+\{", r"\\`"]
_LATEX_INFIXES = [r"~", r"(?<=~)\("]
_LATEX_MARKUP = re.compile("|".join(_LATEX_PREFIXES))
# A dash glued to a closing bracket ("Theory-of-Mind (ToM)--and"): spaCy splits a dash only between letters.
_DASH_INFIXES = [r"(?<=\w)\)(?=--)", r"(?<=\))--+(?=\w)"]


OPENING_MARKS = words("opening_marks")


def latex_markup(text: str) -> bool:
    """`text` is a token of LaTeX markup the tokenizer split from a word (`\\textbf{`, `\\``)."""
    return bool(_LATEX_MARKUP.fullmatch(text))


def opening_mark(tok) -> bool:
    """`tok` opens a quoted or marked-up name: punctuation, LaTeX's quotes or markup."""
    return (tok.is_punct and tok.text != "-") or tok.text in OPENING_MARKS or latex_markup(tok.text)


def fix_tokenizer(nlp) -> None:
    """Split a sentence-final period from names ending in a capital or digit (`GSM8K.`, `ViT.`), and LaTeX markup
    from the words it wraps."""
    suffixes = list(nlp.Defaults.suffixes) + [r"(?<=[A-Z0-9])\.$"]
    nlp.tokenizer.suffix_search = compile_suffix_regex(suffixes).search
    nlp.tokenizer.prefix_search = compile_prefix_regex(_LATEX_PREFIXES + list(nlp.Defaults.prefixes)).search
    infixes = list(nlp.Defaults.infixes) + _LATEX_INFIXES + _DASH_INFIXES
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    nlp.tokenizer.token_match = _ALNUM_NAME.match


def _widened(ent: Span, start: int, end: int) -> Span:
    """`ent` stretched to doc[start:end]; a widened name (`Llama 3.1-8B`, `cross-silo FL`) is its own
    entity id, not the one the gazetteer gave its core."""
    if (start, end) == (ent.start, ent.end):
        return ent
    return Span(ent.doc, start, end, label=ent.label_, span_id=ent.doc[start:end].text)


@Language.component("paperlake_versions")
def extend_model_versions(doc: Doc) -> Doc:
    """A model or dataset name followed by its version or size is one entity: `Llama 3.1-8B`, `PaLM 2`, `AlpacaEval
    2`."""
    ents = []
    for ent in doc.ents:
        end = ent.end
        if ent.label_ in {"MODEL", "DATASET"}:
            while end < len(doc) and not doc[end].ent_type_:
                if _VERSION.match(doc[end].text) and (end == ent.end or doc[end - 1].text == "-"):
                    end += 1
                elif doc[end].text == "-" and end + 1 < len(doc) and _VERSION.match(doc[end + 1].text):
                    end += 1
                else:
                    break
        ents.append(_widened(ent, ent.start, end))
    doc.ents = filter_spans(ents)
    return doc


# A word before a metric that names what is measured: classification/factual/predictive accuracy, top-3 accuracy.
_KIND_ENDINGS = "|".join(sorted(words("metric_kind_endings")))
_KIND_WORDS = "|".join(sorted(words("metric_kind_words")))
_METRIC_KIND = re.compile(rf"^(?:[a-z]+(?:{_KIND_ENDINGS})|{_KIND_WORDS}|top-\d+)$")


DEGREE_PARTS = words("degree_parts")
NAME_BREAKERS = words("name_breakers")


def _kind_modifier(doc: Doc, start: int) -> bool:
    """doc[start-3:start] is a hyphenated modifier naming a kind (`cross-silo`, `per-IC`, `BoN-aware`)."""
    if start < 3 or doc[start - 2].text != "-" or not doc[start - 1].whitespace_ or doc[start - 1].ent_type_:
        return False
    first, second = doc[start - 3], doc[start - 1]
    if not (_glued(doc, start - 3) and _glued(doc, start - 2)) or not first.is_alpha or not second.text.isalnum():
        return False
    return first.lower_ not in DEGREE_PARTS and second.lower_ not in DEGREE_PARTS and first.lower_ not in GENERIC_NAMES


def head_label(tokens) -> str | None:
    """The label of the first head noun (method, model, dataset, ...) among `tokens`, stopping at a sentence end;
    an evaluation framework is a DATASET (guidelines: "an evaluation framework", "a framework for long-context
    evaluation")."""
    for tok in tokens:
        if tok.text in {".", ";"}:
            return None
        if tok.lower_ in HEAD_LABELS:
            label = HEAD_LABELS[tok.lower_]
            return "DATASET" if label in {"METHOD", "MODEL"} and _evaluation_head(tok) else label
    return None


EVALUATION_WORDS = words("evaluation_words")


def _evaluation_head(tok) -> bool:
    """`tok` heads "an evaluation framework/paradigm" or "a framework for (...) evaluation" (up to five words
    between)."""
    doc = tok.doc
    if tok.i > 0 and doc[tok.i - 1].lower_ in EVALUATION_WORDS:
        return True
    if tok.i + 1 < len(doc) and doc[tok.i + 1].lower_ == "for":
        for later in doc[tok.i + 2 : tok.i + 8]:
            if later.lower_ in EVALUATION_WORDS:
                return True
            if (later.is_punct and later.text != "-") or later.lower_ in HEAD_LABELS:
                break
    return False


# What the end of a coined name says about it when the paper gives no head noun: LookupViT, MatFormer, XBench.
NAME_ENDINGS = labelled_words("name_endings")
# A numbered name (NEG-1500, ROLE-1500) is a dataset only when the paper introduces it: alone, the
# shape is as common for stars, bursts and detectors (GW150914, AMS-02).
_NUMBERED = re.compile(r"(?:-\d+|\d{3,})$")
NOT_NAMES = words("not_names")


def _modifies_next(doc: Doc, i: int) -> bool:
    """doc[i] is glued to what follows (`KV-cache`, `GPU-based`) or sits in a citation bracket."""
    return i + 1 < len(doc) and ((doc[i + 1].text == "-" and _glued(doc, i)) or doc[i + 1].text == "]")


def _capitalised(text: str) -> bool:
    return text[:1].isupper() and text[1:].isalpha() and text[1:].islower()


def _ending_label(text: str) -> str | None:
    """The label an ending specific to ML names gives (...ViT, ...Former, ...Bench, ...QA), else None."""
    return next((label for ending, label in NAME_ENDINGS.items() if text.endswith(ending)), None)


def _coined_label(text: str) -> str:
    """The label of a name the paper itself introduces: by its ending, else a DATASET if numbered, else a METHOD."""
    return _ending_label(text) or ("DATASET" if _NUMBERED.search(text) else "METHOD")


CALLING_WORDS = words("calling_words")
PROPOSING_WORDS = words("proposing_words")


def _stated_label(doc: Doc, tok, coined: bool) -> str | None:
    """The label of the head noun a paper gives a name: "a new model called X", "X, a training-free
    ... method", "X is a ... benchmark" (coined names only), "an analytical tool, X,"."""
    before = doc[tok.i - 1].lower_ if tok.i else ""
    after = doc[tok.i + 1].lower_ if tok.i + 1 < len(doc) else ""
    if after in DATASET_NOUNS:  # "the CICERO dataset", "on the MoNLI benchmark"
        return "DATASET"
    if coined and after in HEAD_LABELS:  # "a PMI framework", "the LookupViT model"
        return HEAD_LABELS[after]
    if (
        coined
        and before in HEAD_LABELS
        and tok.i >= 2
        and doc[tok.i - 2].lower_ in APPOSITIVE_OPENERS | NOVELTY_WORDS
    ):
        return HEAD_LABELS[before]  # "the framework MPCFORMER", "a new benchmark ZebraLogic"
    label = None
    if (
        coined and before in PROPOSING_WORDS
    ):  # "we propose FAITH (...)", "we introduce LookupViT, a ...", "we propose LOOM-Scope, a ..."
        end = _hyphen_joined_end(doc, tok.i + 1)
        return (
            head_label(doc[end + 1 : end + 13]) if end < len(doc) and doc[end].text in {",", ":"} else None
        ) or _coined_label(tok.text)
    if before in CALLING_WORDS:
        label = head_label(reversed(doc[max(0, tok.i - 12) : tok.i - 1]))
    if label is None and (after in {",", ":", "("} or (after == "is" and coined)):
        label = head_label(doc[tok.i + 2 : tok.i + 14])
    if label is None and before == "," and after in {",", "."}:
        label = head_label(reversed(doc[max(0, tok.i - 5) : tok.i - 1]))
    return label


APPOSITIVE_OPENERS = words("appositive_openers")
NOVELTY_WORDS = words("novelty_words")


def introduced_label(doc: Doc, start: int, end: int) -> str | None:
    """The head noun's label where the paper introduces the name doc[start:end] itself: "our method, called
    MOHAWK", "CICERO, a dataset of ...", "Kraken is an evolution of the ... architecture" (guidelines: the
    paper's own head noun overrides the gazetteer)."""
    before = doc[start - 1].lower_ if start else ""
    if before == "-" and _glued(doc, start - 1):  # the last part of a hyphenated name: "LRQ-DiT, a ... framework"
        return None
    after = [t.lower_ for t in doc[end : end + 2]]
    if before in CALLING_WORDS:
        return head_label(reversed(doc[max(0, start - 12) : start - 1]))
    if len(after) == 2 and (
        (after[0] == "," and after[1] in APPOSITIVE_OPENERS) or (after[0] == "is" and after[1] in {"a", "an"})
    ):
        return head_label(doc[end + 2 : end + 13])
    return None


def _relabel_introduced(doc: Doc) -> None:
    """A one-token name the rules tagged takes the label of the paper's own introduction of it, on every mention."""
    stated = {}
    for ent in doc.ents:
        if len(ent) == 1 and ent.text not in stated and (_COINED.match(ent.text) or _capitalised(ent.text)):
            label = introduced_label(doc, ent.start, ent.end)
            if label is not None and label != ent.label_:
                stated[ent.text] = label
    if stated:
        doc.ents = [
            Span(doc, e.start, e.end, label=stated[e.text], span_id=e.ent_id_)
            if len(e) == 1 and e.text in stated
            else e
            for e in doc.ents
        ]


_YEAR = re.compile(r"^(19|20)\d\d[a-z]?$")


def _in_citation(doc: Doc, i: int) -> bool:
    """doc[i] sits in a bracketed citation with a year, an author's name: "(Webb, Holyoak, and Lu, 2023)"."""
    opening = next((t.i for t in reversed(doc[max(0, i - 12) : i]) if t.text in {"(", ")"}), None)
    closing = next((t.i for t in doc[i + 1 : i + 13] if t.text in {"(", ")"}), None)
    if opening is None or closing is None or doc[opening].text != "(" or doc[closing].text != ")":
        return False
    return any(_YEAR.match(t.text) for t in doc[opening + 1 : closing])


@Language.component("paperlake_definitions")
def defined_names(doc: Doc) -> Doc:
    """Names a paper coins are entities on every mention, labelled by what the paper says they are.

    "X, a training-free ... method" / "X is a ... benchmark" / "a new model called X" / "an analytical
    tool, X": the head noun's label. A coined name with no head noun (LookupViT, FBBO) is labelled by its
    ending (...ViT is a MODEL, ...Bench a DATASET), else as a METHOD, the commonest label of coined names.
    """
    _relabel_introduced(doc)
    defined: dict[str, str] = {}
    # "(WEP)" after a long form the rules did not take for an entity: a descriptive abbreviation
    descriptive = {
        t.text
        for t in doc[1:-1]
        if doc[t.i - 1].text == "(" and doc[t.i + 1].text == ")" and t.i >= 2 and not doc[t.i - 2].ent_type_
    }
    for tok in doc:
        coined = bool(_COINED.match(tok.text))
        capitalised = (
            _capitalised(tok.text)
            and tok.i > 0
            and doc[tok.i - 1].text not in {":", '"', "-"}
            and not doc[tok.i - 1].text.endswith(".")
            and not doc[tok.i - 1].text[:1].isupper()
            and not (tok.i + 1 < len(doc) and (doc[tok.i + 1].text[:1].isupper() or doc[tok.i + 1].text == "-"))
        )
        if (
            not (coined or capitalised)
            or tok.ent_type_
            or tok.lower_ in GENERIC_NAMES
            or tok.lower_ in NOT_NAMES
            or tok.text in defined
            or tok.text in descriptive
        ):
            continue
        if excluded_kind(tok.text) or all_caps_run(doc, tok.i) or (not coined and _in_citation(doc, tok.i)):
            continue
        label = _stated_label(doc, tok, coined)
        if label is None and coined and len(tok.text) >= 3 and not _modifies_next(doc, tok.i):
            label = _ending_label(tok.text)
        if label:
            defined[tok.text] = label
    # Aarens is Aaren
    plurals = {name + "s": name for name in defined if not name.endswith("s") and name + "s" not in defined}
    spans = [Span(doc, t.i, t.i + 1, label=defined[t.text]) for t in doc if t.text in defined and not t.ent_type_]
    spans += [
        Span(doc, t.i, t.i + 1, label=defined[plurals[t.text]], span_id=plurals[t.text])
        for t in doc
        if t.text in plurals and not t.ent_type_
    ]
    doc.ents = filter_spans(list(doc.ents) + spans)
    return doc


_TITLE_NAME = re.compile(r"^\s*([^:]{2,40}?)\s*:\s*(.+)$")
TITLE_DATASET_CUES = DATASET_NOUNS | words("more_title_dataset_cues")


def _title_label(rest: str) -> str | None:
    return "DATASET" if set(re.findall(r"[a-z]+", rest.lower())) & TITLE_DATASET_CUES else None


@Language.component("paperlake_title_names")
def title_names(doc: Doc) -> Doc:
    """The name before the colon of the paper's title ("TokenWeave: Efficient ...") is the paper's own
    artifact: its untagged mentions in the abstract are entities, a DATASET when the rest of the title
    says benchmark or dataset, else labelled by the name's ending or as a METHOD."""
    found = _TITLE_NAME.match(doc._.paper_title)
    if (
        found is None
        or len(found.group(1).split()) > 4
        or found.group(1).lower() in GENERIC_NAMES
        or excluded_kind(found.group(1))
    ):
        return doc
    if doc._.paper_title.isupper():  # a title set in capitals: every word before its colon looks coined
        return doc
    name, rest = found.groups()
    titled = _title_label(rest)
    spans = []
    for mention in mention_pattern(name).finditer(doc.text):
        span = doc.char_span(mention.start(), mention.end())
        # a dataset the title announces replaces the names inside its own ("SDOH-NLI: a Dataset for ...": not NLI)
        if span is not None and (
            not any(t.ent_type_ for t in span) or (titled == "DATASET" and _holds_its_entities(span))
        ):
            spans.append(span)
    if spans:
        stated = (introduced_label(doc, span.start, span.end) for span in spans)
        label = titled or next((label for label in stated if label), None) or _coined_label(name)
        inside = {i for span in spans for i in range(span.start, span.end)}
        kept = [ent for ent in doc.ents if not any(i in inside for i in range(ent.start, ent.end))]
        doc.ents = filter_spans(kept + [Span(doc, s.start, s.end, label=label) for s in spans])
    return doc


# A named phrase ends in a technique, task or metric head noun (the long forms' heads, a problem's "inference" or
# "attack" a TASK), not in one too generic to name anything alone ("model", "method": those end a title's phrase
# only where the rules tagged its end).
TITLE_PHRASE_HEADS = {
    word: label for word, label in labelled_words("long_form_heads").items() if word not in words("generic_heads")
} | dict.fromkeys(words("problem_heads"), "TASK")
TITLE_PHRASE_STOPS = words("list_breakers") | words("long_form_fillers") | NAME_BREAKERS
GENERIC_PHRASES = words("generic_long_forms")
TITLE_PHRASE_WORDS = 4


def singular_noun(word: str) -> str:
    """`word` without a plural -s (MIAs -> MIA, attacks -> attack; not "loss" or "bias")."""
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


def _title_phrase_at(doc: Doc, end: int, title: str) -> Span | None:
    """The longest phrase of two to four words ending at doc[end] that the title holds too, else None; its words
    are no stop words, and it is no generic class ("large language models")."""
    if doc[end].lower_ not in title:
        return None  # no phrase ending in a word the title lacks: spares the pattern each longer phrase compiles
    found = None
    for start in range(end, max(-1, end - 2 * TITLE_PHRASE_WORDS), -1):
        first, piece = doc[start], doc[start : end + 1]
        if first.text == "-" or not (first.is_alpha or first.like_num) or first.lower_ in TITLE_PHRASE_STOPS:
            break
        if start < end and first.lower_ in DEGREE_PARTS and doc[start + 1].text != "-":
            break  # "efficient inference": a degree or praise, not a kind (guidelines, boundaries 5)
        if start and doc[start - 1].lower_ == "we":
            break  # "we use probing": a verb (title "Can We Use Probing to ...")
        words_in = [t for t in piece if t.text != "-"]
        generic = " ".join(piece.text.lower().replace("-", " ").split()) in GENERIC_PHRASES
        if len(words_in) > TITLE_PHRASE_WORDS or generic or first.lower_ in GENERIC_NAMES:
            break
        text = piece.text.lower()
        if len(words_in) >= 2 and text in title and mention_pattern(text).search(title):
            found = piece
    return found


CALLING_VERBS = words("calling_verbs")


def _called_phrase(doc: Doc, i: int) -> tuple[Span, str] | None:
    """(phrase, label) where doc[i] announces a lowercase name of two to four words ("a methodology called batch
    predictive inference", "which we term personalized reasoning"): labelled by the head noun before the calling
    word, else by a name the rules tagged at its end, else by its own head noun; else None."""
    tok = doc[i]
    if tok.lower_ not in CALLING_WORDS and not (tok.lower_ in CALLING_VERBS and i and doc[i - 1].lower_ == "we"):
        return None
    start = i + 1
    while start < len(doc) and opening_mark(doc[start]):
        start += 1  # opening quotes: called ``X'', termed \`X'
    end = start
    while end < len(doc) and (doc[end].text == "-" or (doc[end].is_lower and doc[end].is_alpha)):
        if doc[end].lower_ in TITLE_PHRASE_STOPS or end - start >= 2 * TITLE_PHRASE_WORDS:
            break
        end += 1
    phrase = doc[start:end]
    words_in = [t for t in phrase if t.text != "-"]
    if not 2 <= len(words_in) <= TITLE_PHRASE_WORDS or doc[end - 1].text == "-":
        return None
    if " ".join(phrase.text.replace("-", " ").split()) in GENERIC_PHRASES or phrase.text in NOT_LIST_ENTITIES:
        return None
    tail = next((ent for ent in doc.ents if ent.end == end and ent.start >= start), None)
    label = (
        head_label(reversed(doc[max(0, i - 12) : i]))
        or (tail.label_ if tail is not None else None)
        or TITLE_PHRASE_HEADS.get(singular_noun(doc[end - 1].lower_))
        or ("TASK" if doc[end - 1].lower_ in TASK_HEADS else None)
    )
    return (phrase, label) if label else None


def _phrase_spans(doc: Doc, spans: list[Span]) -> None:
    """Set `spans` as entities where they cut no longer name, replacing the names inside them."""
    taken = []
    for span in spans:
        touching = [(ent.start, ent.end) for ent in doc.ents if ent.start < span.end and span.start < ent.end]
        if (span.start, span.end) not in touching and not any(a < span.start or b > span.end for a, b in touching):
            taken.append(span)
    if taken:
        inside = {i for span in taken for i in range(span.start, span.end)}
        kept = [ent for ent in doc.ents if not any(i in inside for i in range(ent.start, ent.end))]
        doc.ents = filter_spans(kept + taken)


@Language.component("paperlake_named_phrases")
def named_phrases(doc: Doc) -> Doc:
    """Phrases the paper names as its own subject are one entity on every mention (guidelines, boundaries 5: kind
    modifiers belong to the name). A phrase the title names and the abstract repeats: "Batch Prompting: ..." makes
    `batch prompting` (not `prompting`), "... Entailment Verification ..." makes `entailment verification` a TASK;
    it ends in a head noun (its label) or widens a name the rules tagged (that name's label); said once, it is not
    taken. A lowercase phrase after a calling word ("which we term personalized reasoning"), and its later
    mentions."""
    title = " ".join(re.sub(r"[^\w\s-]", " | ", doc._.paper_title.lower()).split())
    ends = {ent.end - 1: ent for ent in doc.ents}
    spans = []
    for tok in doc:
        label = ends[tok.i].label_ if tok.i in ends else None
        if label is None and not tok.ent_type_ and tok.is_alpha:
            label = TITLE_PHRASE_HEADS.get(singular_noun(tok.lower_))
        phrase = _title_phrase_at(doc, tok.i, title) if label and title else None
        if phrase is not None and phrase.text.lower() not in NOT_LIST_ENTITIES:
            spans.append(Span(doc, phrase.start, phrase.end, label=label))
    mentions = Counter(span.text.lower() for span in spans)
    spans = [span for span in spans if mentions[span.text.lower()] >= 2]
    for phrase, label in filter(None, (_called_phrase(doc, tok.i) for tok in doc)):
        for mention in mention_pattern(phrase.text, ignore_case=True).finditer(doc.text):
            span = doc.char_span(mention.start(), mention.end(), label=label)
            if span is not None:
                spans.append(span)
    _phrase_spans(doc, filter_spans(spans))
    return doc


NOT_VARIANTS = words("not_variants")


def _glued(doc: Doc, left: int) -> bool:
    """doc[left] and doc[left + 1] are written without a space between them."""
    return not doc[left].whitespace_


def _name_part(text: str) -> bool:
    """A capitalised or numbered part (`Nano`, `9B`), a version (`v2`) or a language code (`zh`)."""
    return text[:1].isupper() or text[:1].isdigit() or bool(re.fullmatch(r"v\d[\w.]*|[a-z]{2}", text))


@Language.component("paperlake_compounds")
def extend_hyphenated_names(doc: Doc) -> Doc:
    """A name hyphenated to capitalised parts (or, for models and datasets, a lowercase variant) is one
    entity: `Nemotron-Nano-9B-v2`, `Phi-Mamba`, `LR-QAT`, `LLaVA-Rad`, `GPT4-turbo`, `SNLI-hard`."""
    ents = []
    for ent in doc.ents:
        start, end = _hyphen_joined_start(doc, ent.label_, ent.start), ent.end

        def variant(i: int) -> bool:  # a lowercase variant suffix of a model or dataset: GPT4-turbo, SNLI-hard
            tok = doc[i]
            return (
                ent.label_ in {"MODEL", "DATASET"}
                and tok.is_lower
                and tok.is_alpha
                and not tok.ent_type_
                and tok.lower_ not in NOT_VARIANTS
            )

        while (
            end + 1 < len(doc)
            and doc[end].text == "-"
            and _glued(doc, end - 1)
            and _glued(doc, end)
            and (_joinable(doc, end + 1, ent.label_) or variant(end + 1))
        ):
            end += 2
        ents.append(_widened(ent, start, end))
    doc.ents = filter_spans(ents)
    return doc


def _hyphen_joined_end(doc: Doc, end: int) -> int:
    """Where a name ending before doc[end] ends once the name parts hyphen-glued after it join (`LOOM` ->
    `LOOM-Scope`)."""
    while (
        end + 1 < len(doc)
        and doc[end].text == "-"
        and _glued(doc, end - 1)
        and _glued(doc, end)
        and _name_part(doc[end + 1].text)
    ):
        end += 2
    return end


def _joinable(doc: Doc, i: int, label: str) -> bool:
    """doc[i] can join a name of `label` across a hyphen: an untagged name part, or a one-token name of that label
    (Phi-Mamba)."""
    tok = doc[i]
    return _name_part(tok.text) and (
        not tok.ent_type_
        or (tok.ent_type_ == label and tok.ent_iob_ == "B" and (i + 1 == len(doc) or doc[i + 1].ent_iob_ != "I"))
    )


def _hyphen_joined_start(doc: Doc, label: str, start: int) -> int:
    """Where a name of `label` starting at doc[start] starts once the parts hyphen-glued before it join (`Multi-` in
    `Multi-Action-Head DPO`)."""
    while (
        start >= 2
        and doc[start - 1].text == "-"
        and _glued(doc, start - 2)
        and _glued(doc, start - 1)
        and _joinable(doc, start - 2, label)
    ):
        start -= 2
    return start


@Language.component("paperlake_kind_modifiers")
def join_kind_modifiers(doc: Doc) -> Doc:
    """Words that name a kind of a technique, task or metric belong to its span (guidelines, boundaries 5):
    `cross-silo FL`, `per-IC quantization`, `Maieutic Prompting`, `classification accuracy`."""
    ents = []
    for ent in doc.ents:
        start = ent.start
        if (
            ent.label_ == "METRIC"
            and start > 0
            and _METRIC_KIND.match(doc[start - 1].text)
            and not doc[start - 1].ent_type_
        ):
            start -= 1  # "classification accuracy", "top-3 accuracy", "factual accuracy"
        if ent.label_ in {"METHOD", "TASK"} and _kind_modifier(doc, start):
            start -= 3  # "cross-silo federated learning", "per-IC quantization"
        if ent.label_ in {"METHOD", "TASK"} and doc[start].text[:1].isupper() and doc[start].text[1:2].islower():
            while (
                start > 0
                and _capitalised(doc[start - 1].text)
                and not doc[start - 1].is_sent_start
                and not doc[start - 1].ent_type_
                and doc[start - 1].lower_ not in NAME_BREAKERS
            ):
                start -= 1  # a Title Case name ending in a technique: "Maieutic Prompting"
        if (
            start < ent.start
        ):  # the widened name's own hyphen-glued first part: "Multi-Action-Head DPO", "Inference-Time Self-Improvement"
            start = _hyphen_joined_start(doc, ent.label_, start)
        ents.append(_widened(ent, start, ent.end))
    doc.ents = filter_spans(ents)
    return doc


def _holds_its_entities(span: Span) -> bool:
    """Every entity touching `span` lies inside it."""
    return all(
        span.start <= ent.start and ent.end <= span.end
        for ent in span.doc.ents
        if ent.start < span.end and span.start < ent.end
    )


CLASS_NOUNS = labelled_words("class_nouns")
LIST_TRIGGERS = words("list_triggers")
LIST_BREAKERS = words("list_breakers")
NOT_LIST_ENTITIES = words("not_list_entities")


def _list_items(doc: Doc, start: int) -> list[tuple[int, int]]:
    """(start, end) token ranges of the items of a list starting at `start`, up to its first unlikely item."""
    items, item_start, i = [], start, start
    while i <= len(doc):
        at_end = i == len(doc) or doc[i].text in {".", ";", ":", "(", ")"}
        if at_end or doc[i].text == "," or doc[i].lower_ in {"and", "or"}:
            if i > item_start:
                words = doc[item_start:i]
                if len(words) > 4 or any(t.lower_ in LIST_BREAKERS or t.like_num for t in words):
                    break
                items.append((item_start, i))
            if at_end:
                break
            item_start = i + 1
        i += 1
    return items


@Language.component("paperlake_enumerations")
def enumerated_entities(doc: Doc) -> Doc:
    """Items a paper lists after "tasks such as", "metrics including", "methods like", "three tasks:" or "datasets ("
    take that label."""
    spans = []
    for tok in doc:
        label = CLASS_NOUNS.get(tok.lower_)
        if label is None:
            continue
        j = tok.i + 1 + (tok.i + 1 < len(doc) and doc[tok.i + 1].text in {",", "(", ":"})
        items = None
        for trigger in LIST_TRIGGERS:
            words = trigger.split()
            if [t.lower_ for t in doc[j : j + len(words)]] == words:
                items = _list_items(
                    doc, j + len(words) + (j + len(words) < len(doc) and doc[j + len(words)].text == ",")
                )
                break
        if items is None and j < len(doc) and doc[j - 1].text in {":", "("}:
            items = _list_items(doc, j)  # "three tasks: A, B, and C", "benchmarks (A, B and C)": a list of two or more
            items = items if len(items) >= 2 else []
        spans += [
            Span(doc, a, b, label=label)
            for a, b in items or []
            if not any(t.ent_type_ for t in doc[a:b]) and doc[a:b].text.lower() not in NOT_LIST_ENTITIES
        ]
    if spans:
        doc.ents = filter_spans(list(doc.ents) + spans)
    return doc


# What joins items of one list: "GPT-4, Claude and Gemini", "MaskGIT, MAGE, and MAR", "vLLM/SGLang".
COORDINATORS = {",", "and", "or", "/"}
_NAME_PIECE = re.compile(r"^[A-Za-z0-9-]+$")


def _coined_word(doc: Doc, start: int) -> int | None:
    """The end of the untagged coined name (one word, hyphen-glued parts allowed) starting at doc[start], else None."""
    end = start
    while (
        end < len(doc)
        and not doc[end].ent_type_
        and _NAME_PIECE.match(doc[end].text)
        and (end == start or not doc[end - 1].whitespace_)
    ):
        end += 1
    while end > start and doc[end - 1].text == "-":
        end -= 1
    text = doc[start:end].text
    if (
        not (_COINED.match(text) or _ALNUM_NAME.match(text))
        or text.lower() in GENERIC_NAMES
        or text.lower() in NOT_NAMES
        or excluded_kind(text)
    ):
        return None
    return end


TASK_HEADS = words("task_heads")
# A phrase listed beside a task has no word of these (it would be a clause, not a name); on its left it starts after
# punctuation or one of the openers (a subject and its verb, "we study X and T", would be no name).
_PHRASE_BOUNDARIES = LIST_BREAKERS | words("more_phrase_boundaries")
_PHRASE_OPENERS = words("phrase_openers")
LISTED_TASK_CLOSERS = words("listed_task_closers")


def _task_word(tok) -> bool:
    return (
        tok.is_lower
        and not tok.ent_type_
        and (tok.is_alpha or tok.text == "-")
        and tok.lower_ not in _PHRASE_BOUNDARIES
    )


def _task_phrase(doc: Doc, start: int, end: int) -> bool:
    """doc[start:end] reads as a task name: one to three lowercase words (hyphen-glued parts count as one) ending in a
    task head noun."""
    parts = [
        t
        for t in doc[start:end]
        if t.text != "-" and not (t.i > start and doc[t.i - 1].text == "-" and _glued(doc, t.i - 1))
    ]
    return (
        0 < len(parts) <= 3 and doc[end - 1].lower_ in TASK_HEADS and doc[start].text != "-"
        and doc[start:end].text.lower() not in NOT_LIST_ENTITIES
    )


def _listed_tasks(doc: Doc, ent: Span, taken: set[int]) -> list[Span]:
    """Untagged task-like phrases listed right beside the task `ent`: "logical reasoning, common sense reasoning, and
    planning"."""
    found = []
    i = ent.end  # rightwards: "T, X and Y"
    while i < len(doc) and doc[i].text in {",", "and", "or"}:
        j = i + 1 + (i + 1 < len(doc) and doc[i].text == "," and doc[i + 1].lower_ in {"and", "or"})
        end = j
        while end < len(doc) and end - j < 6 and _task_word(doc[end]) and end not in taken:
            end += 1
        closed = (
            end == len(doc)
            or doc[end].text in {",", ".", ";", ")", "and", "or"}
            or doc[end].lower_ in LISTED_TASK_CLOSERS
        )
        if not closed or not _task_phrase(doc, j, end):
            break
        found.append(Span(doc, j, end, label="TASK"))
        i = end
    i = ent.start  # leftwards: "X and T", "X, Y and T"
    while i >= 2 and doc[i - 1].text in {",", "and", "or"}:
        end = i - 1 - (doc[i - 1].lower_ in {"and", "or"} and doc[i - 2].text == ",")
        start = end
        while start > 0 and end - start < 6 and _task_word(doc[start - 1]) and start - 1 not in taken:
            start -= 1
        opened = start > 0 and (doc[start - 1].is_punct or doc[start - 1].lower_ in _PHRASE_OPENERS)
        if not opened or not _task_phrase(doc, start, end):
            break
        found.append(Span(doc, start, end, label="TASK"))
        i = start
    return found


@Language.component("paperlake_coordinations")
def coordinated_names(doc: Doc) -> Doc:
    """An untagged coined name listed beside a model or dataset takes its label: "SGLang, vLLM and MLC-Engine",
    "Split CIFAR-100 and CORe50", "MaskGIT, MAGE, and MAR"; so does a task-like phrase listed beside a task
    ("logical reasoning, common sense reasoning, and planning")."""
    spans = []
    taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
    for ent in doc.ents:
        if ent.label_ == "TASK":
            listed = _listed_tasks(doc, ent, taken)
            spans += listed
            taken.update(i for span in listed for i in range(span.start, span.end))
        if ent.label_ not in {"MODEL", "DATASET"}:
            continue
        i = ent.end  # rightwards: "E, X and Y"
        while i < len(doc) and doc[i].text in COORDINATORS:
            j = i + 1 + (i + 1 < len(doc) and doc[i].text == "," and doc[i + 1].lower_ in {"and", "or"})
            end = _coined_word(doc, j) if j < len(doc) and j not in taken else None
            if end is None or (end < len(doc) and doc[end].text == "-"):
                break
            spans.append(Span(doc, j, end, label=ent.label_))
            taken.update(range(j, end))
            i = end
        i = ent.start  # leftwards: "X and E", "X, Y and E"
        while i >= 2 and doc[i - 1].text in COORDINATORS:
            j = i - 1 - (doc[i - 1].lower_ in {"and", "or"} and doc[i - 2].text == ",")
            start = j - 1
            while (
                start > 0
                and not doc[start - 1].whitespace_
                and not doc[start - 1].ent_type_
                and doc[start - 1].text not in COORDINATORS | {"(", "["}
            ):
                start -= 1
            if start < 0 or start in taken or _coined_word(doc, start) != j or doc[start].is_sent_start:
                break
            spans.append(Span(doc, start, j, label=ent.label_))
            taken.update(range(start, j))
            i = start
    if spans:
        doc.ents = filter_spans(list(doc.ents) + spans)
    return doc


def _multi_part_name(ent: Span) -> bool:
    """A name of two or more parts, not lowercase: `Encyclopedic-VQA`, `Explore ToM` (a bare `NLI` or `QA` before
    "datasets" names the task the datasets are for)."""
    return len(ent) > 1 and not ent.text[:1].islower()


@Language.component("paperlake_dataset_names")
def names_before_dataset_nouns(doc: Doc) -> Doc:
    """A task- or method-like name right before "dataset(s)/benchmark(s)/corpus" names a dataset: "the Explore ToM
    Dataset", "Encyclopedic-VQA and InfoSeek datasets"."""
    relabel = set()
    ents = list(doc.ents)
    for k, ent in enumerate(ents):
        if ent.label_ not in {"TASK", "METHOD"} or not _multi_part_name(ent):
            continue
        end = ent.end
        if (
            end + 1 < len(doc)
            and doc[end].lower_ in {"and", "or", ","}
            and k + 1 < len(ents)
            and ents[k + 1].start == end + 1
        ):
            end = ents[k + 1].end  # "A and B datasets"
        if end < len(doc) and doc[end].lower_ in DATASET_NOUNS:
            relabel.add(k)
    if relabel:
        doc.ents = [
            Span(doc, e.start, e.end, label="DATASET", span_id=e.ent_id_) if k in relabel else e
            for k, e in enumerate(ents)
        ]
    return doc


def _used_as_verb(ent: Span) -> bool:
    """A metric spelled like a verb, right after "to", a modal verb or an -ly adverb: "to recall information",
    "accurately recall", "to speed up generation"."""
    if ent.text.lower() not in VERB_METRICS or ent.start == 0:
        return False
    before = ent.doc[ent.start - 1]
    return before.lower_ in VERB_OPENERS or (before.is_lower and before.is_alpha and before.lower_.endswith("ly"))


@Language.component("paperlake_false_friends")
def drop_false_friends(doc: Doc) -> Doc:
    """Remove METRIC `precision` when it names a number format ("4-bit precision", "mixed precision"), and a metric
    spelled like a verb where it is the verb ("to recall information")."""
    kept = []
    for ent in doc.ents:
        if ent.label_ == "METRIC" and _used_as_verb(ent):
            continue
        if ent.label_ == "METRIC" and ent.text.lower() == "precision" and ent.start > 0:
            before = doc[ent.start - 1].lower_
            if (
                before in PRECISION_FORMATS
                or before.endswith("-bit")
                or (ent.end < len(doc) and doc[ent.end].lower_ in PRECISION_FORMAT_NOUNS)
            ):
                continue
        kept.append(ent)
    doc.ents = kept
    return doc
