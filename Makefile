# One command per job, the same locally and in CI (.ci/run calls `make test`).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve test bench check install postgres node wrk clean web chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## Start Roost on http://127.0.0.1:8000 with the embedded SQLite store and demo data.
serve: $(STAMP) web
	$(VENV)/bin/roost serve --host 127.0.0.1 --port 8000 --demo

## Run the whole test suite (SQLite and a real PostgreSQL started on 127.0.0.1).
test: $(STAMP) postgres node web chromium
	$(PY) -m pytest

## Benchmarks: ingest and query figures against baselines measured in the same run.
bench: $(STAMP) wrk web chromium
	$(PY) bench/run.py

## Formatting, lint and types.
check: $(STAMP)
	$(VENV)/bin/ruff format --check src tests bench scripts
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/mypy src

# Debian's PostgreSQL server for the tests (they start their own cluster on 127.0.0.1), and
# curl for the documented examples the tests run.
postgres:
	@( ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 ) \
		&& command -v curl >/dev/null 2>&1 || \
		( $(SUDO) apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql curl )

# Node and npm for the tests that run real JavaScript clients (they `npm ci` into tests/js).
node:
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || \
		( $(SUDO) apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm )

# The web app's front-end packages: npm ci from package-lock.json, then copy the few files the
# pages load into the git-ignored static/vendor (redone when the lockfile changes).
WEB_VENDOR := src/roost/web/static/vendor
$(WEB_VENDOR)/.copied: package-lock.json package.json
	@$(MAKE) --no-print-directory node
	npm ci --no-audit --no-fund --loglevel=error
	$(PYTHON) hatch_build.py
	touch $@

web: $(WEB_VENDOR)/.copied

# Debian's Chromium for the web tests (Playwright drives it; no browser is ever downloaded).
chromium:
	@test -x /usr/bin/chromium || \
		( $(SUDO) apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium )

wrk:
	@command -v wrk >/dev/null 2>&1 || \
		( $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk )

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
