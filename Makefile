# tradesweep: the two commands a user needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test docs lint format system-deps bench sweep-bench risk-axes-bench service-bench paper-bench indicator-compare clean clean-cache

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[dev]'
	touch $@ $(STAMP)

SERVICESTAMP := $(VENV)/.installed-service
HOST ?= 127.0.0.1
PORT ?= 8000

$(SERVICESTAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[service]'
	touch $@ $(STAMP)

## make run: the REST API and its workers on SQLite in the data dir; prints the URL and a key
## (HOST=0.0.0.0 PORT=9000 make run to change where it listens)
run: $(SERVICESTAMP)
	$(VENV)/bin/tradesweep serve --host $(HOST) --port $(PORT)

## system packages the suite needs on a bare Debian machine
system-deps:
	@bash scripts/system-deps.sh

## make test: lint (ruff, format check, mypy) and the whole suite
test: system-deps lint
	$(VENV)/bin/pytest

## make docs: run every example of README.md and docs/*.md and rewrite the sample outputs
## they show (docs/examples.md); `make test` fails while one is stale
docs: $(DEVSTAMP)
	$(PY) tests/docs/examples.py --write

## make lint: ruff, the format check and mypy on src/ (zero errors)
lint: $(DEVSTAMP)
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/ruff format --check src tests bench examples
	$(VENV)/bin/mypy src

format: $(DEVSTAMP)
	$(VENV)/bin/ruff format src tests bench examples
	$(VENV)/bin/ruff check --fix src tests bench examples

## benchmarks: print tables side by side with vectorbt and backtesting.py
bench: $(DEVSTAMP)
	$(PY) bench/backtest_bench.py

sweep-bench: $(DEVSTAMP)
	$(PY) bench/sweep_bench.py

## a sweep with stop-loss / take-profit axes next to strategy-only sweeps of the same size
risk-axes-bench: $(DEVSTAMP)
	$(PY) bench/risk_axes_bench.py

service-bench: system-deps $(DEVSTAMP)
	$(PY) bench/service_bench.py

## paper pipeline candles/s in process and on Redis, candle-to-order latency (starts its own redis-server)
paper-bench: system-deps $(DEVSTAMP)
	$(PY) bench/paper_bench.py

## the figures of docs/indicators.md: tradesweep's indicators next to TA-Lib
indicator-compare: $(DEVSTAMP)
	$(PY) bench/indicator_compare.py

## numba's on-disk kernel cache; never needed after a kernel edit (import tradesweep clears
## stale kernels, see docs/engine.md), kept as a manual extra
clean-cache:
	find src \( -name '*.nbi' -o -name '*.nbc' -o -name 'tradesweep-kernels.stamp' \) -delete

clean: clean-cache
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache build dist
