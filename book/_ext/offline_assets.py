"""Serve MathJax, require.js and the widget manager from the book's own static files.

`make book` fetches them from npm into `_vendor/` (the Makefile's `vendor` target), which is copied
into the built `_static/`. When they are there, every page renders with no network; when they are
not, the CDNs stay and one line says so.
"""
from pathlib import Path

from sphinx.util import logging

VENDOR = "_vendor"  # beside _static/, not in it: Jupyter Book adds every .js under _static to every page
MATHJAX = "mathjax/tex-mml-chtml.js"
REQUIRE = "require.js"
WIDGETS = "html-manager/embed-amd.js"


def use_local_assets(app, config):
    vendor = Path(app.confdir) / VENDOR
    missing = [path for path in (MATHJAX, REQUIRE, WIDGETS) if not (vendor / path).exists()]
    if missing:
        logging.getLogger(__name__).info(
            f"offline assets missing ({', '.join(missing)}): pages load MathJax and widget JS from CDNs"
        )
        return
    config.html_static_path = [*config.html_static_path, VENDOR]
    config.mathjax_path = MATHJAX
    config.nb_ipywidgets_js = {REQUIRE: {}, WIDGETS: {}}


def setup(app):
    app.connect("config-inited", use_local_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
