# ado-inventory: every command a newcomer or CI needs. See README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: install test check lint typecheck format demo bench sdk-venvs clean

install: ## create .venv and install the package with its test extras
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'

test: ## the whole test suite (what CI runs), with branch coverage of crawler/ (children included)
	rm -rf .coverage && mkdir -p .coverage
	$(PY) -m coverage run -m pytest -q
	$(PY) -m coverage combine -q
	$(PY) -m coverage report

lint:
	$(BIN)/ruff check crawler tests bench
	$(BIN)/ruff format --check crawler tests bench

typecheck:
	$(BIN)/mypy crawler

check: lint typecheck test ## ruff + mypy --strict crawler + pytest

format:
	$(BIN)/ruff format crawler tests bench
	$(BIN)/ruff check --fix crawler tests bench

demo: ## crawl a seeded emulated organization, write inventory.json, print the summary
	$(PY) -m crawler demo

bench: ## the benchmark suite (slow; not part of make test)
	$(PY) -m bench

sdk-venvs: ## the older official SDK generations for the fidelity tests (.sdk-venvs/; make test builds them too)
	$(PY) -m tests.sdk_venvs

clean:
	rm -rf $(VENV) .sdk-venvs build *.egg-info .pytest_cache .mypy_cache .ruff_cache
