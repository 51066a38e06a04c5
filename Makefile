# Two commands build and test everything: `make book`, `make test`.
# The pinned stack (torch 2.2.1, DGL 2.1.0) has wheels for Python 3.11 and 3.12: use whichever is here.
SUPPORTED_PYTHONS := python3.11 python3.12 python3
PYTHON ?= $(shell for p in $(SUPPORTED_PYTHONS); do \
  $$p -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12)))' >/dev/null 2>&1 && { command -v $$p; break; }; done)
VENV := .venv
MODERN := .venv-modern
PORT ?= 8000

.PHONY: book test test-fast test-modern bench serve clean vendor python release

python:
	@test -n "$(PYTHON)" || { echo "No supported Python found: install Python 3.11 or 3.12 (e.g. 'sudo apt install python3.12-venv'," \
	  "or from https://www.python.org/downloads/), or run 'make PYTHON=/path/to/python3.12 ...'"; exit 1; }
	@$(PYTHON) -c 'import sys; ok = sys.version_info[:2] in ((3, 11), (3, 12)); print("==> using", sys.executable, sys.version.split()[0]) if ok else sys.exit(f"{sys.executable} is Python {sys.version.split()[0]}: the pinned stack needs 3.11 or 3.12")'

# A venv is rebuilt when requirements or pyproject change (the stamp is older than them).
$(VENV)/.stamp: requirements.txt pyproject.toml
	@echo "==> creating $(VENV) (torch 2.2.1 + DGL 2.1.0 + PyG + Jupyter Book; about 2 minutes)"
	@test -x $(VENV)/bin/python || { $(MAKE) --no-print-directory python && $(PYTHON) -m venv $(VENV); }
	$(VENV)/bin/python -m pip install --progress-bar on --upgrade pip
	$(VENV)/bin/python -m pip install --progress-bar on -r requirements.txt
	@touch $@

$(MODERN)/.stamp: requirements-modern.txt pyproject.toml
	@echo "==> creating $(MODERN) (newest torch, numpy 2, no DGL, no PyG: Colab's stack)"
	@test -x $(MODERN)/bin/python || { $(MAKE) --no-print-directory python && $(PYTHON) -m venv $(MODERN); }
	$(MODERN)/bin/python -m pip install --progress-bar on --upgrade pip
	$(MODERN)/bin/python -m pip install --progress-bar on -r requirements-modern.txt
	@touch $@

# MathJax, require.js and the widget manager from npm, served from the book's _static (offline pages).
# Not in _static/ itself: Jupyter Book would add every .js file found there to every page.
VENDOR := _vendor
# axe-core is for the browser tests' accessibility checks only (never loaded by the book's pages).
NPM_PACKAGES := mathjax@3.2.2 requirejs@2.3.8 @jupyter-widgets/html-manager@1.0.15 axe-core@4.10.3
vendor: $(VENDOR)/.stamp
$(VENDOR)/.stamp: Makefile book/_ext/widgets-offline.js
	@if command -v npm >/dev/null 2>&1; then \
	  echo "==> fetching $(NPM_PACKAGES) from npm for offline pages"; \
	  npm install --no-save --no-audit --no-fund --loglevel=error --prefix _build/npm $(NPM_PACKAGES) \
	  && rm -rf $(VENDOR) && mkdir -p $(VENDOR) \
	  && cp -r _build/npm/node_modules/mathjax/es5 $(VENDOR)/mathjax \
	  && cp _build/npm/node_modules/requirejs/require.js $(VENDOR)/require.js \
	  && mkdir -p $(VENDOR)/@jupyter-widgets/html-manager \
	  && cp -r _build/npm/node_modules/@jupyter-widgets/html-manager/dist $(VENDOR)/@jupyter-widgets/html-manager/ \
	  && cp book/_ext/widgets-offline.js $(VENDOR)/ \
	  && mkdir -p $(VENDOR)/axe-core && cp _build/npm/node_modules/axe-core/axe.min.js $(VENDOR)/axe-core/ \
	  && touch $@; \
	else echo "npm not found: pages will load MathJax and widget JS from CDNs"; fi

book: $(VENV)/.stamp vendor
	@echo "==> building the book (every notebook executed, warnings are errors)"
	$(VENV)/bin/jupyter-book build . -W --keep-going
	@echo "Book ready: file://$(CURDIR)/_build/html/index.html"

test: $(VENV)/.stamp vendor
	$(VENV)/bin/ruff check src tests bench && $(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/python -m pytest -n 2

# The pinned stack's imports and unit tests, no book build, no browser (CI's Python 3.12 leg):
# `make test-fast PYTHON=python3.12 VENV=_build/venv-py312`.
test-fast: $(VENV)/.stamp
	$(VENV)/bin/python -c "import torch, dgl, torch_geometric, jupyter_book, gnnbook, sys; print('imports ok on Python', sys.version.split()[0])"
	$(VENV)/bin/python -m pytest -n 2 -m "not book and not browser and not notebooks" tests/test_ops_fast.py tests/test_graph.py tests/test_nn_layers.py tests/test_book.py tests/test_jupyter_markup.py

test-modern: $(MODERN)/.stamp
	$(MODERN)/bin/python -m pytest -n 2

bench: $(VENV)/.stamp
	$(VENV)/bin/python bench/bench_layers.py

# Point the setup cells, README and launch buttons at one ref (_config.yml's repository.branch):
# `make release REF=v0.2.0` before tagging v0.2.0, `make release REF=main` after.
release: | python
	$(PYTHON) .ci/set_ref.py $(REF)

serve:
	@test -f _build/html/index.html || { echo "no book yet: run 'make book' first"; exit 1; }
	@echo "Serving the book at http://localhost:$(PORT)/ (Ctrl-C to stop)"
	$(VENV)/bin/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build
