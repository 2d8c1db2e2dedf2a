# Meta Space — the two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS ?= dev,sim

.PHONY: demo test lint setup check-toolchain clean bench

setup: $(STAMP)

check-toolchain:
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (need Python >= 3.11)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { echo "error: Python >= 3.11 is required"; exit 1; }
	@command -v gcc >/dev/null || { echo "error: gcc is missing; py-libp2p's fastecdsa compiles from source. Install it: apt-get install gcc"; exit 1; }
	@echo '#include <gmp.h>' | gcc -E -x c - >/dev/null 2>&1 || { echo "error: GMP headers are missing; py-libp2p's fastecdsa needs them. Install them: apt-get install libgmp-dev"; exit 1; }

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory check-toolchain
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[$(EXTRAS)]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/metaspace demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy wire dht matching negotiation p2p bootstrap sim metaspace

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy wire dht matching negotiation p2p bootstrap sim metaspace
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/wire.py
	$(BIN)/python bench/sim_scale.py --sizes 1000,10000

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
