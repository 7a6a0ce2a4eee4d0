# Two commands: `make run` sets up and opens the app on the sample project; `make test` sets up
# and runs every check (lint, types, unit, app and browser tests).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8501
export CURATION_HOME ?= $(CURDIR)/.curation

.PHONY: install run sample test lint unit e2e chromium bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,semantic]"
	touch $(STAMP)

install: $(STAMP)

sample: install
	$(BIN)/curation import sample_data/*.json sample_data/*.jsonl --project sample --author sample --quiet

run: sample
	CURATION_PROJECT=sample $(BIN)/streamlit run app.py --server.address 127.0.0.1 \
		--server.port $(PORT) --browser.gatherUsageStats false

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
		else echo "Browser tests need Debian's chromium: sudo apt-get install -y chromium"; exit 1; fi; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: install chromium lint
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

e2e: install chromium
	$(BIN)/pytest tests/e2e

bench: install
	$(BIN)/python benchmarks/bench_import.py

clean:
	rm -rf $(VENV) .curation .pytest_cache .mypy_cache .ruff_cache
