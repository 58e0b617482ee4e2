# GAIA web: every set-up step a fresh Debian machine needs, in two commands (make run, make test).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install warm services stop bench lint browser clean-var

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q "torch==2.13.0"
	$(PIP) install -q -e ".[dev]"
	$(PY) manage.py warm_kernels
	@touch $(STAMP)

install: $(STAMP)

## Compile the numba kernels into the cache (var/numba-cache) so the first job does not (~15 s).
warm: $(STAMP)
	$(PY) manage.py warm_kernels

## Start the project-local PostgreSQL and Redis (run profile) and print export lines to eval.
services: $(STAMP)
	@scripts/services start run

stop:
	@scripts/services stop run
	@scripts/services stop test

## Install, start services, migrate, load the demo data, start a worker and the site; Ctrl-C stops all.
run: $(STAMP)
	@scripts/run

## Install, start the test services, run the whole suite against real PostgreSQL and Redis.
test: $(STAMP)
	@scripts/test

## Benchmarks (heavy; not part of make test). Results go to docs/benchmarks.md.
bench: $(STAMP)
	$(PIP) install -q -e ".[dev,bench]"
	@scripts/bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .
