"""The rules-only tagger and the gazetteer index the tagging tests share (built once per session), and `entities`."""


import pytest

from paperlake.config import GAZETTEER_PATHS
from paperlake.tagging.gazetteer import alias_index, load_gazetteers
from paperlake.tagging.tagger import build_tagger
from paperlake.tagging.workers import tag_texts


@pytest.fixture(scope="session")
def nlp():
    return build_tagger(model_dir=None)


@pytest.fixture(scope="session")
def index():
    return alias_index(load_gazetteers(GAZETTEER_PATHS))


def entities(nlp, text, index=None):
    return [(eid, label, span) for eid, label, span, _, _ in tag_texts(nlp, [text], index)[0]]
