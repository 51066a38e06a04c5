# Two commands build and test everything: `make book`, `make test`.
PYTHON ?= python3.11
VENV := .venv
MODERN := .venv-modern
PORT ?= 8000

.PHONY: book test test-modern bench serve clean vendor

# A venv is rebuilt when requirements or pyproject change (the stamp is older than them).
$(VENV)/.stamp: requirements.txt pyproject.toml
	@echo "==> creating $(VENV) (torch 2.2.1 + DGL 2.1.0 + PyG + Jupyter Book; about 2 minutes)"
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --progress-bar on --upgrade pip
	$(VENV)/bin/python -m pip install --progress-bar on -r requirements.txt
	@touch $@

$(MODERN)/.stamp: requirements-modern.txt pyproject.toml
	@echo "==> creating $(MODERN) (newest torch, numpy 2, no DGL, no PyG: Colab's stack)"
	@test -x $(MODERN)/bin/python || $(PYTHON) -m venv $(MODERN)
	$(MODERN)/bin/python -m pip install --progress-bar on --upgrade pip
	$(MODERN)/bin/python -m pip install --progress-bar on -r requirements-modern.txt
	@touch $@

# MathJax, require.js and the widget manager from npm, served from the book's _static (offline pages).
# Not in _static/ itself: Jupyter Book would add every .js file found there to every page.
VENDOR := _vendor
NPM_PACKAGES := mathjax@3.2.2 requirejs@2.3.8 @jupyter-widgets/html-manager@1.0.15
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
	  && touch $@; \
	else echo "npm not found: pages will load MathJax and widget JS from CDNs"; fi

book: $(VENV)/.stamp vendor
	@echo "==> building the book (every notebook executed, warnings are errors)"
	$(VENV)/bin/jupyter-book build . -W --keep-going
	@echo "Book ready: file://$(CURDIR)/_build/html/index.html"

test: $(VENV)/.stamp vendor
	$(VENV)/bin/ruff check src tests bench && $(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/python -m pytest -n 2

test-modern: $(MODERN)/.stamp
	$(MODERN)/bin/python -m pytest -n 2

bench: $(VENV)/.stamp
	$(VENV)/bin/python bench/bench_layers.py

serve:
	@test -f _build/html/index.html || { echo "no book yet: run 'make book' first"; exit 1; }
	@echo "Serving the book at http://localhost:$(PORT)/ (Ctrl-C to stop)"
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build
