# The README's two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test lint format lock bench clean browser fuzz

# bandit: no medium or high finding (-ll) in the apps; `# nosec BXXX` only with its reason.
BANDIT := $(BIN)/bandit -q -ll -r
BANDIT_PATHS := accounts audit bankproject cards core demo ledger statements

# The venv is rebuilt only when the lock file changes (the stamp is newer otherwise).
$(BIN)/.installed: requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	touch $@

run: $(BIN)/.installed
	mkdir -p var
	@echo "Serving the bank at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	SEED_DEMO=true PYTHON=$(BIN)/python bin/start

test: $(BIN)/.installed browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BANDIT) -x '*/tests/*' $(BANDIT_PATHS)
	$(BIN)/python manage.py makemigrations --check --dry-run --verbosity 0
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	@# Not a pipe: the report's exit status is the coverage floor (fail_under in pyproject.toml).
	@total="$$($(BIN)/coverage report --format=total)" && echo "coverage: $$total %"

# Debian's Chromium for the browser tests, where this user may install it (root with apt-get);
# elsewhere the browser tests are skipped with one line saying how to enable them.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "Could not install chromium: the browser tests will be skipped"; \
	fi

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Regenerate the lock from pyproject.toml (needs uv: `pip install uv`).
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --universal --python-version 3.11 --no-header -o requirements.lock

# schemathesis against a live server on a throwaway database (bin/fuzz; .ci/run runs it).
fuzz: $(BIN)/.installed
	bin/fuzz

bench: $(BIN)/.installed
	$(BIN)/python -m bench transfers

clean:
	rm -rf $(VENV) var staticfiles .coverage
