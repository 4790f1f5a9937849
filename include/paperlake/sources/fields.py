"""Field readers the source parsers share: collapsed XML text, author labels, ISO timestamps."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime


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
