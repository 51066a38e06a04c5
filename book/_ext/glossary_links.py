"""Markdown links to glossary terms: ``[$K$](glossary.md#term-K)``.

Chapters link a symbol to its glossary entry with a plain Markdown link, so that the link reads as
a link in Jupyter and Colab too (a ``{term}`` role would show as raw text there). MyST resolves
``page.md#anchor`` only against the page's heading anchors; this extension adds the ids of the
page's glossary terms (``term-K``, ``term-head``) to them, so the link resolves under ``-W``.
"""
from docutils import nodes


def register_term_ids(app, doctree) -> None:
    anchors = app.env.metadata[app.env.docname].setdefault("myst_slugs", {})
    for term in doctree.findall(nodes.term):
        for node_id in term["ids"]:
            anchors.setdefault(node_id, (term.line or 0, node_id, term.astext()))


def setup(app):
    app.connect("doctree-read", register_term_ids)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
