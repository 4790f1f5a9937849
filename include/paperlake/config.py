"""Settings from `PAPERLAKE_*` environment variables: the one source of configuration."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "include" / "data"
BUNDLED_SNAPSHOT = DATA_DIR / "samples" / "hf_papers_search_inference.txt"
PATTERNS_PATH = DATA_DIR / "patterns" / "ml_entities.jsonl"


@dataclass(frozen=True)
class S3Options:
    """Where and how to reach S3-compatible storage; None fields fall back to boto3's own chain."""

    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    region: str = "us-east-1"


@dataclass(frozen=True)
class Settings:
    """Everything paperlake reads from its environment."""

    home: Path
    lake_url: str
    snapshot_path: Path
    sources: tuple[str, ...]
    abstract_min_chars: int
    abstract_max_chars: int
    max_quarantine_share: float
    s3: S3Options

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from `env` (default: the process environment)."""
        env = os.environ if env is None else env
        home = Path(env.get("PAPERLAKE_HOME", REPO_ROOT / ".paperlake")).resolve()
        sources = tuple(s.strip() for s in env.get("PAPERLAKE_SOURCES", "snapshot").split(",") if s.strip())
        return cls(
            home=home,
            lake_url=env.get("PAPERLAKE_LAKE_URL") or (home / "lake").as_uri(),
            snapshot_path=Path(env.get("PAPERLAKE_SNAPSHOT_PATH", BUNDLED_SNAPSHOT)),
            sources=sources,
            abstract_min_chars=int(env.get("PAPERLAKE_ABSTRACT_MIN_CHARS", "100")),
            abstract_max_chars=int(env.get("PAPERLAKE_ABSTRACT_MAX_CHARS", "10000")),
            max_quarantine_share=float(env.get("PAPERLAKE_MAX_QUARANTINE_SHARE", "0.05")),
            s3=S3Options(
                endpoint_url=env.get("PAPERLAKE_S3_ENDPOINT_URL")
                or env.get("AWS_ENDPOINT_URL_S3")
                or env.get("AWS_ENDPOINT_URL"),
                access_key_id=env.get("AWS_ACCESS_KEY_ID"),
                secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
                region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            ),
        )
