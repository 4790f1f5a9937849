"""The environment every HTTP source test runs in: every source's URL on one local server, small pages."""

from __future__ import annotations

import pytest


@pytest.fixture
def env(tmp_path, httpserver) -> dict:
    base = httpserver.url_for("").rstrip("/")
    return {
        "PAPERLAKE_HOME": str(tmp_path / "home"),
        "PAPERLAKE_ARXIV_API_URL": f"{base}/api/query",
        "PAPERLAKE_ARXIV_OAI_URL": f"{base}/oai",
        "PAPERLAKE_HF_API_URL": base,
        "PAPERLAKE_ARXIV_CATEGORIES": "cs.CL,cs.LG",
        "PAPERLAKE_ARXIV_PAGE_SIZE": "2",
        "PAPERLAKE_HF_PAGE_SIZE": "2",
        "PAPERLAKE_HF_QUERIES": "inference,kernels",
        "PAPERLAKE_HTTP_MAX_ATTEMPTS": "4",
    }

