"""A deterministic synthetic corpus grown from the bundled sample, saved as a page the `snapshot` source reads.

Paper i depends only on (seed, i), so a corpus of 10k papers is the first 10k of one of 40k. Each
paper takes a sample paper's title with a number that makes it unique, and an abstract made from
that paper's sentences, about a third of them swapped for sentences of other sample abstracts, with
a few neighbouring words swapped; some abstracts get the markup residue the cleaner removes (LaTeX,
HTML, markdown), so the clean stage has the work it has on real pages.
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass
from pathlib import Path

from paperlake.config import BUNDLED_SNAPSHOT
from paperlake.sources.snapshot import HEADER_LINES, parse_snapshot_page

SEED = 13
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
SWAPPED_SENTENCE_SHARE = 0.3
SWAPPED_WORD_SHARE = 0.04
# Residue wrapped around one plain word: (share of abstracts, template).
RESIDUE = (
    (0.06, r"\emph{{{}}}"),
    (0.04, r"{} with $\mathcal{{O}}(n^2)$ cost"),
    (0.03, r"{} (${{\sim}}$10\% fewer steps)"),
    (0.03, "<i>{}</i>"),
    (0.02, "{} &amp; more"),
    (0.03, "**{}**"),
    (0.02, "`{}`"),
)


@dataclass(frozen=True)
class Paper:
    """One synthetic paper as the saved page shows it (uncleaned)."""

    title: str
    abstract: str


@functools.cache
def sample_papers() -> tuple[Paper, ...]:
    """Every paper of the bundled sample, as its page shows it."""
    return tuple(Paper(r.title, r.abstract) for r in parse_snapshot_page(BUNDLED_SNAPSHOT.read_text(encoding="utf-8")))


@functools.cache
def sample_sentences() -> tuple[tuple[str, list[str]], ...]:
    """(title, sentences of the abstract) of every sample paper."""
    return tuple((paper.title, SENTENCE_BREAK.split(paper.abstract)) for paper in sample_papers())


@functools.cache
def sentence_pool() -> tuple[str, ...]:
    return tuple(sentence for _, sentences in sample_sentences() for sentence in sentences)


def synthetic_paper(i: int, seed: int = SEED) -> Paper:
    """Paper number i of the corpus (0-based)."""
    rng = random.Random(f"{seed}:{i}")
    papers = sample_sentences()
    title, sentences = papers[rng.randrange(len(papers))]
    pool = sentence_pool()
    sentences = [rng.choice(pool) if rng.random() < SWAPPED_SENTENCE_SHARE else s for s in sentences]
    words = " ".join(sentences).split(" ")
    is_plain = [len(word) > 2 and word.isalpha() and word.islower() for word in words]
    plain = [k for k in range(len(words) - 1) if is_plain[k] and is_plain[k + 1]]
    for k in rng.sample(plain, int(len(plain) * SWAPPED_WORD_SHARE)):
        words[k], words[k + 1] = words[k + 1], words[k]
    for share, template in RESIDUE:
        if plain and rng.random() < share:
            k = rng.choice(plain)
            words[k] = template.format(words[k])
    return Paper(title=f"{title} ({i + 1})", abstract=" ".join(words))


def synthetic_papers(n: int, seed: int = SEED) -> list[Paper]:
    """The first n papers of the corpus."""
    return [synthetic_paper(i, seed) for i in range(n)]


def write_snapshot_page(path: Path, papers: list[Paper]) -> Path:
    """Write papers as a saved page (header lines, then title / abstract line pairs), as the `snapshot` source reads
    it."""
    lines = [*HEADER_LINES]
    for k, paper in enumerate(papers):
        # the saved page glues its subscribe button to the first title, as in the bundled sample
        lines += [("Subscribe" if k == 0 else "") + paper.title, paper.abstract]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
