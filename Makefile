# paperlake: `make run` (the main job on embedded defaults) and `make test` (the whole suite).
SHELL := /bin/bash
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.paperlake-installed
# The sample has no dates of its own: the demo lands it under one fixed logical date, so reruns replace it.
DATE ?= 2026-11-26

# Airflow standalone starts its components as `airflow ...` subprocesses: the venv must come first on PATH.
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

.PHONY: help install run airflow test train-ner eval-ner bench clean-state

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q pip==26.3
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	$(BIN)/pip check
	@touch $@

install: $(STAMP) ## create .venv with the pinned requirements (skipped when up to date)

$(AIRFLOW_HOME)/.migrated: $(STAMP)
	@mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate > $(AIRFLOW_HOME)/migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/migrate.log; exit 1)
	$(BIN)/airflow pools import include/paperlake_airflow/pools.json >> $(AIRFLOW_HOME)/migrate.log 2>&1 || (cat $(AIRFLOW_HOME)/migrate.log; exit 1)
	@touch $@

run: $(AIRFLOW_HOME)/.migrated ## run the bundled sample through Airflow (ingest + marts) and print a summary
	$(BIN)/airflow dags test paperlake_ingest_snapshot $(DATE) > $(PAPERLAKE_HOME)/ingest.log 2>&1 || (tail -50 $(PAPERLAKE_HOME)/ingest.log; exit 1)
	$(BIN)/airflow dags test paperlake_marts $(DATE) > $(PAPERLAKE_HOME)/marts.log 2>&1 || (tail -50 $(PAPERLAKE_HOME)/marts.log; exit 1)
	@$(BIN)/paperlake summary --date $(DATE)

airflow: $(AIRFLOW_HOME)/.migrated ## start `airflow standalone` on the same defaults (UI + scheduler)
	@echo "Airflow UI: http://localhost:8080  user: admin  password: see below once generated"
	@( sleep 30; f=$(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated; \
	   test -f $$f && echo "admin password file $$f: $$(cat $$f)" ) &
	$(BIN)/airflow standalone

test: $(STAMP) ## run the whole test suite
	$(BIN)/python -m pytest

train-ner: $(STAMP) ## rebuild the annotated-names gazetteer and retrain the domain NER (train-*.jsonl; gold dev split selects)
	$(BIN)/python -m paperlake.tagging.train

eval-ner: $(STAMP) ## precision/recall/F1 per label on the gold test split: rules only, and rules + trained model
	$(BIN)/python -m paperlake.tagging.evaluate test

bench: $(STAMP) ## tagging throughput (1 vs 2 processes, cold vs cached rerun), printed as ratios
	$(BIN)/python bench/tagging.py

clean-state: ## delete the local lake, marts and Airflow state under .paperlake/
	rm -rf $(PAPERLAKE_HOME)
