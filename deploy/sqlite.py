"""SQLite connection arguments for Airflow's metadata database under `make airflow` (the local plan points
AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS here): the scheduler, the API server and the LocalExecutor's workers all
write to one file, so a writer waits up to 30 s for the others instead of failing after SQLite's default 5 s (a UI
backfill created while a scheduled run was writing answered 500, "database is locked")."""

CONNECT_ARGS = {"timeout": 30}
