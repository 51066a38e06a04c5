"""The attention explorer in a real JupyterLab with a live kernel (the reader's path in Jupyter).

Starts ``jupyter lab`` on 127.0.0.1 (a free port, a token) over a copy of ``book/``, opens the GAT
chapter in headless Chromium, runs it, then moves every control of the ipywidgets explorer as a
reader would (slider handles by keyboard, dropdowns, toggle buttons). After each move the figure
must redraw and the kernel's α must sum to one over every destination's incoming edges, and change
(the node choice also moves the perturbation to one of the new node's neighbours, so α may change
with it or not). No timing assertions (bench/bench_explorer.py measures).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("jupyterlab", reason="JupyterLab is in the pinned venv (requirements.txt)")
pytest.importorskip(
    "playwright.sync_api", reason="playwright is installed in the pinned venv (.venv) only"
)
from playwright.sync_api import sync_playwright

import lab_session

pytestmark = pytest.mark.browser
CHAPTER = "gat.ipynb"


def _check_alpha(state: dict, what: str) -> np.ndarray:
    alpha, dst = np.asarray(state["alpha"]), np.asarray(state["dst"])
    sums = np.zeros(dst.max() + 1)
    np.add.at(sums, dst, alpha)
    has_in = np.bincount(dst, minlength=len(sums)) > 0
    np.testing.assert_allclose(
        sums[has_in], 1.0, atol=1e-6, err_msg=f"{what}: α must sum to 1 per destination"
    )
    return alpha


def _label(control) -> str:
    return (
        control.locator("xpath=ancestor::div[contains(@class, 'widget-inline-hbox')][1]")
        .inner_text()
        .strip()
    )


def test_explorer_follows_every_control_in_jupyterlab(tmp_path):
    path = lab_session.chromium()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium not found")
        pytest.skip(
            "Chromium not found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)"
        )
    with lab_session.jupyter_lab(tmp_path) as (base, token), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=lab_session.CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 1000})
        try:
            explorer = lab_session.open_and_run(page, base, token, CHAPTER)
            state = lab_session.probe(page)
            alpha = _check_alpha(state, "first draw")
            ctl = lab_session.controls(explorer)
            assert (
                len(ctl["sliders"]) >= 3 and len(ctl["selects"]) >= 2 and len(ctl["toggles"]) >= 2
            ), ctl
            moves = 0

            def after(move, what, expect_change=True):
                nonlocal alpha, state, moves
                before = lab_session.image_src(explorer)
                move()
                lab_session.wait_for_redraw(page, explorer, before)
                new_state = lab_session.probe(page)
                new_alpha = _check_alpha(new_state, what)
                if expect_change:
                    assert not np.allclose(new_alpha, alpha, rtol=0, atol=1e-9), (
                        f"{what}: α did not change"
                    )
                assert new_state["state"] != state["state"], (
                    f"{what}: the kernel did not see the move"
                )
                alpha, state, moves = new_alpha, new_state, moves + 1

            for handle in ctl[
                "sliders"
            ]:  # slope, scale, perturbation: four steps right, by keyboard

                def slide(handle=handle):
                    handle.focus()
                    for _ in range(4):
                        page.keyboard.press("ArrowRight")

                after(slide, f"slider {_label(handle)!r}")
            for select in ctl["selects"]:  # node (highlight only), head, perturbed neighbour
                options = select.locator("option").evaluate_all("os => os.map(o => o.value)")
                current = select.evaluate("s => s.value")
                others = [o for o in options if o != current]
                if not others:  # a one-option choice (one head) changes nothing
                    continue
                label = _label(select)
                after(
                    lambda select=select, value=others[0]: select.select_option(value),
                    f"select {label!r}",
                    expect_change=not label.startswith("node"),
                )
            for button in (
                ctl["toggles"][1:] + ctl["toggles"][:1]
            ):  # every attention kind, back to the first
                after(button.click, f"attention kind {button.inner_text()!r}")
            assert moves >= 7, moves
        finally:
            page.screenshot(path=str(tmp_path / "jupyterlab.png"), full_page=False)
            browser.close()
