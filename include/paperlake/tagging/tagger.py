"""The spaCy tagging pipeline (`build_tagger`) and its version string (what the entities layer records).

tokenizer (+ fix for a period glued to a name) -> trained NER (optional) -> entity rules from the
gazetteer files and shape patterns (rules win on known entities) -> versions -> acronym definitions ->
names a paper coins -> long forms spelled out after a name -> the name its title announces -> phrases its
title or a calling word names -> hyphenated name parts -> kind modifiers -> listed items -> names listed
beside a model or dataset -> task-like names before "dataset" -> false friends.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from paperlake.config import DATA_DIR, GAZETTEER_PATHS
from paperlake.tagging.domain import DOMAIN_MODEL_DIR
from paperlake.tagging.exclusions import EXCLUSIONS_DIR
from paperlake.tagging.gazetteer import load_gazetteers, phrase_patterns
from paperlake.tagging.vocabulary import VOCABULARY_PATH

SHAPES_PATH = DATA_DIR / "patterns" / "shapes.jsonl"
MODEL_DIR = DATA_DIR / "models" / "ner"


# The code the tag stage runs: a change to any of these can change what is written. Training and evaluation
# (`tagging/training/`) are not in it, so editing them keeps every partition's tag cache.
RUNTIME_MODULES = (
    "acronyms",
    "cache",
    "components",
    "domain",
    "entity_rules",
    "exclusions",
    "gazetteer",
    "partition",
    "tagger",
    "vocabulary",
    "workers",
)


def tagger_files(gazetteer_paths: tuple[Path, ...] = GAZETTEER_PATHS, model_dir: Path | None = MODEL_DIR) -> list[Path]:
    """What `tagger_version` hashes: the runtime modules, the patterns and word lists, the exclusion lists and the
    trained models."""
    here = Path(__file__).parent
    files = [
        *(p for p in gazetteer_paths if p.exists()),
        SHAPES_PATH,
        VOCABULARY_PATH,
        *(here / f"{name}.py" for name in RUNTIME_MODULES),
    ]
    files += sorted(EXCLUSIONS_DIR.glob("*.txt")) + sorted(p for p in DOMAIN_MODEL_DIR.rglob("*") if p.is_file())
    if model_dir is not None and model_dir.exists():
        files += sorted(p for p in model_dir.rglob("*") if p.is_file())
    return files


def tagger_version(gazetteer_paths: tuple[Path, ...] = GAZETTEER_PATHS, model_dir: Path | None = MODEL_DIR) -> str:
    """Changes whenever the patterns, the exclusion lists, the trained models, the runtime code or spaCy change."""
    import spacy

    digest = hashlib.sha256()
    for path in tagger_files(gazetteer_paths, model_dir):
        digest.update(path.read_bytes())
    return (
        f"{'model' if model_dir is not None and model_dir.exists() else 'rules'}-"
        f"{digest.hexdigest()[:12]}-spacy{spacy.__version__}"
    )


def build_tagger(gazetteer_paths: tuple[Path, ...] = GAZETTEER_PATHS, model_dir: Path | None = MODEL_DIR):
    """The pipeline; without a trained model (or with model_dir=None) it is rules only. No downloads."""
    import spacy

    from paperlake.tagging import (  # register the other components
        acronyms,  # noqa: F401  (registers paperlake_acronyms)
        components,
        entity_rules,
    )

    nlp = spacy.blank("en")
    components.fix_tokenizer(nlp)
    if model_dir is not None and model_dir.exists():
        nlp.add_pipe("ner", source=spacy.load(model_dir))
    entries = load_gazetteers(gazetteer_paths)
    rules = nlp.add_pipe("paperlake_entity_rules")
    rules.add_phrases(phrase_patterns(entries))
    rules.add_shapes(entity_rules.load_shape_patterns(SHAPES_PATH))
    nlp.add_pipe("paperlake_versions")
    nlp.add_pipe("paperlake_acronyms")
    nlp.add_pipe("paperlake_definitions")
    nlp.add_pipe("paperlake_expansions")
    nlp.add_pipe("paperlake_title_names")
    nlp.add_pipe("paperlake_named_phrases")
    nlp.add_pipe("paperlake_compounds")
    nlp.add_pipe("paperlake_model_variants")
    nlp.add_pipe("paperlake_kind_modifiers")
    nlp.add_pipe("paperlake_enumerations")
    nlp.add_pipe("paperlake_coordinations")
    nlp.add_pipe("paperlake_dataset_names")
    nlp.add_pipe("paperlake_false_friends")
    return nlp


def titled_docs(nlp, abstracts: list[str], titles: list[str] | None = None) -> list:
    """Unprocessed Docs of the abstracts, each carrying its paper's title as context (`doc._.paper_title`)."""
    from paperlake.tagging import components  # noqa: F401  (importing it registers the title extension)

    docs = [nlp.make_doc(text) for text in abstracts]
    for doc, title in zip(docs, titles or [], strict=False):
        doc._.paper_title = title
    return docs
