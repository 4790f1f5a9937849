"""Settings from `PAPERLAKE_*` environment variables: the one source of configuration.

The settings are NamedTuples (immutable, compared by value; `settings._replace(...)` for a changed copy), not
dataclasses: every `paperlake sql` imports this module, and `dataclasses` (with the `inspect`, `ast` and `dis` it
imports) plus building three dataclasses cost ~8 ms of a ~110 ms point query in a fresh process (issue 23). Without
`from __future__ import annotations`, their field types are the classes themselves, not strings typing compiles."""

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple, Self

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "include" / "data"
BUNDLED_SNAPSHOT = DATA_DIR / "samples" / "hf_papers_search_inference.txt"
PATTERNS_PATH = DATA_DIR / "patterns" / "ml_entities.jsonl"
# Names the hand-annotated training abstracts mark, written by `make train-ner` (never from the test split).
ANNOTATED_NAMES_PATH = DATA_DIR / "patterns" / "annotated_names.jsonl"
GAZETTEER_PATHS = (PATTERNS_PATH, ANNOTATED_NAMES_PATH)
# Rows a stage holds in memory at once (and rows per Parquet row group it writes).
DEFAULT_BATCH_ROWS = 5000


class S3Options(NamedTuple):
    """Where and how to reach S3-compatible storage; None fields fall back to boto3's own chain."""

    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    region: str = "us-east-1"


ALL_SOURCES = ("snapshot", "arxiv", "arxiv_oai", "hf_daily", "hf_search")


def _split(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


class HttpSettings(NamedTuple):
    """Where the HTTP sources live and how politely they are asked."""

    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_oai_url: str = "https://oaipmh.arxiv.org/oai"
    hf_api_url: str = "https://huggingface.co"
    arxiv_categories: tuple[str, ...] = ("cs.CL", "cs.LG", "cs.AI", "cs.CV")
    arxiv_page_size: int = 500
    arxiv_oai_set: str = "cs"
    hf_queries: tuple[str, ...] = ("inference",)
    hf_page_size: int = 100
    arxiv_min_interval: float = 3.0
    hf_min_interval: float = 0.5
    max_attempts: int = 6
    # Per request (connect, read, write each): a silent server costs this per attempt, not minutes.
    timeout: float = 20.0
    user_agent: str = "paperlake/0.1 (scientific-abstracts pipeline; set PAPERLAKE_USER_AGENT to add a contact)"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        d = cls()
        return cls(
            arxiv_api_url=env.get("PAPERLAKE_ARXIV_API_URL", d.arxiv_api_url),
            arxiv_oai_url=env.get("PAPERLAKE_ARXIV_OAI_URL", d.arxiv_oai_url),
            hf_api_url=env.get("PAPERLAKE_HF_API_URL", d.hf_api_url).rstrip("/"),
            arxiv_categories=_split(env.get("PAPERLAKE_ARXIV_CATEGORIES", ",".join(d.arxiv_categories))),
            arxiv_page_size=min(int(env.get("PAPERLAKE_ARXIV_PAGE_SIZE", d.arxiv_page_size)), 2000),
            arxiv_oai_set=env.get("PAPERLAKE_ARXIV_OAI_SET", d.arxiv_oai_set),
            hf_queries=_split(env.get("PAPERLAKE_HF_QUERIES", ",".join(d.hf_queries))),
            hf_page_size=int(env.get("PAPERLAKE_HF_PAGE_SIZE", d.hf_page_size)),
            arxiv_min_interval=float(env.get("PAPERLAKE_ARXIV_MIN_INTERVAL", d.arxiv_min_interval)),
            hf_min_interval=float(env.get("PAPERLAKE_HF_MIN_INTERVAL", d.hf_min_interval)),
            max_attempts=int(env.get("PAPERLAKE_HTTP_MAX_ATTEMPTS", d.max_attempts)),
            timeout=float(env.get("PAPERLAKE_HTTP_TIMEOUT", d.timeout)),
            user_agent=env.get("PAPERLAKE_USER_AGENT", d.user_agent),
        )


class Settings(NamedTuple):
    """Everything paperlake reads from its environment."""

    home: Path
    lake_url: str
    snapshot_path: Path
    sources: tuple[str, ...]
    abstract_min_chars: int
    abstract_max_chars: int
    max_quarantine_share: float
    s3: S3Options
    # A run whose clean rows fall under this share of the committed run's is refused (unless allowed).
    min_keep_share: float = 0.5
    # Uncommitted and superseded runs' files are deleted once older than this.
    run_retention: timedelta = timedelta(days=7)
    # The tag stage works in chunks of this many clean rows; in Airflow each chunk is a mapped task.
    tag_chunk_rows: int = 5000
    # Clean and validate read, work on and write this many rows at a time: memory stays flat in partition size.
    batch_rows: int = DEFAULT_BATCH_ROWS
    ner_model: bool = False
    digest_recipients: tuple[str, ...] = ()
    digest_sender: str = "paperlake@localhost"
    http: HttpSettings = HttpSettings()
    # `paperlake sql` and the shell cancel a statement running longer than this many seconds (None: no limit).
    sql_timeout: float | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """Read settings from `env` (default: the process environment)."""
        env = os.environ if env is None else env
        home = Path(env.get("PAPERLAKE_HOME", REPO_ROOT / ".paperlake")).resolve()
        sources = _split(env.get("PAPERLAKE_SOURCES", ",".join(ALL_SOURCES)))
        return cls(
            home=home,
            lake_url=env.get("PAPERLAKE_LAKE_URL") or (home / "lake").as_uri(),
            snapshot_path=Path(env.get("PAPERLAKE_SNAPSHOT_PATH", BUNDLED_SNAPSHOT)),
            sources=sources,
            abstract_min_chars=int(env.get("PAPERLAKE_ABSTRACT_MIN_CHARS", "100")),
            abstract_max_chars=int(env.get("PAPERLAKE_ABSTRACT_MAX_CHARS", "10000")),
            max_quarantine_share=float(env.get("PAPERLAKE_MAX_QUARANTINE_SHARE", "0.05")),
            min_keep_share=float(env.get("PAPERLAKE_MIN_KEEP_SHARE", "0.5")),
            run_retention=timedelta(days=float(env.get("PAPERLAKE_RUN_RETENTION_DAYS", "7"))),
            tag_chunk_rows=int(env.get("PAPERLAKE_TAG_CHUNK_ROWS", "5000")),
            batch_rows=int(env.get("PAPERLAKE_BATCH_ROWS", str(DEFAULT_BATCH_ROWS))),
            s3=S3Options(
                endpoint_url=env.get("PAPERLAKE_S3_ENDPOINT_URL")
                or env.get("AWS_ENDPOINT_URL_S3")
                or env.get("AWS_ENDPOINT_URL"),
                access_key_id=env.get("AWS_ACCESS_KEY_ID"),
                secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
                region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            ),
            http=HttpSettings.from_env(env),
            ner_model=env.get("PAPERLAKE_NER_MODEL", "off").lower() in ("1", "on", "true", "yes"),
            digest_recipients=_split(env.get("PAPERLAKE_DIGEST_RECIPIENTS", "")),
            digest_sender=env.get("PAPERLAKE_DIGEST_SENDER", cls._field_defaults["digest_sender"]),
            sql_timeout=float(env["PAPERLAKE_SQL_TIMEOUT"]) if env.get("PAPERLAKE_SQL_TIMEOUT") else None,
        )
