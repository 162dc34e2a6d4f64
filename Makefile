# Two entry points a newcomer needs: `make serve` and `make test` (see README).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve test test-load bench bench-scale install install-test chromium libreoffice libmagic virtuoso build clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The SPARQL editor (YASGUI) comes from the npm registry, pinned in package-lock.json.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install: $(BIN)/python node_modules/.package-lock.json
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python node_modules/.package-lock.json
	$(BIN)/pip install -q -e '.[test,harvest]'

# Headless Chromium from Debian for the browser tests (issue: pages for people).
chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# libmagic for python-magic, which CKAN's DCAT parser imports (tests/test_harvest.py).
libmagic:
	@{ ldconfig -p 2>/dev/null || /sbin/ldconfig -p; } | grep -q 'libmagic\.so\.1' || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libmagic1 >/dev/null; }

# Headless LibreOffice Calc from Debian: kg template --format ods and kg build of massnahmen.ods convert with it.
libreoffice:
	@command -v soffice >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui >/dev/null; }

# Virtuoso Open Source 7 from Debian for the external-store tests (tests/stores.py starts its own
# instance on free loopback ports). Non-interactive: no DBA password given, so the package leaves its
# system service disabled (it would otherwise take ports 1111 and 8890).
virtuoso:
	@command -v virtuoso-t >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource >/dev/null; }

build: install
	$(BIN)/kg build

serve: build
	$(BIN)/kg serve --host $(HOST) --port $(PORT)

test: install-test chromium libreoffice libmagic virtuoso
	$(BIN)/pytest -q

# The load test (50 clients, 30 s, production server); CI runs it after `make test`.
test-load: install-test
	$(BIN)/pytest -q -m load tests/test_load.py

# Benchmarks, each writing its own section of docs/benchmarks.md (~40 min): SPARQL against oxigraph
# serve, rdflib-endpoint and nginx; pages and example queries at 2, 50 and 400 municipalities with
# the goals of issue 13; the build at 1, 50 and 400.
bench: install-test
	$(BIN)/pip install -q -e '.[test,bench]'
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nginx >/dev/null; }
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.pages
	$(BIN)/python -m bench.build_scale --sizes 1,50,400

# The longer runs: example queries on Virtuoso against the embedded store at 400; the build at
# 1,000 municipalities as well.
bench-scale: bench virtuoso
	$(BIN)/python -m bench.virtuoso --size 400
	$(BIN)/python -m bench.build_scale --sizes 1,50,400,1000

clean:
	rm -rf dist .kg-builds .pytest_cache
