"""Training and evaluation of the tagger (`make train-ner`, `make eval-ner`): nothing here runs in the tag stage,
so `tagger.tagger_version` does not hash it."""
