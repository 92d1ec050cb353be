# The two commands: `make run` (set up, index the bundled corpus, serve the chat app) and
# `make test` (set up, run the tests). Both install everything they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup index run test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

index: setup
	$(VENV)/bin/qa ingest data/corpus --index index

run: index
	$(PY) app.py --index index

test: setup
	$(PY) -m pytest -q

bench: index
	$(PY) scripts/bench_ask.py --index index

clean:
	rm -rf index/build-* index/CURRENT index/.*.partial
