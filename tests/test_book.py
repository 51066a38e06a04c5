"""The book: its configuration, its chapters on disk, and one strict build checked page by page."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def toc_files() -> list[str]:
    files = [TOC["root"]]
    for part in TOC.get("parts", [{"chapters": TOC.get("chapters", [])}]):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def source_of(doc: str) -> Path:
    matches = [p for p in ROOT.glob(doc + ".*") if p.suffix in (".md", ".ipynb")]
    assert len(matches) == 1, f"{doc}: expected one .md or .ipynb, found {matches}"
    return matches[0]


NOTEBOOKS = [source_of(doc) for doc in toc_files() if source_of(doc).suffix == ".ipynb"]


def test_config_is_valid_for_jupyter_book():
    config = pytest.importorskip("jupyter_book.config", reason="Jupyter Book lives in the pinned venv")
    config.validate_yaml(CONFIG, raise_on_errors=True)  # misspelt keys are otherwise ignored silently


def test_config_is_strict():
    assert CONFIG["only_build_toc_files"] is True
    assert CONFIG["execute"]["execute_notebooks"] in ("force", "cache")
    assert CONFIG["execute"].get("allow_errors", False) is False
    assert CONFIG["execute"]["timeout"] > 0
    assert {"dollarmath", "amsmath"} <= set(CONFIG["parse"]["myst_enable_extensions"])
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


def test_every_toc_entry_exists_and_every_chapter_is_in_the_toc():
    listed = {source_of(doc) for doc in toc_files()}
    on_disk = set((ROOT / "book").glob("*.ipynb")) | set((ROOT / "book").glob("*.md"))
    assert on_disk <= listed, f"not in _toc.yml: {sorted(p.name for p in on_disk - listed)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_are_stored_without_outputs_and_start_with_the_colab_cell(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code), f"{path.name} has outputs"
    first = "".join(code[0]["source"])
    assert '"google.colab" in sys.modules' in first and "pip install" in first
    assert "remove-cell" in code[0]["metadata"].get("tags", [])


@pytest.mark.book
def test_strict_build_has_every_page_and_no_failed_cell(built_book):
    html, log = built_book
    assert "Executing notebook failed" not in log
    for doc in toc_files():
        page = html / (doc + ".html")
        assert page.exists(), f"{doc} was not built"
        text = page.read_text()
        assert "Traceback (most recent call last)" not in text, f"{doc}: a cell raised"
        assert "output traceback" not in text, f"{doc}: a cell shows an error"


@pytest.mark.book
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_code_chapters_link_to_colab(built_book, path):
    html, _ = built_book
    page = (html / path.relative_to(ROOT)).with_suffix(".html").read_text()
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    colab = f"https://colab.research.google.com/github/{repo}/blob/main/{path.relative_to(ROOT).as_posix()}"
    assert colab in page, f"{path.name}: no Colab launch link {colab}"


@pytest.mark.book
def test_math_and_citations_render(built_book):
    html, _ = built_book
    intro = (html / (TOC["root"] + ".html")).read_text()
    assert re.search(r"Kipf.{0,40}2017", intro), "citations did not resolve"
