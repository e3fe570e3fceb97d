# GridAtlas — two commands matter: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
SYSTEM_PACKAGES := chromium fonts-noto-cjk fonts-wqy-microhei postgresql-15 postgresql-15-postgis-3
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: run test setup system static lint demo wuchang wuhan bench clean

## Serve the app on the bundled demo dataset (or $GRIDATLAS_DATA).
run: setup
	$(PY) -m ui.serve --server.port $(PORT)

## Set up everything, then run the linter and every test (browser tests included); storage and
## analysis tests run against the GeoPackage and against a throwaway PostGIS cluster (scripts/pg.sh).
test: setup
	$(PY) -m ruff check .
	scripts/pg.sh run -- $(PY) -m pytest

setup: system $(VENV)/.installed static/.built

## Debian packages: Chromium for the browser tests, Noto CJK so Chinese renders, WenQuanYi Micro Hei
## for the PDF reports, PostgreSQL with PostGIS for the city-scale store (the tests start a throwaway
## cluster of their own).
system:
	@if ! dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1; then \
	  echo "installing $(SYSTEM_PACKAGES)"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $(SYSTEM_PACKAGES); \
	fi

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

## Leaflet and the other scripts/styles the maps load, served by the app itself.
static/.built: $(VENV)/.installed ui/assets.py
	$(PY) -m ui.assets
	touch $@

static: static/.built

lint: setup
	$(PY) -m ruff check .

## Rebuild the bundled demo dataset (deterministic).
demo: setup
	$(PY) cli.py demo --scale shifeng --out data/shifeng_demo.gpkg

## Build the Wuchang-scale dataset into cache/ (not committed; rebuilt only when the generator changes).
wuchang: setup cache/wuchang.gpkg

cache/wuchang.gpkg: geo/demo.py geo/_demo_specs.py data/district_outlines_gcj02.geojson
	$(PY) cli.py demo --scale wuchang --out $@

## Build the city dataset (Wuhan's 13 districts, ~20,000 grids, 10 M cases) into cache/ (not committed).
wuhan: setup cache/wuhan.gpkg

cache/wuhan.gpkg: geo/demo.py geo/demo_city.py geo/_demo_specs.py data/wuhan_districts_gcj02.geojson
	$(PY) cli.py demo --scale wuhan --out $@

## Benchmarks on both datasets; figures go to bench/RESULTS.md.
bench: setup wuchang
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) static .pytest_cache .ruff_cache
