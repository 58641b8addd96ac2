# Two commands: `make run` starts everything on embedded defaults; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT

.PHONY: run test install install-dev migrate static lint browser bench soak clean

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

test: install-dev browser static lint
	$(VENV)/bin/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: install-dev
	$(PY) bench/engine.py

clean:
	rm -rf var/static var/tmp var/work
