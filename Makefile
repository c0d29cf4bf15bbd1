# The two commands a new machine needs (see README): `make demo` and `make test`. Both set up first.
PY := .venv/bin/python
DEMO_OUTPUT ?= ./data

.PHONY: setup demo test lint bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(PY) beam_runner.py clocks --output $(DEMO_OUTPUT)

test: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -q

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: setup
	$(PY) bench/clocks.py

clean:
	rm -rf $(DEMO_OUTPUT) .setup-stamps
