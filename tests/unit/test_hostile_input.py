"""Hostile input, property-tested: cleaning never fails, and each source's parser either reads a page into
records, one parsed row each (a record it could not read is a row with parse_error), or raises ParseError.

Reproducible: examples are derived from each test's name (derandomize) and nothing is stored between runs.
"""

from __future__ import annotations

import codecs
import json
import re
from xml.sax.saxutils import escape, quoteattr

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperlake.clean import clean_records, clean_text
from paperlake.errors import ParseError
from paperlake.lake import RawPage
from paperlake.schemas import PARSED
from paperlake.sources import load_source
from paperlake.sources.snapshot import HEADER_LINES

HOSTILE = settings(
    max_examples=1000, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LATEX_RESIDUE = re.compile(r"\\[A-Za-z]+")
URL = re.compile(r"<https?://[^>\s]+>")  # kept verbatim, backslashes and all

# -- text ---------------------------------------------------------------------------------------------------------

LATEX = st.sampled_from(
    ["{", "}", "$", "$$", "\\(", "\\)", "\\[", "\\]", "[", "]", "\\textbf{", "\\emph{", "\\textit ", "\\sqrt",
     "\\sqrt[", "\\footnote[", "\\frac{", "\\frac", "\\href{", "\\textcolor{", "\\item [", "\\\\", "\\\\[", "\\'",
     '\\"', "\\^", "\\~", "\\alpha", "\\model", "\\cite{x}", "\\verb|", "\\begin{itemize}", "\\end{itemize}", "\\left(",
     "^", "_", "~", "%", "\\%", "&", "\\&", "\\{", "\\}", "\\$", "``", "''", "`", "\\url{", "\\", "\\mathcal{O}", "$x$"]
)
MARKUP = st.sampled_from(
    ["<p>", "</p>", "<i>", "<b>", "<br/>", "<a href='x'>", "<!-- c -->", "&amp;", "&nbsp;", "&times", "&#0;",
     "&#x1F600;", "**", "*", "__", "_", "`", "https://x.io/a_b", "<https://x.io/>", "Ã¶", "SchrÃ¶dinger",
     "Get trending papers in your email inbox!", "Subscribe", "times", "sim ", "1.6", "40%", "$5", " word ", "\n",
     "\r\n", "\t", "\u00a0", "\u200b", "\u00ad", "\ufeff"]
)
CONTROL = st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Co"])
FRAGMENT = st.one_of(LATEX, MARKUP, CONTROL, st.text(max_size=6))
SOUP = st.lists(FRAGMENT, max_size=30).map("".join)
DEEP = st.one_of(
    st.builds(
        lambda opener, n, inside: opener * n + inside,
        st.sampled_from(
            ["{", "\\textbf{", "$", "{$", "\\(", "\\[", "\\sqrt[", "\\footnote[", "\\frac{", "\\\\[",
             "\\emph{\\textbf{", "{\\alpha"]
        ),
        st.integers(100, 400),
        SOUP,
    ),
    st.builds(lambda n, inside: "{" * n + inside + "}" * n, st.integers(100, 300), SOUP),
    st.builds(lambda parts, n: "".join(parts) * n, st.lists(LATEX, min_size=1, max_size=3), st.integers(50, 200)),
)
HOSTILE_TEXT = st.one_of(SOUP, DEEP)


@HOSTILE
@given(HOSTILE_TEXT)
def test_cleaning_any_hostile_text_is_idempotent_and_leaves_no_latex_outside_urls(text):
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert not LATEX_RESIDUE.search(URL.sub("", cleaned))


# -- every source's parser ------------------------------------------------------------------------------------------

# the cleaning test goes further
FIELD_TEXT = st.one_of(st.text(max_size=30), st.lists(FRAGMENT, max_size=8).map("".join))


def assert_one_parsed_row_per_record(source: str, pages: list[RawPage]) -> None:
    """The parser raises ParseError or returns records that clean into exactly one parsed row each."""
    try:
        records = list(load_source(source).parse(pages))
    except ParseError:
        return
    rows = list(clean_records(records))
    assert [row["parse_error"] for row in rows] == [record.parse_error for record in records]
    assert pa.Table.from_pylist(rows, schema=PARSED).num_rows == len(records)


LINE = st.one_of(
    st.sampled_from([*HEADER_LINES, "", "SubscribeA Title"]),
    FIELD_TEXT.map(lambda text: text.replace("\n", " ") or "x"),
)
SNAPSHOT_LINES = st.one_of(
    st.builds(lambda header, pairs: header + [line for pair in pairs for line in pair],
              st.lists(st.sampled_from(HEADER_LINES), max_size=2), st.lists(st.tuples(LINE, LINE), max_size=4)),
    st.lists(LINE, max_size=8),
)
ENCODINGS = [
    (b"", "utf-8"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
]
SNAPSHOT_BODY = st.one_of(
    st.builds(
        lambda lines, newline, encoding: encoding[0] + newline.join(lines).encode(encoding[1], "surrogatepass"),
        SNAPSHOT_LINES,
        st.sampled_from(["\n", "\r\n"]),
        st.sampled_from(ENCODINGS),
    ),
    st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda text, junk: text.encode() + junk, SNAPSHOT_LINES.map("\n".join), st.binary(min_size=1, max_size=8)
        ),
    ),
)


@HOSTILE
@given(SNAPSHOT_BODY)
def test_snapshot_pages_of_any_bytes(body):
    assert_one_parsed_row_per_record("snapshot", [RawPage(name="page.txt", body=body, url="file:///saves/page.txt")])


JSON_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(
        ["\ud800", "x\udfff", "2026-11-26T17:58:00.000Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
    ),
)
JSON_VALUE = st.recursive(
    JSON_SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
TIMESTAMP = st.sampled_from(
    ["2026-11-26T17:58:00.000Z", "2026-11-26T01:23:45+00:00", "2026-11-26", "", "yesterday", "2026-13-45T99:00:00Z"]
)
PAPER_FIELD = {
    "id": st.sampled_from(
        ["2611.01234", "2611.01234v2", "hep-th/9901001v1", "2611.01234v99999999999", "not-an-id", "", " 2611.05678 "]
    ),
    "title": FIELD_TEXT,
    "summary": FIELD_TEXT,
    "authors": st.lists(st.one_of(st.fixed_dictionaries({"name": st.text(max_size=10)}), JSON_VALUE), max_size=3),
    "publishedAt": TIMESTAMP,
    "submittedOnDailyAt": TIMESTAMP,
    "upvotes": st.integers(min_value=-(2**40), max_value=2**40),
    "githubRepo": st.sampled_from(["https://github.com/x/y", None, ""]),
    "ai_keywords": st.lists(st.text(max_size=8), max_size=3),
}
PAPER = st.fixed_dictionaries({}, optional={name: st.one_of(value, JSON_VALUE) for name, value in PAPER_FIELD.items()})
HF_ITEM = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "paper": st.one_of(PAPER, JSON_VALUE),
            "title": JSON_SCALAR,
            "summary": JSON_SCALAR,
            "publishedAt": TIMESTAMP,
        },
    ),
    PAPER,
    JSON_VALUE,
)
HF_BODY = st.one_of(
    st.lists(HF_ITEM, max_size=4).map(lambda items: json.dumps(items).encode()),
    st.builds(lambda items, mark: mark + json.dumps(items, ensure_ascii=False).encode("utf-8", "surrogatepass"),
              st.lists(HF_ITEM, max_size=3), st.sampled_from([b"", codecs.BOM_UTF8])),
    JSON_VALUE.map(lambda value: json.dumps(value).encode()),
    st.integers(1, 3000).map(lambda depth: ("[" * depth + "]" * depth).encode()),
    st.binary(max_size=60),
)


@HOSTILE
@given(HF_BODY, st.sampled_from(["hf_daily", "hf_search"]))
def test_hugging_face_pages_of_any_json(body, source):
    assert_one_parsed_row_per_record(source, [RawPage(name="p.json", body=body, url="https://hf.example/api/daily_papers?date=2026-11-26")])


# malformed pages come from below
NOT_XML_CHARACTERS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
XML_TEXT = st.one_of(
    st.text(st.characters(categories=["L", "N", "P", "Zs", "S"]), max_size=30),
    FIELD_TEXT.map(lambda text: NOT_XML_CHARACTERS.sub("", text)),
)


def element(tag: str, text: str | None, **attributes: str) -> str:
    """`<tag a="...">text</tag>`, or nothing when text is None."""
    if text is None:
        return ""
    attrs = "".join(f" {name}={quoteattr(value)}" for name, value in attributes.items())
    return f"<{tag}{attrs}>{escape(text)}</{tag}>"


def maybe(strategy):
    return st.one_of(st.none(), strategy)


ARXIV_ID = st.sampled_from(
    ["http://arxiv.org/abs/2611.01234v2", "http://arxiv.org/abs/hep-th/9901001v1", "2611.01234",
     "oai:arXiv.org:2611.01234", "junk", ""]
)
ATOM_ENTRY = st.builds(
    lambda id_, title, summary, published, updated, authors, category, extra: (
        "<entry>"
        + element("id", id_)
        + element("title", title)
        + element("summary", summary)
        + element("published", published)
        + element("updated", updated)
        + "".join(
            f"<author>{element('name', name)}{element('arxiv:affiliation', aff)}</author>" for name, aff in authors
        )
        + (
            f"<category term={quoteattr(category)}/><arxiv:primary_category term={quoteattr(category)}/>"
            if category is not None
            else ""
        )
        + extra
        + "</entry>"
    ),
    maybe(st.one_of(ARXIV_ID, XML_TEXT)),
    maybe(XML_TEXT),
    maybe(XML_TEXT),
    maybe(st.one_of(TIMESTAMP, XML_TEXT)),
    maybe(TIMESTAMP),
    st.lists(st.tuples(maybe(XML_TEXT), maybe(XML_TEXT)), max_size=2),
    maybe(st.sampled_from(["cs.CL", "", "x y"])),
    st.sampled_from(
        [
            "",
            "<link rel='alternate' href='http://arxiv.org/abs/2611.01234v2'/>",
            "<link/>",
            "<arxiv:doi></arxiv:doi>",
            "<entry/>",
        ]
    ),
)
ATOM_FEED = '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">|</feed>'
ATOM_ROOT = st.sampled_from([
    ATOM_FEED,
    ATOM_FEED,
    ATOM_FEED,
    '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:arxiv="http://arxiv.org/schemas/atom">|</html>',
    '<feed xmlns:arxiv="http://arxiv.org/schemas/atom">|</feed>',
])
XML_DECLARATION = st.sampled_from(['<?xml version="1.0" encoding="UTF-8"?>\n', ""])
ARXIV_BODY = st.one_of(
    st.builds(
        lambda declaration, root, entries: (declaration + root.replace("|", "".join(entries))).encode(),
        XML_DECLARATION,
        ATOM_ROOT,
        st.lists(ATOM_ENTRY, max_size=3),
    ),
    st.one_of(
        st.builds(
            lambda entries, cut: ATOM_FEED.replace("|", "".join(entries)).encode()[:cut],
            st.lists(ATOM_ENTRY, max_size=2),
            st.integers(0, 400),
        ),
        st.binary(max_size=100),
    ),
)


@HOSTILE
@given(ARXIV_BODY)
def test_arxiv_pages_of_any_atom(body):
    assert_one_parsed_row_per_record("arxiv", [RawPage(name="data-000000.xml", body=body, url="https://arxiv.example/api/query?start=0")])


OAI_METADATA = st.builds(
    lambda id_, title, abstract, created, updated, categories, authors: (
        '<metadata><arXiv xmlns="http://arxiv.org/OAI/arXiv/">'
        + element("id", id_)
        + element("title", title)
        + element("abstract", abstract)
        + element("created", created)
        + element("updated", updated)
        + element("categories", categories)
        + "<authors>"
        + "".join(f"<author>{element('keyname', key)}{element('forenames', fore)}</author>" for key, fore in authors)
        + "</authors>"
        + "</arXiv></metadata>"
    ),
    maybe(st.one_of(ARXIV_ID, XML_TEXT)),
    maybe(XML_TEXT),
    maybe(XML_TEXT),
    maybe(st.sampled_from(["2026-11-20", "20-11-2026", "", "0000-00-00"])),
    maybe(st.sampled_from(["2026-11-26", "soon"])),
    maybe(st.sampled_from(["cs.CL cs.LG", "", " "])),
    st.lists(st.tuples(maybe(XML_TEXT), maybe(XML_TEXT)), max_size=2),
)
OAI_RECORD = st.builds(
    lambda identifier, deleted, metadata: "<record><header" + (' status="deleted"' if deleted else "") + ">"
    + element("identifier", identifier) + "</header>" + (metadata or "") + "</record>",
    maybe(st.sampled_from(["oai:arXiv.org:2611.01234", "oai:arXiv.org:junk", ""])), st.booleans(), maybe(OAI_METADATA),
)
OAI_ROOT = st.sampled_from([
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>|<resumptionToken>t</resumptionToken></ListRecords></OAI-PMH>',
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>|<resumptionToken>t</resumptionToken></ListRecords></OAI-PMH>',
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>|</ListRecords></OAI-PMH>',
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>|</ListRecords></OAI-PMH>',
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="noRecordsMatch">none</error>|</OAI-PMH>',
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="badVerb">no</error></OAI-PMH>',
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">|</OAI-PMH>',
    '<feed xmlns="http://www.w3.org/2005/Atom">|</feed>',
])
OAI_BODY = st.one_of(
    st.builds(lambda declaration, root, records: (declaration + root.replace("|", "".join(records))).encode(),
              XML_DECLARATION, OAI_ROOT, st.lists(OAI_RECORD, max_size=3)),
    st.binary(max_size=100),
)


@HOSTILE
@given(OAI_BODY)
def test_oai_pages_of_any_records(body):
    assert_one_parsed_row_per_record("arxiv_oai", [RawPage(name="list-0001.xml", body=body, url="https://oai.example/oai?verb=ListRecords")])
