# `make run`: set up and serve the shop with demo data (web + jobs).
# `make test`: set up and run ruff and the whole test suite, browser tests included, then the
#   database tests again on a throwaway PostgreSQL (`make test-postgres`).

PYTHON ?= python3
VENV := .venv
PORT ?= 5000
BIN := $(VENV)/bin
# What `make test-postgres` runs on PostgreSQL: pytest arguments (files, -m expressions).
# Every test that touches the database (all but the browser tests, which run on SQLite only).
POSTGRES_TESTS ?= tests --ignore=tests/browser

.PHONY: run test test-postgres lint test-deps migrate clean try-production try-production-hosts translations translations-update

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
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
	$(BIN)/lint-imports

test: test-deps lint
	$(BIN)/pytest
	$(MAKE) --no-print-directory test-postgres

# Starts a throwaway PostgreSQL server (installed from Debian when missing), points the
# test fixtures at it through SHOP_TEST_POSTGRES_URL, runs the tests and stops it.
test-postgres: $(VENV)/.installed
	./scripts/with-test-postgres.sh $(BIN)/pytest $(POSTGRES_TESTS)

# The README's production steps on a fresh Debian 12 in a container (root; about 3 minutes).
try-production:
	python3 scripts/try-production.py

# README, Several web hosts: db, two web hosts and a balancer in four containers (root; not in `make test`).
try-production-hosts:
	python3 scripts/try-production.py --hosts

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache test-artifacts

# Translations (translations/README or the README's "Languages"): `make translations-update` extracts
# every marked message into translations/messages.pot and merges it into each language's catalogue;
# translate the new entries in translations/<language>/LC_MESSAGES/messages.po, then
# `make translations` compiles them (the .mo files are committed: a test checks they are current).
translations-update: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F translations/babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
		--add-location=file --sort-by-file --omit-header -o translations/messages.pot \
		shop.py views models forms jobs payments templates
	$(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete -i translations/messages.pot -d translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d translations
