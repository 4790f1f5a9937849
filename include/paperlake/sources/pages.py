"""Raw page bodies read as text or XML; a body that cannot be read is a ParseError naming its page."""

from __future__ import annotations

import codecs
import xml.etree.ElementTree as ET
from collections.abc import Iterator

from paperlake.errors import ParseError

# Longest first: a UTF-32 LE mark begins with the UTF-16 LE one.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_text(body: bytes, origin: str) -> str:
    """The text of a page: UTF-8, or the encoding its byte-order mark names (the mark is not text)."""
    return "".join(decoded_pieces(body, origin))


def decoded_pieces(body: bytes, origin: str, piece_bytes: int = 1 << 20) -> Iterator[str]:
    """The text of `decode_text`, decoded `piece_bytes` at a time, so a large page is never one string."""
    mark, encoding = next(((m, e) for m, e in BYTE_ORDER_MARKS if body.startswith(m)), (b"", "utf-8"))
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(body)
    for start in range(len(mark), len(body), piece_bytes):
        held = len(decoder.getstate()[0])  # undecoded bytes the previous piece ended with
        try:
            yield decoder.decode(view[start : start + piece_bytes], final=start + piece_bytes >= len(body))
        except UnicodeDecodeError as err:
            offset = start - held + err.start
            raise ParseError(
                f"{origin}: not {encoding} text: byte {offset} ({body[offset:offset + 1]!r}) {err.reason}; "
                f"save the page as UTF-8"
            ) from err


def read_xml(body: bytes, url: str) -> ET.Element:
    """The root element of an XML page, decoded as its byte-order mark or else its XML declaration says."""
    has_mark = body.startswith(tuple(mark for mark, _ in BYTE_ORDER_MARKS))
    try:
        return ET.fromstring(decode_text(body, url) if has_mark else body)
    except ET.ParseError as err:
        raise ParseError(f"unparseable XML from {url}: {err}") from err
