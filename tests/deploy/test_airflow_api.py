"""deploy/airflow_api.py against a local HTTP server answering as Airflow's API did in CI."""

from __future__ import annotations

import json
from datetime import date

import pytest

from deploy.airflow_api import AirflowApi

LOCKED = {"detail": {"reason": "Database error", "statement": "hidden", "orig_error": "hidden"}}


def test_a_backfill_refused_while_sqlite_is_busy_is_sent_again_and_any_other_error_is_raised(httpserver):
    answers = iter([(503, {"detail": "busy"}), (500, LOCKED), (200, {"id": 7})])
    seen = []

    def backfills(request):
        from werkzeug import Response

        seen.append(json.loads(request.data))
        status, body = next(answers)
        return Response(json.dumps(body), status=status, content_type="application/json")

    httpserver.expect_request("/api/v2/backfills", method="POST").respond_with_handler(backfills)
    api = AirflowApi(httpserver.url_for("/"))
    assert api.create_backfill("d", date(2026, 11, 1), date(2026, 11, 3)) == {"id": 7}
    assert len(seen) == 3 and {body["from_date"] for body in seen} == {"2026-11-01T00:00:00Z"}

    httpserver.clear()
    httpserver.expect_request("/api/v2/backfills", method="POST").respond_with_json({"detail": "no such DAG"}, 404)
    with pytest.raises(RuntimeError, match=r"^POST /api/v2/backfills -> 404"):
        api.create_backfill("d", date(2026, 11, 1), date(2026, 11, 3))
