# paperlake: `make run` (the main job on embedded defaults) and `make test` (the whole suite).
SHELL := /bin/bash
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.paperlake-installed
# Spark for the reader test, in its own venv (see requirements-spark.txt).
SPARK_VENV := $(CURDIR)/.venv-spark
SPARK_STAMP := $(SPARK_VENV)/.spark-installed
# The sample has no dates of its own: the demo lands it under one fixed logical date, so reruns replace it.
DATE ?= 2026-11-26

# Airflow's components start `airflow ...` subprocesses: the venv must come first on PATH.
export PATH := $(BIN):$(PATH)
export PAPERLAKE_HOME ?= $(CURDIR)/.paperlake
export AIRFLOW_HOME ?= $(PAPERLAKE_HOME)/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__PARALLELISM ?= 4
export AIRFLOW__CORE__EXECUTOR ?= LocalExecutor
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?= sqlite:///$(AIRFLOW_HOME)/airflow.db
export AIRFLOW__LOGGING__LOGGING_LEVEL ?= INFO

.PHONY: help install run airflow stack stack-down test test-deploy train-ner eval-ner eval-clean bench clean-state

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-test.txt pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q pip==26.3
	$(BIN)/pip install -q -r requirements.txt -r requirements-test.txt
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/pip check
	@touch $@

install: $(STAMP) ## create .venv with the pinned requirements and the test engines (skipped when up to date)

$(SPARK_STAMP): requirements-spark.txt
	@test -x $(SPARK_VENV)/bin/python || $(PY) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/pip install -q -r requirements-spark.txt
	$(SPARK_VENV)/bin/pip check
	@touch $@

$(AIRFLOW_HOME)/.migrated: $(STAMP)
	@mkdir -p $(AIRFLOW_HOME)
	$(BIN)/python -m deploy.airflow_init > $(AIRFLOW_HOME)/migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/migrate.log; exit 1)
	@touch $@

run: $(AIRFLOW_HOME)/.migrated ## run the bundled sample through Airflow (ingest + marts) and print a summary
	$(BIN)/airflow dags test paperlake_ingest_snapshot $(DATE) > $(PAPERLAKE_HOME)/ingest.log 2>&1 || (tail -50 $(PAPERLAKE_HOME)/ingest.log; exit 1)
	$(BIN)/airflow dags test paperlake_marts $(DATE) > $(PAPERLAKE_HOME)/marts.log 2>&1 || (tail -50 $(PAPERLAKE_HOME)/marts.log; exit 1)
	@$(BIN)/paperlake summary --date $(DATE)

# Each component is its own process session under deploy/supervisor.py (which first runs deploy/airflow_init.py:
# migrate, pools): one that dies is logged, what it left behind is stopped, and it is restarted; Ctrl-C /
# SIGTERM stops every session whole (exec: the signal reaches the supervisor itself).
airflow: export AIRFLOW__LOGGING__LOGGING_LEVEL := INFO
airflow: $(STAMP) ## run Airflow on the same defaults (UI, scheduler, dag-processor, triggerer; Ctrl-C stops)
	exec $(BIN)/python -m deploy.stack airflow

stack: $(STAMP) ## start the production topology in the background: PostgreSQL, Redis, 2 Celery workers, S3 (SeaweedFS), FAB auth
	$(BIN)/python -m deploy.stack start

stack-down: ## stop everything `make stack` started, by PID
	$(BIN)/python -m deploy.stack stop

test: $(STAMP) $(SPARK_STAMP) ## run the test suite (all but the deploy tests) and a quick smoke run of the bench
	@command -v docker-compose >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; } \
	  || echo "docker-compose could not be installed: the compose file check will be skipped"
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || echo "chromium could not be installed: the browser test of the paperlake UI page will be skipped"
	@command -v java >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; } \
	  || echo "openjdk-17-jre-headless could not be installed: the Spark reader test will be skipped"
	$(BIN)/ruff check --quiet
	PAPERLAKE_SPARK_PYTHON=$(SPARK_VENV)/bin/python $(BIN)/python -m pytest
	$(BIN)/python -m pytest -m bench tests/unit/test_bench.py

test-deploy: $(STAMP) ## start the stack and the embedded supervisor for real and backfill through the API (slow)
	$(BIN)/python -m pytest -m deploy tests/deploy --durations=0

train-ner: $(STAMP) ## rebuild the annotated-names gazetteer, retrain the domain NER (train-*.jsonl, + SciREX if SCIREX_DIR=<checkout>) and the domain gate's classifier (real corpus)
	$(BIN)/python -m paperlake.tagging.training.train $(if $(SCIREX_DIR),--scirex "$(SCIREX_DIR)")

eval-ner: $(STAMP) ## gold test split: span and per-paper entity P/R/F1, split/merge check; stray labels outside ML; real arXiv corpus by category
	$(BIN)/python -m paperlake.tagging.training.evaluate test

eval-clean: $(STAMP) ## clean the real arXiv corpus (+ PAPERLAKE_REAL_CORPUS_DIR=<dir of *.jsonl.gz>): TeX left, glued words, fixed point, ms
	$(BIN)/python -m paperlake.eval_clean

bench: $(STAMP) ## speed and memory against issue 13's goals, ~20 min on 2 cores (BENCH_ARGS=--quick: a smoke run)
	$(BIN)/python -m bench --doc docs/performance.md $(BENCH_ARGS)

clean-state: ## delete the local lake, marts and Airflow state under .paperlake/
	rm -rf $(PAPERLAKE_HOME)
