"""Find papers: a BM25 index of the published papers' titles and abstracts, kept up to date after each marts publish.

The index is its own DuckDB file, `marts/search.duckdb`, derived from the published marts' `papers` only
(`published_paper_texts`). An update copies the published index, re-indexes the papers whose text
(content hash) is new, drops the papers no longer published, and publishes the copy in one atomic step:
an added day costs that day's papers, not the history. Terms are lower-cased, accent-free words and
digits, British spellings mapped to American ones (-ise, -isation, -yse, -our), then Snowball-stemmed
by DuckDB's `fts` extension (loaded from its PyPI package, no download). A title word counts
`TITLE_WEIGHT` times. A quoted phrase must appear as written (its words in order, any case or punctuation
between them), checked on the text of the papers holding all its terms.

The index also keeps what a page of results shows (`pages`: title, abstract, date, link, top entities by
docid), refreshed with the rest of an update when a paper's row or entities change, so that a query reads
the marts only to filter.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from paperlake.config import Settings
from paperlake.lake import Lake
from paperlake.marts.published import published_file
from paperlake.storage import S3Store

SEARCH_KEY = "marts/search.duckdb"
# Bump when the index's layout or its terms change: an index of another version is rebuilt in full.
INDEX_VERSION = 4
TITLE_WEIGHT = 2
# Past this share of unreachable postings (of papers whose text changed), an update rebuilds the index in full instead.
MAX_DEAD_SHARE = 0.1
ROW_GROUP_ROWS = 16_384
BM25_K1, BM25_B = 1.2, 0.75
MAX_QUERY_CHARS = 1000
SNIPPET_WORDS = 30
SNIPPET_LEAD = 3  # words shown before the first matched word
TOP_ENTITIES = 5
# Lucene's English stop words: too common to rank by (a quoted phrase still requires them).
STOP_WORDS = (
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with"
).split()
SPLIT_PATTERN = "[^a-z0-9]+"
# The published texts in one value: an index whose meta holds it has nothing to update.
FINGERPRINT = "SELECT bit_xor(page_key) AS f, count(*) AS n FROM paper_texts"
# One value for all of the marts' paper entities: the index's pages hold them all when it equals their entities_keys' bit_xor.
ENTITIES_FINGERPRINT = "SELECT coalesce(bit_xor(hash(paper_id, entity_id, label, mentions, first_offset)), 0) FROM marts.paper_entities"
# One definition of a term, used alike to index and to query (a word's term; NULL for a stop word).
TERM_MACROS = f"""
CREATE OR REPLACE TEMP MACRO search_text(text) AS lower(strip_accents(coalesce(text, '')));
CREATE OR REPLACE TEMP MACRO search_words(text) AS string_split(regexp_replace(search_text(text), '{SPLIT_PATTERN}', ' ', 'g'), ' ');
CREATE OR REPLACE TEMP MACRO search_term(word) AS CASE WHEN word = '' OR word IN ({", ".join(f"'{w}'" for w in STOP_WORDS)}) THEN NULL ELSE stem(
    regexp_replace(regexp_replace(regexp_replace(word, '^([a-z]{{3,}})is(e|ed|es|er|ers|ing|ation|ations|ational)$', '\\1iz\\2'),
                                  '^([a-z]{{2,}})ys(e|ed|es|er|ers|ing)$', '\\1yz\\2'),
                   '^([a-z]{{3,}}[^aeiou])our(s|ed|ing|ite|ites|able)?$', '\\1or\\2'),
    'english') END;
"""
INDEX_SCHEMA = """
-- fingerprint: FINGERPRINT of the marts the index was last brought up to date with.
CREATE TABLE meta (index_version INTEGER, duckdb_version VARCHAR, last_docid INTEGER, fingerprint STRUCT(f UBIGINT, n BIGINT, e UBIGINT));
-- The indexed papers: text_key = hash(paper_id, content_hash), len = weighted terms.
CREATE TABLE docs (docid INTEGER, paper_id VARCHAR, text_key UBIGINT, len DOUBLE);
CREATE TABLE terms (termid INTEGER, term VARCHAR);
-- One row per (term, paper): the term's weighted frequency in the paper.
CREATE TABLE postings (termid INTEGER, docid INTEGER, tf DOUBLE);
-- What a result shows, per indexed paper: page_key = the paper row's key in `paper_texts`, entities_key = bit_xor of
-- its paper_entities rows' hashes (0: none), entities = its TOP_ENTITIES most mentioned.
CREATE TABLE pages (docid INTEGER, page_key UBIGINT, entities_key UBIGINT, first_seen DATE, title VARCHAR, abstract VARCHAR,
                    abs_url VARCHAR, entities VARCHAR[]);
"""


class SearchError(ValueError):
    """A query that cannot be run, with what to change."""


@dataclass(frozen=True)
class IndexSummary:
    uri: str
    build: str  # "full", "incremental" or "unchanged"
    papers: int
    indexed: int  # papers (re-)indexed by this update
    removed: int
    seconds: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def load_fts(con) -> None:
    """Load DuckDB's fts extension from its PyPI package (no download) and define the term macros."""
    from duckdb_extensions import import_extension

    import_extension("fts", con=con)
    con.execute("LOAD fts")
    con.execute(TERM_MACROS)


def published_index(lake: Lake, settings: Settings) -> Path | None:
    """A local path to the published search index (on S3: the cached copy); None when none is published."""
    return published_file(lake, settings, SEARCH_KEY)


def published_paper_texts(con, marts: Path) -> None:
    """Attach the published marts read-only as `marts`, and a view `paper_texts` of what the index reads from them."""
    from paperlake.marts.published import sql_literal

    con.execute(f"ATTACH {sql_literal(str(marts))} AS marts (READ_ONLY)")
    con.execute("""CREATE OR REPLACE TEMP VIEW paper_texts AS SELECT paper_id, content_hash, title, abstract, first_seen, abs_url,
                   hash(paper_id, content_hash, first_seen, abs_url) AS page_key FROM marts.papers""")


def is_current_version(path: Path) -> bool:
    """Whether the index file at `path` is of this version (built by this code and DuckDB version)."""
    import duckdb

    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute("SELECT index_version, duckdb_version FROM meta").fetchone() == (INDEX_VERSION, duckdb.__version__)
    except duckdb.Error:  # no meta table (an older layout) or no DuckDB file at all (damaged): the index is derived, rebuild it
        return False


def diff_with_published(con) -> int:
    """Temp tables `published`, `gone` (docids whose text is no longer published) and `outdated` (the published papers to
    (re-)index: texts not indexed, and indexed papers whose row changed, not their text: first seen earlier, another link);
    the size of `gone`."""
    con.execute("CREATE TEMP TABLE published AS SELECT paper_id, hash(paper_id, content_hash) AS text_key, page_key, first_seen FROM paper_texts")
    con.execute("CREATE TEMP TABLE gone AS SELECT docid FROM docs ANTI JOIN published USING (text_key)")
    con.execute("""CREATE TEMP TABLE outdated AS SELECT d.docid, p.* FROM published p LEFT JOIN docs d USING (text_key)
                   LEFT JOIN pages g USING (docid) WHERE d.docid IS NULL OR g.page_key <> p.page_key""")
    return con.execute("SELECT count(*) FROM gone").fetchone()[0]


def by_ids(relation: str, ids_table: str, since: date | None = None) -> str:
    """`relation` restricted to the paper_ids of `ids_table` and, given `since`, to first_seen >= since: the marts store papers
    and their entities in first_seen order, so that a day's new papers are read from the last row groups only."""
    recent = f" WHERE r.first_seen >= DATE '{since.isoformat()}'" if since is not None else ""
    return f"(SELECT r.* FROM {relation} r SEMI JOIN {ids_table} USING (paper_id){recent})"


def reindex(con) -> int:
    """Index the papers of temp table `outdated` (docid: their indexed text's, or NULL) under new docids, with their pages; how many.

    Their former docids leave `docs`; their postings and pages stay, unreachable (every query goes through `docs`), until
    the next full build (they count towards MAX_DEAD_SHARE). Pages are only ever appended, never updated in place.
    """
    count, since = con.execute("SELECT count(*), min(first_seen) FROM outdated").fetchone()
    if not count:
        return 0
    con.execute("DELETE FROM docs WHERE docid IN (SELECT docid FROM outdated)")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE new_docs AS
                    SELECT (SELECT last_docid FROM meta) + row_number() OVER (ORDER BY o.paper_id) AS docid, o.text_key, t.*
                    FROM outdated o JOIN {by_ids('paper_texts', 'outdated', since)} t USING (paper_id)""")
    index_new_docs(con)
    con.execute(f"""INSERT INTO pages SELECT r.docid, r.page_key, coalesce(e.entities_key, 0), r.first_seen, r.title, r.abstract, r.abs_url,
                        coalesce(e.entities, [])
                    FROM new_docs r LEFT JOIN (
                        SELECT paper_id, bit_xor(hash(paper_id, entity_id, label, mentions, first_offset)) AS entities_key,
                               list(entity_id ORDER BY mentions DESC, first_offset, entity_id)[:{TOP_ENTITIES}] AS entities
                        FROM {by_ids("marts.paper_entities", "new_docs", since)} GROUP BY paper_id) e USING (paper_id)""")
    return count


def published_fingerprint(con) -> tuple[int | None, int, int]:
    """The published marts' (FINGERPRINT f, n, ENTITIES_FINGERPRINT): one scan of `papers` and one of `paper_entities`."""
    return con.execute(f"SELECT f, n, ({ENTITIES_FINGERPRINT}) FROM ({FINGERPRINT})").fetchone()


def find_changed_entities(con, published_entities: int) -> None:
    """Temp table `outdated` of the indexed papers whose entities differ from the marts' (looked for only when the
    fingerprints differ: the marts re-tagged a paper whose text did not change)."""
    live = con.execute("SELECT coalesce(bit_xor(entities_key), 0) FROM pages SEMI JOIN docs USING (docid)").fetchone()[0]
    if live == published_entities:
        con.execute("DELETE FROM outdated")
        return
    con.execute("""CREATE OR REPLACE TEMP TABLE outdated AS SELECT d.docid, p.* FROM docs d JOIN pages g USING (docid)
                   JOIN published p USING (text_key)
                   LEFT JOIN (SELECT paper_id, bit_xor(hash(paper_id, entity_id, label, mentions, first_offset)) AS k
                              FROM marts.paper_entities GROUP BY paper_id) e ON e.paper_id = d.paper_id
                   WHERE g.entities_key <> coalesce(e.k, 0)""")


def update_index(con, fingerprint: tuple[int | None, int, int]) -> tuple[int, int]:
    """Bring the index open on `con` up to date with `paper_texts` (of `fingerprint`); (papers indexed, papers removed).

    A paper whose text is no longer published leaves `docs` only: its postings stay, unreachable (every query
    joins postings to `docs`), until the next full build; document frequencies are counted at query time
    over the papers in `docs`, so they are exact all the same.
    """
    removed = diff_with_published(con)
    if removed:
        con.execute("DELETE FROM docs WHERE docid IN (SELECT docid FROM gone)")
    indexed = reindex(con)
    find_changed_entities(con, fingerprint[2])
    return indexed + reindex(con), removed


def index_is_current(path: Path, marts: Path) -> tuple[int | None, tuple[int | None, int, int]]:
    """The papers in the index at `path` when it holds exactly the marts' papers (their fingerprints match), else None;
    and the marts' fingerprint."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        published_paper_texts(con, marts)
        fingerprint = published_fingerprint(con)
        current = con.execute("SELECT fingerprint FROM meta").fetchone()[0] == dict(zip("fne", fingerprint))
        return (con.execute("SELECT count(*) FROM docs").fetchone()[0] if current else None), fingerprint


def index_new_docs(con) -> None:
    """Tokenise `new_docs` and add their docs, terms and postings."""
    first = con.execute("SELECT min(docid) FROM new_docs").fetchone()[0]
    # The title TITLE_WEIGHT times, then the abstract, split as one string (splitting is most of a build's time).
    text = " || ' ' || ".join(["coalesce(title, '')"] * TITLE_WEIGHT + ["coalesce(abstract, '')"])
    con.execute(f"CREATE OR REPLACE TEMP TABLE tokens AS SELECT docid, unnest(search_words({text})) AS word FROM new_docs")
    con.execute("CREATE OR REPLACE TEMP TABLE word_terms AS SELECT word, search_term(word) AS term FROM (SELECT DISTINCT word FROM tokens)")
    con.execute("""INSERT INTO terms SELECT (SELECT coalesce(max(termid), 0) FROM terms) + row_number() OVER (ORDER BY term), term
                   FROM (SELECT DISTINCT term FROM word_terms WHERE term IS NOT NULL EXCEPT SELECT term FROM terms)""")
    con.execute("CREATE OR REPLACE TEMP TABLE word_ids AS SELECT word, termid FROM word_terms JOIN terms USING (term)")
    # Sorted by term, so that a query's term filter skips the row groups of other terms.
    con.execute("""INSERT INTO postings SELECT termid, docid, count(*) FROM tokens JOIN word_ids USING (word)
                   GROUP BY termid, docid ORDER BY termid""")
    # Docids only grow, so the new postings are the last row groups: the others are skipped by their docid range.
    con.execute(f"""INSERT INTO docs SELECT d.docid, d.paper_id, d.text_key, coalesce(l.len, 0) FROM new_docs d
                    LEFT JOIN (SELECT docid, sum(tf) AS len FROM postings WHERE docid >= {first} GROUP BY docid) l USING (docid)""")
    con.execute("UPDATE meta SET last_docid = (SELECT max(docid) FROM new_docs)")


def dead_share(path: Path) -> float:
    """The share of the index's postings that belong to papers no longer published (by papers: unreachable over live)."""
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        last, live = con.execute("SELECT (SELECT last_docid FROM meta), (SELECT count(*) FROM docs)").fetchone()
    return (last - live) / max(live, 1)


def build_search_index(lake: Lake, settings: Settings, full: bool = False) -> IndexSummary:
    """Update the search index from the published marts (re-indexing only papers whose text changed) and publish it atomically.

    `full`, a published index of another version, or one with too many unreachable postings rebuilds it from every published paper.
    """
    import time

    import duckdb

    from paperlake.marts.published import local_marts_path, sql_literal

    started = time.perf_counter()
    marts = local_marts_path(lake, settings)
    previous = None if full else published_index(lake, settings)
    if previous is not None and (not is_current_version(previous) or dead_share(previous) > MAX_DEAD_SHARE):
        previous = None
    fingerprint = None
    if previous is not None:
        papers, fingerprint = index_is_current(previous, marts)
        if papers is not None:
            return IndexSummary(lake.uri(SEARCH_KEY), "unchanged", papers, 0, 0, round(time.perf_counter() - started, 2))
    with new_index_file(lake, settings) as path:
        if previous is not None:
            shutil.copyfile(previous, path)
        with duckdb.connect() as con:
            # Small row groups: an update appends to the last row group of each table, which the checkpoint then rewrites
            # whole (with the default 122,880 rows, a pages row group of abstracts: 1.7 s CPU and 36 MB of an added day).
            con.execute(f"ATTACH {sql_literal(str(path))} AS search (ROW_GROUP_SIZE {ROW_GROUP_ROWS:d})")
            con.execute("USE search")
            load_fts(con)
            con.execute("SET preserve_insertion_order = false")
            con.execute("SET enable_progress_bar = false")  # task logs, not a terminal
            if previous is None:
                con.execute(INDEX_SCHEMA)
                # Literals, not bound parameters: DuckDB's first bound parameter imports pandas (0.3 s and more).
                con.execute(f"INSERT INTO meta VALUES ({INDEX_VERSION:d}, {sql_literal(duckdb.__version__)}, 0, NULL)")
            published_paper_texts(con, marts)
            fingerprint = fingerprint or published_fingerprint(con)
            indexed, removed = update_index(con, fingerprint)
            f, n, e = ("NULL" if v is None else str(v) for v in fingerprint)
            con.execute(f"UPDATE meta SET fingerprint = {{'f': {f}, 'n': {n}, 'e': {e}}}")
            papers = con.execute("SELECT count(*) FROM docs").fetchone()[0]
            con.execute("DETACH marts")
            con.execute("CHECKPOINT search")
    build = "full" if previous is None else "incremental"
    return IndexSummary(lake.uri(SEARCH_KEY), build, papers, indexed, removed, round(time.perf_counter() - started, 2))


@contextmanager
def new_index_file(lake: Lake, settings: Settings):
    """A local path for the new index (no file there yet), published in one atomic step when the block ends, never if it raises.

    On a local lake it is a temp file beside the published one (publishing is a rename); on S3 one PUT, and the
    file stays as the local copy readers use.
    """
    if isinstance(lake.store, S3Store):
        from paperlake.marts.cache import S3MartsCache

        work = settings.home / "cache"
        work.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="paperlake-search-", dir=work) as tmp:
            path = Path(tmp) / Path(SEARCH_KEY).name
            yield path
            S3MartsCache(lake.store, SEARCH_KEY, work).publish(path)
    else:
        with lake.store.writing(SEARCH_KEY) as path:
            path.unlink()  # DuckDB creates its file itself
            try:
                yield path
            finally:
                path.with_name(path.name + ".wal").unlink(missing_ok=True)  # left by a build that failed


# --- queries -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedQuery:
    """A query's parts: loose words and quoted phrases (each the text between a pair of double quotes)."""

    words: str
    phrases: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> ParsedQuery:
        if len(text) > MAX_QUERY_CHARS:
            raise SearchError(f"the query is {len(text):,} characters long; give at most {MAX_QUERY_CHARS:,}")
        phrases = tuple(re.findall(r'"([^"]*)"', text))
        # An unpaired quote is only punctuation.
        return cls(re.sub(r'"[^"]*"', " ", text).replace('"', " "), phrases)


@dataclass(frozen=True)
class SearchFilters:
    """Which papers a search may return: mentioning an entity (or an entity of a label), first seen in a date range, from a source."""

    entity: str | None = None
    label: str | None = None
    since: date | None = None
    until: date | None = None
    source: str | None = None

    def sql(self) -> tuple[str, list]:
        """A WHERE clause over `marts.papers p`, and its parameters."""
        clauses, params = ["true"], []
        if self.since is not None:
            clauses.append("p.first_seen >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append("p.first_seen <= ?")
            params.append(self.until)
        if self.source is not None:
            clauses.append("list_contains(p.sources, ?)")
            params.append(self.source)
        if self.entity is not None or self.label is not None:
            entity = ["e.entity_id = ?"] * (self.entity is not None) + ["e.label = ?"] * (self.label is not None)
            clauses.append(f"EXISTS (SELECT 1 FROM marts.paper_entities e WHERE e.paper_id = p.paper_id AND {' AND '.join(entity)})")
            params += [v for v in (self.entity, self.label) if v is not None]
        return " AND ".join(clauses), params


@dataclass(frozen=True)
class QueryTerms:
    """The index terms a query requires, and a regular expression per quoted phrase over `search_text`."""

    termids: list[int]
    phrases: list[str]
    stems: frozenset[str]
    missing: bool  # a required word is in no indexed paper: nothing matches


def query_terms(con, query: ParsedQuery) -> QueryTerms:
    """Map the query's words to the index's terms (one query: the words, their terms, the terms' ids)."""
    segments = [query.words, *query.phrases]
    rows = con.execute(
        """SELECT i, word, w.term, t.termid FROM (
               SELECT i, pos, word, search_term(word) AS term FROM (
                   SELECT i, unnest(search_words(text)) AS word, generate_subscripts(search_words(text), 1) AS pos
                   FROM (SELECT unnest(?::VARCHAR[]) AS text, generate_subscripts(?::VARCHAR[], 1) AS i))
               WHERE word <> '') w LEFT JOIN search.terms t USING (term) ORDER BY i, pos""",
        [segments, segments],
    ).fetchall()
    stems = {term for _, _, term, _ in rows if term is not None}
    if not stems:
        raise SearchError("the query has no words to search for (punctuation and common words such as 'the' or 'of' are ignored)")
    termids = sorted({termid for _, _, term, termid in rows if termid is not None})
    # A phrase's words are [a-z0-9]+ (search_words splits on everything else): nothing in them is special to a regex.
    phrases = [
        "(^|[^a-z0-9])" + "[^a-z0-9]+".join(words) + "($|[^a-z0-9])"
        for i in range(2, len(segments) + 1) if (words := [word for seg, word, _, _ in rows if seg == i])
    ]
    return QueryTerms(termids, phrases, frozenset(stems), missing=len(termids) < len(stems))


def matches_sql(terms: QueryTerms) -> str:
    """The indexed papers holding every query term, with their BM25 score: rows (docid, score), in one scan of the terms' postings.

    Document frequencies are counted over the papers in `docs` (postings of replaced texts drop out in the join).
    Only ids from the index are formatted in: the query's text never reaches the SQL.
    """
    return f"""WITH hits AS MATERIALIZED (
            SELECT p.termid, p.docid, p.tf, d.len FROM search.postings p JOIN search.docs d USING (docid)
            WHERE p.termid IN ({", ".join(map(str, terms.termids))})),
        idf AS (SELECT termid, ln(1 + (n.docs - count(*) + 0.5) / (count(*) + 0.5)) AS idf
                FROM hits, (SELECT count(*) AS docs FROM search.docs) n GROUP BY termid, n.docs),
        avgdl AS (SELECT avg(len) AS avgdl FROM search.docs)
        SELECT docid, sum(idf * tf * {BM25_K1 + 1} / (tf + {BM25_K1} * (1 - {BM25_B} + {BM25_B} * len / avgdl))) AS score
        FROM hits JOIN idf USING (termid), avgdl GROUP BY docid HAVING count(*) = {len(terms.termids)}"""


@dataclass(frozen=True)
class SearchHit:
    score: float
    date: date
    paper_id: str
    title: str
    snippet: str  # matched words marked **like this**
    entities: list[str]  # the paper's entities, most mentioned first
    abs_url: str | None = None
    marked: list[tuple[str, bool]] = field(default_factory=list, compare=False)  # the snippet as (text, matched) pieces


def open_search(settings: Settings):
    """An in-memory DuckDB connection with the published marts (`marts`, the default) and search index (`search`) attached
    read-only, and nothing else to open."""
    import duckdb

    from paperlake.marts.published import local_marts_path, sql_literal
    from paperlake.readonly import confine, damaged_marts

    lake = Lake.from_settings(settings)
    marts = local_marts_path(lake, settings)
    index = published_index(lake, settings)
    if index is None:
        raise FileNotFoundError(f"no search index at {lake.uri(SEARCH_KEY)}; build it with `paperlake marts` (or `make run`)")
    con = duckdb.connect()
    load_fts(con)
    for path, name in ((marts, "marts"), (index, "search")):
        with damaged_marts(path):
            con.execute(f"ATTACH {sql_literal(str(path))} AS {name} (READ_ONLY)")
    con.execute("USE marts")
    confine(con, [])
    return con


def search(con, text: str, filters: SearchFilters = SearchFilters(), page: int = 1, size: int = 20):
    """Page `page` of the papers matching `text`, best first (a dashboard `Page` of SearchHit); SearchError on an unusable query."""
    from paperlake.dashboard.queries import Page, paged_rows

    terms = query_terms(con, ParsedQuery.parse(text))
    if terms.missing:
        return Page([], max(page, 1), size, 0)
    where, params = filters.sql()
    for phrase in terms.phrases:
        where += " AND regexp_matches(search_text(p.title || ' ' || coalesce(p.abstract, '')), ?)"
        params.append(phrase)
    # Scored once, paged twice (the count and the page): the matches go to a temp table of this connection.
    con.execute(f"CREATE OR REPLACE TEMP TABLE matches AS {matches_sql(terms)}")
    # The papers' own columns are joined only to filter by them; the page's rows are then read by id.
    rows_from = "temp.matches m JOIN search.docs d USING (docid)"
    if params:
        rows_from += f" JOIN papers p ON p.paper_id = d.paper_id WHERE {where}"
    ranked, total = paged_rows(con, "m.score, d.paper_id, d.docid", rows_from, "m.score DESC, d.paper_id", params, page, size)
    # The page's rows come from the index's own pages, by a semi join on their docids (an `IN` list of them would read every
    # page's abstract); the ids are the index's own integers: no text of the query is formatted in.
    pages = {row[0]: row for row in con.execute(
        "SELECT docid, first_seen, title, abstract, abs_url, entities FROM search.pages "
        f"SEMI JOIN (SELECT unnest([{', '.join(str(docid) for _, _, docid in ranked)}]::INTEGER[]) AS docid) USING (docid)").fetchall()}
    stems = word_stems(con, [text for _, _, title, abstract, _, _ in pages.values() for text in (title, abstract)])
    hits, published = [], published_ids(con, [paper_id for _, paper_id, _ in ranked])
    for score, paper_id, docid in ranked:
        if paper_id not in published:
            continue  # the marts were republished without it since the index was updated
        _, day, title, abstract, abs_url, entities = pages[docid]
        pieces = snippet(abstract or title or "", stems, terms.stems)
        text_snippet = "".join(f"**{piece}**" if matched else piece for piece, matched in pieces)
        hits.append(SearchHit(round(score, 3), day, paper_id, title, text_snippet, entities, abs_url, pieces))
    return Page(hits, max(page, 1), size, total)


def published_ids(con, paper_ids: list[str]) -> set[str]:
    """Which of `paper_ids` the marts' `papers` hold (the ids as constants: a scan of that one column, ~9 ms at 400k papers)."""
    from paperlake.marts.published import sql_literal

    if not paper_ids:
        return set()
    return {pid for (pid,) in con.execute(f"SELECT paper_id FROM papers WHERE paper_id IN ({', '.join(map(sql_literal, paper_ids))})").fetchall()}


WORD = re.compile(r"[^\W_]+", re.UNICODE)


def word_stems(con, texts: list[str | None]) -> dict[str, str | None]:
    """Each distinct word of `texts` (as written) -> its index term."""
    words = sorted({w for text in texts if text for w in WORD.findall(text)})
    rows = con.execute("SELECT w, search_term(search_words(w)[1]) FROM unnest(?::VARCHAR[]) t(w)", [words]).fetchall()
    return dict(rows)


def snippet(text: str, stems: dict[str, str | None], wanted: frozenset[str], words: int = SNIPPET_WORDS) -> list[tuple[str, bool]]:
    """The `words`-word window of `text` with the most matched words, as (text, matched) pieces."""
    found = list(WORD.finditer(text))
    hits = {i for i, m in enumerate(found) if stems.get(m.group()) in wanted}
    if not found:
        return [(text, False)]
    start = 0
    if hits:
        densest = max(range(max(1, len(found) - words + 1)), key=lambda s: sum(s <= i < s + words for i in hits))
        # Begin a few words before the window's first match, so that a narrow column still shows it.
        start = max(0, min(i for i in hits if i >= densest) - SNIPPET_LEAD)
    end = min(len(found), start + words)
    begin = found[start].start() if start else 0
    finish = found[end - 1].end() if end < len(found) else len(text)
    pieces, cursor = ([("…", False)] if begin else []), begin
    for i in range(start, end):
        m = found[i]
        if i in hits:
            pieces += [(text[cursor:m.start()], False), (m.group(), True)]
            cursor = m.end()
    pieces.append((text[cursor:finish], False))
    if finish < len(text):
        pieces.append(("…", False))
    return [(piece, matched) for piece, matched in pieces if piece]
