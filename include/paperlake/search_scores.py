"""The best BM25 matches of a query, scored with numpy over its terms' postings (the page a search shows first).

Each term's postings (docid, tf) and every live doc's length are read once from the index views and laid out by docid:
the papers holding every term are one vectorised AND, their scores one expression per term, the best of them one
partition. This is the same BM25 as `paperlake.search.matches_sql` (the same live papers, document frequencies and
average length, the same operations in the same order on doubles: the same scores to the bit), without joining every
posting to its doc and grouping them in SQL: 361k matches of the two most frequent words cost about 25 ms, not 80.
"""

from __future__ import annotations

import math

BM25_K1, BM25_B = 1.2, 0.75


def best_matches(con, termids: list[int], count: int) -> tuple[int, list[tuple[float, int]]]:
    """(how many live papers hold every term of `termids`, the (score, docid) of the best `count` of them and of any
    others with the same score as the last), read through `index_docs` and `index_postings` on `con`."""
    import numpy as np

    def columns(sql: str):
        table = con.execute(sql).to_arrow_table()  # through Arrow: a third of fetchnumpy's time
        return (table[name].to_numpy() for name in table.column_names)

    docs, lens = columns("SELECT docid, len FROM index_docs")
    papers = len(docs)
    if not papers:
        return 0, []
    avgdl = int(lens.sum()) / papers
    # Each live doc's length at its docid; -1 where no live doc has that docid (a replaced text's postings stay).
    lengths = np.full(int(docs.max()) + 1, -1.0)
    lengths[docs] = lens
    frequencies = []
    for termid in termids:
        held, tfs = columns(f"SELECT docid, tf FROM index_postings WHERE termid = {termid:d}")
        live = lengths[held] >= 0
        tf = np.zeros(len(lengths))
        tf[held[live]] = tfs[live]
        frequencies.append(tf)
    docids = np.flatnonzero(np.logical_and.reduce([tf > 0 for tf in frequencies]))
    if not len(docids):
        return 0, []
    norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths[docids] / avgdl)
    scores = None
    for tf in frequencies:
        held = np.count_nonzero(tf)
        idf = math.log(1 + (papers - held + 0.5) / (held + 0.5))
        weight = idf * tf[docids] * (BM25_K1 + 1) / (tf[docids] + norm)
        scores = weight if scores is None else scores + weight
    total = len(docids)
    if total > count:
        best = scores >= np.partition(scores, total - count)[total - count]
        docids, scores = docids[best], scores[best]
    return total, list(zip(scores.tolist(), docids.tolist()))
