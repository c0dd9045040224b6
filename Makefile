# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
DEV := DJANGO_DEBUG=true
N ?= 1000000

.PHONY: run test lint format bench load system-deps nginx gettext migrations-check clean messages compilemessages

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PIP) install -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime compilemessages
	$(DEV) $(PY) manage.py migrate --noinput
	$(DEV) $(PY) manage.py load_demo_data --if-empty
	$(DEV) $(PY) manage.py runserver 127.0.0.1:8000

# PostgreSQL 15, Chromium, gettext (msgfmt compiles the translations) and wrk (make bench)
# come from Debian's packages.
system-deps:
	@missing=""; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || missing="$$missing postgresql-15"; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing$$missing from Debian's packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing$$missing. Run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

# Debian's gettext alone, for `make run` (which needs neither PostgreSQL nor Chromium).
gettext:
	@if ! command -v msgfmt >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing gettext from Debian's packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
	  else \
	    echo "Missing gettext. Run: sudo apt-get install -y gettext"; exit 1; \
	  fi; \
	fi

test: $(VENV)/.dev system-deps compilemessages
	bash tests/run_all.sh

# Translations (README, "Languages"). `make messages` adds every new translatable
# string of the Python code, the templates and static/js to locale/*/LC_MESSAGES/*.po
# with an empty translation, and drops the ones no longer used (incidents/translations.py);
# the catalogue tests fail until each new entry is translated. `make compilemessages`
# builds the .mo files that Django reads (not kept in git).
messages: $(VENV)/.runtime gettext
	$(DEV) $(PY) manage.py update_translations

compilemessages: $(VENV)/.runtime gettext
	$(DEV) $(PY) manage.py compilemessages --ignore=.venv --ignore=staticfiles

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrations-check: $(VENV)/.dev
	$(DEV) $(PY) manage.py makemigrations --check --dry-run

bench: $(VENV)/.dev system-deps
	$(PY) bench/run.py --rows $(N)

load: $(VENV)/.dev system-deps nginx
	$(PY) bench/load.py

# nginx before the app servers in `make load`, as in production (README, "Operations").
nginx:
	@if [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing nginx-light from Debian's packages"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; \
	  else \
	    echo "Missing nginx. Run: sudo apt-get install -y nginx-light"; exit 1; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
