# Firebreak. `make run` and `make test` work on a fresh machine with Python 3.11+, make and apt.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MLFLOW_VERSION ?= 3.17.2
HOST ?= 127.0.0.1
PORT ?= 8080
export FIREBREAK_CONFIG ?= examples/firebreak.yaml

.PHONY: run test install lint typecheck unit servers constraints clean example-service bench

run: $(STAMP)
	$(BIN)/firebreak serve --host $(HOST) --port $(PORT)

# The example model service behind the reference Deployment API (rollback target of `make run`).
example-service: $(STAMP)
	$(BIN)/python -m examples.model_service --port 9000

test: $(STAMP) servers lint typecheck
	$(BIN)/python -m pytest

unit: $(STAMP)
	$(BIN)/python -m pytest -m "not realserver"

# Benchmarks against a real `firebreak serve` (SQLite, and PostgreSQL when installed) into
# docs/benchmarks.md; not part of `make test`. Smaller: make bench BENCH_ARGS="--notifications 2000"
bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Firebreak needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Real servers the test suite starts: Prometheus Alertmanager and PostgreSQL (Debian packages),
# and an MLflow tracking server (PyPI); Prometheus's promtool checks examples/prometheus.
APT_PACKAGES := prometheus-alertmanager postgresql prometheus
servers:
	@missing=""; \
	command -v prometheus-alertmanager >/dev/null || missing="$$missing prometheus-alertmanager"; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "installing with apt-get:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@command -v prometheus-alertmanager >/dev/null && command -v promtool >/dev/null && \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null
	@# The MLflow tracking server lives in a venv of its own: its pins must not move ours.
	@test -x .venv-mlflow/bin/mlflow || { \
	  echo "installing MLflow $(MLFLOW_VERSION) into .venv-mlflow"; \
	  $(PYTHON) -m venv .venv-mlflow && .venv-mlflow/bin/pip install --quiet mlflow==$(MLFLOW_VERSION); }

lint: $(STAMP)
	$(BIN)/ruff check bot tests migrations bench examples
	$(BIN)/ruff format --check bot tests migrations bench examples
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

constraints: $(STAMP)
	( echo '# Versions tested with Firebreak (pip install -c constraints.txt -e ".[dev]"). Regenerate with `make constraints`.'; \
	  $(BIN)/python -m pip freeze --exclude-editable ) > constraints.txt

clean:
	rm -rf $(VENV) .venv-mlflow .pytest_cache .mypy_cache .ruff_cache firebreak.db*
