# `make run`: set up and serve the shop with demo data (web + jobs).
# `make test`: set up and run ruff and the whole test suite, browser tests included.

PYTHON ?= python3
VENV := .venv
PORT ?= 5000
BIN := $(VENV)/bin

.PHONY: run test lint test-deps migrate clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

run: $(VENV)/.installed
	$(BIN)/flask --app shop migrate
	$(BIN)/flask --app shop demo --if-empty
	@echo "Serving the shop at http://127.0.0.1:$(PORT) (Ctrl-C stops web and jobs)"
	$(BIN)/honcho start --port $(PORT)

migrate: $(VENV)/.installed
	$(BIN)/flask --app shop migrate

test-deps: $(VENV)/.installed
	./scripts/install-test-deps.sh

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: test-deps lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache test-artifacts
