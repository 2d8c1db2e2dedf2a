# Meta Space — the two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make demo` needs only the package; `make test` adds the dev tools, the simulator's plotting and the
# optional sentence-transformers backend (torch 2.13.0 CPU) so that its test runs too.
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test
TEST_EXTRAS ?= dev,sim,st

# The js-libp2p peer of the interop tests: npm packages pinned in tests/interop_js/package-lock.json,
# installed from the npm registry into tests/interop_js/node_modules (git-ignored), never at test time.
# Without npm this prints a notice and the interop tests skip (in CI, CI=true, they fail instead).
JS_DIR := tests/interop_js
JS_STAMP := $(JS_DIR)/node_modules/.installed

.PHONY: demo test lint setup check-toolchain clean bench interop-js

setup: $(TEST_STAMP)

check-toolchain:
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (need Python >= 3.11)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { echo "error: Python >= 3.11 is required"; exit 1; }
	@command -v gcc >/dev/null || { echo "error: gcc is missing; py-libp2p's fastecdsa compiles from source. Install it: apt-get install gcc"; exit 1; }
	@echo '#include <gmp.h>' | gcc -E -x c - >/dev/null 2>&1 || { echo "error: GMP headers are missing; py-libp2p's fastecdsa needs them. Install them: apt-get install libgmp-dev"; exit 1; }

$(BIN)/python:
	@$(MAKE) --no-print-directory check-toolchain
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[$(TEST_EXTRAS)]"
	@touch $@ $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/metaspace demo

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy wire dht matching negotiation p2p bootstrap sim metaspace

interop-js:
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(JS_STAMP); \
	else \
		echo "note: npm not found: the js-libp2p interop tests will skip (install Node.js >= 20.19 and npm)"; \
	fi

$(JS_STAMP): $(JS_DIR)/package.json $(JS_DIR)/package-lock.json
	cd $(JS_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

test: lint interop-js
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(TEST_STAMP) interop-js
	$(BIN)/python bench/wire.py
	$(BIN)/python bench/sim_scale.py --sizes 1000,10000
	$(BIN)/python bench/vs_bmuller.py
	$(BIN)/python bench/net_loopback.py --peers 20 --ops 200
	$(BIN)/python bench/soak_bootstrap.py --seconds 120
	$(BIN)/python bench/negotiation.py
	$(BIN)/python bench/matching.py --sizes 10000,100000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis artifacts $(JS_DIR)/node_modules
