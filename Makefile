# The two commands of the README: `make serve` and `make test`. Both install what they need first.
VENV    ?= .venv
PYTHON  ?= python3
BIN      = $(VENV)/bin
STAMP    = $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
SUDO     = $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export NO_MKDOCS_2_WARNING = 1

.PHONY: serve test build check system-packages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Debian's Chromium drives the browser tests (Playwright's own browser download cannot work here);
# LibreOffice, poppler and Carlito (metric-compatible with Calibri) check the Word documents.
# Each entry is "command or file that shows it is there:Debian package".
SYSTEM_PACKAGES = chromium:chromium soffice:libreoffice-writer-nogui pdftotext:poppler-utils \
  /usr/share/fonts/truetype/crosextra/Carlito-Regular.ttf:fonts-crosextra-carlito
system-packages:
	@missing=$$(for entry in $(SYSTEM_PACKAGES); do need=$${entry%%:*}; \
	  command -v $$need >/dev/null 2>&1 || [ -e $$need ] || echo $${entry#*:}; done); \
	[ -z "$$missing" ] || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; }

serve: $(STAMP)
	$(BIN)/formkit serve --host 127.0.0.1 --port 8000

build: $(STAMP)
	$(BIN)/formkit build

check: $(STAMP)
	$(BIN)/formkit check

test: $(STAMP) system-packages
	$(BIN)/ruff check handler tests bench
	$(BIN)/pytest

clean:
	rm -rf public var .pytest_cache
