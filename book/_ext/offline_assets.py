"""Serve MathJax, require.js and the widget manager from the book's own static files, and mend two
script clashes on every page.

`make book` fetches the JavaScript from npm into `_vendor/` (the Makefile's `vendor` target), which
is copied into the built `_static/`. When it is there, every page renders with no network; when it
is not, the CDNs stay and one line says so.
"""
from pathlib import Path

from sphinx.util import logging

VENDOR = "_vendor"  # beside _static/, not in it: Jupyter Book adds every .js under _static to every page
MATHJAX = "mathjax/tex-mml-chtml.js"
REQUIRE = "require.js"
SHIM = "widgets-offline.js"  # require.js's base folder and a MathJax 2 stand-in, see the file
WIDGETS = "@jupyter-widgets/html-manager/dist/embed-amd.js"


def use_local_assets(app, config):
    vendor = Path(app.confdir) / VENDOR
    missing = [path for path in (MATHJAX, REQUIRE, SHIM, WIDGETS) if not (vendor / path).exists()]
    if missing:
        logging.getLogger(__name__).info(
            f"offline assets missing ({', '.join(missing)}): pages load MathJax and widget JS from CDNs"
        )
        return
    config.html_static_path = [*config.html_static_path, VENDOR]
    config.mathjax_path = MATHJAX
    config.nb_ipywidgets_js = {SHIM: {}, REQUIRE: {}, WIDGETS: {}}  # in this order


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    """Inline scripts (sphinx-thebe's config among them) are registered twice, once with filename
    ``None`` and once with ``''``: a redeclared ``const`` is an error on every page."""
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = (script.filename or "", script.priority, tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("config-inited", use_local_assets)
    app.connect("html-page-context", drop_duplicate_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
