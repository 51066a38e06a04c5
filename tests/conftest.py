"""Shared fixtures: a strict build of the book, made once per test session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if "PYTEST_XDIST_WORKER" in os.environ:
    # Two workers on two cores: one torch thread each, or they fight over the cores (small models
    # ran tens of times slower that way). Tests about thread counts set their own.
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """Build the whole book strictly (every notebook executed, warnings are errors) into a temporary
    folder; return ``(html_dir, log)``. Built once per run, also under pytest-xdist: the first
    worker builds, the others wait on a lock and reuse it. Skips where Jupyter Book is not installed
    (the modern venv)."""
    pytest.importorskip("jupyter_book", reason="Jupyter Book lives in the pinned venv (.venv) only")
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        shared = shared.parent  # this run's folder, the same for every xdist worker
    out, log_file = shared / "book", shared / "book.log"
    with FileLock(str(shared / "book.lock")):
        if not log_file.exists():
            jb = Path(sys.executable).with_name("jupyter-book")
            proc = subprocess.run(
                [str(jb), "build", str(ROOT), "--path-output", str(out), "-W", "--keep-going"],
                capture_output=True,
                text=True,
                cwd=ROOT,
                env={**os.environ, "PYTHONHASHSEED": "0"},
            )
            log_file.write_text(f"{proc.returncode}\n{proc.stdout}{proc.stderr}")
    status, log = log_file.read_text().split("\n", 1)
    assert status == "0", f"strict book build failed:\n{log[-6000:]}"
    return out / "_build" / "html", log


def pytest_sessionfinish(session):
    """The fuzz tests' outcome counts, written once per process (see tests/fuzzing.py)."""
    fuzzing = sys.modules.get("fuzzing")
    if fuzzing is not None:
        fuzzing.write_counts()
