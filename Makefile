# shopadmin: `make run` sets everything up and serves the back office; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
# The suite runs in this many processes (pytest-xdist; each has its own databases).
TEST_WORKERS ?= 2
PO := $(wildcard translations/*/LC_MESSAGES/messages.po)
# Beside Babel's defaults (gettext, ngettext, pgettext, ...): the lazy forms used at import time.
# tests/unit/test_catalogues.py extracts with these same keywords.
KEYWORDS := -k _l -k lazy_gettext -k _lp:1c,2 -k lazy_pgettext:1c,2
MO := $(PO:.po=.mo)

.PHONY: run setup test lint lock bench translations extract-messages update-translations clean

run: setup
	$(FLASK) serve

setup: $(VENV)/.installed $(MO)
	$(FLASK) setup

# constraints.txt pins every package to the version CI tested (`make lock` renews it).
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,postgres,redis,bench]"
	touch $@

# Resolve pyproject.toml's ranges afresh in a new environment and pin the result.
lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet -e ".[test,postgres,redis,bench]"
	{ sed -n '/^#/p' constraints.txt; .venv-lock/bin/python -m pip freeze --exclude-editable; } \
		> constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .venv-lock

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile --statistics -d translations -l $*

translations: $(MO)

# Collect the strings from code and templates into translations/messages.pot.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg $(KEYWORDS) --no-location --sort-output \
		--ignore-dirs ".* __pycache__ test-output instance" \
		--project shopadmin -o translations/messages.pot .

# Merge new strings into every catalogue; translate them, then `make translations`.
update-translations: extract-messages
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching \
		--ignore-obsolete --width 100
	$(BIN)/python scripts/fill_english.py translations/en/LC_MESSAGES/messages.po

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/mypy  # over shopadmin/ (pyproject.toml's [tool.mypy])

test: $(VENV)/.installed $(MO) lint
	bash scripts/system-packages.sh chromium
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

bench: $(VENV)/.installed $(MO)
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) test-output bench/output $(MO)
