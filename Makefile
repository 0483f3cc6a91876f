# Sparkify warehouse: `make run` builds everything into the embedded DuckDB warehouse, `make test` tests it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   := $(CURDIR)/data

# The generated sample is the default source; set SPARKIFY_SOURCE to use other data (a folder or s3://...).
SAMPLE_DIR := $(DATA)/sample
SAMPLE_ARGS ?= --days 30 --songs 400 --events-per-day 400
export DAGSTER_HOME ?= $(DATA)/dagster_home

.PHONY: install sample run dev test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(DAGSTER_HOME):
	mkdir -p $@ && cp dagster.yaml $@/dagster.yaml

# Generate the project's own sample (deterministic) unless SPARKIFY_SOURCE points elsewhere.
sample: install
	@if [ -z "$$SPARKIFY_SOURCE" ] && [ ! -d "$(SAMPLE_DIR)/log_data" ]; then \
		$(BIN)/sparkify sample --out "$(SAMPLE_DIR)" $(SAMPLE_ARGS); \
	fi

# Every asset over every day the source holds, in one run; then rows per table and the checks.
run: sample $(DAGSTER_HOME)
	$(BIN)/dagster asset materialize -m sparkify_assets --select '*' \
		--partition-range "$$($(BIN)/sparkify days)"
	$(BIN)/sparkify summary

# The Dagster UI (webserver + daemon, so the schedule runs) on http://127.0.0.1:3000
dev: sample $(DAGSTER_HOME)
	$(BIN)/dagster dev -m sparkify_assets -h 127.0.0.1 -p 3000

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check sparkify_assets sparkify_assets_tests bench

# The benchmark (bench/RESULTS.md): the asset graph against a plain-DuckDB build of the same generated month,
# 1M events and 20k song files by default (cached in bench/out/). More: make bench BENCH_ARGS="--events 10000000".
BENCH_ARGS ?=
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(DATA) .pytest_cache .ruff_cache
