"""Expected failures: each message names the source, date, URI or path, and what to do next.

The CLI prints these as one line (no traceback unless `--verbose`); Airflow task logs carry the same line.
"""

from __future__ import annotations


class PaperlakeError(Exception):
    """A failure an operator is expected to act on, not a bug."""


class UsageError(PaperlakeError):
    """A command given what it cannot do (conflicting options, an output path paperlake manages)."""


class ParseError(PaperlakeError, ValueError):
    """A raw page cannot be read as what its source promises (format, encoding, shape)."""


class CommitConflict(PaperlakeError):
    """Another run committed the same (source, date) while this run was in flight."""


class ShrinkRefused(PaperlakeError):
    """A run would replace a committed partition with far fewer rows; needs an explicit override."""
