# Two commands: `make run` serves the archive, `make test` runs the suite.
# Both build .venv/ first; nothing else needs installing by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format browser db-stop seed clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python >= 3.11 is required") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_articles fixtures/seeds
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo "Serving the archive at http://$(HOST):$(PORT)/ (admin: http://$(HOST):$(PORT)/admin/)"
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) archive.wsgi

# The tests of everything that searches, run a second time on the tantivy backend.
SEARCH_TESTS := tests/test_search.py tests/test_search_api.py tests/test_api.py \
	tests/test_typed_queries.py tests/test_search_stories.py \
	tests/test_exports.py tests/test_feeds.py tests/test_pages.py tests/test_xss.py \
	tests/test_load_articles.py tests/browser

test: install browser
	$(BIN)/python -m pytest
	SEARCH_BACKEND=tantivy $(BIN)/python -m pytest $(SEARCH_TESTS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Headless Chromium for the browser tests (Debian's package; Playwright drives it).
browser:
	@scripts/ensure-chromium

db-stop: install
	$(BIN)/python -m archive.embedded_db stop

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
