"""Run paperlake's Airflow as real local processes: the embedded default (`make airflow`) and the
production topology (`make stack`: PostgreSQL, Redis, Celery workers, SeaweedFS), both under one supervisor.

Imports nothing from tests/ or dags/; the tests import from here.
"""
