"""A small client for the Airflow 3 REST API (`/api/v2`): the calls the UI makes for a backfill, and reads."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timezone
from datetime import time as day_time

import httpx

FINISHED = {"success", "failed"}


class AirflowApi:
    def __init__(self, base_url: str, username: str | None = None, password: str | None = None, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.username, self.password = username, password
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def health(self) -> dict:
        """`/api/v2/monitor/health`: metadatabase, scheduler, triggerer and dag processor status (no login)."""
        response = self.http.get("/api/v2/monitor/health")
        response.raise_for_status()
        return response.json()

    def login(self) -> None:
        """`POST /auth/token` with the admin credentials; later calls carry the bearer token."""
        response = self.http.post("/auth/token", json={"username": self.username, "password": self.password})
        response.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def request(self, method: str, path: str, **kwargs) -> dict:
        response = self.http.request(method, f"/api/v2{path}", **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} /api/v2{path} -> {response.status_code}: {response.text[:2000]}")
        return response.json() if response.content else {}

    def dag(self, dag_id: str) -> dict:
        return self.request("GET", f"/dags/{dag_id}")

    def set_paused(self, dag_id: str, paused: bool) -> dict:
        return self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})

    def create_backfill(
        self, dag_id: str, first: date, last: date, reprocess_behavior: str = "none", max_active_runs: int = 1,
        dag_run_conf: dict | None = None,
    ) -> dict:
        """The request the UI's backfill form sends: from the first day's start to the last day's end (UTC)."""
        start = datetime.combine(first, day_time.min, timezone.utc)
        end = datetime.combine(last, day_time(23, 59, 59, 999000), timezone.utc)
        body = {
            "dag_id": dag_id, "dag_run_conf": dag_run_conf or {}, "from_date": start.isoformat().replace("+00:00", "Z"),
            "to_date": end.isoformat().replace("+00:00", "Z"), "max_active_runs": max_active_runs,
            "reprocess_behavior": reprocess_behavior, "run_backwards": False, "run_on_latest_version": True,
        }
        # On SQLite the API refuses with 503 while the scheduler holds the database; the UI user would retry. Each
        # statement of the request may also wait up to 30 s for SQLite's lock (deploy/sqlite.py), so the request can
        # outlast the client's default timeout (CI saw a ReadTimeout at 30 s): it gets 120 s. When the wait runs out
        # in the audit-log write Airflow makes before the backfill (`INSERT INTO log`, a dependency of the route), the
        # answer is 500 "Database error" and nothing was created (CI saw it once, every writer of the database
        # stalled 30 s with it): the UI user would retry that too.
        for attempt in range(10):
            response = self.http.post("/api/v2/backfills", json=body, timeout=120)
            locked = response.status_code == 500 and "Database error" in response.text
            if not (response.status_code == 503 or locked) or attempt == 9:
                break
            print(f"POST /api/v2/backfills -> {response.status_code} (the database was busy): retried", flush=True)
            time.sleep(3)
        if response.status_code >= 400:
            raise RuntimeError(f"POST /api/v2/backfills -> {response.status_code}: {response.text[:2000]}")
        return response.json()

    def create_fab_user(self, username: str, password: str, role: str) -> dict:
        """A user of the FAB auth manager (`POST /auth/fab/v1/users`, as the UI's Security menu does)."""
        body = {"username": username, "password": password, "email": f"{username}@localhost", "first_name": username,
                "last_name": role, "roles": [{"name": role}]}
        response = self.http.post("/auth/fab/v1/users", json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"POST /auth/fab/v1/users -> {response.status_code}: {response.text[:2000]}")
        return response.json()

    def backfill(self, backfill_id: int) -> dict:
        return self.request("GET", f"/backfills/{backfill_id}")

    def dag_runs(self, dag_id: str) -> list[dict]:
        runs, offset = [], 0
        while True:
            page = self.request(
                "GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100, "offset": offset, "order_by": "run_after"}
            )
            runs += page["dag_runs"]
            offset += len(page["dag_runs"])
            if not page["dag_runs"] or offset >= page["total_entries"]:
                return runs

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})[
            "task_instances"
        ]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int = -1) -> str:
        """A task try's log as text (structured entries joined as JSON lines)."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
        params = {"full_content": "true", "map_index": map_index}
        data = self.request("GET", path, params=params, headers={"Accept": "application/json"})
        content = data.get("content", [])
        if isinstance(content, str):
            return content
        return "\n".join(item if isinstance(item, str) else json.dumps(item) for item in content)

    def wait_for_runs(self, dag_id: str, count: int, timeout: float, poll: float = 3) -> list[dict]:
        """Poll until `dag_id` has at least `count` runs and none is unfinished; raise after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            runs = self.dag_runs(dag_id)
            if len(runs) >= count and all(r["state"] in FINISHED for r in runs):
                return runs
            if time.monotonic() > deadline:
                states = [(r["dag_run_id"], r["state"]) for r in runs]
                raise TimeoutError(f"{dag_id}: wanted {count} finished runs within {timeout:.0f}s, have {states}")
            time.sleep(poll)

    def wait_for_backfill(self, backfill_id: int, timeout: float, poll: float = 3) -> dict:
        """Poll until the backfill is completed (every run it made has finished); raise after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            backfill = self.backfill(backfill_id)
            if backfill.get("completed_at"):
                return backfill
            if time.monotonic() > deadline:
                runs = [(r["dag_run_id"], r["state"]) for r in self.dag_runs(backfill["dag_id"])]
                raise TimeoutError(
                    f"backfill {backfill_id} of {backfill['dag_id']} not completed within {timeout:.0f}s; runs: {runs}"
                )
            time.sleep(poll)


def wait_until(check, timeout: float, what: str, poll: float = 2):
    """Call `check` until it returns something truthy; raise TimeoutError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            result = check()
            if result:
                return result
        except Exception as err:  # not there yet (a DAG not parsed, a file not published)
            last_error = err
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{what}: not within {timeout:.0f}s" + (f" (last error: {last_error})" if last_error else "")
            )
        time.sleep(poll)
