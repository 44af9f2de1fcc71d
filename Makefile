# Accord: two commands do all set-up on a fresh Debian/Ubuntu machine with Python 3.11+.
#   make demo   run Accord with fictional demo data on SQLite, at http://127.0.0.1:8000
#   make test   install what the tests need, then lint, type-check and run every test
# A second run of either is quick: each install step is skipped while its inputs are unchanged.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMPS := $(VENV)/.stamps
DEMO_ENV := DJANGO_SETTINGS_MODULE=config.settings.demo
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint typecheck pytest demo-check bench base-packages system-packages \
	python-packages assets clean

demo: base-packages python-packages assets
	@mkdir -p var
	$(DEMO_ENV) $(PY) manage.py migrate --no-input -v 0
	$(DEMO_ENV) $(PY) manage.py demo_data
	@echo ""
	@echo "Accord is starting at http://127.0.0.1:8000/sign-in/ (demo mode, fictional data only)."
	@echo "Sign in with any username above and the password shown. Stop with Ctrl+C."
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:8000 --noreload

test: base-packages system-packages python-packages assets
	$(MAKE) --no-print-directory lint typecheck pytest demo-check

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck:
	DATABASE_URL=sqlite:///:memory: $(BIN)/mypy accord config

# The whole suite, browser tests included, against a PostgreSQL server started for it.
pytest:
	bin/with-postgres -- $(BIN)/pytest -q

# The demo path on SQLite: a fresh database, the demo data twice, a real server, a real sign-in.
demo-check:
	$(PY) bin/demo-check

bench: base-packages python-packages
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; }
	bin/with-postgres -- $(PY) -m bench

# --- installs, each guarded by a stamp of its inputs ---

# What both commands need from Debian: venv support for Python, Node.js with npm to
# build the front-end assets, and Pango for WeasyPrint's PDFs.
base-packages:
	@missing=""; \
	$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || missing="$$missing python3-venv"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	/sbin/ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0 fonts-liberation"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# What the tests need besides: PostgreSQL's server, Chromium for the browser tests and
# a Java runtime for the person index's Spark backend test.
system-packages:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi liberation || missing="$$missing fonts-liberation"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

python-packages: $(STAMPS)/python

$(STAMPS)/python: requirements/lock.txt pyproject.toml
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements/lock.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	@mkdir -p $(STAMPS) && touch $@

assets: $(STAMPS)/assets

$(STAMPS)/assets: package.json package-lock.json accord/web/assets/accord.scss accord/web/assets/build.mjs
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent build
	@mkdir -p $(STAMPS) && touch $@

clean:
	rm -rf $(VENV) node_modules var accord/web/static/vendor
