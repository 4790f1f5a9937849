"""Entity tagging of cleaned abstracts: a spaCy pipeline built from curated ML patterns."""
