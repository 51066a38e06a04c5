"""Every glossary entry is linked from the chapters, and every glossary link lands on an entry.

Chapters link a symbol to its entry with a plain Markdown link, ``[$K$](glossary.md#term-K)``
(book/_ext/glossary_links.py resolves it on the site). The anchor is the id Sphinx gives the
glossary term, computed here with Sphinx's own ``make_id``; the strict book build (test_book.py)
checks the same links against the built page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

BOOK = Path(__file__).resolve().parents[1] / "book"
GLOSSARY = BOOK / "glossary.md"
LINK = re.compile(r"\]\((?:\./)?glossary\.md#([^)\s]+)\)")


def glossary_terms(text: str) -> list[str]:
    """The term lines of every ``{glossary}`` block, as Sphinx reads them (math and code markup
    stripped): the unindented lines inside the block."""
    terms, inside = [], False
    for line in text.splitlines():
        if line.startswith(":::{glossary}"):
            inside = True
        elif line.startswith(":::"):
            inside = False
        elif inside and line.strip() and not line[0].isspace():
            terms.append(line.replace("$", "").replace("`", "").strip())
    return terms


def term_ids(terms: list[str]) -> list[str]:
    make_id = pytest.importorskip("sphinx.util.nodes").make_id
    document = SimpleNamespace(ids={}, settings=SimpleNamespace(id_prefix=""))
    # env is only used to number ids that clash; a clash fails below instead
    return [make_id(None, document, "term", term) for term in terms]


def chapter_sources() -> dict[str, str]:
    """The Markdown of every page except the glossary: .md files, notebooks' Markdown cells."""
    pages = {}
    for path in sorted(BOOK.glob("*.md")):
        if path != GLOSSARY:
            pages[path.name] = path.read_text()
    for path in sorted(BOOK.glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        pages[path.name] = "\n".join(
            "".join(c["source"]) for c in cells if c["cell_type"] == "markdown"
        )
    return pages


def links_by_target() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for page, text in chapter_sources().items():
        for target in LINK.findall(text):
            found.setdefault(target, []).append(page)
    return found


def test_glossary_parses_into_distinct_ids():
    terms = glossary_terms(GLOSSARY.read_text())
    assert len(terms) > 20, terms
    ids = term_ids(terms)
    clashes = {i for i in ids if ids.count(i) > 1}
    assert not clashes, f"glossary terms that Sphinx would give the same id: {clashes}"


def test_every_glossary_link_target_exists():
    ids = set(term_ids(glossary_terms(GLOSSARY.read_text())))
    broken = {t: pages for t, pages in links_by_target().items() if t not in ids}
    assert not broken, f"links to glossary anchors that no term has: {broken}"


def test_every_glossary_entry_is_linked_from_a_chapter():
    terms = glossary_terms(GLOSSARY.read_text())
    linked = links_by_target()
    unlinked = [t for t, i in zip(terms, term_ids(terms)) if i not in linked]
    assert not unlinked, f"glossary entries no chapter links to: {unlinked}"


def test_the_checks_see_a_missing_link():
    """The parsing above can fail: a made-up glossary with one extra term is reported."""
    text = GLOSSARY.read_text() + "\n:::{glossary}\n$Q_{\\mathrm{made-up}}$\n  Nothing.\n:::\n"
    terms = glossary_terms(text)
    assert terms[-1] == "Q_{\\mathrm{made-up}}"
    assert term_ids(terms)[-1] not in links_by_target()
