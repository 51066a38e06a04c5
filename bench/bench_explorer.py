"""The ipywidgets attention explorer in a real JupyterLab: how long a reader waits per update, and
how many redraws a slider drag gets (issue #14: p90 under 100 ms on the toy graph, a
drag followed continuously).

    .venv/bin/python bench/bench_explorer.py            # writes its section of bench/results.md
    .venv/bin/python bench/bench_explorer.py --no-write

The same setup as tests/test_jupyterlab.py (tests/lab_session.py): JupyterLab on 127.0.0.1 over a
copy of book/, the GAT chapter run in headless Chromium with a live kernel. Then:

- latency: ``--updates`` single keyboard steps of the "scale" slider, alternately right and left;
  each is timed in the page from the key press to the moment the figure's image changes
  (MutationObserver), next step only after the kernel is idle again. Also the kernel's own compute +
  draw time per update (``explorer.timings``) and the first draw.
- drag: the scale slider's handle dragged 120 px with the mouse in 12 moves 30 ms apart (a 0.36 s
  drag), then 2 s to settle; counts the image changes (redraws the reader saw) and
  the kernel's updates.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from results_md import write_section  # noqa: E402

import lab_session  # noqa: E402 (lives in tests/, which the line above puts on sys.path)

WATCH_JS = """img => { window.__redraws = [];
                       new MutationObserver(() => window.__redraws.push(performance.now()))
                       .observe(img, {attributes: true, attributeFilter: ['src']}); }"""
KERNEL_IDLE = (
    "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'"
)


def scale_handle(explorer):
    sliders = explorer.locator(".widget-slider")
    for i in range(sliders.count()):
        if "scale" in sliders.nth(i).inner_text():
            return sliders.nth(i).locator(".noUi-handle")
    raise RuntimeError("no 'scale' slider in the explorer")


def measure(updates: int) -> dict:
    from playwright.sync_api import sync_playwright

    path = lab_session.chromium()
    if path is None:
        raise SystemExit(
            "Chromium not found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)"
        )
    with (
        tempfile.TemporaryDirectory() as tmp,
        lab_session.jupyter_lab(Path(tmp)) as (base, token),
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=path, args=lab_session.CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 1000})
        explorer = lab_session.open_and_run(page, base, token, "gat.ipynb")
        img = explorer.locator("img").first.element_handle()
        handle = scale_handle(explorer)
        page.evaluate(WATCH_JS, img)
        first = lab_session.probe(page)
        n0 = first["updates"]

        latencies = []
        handle.focus()
        for i in range(updates):
            count = page.evaluate("() => window.__redraws.length")
            start = page.evaluate("() => performance.now()")
            page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
            page.wait_for_function(f"() => window.__redraws.length > {count}", timeout=30_000)
            latencies.append(page.evaluate(f"() => window.__redraws[{count}]") - start)
            page.wait_for_function(KERNEL_IDLE, timeout=30_000)
        after_steps = lab_session.probe(page)
        timings = after_steps["timings"]
        kernel_ms = 1e3 * np.asarray(timings[n0 : n0 + updates])

        box = handle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        redraws_before = page.evaluate("() => window.__redraws.length")
        updates_before = after_steps["updates"]
        page.mouse.move(x, y)
        page.mouse.down()
        for step in range(1, 13):
            page.mouse.move(x + 10 * step, y)
            page.wait_for_timeout(30)
        page.mouse.up()
        page.wait_for_timeout(2000)
        page.wait_for_function(KERNEL_IDLE, timeout=30_000)
        drag_redraws = page.evaluate("() => window.__redraws.length") - redraws_before
        drag_updates = lab_session.probe(page)["updates"] - updates_before
        browser.close()
    lat = np.asarray(latencies)
    return {
        "updates": updates,
        "p50": float(np.percentile(lat, 50)),
        "p90": float(np.percentile(lat, 90)),
        "max": float(lat.max()),
        "kernel_p50": float(np.percentile(kernel_ms, 50)),
        "kernel_p90": float(np.percentile(kernel_ms, 90)),
        "first_draw": 1e3 * timings[0],
        "drag_redraws": int(drag_redraws),
        "drag_updates": int(drag_updates),
        "nodes": max(first["dst"]) + 1,
        "edges": len(first["dst"]),
    }


def markdown(r: dict) -> str:
    import jupyterlab
    import torch

    load = ", ".join(f"{x:.1f}" for x in __import__("os").getloadavg())
    return "\n".join(
        [
            "## The attention explorer in JupyterLab (`bench/bench_explorer.py`)",
            "",
            (
                f"Written on {time.strftime('%Y-%m-%d %H:%M')}: JupyterLab "
                f"{jupyterlab.__version__}, torch {torch.__version__}, "
                f"Python {platform.python_version()}, headless Chromium; load average at the end "
                f"{load} (shared machine)."
            ),
            f"The GAT chapter's explorer on its graph ({r['nodes']} nodes, {r['edges']} edges), "
            "live kernel.",
            "",
            "| measure | value |",
            "|---|---|",
            (
                "| update latency, key press to new image in the page, p50 / p90 / max "
                f"({r['updates']} slider steps) "
                f"| {r['p50']:.0f} / {r['p90']:.0f} / {r['max']:.0f} ms |"
            ),
            f"| kernel compute + draw per update, p50 / p90 | {r['kernel_p50']:.0f} / "
            f"{r['kernel_p90']:.0f} ms |",
            f"| first draw (kernel) | {r['first_draw']:.0f} ms |",
            f"| 12-step mouse drag (0.36 s): redraws seen / kernel updates | {r['drag_redraws']} / "
            f"{r['drag_updates']} |",
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=30)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args()
    result = measure(args.updates)
    text = markdown(result)
    print(text)
    if not args.no_write:
        write_section("bench_explorer.py", text, Path(args.out))
