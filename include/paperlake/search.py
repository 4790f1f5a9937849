"""Find papers: a BM25 index of the published papers' titles and abstracts, kept up to date after each marts publish.

The index is derived from the marts' Delta exports `marts/papers` and `marts/paper_entities` (partitioned by
`first_seen`) at the versions it records. It is one or two DuckDB files under `marts/search/`, named by the small JSON
manifest `marts/search/index.json` that readers open first: the *base* (every paper as of the last full build) and the
*delta* (what the updates since changed: the papers they re-indexed and the base's docids no longer live). An update
is told by the marts build before it which partitions it rewrote and which papers in them (or reads, from the exports'
Delta logs, which partitions the versions since then rewrote), diffs those papers (or those partitions' papers)
with the indexed ones, re-indexes the papers whose text, row or entities are new into a new copy of the small delta, and
publishes it by replacing the manifest: an added day costs the partitions that day's build touched, never a copy of the
base. Segment files are never changed once published; those that neither the manifest nor the one before it names are
deleted. Past MAX_DELTA_SHARE of the base, an update builds a new base instead.

Terms are lower-cased, accent-free words and digits, British spellings mapped to American ones (-ise, -isation,
-yse, -our), then Snowball-stemmed by DuckDB's `fts` extension (loaded from its PyPI package, no download). A title
word counts `TITLE_WEIGHT` times. A quoted phrase must appear as written (its words in order, any case or
punctuation between them), checked on the text of the papers holding all its terms.

A result's title, abstract, date and link are read from the marts' `papers` for the page shown (a lookup by first_seen
and id each); the index keeps each paper's top entities.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from paperlake.config import Settings
from paperlake.delta import file_paths
from paperlake.lake import Lake
from paperlake.marts.published import local_copies, local_marts_path, sql_literal
from paperlake.paging import Page, page_bounds, paged_rows
from paperlake.readonly import confine, damaged_marts
from paperlake.search_postings import add_new_terms, index_postings
from paperlake.search_scores import BM25_B, BM25_K1, best_matches
from paperlake.storage import file_to_publish

SEGMENTS_FOLDER = "marts/search"
# The manifest: which segment files make the published index, and what it is up to date with.
SEARCH_KEY = f"{SEGMENTS_FOLDER}/index.json"
# The single-file index of earlier versions, deleted by the first build of this layout.
FORMER_INDEX_KEY = "marts/search.duckdb"
# Bump when the index's layout or its terms change: an index of another version is rebuilt in full.
INDEX_VERSION = 6
TITLE_WEIGHT = 2
# Past this share of the base's papers in the delta (papers re-indexed since the full build, base papers dropped), an
# update builds a new base instead.
MAX_DELTA_SHARE = 0.25
ROW_GROUP_ROWS = 16_384
# From this many papers to (re-)index on, their words are counted with numpy (`paperlake.search_postings`), not one SQL
# row each.
BULK_DOCS = 20_000
# An update re-reading at most this many partitions runs on one thread.
SMALL_UPDATE_PARTITIONS = 100
# Times a reader re-reads the manifest when a segment it names was deleted meanwhile (two updates since it read it).
OPEN_ATTEMPTS = 3
# A result page reaching at most this many of the best matches, unfiltered, is scored with numpy (search_scores), its
# count and best matches read without joining every match to its doc.
DIRECT_PAGE_ROWS = 100
# Queries of at most this many terms are scored by joining each term's postings on the docid (see matches_sql).
JOINED_TERMS = 6
MAX_QUERY_CHARS = 1000
SNIPPET_WORDS = 30
SNIPPET_LEAD = 3  # words shown before the first matched word
TOP_ENTITIES = 5
# Lucene's English stop words: too common to rank by (a quoted phrase still requires them).
STOP_WORDS = (
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they this "
    "to was will with"
).split()
SPLIT_PATTERN = "[^a-z0-9]+"
# The marts' Delta exports the index is derived from (marts/<mart>/), their columns it reads, and the partition column
# whose rewritten values an update re-reads.
EXPORT_COLUMNS = {
    "papers": {
        "paper_id": "VARCHAR",
        "content_hash": "VARCHAR",
        "first_seen": "DATE",
        "abs_url": "VARCHAR",
        "title": "VARCHAR",
        "abstract": "VARCHAR",
    },
    "paper_entities": {
        "paper_id": "VARCHAR",
        "entity_id": "VARCHAR",
        "label": "VARCHAR",
        "mentions": "BIGINT",
        "first_offset": "BIGINT",
    },
}
PARTITION_COLUMN = "first_seen"
# One definition of a term, used alike to index and to query (a word's term; NULL for a stop word).
TERM_MACROS = f"""
CREATE OR REPLACE TEMP MACRO search_text(text) AS lower(strip_accents(coalesce(text, '')));
CREATE OR REPLACE TEMP MACRO search_words(text) AS string_split(regexp_replace(search_text(text), '{SPLIT_PATTERN}', \
' ', 'g'), ' ');
CREATE OR REPLACE TEMP MACRO search_term(word) AS CASE WHEN word = '' \
OR word IN ({", ".join(f"'{w}'" for w in STOP_WORDS)}) THEN NULL ELSE stem(
    regexp_replace(regexp_replace(regexp_replace(word, '^([a-z]{{3,}})is(e|ed|es|er|ers|ing|ation|ations|ational)$', \
'\\1iz\\2'),
                                  '^([a-z]{{2,}})ys(e|ed|es|er|ers|ing)$', '\\1yz\\2'),
                   '^([a-z]{{3,}}[^aeiou])our(s|ed|ing|ite|ites|able)?$', '\\1or\\2'),
    'english') END;
"""
# One segment file (the base or the delta). Docids and termids are unique across both: the delta's continue the base's.
INDEX_SCHEMA = """
-- The indexed papers: paper_key = hash(paper_id), text_key = hash(paper_id, content_hash), page_key = hash(paper_id, \
content_hash, first_seen, abs_url),
-- entities_key = bit_xor of its paper_entities \
rows' hashes (0: none), len = weighted terms, entities = its TOP_ENTITIES most
-- mentioned (ties: first mentioned first, then by id, descending).
CREATE TABLE docs (docid INTEGER, paper_id VARCHAR, first_seen DATE, paper_key UBIGINT, text_key UBIGINT, page_key \
UBIGINT, entities_key UBIGINT, len INTEGER,
                   entities VARCHAR[]);
CREATE TABLE terms (termid INTEGER, term VARCHAR);
-- One row per (term, paper): the term's weighted frequency in the paper.
CREATE TABLE postings (termid INTEGER, docid INTEGER, tf INTEGER);
-- In the delta: the base's docids no longer live (their paper re-indexed in the delta, or no longer published).
CREATE TABLE dropped (docid INTEGER);
"""


class SearchError(ValueError):
    """A query that cannot be run, with what to change."""


@dataclass(frozen=True)
class IndexSummary:
    uri: str
    build: str  # "full", "incremental" or "unchanged"
    papers: int
    indexed: int  # papers (re-)indexed by this update
    removed: int  # indexed texts no longer published
    seconds: float
    partitions: int | None = None  # first_seen partitions re-read (None: all)
    # what named them: "marts build" (what it handed over) or "delta logs" (the exports' log entries); None: all read
    partitions_from: str | None = None
    # papers re-read from the exports and compared with the index: the partitions' papers, or only those the marts build
    # said it rewrote
    compared: int | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def load_fts(con) -> None:
    """Load DuckDB's fts extension from its PyPI package (no download) and define the term macros."""
    from duckdb_extensions import import_extension

    import_extension("fts", con=con)
    con.execute("LOAD fts")
    con.execute(TERM_MACROS)


@dataclass(frozen=True)
class Manifest:
    """The published index (`SEARCH_KEY`): its segment files' keys (the base, then the delta if any), the exports'
    versions it is up to date with (mart -> (Delta table id, version)), and its counts."""

    segments: list[str]
    sources: dict[str, tuple[str, int]]
    last_docid: int  # the highest docid of either segment
    base_last_docid: int  # the base's highest docid (a delta's docids are above it)
    base_papers: int
    dropped: int  # base docids the delta drops
    papers: int  # live papers
    # the segments of the manifest before it (still open by its readers)
    previous: list[str] = field(default_factory=list)
    index_version: int = INDEX_VERSION
    duckdb_version: str = ""

    @classmethod
    def read(cls, store) -> Manifest | None:
        """The published manifest; None when none is published or it cannot be read (the index is derived: rebuild
        it)."""
        try:
            fields = json.loads(store.get(SEARCH_KEY))
            return cls(**{**fields, "sources": {mart: tuple(source) for mart, source in fields["sources"].items()}})
        except FileNotFoundError:
            return None
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    @property
    def current(self) -> bool:
        """Of this index layout and DuckDB version (else it is rebuilt in full)."""
        import duckdb

        return (self.index_version, self.duckdb_version) == (INDEX_VERSION, duckdb.__version__)

    @property
    def delta_share(self) -> float:
        """The delta's papers (every one it ever indexed, live or not) and the base's papers it drops, per base
        paper."""
        return (self.last_docid - self.base_last_docid + self.dropped) / max(self.base_papers, 1)

    def write(self, store) -> None:
        """Publish it in one atomic write (a rename on a local lake, one PUT on S3)."""
        store.put(SEARCH_KEY, json.dumps(self.__dict__, indent=1).encode())


def segment_path(lake: Lake, settings: Settings, key: str) -> Path:
    """A local path to the published segment `key` (on S3: its cached copy, downloaded once: a segment never changes);
    FileNotFoundError when it is gone."""
    path = lake.store.published_copy(key, segments_cache(settings))
    if path is None:
        raise FileNotFoundError(f"the search index segment {lake.uri(key)} is gone")
    return path


def segments_cache(settings: Settings) -> Path:
    """Where an S3 lake's segments are copied to be opened."""
    return local_copies(settings) / "search"


@dataclass(frozen=True)
class Exports:
    """The marts' Delta exports the index reads (mart -> DeltaTable, latest version)."""

    tables: dict

    @classmethod
    def open(cls, lake: Lake) -> Exports:
        """The exports' latest versions; FileNotFoundError says how to build them when the marts were never built."""
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError


        tables = {}
        for mart in EXPORT_COLUMNS:
            try:
                tables[mart] = DeltaTable(lake.uri(f"marts/{mart}"), storage_options=lake.store.delta_options())
            except TableNotFoundError:
                raise FileNotFoundError(
                    f"no marts export at {lake.uri(f'marts/{mart}')}; build the marts with `paperlake marts` (or `make "
                    "run`)"
                ) from None
        return cls(tables)

    def versions(self) -> dict[str, tuple[str, int]]:
        """mart -> (Delta table id, version)."""
        return {mart: (table.metadata().id, table.version()) for mart, table in self.tables.items()}

    def touched(self, lake: Lake, indexed: dict[str, tuple[str, int]]) -> set[str] | None:
        """The first_seen values (as the logs write them) of the files the versions after `indexed` added or removed,
        over both exports; None when that cannot be told from the logs (another table, a log entry cleaned up, another
        partitioning)."""
        touched = set()
        for mart, table in self.tables.items():
            table_id, version = indexed.get(mart, (None, -1))
            if (
                table_id != table.metadata().id
                or version > table.version()
                or table.metadata().partition_columns != [PARTITION_COLUMN]
            ):
                return None
            for entry in range(version + 1, table.version() + 1):
                values = log_partition_values(lake, mart, entry)
                if values is None:
                    return None
                touched |= values
        return touched

    def changed_papers(self) -> None:
        """The logs name partitions, not the papers in them that changed: every paper of theirs is compared."""
        return None

    def view(self, con, mart: str, dates: set[str] | None) -> None:
        """Temp view `export_<mart>`: the mart's rows of the first_seen partitions `dates` (None: every one), with the
        columns the index reads."""
        table = self.tables[mart]
        if dates is None:
            files = file_paths(table)
        else:
            files = file_paths(table, file_pruning_predicate=[(PARTITION_COLUMN, "in", sorted(dates))]) if dates else []
        export_view(con, mart, files, partitioned=table.metadata().partition_columns == [PARTITION_COLUMN])


@dataclass(frozen=True)
class HandedExports:
    """What the marts build that ran just before says it committed to the exports (`MartsSummary.exports`: per mart the
    Delta table's id, the version it wrote, its latest version, the partitions it rewrote and their files).

    An index at the versions just before that write needs no Delta log: these partitions are the ones to re-read."""

    committed: dict[str, dict]

    def follows(self, lake: Lake, indexed: dict[str, tuple[str, int]]) -> bool:
        """Whether the build wrote each export the index reads, by first_seen, right after the version the index is up
        to date with, and no version came after its own (no later build replaced the files it names)."""
        for mart in EXPORT_COLUMNS:
            change = self.committed.get(mart)
            if (
                change is None
                or change["column"] != PARTITION_COLUMN
                or tuple(indexed.get(mart, ())) != (change["table_id"], change["written"] - 1)
                or lake.store.exists(f"marts/{mart}/_delta_log/{change['version'] + 1:020d}.json")
            ):
                return False
        return True

    def versions(self) -> dict[str, tuple[str, int]]:
        """mart -> (Delta table id, version)."""
        return {mart: (self.committed[mart]["table_id"], self.committed[mart]["version"]) for mart in EXPORT_COLUMNS}

    def touched(self, lake: Lake, indexed: dict[str, tuple[str, int]]) -> set[str]:
        """The first_seen values the build rewrote, over both exports."""
        return {value for mart in EXPORT_COLUMNS for value in self.committed[mart]["partitions"]}

    def changed_papers(self) -> list[int] | None:
        """The keys (hash(paper_id)) of the papers whose rows the build rewrote in both exports, the only ones of those
        partitions that can differ from the index; None when it did not hand them over (too many)."""
        keys = [self.committed[mart].get("paper_keys") for mart in EXPORT_COLUMNS]
        return None if None in keys else sorted(set().union(*keys))

    def view(self, con, mart: str, dates: set[str] | None) -> None:
        """Temp view `export_<mart>` over the files of the partitions the build rewrote (`dates`, as `touched` gave)."""
        export_view(con, mart, self.committed[mart]["files"], partitioned=True)


def export_view(con, mart: str, files: list[str], partitioned: bool) -> None:
    """Temp view `export_<mart>`: the rows of the export's Parquet `files` (with `partitioned`, below first_seen=...
    folders), with the columns the index reads."""
    columns = EXPORT_COLUMNS[mart]
    names = ", ".join(f'"{name}"' for name in columns)
    if files:
        source = (
            f"read_parquet([{', '.join(map(sql_literal, files))}], union_by_name = true, hive_partitioning = "
            f"{str(partitioned).lower()}"
            + (f", hive_types = {{'{PARTITION_COLUMN}': DATE}})" if partitioned else ")")
        )
    else:
        source = "(SELECT " + ", ".join(f'NULL::{kind} AS "{name}"' for name, kind in columns.items()) + " WHERE false)"
    con.execute(f"CREATE OR REPLACE TEMP VIEW export_{mart} AS SELECT {names} FROM {source}")


def log_partition_values(lake: Lake, mart: str, version: int) -> set[str] | None:
    """The first_seen values of the files Delta version `version` of the mart's export added or removed (its log entry,
    `_delta_log/<version>.json`); None when the entry is gone or names a file without its first_seen."""
    try:
        entry = lake.store.get(f"marts/{mart}/_delta_log/{version:020d}.json")
    except FileNotFoundError:
        return None
    values = set()
    for line in entry.splitlines():
        action = json.loads(line) if line.strip() else {}
        change = action.get("add") or action.get("remove")
        if change is not None:
            value = (change.get("partitionValues") or {}).get(PARTITION_COLUMN)
            if not isinstance(value, str):
                return None
            values.add(value)
    return values


def define_index_views(con, delta: bool) -> None:
    """Temp views `index_docs` (the live papers), `index_terms` and `index_postings` over the segment attached as
    `search` and, with `delta`, the one attached as `search_delta`."""
    if delta:
        con.execute("""CREATE OR REPLACE TEMP VIEW index_docs AS SELECT * FROM search.docs \
ANTI JOIN search_delta.dropped USING (docid)
                       UNION ALL SELECT * FROM search_delta.docs""")
    else:
        con.execute("CREATE OR REPLACE TEMP VIEW index_docs AS SELECT * FROM search.docs")
    for table in ("terms", "postings"):
        also = f" UNION ALL SELECT * FROM search_delta.{table}" if delta else ""
        con.execute(f"CREATE OR REPLACE TEMP VIEW index_{table} AS SELECT * FROM search.{table}{also}")


def diff_with_exports(
    con, dates: set[str] | None, last_docid: int, changed: list[int] | None = None
) -> tuple[int, int, int]:
    """Temp tables `gone` (indexed papers of the partitions `dates` (None: all) whose text, row or entities changed or
    left) and `outdated` (those partitions' papers to (re-)index, under new docids after `last_docid`, with their keys
    and top entities); (how many outdated, indexed texts no longer published, papers compared).

    Every indexed doc of a paper the partitions hold is compared too, wherever it was first seen. Given the keys of the
    papers that `changed` (all others of the partitions are as indexed), only those are read (their text too, in the
    same pass: `outdated` then holds it) and compared."""
    # Each paper's top entities: with its keys when every partition or only the changed papers are read (most are then
    # to index), else for the papers to index alone, once they are known (ranking every read paper's entities cost twice
    # their keys).
    top_entities = f"max_by(entity_id, (mentions, -first_offset, entity_id), {TOP_ENTITIES:d}) AS entities"
    with_entities = dates is None or changed is not None
    of_changed = ""
    if changed is not None:
        # The keys are the marts' own integers, formatted in as one string (a bound list would import pandas; a list
        # literal of 1,000 keys took 5-20 ms to parse).
        con.execute(
            "CREATE OR REPLACE TEMP TABLE changed_papers AS SELECT key::UBIGINT AS paper_key FROM unnest(string_split("
            f"'{','.join(str(int(key)) for key in changed)}', ',')) t(key) WHERE key <> ''"
        )
        of_changed = " WHERE hash(paper_id) IN (SELECT paper_key FROM changed_papers)"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE published AS
                   SELECT p.paper_id, p.first_seen, p.abs_url, hash(p.paper_id) \
AS paper_key, hash(p.paper_id, p.content_hash) AS text_key,
                          hash(p.paper_id, p.content_hash, p.first_seen, p.abs_url) \
AS page_key, coalesce(e.entities_key, 0) AS entities_key{", coalesce(e.entities, []) AS entities" * with_entities}\
{", p.title, p.abstract" * (changed is not None)}
                   FROM (SELECT * FROM export_papers{of_changed}) p
                   LEFT JOIN (SELECT paper_id, bit_xor(hash(paper_id, entity_id, label, mentions, first_offset)) \
AS entities_key{f", {top_entities}" * with_entities}
                                                   FROM export_paper_entities{of_changed} GROUP BY paper_id) e \
USING (paper_id)""")
    # On an integer key (probing with every doc's paper_id took 15 ms of an added day at 400k papers).
    within = (
        "true"
        if dates is None
        else "paper_key IN (SELECT paper_key FROM changed_papers)"
        if changed is not None
        else (
            f"first_seen IN ({', '.join(f'DATE {sql_literal(d)}' for d in sorted(dates)) or 'NULL'}) OR paper_key IN "
            "(SELECT paper_key FROM published)"
        )
    )
    compared = f"SELECT docid, text_key, page_key, entities_key FROM index_docs WHERE {within}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE compared AS {compared}")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE gone AS SELECT docid, text_key FROM compared ANTI JOIN published USING "
        "(text_key, page_key, entities_key)"
    )
    con.execute(f"""CREATE OR REPLACE TEMP TABLE outdated AS SELECT {last_docid:d} + row_number() OVER () AS docid, p.*
                    FROM published p ANTI JOIN compared USING (text_key, page_key, entities_key)""")
    if not with_entities:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE outdated AS SELECT o.*, coalesce(e.entities, []) AS entities
                        FROM outdated o LEFT JOIN (SELECT paper_id, {top_entities} FROM export_paper_entities
                                                   SEMI JOIN outdated USING (paper_id) GROUP BY paper_id) e \
USING (paper_id)""")
    return con.execute(
        "SELECT (SELECT count(*) FROM outdated), (SELECT count(*) FROM gone ANTI JOIN published USING (text_key)), "
        "(SELECT count(*) FROM published)"
    ).fetchone()


def update_index(
    con, dates: set[str] | None, last_docid: int, base_last_docid: int | None, changed: list[int] | None = None
) -> tuple[int, int, int]:
    """Bring the index (the segment in use, and with `base_last_docid` the base attached as `search` below it) up to
    date with the `export_*` views of the partitions `dates` (None: all), or of their papers `changed` alone if given;
    (papers indexed, indexed texts no longer published, papers compared).

    A changed paper is indexed under a new docid; its former docid leaves the delta's `docs`, or (a base docid, at most
    `base_last_docid`) joins its `dropped`. Its postings stay, unreachable (every query goes through `index_docs`),
    until the next full build: they count towards MAX_DELTA_SHARE. Document frequencies are counted at query time over
    the live papers, so they are exact.
    """
    indexed, removed, read = diff_with_exports(con, dates, last_docid, changed)
    if base_last_docid is not None:
        con.execute(f"INSERT INTO dropped SELECT docid FROM gone WHERE docid <= {base_last_docid:d}")
    con.execute("DELETE FROM docs WHERE docid IN (SELECT docid FROM gone)")
    if not indexed:
        return 0, removed, read
    if changed is not None:  # their text was read with their keys
        texts = "SELECT docid, title, abstract FROM outdated"
    else:
        # Their text, read for them alone (for all the papers read, as in a full build, without a semi join), once by
        # the tokeniser.
        of_outdated = "" if indexed == read else " SEMI JOIN outdated USING (paper_id)"
        texts = f"""SELECT o.docid, t.title, t.abstract FROM outdated o
                    JOIN (SELECT paper_id, title, abstract FROM export_papers{of_outdated}) t USING (paper_id)"""
    con.execute(f"CREATE OR REPLACE TEMP VIEW new_texts AS {texts}")
    index_new_docs(con)
    return indexed, removed, read


def index_new_docs(con) -> None:
    """Tokenise `new_texts` (docid, title, abstract) and add their postings, terms and docs (`outdated`) to the segment
    in use (past BULK_DOCS papers counted with numpy, the same terms); terms already in `index_terms` keep their ids."""
    if con.execute("SELECT count(*) FROM outdated").fetchone()[0] >= BULK_DOCS:
        index_postings(con, TITLE_WEIGHT, SPLIT_PATTERN)
    else:
        # The title TITLE_WEIGHT times, then the abstract, split as one string into search_words' words: at spaces
        # first, then each distinct piece by its regular expression (run once per distinct piece, not over every text:
        # two thirds of tokenising). A space separates words: the words are the same.
        text = " || ' ' || ".join(["coalesce(title, '')"] * TITLE_WEIGHT + ["coalesce(abstract, '')"])
        con.execute(
            "CREATE OR REPLACE TEMP TABLE pieces AS SELECT docid, unnest(string_split(search_text("
            f"{text}), ' ')) AS piece FROM new_texts"
        )
        con.execute(f"""CREATE OR REPLACE TEMP TABLE piece_words AS
                        SELECT piece, unnest(string_split(regexp_replace(piece, '{SPLIT_PATTERN}', ' ', 'g'), ' ')) \
AS word FROM (SELECT DISTINCT piece FROM pieces)""")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE word_terms AS SELECT word, search_term(word) AS term FROM (SELECT DISTINCT "
            "word FROM piece_words)"
        )
        add_new_terms(con)
        con.execute("""CREATE OR REPLACE TEMP TABLE new_postings AS SELECT termid, docid, count(*)::INTEGER AS tf
                       FROM pieces JOIN (SELECT piece, termid FROM piece_words JOIN word_terms USING (word)
                                         JOIN index_terms USING (term)) USING (piece) GROUP BY termid, docid""")
        # Sorted by term, so that a query's term filter skips the row groups of other terms (kept in this order as
        # inserted).
        con.execute("SET preserve_insertion_order = true")
        con.execute("INSERT INTO postings SELECT termid, docid, tf FROM new_postings ORDER BY termid")
        con.execute("SET preserve_insertion_order = false")
        con.execute(
            "CREATE OR REPLACE TEMP TABLE new_lens AS SELECT docid, sum(tf)::INTEGER AS len FROM new_postings GROUP BY "
            "docid"
        )
    con.execute("""INSERT INTO docs SELECT d.docid, d.paper_id, d.first_seen, d.paper_key, d.text_key, d.page_key, \
d.entities_key, coalesce(l.len, 0), d.entities
                   FROM outdated d LEFT JOIN new_lens l USING (docid)""")


def build_search_index(
    lake: Lake, settings: Settings, full: bool = False, marts_exports: dict[str, dict] | None = None
) -> IndexSummary:
    """Update the search index from the marts' Delta exports (re-reading only the partitions their versions since
    rewrote) into a new copy of its delta segment, and publish it by replacing the manifest.

    `marts_exports`, what the marts build just before committed (`MartsSummary.exports`), names those partitions and
    their files when the index is at the versions before it: the exports' Delta logs are then not read.

    `full`, no usable published index (another version, a segment gone or damaged), or a delta past MAX_DELTA_SHARE
    builds a new base instead.
    """
    import time

    import duckdb

    started = time.perf_counter()
    published = Manifest.read(lake.store)
    previous = published if not full and published is not None and published.current else None
    handed = HandedExports(marts_exports or {})
    exports = handed if previous is not None and handed.follows(lake, previous.sources) else Exports.open(lake)
    versions = exports.versions()
    if previous is not None and previous.sources == versions:
        if segments_open(lake, settings, previous):
            return IndexSummary(
                lake.uri(SEARCH_KEY), "unchanged", previous.papers, 0, 0, round(time.perf_counter() - started, 2), 0,
                compared=0,
            )
        previous = None
    if previous is not None and previous.delta_share > MAX_DELTA_SHARE:
        previous = None
    key = f"{SEGMENTS_FOLDER}/{uuid.uuid4().hex}.duckdb"
    # The only extensions this connection loads are the pinned wheels' (fts, and httpfs on S3), and it runs no SQL but
    # this module's: DuckDB's signature check of the 11 MB fts library (30 ms of an added day's 0.26 s) is skipped.
    trusted = {"allow_unsigned_extensions": True}
    with new_segment(lake, settings, key) as path, duckdb.connect(config=trusted) as con:
        if previous is not None and not attach_for_update(con, lake, settings, previous, path):
            previous = None
        if previous is None:
            if exports is handed:  # a new base reads every partition
                exports = Exports.open(lake)
                versions = exports.versions()
            con.execute(f"ATTACH {sql_literal(str(path))} AS search (ROW_GROUP_SIZE {ROW_GROUP_ROWS:d})")
            con.execute("USE search")
            con.execute(INDEX_SCHEMA)
        define_index_views(con, delta=previous is not None)
        load_fts(con)
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")  # task logs, not a terminal
        dates = exports.touched(lake, previous.sources) if previous is not None else None
        if dates is not None and len(dates) <= SMALL_UPDATE_PARTITIONS:
            con.execute("SET threads = 1")  # a few partitions' statements: a second thread costs more CPU than it saves
        lake.store.let_duckdb_read(con)
        for mart in EXPORT_COLUMNS:
            exports.view(con, mart, dates)
        last_docid = previous.last_docid if previous is not None else 0
        indexed, removed, compared = update_index(
            con, dates, last_docid, previous.base_last_docid if previous is not None else None,
            exports.changed_papers() if dates is not None else None,
        )
        papers, dropped = con.execute(
            "SELECT (SELECT count(*) FROM index_docs), (SELECT count(*) FROM dropped)"
        ).fetchone()
        con.execute("CHECKPOINT")
    last_docid += indexed
    manifest = Manifest(
        segments=[previous.segments[0], key] if previous is not None else [key],
        sources=versions,
        last_docid=last_docid,
        base_last_docid=previous.base_last_docid if previous is not None else last_docid,
        base_papers=previous.base_papers if previous is not None else papers,
        dropped=dropped,
        papers=papers,
        previous=published.segments if published is not None else [],
        duckdb_version=duckdb.__version__,
    )
    manifest.write(lake.store)
    remove_unused_segments(lake, settings, {*manifest.segments, *manifest.previous})
    build = "full" if previous is None else "incremental"
    partitions = None if dates is None else len(dates)
    named_by = None if dates is None else "marts build" if exports is handed else "delta logs"
    return IndexSummary(
        lake.uri(SEARCH_KEY), build, papers, indexed, removed, round(time.perf_counter() - started, 2), partitions,
        named_by, compared,
    )


def segments_open(lake: Lake, settings: Settings, manifest: Manifest) -> bool:
    """Whether DuckDB opens every segment of `manifest` (none gone, none damaged)."""
    import duckdb

    try:
        for key in manifest.segments:
            duckdb.connect(str(segment_path(lake, settings, key)), read_only=True).close()
    except (duckdb.Error, OSError):
        return False
    return True


def attach_for_update(con, lake: Lake, settings: Settings, previous: Manifest, path: Path) -> bool:
    """Attach the published base read-only as `search` and, as `search_delta` (the segment in use), a copy at `path` of
    the published delta (a new empty one when there is none); False, with nothing attached, when a segment is gone or
    damaged."""
    import duckdb

    try:
        con.execute(
            f"ATTACH {sql_literal(str(segment_path(lake, settings, previous.segments[0])))} AS search (READ_ONLY)"
        )
        if len(previous.segments) > 1:
            shutil.copyfile(segment_path(lake, settings, previous.segments[1]), path)
        con.execute(f"ATTACH {sql_literal(str(path))} AS search_delta (ROW_GROUP_SIZE {ROW_GROUP_ROWS:d})")
        con.execute("USE search_delta")
        if len(previous.segments) == 1:
            con.execute(INDEX_SCHEMA)
        return True
    except (duckdb.Error, OSError):  # the index is derived: build it anew
        con.execute("USE memory")
        for name in ("search_delta", "search"):
            con.execute(f"DETACH DATABASE IF EXISTS {name}")
        path.unlink(missing_ok=True)
        return False


@contextmanager
def new_segment(lake: Lake, settings: Settings, key: str):
    """A local path for the new segment `key` (no file there yet), published when the block ends, never if it raises.

    On a local lake it is a temp file in the segments' folder (publishing is a rename); on S3 one PUT, and the file
    stays as the local copy readers use.
    """
    cache = segments_cache(settings)
    with file_to_publish(lake.store, key, cache) as path:
        yield path
        lake.store.publish_file(key, path, cache)


def remove_unused_segments(lake: Lake, settings: Settings, keep: set[str]) -> None:
    """Delete the segments not in `keep` (the published manifest's and the one's before it, which readers may still be
    opening), the former single-file index, and on S3 their local copies."""
    unused = [key for key in lake.store.list(SEGMENTS_FOLDER) if key.endswith(".duckdb") and key not in keep]
    lake.store.delete(unused + [FORMER_INDEX_KEY])
    for key in unused:
        lake.store.drop_local_copy(key, segments_cache(settings))


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
    """Which papers a search may return: mentioning an entity (or an entity of a label), first seen in a date range,
    from a source."""

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
            # Labels are written in capitals (METHOD); a user's `method` means the same label.
            entity = ["e.entity_id = ?"] * (self.entity is not None) + ["e.label = upper(?)"] * (self.label is not None)
            clauses.append(
                "EXISTS (SELECT 1 FROM marts.paper_entities e WHERE e.paper_id = p.paper_id AND "
                f"{' AND '.join(entity)})"
            )
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
               WHERE word <> '') w LEFT JOIN index_terms t USING (term) ORDER BY i, pos""",
        [segments, segments],
    ).fetchall()
    stems = {term for _, _, term, _ in rows if term is not None}
    if not stems:
        raise SearchError(
            "the query has no words to search for (punctuation and common words such as 'the' or 'of' are ignored)"
        )
    termids = sorted({termid for _, _, term, termid in rows if termid is not None})
    # A phrase's words are [a-z0-9]+ (search_words splits on everything else): nothing in them is special to a regex.
    phrases = [
        "(^|[^a-z0-9])" + "[^a-z0-9]+".join(words) + "($|[^a-z0-9])"
        for i in range(2, len(segments) + 1) if (words := [word for seg, word, _, _ in rows if seg == i])
    ]
    return QueryTerms(termids, phrases, frozenset(stems), missing=len(termids) < len(stems))


def matches_sql(terms: QueryTerms) -> str:
    """The indexed papers holding every query term, with their BM25 score: rows (docid, score), from one scan of the
    terms' postings.

    Up to JOINED_TERMS terms, each term's postings are joined on the docid (a third less CPU than grouping every posting
    by docid); past that, grouped. Document frequencies are counted over the papers in `docs` (postings of replaced
    texts drop out in the join). Only ids from the index are formatted in: the query's text never reaches the SQL.
    """
    def weight(tf: str, termid: int | None = None) -> str:
        idf = "idf" if termid is None else f"(SELECT idf FROM idf WHERE termid = {termid:d})"
        return f"{idf} * {tf} * {BM25_K1 + 1} / ({tf} + {BM25_K1} * (1 - {BM25_B} + {BM25_B} * len / avgdl))"

    common = f"""WITH hits AS MATERIALIZED (
            SELECT p.termid, p.docid, p.tf::DOUBLE AS tf, d.len FROM index_postings p JOIN index_docs d USING (docid)
            WHERE p.termid IN ({", ".join(map(str, terms.termids))})),
        n AS (SELECT count(*) AS docs, avg(len) AS avgdl FROM index_docs),
        idf AS (SELECT termid, ln(1 + (n.docs - count(*) + 0.5) / (count(*) + 0.5)) AS idf FROM hits, n \
GROUP BY termid, n.docs)
        """
    if len(terms.termids) > JOINED_TERMS:
        return common + f"""SELECT docid, sum({weight("tf")}) AS score
        FROM hits JOIN idf USING (termid), n GROUP BY docid HAVING count(*) = {len(terms.termids)}"""
    first, *others = terms.termids
    joined = "".join(
        f" JOIN (SELECT docid, tf AS tf{i} FROM hits WHERE termid = {termid:d}) USING (docid)"
        for i, termid in enumerate(others, 1)
    )
    score = " + ".join(weight(f"tf{i}", termid) for i, termid in enumerate(terms.termids))
    return common + f"""SELECT docid, {score} AS score
        FROM (SELECT docid, len, tf AS tf0 FROM hits WHERE termid = {first:d}){joined}, n"""


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
    """An in-memory DuckDB connection with the published marts (`marts`, the default) and search index (its segments,
    read through the views `index_docs`, `index_terms` and `index_postings`) attached read-only, and nothing else to
    open."""
    import duckdb

    lake = Lake.from_settings(settings)
    marts = local_marts_path(lake, settings)
    paths = published_segments(lake, settings)
    con = duckdb.connect()
    load_fts(con)
    for path, name in ((marts, "marts"), *zip(paths, ("search", "search_delta"))):
        with damaged_marts(path):
            con.execute(f"ATTACH {sql_literal(str(path))} AS {name} (READ_ONLY)")
    define_index_views(con, delta=len(paths) > 1)
    con.execute("USE marts")
    confine(con, [])
    return con


def published_segments(lake: Lake, settings: Settings) -> list[Path]:
    """Local paths to the published index's segments (the base, then the delta if any); FileNotFoundError says how to
    build the index when none is published.

    A segment that the manifest names but that is gone (two updates were published since it was read) sends the reader
    back to the manifest, at most OPEN_ATTEMPTS times."""
    for attempt in range(OPEN_ATTEMPTS):
        manifest = Manifest.read(lake.store)
        if manifest is None or not manifest.current:
            state = "no search index" if manifest is None else "a search index of another version"
            raise FileNotFoundError(
                f"{state} at {lake.uri(SEARCH_KEY)}; build it with `paperlake marts` (or `make run`)"
            )
        try:
            return [segment_path(lake, settings, key) for key in manifest.segments]
        except FileNotFoundError:
            if attempt == OPEN_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def search(con, text: str, filters: SearchFilters = SearchFilters(), page: int = 1, size: int = 20):
    """Page `page` of the papers matching `text`, best first (a `Page` of SearchHit); SearchError on an
    unusable query."""
    terms = query_terms(con, ParsedQuery.parse(text))
    if terms.missing:
        return Page([], max(page, 1), size, 0)
    where, params = filters.sql()
    for phrase in terms.phrases:
        where += " AND regexp_matches(search_text(p.title || ' ' || coalesce(p.abstract, '')), ?)"
        params.append(phrase)
    limit, offset = page_bounds(page, size)
    if params or offset + limit > DIRECT_PAGE_ROWS:
        # Scored once, paged twice (the count and the page): the matches go to a temp table of this connection. The
        # papers' own columns are joined only to filter by them; the page's rows are then read by id.
        con.execute(f"CREATE OR REPLACE TEMP TABLE matches AS {matches_sql(terms)}")
        rows_from = "temp.matches m JOIN index_docs d USING (docid)"
        if params:
            rows_from += f" JOIN papers p ON p.paper_id = d.paper_id WHERE {where}"
        ranked, total = paged_rows(con, "m.score, d.docid", rows_from, "m.score DESC, d.paper_id", params, page, size)
        docs = indexed_docs(con, [docid for _, docid in ranked])
    else:
        # The count and the best `offset + limit` scores (and their ties), scored with numpy; ordered by paper id among
        # equal scores once their docs are read.
        total, ranked = best_matches(con, terms.termids, offset + limit)
        docs = indexed_docs(con, [docid for _, docid in ranked])
        ranked = sorted(ranked, key=lambda hit: (-hit[0], docs[hit[1]][0]))[offset:offset + limit]
    papers = page_papers(con, [docs[docid][:2] for _, docid in ranked])
    texts = [text for _, title, abstract, _ in papers.values() for text in (title, abstract)]
    stems = word_stems(con, texts, terms.stems)
    hits = []
    for score, docid in ranked:
        paper_id, _, entities = docs[docid]
        if paper_id not in papers:
            continue  # the marts were republished without it since the index was updated
        day, title, abstract, abs_url = papers[paper_id]
        pieces = snippet(abstract or title or "", stems, terms.stems)
        text_snippet = "".join(f"**{piece}**" if matched else piece for piece, matched in pieces)
        hits.append(SearchHit(round(score, 3), day, paper_id, title, text_snippet, entities, abs_url, pieces))
    return Page(hits, max(page, 1), size, total)


def indexed_docs(con, docids: list[int]) -> dict[int, tuple]:
    """docid -> (paper_id, first_seen, top entities) from the index, by one equality lookup per docid (an `IN` list
    decodes every paper's entities); the ids are the index's own integers: no text of the query is formatted in."""
    columns = "docid, paper_id, first_seen, entities"
    lookups = [f"SELECT {columns} FROM index_docs WHERE docid = {docid:d}" for docid in docids]
    return {row[0]: row[1:] for row in con.execute(" UNION ALL ".join(lookups)).fetchall()} if lookups else {}


def page_papers(con, papers: list[tuple[str, date]]) -> dict[str, tuple]:
    """paper_id -> (first_seen, title, abstract, abs_url) of those of the (paper_id, first_seen) `papers` the marts'
    `papers` hold.

    One equality lookup on (first_seen, paper_id) each: the mart is stored by first_seen, so each reads a few rows
    beside its own. A paper whose first_seen the marts changed since the index was updated is then found by its id: its
    row id from one scan of the id column, then one row id lookup (a filter on ids decodes every abstract stored beside
    them, ~60 ms at 400k papers)."""
    columns = "paper_id, first_seen, title, abstract, abs_url"
    lookups = [
        f"SELECT {columns} FROM papers WHERE first_seen = DATE '{day.isoformat()}' AND paper_id = "
        f"{sql_literal(paper_id)}"
        for paper_id, day in papers
    ]
    found = {row[0]: row[1:] for row in con.execute(" UNION ALL ".join(lookups)).fetchall()} if lookups else {}
    moved = [paper_id for paper_id, _ in papers if paper_id not in found]
    if moved:
        rowids = con.execute(
            f"SELECT rowid FROM papers WHERE paper_id IN ({', '.join(map(sql_literal, moved))})"
        ).fetchall()
        lookups = [f"SELECT {columns} FROM papers WHERE rowid = {rowid:d}" for (rowid,) in rowids]
        if lookups:
            found |= {row[0]: row[1:] for row in con.execute(" UNION ALL ".join(lookups)).fetchall()}
    return found


WORD = re.compile(r"[^\W_]+", re.UNICODE)


def word_stems(con, texts: list[str | None], wanted: frozenset[str]) -> dict[str, str | None]:
    """Each distinct word of `texts` (as written) that may have one of the terms `wanted` -> its index term.

    A term begins with its word's first letter (stemming and the spelling map change endings only): an ASCII word
    beginning with another letter than every wanted term is left out unstemmed."""
    initials = {term[0] for term in wanted}
    words = sorted(
        {w for text in texts if text for w in WORD.findall(text) if not w[0].isascii() or w[0].lower() in initials}
    )
    rows = con.execute("SELECT w, search_term(search_words(w)[1]) FROM unnest(?::VARCHAR[]) t(w)", [words]).fetchall()
    return dict(rows)


def snippet(
    text: str, stems: dict[str, str | None], wanted: frozenset[str], words: int = SNIPPET_WORDS
) -> list[tuple[str, bool]]:
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
