# Firebreak. `make run` and `make test` work on a fresh machine with Python 3.11+, make and apt.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MLFLOW_VERSION ?= 3.17.2
# uv installs what pip installs, from the same index, in seconds where pip took minutes on a
# slow 2-core machine (70 s for .venv, 120 s for MLflow's): most of CI's budget before a test ran.
UV := $(BIN)/uv
HOST ?= 127.0.0.1
PORT ?= 8080
export FIREBREAK_CONFIG ?= examples/firebreak.yaml
# pytest-xdist workers: most tests wait on sockets and servers, so more workers than cores.
# loadfile keeps a module's tests on one worker, so a module's shared server (MLflow) starts
# once (xdist_group cannot: pytest-xdist 3.8 sets a node id pytest 9 no longer reads).
JOBS ?= 4
XDIST = -n $(JOBS) --dist loadfile

.PHONY: run test install lint typecheck unit integration e2e servers constraints clean example-service demo screenshots bench

run: $(STAMP)
	$(BIN)/firebreak serve --host $(HOST) --port $(PORT)

# The example model service behind the reference Deployment API (rollback target of `make run`).
example-service: $(STAMP)
	$(BIN)/python -m examples.model_service --port 9000

# The whole loop in under two minutes: a bad model, the Prometheus alert, the incident, the
# approved rollback, the recovery, the postmortem (kept in demo-postmortems/).
# Without Prometheus and Alertmanager installed it says how, and posts their webhook itself.
demo: $(STAMP)
	$(BIN)/firebreak demo

# The README's pictures: the browser test, keeping its screenshots in docs/screenshots
# (the page draws emoji as images, as Slack does: no emoji font needed).
screenshots: $(STAMP) servers
	FIREBREAK_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -m browser -q tests/e2e

# Every layer: tests/unit (in-process only), tests/integration (PostgreSQL, Alertmanager,
# Prometheus, MLflow, `firebreak` processes), tests/e2e (Chromium, the demo).
test: $(STAMP) servers lint typecheck
	$(BIN)/python -m pytest $(XDIST)

# The fast inner loop: no servers, no child processes.
unit: $(STAMP)
	$(BIN)/python -m pytest $(XDIST) tests/unit

integration: $(STAMP) servers
	$(BIN)/python -m pytest $(XDIST) tests/integration

e2e: $(STAMP) servers
	$(BIN)/python -m pytest $(XDIST) tests/e2e

# Benchmarks against a real `firebreak serve` (SQLite, and PostgreSQL when installed) into
# docs/benchmarks.md; not part of `make test`. Smaller: make bench BENCH_ARGS="--notifications 2000"
bench: servers
	$(BIN)/python -m bench.run $(BENCH_ARGS)

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Firebreak needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt uv
	$(UV) pip install --quiet --python $(BIN)/python -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Real servers the test suite starts: Prometheus (and its promtool, which checks
# examples/prometheus), its Alertmanager and PostgreSQL, headless Chromium with its WebDriver for
# the browser tests, wrk for the benchmarks' storm and its test (Debian packages), and an MLflow
# tracking server (PyPI).
APT_PACKAGES := prometheus prometheus-alertmanager postgresql chromium chromium-driver wrk
servers: $(STAMP)
	@missing=""; \
	command -v prometheus >/dev/null || missing="$$missing prometheus"; \
	command -v prometheus-alertmanager >/dev/null || missing="$$missing prometheus-alertmanager"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
	  echo "installing with apt-get:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@command -v prometheus >/dev/null && command -v promtool >/dev/null && \
	  command -v prometheus-alertmanager >/dev/null && \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null && command -v chromedriver >/dev/null && \
	  command -v wrk >/dev/null
	@# The MLflow tracking server lives in a venv of its own: its pins must not move ours.
	@test -x .venv-mlflow/bin/mlflow || { \
	  echo "installing MLflow $(MLFLOW_VERSION) into .venv-mlflow"; \
	  $(UV) venv --quiet --python $(PYTHON) .venv-mlflow && \
	  $(UV) pip install --quiet --python .venv-mlflow/bin/python mlflow==$(MLFLOW_VERSION); }

lint: $(STAMP)
	$(BIN)/ruff check bot tests migrations bench examples tools
	$(BIN)/ruff format --check bot tests migrations bench examples tools
	$(BIN)/python tools/imports.py
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

constraints: $(STAMP)
	( echo '# Versions tested with Firebreak (pip install -c constraints.txt -e ".[dev]"). Regenerate with `make constraints`.'; \
	  $(BIN)/python -m pip freeze --exclude-editable ) > constraints.txt

clean:
	rm -rf $(VENV) .venv-mlflow .pytest_cache .mypy_cache .ruff_cache firebreak.db*
