# Two commands a new user needs (see README): `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
DB ?= data/funnel.duckdb
PORT ?= 8501

.PHONY: run serve test test-fast bench sample clean screenshots i18n-extract i18n-compile

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

$(DB): | $(VENV)/.installed
	$(PY) -m funnel sample --db $(DB) --leads 20000 --seed 7 --if-missing

sample: $(VENV)/.installed
	$(PY) -m funnel sample --db $(DB) --leads 20000 --seed 7

# This machine only (127.0.0.1): the one local user is admin, as before sign-in existed.
run: $(VENV)/.installed $(DB)
	FUNNEL_DB=$(DB) $(VENV)/bin/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT)

# Every network interface, for a room or a team: an explicit choice. Without sign-in configured
# ([auth] in .streamlit/secrets.toml, see README "Sign-in, roles and the audit trail") the app is
# read-only for everyone and says why.
ADDRESS ?= 0.0.0.0
serve: $(VENV)/.installed $(DB)
	FUNNEL_DB=$(DB) $(VENV)/bin/streamlit run app.py --server.address $(ADDRESS) --server.port $(PORT)

# Every test, the browser ones included (they need /usr/bin/chromium; .ci/run installs it).
test: $(VENV)/.installed
	$(PY) -m pytest -q

test-fast: $(VENV)/.installed
	$(PY) -m pytest -q -m "not browser"

bench: $(VENV)/.installed
	$(PY) -m funnel bench --leads 1000000

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts

# Translations (README "Languages and currency"). The app compiles the .po catalogs when it first
# needs them, so neither target is needed to run or test; extract after adding or changing messages.
I18N_KEYWORDS := -k _ -k translate:2 -k ngettext:1,2 -k ngettext_for:2,3 -k msg -k msg_n:1,2 -k N_
# (PYTHONPATH: babel.cfg names an extractor of this project, funnel.presets.prose:extract_prose_toml.)
i18n-extract: $(VENV)/.installed
	PYTHONPATH=. $(VENV)/bin/pybabel extract -F babel.cfg --no-default-keywords $(I18N_KEYWORDS) --sort-by-file \
		--project Funnelcast --omit-header -o funnel/locales/funnelcast.pot .
	$(VENV)/bin/pybabel update -i funnel/locales/funnelcast.pot -d funnel/locales -D funnelcast --no-fuzzy-matching --ignore-obsolete -w 100

i18n-compile: $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d funnel/locales -D funnelcast --statistics
