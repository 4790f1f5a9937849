"""`make eval-clean`: clean every abstract and title of the real corpus and count what is not clean.

Prints, over the records (a record counts once, for its title or its abstract): leftover `$`, `\\`, `^{`,
`_{`; plain words of the raw text glued to a neighbour; texts a second cleaning changes; texts one pass of the
rules does not leave final; escaped dollars lost; private-use characters (the cleaning's own placeholders) the raw
text did not hold; and the CPU milliseconds `clean_text` takes per abstract. Exits 1 when any count is not 0.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections import Counter

from paperlake.clean import clean_once, clean_text
from paperlake.latex import find_math, literal_dollars
from paperlake.real_corpus import REAL_CORPUS_DIR_ENV, load_real_corpus
from paperlake.text_residue import glued_words, leaked_placeholders

_LEFTOVER = {"$": re.compile(r"\$"), "\\": re.compile(r"\\"), "^{": re.compile(r"\^\{"), "_{": re.compile(r"_\{")}


def mathjax_dollars(raw: str) -> int:
    """The dollars arXiv's abstract page shows for `raw`, money before a digit aside: MathJax pairs every unescaped
    `$` with the next, so the escaped ones and a last one left without a partner (independent of our own reading)."""
    unescaped = len(re.findall(r"(?<!\\)\$", raw))
    return len(re.findall(r"\\\$(?!\d)", raw)) + unescaped % 2


def shown_dollars(cleaned: str) -> int:
    """Dollars of a cleaned text, money before a digit aside (`$5-$10` written unescaped stays money, on purpose)."""
    return len(re.findall(r"\$(?!\d)", cleaned))


ONE_PASS = "one pass not final"
PLACEHOLDER_LEFT = "placeholder characters left"


def evaluate(records, clean, once=None) -> tuple[Counter, dict[str, list], float]:
    """Counts of each defect over `records`, up to 5 examples of each, and CPU ms per abstract of `clean`.

    With `once` (one pass of the rules), also the records whose one-pass output a second pass still changes (a
    reading of its own output: `clean_text` would repeat the pass)."""
    counts: Counter = Counter()
    examples: dict[str, list] = {}
    started = time.process_time()
    cleaned_pairs = [(clean(record.title), clean(record.abstract)) for record in records]
    ms_per_abstract = (time.process_time() - started) * 1000 / max(len(records), 1) / 2

    def found(defect: str, record, detail) -> None:
        counts[defect] += 1
        if len(examples.setdefault(defect, [])) < 5:
            examples[defect].append((record.id, record.origin, detail))

    for record, cleaned in zip(records, cleaned_pairs):
        texts = list(zip((record.title, record.abstract), cleaned))
        for mark, pattern in _LEFTOVER.items():
            # a dollar is left over when a reading would pair it as math, or when arXiv's page would not show as many
            hits = [
                c
                for raw, c in texts
                if pattern.search(c) and (mark != "$" or find_math(c) or shown_dollars(c) > mathjax_dollars(raw))
            ]
            if hits:
                found(f"leftover {mark}", record, hits[0][:200])
        if glued := [w for raw, c in texts for w in glued_words(raw, c)]:
            found("glued words", record, glued[:5])
        if changed := [c for _, c in texts if clean(c) != c]:
            found("changed by a second cleaning", record, changed[0][:200])
        if once is not None and (reread := [o for o in map(once, (record.title, record.abstract)) if once(o) != o]):
            found(ONE_PASS, record, reread[0][:200])
        if leaked := [c for raw, c in texts if leaked_placeholders(raw, c)]:
            found(PLACEHOLDER_LEFT, record, leaked[0][:200])
        if any(literal_dollars(raw) > (raw.count("\\$") or 0) for raw, _ in texts):
            found("unpaired $ in the raw text (kept as a dollar)", record, record.abstract[:200])
        if any(c.count("$") < raw.count("\\$") for raw, c in texts):
            found("escaped dollars lost", record, record.abstract[:200])
    return counts, examples, ms_per_abstract


def main() -> int:
    records = load_real_corpus(os.environ.get(REAL_CORPUS_DIR_ENV) or None)
    counts, examples, ms = evaluate(records, clean_text, clean_once)
    archives = Counter((r.categories[0].split(".")[0] if r.categories else "unknown") for r in records)
    print(f"eval-clean: {len(records):,} real records (titles and abstracts), by primary archive: "
          + ", ".join(f"{a} {n}" for a, n in archives.most_common()))
    defects = [
        "leftover $",
        "leftover \\",
        "leftover ^{",
        "leftover _{",
        "glued words",
        "changed by a second cleaning",
        ONE_PASS,
        "escaped dollars lost",
        PLACEHOLDER_LEFT,
    ]
    for defect in defects:
        print(f"  {defect:<30} {counts[defect]:>6}")
        for example in examples.get(defect, []):
            print(f"      {example}")
    informational = "unpaired $ in the raw text (kept as a dollar)"
    print(f"  {informational}: {counts[informational]} (not a defect of cleaning)")
    for example in examples.get(informational, []):
        print(f"      {example}")
    print(f"  clean_text CPU ms per abstract {ms:>9.3f}")
    return 1 if any(counts[d] for d in defects) else 0


if __name__ == "__main__":
    sys.exit(main())
