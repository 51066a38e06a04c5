"""Headless Chromium over the interactive figures and the built book.

(1) A standalone page with two ``gnnbook.web.interactive_attention`` figures: every control is moved,
and after each move the figure's ``data-alpha`` values must (a) change, (b) sum to one over every
destination's incoming edges and (c) equal gnnbook's Python result for the same control state within
1e-6. (2) Every page of the built book (from ``_toc.yml``): no console errors, no tracebacks, MathJax
rendered where there is math, widget state where there are widgets, (a)-(c) for every interactive
figure, and a full-page screenshot in ``_build/screenshots/<page>.png``.

Needs the ``playwright`` package (pinned venv only) and Chromium (``apt-get install chromium``); without
Chromium the tests skip outside CI and fail in CI (``CI=true``).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is installed in the pinned venv (.venv) only")
from playwright.sync_api import sync_playwright  # noqa: E402

from gnnbook import graphs, web  # noqa: E402

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
IN_CI = os.environ.get("CI") == "true"


def _chromium() -> str | None:
    for path in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser"),
                 shutil.which("google-chrome")):
        if path and Path(path).exists():
            return path
    return None


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for this module (system Chromium: ``playwright install`` needs a network)."""
    path = _chromium()
    if path is None:
        message = "Chromium not found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _is_local(url: str) -> bool:
    return not url.startswith(("http:", "https:", "ws:", "wss:")) or url.split("/")[2].split(":")[0] in (
        "localhost", "127.0.0.1", "[::1]")


class Page:
    """A page with its console errors, uncaught exceptions and failed requests recorded. Every request
    that leaves this machine is blocked: the book must render offline (MathJax, widgets, figures)."""

    def __init__(self, browser, url: str):
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        self.errors, self.failed = [], []
        self.page.route("**/*", lambda route: route.continue_() if _is_local(route.request.url) else route.abort())
        self.page.on("console", lambda m: self.errors.append(f"console: {m.text} ({m.location.get('url', '')})")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.goto(url, wait_until="load")

    def real_errors(self):
        """Console errors and the external requests that were blocked."""
        return self.errors, [u for u in self.failed if not _is_local(u)]


# --- the checks on one interactive figure ---------------------------------------------------------------
def _read(root):
    state = json.loads(root.get_attribute("data-state"))
    rows = root.locator("[data-alpha]").evaluate_all(
        "els => els.map(e => [+e.dataset.eid, +e.dataset.src, +e.dataset.dst, +e.dataset.alpha])")
    rows.sort()
    return state, np.array([r[1:] for r in rows], dtype=np.float64)


def _check(root, params, previous=None, expect_change=True, what=""):
    state, rows = _read(root)
    src, dst, alpha = rows[:, 0].astype(int), rows[:, 1].astype(int), rows[:, 2]
    assert list(src) == params["src"] and list(dst) == params["dst"], "one element per edge, in edge order"
    sums = np.zeros(params["n"])
    np.add.at(sums, dst, alpha)
    has_in = np.bincount(dst, minlength=params["n"]) > 0
    np.testing.assert_allclose(sums[has_in], 1.0, atol=1e-9, err_msg=f"{what}: α must sum to 1 per destination")
    python = web.attention_from_params(params, state)
    np.testing.assert_allclose(alpha, python, rtol=0, atol=1e-6, err_msg=f"{what}: browser and gnnbook disagree")
    if previous is not None and expect_change:
        assert not np.allclose(alpha, previous, rtol=0, atol=1e-9), f"{what}: α did not change"
    return state, alpha


def _set_range(root, name, value):
    root.locator(f'[data-control="{name}"]').evaluate(
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }", str(value))


def exercise_figure(root):
    """Move every control of one figure; check (a) change, (b) sums, (c) Python agreement after each."""
    params = json.loads(root.locator("script.gnnbook-params").text_content())
    state, alpha = _check(root, params, what="initial state")
    n_checks = 1
    kinds = root.locator('[data-control="kind"] option').evaluate_all("os => os.map(o => o.value)")
    heads = root.locator('[data-control="head"] option').evaluate_all("os => os.map(o => o.value)")
    # the node: a different focus (α itself stays: the node only chooses what is highlighted)
    other = next(v for v in range(params["n"]) if v != state["node"] and v in params["dst"])
    root.locator('[data-control="node"]').select_option(str(other))
    new_state, alpha = _check(root, params, alpha, expect_change=False, what="node")
    assert new_state["node"] == other
    assert root.locator(f'.ga-focus[data-node="{other}"]').count() == 1, "the chosen node is highlighted"
    n_checks += 1

    def cycle(options, current):  # every other option, then back to the current one
        i = options.index(str(current))
        return options[i + 1:] + options[:i + 1]

    moves = [("head", h) for h in cycle(heads, state["head"])] + [("kind", k) for k in cycle(kinds, state["kind"])]
    moves += [("slope", 0.0), ("slope", 0.85), ("scale", 2.4), ("scale", 0.35), ("perturb", 2.5), ("perturb", -1.8)]
    if len(kinds) == 1 and kinds[0] == "dot":
        moves = [m for m in moves if m[0] != "slope"]
    for name, value in moves:
        if (name == "head" and len(heads) == 1) or (name == "kind" and len(kinds) == 1):
            continue
        if name in ("head", "kind"):
            root.locator(f'[data-control="{name}"]').select_option(str(value))
        else:
            if name == "slope" and json.loads(root.get_attribute("data-state"))["kind"] == "dot":
                root.locator('[data-control="kind"]').select_option(kinds[0])
                state, alpha = _check(root, params, alpha, expect_change=False, what="kind reset")
            _set_range(root, name, value)
        state, alpha = _check(root, params, alpha, what=f"{name}={value}")
        assert str(state[name]) == str(value) or state[name] == pytest.approx(float(value))
        n_checks += 1
    # perturb a different neighbour: α changes again
    options = root.locator('[data-control="perturb_node"] option').evaluate_all("os => os.map(o => o.value)")
    if len(options) > 1:
        current = json.loads(root.get_attribute("data-state"))["perturb_node"]
        root.locator('[data-control="perturb_node"]').select_option(next(o for o in options if o != str(current)))
        state, alpha = _check(root, params, alpha, what="perturb_node")
        n_checks += 1
    return n_checks


# --- (1) standalone ------------------------------------------------------------------------------------
def test_standalone_interactive_figures(browser, tmp_path):
    toy = graphs.toy_graph()
    fig_a = web.interactive_attention(toy, web.make_layers(5, 4, 3, seed=0), web.default_features(6, 5), node=0)
    karate = graphs.karate_club().add_self_loops()
    fig_b = web.interactive_attention(karate, web.make_layers(8, 4, 2, seed=1)["gatv2"], web.default_features(34, 8, seed=1),
                                      node=33, head="mean")
    page_file = tmp_path / "figures.html"
    page_file.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                         f"<h1>two figures</h1>{fig_a.html}<p>between</p>{fig_b.html}</body></html>")
    page = Page(browser, page_file.as_uri())
    try:
        roots = page.page.locator(".gnnbook-attention")
        assert roots.count() == 2
        assert page.page.locator(".ga-nojs").count() == 0, "the scripts ran"
        checks = [exercise_figure(roots.nth(i)) for i in range(2)]
        assert all(c >= 12 for c in checks), checks
        out = Path("/tmp/visuals")
        if out.is_dir():
            page.page.screenshot(path=str(out / "standalone_after_controls.png"), full_page=True)
        errors, _ = page.real_errors()
        assert not errors, errors
    finally:
        page.page.close()


def test_two_figures_are_independent(browser, tmp_path):
    toy = graphs.toy_graph()
    layers, feat = web.make_layers(5, 4, 2, seed=0), web.default_features(6, 5)
    figs = [web.interactive_attention(toy, layers, feat), web.interactive_attention(toy, layers, feat)]
    page_file = tmp_path / "pair.html"
    page_file.write_text("<!DOCTYPE html><html><body>" + figs[0].html + figs[1].html + figs[0].html + "</body></html>")
    page = Page(browser, page_file.as_uri())
    try:
        roots = page.page.locator(".gnnbook-attention")
        assert roots.count() == 3  # the same figure shown twice still works: each script finds its own div
        before = [_read(roots.nth(i))[1][:, 2] for i in range(3)]
        _set_range(roots.nth(1), "scale", 2.5)
        after = [_read(roots.nth(i))[1][:, 2] for i in range(3)]
        assert np.array_equal(before[0], after[0]) and np.array_equal(before[2], after[2])
        assert not np.allclose(before[1], after[1])
        _set_range(roots.nth(2), "slope", 0.9)
        assert not np.allclose(_read(roots.nth(2))[1][:, 2], before[2])
        assert np.array_equal(_read(roots.nth(0))[1][:, 2], before[0])
        assert not page.real_errors()[0]
    finally:
        page.page.close()


# --- (2) the built book -------------------------------------------------------------------------------
def _toc_pages() -> list[str]:
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


@pytest.fixture(scope="module")
def book_pages(built_book):
    html_dir, _ = built_book
    return html_dir, _toc_pages()


def test_book_pages_in_the_browser(browser, book_pages):
    html_dir, pages = book_pages
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    problems, figures = [], 0
    for doc in pages:
        path = html_dir / f"{doc}.html"
        if not path.exists():
            problems.append(f"{doc}: no page {path.name} in the build")
            continue
        source = path.read_text(encoding="utf-8")
        page = Page(browser, path.as_uri())
        p = page.page
        try:
            name = Path(doc).name
            if p.locator(".output.traceback, .cell_output .traceback").count():
                problems.append(f"{doc}: a cell output holds a traceback")
            body = p.locator("main, body").first.inner_text()
            for text in ("Traceback (most recent call last)", "Executing notebook failed"):
                if text in body:
                    problems.append(f"{doc}: the page says {text!r}")
            has_math = 'class="math' in source or "\\(" in source
            if has_math:
                try:  # MathJax 3 typesets asynchronously: wait for its startup promise, then count
                    p.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60000)
                    rendered = p.evaluate("() => MathJax.startup.promise.then("
                                          "() => document.querySelectorAll('mjx-container').length)")
                    assert rendered > 0
                except Exception:
                    problems.append(f"{doc}: the page has math but MathJax rendered nothing")
            if "application/vnd.jupyter.widget-view+json" in source:
                if "application/vnd.jupyter.widget-state+json" not in source:
                    problems.append(f"{doc}: widgets without saved widget state (they would show nothing)")
                try:  # the widget manager replaces each saved view with live widget elements
                    p.wait_for_selector(".cell_output .jupyter-widgets", timeout=30000)
                except Exception:
                    problems.append(f"{doc}: saved widgets were not drawn")
            roots = p.locator(".gnnbook-attention")
            for i in range(roots.count()):
                figures += 1
                try:
                    exercise_figure(roots.nth(i))
                except AssertionError as error:
                    problems.append(f"{doc}: interactive figure {i}: {error}")
            p.wait_for_timeout(300)
            p.screenshot(path=str(shots / f"{name}.png"), full_page=True)
            errors, external = page.real_errors()
            problems += [f"{doc}: {e}" for e in errors]
            if external:
                problems.append(f"{doc}: needs the network for {len(external)} request(s), e.g. {external[0]}")
        finally:
            p.close()
    assert figures > 0, "no interactive figure found in the book"
    if not (ROOT / "_vendor").is_dir() and not IN_CI:
        pytest.skip("no _vendor/ (npm missing): pages use CDNs and cannot be checked offline")
    assert not problems, "\n".join(problems)
