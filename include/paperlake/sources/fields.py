"""Field readers the source parsers share: collapsed XML text, author labels, ISO timestamps, typed item fields."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime

INT32_RANGE = range(-(2**31), 2**31)


def xml_text(element: ET.Element, path: str, namespaces: dict[str, str]) -> str | None:
    """The text at `path` with its whitespace collapsed; None when missing or blank."""
    value = element.findtext(path, None, namespaces)
    return " ".join(value.split()) if value and value.strip() else None


def author_label(name: str, affiliations: list[str]) -> str:
    """`Name (Affiliation; Other affiliation)`, or the bare name when none is given."""
    return f"{name} ({'; '.join(affiliations)})" if affiliations else name


def timestamp(value: str | None) -> datetime | None:
    """An ISO-8601 timestamp (a trailing Z is UTC); None when missing or blank."""
    return datetime.fromisoformat(value.strip().replace("Z", "+00:00")) if value and value.strip() else None


def day_timestamp(value: str | None) -> datetime | None:
    """A `YYYY-MM-DD` date as midnight UTC; None when missing or blank."""
    return datetime.fromisoformat(value.strip() + "T00:00:00+00:00") if value and value.strip() else None


class FieldReader:
    """Typed reads of one source item: a value of the wrong type is noted and read as missing, never coerced."""

    def __init__(self, where: str):
        self.where = where  # the item and its page, e.g. "item 3 of https://..."
        self.problems: list[str] = []

    @property
    def parse_error(self) -> str | None:
        """Every field that could not be read, naming the item and its page; None when all could."""
        return f"{self.where}: {'; '.join(self.problems)}" if self.problems else None

    def note(self, problem: str) -> None:
        self.problems.append(problem)

    def wrong(self, name: str | None, expected: str, value) -> None:
        """Note that field `name` (the item itself when None) is not `expected`."""
        subject = f"field {name!r} should" if name else "should"
        self.note(f"{subject} be {expected}, got {type(value).__name__} {repr(value)[:80]}")

    def string(self, name: str, value) -> str | None:
        if value is None or (isinstance(value, str) and _is_unicode(value)):
            return value
        self.wrong(name, "a string" if not isinstance(value, str) else "a string of valid Unicode", value)
        return None

    def integer(self, name: str, value) -> int | None:
        """A JSON integer that fits the lake's int32 columns (true and false are not integers)."""
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and value in INT32_RANGE):
            return value
        self.wrong(
            name, "an integer" if not isinstance(value, int) or isinstance(value, bool) else "a 32-bit integer", value
        )
        return None

    def strings(self, name: str, value) -> list[str]:
        if value is None or (isinstance(value, list) and all(isinstance(v, str) and _is_unicode(v) for v in value)):
            return value or []
        self.wrong(name, "an array of strings", value)
        return []

    def object(self, name: str, value) -> dict | None:
        if value is None or isinstance(value, dict):
            return value
        self.wrong(name, "an object", value)
        return None

    def objects(self, name: str, value) -> list[dict]:
        if value is None or (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            return value or []
        self.wrong(name, "an array of objects", value)
        return []

    def timestamp(self, name: str, value) -> datetime | None:
        return self._parsed(name, value, timestamp, "an ISO-8601 timestamp")

    def day(self, name: str, value) -> datetime | None:
        return self._parsed(name, value, day_timestamp, "a YYYY-MM-DD date")

    def _parsed(
        self, name: str, value, parse: Callable[[str | None], datetime | None], expected: str
    ) -> datetime | None:
        text = self.string(name, value)
        try:
            parsed = parse(text)
            if parsed is not None and parsed.tzinfo is not None:
                parsed.astimezone(UTC)  # the lake stores UTC: an offset must not push the instant out of range
            return parsed
        except (ValueError, OverflowError):
            self.wrong(name, expected, value)
            return None


def _is_unicode(text: str) -> bool:
    """False for text with a lone surrogate (JSON allows the escape; Parquet cannot store it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
