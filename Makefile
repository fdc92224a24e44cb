# Two commands for a newcomer: `make demo` and `make test`. Both build what they need first
# (a .venv with the project, the services the tests talk to) and are safe to run again.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
export DO_NOT_TRACK := 1
export PREFECT_LOGGING_LEVEL ?= WARNING
export PREFECT_SERVER_ANALYTICS_ENABLED := false
# Prefect's ephemeral server (what the demo's flows run against) may take more than its default
# 20 s to start on a busy or slow machine; it did on 22 Nov 2026 here.
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 90

.PHONY: help demo board test stress lint typecheck pytest services clean

help:
	@echo "make demo   run a whole simulated campaign offline (outputs under var/demo)"
	@echo "make board  serve the demo's ledger on http://127.0.0.1:8750/ (after make demo)"
	@echo "make test   lint, type-check and run every test (SQLite and PostgreSQL)"
	@echo "make stress many rounds of the concurrency and crash tests (not run by CI)"

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(INSTALLED)

# Debian packages the tests use: dovecot (a real IMAP server for intake tests), LibreOffice
# (a second producer of workbooks: re-saves as xlsx, xls and ods; prints the templates, the
# summary workbook and the bulletin to PDF) and the Chinese fonts those PDFs are set in, so
# their page counts are the same on every machine; and Chromium, the real browser the board's
# browser tests drive (tests/test_board_browser.py, through Playwright's driver only); GnuPG, which
# files an archive's ballots encrypted to the office's key (tests/test_archive_ballots.py).
# Installed once, if missing.
SYSTEM_PACKAGES := dovecot-imapd libreoffice-calc-nogui libreoffice-writer-nogui fonts-noto-cjk gnupg \
	chromium

# The PostgreSQL server of this machine is started before every session; start it if not.
services:
	@bash scripts/ensure-system.sh $(SYSTEM_PACKAGES)
	@bash scripts/ensure-services.sh

demo: $(INSTALLED)
	$(BIN)/python -m demo --home var/demo

# The board (`duban board`) on the demo's ledger, as of the demo's last day; `make demo` writes
# var/demo/board.env and prints the demo account.
board: $(INSTALLED)
	@test -f var/demo/board.env || { echo "error: run make demo first"; exit 1; }
	set -a && . var/demo/board.env && set +a && $(BIN)/duban board data/example/campaign.yaml

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INSTALLED)
	$(BIN)/mypy

pytest: $(INSTALLED) services
	$(BIN)/pytest -n 2 --dist worksteal --durations=25

test: lint typecheck pytest

# Not run by CI: the concurrency and crash tests (marked stress) with many more rounds each
# (ten of every two-runs-at-once test, twenty of every crash trial) than make test's few.
stress: $(INSTALLED) services
	DUBAN_STRESS=1 $(BIN)/pytest -m stress

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
