"""The chapters read well in plain Jupyter and Colab, which render Markdown cells as CommonMark (+
tables) with no MyST: no directive or role syntax may show, solutions stay folded in ``<details>``,
and each chapter's list of references is the one ``book/_ext/citations.py`` writes from
``references.bib``.

Each Markdown cell is rendered with markdown-it-py's CommonMark preset (what JupyterLab's and
Colab's renderers implement) and the visible text (outside code) is searched.
"""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

markdown_it = pytest.importorskip(
    "markdown_it", reason="markdown-it-py renders the cells as Jupyter does"
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
# MyST syntax that plain Markdown shows as text: roles, directives (backtick or
# colon fences), options
RAW_MYST = re.compile(
    r"\{(?:cite|glue|term|ref|doc|numref|eq|math|bibliography|admonition|note|warning|tip)[^}]*\}"
    r"|^:{3,}|^:[\w-]+:\s|^\(\w[\w-]*\)=",
    re.MULTILINE,
)
RENDER = markdown_it.MarkdownIt("commonmark").enable("table")


class VisibleText(HTMLParser):
    """Text a reader sees (code and preformatted blocks apart), and each 'Solution' label's
    enclosing tags."""

    def __init__(self):
        super().__init__()
        self.stack, self.text, self.solutions = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag not in ("br", "hr", "img", "input"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if "code" in self.stack or "pre" in self.stack:
            return
        self.text.append(data)
        if re.search(r"\bSolutions?\b", data):  # a label, capitalised as the exercises write it
            self.solutions.append((data.strip(), list(self.stack)))


def rendered(path: Path) -> list[tuple[int, str, VisibleText]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        parser = VisibleText()
        parser.feed(RENDER.render(source))
        out.append((i, source, parser))
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_no_myst_syntax_shows_in_jupyter(path):
    problems = []
    for i, source, parser in rendered(path):
        for token in RENDER.parse(source):
            if token.type == "fence" and token.info.strip().startswith("{"):
                problems.append(
                    f"cell {i}: a ```{token.info.strip()} block shows as code: "
                    f"{token.content[:60]!r}"
                )
        for match in RAW_MYST.finditer("".join(parser.text)):
            problems.append(f"cell {i}: shows {match.group(0)!r}")
    assert not problems, f"{path.name} in plain Jupyter:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_solutions_are_folded(path):
    problems = []
    for i, source, parser in rendered(path):
        for label, tags in parser.solutions:
            if "details" not in tags or "summary" not in tags:
                problems.append(
                    f"cell {i}: {label[:40]!r} is in plain view (inside {tags}), not a <details> "
                    "summary"
                )
        if source.count("<details>") != source.count("</details>"):
            problems.append(f"cell {i}: unbalanced <details>")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


def test_the_check_fails_on_raw_myst_and_open_solutions(tmp_path):
    source = (
        "As shown {cite}`kipf2017gcn`.\n\n:::{admonition} Solution\n:class: dropdown\nIt is "
        "2.\n:::\n\n```{bibliography}\n:filter: docname in docnames\n```\n"
    )
    bad = {
        "cells": [{"cell_type": "markdown", "metadata": {}, "source": [source]}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "bad.ipynb"
    path.write_text(json.dumps(bad))
    with pytest.raises(AssertionError, match=r"\{cite\}[\s\S]*:class:[\s\S]*```\{bibliography\}"):
        test_no_myst_syntax_shows_in_jupyter(path)
    with pytest.raises(AssertionError, match="in plain view"):
        test_solutions_are_folded(path)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_reference_lists_are_written_from_the_bib(path):
    citations = pytest.importorskip("citations", reason="needs pybtex (the pinned venv)")
    markdown = "\n".join(source for _, source, _ in rendered(path))
    keys = citations.cited_keys(
        markdown
    )  # label() below raises on a key missing from references.bib
    if not keys:
        assert citations.LIST_START not in markdown
        return
    assert citations.reference_list(keys) in markdown, (
        f"{path.name}: its reference list is not what references.bib gives for the works it cites; "
        "re-run the conversion (see book/_ext/citations.py)"
    )


def test_citation_markdown():
    citations = pytest.importorskip("citations", reason="needs pybtex (the pinned venv)")
    assert citations.label("kipf2017gcn") == "Kipf and Welling, 2017"
    assert citations.label("velickovic2018gat") == "Veličković et al., 2018"
    assert citations.label("zachary1977karate") == "Zachary, 1977"
    assert citations.citation(["kipf2017gcn", "zachary1977karate"]) == (
        "([Kipf and Welling, 2017](references.md#cite-kipf2017gcn); [Zachary, "
        "1977](references.md#cite-zachary1977karate))"
    )
    with pytest.raises(ValueError, match="key"):
        citations.label("no-such-key")
