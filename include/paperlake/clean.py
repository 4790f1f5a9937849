"""Text normalisation, canonical ids, content hashes and dedupe: pure functions, one rule each."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable, Iterator

from paperlake.latex import find_math, tex_to_text
from paperlake.records import PaperRecord

# Zero-width characters, the soft hyphen, and the control characters (Unicode category Cc) other than \t \n \r.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# ftfy leaves text alone that holds only printable ASCII, tabs and line feeds, and no `&` (an HTML entity).
_MAY_NEED_FTFY = re.compile(r"[^\t\n\x20-\x25\x27-\x7e]")
# Shared with validation, which checks that nothing these rules remove is left.
PAGE_HEADER_PATTERN = r"Get trending papers in your email inbox(?: once a day)?!"
# HTML's own elements only: `<qq>` in `$<qq>$` (a diquark condensate) is no tag.
HTML_ELEMENTS = (
    "a abbr b big blockquote br caption center cite code dd del dfn div dl dt em font h1 h2 h3 h4 h5 h6 hr i "
    "img ins kbd "
    "li mark ol p pre q s samp small span strike strong sub sup table tbody td tfoot th thead tr tt u ul var wbr"
)
HTML_TAG_PATTERN = rf"</?(?i:{'|'.join(HTML_ELEMENTS.split())})(?:\s[^<>]*)?/?>"
_PAGE_HEADER = re.compile(PAGE_HEADER_PATTERN + r"\s*")
_GLUED_SUBSCRIBE = re.compile(r"^Subscribe(?=[A-Z0-9])")
_HTML_TAG = re.compile(HTML_TAG_PATTERN)
# A URL ends at a brace or backslash (`\\href{URL}{text}`) but takes TeX-escaped characters (`a\\_b` is a_b).
_URL = re.compile(r"<?https?://(?:[^\s<>{}\\\uE000\uE001]|\\[_%#&~])+>?")
_URL_ESCAPE = re.compile(r"\\([_%#&~])")
_URL_TRAILING_PUNCTUATION = ".,;:!?'\""
# Each with the mark it needs: text without it is left alone.
_MARKDOWN = (
    ("**", re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")),
    ("__", re.compile(r"(?<![\w_])__(?=[^\s_])(.+?)(?<=[^\s_])__(?![\w_])")),  # a run of underscores is not emphasis
    ("*", re.compile(r"(?<![\w*])\*(?=[^\s*])([^*]+?)(?<=[^\s*])\*(?![\w*])")),
    ("_", re.compile(r"(?<![\w_])_(?=[^\s_])([^_]+?)(?<=[^\s_])_(?![\w_])")),
    ("`", re.compile(r"(?<!\\)`([^`'\n]+)(?<!\\)`")),  # an escaped ` (TeX's grave accent, \`a) is no code mark
)
# Text without these is no LaTeX: an apostrophe, `^` or `_` alone is read as itself.
_LATEX_MARK = re.compile(r"[\\{}$~`]")
# ...but text with an apostrophe, `^` or `_` went to the LaTeX converter before, which turned its `''` and `--`
# into a quote and a dash and read its placeholder characters; such text still does, so no output changes.
_ONCE_READ_AS_LATEX = re.compile(r"['^_]")
_CONVERTED_IN_PLAIN_TEXT = re.compile("''|--|[\uE002-\uE005\u223c]")
# Symbols an earlier LaTeX-to-text conversion lost with their backslash: "1.6times", "sim 23".
_LOST_TIMES = re.compile(r"(?<=\d)times\b")
_LOST_SIM = re.compile(r"(?<![\w~])sim ?(?=\d)")
# Â or Ã alone as a word: ftfy's heuristics take it, before a space, for mojibake of a no-break space or of à.
_LONE_A_WITH_MARK = re.compile(r"(?<!\S)([ÂÃ])(?=[\s,.;:!?)\]}-]|$)")

def fix_mojibake(text: str) -> str:
    """Repair encoding damage (UTF-8 read as Latin-1 and the like) with ftfy; curly quotes stay curly.

    A capital Â or Ã standing alone as a word (`the dual Â of A`, what `\\hat{A}` reads as) is a letter, not the
    mojibake of a no-break space or of à that ftfy takes it for: ftfy is handed only the text around it, unless
    that text holds mojibake too.
    """
    if not _MAY_NEED_FTFY.search(text):
        return text
    import ftfy

    # ftfy fixes line by line, and from the first line with a `<` on it decodes no more HTML entities:
    # it is handed only the lines it could change, and told whether an earlier line had a `<`.
    lines = text.split("\n")
    unescape_html = "auto"

    def fix(part: str) -> str:
        return ftfy.fix_text(part, uncurl_quotes=False, normalization="NFC", unescape_html=unescape_html)

    for number, line in enumerate(lines):
        if _MAY_NEED_FTFY.search(line):
            ending = "\n" if number < len(lines) - 1 else ""
            parts = _LONE_A_WITH_MARK.split(line + ending)  # text, letter, text, ...
            fixed = [
                fix(part) if at % 2 == 0 and _MAY_NEED_FTFY.search(part) else part for at, part in enumerate(parts)
            ]
            if len(parts) > 1 and fixed != parts:  # mojibake around it too: the whole line is mojibake (`Ã la cafÃ©`)
                fixed = [fix(line + ending)]
            lines[number] = "".join(fixed).removesuffix(ending)
        if "<" in line:
            unescape_html = False
    return "\n".join(lines)


def normalise_unicode(text: str) -> str:
    """NFC composition, so the same letters always have the same code points."""
    return unicodedata.normalize("NFC", text)


def remove_invisible_characters(text: str) -> str:
    """Drop zero-width and soft-hyphen characters and control characters other than whitespace."""
    return _INVISIBLE.sub("", text)


def strip_page_residue(text: str) -> str:
    """Remove saved-page text: the subscribe header lines and a "Subscribe" glued to a title."""
    return _GLUED_SUBSCRIBE.sub("", _PAGE_HEADER.sub("", text))


def strip_html(text: str) -> str:
    """Decode HTML entities and drop HTML tags (an autolink such as <https://...> is not a tag)."""
    return _HTML_TAG.sub(" ", html.unescape(text))


def strip_markdown_emphasis(text: str) -> str:
    """`**bold**`, `__bold__`, `*it*`, `_it_` and `code` become plain words (snake_case stays); math is not Markdown."""
    if "$" in text:
        if spans := find_math(text):
            edges = [0, *(edge for span in spans for edge in span), len(text)]
            return "".join(
                strip_markdown_emphasis(text[start:end]) if number % 2 == 0 else text[start:end]
                for number, (start, end) in enumerate(zip(edges, edges[1:]))
            )
    for mark, pattern in _MARKDOWN:
        if mark in text:
            text = pattern.sub(r"\1", text)
    return text


def latex_to_text(text: str) -> str:
    """TeX to readable text in one TeX-aware reading (`paperlake.latex.tex_to_text`): escapes, math, then text macros.

    Math (`$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]`) is paired by TeX's rules and rendered readable (Unicode symbols,
    sub- and superscripts); a `$` that is escaped or cannot pair is a dollar. Unknown macros keep their name
    (\\model -> model); %, & stay literal; a ~ before a number is "approximately", not a TeX space. Text
    nested implausibly deep is read as plain text (see `paperlake.latex`).
    """
    if not _LATEX_MARK.search(text) and not (
        _ONCE_READ_AS_LATEX.search(text) and _CONVERTED_IN_PLAIN_TEXT.search(text)
    ):
        return text

    return tex_to_text(text)


def restore_lost_symbols(text: str) -> str:
    """Put back symbols lost earlier with their backslash: 1.6times -> 1.6×, sim 23 -> ~23."""
    if "times" in text:
        text = _LOST_TIMES.sub("×", text)
    return _LOST_SIM.sub("~", text) if "sim" in text else text


def collapse_whitespace(text: str) -> str:
    """One plain space for every run of whitespace (line breaks, tabs, non-breaking spaces); trimmed."""
    return " ".join(text.split())  # str.split's whitespace: \s, non-breaking and typographic spaces


def protect_urls(text: str) -> tuple[str, list[str]]:
    """Replace URLs by placeholders (so no other rule rewrites them); sentence punctuation stays outside."""
    urls: list[str] = []

    def keep(match: re.Match) -> str:
        url = match.group(0)
        bracketed = url.startswith("<") and url.endswith(">")
        url = url.strip("<>")
        trailing = ""
        while (
            not bracketed
            and url
            and (url[-1] in _URL_TRAILING_PUNCTUATION or (url[-1] == ")" and url.count("(") < url.count(")")))
        ):
            trailing = url[-1] + trailing
            url = url[:-1]
        urls.append(_URL_ESCAPE.sub(r"\1", url))
        return f" \uE000{len(urls) - 1}\uE001{trailing}"

    return (_URL.sub(keep, text) if "http" in text else text), urls


def restore_urls(text: str, urls: list[str]) -> str:
    """Put URLs back, each delimited as <URL> (RFC 3986 appendix C) so it stands apart from the sentence.

    A placeholder the input itself held (private-use characters) with no URL of that number stays as it is.
    """
    def url(match: re.Match) -> str:
        number = int(match.group(1))
        return f"<{urls[number]}>" if number < len(urls) else match.group(0)

    return re.sub("\uE000(\\d+)\uE001", url, text)


# Order matters: encoding first, then markup, then symbols; URLs are protected across the middle rules.
ENCODING_RULES = (fix_mojibake, normalise_unicode, remove_invisible_characters, strip_page_residue, strip_html)
MARKUP_RULES = (strip_markdown_emphasis, latex_to_text, restore_lost_symbols)


MAX_PASSES = 4


def clean_text(text: str | None) -> str:
    """Every rule in order (`clean_once`), so clean_text(clean_text(x)) == clean_text(x).

    On real text one pass is final (`make eval-clean` counts any record where it is not as a defect); the pass
    is repeated only for hostile text whose reading joins characters into new markup (`'\\textbf{'` -> `''`).
    """
    text = text or ""
    for _ in range(MAX_PASSES):
        cleaned = clean_once(text)
        if cleaned == text:
            break
        text = cleaned
    return text


def clean_once(text: str) -> str:
    """The encoding rules on the input until it no longer changes, then the markup rules once over their output."""
    text = repair_encoding(text)
    text, urls = protect_urls(text)
    for rule in MARKUP_RULES:
        text = rule(text)
    return collapse_whitespace(normalise_unicode(restore_urls(text, urls)))


def repair_encoding(text: str) -> str:
    """The encoding rules, repeated until the text stops changing (removing a control character can expose mojibake)."""
    for _ in range(MAX_PASSES):
        repaired = text
        for rule in ENCODING_RULES:
            repaired = rule(repaired)
        if repaired == text:
            break
        text = repaired
    return text


def extract_urls(text: str) -> list[str]:
    """The <URL>s of a cleaned text, in order."""
    return re.findall(r"<(https?://[^>\s]+)>", text)


def content_hash(title: str, abstract: str) -> str:
    """Hash of the cleaned title and abstract: equal content, equal hash (drives tagging caches)."""
    return hashlib.sha256(f"{title}\n{abstract}".encode()).hexdigest()[:32]


def clean_records(records: Iterable[PaperRecord]) -> Iterator[dict]:
    """One `parsed` row per record as it comes: cleaned text beside the original, URLs, hash, duplicate flag, index.

    Across rows only `content_hash -> first paper_id` is kept (for `content_duplicate_of`).
    """
    first_with_content: dict[str, str | None] = {}
    for index, record in enumerate(records):
        row = record.to_row()
        row["title_raw"], row["abstract_raw"] = record.title, record.abstract
        row["title"], row["abstract"] = clean_text(record.title), clean_text(record.abstract)
        row["urls"] = extract_urls(row["abstract"])
        row["content_hash"] = content_hash(row["title"], row["abstract"])
        earlier = first_with_content.setdefault(row["content_hash"], row["paper_id"])
        row["content_duplicate_of"] = earlier if earlier != row["paper_id"] else None
        row["record_index"] = index
        yield row
