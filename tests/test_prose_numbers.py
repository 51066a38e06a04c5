"""Every decimal number a chapter states in its prose is produced by the chapter itself.

A number such as "about 0.90" in a chapter's Markdown must appear, digit for digit, in that
chapter's code cells or in their executed outputs (chapters print a measured number in the cell
just above the prose that quotes it). Math, inline code, link targets, exercises and solutions
(``<details>`` blocks) are not prose here. The test executes nothing itself: it reads the
notebooks the strict book build executed (the ``built_book`` fixture) where Jupyter Book is
installed, and executes each chapter with nbclient elsewhere (the modern venv).
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(BOOK.glob("*.ipynb"))

# a decimal number that is not part of a longer dotted token (a version such as 2.1.0)
DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.]*\d)")
NOT_PROSE = [
    re.compile(r"<details>.*?</details>", re.DOTALL),  # solutions
    re.compile(r"^(```|~~~).*?^\1", re.DOTALL | re.MULTILINE),  # code, directives
    re.compile(r"\$\$.*?\$\$", re.DOTALL),  # display math
    re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.DOTALL),
    re.compile(r"\$[^$]+\$"),  # inline math
    re.compile(r"`[^`]*`"),  # code, roles
    re.compile(r"\]\([^)]*\)"),  # link targets
]
HEADING = re.compile(r"^#{1,2} (.*)$", re.MULTILINE)


def prose_of(cells: list[dict]) -> str:
    """The chapter's Markdown prose: every Markdown cell, less its exercises and references sections
    (from an "Exercises" or "References" heading to the next heading; the reference list is written
    from references.bib, its years and arXiv numbers are not measurements) and the parts in
    NOT_PROSE."""
    kept, in_exercises = [], False
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        for pattern in NOT_PROSE[:2]:  # fences first: a '#' inside code is not a heading
            text = pattern.sub(" ", text)
        pieces = HEADING.split(text)  # [before, heading, body, heading, body, ...]
        keep = [] if in_exercises else [pieces[0]]
        for title, body in zip(pieces[1::2], pieces[2::2]):
            in_exercises = title.strip().lower().startswith(("exercises", "references"))
            if not in_exercises:
                keep.append(body)
        kept.append("\n".join(keep))
    text = "\n".join(kept)
    for pattern in NOT_PROSE[2:]:
        text = pattern.sub(" ", text)
    return text


def produced_text(cells: list[dict]) -> str:
    """What the chapter's code writes down: the code cells and all their executed outputs."""
    parts = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        parts.append("".join(cell["source"]))
        for output in cell.get("outputs", []):
            parts.append("".join(output.get("text", "")))
            for mime in ("text/plain", "text/markdown", "text/html", "text/latex"):
                parts.append("".join(output.get("data", {}).get(mime, "")))
    return "\n".join(parts)


def unbacked_numbers(cells: list[dict]) -> list[str]:
    """The decimal numbers of the prose that the code and outputs never write."""
    produced = produced_text(cells)
    missing = []
    for number in dict.fromkeys(DECIMAL.findall(prose_of(cells))):
        if not re.search(rf"(?<![\d.]){re.escape(number)}(?!\d)", produced):
            missing.append(number)
    return missing


@pytest.fixture(scope="session")
def executed_dir(request):
    """Folder of executed chapter notebooks from the strict build, or None (execute here)."""
    if importlib.util.find_spec("jupyter_book") is None:
        return None
    html, _ = request.getfixturevalue("built_book")
    return html.parent / "jupyter_execute" / "book"


def executed_cells(path: Path, executed_dir: Path | None) -> list[dict]:
    if executed_dir is not None:
        cells = json.loads((executed_dir / path.name).read_text())["cells"]
        # a build that took the notebook from its execution cache leaves this copy bare
        if any(cell.get("outputs") for cell in cells):
            return cells
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return json.loads(nbformat.writes(nb))["cells"]


@pytest.mark.notebooks
@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_prose_numbers_come_from_the_chapter(path, executed_dir):
    missing = unbacked_numbers(executed_cells(path, executed_dir))
    assert not missing, (
        f"{path.name}: numbers in the prose that no code cell or output of the "
        f"chapter writes: {missing}"
    )


def _markdown(text):
    return {"cell_type": "markdown", "source": [text]}


def _code(source, printed):
    return {
        "cell_type": "code",
        "source": [source],
        "outputs": [{"output_type": "stream", "name": "stdout", "text": [printed]}],
    }


def test_the_check_finds_a_number_the_outputs_lack():
    """The extraction can fail: a changed printed digit, and only prose counts."""
    cells = [
        _code("x = measure()", "spread 0.3175\nratio 2.84\n"),
        _markdown("The spread is 0.3175 and the ratio 2.84 ($e^{0.125}$, `0.5`)."),
        _markdown(
            "## Exercises\n\nShow that 7.25 is right.\n\n## References\n\n- A, arXiv:1909.01315.\n"
        ),
    ]
    assert unbacked_numbers(cells) == []
    cells[0]["outputs"][0]["text"] = ["spread 0.3176\nratio 2.84\n"]
    assert unbacked_numbers(cells) == ["0.3175"]
    cells.append(
        _markdown(
            "## Pitfalls\n\n<details>\n<summary>Solution</summary>\n\n9.5 and 1.25\n\n</details>\n"
            "A new claim, 4.75, with DGL 2.1.0."
        )
    )
    assert unbacked_numbers(cells) == ["0.3175", "4.75"]
