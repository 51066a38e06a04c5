"""Execute every chapter notebook top to bottom on the current interpreter's stack,
within a CPU budget.

In the pinned venv the strict book build already executes every notebook, so this runs where Jupyter
Book is absent (the modern venv, Colab's stand-in) or when GNNBOOK_RUN_NOTEBOOKS=1. Every chapter
must run in at most ``CPU_BUDGET_S`` seconds of the kernel's CPU time (printed for each chapter), or
the larger budget ``CPU_BUDGETS`` grants it by name: a reader on Colab waits that long.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "book").glob("*.ipynb"))
executed_by_build = (
    importlib.util.find_spec("jupyter_book") is not None
    and os.environ.get("GNNBOOK_RUN_NOTEBOOKS") != "1"
)
CPU_BUDGET_S = 120.0
# Chapters that train on real benchmarks get more; each entry says why.
CPU_BUDGETS = {
    "when-attention-helps": 180.0,  # six models on minesweeper, tolokers, chameleon; a CSBM sweep
}
CPU_PROBE = "import time\nprint(f'kernel cpu seconds: {time.process_time():.3f}')"


def cell_errors(nb) -> list[str]:
    """'cell N: Name: message' for every error output of an executed notebook."""
    return [
        f"cell {i}: {o.get('ename')}: {o.get('evalue')}"
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]


def execute(nb, cwd: Path) -> float:
    """Run every cell, errors recorded as outputs instead of raised; return the
    kernel's CPU seconds."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb.cells.append(nbformat.v4.new_code_cell(CPU_PROBE))
    nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    ).execute()
    probe = nb.cells.pop()
    text = "".join(o.get("text", "") for o in probe.outputs if o.get("output_type") == "stream")
    assert "kernel cpu seconds:" in text, f"the CPU probe printed nothing: {probe.outputs}"
    return float(text.split("kernel cpu seconds:")[1].split()[0])


@pytest.mark.notebooks
@pytest.mark.skipif(
    executed_by_build, reason="the strict book build executes the notebooks in this venv"
)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, capsys):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    budget = CPU_BUDGETS.get(path.stem, CPU_BUDGET_S)
    cpu = execute(nb, path.parent)
    with capsys.disabled():
        print(f"\n{path.stem}: {cpu:.1f} s kernel CPU (budget {budget:.0f} s)")
    errors = cell_errors(nb)
    assert not errors, f"{path.name}: " + "; ".join(errors)
    assert cpu <= budget, f"{path.name}: {cpu:.0f} s of CPU, over the {budget:.0f} s budget"


def test_every_budget_names_a_chapter():
    """A budget for a renamed or removed chapter would silently stop applying."""
    assert set(CPU_BUDGETS) <= {p.stem for p in NOTEBOOKS}
    assert all(CPU_BUDGET_S < b <= 180 for b in CPU_BUDGETS.values())


def test_a_failing_cell_is_reported(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("1 / 0")]
    )
    cpu = execute(nb, tmp_path)
    assert cell_errors(nb) == ["cell 1: ZeroDivisionError: division by zero"]
    assert 0 < cpu < CPU_BUDGET_S
