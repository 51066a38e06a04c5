"""Headless Chromium over the interactive figures and the built book.

(1) A standalone page with two ``gnnbook.web.interactive_attention`` figures: every control is
moved, and after each move the figure's ``data-alpha`` values must (a) change, (b) sum to one over
every destination's incoming edges and (c) equal gnnbook's Python result for the same control state
within 1e-6. (2) Every page of the built book (from ``_toc.yml``): no console errors, no tracebacks,
MathJax rendered where there is math, kernel-only widgets shown as labelled still images, (a)-(c)
for every interactive figure. (3) Every page at 390, 768 and 1366 px: the article uses the available
width, no horizontal page scroll, nothing cut off (code, outputs, math, tables scroll visibly; code
lines fit at 1366 px), the sidebar drawers open and close by click and keyboard, one search, the
sidebar title visible, and axe-core (``_vendor/axe-core``, from ``make vendor``) finds no critical
or serious violation at 390 and 1366 px; a full-page screenshot of each in
``_build/screenshots/<page>-<width>.png``.

Needs the ``playwright`` package (pinned venv only) and Chromium (``apt-get install chromium``);
without Chromium the tests skip outside CI and fail in CI (``CI=true``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip(
    "playwright.sync_api", reason="playwright is installed in the pinned venv (.venv) only"
)
from playwright.sync_api import sync_playwright

from gnnbook import graphs, web
from lab_session import CHROMIUM_ARGS, chromium

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for this module (system Chromium: ``playwright
    install`` needs a network)."""
    path = chromium()
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
    return not url.startswith(("http:", "https:", "ws:", "wss:")) or url.split("/")[2].split(":")[
        0
    ] in ("localhost", "127.0.0.1", "[::1]")


class Page:
    """A page with its console errors, uncaught exceptions and failed requests recorded. Every
    request that leaves this machine is blocked: the book must render offline
    (MathJax, widgets, figures)."""

    def __init__(self, browser, url: str, width: int = 1366):
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.errors, self.failed = [], []
        self.page.route(
            "**/*",
            lambda route: route.continue_() if _is_local(route.request.url) else route.abort(),
        )
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(f"console: {m.text} ({m.location.get('url', '')})")
                if m.type == "error"
                else None
            ),
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.goto(url, wait_until="load")

    def real_errors(self):
        """Console errors and the external requests that were blocked."""
        return self.errors, [u for u in self.failed if not _is_local(u)]


# --- the checks on one interactive figure -------------------------------------------------------
def _read(root):
    state = json.loads(root.get_attribute("data-state"))
    rows = root.locator("[data-alpha]").evaluate_all(
        "els => els.map(e => [+e.dataset.eid, +e.dataset.src, +e.dataset.dst, +e.dataset.alpha])"
    )
    rows.sort()
    return state, np.array([r[1:] for r in rows], dtype=np.float64)


def _check(root, params, previous=None, expect_change=True, what=""):
    state, rows = _read(root)
    src, dst, alpha = rows[:, 0].astype(int), rows[:, 1].astype(int), rows[:, 2]
    python = web.attention_from_params(params, state)
    if state.get("full"):  # every node attends to the chosen one: its n edges, by source
        n, v = params["n"], state["node"]
        assert list(src) == list(range(n)) and list(dst) == [v] * n, "full: one element per source"
        python = python[v * n : (v + 1) * n]
    else:
        assert list(src) == params["src"] and list(dst) == params["dst"], (
            "one element per edge, in edge order"
        )
    sums = np.zeros(params["n"])
    np.add.at(sums, dst, alpha)
    has_in = np.bincount(dst, minlength=params["n"]) > 0
    np.testing.assert_allclose(
        sums[has_in], 1.0, atol=1e-9, err_msg=f"{what}: α must sum to 1 per destination"
    )
    np.testing.assert_allclose(
        alpha, python, rtol=0, atol=1e-6, err_msg=f"{what}: browser and gnnbook disagree"
    )
    if previous is not None and expect_change:
        assert alpha.shape != previous.shape or not np.allclose(
            alpha, previous, rtol=0, atol=1e-9
        ), f"{what}: α did not change"
    return state, alpha


def _set_range(root, name, value):
    root.locator(f'[data-control="{name}"]').evaluate(
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }",
        str(value),
    )


def exercise_figure(root):
    """Move every control of one figure; check (a) change, (b) sums, (c) Python
    agreement after each."""
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
    assert root.locator(f'.ga-focus[data-node="{other}"]').count() == 1, (
        "the chosen node is highlighted"
    )
    n_checks += 1

    def cycle(options, current):  # every other option, then back to the current one
        i = options.index(str(current))
        return options[i + 1 :] + options[: i + 1]

    moves = [("head", h) for h in cycle(heads, state["head"])] + [
        ("kind", k) for k in cycle(kinds, state["kind"])
    ]
    moves += [
        ("slope", 0.0),
        ("slope", 0.85),
        ("scale", 2.4),
        ("scale", 0.35),
        ("perturb", 2.5),
        ("perturb", -1.8),
    ]

    def has_slope(kind):
        return "slope" in params["kind_info"][kind]["controls"]

    if len(kinds) == 1 and not has_slope(kinds[0]):
        moves = [m for m in moves if m[0] != "slope"]
    # the view options a figure offers: full attention on and off, every positional encoding
    if params["pe"]:
        codes = ["none", *params["pe"]["encodings"]]
        moves += [("pe", c) for c in cycle(codes, state["pe"])]
    if params["offer_full"]:
        moves += [("full", not state["full"]), ("full", state["full"])]
    for name, value in moves:
        if (name == "head" and len(heads) == 1) or (name == "kind" and len(kinds) == 1):
            continue
        if name in ("head", "kind", "pe"):
            root.locator(f'[data-control="{name}"]').select_option(str(value))
        elif name == "full":
            root.locator('[data-control="full"]').set_checked(value)
        else:
            if name == "slope" and not has_slope(
                json.loads(root.get_attribute("data-state"))["kind"]
            ):
                root.locator('[data-control="kind"]').select_option(kinds[0])
                state, alpha = _check(root, params, alpha, expect_change=False, what="kind reset")
            _set_range(root, name, value)
        state, alpha = _check(root, params, alpha, what=f"{name}={value}")
        assert str(state[name]) == str(value) or state[name] == pytest.approx(float(value))
        n_checks += 1
    # perturb a different neighbour: α changes again
    options = root.locator('[data-control="perturb_node"] option').evaluate_all(
        "os => os.map(o => o.value)"
    )
    if len(options) > 1:
        current = json.loads(root.get_attribute("data-state"))["perturb_node"]
        root.locator('[data-control="perturb_node"]').select_option(
            next(o for o in options if o != str(current))
        )
        state, alpha = _check(root, params, alpha, what="perturb_node")
        n_checks += 1
    return n_checks


# --- (1) standalone -----------------------------------------------------------------------------
def test_standalone_interactive_figures(browser, tmp_path):
    toy = graphs.toy_graph()
    fig_a = web.interactive_attention(
        toy, web.make_layers(5, 4, 3, seed=0), web.default_features(6, 5), node=0
    )
    karate = graphs.karate_club().add_self_loops()
    fig_b = web.interactive_attention(
        karate,
        web.make_layers(8, 4, 2, seed=1)["gatv2"],
        web.default_features(34, 8, seed=1),
        node=33,
        head="mean",
    )
    page_file = tmp_path / "figures.html"
    page_file.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        f"<h1>two figures</h1>{fig_a.html}<p>between</p>{fig_b.html}</body></html>"
    )
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
    figs = [
        web.interactive_attention(toy, layers, feat),
        web.interactive_attention(toy, layers, feat),
    ]
    page_file = tmp_path / "pair.html"
    page_file.write_text(
        "<!DOCTYPE html><html><body>"
        + figs[0].html
        + figs[1].html
        + figs[0].html
        + "</body></html>"
    )
    page = Page(browser, page_file.as_uri())
    try:
        roots = page.page.locator(".gnnbook-attention")
        assert (
            roots.count() == 3
        )  # the same figure shown twice still works: each script finds its own div
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


# --- (2) the built book -------------------------------------------------------------------------
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
            if p.locator(".output.traceback, .cell_output .traceback").count():
                problems.append(f"{doc}: a cell output holds a traceback")
            body = p.locator("main, body").first.inner_text()
            for text in ("Traceback (most recent call last)", "Executing notebook failed"):
                if text in body:
                    problems.append(f"{doc}: the page says {text!r}")
            has_math = 'class="math' in source or "\\(" in source
            if has_math:
                try:  # MathJax 3 typesets asynchronously: wait for its startup promise, then count
                    p.wait_for_function(
                        "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                        timeout=60000,
                    )
                    rendered = p.evaluate(
                        "() => MathJax.startup.promise.then("
                        "() => document.querySelectorAll('mjx-container').length)"
                    )
                    assert rendered > 0
                except Exception:
                    problems.append(f"{doc}: the page has math but MathJax rendered nothing")
            problems += [f"{doc}: {problem}" for problem in dead_widgets(p)]
            roots = p.locator(".gnnbook-attention")
            for i in range(roots.count()):
                figures += 1
                try:
                    exercise_figure(roots.nth(i))
                except AssertionError as error:
                    problems.append(f"{doc}: interactive figure {i}: {error}")
            errors, external = page.real_errors()
            problems += [f"{doc}: {e}" for e in errors]
            if external:
                problems.append(
                    f"{doc}: needs the network for {len(external)} request(s), e.g. {external[0]}"
                )
        finally:
            p.close()
    assert figures > 0, "no interactive figure found in the book"
    if not (ROOT / "_vendor").is_dir() and not IN_CI:
        pytest.skip("no _vendor/ (npm missing): pages use CDNs and cannot be checked offline")
    assert not problems, "\n".join(problems)


# --- (3) every screen: layout, navigation, accessibility ----------------------------------------
WIDTHS = (390, 768, 1366)
AXE_WIDTHS = (390, 1366)
AXE = ROOT / "_vendor" / "axe-core" / "axe.min.js"
SLACK_PX = 48  # the article's own padding and a scrollbar

# Measured in the page: the layout facts each check below reads.
LAYOUT_JS = """() => {
  const box = el => { const r = el.getBoundingClientRect();
                      return {left: r.left, right: r.right, top: r.top, bottom: r.bottom,
                              width: r.width}; };
  const shown = el => el && el.offsetParent !== null && getComputedStyle(el).visibility !== 'hidden'
                      && el.getBoundingClientRect().width > 0;
  const article = document.querySelector('.bd-article-container');
  const primary = document.querySelector('#pst-primary-sidebar');
  const secondary = document.querySelector('#pst-secondary-sidebar');
  const describe = el => el.tagName.toLowerCase()
                         + (el.className && typeof el.className === 'string'
                         ? '.' + el.className.trim().split(/\\s+/).slice(0, 2).join('.') : '')
                         + ': ' + (el.textContent || '').trim().slice(0, 50);
  // wider than its box, with the rest hidden (no scrollbar): a reader cannot see the end
  // (MathJax's assistive MathML is hidden from sight on purpose; inline math never wraps)
  const clipped = [...document.querySelectorAll('.bd-article *')].filter(el => {
    if (el.closest('mjx-assistive-mml, span.math')) return false;
    // text for screen readers only: clipped to a pixel on purpose
    if (el.clientWidth <= 1 && el.clientHeight <= 1) return false;
    if (!shown(el) || el.scrollWidth <= el.clientWidth + 1 || el.clientWidth === 0) return false;
    const overflow = getComputedStyle(el).overflowX;
    return overflow === 'hidden' || overflow === 'clip';
  }).map(describe);
  // a code cell's input that needs horizontal scrolling
  const longCode = [...document.querySelectorAll('.cell_input pre')].filter(
    el => shown(el) && el.scrollWidth > el.clientWidth + 1).map(describe);
  const search = [...document.querySelectorAll(
    '.search-button, .search-button-field, form.bd-search')].filter(shown);
  const title = document.querySelector('.bd-sidebar-primary .navbar-brand');
  let titleHidden = null;
  if (shown(title)) {
    // The sidebar scrolls itself to the current chapter; covered means covered at its top.
    for (let el = title.parentElement; el && el !== document.body; el = el.parentElement) {
      el.scrollTop = 0;
    }
    const r = title.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + Math.min(r.height / 2, 12));
    titleHidden = !(hit && title.contains(hit));
  }
  return {viewport: window.innerWidth, pageWidth: document.documentElement.scrollWidth,
          article: article && box(article), primary: shown(primary) ? box(primary) : null,
          secondary: shown(secondary) ? box(secondary) : null, clipped, longCode,
          searches: search.length,
          titleHidden, favicon: Boolean(document.querySelector('link[rel~="icon"]')),
          logo: Boolean(document.querySelector('.logo__image'))};
}"""


def layout_problems(p, width: int) -> list[str]:
    m = p.evaluate(LAYOUT_JS)
    problems = []
    if m["pageWidth"] > m["viewport"] + 1:
        problems.append(f"the page scrolls sideways by {m['pageWidth'] - m['viewport']} px")
    art = m["article"]
    left_edge = (
        m["primary"]["right"] if m["primary"] and m["primary"]["right"] <= art["left"] + 1 else 0
    )
    right_edge = (
        m["secondary"]["left"]
        if m["secondary"] and m["secondary"]["left"] >= art["right"] - 1
        else m["viewport"]
    )
    if art["width"] < right_edge - left_edge - SLACK_PX:
        problems.append(
            f"the article is {art['width']:.0f} px wide, {right_edge - left_edge:.0f} px are free"
        )
    problems += [f"cut off, no scrollbar: {c}" for c in m["clipped"]]
    if width >= 1366:
        problems += [f"code wider than its column at {width} px: {c}" for c in m["longCode"]]
    if m["searches"] != 1:
        problems.append(f"{m['searches']} search boxes")
    if m["titleHidden"]:
        problems.append("the sidebar's title is covered")
    if not (m["favicon"] and m["logo"]):
        problems.append("no favicon or no logo")
    return problems


def toggle_problems(p, width: int) -> list[str]:
    """Every visible sidebar toggle opens its drawer (or hides the wide-screen sidebar) by click and
    by Enter, and Escape or a second press closes it again."""
    problems = []
    for kind in ("primary", "secondary"):
        buttons = p.locator(f".bd-header-article .{kind}-toggle")
        if buttons.count() == 0 or not buttons.first.is_visible():
            continue
        button = buttons.first
        dialog = p.locator(f"#pst-{kind}-sidebar-modal")
        sidebar = p.locator(f"#pst-{kind}-sidebar")

        wide_primary = (
            kind == "primary" and width >= 992
        )  # the sidebar is shown; the toggle hides it

        def opened(wide_primary=wide_primary, sidebar=sidebar, dialog=dialog) -> bool:
            if wide_primary:
                return not sidebar.evaluate("s => s.classList.contains('pst-sidebar-hidden')")
            return bool(dialog.count() and dialog.evaluate("d => d.open"))

        for how in ("click", "Enter"):
            before = opened()
            (button.click() if how == "click" else (button.focus(), p.keyboard.press("Enter")))
            p.wait_for_timeout(350)
            if opened() == before:
                problems.append(f"the {kind} toggle did nothing on {how}")
                continue
            if button.get_attribute("aria-expanded") != str(opened()).lower():
                problems.append(
                    f"the {kind} toggle's aria-expanded does not say whether it is open"
                )
            if wide_primary:  # press again: shown again
                button.click()
            else:
                if dialog.count() and dialog.evaluate("d => d.open"):
                    links = dialog.locator("a")
                    if links.count() == 0:
                        problems.append(f"the {kind} drawer is empty")
                p.keyboard.press("Escape")
            p.wait_for_timeout(350)
            if opened() != before:
                problems.append(
                    f"the {kind} drawer did not close ({'click' if wide_primary else 'Escape'})"
                )
    return problems


def dead_widgets(p) -> list[str]:
    """A widget view saved with the page has no kernel: it must be a labelled, inert still image."""
    return p.evaluate("""() => [...document.querySelectorAll(
        'script[type="application/vnd.jupyter.widget-view+json"]')].map((s, i) => {
          const out = s.parentElement;
          const note = out.previousElementSibling;
          if (!out.hasAttribute('inert'))
            return `widget ${i}: looks live but has no kernel (not inert)`;
          if (!note || !/still image/i.test(note.textContent))
            return `widget ${i}: not labelled as a still image`;
          return null; }).filter(Boolean)""")


def axe_problems(p) -> list[str]:
    p.add_script_tag(path=str(AXE))
    result = p.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"axe {v['impact']}: {v['id']} ({len(v['nodes'])} element(s), e.g. "
        f"{v['nodes'][0]['target']})"
        for v in result["violations"]
        if v["impact"] in ("critical", "serious")
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_on_every_screen(browser, book_pages, width):
    html_dir, pages = book_pages
    if not AXE.exists() and not IN_CI:
        pytest.skip("no _vendor/axe-core (run `make vendor`): the accessibility check needs it")
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    problems = []
    for doc in pages:
        page = Page(browser, (html_dir / f"{doc}.html").as_uri(), width=width)
        p = page.page
        try:
            p.wait_for_function(
                "() => !window.MathJax || !MathJax.startup || !MathJax.startup.promise"
                " || MathJax.startup.promise.then(() => true)",
                timeout=60000,
            )
            p.wait_for_timeout(300)
            found = layout_problems(p, width) + dead_widgets(p)
            errors = p.locator("mjx-merror").count()
            if errors:
                found.append(f"{errors} equation(s) MathJax could not typeset ('Math input error')")
            if width in AXE_WIDTHS:
                found += axe_problems(p)
                p.screenshot(path=str(shots / f"{Path(doc).name}-{width}.png"), full_page=True)
            found += toggle_problems(p, width)
            problems += [f"{doc} at {width} px: {f}" for f in found]
        finally:
            p.close()
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


def test_the_layout_check_catches_a_narrow_article_and_a_dead_toggle(browser, book_pages):
    """Reintroduce the old bugs on a copy of one page: the checks above must fail."""
    html_dir, _ = book_pages
    page = Page(browser, (html_dir / "book" / "gat.html").as_uri(), width=390)
    p = page.page
    try:
        p.add_style_tag(
            content=".bd-main .bd-content .bd-article-container { max-width: calc(100% - 14rem) }"
        )
        assert any("the article is" in f for f in layout_problems(p, 390))
        p.evaluate(
            "() => document.querySelectorAll('.bd-header-article .primary-toggle').forEach("
            "b => b.replaceWith(b.cloneNode(true)))"
        )  # drops every listener
        assert any("primary toggle did nothing" in f for f in toggle_problems(p, 390))
        p.set_viewport_size({"width": 1366, "height": 900})
        p.evaluate("() => document.querySelector('.cell_input pre').append('#' + 'x'.repeat(300))")
        assert any("code wider than its column" in f for f in layout_problems(p, 1366))
        p.add_style_tag(content=".cell_input pre { overflow-x: hidden !important }")
        assert any("cut off" in f for f in layout_problems(p, 1366))
    finally:
        p.close()
