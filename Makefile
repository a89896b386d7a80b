# The two commands of the README: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test fuzz lint hadolint smoke format bench bench-api bench-audit clean lock

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the lock file changes; --require-hashes keeps installs reproducible.
$(STAMP): requirements.lock | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	touch $(STAMP)

setup: $(STAMP)
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input --verbosity 0

run: setup
	$(PY) manage.py ensure_admin
	$(PY) manage.py runserver 127.0.0.1:8000

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)
	$(MAKE) fuzz

# schemathesis against a live gunicorn: any 5xx fails.
fuzz: $(STAMP)
	$(PY) scripts/fuzz_api.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) hadolint

hadolint: $(STAMP)
	$(VENV)/bin/hadolint --failure-threshold warning Dockerfile

# The Docker image's command, run from the checkout on 127.0.0.1 (no Docker engine needed):
# SQLite, or a database of its own on the server of DATABASE_URL when that is set.
smoke: $(STAMP)
	$(PY) scripts/smoke_image.py

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup
	$(PY) bench/mint.py

# The REST API under gunicorn and wrk (apt-get install wrk), on PostgreSQL.
bench-api: setup
	$(PY) bench/api.py

# The report, lists and exports at a million tokens, on SQLite and PostgreSQL (seeds once).
bench-audit: setup
	$(PY) bench/audit.py

# Regenerate the lock files after changing the dependencies in pyproject.toml: with the
# development tools (make, CI) and without them (the Docker image), the same versions.
lock: | $(PY)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes \
		--python-version 3.11 -o requirements.lock
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 \
		--constraint requirements.lock -o requirements.prod.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
