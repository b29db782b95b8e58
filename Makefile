# QualityLoop — two commands: `make demo` and `make test` (both set up first).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
MANIFEST := dbt/target/manifest.json
DBT_SOURCES := $(shell find dbt/models dbt/macros dbt/seeds dbt/tests -type f 2>/dev/null) dbt/dbt_project.yml dbt/profiles.yml
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: setup test demo bench ui clean

setup: $(STAMP) $(MANIFEST)

# Re-install only when the pins or the package metadata change.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# dagster-dbt loads the dbt manifest at import; parse only when the dbt project changed.
$(MANIFEST): $(STAMP) $(DBT_SOURCES)
	cd dbt && ../$(BIN)/dbt parse --profiles-dir . --quiet
	touch $@

test: setup
	$(BIN)/python -m pytest

# The pipeline on the sample, then demo users move some of the detected issues along.
demo: setup
	$(BIN)/qloop run --inbox data/sample --home .qloop
	$(BIN)/qloop demo-story --home .qloop

bench: setup
	$(BIN)/python -m dagster_project.lib.bench $(BENCH_ARGS)

# The Dagster UI over the demo home (asset graph, materialize, runs).
ui: setup
	$(BIN)/qloop ui --home .qloop

clean:
	rm -rf .qloop dbt/target dbt/logs
