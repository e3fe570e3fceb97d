# GridAtlas — two commands matter: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
SYSTEM_PACKAGES := chromium fonts-noto-cjk fonts-wqy-microhei
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: run test setup system static lint demo wuchang bench clean

## Serve the app on the bundled demo dataset (or $GRIDATLAS_DATA).
run: setup
	$(PY) -m streamlit run app.py --server.port $(PORT)

## Set up everything, then run the linter and every test (browser tests included).
test: setup
	$(PY) -m ruff check .
	$(PY) -m pytest

setup: system $(VENV)/.installed static/.built

## Debian packages: Chromium for the browser tests, Noto CJK so Chinese renders, WenQuanYi Micro Hei for the PDFs.
system:
	@if ! dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1; then \
	  echo "installing $(SYSTEM_PACKAGES)"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $(SYSTEM_PACKAGES); \
	fi

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
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

## Benchmarks on both datasets; figures go to bench/RESULTS.md.
bench: setup wuchang
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) static .pytest_cache .ruff_cache
