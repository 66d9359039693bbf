# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# The issuer follows HOST and PORT so discovery and the playground stay consistent.
ISSUER ?= http://$(HOST):$(PORT)

.PHONY: run test lint bench install install-dev clean i18n i18n-extract

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: set up, migrate the SQLite database under instance/, seed demo data, serve
## (the seed prints the banner: the URLs to open, the demo credentials, the CLI)
run: install
	mkdir -p instance
	VESTIBULE_ENV=development ISSUER=$(ISSUER) $(BIN)/vestibule db upgrade
	VESTIBULE_ENV=development ISSUER=$(ISSUER) $(BIN)/vestibule seed
	VESTIBULE_ENV=development ISSUER=$(ISSUER) $(BIN)/vestibule run --host $(HOST) --port $(PORT)

## test: install the dev extra and run the whole suite (PostgreSQL too when TEST_DATABASE_URL is set)
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## bench: benchmarks, not tests: bulk creation via the API (SQLite, PostgreSQL),
## search latency over 100,000 invitations, registration with production argon2,
## outbox email delivery, and the endpoints over HTTP under gunicorn in production
## mode (requests/s and server CPU ms per request, against bare Flask; about 2 min),
## and the same endpoints' instructions per request under callgrind (about 2 min)
## (PostgreSQL at BENCH_DATABASE_URL or TEST_DATABASE_URL, default
## postgresql+psycopg://postgres@127.0.0.1:5432/test)
## The HTTP benchmark drives single-request endpoints with wrk (Debian's package, installed
## here when this runs as root with apt-get), else with Python client threads. The
## instruction counts need valgrind (Debian's package, installed here likewise).
bench: install-dev
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } \
		|| echo "wrk is not installed: the HTTP benchmark uses Python client threads"
	@command -v valgrind >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; } \
		|| echo "valgrind is not installed: no instruction counts"
	$(BIN)/python -m bench $(BENCH_ARGS)

## i18n: extract the page strings (babel.cfg) into app/translations/messages.pot, update
## each language's messages.po from it, then compile the .mo files (committed; the
## tests fail when a .mo or a catalog is behind the code)
i18n: install i18n-extract
	$(BIN)/pybabel update -i $(I18N_POT) -d app/translations --no-wrap --ignore-obsolete
	$(BIN)/pybabel compile -d app/translations --statistics

I18N_POT ?= app/translations/messages.pot
# _l and lazy_pgettext are flask_babel's lazy_gettext and lazy_pgettext.
i18n-extract:
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_pgettext:1c,2 --no-wrap \
		--add-location=file --sort-by-file --project=Vestibule \
		--copyright-holder="Vestibule maintainers" -o $(I18N_POT) .

lint: install-dev
	$(BIN)/ruff check app tests bench config.py wsgi.py
	$(BIN)/ruff format --check app tests bench config.py wsgi.py

clean:
	rm -rf $(VENV) instance/vestibule.db .pytest_cache
