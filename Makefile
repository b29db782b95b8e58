# QualityLoop — two commands: `make demo` and `make test` (both set up first).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
MANIFEST := dbt/target/manifest.json
DBT_SOURCES := $(shell find dbt/models dbt/macros dbt/seeds dbt/target_overrides dbt/tests -type f 2>/dev/null) dbt/dbt_project.yml dbt/profiles.yml
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: setup browser test test-fast demo bench bench-pipeline bench-board ui board clean
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

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

# The end-to-end tests drive Debian's chromium through Playwright's executable_path (Playwright's own browser download fails offline).
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium fonts-noto-cjk; }

test: setup browser
	$(BIN)/python -m pytest

# Before each commit: every test that runs neither the pipeline, dbt nor a browser.
test-fast: setup
	$(BIN)/python -m pytest -m "not slow" -q

# The pipeline on the sample, demo users move some of the detected issues along and
# register changes, the next run picks that up (the register's post-evaluation, closed
# issues' satisfaction), then the board (and the Dagster UI beside it) are served until Ctrl-C.
# The demo judges by the per-scope targets of dbt/target_overrides/demo/ (the deployment's
# set, dbt/target_overrides/deployment/, ships empty).
DEMO_TARGETS := QLOOP_TARGET_OVERRIDES=demo
demo: setup
	$(DEMO_TARGETS) $(BIN)/qloop run --inbox data/sample --home .qloop
	$(BIN)/qloop demo-story --home .qloop
	$(DEMO_TARGETS) $(BIN)/qloop run --inbox data/sample --home .qloop
	$(DEMO_TARGETS) $(BIN)/qloop board --home .qloop --with-dagster-ui 3000

board: setup
	$(BIN)/qloop board --home .qloop
# Benchmarks (docs/performance.md): the pipeline's, then the board's (one after the other:
# both want the two cores). The board's builds a 90-day home once and caches it.
bench: setup browser
	$(BIN)/python -m tools.bench $(BENCH_ARGS)
	$(BIN)/python -m tools.bench_board $(BOARD_BENCH_ARGS)
bench-pipeline: setup
	$(BIN)/python -m tools.bench $(BENCH_ARGS)
bench-board: setup browser
	$(BIN)/python -m tools.bench_board $(BOARD_BENCH_ARGS)

# The Dagster UI over the demo home (asset graph, materialize, runs).
ui: setup
	$(DEMO_TARGETS) $(BIN)/qloop ui --home .qloop

clean:
	rm -rf .qloop dbt/target dbt/logs
