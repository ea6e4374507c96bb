# shopadmin: `make run` sets everything up and serves the back office; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PO := $(wildcard translations/*/LC_MESSAGES/messages.po)
# Beside Babel's defaults (gettext, ngettext, pgettext, ...): the lazy forms used at import time.
# tests/unit/test_catalogues.py extracts with these same keywords.
KEYWORDS := -k _l -k lazy_gettext -k _lp:1c,2 -k lazy_pgettext:1c,2
MO := $(PO:.po=.mo)

.PHONY: run setup test lint bench translations extract-messages update-translations clean

run: setup
	$(FLASK) serve

setup: $(VENV)/.installed $(MO)
	$(FLASK) setup

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,postgres,redis,bench]"
	touch $@

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

test: $(VENV)/.installed $(MO) lint
	bash scripts/system-packages.sh chromium
	$(BIN)/python -m pytest

bench: $(VENV)/.installed $(MO)
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) test-output bench/output $(MO)
