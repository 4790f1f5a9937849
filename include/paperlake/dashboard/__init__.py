"""The paperlake page in the Airflow UI: read-only views over the published marts (no Airflow import here)."""
