"""Shared fixtures: a strict build of the book, made once per test session."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """Build the whole book strictly (every notebook executed, warnings are errors) into a temporary
    folder; return ``(html_dir, log)``. Skips where Jupyter Book is not installed (the modern venv)."""
    pytest.importorskip("jupyter_book", reason="Jupyter Book lives in the pinned venv (.venv) only")
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run(
        [str(jb), "build", str(ROOT), "--path-output", str(out), "-W", "--keep-going"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"strict book build failed:\n{log[-6000:]}"
    return out / "_build" / "html", log


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``--dist loadgroup``), keep every test that needs the built book on one
    worker, so the book is built once."""
    for item in items:
        if {"built_book", "book_pages"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("book"))
