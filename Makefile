# Docent — `make run` starts the product, `make test` runs the suite. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt
# This machine keeps the CPU build of torch on disk; a plain index lookup would fetch CUDA builds.
export PIP_FIND_LINKS ?= $(wildcard /opt/wheels)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install install-dev migrate lint bench-ingest bench-chat clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# Stamp files: reinstall only when the dependency list changes.
$(VENV)/.installed-run: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP_INSTALL) -e '.[local]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP_INSTALL) -e '.[local,dev]'
	touch $@ $(VENV)/.installed-run

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

migrate: install
	@mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0

run: migrate
	$(PY) manage.py seed_demo
	@trap 'kill 0' INT TERM; \
	$(PY) manage.py db_worker & \
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) config.asgi:application & \
	sleep 2; \
	echo ""; \
	echo "  Docent is running at http://$(HOST):$(PORT)/"; \
	echo "  Log in as demo@docent.local / docent-demo-password (or sign up a new company)."; \
	echo "  Admin: create a superuser with '$(PY) manage.py createsuperuser', then open /admin/."; \
	echo "  Press Ctrl-C to stop."; \
	echo ""; \
	wait

test: install-dev
	@mkdir -p var
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf var/test-* .pytest_cache
