"""Run paperlake's Airflow as local processes under `deploy.supervisor`: its configuration (`config`), the
PostgreSQL cluster (`postgres`), what runs (`plans`), the one-shot init task (`init`), and start/stop/status
(`control`).

    python -m deploy.stack start    # production topology in the background (`make stack`)
    python -m deploy.stack stop     # stop it all by PID (`make stack-down`)
    python -m deploy.stack status
    python -m deploy.stack airflow  # embedded default in the foreground (`make airflow`)

The stack: PostgreSQL (metadata), Redis (Celery broker), SeaweedFS (the lake's S3), then Airflow with
the CeleryExecutor: api-server, scheduler, dag-processor, triggerer and two Celery workers, and the FAB
auth manager (users and roles in the metadata database; `admin` has the Admin role). Everything listens
on 127.0.0.1; state, logs and PIDs live under `$PAPERLAKE_HOME/stack/`. Its passwords are generated, or
the admin's is taken from $PAPERLAKE_STACK_ADMIN_PASSWORD; a weak one is refused before anything starts.
"""
