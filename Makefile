# Sparkify warehouse: `make run` builds everything into the embedded DuckDB warehouse, `make test` tests it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   := $(CURDIR)/data

# The generated sample is the default source; set SPARKIFY_SOURCE to use other data (a folder or s3://...).
SAMPLE_DIR := $(DATA)/sample
SAMPLE_ARGS ?= --days 30 --songs 400 --events-per-day 400
export DAGSTER_HOME ?= $(DATA)/dagster_home

# The partitions `make run` and `make dev` show: exactly the days the source holds (`sparkify days` prints
# FIRST...LAST), unless SPARKIFY_PARTITIONS_START / SPARKIFY_PARTITIONS_END are set in the environment (an
# empty END: up to yesterday, moving on every day, as in production). A recipe prefix, ending in `&&`.
SOURCE_DAYS = days="$$($(BIN)/sparkify days)" && \
	export SPARKIFY_PARTITIONS_START="$${SPARKIFY_PARTITIONS_START-$${days%...*}}" \
	       SPARKIFY_PARTITIONS_END="$${SPARKIFY_PARTITIONS_END-$${days\#*...}}" &&

# Runs print a line per step at INFO (dagster.yaml); `make run VERBOSE=1` prints Dagster's full log instead.
VERBOSE ?=
FULL_LOG := --config-json '{"loggers": {"console": {"config": {"log_level": "DEBUG"}}}}'
# Dagster 1.13 says on every `dagster asset materialize` and `dagster dev` that `dg launch` / `dg dev`
# supersede them; `dg` is another tool (dagster-dg-cli) this project does not use: those two warnings are hidden.
NO_SUPERSEDED_WARNING := PYTHONWARNINGS='ignore:Function `asset_materialize_command` is superseded,ignore:Function `dev_command` is superseded'

# Every Python folder of the project: the code location, the tools beside it, their tests, the benchmark.
PY_SOURCES := sparkify_assets sparkify_cli sparkify_infra sparkify_sample conftest.py \
	sparkify_assets_tests sparkify_infra_tests sparkify_sample_tests bench

.PHONY: install lock sample run dev test test-lowest test-python test-deploy lint bench clean

install: $(VENV)/.installed

# A venv at $(1) holding the project and its dev tools, at the versions pip's arguments $(2) pin.
new_venv = $(PYTHON) -m venv $(1) && $(1)/bin/pip install --quiet --upgrade pip && \
	$(1)/bin/pip install --quiet $(2) -e '.[dev]'

# The venv gets the exact versions of requirements.lock (every package, dependencies of dependencies too), so
# that a build, CI and a deployment image install what was tested, whatever has been released since.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(call new_venv,$(VENV),-c requirements.lock)
	touch $@

# requirements.lock anew: the newest versions pyproject.toml's ranges allow, resolved in a venv of their own
# and frozen. Then `make test` (the newest) and `make test-lowest` (the lower bounds) before committing it.
lock:
	rm -rf .venv-lock
	$(call new_venv,.venv-lock,)
	{ echo "# make lock: every package make install puts in .venv, at the version tested (see the Makefile)."; \
	  .venv-lock/bin/pip freeze --exclude-editable; } > requirements.lock
	rm -rf .venv-lock

# The instance settings: make's own instance follows dagster.yaml; a DAGSTER_HOME of yours gets it only if it
# has none.
$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(@D)
	@if [ ! -e $@ ] || [ "$(DAGSTER_HOME)" = "$(DATA)/dagster_home" ]; then cp dagster.yaml $@; \
	else echo "note: $@ differs from dagster.yaml and is yours: not replaced"; fi

# Generate the project's own sample (deterministic) unless SPARKIFY_SOURCE points elsewhere.
sample: install
	@if [ -z "$$SPARKIFY_SOURCE" ] && [ ! -d "$(SAMPLE_DIR)/log_data" ]; then \
		$(BIN)/sparkify sample --out "$(SAMPLE_DIR)" $(SAMPLE_ARGS); \
	fi

# Every asset over every day the source holds, in one run; then rows per table and the checks.
run: sample $(DAGSTER_HOME)/dagster.yaml
	@$(SOURCE_DAYS) \
	echo "dagster asset materialize -m sparkify_assets.definitions --select '*' --partition-range $$days" && \
	$(NO_SUPERSEDED_WARNING) $(BIN)/dagster asset materialize -m sparkify_assets.definitions --select '*' \
		--partition-range "$$days" $(if $(VERBOSE),$(FULL_LOG))
	@echo "sparkify summary" && $(BIN)/sparkify summary

# The Dagster UI (webserver + daemon) on http://127.0.0.1:3000. The daily schedule starts running
# (SPARKIFY_AUTOMATION=sensor: the arrival sensor instead; off: neither); see the README, "Operating it".
# It runs in DAGSTER_HOME: started beside the repository's dagster.yaml, `dagster dev` warns that it does
# not use that file (it reads DAGSTER_HOME's copy).
dev: sample $(DAGSTER_HOME)/dagster.yaml
	@$(SOURCE_DAYS) export SPARKIFY_AUTOMATION="$${SPARKIFY_AUTOMATION-schedule}" && \
	echo "dagster dev -w workspace.yaml: partitions $$SPARKIFY_PARTITIONS_START...$$SPARKIFY_PARTITIONS_END," \
		"automation: $$SPARKIFY_AUTOMATION" && \
	cd "$(DAGSTER_HOME)" && \
	$(NO_SUPERSEDED_WARNING) $(CURDIR)/$(BIN)/dagster dev -w $(CURDIR)/workspace.yaml -h 127.0.0.1 -p 3000

test: install
	$(BIN)/pytest

# The suite with every dependency at the lowest version pyproject.toml allows (.ci/lower_bounds), in .venv-lowest.
test-lowest:
	rm -rf .venv-lowest && mkdir .venv-lowest && $(PYTHON) .ci/lower_bounds > .venv-lowest/lower-bounds.txt
	$(call new_venv,.venv-lowest,-r .venv-lowest/lower-bounds.txt)
	.venv-lowest/bin/pytest

# .ci/run (or TARGET=test-lowest) on another Python, in a chroot of the distribution that ships it (as root):
# SUITE=noble (3.12), trixie (3.13) or sid (3.14). See .ci/python_in_chroot.
SUITE ?= trixie
TARGET ?=
test-python:
	.ci/python_in_chroot $(SUITE) $(TARGET)

# The production deployment alone (deploy/: Postgres, code server, daemon, webserver); needs Debian's postgresql.
test-deploy: install
	$(BIN)/pytest -m deploy

lint: install
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)

# The benchmark (bench/RESULTS.md): the asset graph against a plain-DuckDB build of the same generated month,
# 1M events and 20k song files by default (cached in bench/out/). More: make bench BENCH_ARGS="--events 10000000".
BENCH_ARGS ?=
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(DATA) .pytest_cache .ruff_cache .venv-lowest
