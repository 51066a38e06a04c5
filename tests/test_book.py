"""The book: its configuration, its chapters on disk, and one strict build checked page by page."""

from __future__ import annotations

import importlib.util
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
# The longest code line that fits the code column at 1366 px without scrolling (0.8em monospace in a
# column of 801 px holds 99 characters of DejaVu Sans Mono; tests/test_browser.py
# checks the real boxes).
MAX_CODE_LINE = 96


def _set_ref():
    spec = importlib.util.spec_from_file_location("set_ref", ROOT / ".ci" / "set_ref.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_config_is_valid_for_jupyter_book():
    config = pytest.importorskip(
        "jupyter_book.config", reason="Jupyter Book lives in the pinned venv"
    )
    config.validate_yaml(
        CONFIG, raise_on_errors=True
    )  # misspelt keys are otherwise ignored silently


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
    assert all(not c["outputs"] and c["execution_count"] is None for c in code), (
        f"{path.name} has outputs"
    )
    first = "".join(code[0]["source"])
    assert '"google.colab" in sys.modules' in first and "pip install" in first
    assert "remove-cell" in code[0]["metadata"].get("tags", [])


def test_the_repository_and_ref_are_written_in_one_place():
    """_config.yml's repository (url, branch) is the source; setup cells, README and
    launch links agree."""
    set_ref = _set_ref()
    url, ref = set_ref.repository()
    assert (url, ref) == (CONFIG["repository"]["url"], str(CONFIG["repository"]["branch"]))
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        first = "".join(code_cells(path)[0]["source"])
        assert first == set_ref.setup_cell(nb, url, ref), (
            f"{path.name}: setup cell differs: run `make release`"
        )
        assert f"git+{url}@{ref}" in first, (
            f"{path.name}: installs from another ref than the notebook's ({ref})"
        )
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"https://colab\.research\.google\.com/github/\S+?/blob/[^/]+/", readme)
    assert links and set(links) == {set_ref.colab_url(url, ref, "")}, links


def test_setup_cells_install_the_extras_the_chapter_imports():
    for path in NOTEBOOKS:
        first = "".join(code_cells(path)[0]["source"])
        rest = "\n".join("".join(c["source"]) for c in code_cells(path)[1:])
        for extra, needles in _set_ref().EXTRAS.items():
            if any(n in rest for n in needles):
                assert re.search(rf"gnnbook\[[^\]]*\b{extra}\b", first), (
                    f"{path.name}: setup cell lacks [{extra}]"
                )


def test_code_lines_fit_the_code_column():
    """Every line of the code the site shows is at most MAX_CODE_LINE
    characters (no hidden overflow)."""
    long = []
    for path in NOTEBOOKS:
        for i, cell in enumerate(code_cells(path)):
            if "remove-cell" in cell["metadata"].get("tags", []) or "remove-input" in cell[
                "metadata"
            ].get("tags", []):
                continue
            for n, line in enumerate("".join(cell["source"]).splitlines(), 1):
                if len(line) > MAX_CODE_LINE:
                    long.append(
                        f"{path.name} code cell {i} line {n}: {len(line)} chars: "
                        f"{line.strip()[:50]}..."
                    )
    assert not long, (
        f"{len(long)} code lines longer than {MAX_CODE_LINE} characters:\n" + "\n".join(long)
    )


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
    set_ref = _set_ref()
    colab = set_ref.colab_url(*set_ref.repository(), path.relative_to(ROOT).as_posix())
    assert colab in page, f"{path.name}: no Colab launch link {colab}"


@pytest.mark.book
def test_math_and_citations_render(built_book):
    """Math reaches MathJax as math (no stray $ or \\( in the text), and citations link to a
    bibliography entry that exists."""
    html, _ = built_book
    intro = (html / (TOC["root"] + ".html")).read_text()
    assert re.search(r"Kipf.{0,40}2017", intro), "citations did not resolve"
    references = (html / "book" / "references.html").read_text()
    for path in NOTEBOOKS:
        page = (html / path.relative_to(ROOT)).with_suffix(".html").read_text()
        assert "mathjax" in page.lower(), f"{path.name}: no MathJax script"
        math = re.findall(r'<(?:span|div) class="math[^"]*">(.*?)</(?:span|div)>', page, re.DOTALL)
        assert math, f"{path.name}: no math on the page"
        assert all(m.strip().startswith(("\\(", "\\[", "\\begin")) for m in math), (
            f"{path.name}: malformed math"
        )
        body = page.split("<article", 1)[-1]
        # One element kind at a time, outermost first: code blocks hold <span>s of their own.
        for element in ("pre", "code", "script", "style"):
            body = re.sub(rf"<{element}\b[^>]*>.*?</{element}>", "", body, flags=re.DOTALL)
        body = re.sub(r'<(span|div) class="math[^"]*">.*?</\1>', "", body, flags=re.DOTALL)
        text = re.sub(r"<[^>]+>", "", body)
        assert not re.search(r"\$[^$\s][^$]{0,80}\$", text), (
            f"{path.name}: unrendered $math$ in the text"
        )
        for key in set(re.findall(r'href="references\.html#(cite-[^"]+)"', page)):
            assert f'id="{key}"' in references, (
                f"{path.name}: links to {key}, which references.html lacks"
            )
        assert "references.html#cite-" in page or "cite" not in path.read_text(), (
            f"{path.name}: citations lost"
        )
