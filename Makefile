# WaveStack: `make dev` runs the whole stack, `make test` runs the whole suite.
# Both install what they need first (venv, pinned packages, Kafka jars, ffmpeg,
# PostgreSQL) and stop what they started.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
WITH_STACK := bash deploy/scripts/with-stack.sh
PYTEST_ARGS ?=
CODE := schemas api streams clipper projections vault wavestack client probes tests

.PHONY: dev test bench lint install stack-install start stop clean cluster cluster-stop

$(VENV)/.installed: requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

install: $(VENV)/.installed stack-install

stack-install:
	@bash deploy/scripts/stack.sh install

dev: install
	@$(WITH_STACK) $(BIN)/wavestack dev

test: install lint
	@WAVESTACK_STACK_PG_FSYNC=off $(WITH_STACK) $(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy $(CODE)

bench: install
	@WAVESTACK_STACK_PG_FSYNC=off $(WITH_STACK) $(BIN)/python -m tests.bench

start: install
	@bash deploy/scripts/stack.sh start

stop:
	@bash deploy/scripts/stack.sh stop

# A 3-node Kafka cluster beside the dev broker (docs/operations.md#scaling-out);
# `eval "$$(bash deploy/scripts/stack.sh cluster env)"` points the processes at it.
cluster: install
	@bash deploy/scripts/stack.sh cluster start

cluster-stop:
	@bash deploy/scripts/stack.sh cluster stop

clean: stop
	rm -rf .stack $(VENV)
