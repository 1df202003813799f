# Two commands on a fresh machine: `make run` (main job) and `make test` (the suite).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
NF     := $(VENV)/bin/newsflow
PIP    := $(PY) -m pip install --disable-pip-version-check -q -c constraints.txt

.PHONY: run test bench serve lint typecheck clean venv venv-test browser

$(VENV)/.base: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PIP) -e '.[test]'
	touch $@

venv: $(VENV)/.base
venv-test: $(VENV)/.test

## Main job: backfill the bundled sample archive, then one ingest pass over feeds.yaml.
run: $(VENV)/.base
	$(NF) backfill data/seed_archive
	$(NF) ingest --feeds feeds.yaml

## Headless Chromium (Debian package) for the report's browser test; installed when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get install -y chromium || { $$SUDO apt-get update && $$SUDO apt-get install -y chromium; } \
	      || echo "browser: could not install chromium; the browser test will fail and say so" >&2; \
	  else echo "browser: no apt-get here; the browser test will be skipped" >&2; fi; }

## The test suite (unit, integration, reliability, extraction quality gate).
test: $(VENV)/.test browser
	$(PY) -m pytest -q

## Benchmarks: figures to bench/results/*.json and bench/RESULTS.md.
bench: $(VENV)/.test
	$(PY) -m bench

## A local Prefect server, work pool, deployment and worker: the hourly schedule for real.
serve: $(VENV)/.base
	bash scripts/serve.sh

lint: $(VENV)/.test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

typecheck: $(VENV)/.test
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
