# Two commands: `make run` (set up, build the demo base if missing, start the app) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export CRM_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test demo browser bench clean

$(BIN)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(BIN)/.test: $(BIN)/.runtime requirements-test.txt
	$(BIN)/python -m pip install -q -r requirements-test.txt
	touch $@

demo: $(BIN)/.runtime
	$(BIN)/python -m crm_logic demo --db "$(CRM_DATA_DIR)/demo.duckdb" --if-missing

run: demo
	$(BIN)/streamlit run app.py

# Debian's Chromium (tests drive it through Playwright) and a CJK font (Chinese in screenshots).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'noto.*cjk'; then \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

test: $(BIN)/.test browser
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache
