"""A search index's postings for many papers at once: the same words and terms as `paperlake.search`'s SQL macros,
counted with numpy instead of one SQL row per word (a full build of 400k abstracts splits ~45M words).

Only ASCII texts are split here, by a byte table that does what `search_words` does to them (lower-case, every byte
other than a-z and 0-9 a separator); any other text is first cleaned by `search_words`'s own SQL, so a word is always
what a query's word is. Words become terms through `search_term` in SQL, once per distinct word.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

# A byte of an ASCII text -> itself for a-z and 0-9, its lower case for A-Z, else a space (a separator).
SEPARATOR = 32
# Papers split and counted at a time (their words' arrays stay small); their postings come out sorted by term.
CHUNK_DOCS = 20_000
# Chunks split and counted at once.
TOKENISER_THREADS = min(4, len(os.sched_getaffinity(0)))
ASCII_WORD_BYTES = bytes(
    b if 97 <= b <= 122 or 48 <= b <= 57 else b + 32 if 65 <= b <= 90 else SEPARATOR for b in range(256)
)


def split_words(texts):
    """The words of `texts` (an Arrow string array, each text ending with a space, ASCII only): (words as an Arrow
    large_string array, each followed by the separators after it (spaces), the index of each word's text, each word's
    byte offset in its text) as numpy arrays."""
    import numpy as np
    import pyarrow as pa

    _, offsets, data = texts.buffers()
    offsets = np.frombuffer(offsets, np.int32 if texts.type == pa.string() else np.int64)[
        texts.offset : texts.offset + len(texts) + 1
    ]
    # The chunk's bytes alone (slicing the buffer copies nothing; its bytes are the whole column's).
    translated = data[offsets[0]: offsets[-1]].to_pybytes().translate(ASCII_WORD_BYTES)
    raw = np.frombuffer(translated, np.uint8)
    # Whether each byte is a word's, after a separator standing for the start.
    in_word = np.empty(len(raw) + 1, np.bool_)
    in_word[0] = False
    np.not_equal(raw, SEPARATOR, out=in_word[1:])
    # A word starts where a separator (or the start) precedes a word byte (comparing booleans: a tenth of subtracting
    # bytes). Every text ends with a separator, so no word spans two texts; a word's separators stay with it (packing
    # the words' bytes cost half of splitting them), to be trimmed once per distinct word.
    starts = np.flatnonzero(in_word[1:] != in_word[:-1])[0::2]
    word_offsets = np.append(starts, len(raw)).astype(np.int64)
    words = pa.LargeStringArray.from_buffers(len(starts), pa.py_buffer(word_offsets), pa.py_buffer(translated))
    text_starts = offsets - offsets[0]
    text_of_word = np.repeat(np.arange(len(texts), dtype=np.int64), np.diff(np.searchsorted(starts, text_starts)))
    return words, text_of_word, starts - text_starts[text_of_word]


def count_postings(termids, docids):
    """(termid, docid, tf) arrays of every pair of the words' `termids` (0: no term) and `docids`, sorted by termid then
    docid."""
    import numpy as np

    keys = termids.astype(np.uint64) << np.uint64(32)
    keys |= docids.astype(np.uint64)
    keys.sort()
    keys = keys[np.searchsorted(keys, np.uint64(1) << np.uint64(32)):]  # termid 0 (a stop word or no word) sorts first
    if not len(keys):
        empty = np.zeros(0, np.int32)
        return empty, empty, empty
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    tf = np.diff(np.append(starts, len(keys))).astype(np.int32)
    first = keys[starts]
    return (first >> np.uint64(32)).astype(np.int32), (first & np.uint64(0xFFFFFFFF)).astype(np.int32), tf


def index_postings(con, title_weight: int, split_pattern: str) -> None:
    """Tokenise `new_texts` (docid, title, abstract; a title word counts `title_weight` times; `split_pattern`: what
    separates words in `search_text`'s output): add its terms to `terms` and its postings to `postings` (sorted by
    termid within each CHUNK_DOCS papers); leaves temp table `new_lens` (docid, len: its weighted terms)."""
    import numpy as np
    import pyarrow as pa

    # An ASCII paper as it is (split here): the title, a space, the abstract, a space. Any other: the text the SQL index
    # splits (the title title_weight times, then the abstract) cleaned by SQL into the same words, its title words
    # counted in it.
    text = " || ' ' || ".join(["coalesce(title, '')"] * title_weight + ["coalesce(abstract, '')"])
    rows = con.execute(f"""SELECT docid, CASE WHEN ascii THEN coalesce(title, '') || ' ' || \
coalesce(abstract, '') || ' '
                                              ELSE regexp_replace(search_text({text}), '{split_pattern}', ' ', 'g') || \
' ' END AS text,
                                  CASE WHEN ascii THEN strlen(coalesce(title, '')) + 1 ELSE 0 END AS title_bytes
                           FROM (SELECT *, coalesce(strlen(title) = length(title), true) \
AND coalesce(strlen(abstract) = length(abstract), true) AS ascii
                                 FROM new_texts)""").to_arrow_table()
    lens = np.zeros(int(rows["docid"].to_numpy().max(initial=0)) + 1, np.int64)  # docid -> weighted terms

    def chunk_words(first: int):
        """The words of the chunk from row `first`: (its distinct words, each word's index in them, its docid), a title
        word's further title_weight - 1 counts added, as if the title were written that many times."""
        chunk = rows.slice(first, CHUNK_DOCS)
        words, text_of_word, offset_in_text = split_words(chunk["text"].combine_chunks())
        encoded = words.dictionary_encode()
        indices = encoded.indices.to_numpy()
        docids = chunk["docid"].to_numpy().astype(np.int32)[text_of_word]  # held for every chunk: 4 bytes a word
        in_title = offset_in_text < chunk["title_bytes"].to_numpy()[text_of_word]
        indices = np.concatenate([indices, *[indices[in_title]] * (title_weight - 1)])
        docids = np.concatenate([docids, *[docids[in_title]] * (title_weight - 1)])
        return encoded.dictionary, indices, docids

    # Chunks are split in threads (numpy and Arrow release the GIL), the distinct words of all made terms by one
    # statement (per chunk, they cost a tenth of the build, one chunk at a time), then chunks counted in threads and
    # inserted at once in their order: sorted by term within each chunk, so that a query's term filter skips most row
    # groups (kept in this order as inserted).
    with ThreadPoolExecutor(TOKENISER_THREADS) as pool:
        chunks = list(pool.map(chunk_words, range(0, rows.num_rows, CHUNK_DOCS)))
        distinct = pa.chunked_array([words for words, _, _ in chunks], pa.large_string()).combine_chunks()
        encoded = distinct.dictionary_encode()
        termid_of_word = word_termids(con, encoded.dictionary)[encoded.indices.to_numpy()]
        bounds = np.cumsum([0, *(len(words) for words, _, _ in chunks)])

        def chunk_postings(number: int):
            _, indices, docids = chunks[number]
            return count_postings(termid_of_word[bounds[number] : bounds[number + 1]][indices], docids)

        counted = [pa.record_batch({"termid": termids, "docid": docids, "tf": tf})
                   for termids, docids, tf in pool.map(chunk_postings, range(len(chunks)))]
    schema = pa.schema({"termid": pa.int32(), "docid": pa.int32(), "tf": pa.int32()})
    con.register("counted", pa.Table.from_batches(counted, schema))
    con.execute("SET preserve_insertion_order = true")
    con.execute("INSERT INTO postings SELECT termid, docid, tf FROM counted")
    con.unregister("counted")
    for batch in counted:
        lens += np.bincount(batch["docid"].to_numpy(), weights=batch["tf"].to_numpy(), minlength=len(lens)).astype(
            np.int64
        )
    con.execute("SET preserve_insertion_order = false")
    present = np.flatnonzero(lens)
    con.register("lens", pa.table({"docid": present.astype(np.int32), "len": lens[present].astype(np.int32)}))
    con.execute("CREATE OR REPLACE TEMP TABLE new_lens AS SELECT * FROM lens")
    con.unregister("lens")


def word_termids(con, words):
    """The termid (0: none) of each of `words` (distinct words, an Arrow array; trailing spaces ignored), adding new
    terms to the segment in use."""
    import numpy as np
    import pyarrow as pa

    positions = pa.array(np.arange(len(words), dtype=np.int32))
    con.register("distinct_words", pa.table({"word": words, "position": positions}))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE word_terms AS SELECT position, search_term(rtrim(word)) AS term "
        "FROM distinct_words"
    )
    con.unregister("distinct_words")
    add_new_terms(con)
    termids = np.zeros(len(words), np.int32)
    found = con.execute("SELECT position, termid FROM word_terms JOIN index_terms USING (term)").fetchnumpy()
    termids[found["position"]] = found["termid"]
    return termids


def add_new_terms(con) -> None:
    """Add the terms of temp table `word_terms` that no segment has (`index_terms`) to the segment in use, numbered
    after every segment's."""
    con.execute("""INSERT INTO terms SELECT (SELECT coalesce(max(termid), 0) FROM index_terms) \
+ row_number() OVER (ORDER BY term), term
                   FROM (SELECT DISTINCT term FROM word_terms WHERE term IS NOT NULL EXCEPT SELECT term \
FROM index_terms)""")
