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


def name_math_only_links(app, doctree, docname) -> None:
    """A link whose text is only math (``[$h_i$](glossary.md#term-h_i)``) has no name a screen
    reader can read: add its TeX as text that only screen readers see."""
    for link in list(doctree.findall(nodes.reference)):
        maths = list(link.findall(nodes.math))
        words = link.deepcopy()
        for math in list(words.findall(nodes.math)):
            math.parent.remove(math)
        if maths and not words.astext().strip():
            name = " ".join(math.astext() for math in maths)
            link.append(nodes.inline("", name, classes=["gnnbook-sr-only"]))


def setup(app):
    app.connect("doctree-read", register_term_ids)
    app.connect("doctree-resolved", name_math_only_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
