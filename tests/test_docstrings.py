"""Docstrings that point to a chapter point to one that really uses the function, and the layers'
``Examples`` run as written (doctest)."""

from __future__ import annotations

import doctest
import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import pytest

import gnnbook
import gnnbook.nn

BOOK = Path(__file__).resolve().parents[1] / "book"
REFERENCE = re.compile(r'[Cc]hapters? ((?:"[^"]+"(?:,? and |, | or )?)+)')


def chapters() -> dict[str, str]:
    """Title (without its number) -> the text of the chapter's code cells."""
    found = {}
    for path in sorted(BOOK.glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        title = re.match(r"#\s*\d+\.\s*(.+)", "".join(cells[0]["source"]).splitlines()[0])
        if title:
            found[title.group(1).strip()] = "\n".join(
                "".join(c["source"]) for c in cells if c["cell_type"] == "code"
            )
    return found


def chapter_named(reference: str, titles) -> str | None:
    """The title a reference names: the whole title, or the part before its ':' or ','."""
    for title in titles:
        if title == reference or title.startswith((reference + ":", reference + ",")):
            return title
    return None


def public_modules():
    yield gnnbook
    for info in pkgutil.walk_packages(gnnbook.__path__, "gnnbook."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            yield importlib.import_module(info.name)


def used(name: str) -> str:
    return rf"\b{re.escape(name)}\b"


def documented():
    """``(where, regexes of which one marks a use, docstring)`` for public modules, classes,
    functions and methods. A module is used where the code names ``gnnbook.<module>`` or imports
    it."""
    for module in public_modules():
        short = module.__name__.rsplit(".", 1)[-1]
        imported = rf"from {re.escape(module.__name__.rsplit('.', 1)[0])} import [^\n]*\b{short}\b"
        yield module.__name__, [used(module.__name__), imported], module.__doc__ or ""
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{module.__name__}.{name}", [used(name)], obj.__doc__ or ""
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and (
                        inspect.isfunction(member) or isinstance(member, property)
                    ):
                        yield (
                            f"{module.__name__}.{name}.{attr}",
                            [used(name), used(attr)],
                            member.__doc__ or "",
                        )


def references():
    for where, patterns, doc in documented():
        for group in REFERENCE.findall(" ".join(doc.split())):
            for title in re.findall(r'"([^"]+)"', group):
                yield pytest.param(where, patterns, title, id=f"{where}->{title}")


@pytest.mark.parametrize("where,patterns,reference", list(references()))
def test_chapter_reference_is_used_there(where, patterns, reference):
    found = chapters()
    title = chapter_named(reference, found)
    assert title is not None, (
        f"{where} cites chapter {reference!r}, which does not exist; titles: {list(found)}"
    )
    code = found[title]
    assert any(re.search(p, code) for p in patterns), (
        f"{where} cites chapter {title!r}, whose code never uses it ({patterns})"
    )


def test_references_are_found():
    """The pattern finds the references the layers are known to make (so the test above is not
    empty)."""
    cited = {(w, r) for w, _, r in (p.values for p in references())}
    assert ("gnnbook.nn.gatconv.GATConv", "Inside DGL's GATConv") in cited
    assert ("gnnbook.reference.dot_attention", "The Q/K/V analogy") in cited


@pytest.mark.parametrize(
    "module",
    sorted(
        m
        for m in vars(gnnbook.nn)
        if not m.startswith("_") and inspect.ismodule(getattr(gnnbook.nn, m))
    ),
)
def test_layer_examples_run(module):
    mod = getattr(gnnbook.nn, module)
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0 or not any(
        inspect.isclass(o) and o.__module__ == mod.__name__ for o in vars(mod).values()
    )
