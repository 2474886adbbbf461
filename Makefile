PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_API_URL ?= http://127.0.0.1:4200/api

.PHONY: help venv demo test bench bench-scale lint format docs migration clean

help: ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP) ## create .venv and install reportflow into it

demo: $(STAMP) ## run one whole report cycle of the sample report
	$(BIN)/reportflow demo

# The end-to-end tests mostly wait on processes, the rest mostly compute: two pytest sessions at
# once (each with its own Prefect server, data folder and PostgreSQL schema) take about as long as
# the end-to-end half alone. The second session's output follows the first's.
test: $(STAMP) ## run the test suite (end-to-end and the rest at once; the rest's log: out/test-rest.log)
	@mkdir -p out
	@echo "== the tests without processes of their own run beside these → out/test-rest.log"
	@$(BIN)/python -m pytest -q -m "not e2e" > out/test-rest.log 2>&1 & rest=$$!; \
	$(BIN)/python -m pytest -q -m e2e; e2e=$$?; \
	wait $$rest; rest_rc=$$?; \
	echo "== the tests without processes of their own (out/test-rest.log)"; cat out/test-rest.log; \
	echo "== end-to-end: exit $$e2e; the rest: exit $$rest_rc"; \
	[ $$e2e -eq 0 ] && [ $$rest_rc -eq 0 ]

bench: $(STAMP) ## benchmark figures beside their baselines → out/bench/results.md, .json
	$(BIN)/python -m bench

# Not part of `make test`; takes many minutes. A subset: make bench-scale ARGS="--sizes 10,100 --parallel 0x0"
# The Locust burst alone: make bench-scale ARGS="--sizes '' --parallel 0x0 --cli 0 --locust 200"
bench-scale: $(STAMP) ## whole cycles of 10/100/1,000 divisions, 10×100 at once and a Locust burst of 200 on PostgreSQL → out/bench/
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.scale $(ARGS)

lint: $(STAMP) ## ruff format check and lint, and the layers (import-linter)
	$(BIN)/ruff format --check reportflow bench tests
	$(BIN)/ruff check reportflow bench tests
	$(BIN)/lint-imports

format: $(STAMP) ## ruff format and autofix
	$(BIN)/ruff format reportflow bench tests
	$(BIN)/ruff check --fix reportflow bench tests

docs: $(STAMP) ## regenerate docs/definitions.md from the definition schema
	$(BIN)/python -m reportflow.definitions.reference

# Autogenerates the next revision (0002, 0003, ...) by comparing the models with a throwaway
# SQLite database upgraded to the current head. Review the file it writes before committing.
migration: $(STAMP) ## new schema migration from the models: make migration m="what changed"
	@test -n "$(m)" || { echo 'usage: make migration m="what changed"' >&2; exit 2; }
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	export REPORTFLOW_DATABASE_URL="sqlite:///$$tmp/head.db" REPORTFLOW_DATA_DIR="$$tmp" && \
	$(BIN)/reportflow db upgrade && \
	count=$$(ls reportflow/migrations/versions/[0-9]*_*.py | wc -l) && \
	$(BIN)/alembic -c alembic.ini revision --autogenerate \
		--rev-id $$(printf '%04d' $$((count + 1))) -m "$(m)"

clean: ## remove the demo output and local state
	rm -rf out .prefect
