# Two commands build and test everything: `make book`, `make test`.
PYTHON ?= python3.11
VENV := .venv
MODERN := .venv-modern
PORT ?= 8000

.PHONY: book test test-modern bench serve clean

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

book: $(VENV)/.stamp
	@echo "==> building the book (every notebook executed, warnings are errors)"
	$(VENV)/bin/jupyter-book build . -W --keep-going
	@echo "Book ready: file://$(CURDIR)/_build/html/index.html"

test: $(VENV)/.stamp
	$(VENV)/bin/python -m pytest

test-modern: $(MODERN)/.stamp
	$(MODERN)/bin/python -m pytest

bench: $(VENV)/.stamp
	$(VENV)/bin/python bench/bench_layers.py

serve:
	@test -f _build/html/index.html || { echo "no book yet: run 'make book' first"; exit 1; }
	@echo "Serving the book at http://localhost:$(PORT)/ (Ctrl-C to stop)"
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build
