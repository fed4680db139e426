# From a fresh clone to results in two commands, with no sudo:
#   make demo   creates .venv if missing, installs the project, runs `tinygrad-edu demo`
#   make test   creates .venv if missing, installs the dev and dist extras (pytest, hypothesis;
#               mpi4py and MPICH for the data-parallel tests), runs the test suite on the
#               default backend, then on the numpy reference and on the strict backend
# Both are idempotent: an install leaves a stamp in .venv that is newer than setup.cfg and
# pyproject.toml, so a second run installs nothing until one of them changes.
#
# Variables: PYTHON (the interpreter that makes the venv, default python3), DEMO_ARGS (options
# for the demo, e.g. DEMO_ARGS="--epochs 3"), TESTS (what pytest runs, default the whole suite).

PYTHON ?= python3
VENV ?= .venv
DEMO_ARGS ?=
TESTS ?=

BIN := $(VENV)/bin
DEMO_STAMP := $(VENV)/.installed-demo
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test docs help

help:
	@echo "make demo   train the ranking network and write tinygrad-edu-out/report.html"
	@echo "make test   run the test suite on the default, numpy and strict backends"
	@echo "make docs   redraw the pictures in docs/ (needs Graphviz's dot)"

# After `make test` the dev install already holds everything the demo needs.
demo: $(if $(wildcard $(DEV_STAMP)),$(DEV_STAMP),$(DEMO_STAMP))
	$(BIN)/tinygrad-edu demo $(DEMO_ARGS)

# The same three runs as .ci/run. pytest exits 5 when it collected no tests: a failure here,
# never a silent pass.
test: $(DEV_STAMP)
	@for backend in "" numpy strict; do \
	    echo "== pytest on the $${backend:-default} backend"; \
	    env $${backend:+TINYGRAD_EDU_BACKEND=$$backend} $(BIN)/python -m pytest -q -n auto $(TESTS); \
	    status=$$?; \
	    if [ $$status -eq 5 ]; then echo "make: pytest collected no tests" >&2; exit 1; fi; \
	    if [ $$status -ne 0 ]; then exit $$status; fi; \
	done

# README's picture, drawn by the code (tests/test_readme.py checks it is up to date).
docs: $(if $(wildcard $(DEV_STAMP)),$(DEV_STAMP),$(DEMO_STAMP))
	$(BIN)/tinygrad-edu graph --example neuron --out docs/neuron.svg

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || { \
	    echo "make: tinygrad_edu needs Python 3.10 or newer; '$(PYTHON)' is" \
	         "$$($(PYTHON) --version 2>&1 || echo missing). Run: make PYTHON=python3.12 ..." >&2; \
	    exit 1; }
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	    echo "make: '$(PYTHON) -m venv' failed. On Debian/Ubuntu the venv module is a" \
	         "separate package: sudo apt-get install python3-venv" >&2; exit 1; }
	@# Editable installs from pyproject.toml need pip >= 21.3; older venvs ship older pips.
	$(BIN)/python -m pip install --quiet --upgrade pip

$(DEMO_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(DEV_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,dist]"
	@touch $@
