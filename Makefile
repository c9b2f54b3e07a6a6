# Junction: the two commands are `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test lint install install-dev chromium migrate demo-users bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamp files: reinstall only when the pinned requirements change.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput

demo-users: migrate
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo_users

## run: the portal on http://127.0.0.1:$(PORT) with a Celery worker and beat, in the foreground (Ctrl-C stops all).
run: demo-users
	@echo "Junction on http://127.0.0.1:$(PORT)  (health: http://127.0.0.1:$(PORT)/healthz)"
	DJANGO_DEBUG=1 PATH="$(CURDIR)/$(BIN):$$PATH" exec $(BIN)/honcho -f Procfile.dev start

## chromium: Debian's headless Chromium for the browser tests (installed when missing and we are root).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: /usr/bin/chromium is missing and we are not root: browser tests will be skipped"; fi; }

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## test: lint, then the whole pytest suite (browser tests included).
test: install-dev chromium lint
	$(BIN)/pytest

## bench: the benchmarks in bench/ (their own venv; figures in bench/README.md). Slow: about 10 minutes.
bench/.venv/.installed: requirements.txt bench/requirements.txt
	$(PYTHON) -m venv bench/.venv
	bench/.venv/bin/pip install --quiet -r bench/requirements.txt
	touch $@

bench: bench/.venv/.installed
	bench/.venv/bin/python bench/dedupe.py

clean:
	rm -rf $(VENV) var .pytest_cache tests/artifacts
