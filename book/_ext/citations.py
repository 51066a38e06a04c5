"""Citations that read as citations in Jupyter and Colab too, with ``references.bib`` as the one source.

A chapter cites with a plain Markdown link, ``([Kipf and Welling, 2017](references.md#cite-kipf2017gcn))``,
and ends with the list of the works it cites, written from ``references.bib`` between two HTML
comments (invisible in Jupyter and on the site). ``references.md`` holds the whole bibliography
(``{bibliography}`` with ``:all:``); ``bibtex_cite_id = "cite-{key}"`` gives every entry the anchor
``cite-<key>``, and this extension adds those anchors to the page's link targets, as glossary_links.py
does for glossary terms, so the links resolve under ``-W``. It also drops the ``role="list"`` that
docutils puts on the bibliography's container: its entries are ``doc-biblioentry``, not list items.

``label``, ``citation`` and ``reference_list`` write the Markdown; tests/test_jupyter_markup.py checks
that every chapter's list is what they write today. After adding or removing a citation, rewrite the
lists with ``python book/_ext/citations.py`` (every chapter, or the notebooks named).
"""
from __future__ import annotations

import codecs
import json
import re
import sys
from functools import cache
from pathlib import Path

import latexcodec  # noqa: F401  (registers the "ulatex" codec)
from pybtex.database import parse_file

BIB = Path(__file__).resolve().parents[1] / "references.bib"
PAGE = "references.md"
LIST_START = "<!-- references: written from references.bib, see book/_ext/citations.py -->"
LIST_END = "<!-- end of references -->"
LINK = re.compile(r"\]\(" + re.escape(PAGE) + r"#cite-([\w.:-]+)\)")


@cache
def entries() -> dict:
    return parse_file(str(BIB)).entries


def _plain(latex: str) -> str:
    return codecs.decode(latex, "ulatex").replace("{", "").replace("}", "").replace("--", "–")


def _last_names(key: str) -> list[str]:
    return [_plain(" ".join(p.prelast_names + p.last_names)) for p in entries()[key].persons["author"]]


def label(key: str) -> str:
    """'Kipf and Welling, 2017', 'Veličković et al., 2018' (the site's author-year style)."""
    if key not in entries():
        raise ValueError(f"key: {key!r} is not in {BIB.name}")
    names = _last_names(key)
    who = names[0] if len(names) == 1 else f"{names[0]} and {names[1]}" if len(names) == 2 else f"{names[0]} et al."
    return f"{who}, {entries()[key].fields['year']}"


def citation(keys: list[str]) -> str:
    """The Markdown for one citation of one or more works: '([A, 2017](references.md#cite-a); [B, 2018](…))'."""
    return "(" + "; ".join(f"[{label(k)}]({PAGE}#cite-{k})" for k in keys) + ")"


def _entry(key: str) -> str:
    entry = entries()[key]
    people = entry.persons["author"]
    authors = [_plain(" ".join(p.prelast_names + p.last_names)) + ", "
               + " ".join(_plain(n)[0] + "." for n in p.first_names + p.middle_names) for p in people]
    authors = authors[0] if len(authors) == 1 else ", ".join(authors[:-1]) + " and " + authors[-1]
    fields = entry.fields
    venue = _plain(fields.get("booktitle") or fields.get("journal", ""))
    if "volume" in fields:
        venue += f" {fields['volume']}" + (f"({fields['number']})" if "number" in fields else "")
    if "pages" in fields:
        venue += f", {_plain(fields['pages'])}"
    return f"{authors} ({fields['year']}). {_plain(fields['title'])}. *{venue}*."


def reference_list(keys: list[str]) -> str:
    """The chapter's closing list: every cited work once, sorted by label, between the two markers."""
    unique = sorted(set(keys), key=lambda k: (label(k), k))
    items = [f"- [{label(k)}]({PAGE}#cite-{k}): {_entry(k)}" for k in unique]
    return "\n".join([LIST_START, "", *items, "", LIST_END])


def cited_keys(markdown: str) -> list[str]:
    """The keys a chapter's Markdown cites, in order of first appearance (the list's own links excluded)."""
    text = re.sub(re.escape(LIST_START) + r".*?" + re.escape(LIST_END), "", markdown, flags=re.DOTALL)
    return list(dict.fromkeys(LINK.findall(text)))


def refresh(path: Path) -> bool:
    """Rewrite the notebook's reference list (the text between the two markers) for the works it cites."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    listing = reference_list(cited_keys("\n".join("".join(c["source"]) for c in cells)))
    pattern = re.compile(re.escape(LIST_START) + r".*?" + re.escape(LIST_END), re.DOTALL)
    changed = False
    for cell in cells:
        text = "".join(cell["source"])
        new = pattern.sub(lambda m: listing, text)
        if new != text:
            cell["source"], changed = new.splitlines(keepends=True), True
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


# --- the site ------------------------------------------------------------------------------------------
def register_entry_ids(app, doctree) -> None:
    domain = app.env.get_domain("cite")
    anchors = app.env.metadata[app.env.docname].setdefault("myst_slugs", {})
    for key, value in domain.bibliographies.items():
        if key.docname != app.env.docname:
            continue
        for cite_key, node in value.citation_nodes.items():
            for node_id in node["ids"]:
                anchors.setdefault(node_id, (value.line, node_id, cite_key))


def drop_list_role(app, pagename, templatename, context, doctree) -> None:
    if "body" in context:
        context["body"] = context["body"].replace('<div role="list" class="citation-list">', '<div class="citation-list">')


def setup(app):
    app.connect("doctree-read", register_entry_ids)
    app.connect("html-page-context", drop_list_role)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    for notebook in [Path(p) for p in sys.argv[1:]] or sorted(BIB.parent.glob("*.ipynb")):
        print(("rewrote " if refresh(notebook) else "unchanged ") + str(notebook))
