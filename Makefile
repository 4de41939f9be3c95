# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install web worker lint bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

install: $(VENV)/.installed

.env:
	@cp .env.example .env
	@echo "SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" >> .env
	@echo "Created .env from .env.example (DEBUG on, a fresh SECRET_KEY): put your tokens there."

## Set up and run the app: web server and django-q worker together, on http://$(HOST):$(PORT)/
run: install .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_schedules
	$(BIN)/python manage.py ensure_admin
	@echo ""
	@echo "  Dashboard: http://$(HOST):$(PORT)/   (Ctrl-C stops the web server and the worker)"
	@echo ""
	@$(BIN)/python manage.py qcluster & qpid=$$!; \
	  trap 'kill $$qpid 2>/dev/null; wait $$qpid' EXIT; \
	  $(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

## Set up and run the tests (PostgreSQL when DATABASE_URL names it, else SQLite).
test: install
	ENV_FILE=/dev/null $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
