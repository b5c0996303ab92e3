# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test test-sqlite test-postgres install translations lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev,redis]"
	touch $@

install: $(VENV)/.installed translations

translations: $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d helpdesk/translations

## run: virtualenv, install, migrate, demo data (empty database only), web app + scheduler
run: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	@echo "Serving on http://127.0.0.1:$(PORT) (web app + scheduler). Ctrl-C stops both."
	@trap 'kill 0' INT TERM EXIT; \
	HELPDESK_PORT=$(PORT) $(BIN)/python -m helpdesk.scheduler & \
	HELPDESK_PORT=$(PORT) $(FLASK) run --host 127.0.0.1 --port $(PORT)

## test: the whole suite on SQLite, and on PostgreSQL when HELPDESK_TEST_PG_URL is set
## (one pytest-xdist worker per core; a module's tests stay on one worker, so a module's shared
## world is built once: see tests/conftest.py)
## (bytecode is cached even where the environment says not to: about 35 tests start the app in a
## fresh process, and compiling every module again each time cost about 5 % of the run)
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -q -n auto --dist loadscope
test: install
	$(PYTEST)
	@if [ -n "$$HELPDESK_TEST_PG_URL" ]; then \
		echo "== the same suite on PostgreSQL"; \
		HELPDESK_TEST_DATABASE_URL="$$HELPDESK_TEST_PG_URL" $(PYTEST); \
	else \
		echo "(PostgreSQL run skipped: set HELPDESK_TEST_PG_URL, as .ci/run does)"; \
	fi

## lint: ruff, and the import contract of docs/architecture.md (pyproject.toml, [tool.importlinter])
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

## bench: the side-by-side under wrk (bench/side.py): this project, the one-insert floor and, with
## BENCH_PEER=1, django-helpdesk 2.6.1 in a venv of its own; with HELPDESK_BENCH_PG_URL, the same on
## PostgreSQL with 2 and 4 workers; the table goes to docs/benchmarks.md (the seeded database is
## reused when it exists). Then: seed N tickets (default 100000) and measure under gunicorn; one escalation sweep with
## 1 % of the tickets due (same database); then inbound email
## throughput through `mail import` and one `mail fetch` pass (see docs/benchmarks.md)
TICKETS ?= 100000
MAIL_MESSAGES ?= 1000
bench: install
	$(BIN)/python -m bench.side --tickets $(TICKETS)
	$(BIN)/python -m bench.run --tickets $(TICKETS) --reuse
	$(BIN)/python -m bench.sweep --due-share 0.01 --db $${TMPDIR:-/tmp}/helpdesk-bench/bench-$(TICKETS).db
	$(BIN)/python -m bench.mail --fetch $(MAIL_MESSAGES)

## extract and update the translation catalogs (pt_BR, es) after adding strings
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o helpdesk/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i helpdesk/translations/messages.pot -d helpdesk/translations --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance .pytest_cache
