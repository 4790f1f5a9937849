"""The spaCy tagging pipeline and its version string (what the entities layer records)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from paperlake.config import PATTERNS_PATH
from paperlake.tagging.gazetteer import load_gazetteer, ruler_patterns

PIPELINE_NAME = "ruler"


def tagger_version(patterns_path: Path = PATTERNS_PATH) -> str:
    """Changes whenever the patterns or spaCy change, so cached entities are never stale."""
    import spacy

    digest = hashlib.sha256(patterns_path.read_bytes()).hexdigest()[:12]
    return f"{PIPELINE_NAME}-{digest}-spacy{spacy.__version__}"


def build_tagger(patterns_path: Path = PATTERNS_PATH):
    """`spacy.blank('en')` plus an entity ruler loaded from the gazetteer (no model download)."""
    import spacy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    ruler.add_patterns(ruler_patterns(load_gazetteer(patterns_path), nlp.tokenizer))
    return nlp
