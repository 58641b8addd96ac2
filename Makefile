# Two commands: `make run` starts everything on embedded defaults; `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test test-scaleout soak install install-dev migrate static lint browser bench clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput -v0

static: install
	$(PY) manage.py collectstatic --noinput -v0

# Web server and Celery worker in the foreground; Ctrl-C stops both (honcho).
run: migrate static
	@echo ""
	@echo "  FLAC converter: open http://$(HOST):$(PORT)/"
	@echo ""
	exec $(VENV)/bin/honcho --no-colour -f Procfile.dev start -p $(PORT)

# Debian's Chromium for the browser tests; Playwright's own browser download does not work offline.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; }

lint: install-dev
	$(VENV)/bin/ruff check .

# The suite runs under var/test, apart from a `make run` instance's database and queue.
TEST_ENV := VAR_DIR=$(CURDIR)/var/test
PYTEST := $(VENV)/bin/pytest -n 2 --dist loadgroup -m "not soak"

test: install-dev browser lint
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput -v0
	$(TEST_ENV) $(PYTEST) $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-scaleout

# The job path again on the scale-out services, when they listen on 127.0.0.1:
# PostgreSQL + Redis, then PostgreSQL + RabbitMQ.
SCALEOUT_DB := postgres://postgres@127.0.0.1:5432/test
up = (exec 3<>/dev/tcp/127.0.0.1/$(1)) 2>/dev/null
test-scaleout: install-dev
	@if $(call up,5432) && $(call up,6379); then \
	  echo "== scale-out: PostgreSQL + Redis"; \
	  $(TEST_ENV) DATABASE_URL=$(SCALEOUT_DB) CELERY_BROKER_URL=redis://127.0.0.1:6379/15 \
	    CACHE_URL=redis://127.0.0.1:6379/14 \
	    $(PYTEST) -m scaleout; \
	else echo "PostgreSQL or Redis not reachable on 127.0.0.1: scale-out run skipped"; fi
	@if $(call up,5432) && $(call up,5672); then \
	  echo "== scale-out: PostgreSQL + RabbitMQ"; \
	  $(TEST_ENV) DATABASE_URL=$(SCALEOUT_DB) CELERY_BROKER_URL=amqp://guest:guest@127.0.0.1:5672// \
	    $(PYTEST) -m scaleout; \
	else echo "PostgreSQL or RabbitMQ not reachable on 127.0.0.1: scale-out run skipped"; fi

# The long fault and fuzz runs (docs/reliability.md): more kills, more examples.
soak: install-dev
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput -v0
	$(TEST_ENV) $(VENV)/bin/pytest -n 2 --dist loadgroup -m soak $(PYTEST_ARGS)

# Every bench under bench/ (docs/performance.md); `make bench BENCH="polling history"` picks some.
bench: install-dev static
	$(PY) bench/run_all.py $(BENCH)

clean:
	rm -rf var/static var/tmp var/work
