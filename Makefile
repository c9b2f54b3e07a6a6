# Junction: the two commands are `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT
# honcho gives each process its own PORT: the demo's traffic needs the web server's.
export JUNCTION_WEB_PORT := $(PORT)

.PHONY: run test lint install install-dev peers tryton migrate demo-users demo-code demo-setup bench clean

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

## demo-code: the demo admin's current two-factor code (Administrators must use 2FA; docs/security.md)
demo-code: install
	@DJANGO_DEBUG=1 $(BIN)/python manage.py demo_totp

# The demo landscape (a local Tryton ERP and the peers around it) runs unless JUNCTION_DEMO=0.
JUNCTION_DEMO ?= 1
export JUNCTION_DEMO
ifeq ($(JUNCTION_DEMO),0)
PROCESSES := web worker beat
DEMO_SETUP :=
else
PROCESSES := web worker beat erp traffic
DEMO_SETUP := demo-setup
endif

demo-setup: demo-users tryton
	DJANGO_DEBUG=1 $(BIN)/python manage.py demo setup

## run: the portal on http://127.0.0.1:$(PORT) with a Celery worker and beat, and the demo
## landscape (JUNCTION_DEMO=0 leaves it out), in the foreground (Ctrl-C stops all).
run: demo-users $(DEMO_SETUP)
	@echo "Junction on http://127.0.0.1:$(PORT)  (health: http://127.0.0.1:$(PORT)/healthz)"
	DJANGO_DEBUG=1 PATH="$(CURDIR)/$(BIN):$$PATH" exec $(BIN)/honcho -f Procfile.dev start $(PROCESSES)

## peers: what tests talk to besides the services: Debian's headless Chromium (browser
## tests), openssh-server (the files connector's SFTP peer), json-server from npm (the
## REST connector's peer). Debian packages are installed when missing and we are root.
APT_PEERS := chromium:/usr/bin/chromium openssh-server:/usr/sbin/sshd
peers: tests/peers/node_modules tryton
	@for peer in $(APT_PEERS); do pkg=$${peer%%:*}; bin=$${peer#*:}; \
	  [ -x "$$bin" ] && continue; \
	  if [ "$$(id -u)" = 0 ]; then echo "installing Debian's $$pkg"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkg >/dev/null; \
	  else echo "note: $$bin is missing and we are not root: tests that need $$pkg will be skipped"; fi; done

tests/peers/node_modules: tests/peers/package.json tests/peers/package-lock.json
	@command -v npm >/dev/null 2>&1 && npm ci --prefix tests/peers --no-audit --no-fund --loglevel=error \
	  && touch $@ || echo "note: npm is missing: the REST connector's tests will be skipped"

## tryton: the Tryton ERP (the Tryton connector's peer and the demo's ERP) in a venv of
## its own, from demo/tryton-requirements.txt; reinstalled only when that file changes.
tryton: .venv-tryton/.installed
.venv-tryton/.installed: demo/tryton-requirements.txt
	$(PYTHON) -m venv .venv-tryton
	.venv-tryton/bin/pip install --quiet -r demo/tryton-requirements.txt
	touch $@

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## test: lint, then the whole pytest suite (browser tests included) in TEST_WORKERS pytest-xdist
## processes (TEST_WORKERS=0: in one process). tests/parallel.py keeps the workers apart.
TEST_WORKERS ?= 2
test: install-dev peers lint
	$(BIN)/pytest -n $(TEST_WORKERS)

## bench: the benchmarks in bench/ (their own venv; figures in bench/README.md). Slow: about 10 minutes.
bench/.venv/.installed: requirements.txt bench/requirements.txt
	$(PYTHON) -m venv bench/.venv
	bench/.venv/bin/pip install --quiet -r bench/requirements.txt
	touch $@

bench: bench/.venv/.installed
	bench/.venv/bin/python bench/dedupe.py

clean:
	rm -rf $(VENV) var .pytest_cache tests/artifacts
