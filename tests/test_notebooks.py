"""Execute every chapter notebook top to bottom on the current interpreter's stack.

In the pinned venv the strict book build already executes every notebook, so this runs where Jupyter
Book is absent (the modern venv, Colab's stand-in) or when GNNBOOK_RUN_NOTEBOOKS=1.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "book").glob("*.ipynb"))
executed_by_build = importlib.util.find_spec("jupyter_book") is not None and os.environ.get("GNNBOOK_RUN_NOTEBOOKS") != "1"


@pytest.mark.notebooks
@pytest.mark.skipif(executed_by_build, reason="the strict book build executes the notebooks in this venv")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
