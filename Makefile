# The two commands of the README: `make serve` and `make test`. Both install what they need first:
# serving needs the package and its runtime dependencies only, the tests add the `test` extras.
# Each install is remembered by a stamp named for pyproject.toml's checksum, so it runs again when
# the dependencies change.
VENV    ?= .venv
PYTHON  ?= python3
BIN      = $(VENV)/bin
VERSION  = $(shell cksum pyproject.toml | cut -d' ' -f1)
SERVE_STAMP = $(VENV)/.installed-serve-$(VERSION)
TEST_STAMP  = $(VENV)/.installed-test-$(VERSION)
PIP      = $(BIN)/python -m pip --quiet --disable-pip-version-check
SUDO     = $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export NO_MKDOCS_2_WARNING = 1

.PHONY: serve test build check system-packages clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
	  { echo "Formulärkit needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(SERVE_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	rm -f $(VENV)/.installed-serve-*
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(SERVE_STAMP) $@

# Debian's Chromium drives the browser tests (Playwright's own browser download cannot work here);
# LibreOffice, poppler and Carlito (metric-compatible with Calibri) check the Word documents.
# PostgreSQL (the tests start a throw-away cluster of their own) and Redis serve the integration tests;
# Java and npm bring the W3C Nu HTML Checker.
# Each entry is "command or file that shows it is there:Debian package".
SYSTEM_PACKAGES = chromium:chromium soffice:libreoffice-writer-nogui pdftotext:poppler-utils \
  /usr/share/fonts/truetype/crosextra/Carlito-Regular.ttf:fonts-crosextra-carlito \
  /usr/lib/postgresql/*/bin/initdb:postgresql redis-server:redis-server \
  java:default-jre-headless npm:npm
system-packages:
	@missing=$$(for entry in $(SYSTEM_PACKAGES); do need=$${entry%%:*}; \
	  command -v $$need >/dev/null 2>&1 || [ -e $$need ] || echo $${entry#*:}; done); \
	[ -z "$$missing" ] || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; }

serve: $(SERVE_STAMP)
	$(BIN)/formkit serve --host 127.0.0.1 --port 8000

build: $(SERVE_STAMP)
	$(BIN)/formkit build

check: $(SERVE_STAMP)
	$(BIN)/formkit check

# The W3C Nu HTML Checker (tests/test_html_checker.py), from npm into a local folder; it runs on the system's Java.
VNU_VERSION = 26.9.27
VNU_JAR     = .tools/node_modules/vnu-jar/build/dist/vnu.jar
$(VNU_JAR):
	npm install --prefix .tools --no-save --no-audit --no-fund --silent vnu-jar@$(VNU_VERSION)

test: $(TEST_STAMP) system-packages $(VNU_JAR)
	$(BIN)/ruff check handler tests bench
	$(BIN)/pytest -n auto --dist loadfile

clean:
	rm -rf public var .pytest_cache
