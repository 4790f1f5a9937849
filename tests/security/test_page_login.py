"""Tokens against the page in a real Airflow API server (the plugin as Airflow loads it): none, garbage,
forged with another key, `alg=none`, expired, and a valid one; the security headers on the real mount."""

from __future__ import annotations

import configparser
import time

import httpx
import jwt
import pytest

from paperlake.dashboard.app import PAGE_HEADERS
from tests.e2e.test_ui_page import api_server, viewer  # noqa: F401 (fixture)
from tests.support.page_lake import R

pytestmark = pytest.mark.e2e
PATHS = ("/paperlake/", "/paperlake/trends", f"/paperlake/report/arxiv/{R}", "/paperlake/entity?id=LoRA")


@pytest.fixture(scope="module")
def tokens(api_server, airflow_home):  # noqa: F811
    """A viewer's valid token, and the same claims expired, signed with another key, and unsigned (`alg=none`)."""
    api = viewer(*api_server)
    valid = api.http.headers["Authorization"].removeprefix("Bearer ")
    config = configparser.ConfigParser(interpolation=None)
    config.read(airflow_home / "airflow.cfg")
    secret = config["api_auth"]["jwt_secret"]
    header = jwt.get_unverified_header(valid)
    claims = jwt.decode(valid, options={"verify_signature": False})
    now = int(time.time())
    expired = {**claims, "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}
    return {
        "valid": valid,
        "expired": jwt.encode(expired, secret, algorithm=header["alg"]),
        "another key": jwt.encode(claims, "not-the-server-secret-" * 4, algorithm=header["alg"]),
        "alg=none": jwt.encode(claims, None, algorithm="none"),
        "garbage": "not-a-token",
    }


@pytest.mark.parametrize("kind, status", [("expired", 401), ("another key", 403), ("alg=none", 403), ("garbage", 403)])
def test_a_bad_token_is_refused_on_every_route(api_server, tokens, kind, status):  # noqa: F811
    base_url, _ = api_server
    for path in PATHS:
        assert httpx.get(base_url + path).status_code == 401, path
        bearer = httpx.get(base_url + path, headers={"Authorization": f"Bearer {tokens[kind]}"})
        assert bearer.status_code == status, (kind, path, bearer.status_code, bearer.text[:200])
        assert httpx.get(base_url + path, cookies={"_token": tokens[kind]}).status_code == status, (kind, path)


def test_a_valid_token_reads_the_page_with_the_security_headers(api_server, tokens):  # noqa: F811
    base_url, _ = api_server
    for path in PATHS:
        response = httpx.get(base_url + path, headers={"Authorization": f"Bearer {tokens['valid']}"})
        assert response.status_code == 200, path
        assert response.headers["x-frame-options"] == PAGE_HEADERS["X-Frame-Options"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
