"""A real JupyterLab on 127.0.0.1 driven by headless Chromium: start it on a copy of ``book/``, open
a chapter, run every cell with a live kernel, find the ipywidgets attention explorer
and move its controls.

Used by tests/test_jupyterlab.py (α changes and sums to one after every move) and
bench/bench_explorer.py (latency per update, redraws per drag).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# Python run in the chapter's kernel: the explorer (any global with .controls and .alpha) and its
# graph's destinations, printed as one JSON line.
PROBE = """
import json as _json
_box = next(v for v in list(globals().values())
            if hasattr(v, "controls") and hasattr(v, "alpha") and hasattr(v, "state"))
_g = next(v for v in list(globals().values())
          if type(v).__name__ == "Graph" and len(v.dst) == len(_box.alpha))
print("PROBE" + _json.dumps({"alpha": [float(a) for a in _box.alpha], "dst": _g.dst.tolist(),
                             "state": dict(vars(_box.state())), "updates": len(_box.timings),
                             "timings": list(_box.timings)}))
"""


def chromium() -> str | None:
    for path in (
        os.environ.get("CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if path and Path(path).exists():
            return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyter_lab(workdir: Path):
    """A JupyterLab server serving ``workdir`` (a copy of book/ is made there); yields its base URL
    with token."""
    shutil.copytree(
        ROOT / "book",
        workdir / "book",
        ignore=shutil.ignore_patterns("_build", ".ipynb_checkpoints"),
    )
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
        ),
        "JUPYTER_CONFIG_DIR": str(workdir / ".jupyter"),
        "JUPYTER_RUNTIME_DIR": str(workdir / ".runtime"),
    }
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={workdir / 'book'}",
        "--LabApp.expose_app_in_browser=True",
        "--ServerApp.disable_check_xsrf=False",
        "--LabApp.news_url=",
        "--LabServerApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with open(workdir / "lab.log", "w") as log:
        proc = subprocess.Popen(
            cmd, cwd=workdir / "book", env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited: {(workdir / 'lab.log').read_text()[-2000:]}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=1),
            ):
                break
            time.sleep(0.5)
        else:
            raise RuntimeError("jupyter lab did not start within 120 s")
        yield f"http://127.0.0.1:{port}", token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def open_and_run(page, base: str, token: str, chapter: str, timeout_s: float = 900):
    """Open ``chapter`` (e.g. 'gat.ipynb'), run all cells, wait until the kernel is idle and the
    explorer is drawn. Returns the explorer's output element."""
    page.goto(f"{base}/lab/tree/{chapter}?token={token}", wait_until="domcontentloaded")
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
        timeout=180_000,
    )
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === "
        "'idle'",
        timeout=180_000,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => { const w = window.jupyterapp.shell.currentWidget;
                   const prompts = [...document.querySelectorAll('.jp-InputArea-prompt')]
                                   .map(p => p.textContent);
                   return w.sessionContext.session.kernel.status === 'idle' && prompts.length
                          && !prompts.some(p => p.includes('*')); }""",
        timeout=timeout_s * 1000,
        polling=1000,
    )
    errors = page.locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'] .ansi-red-fg, "
        ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']"
    )
    if errors.count():
        raise AssertionError(f"{chapter}: a cell raised: {errors.first.inner_text()[:500]}")
    explorer = (
        page.locator(".jp-OutputArea-output .widget-vbox")
        .filter(has=page.locator(".widget-slider"))
        .first
    )
    explorer.wait_for(state="visible", timeout=60_000)
    explorer.scroll_into_view_if_needed()
    return explorer


def probe(page) -> dict:
    """The explorer's α, the graph's destinations, the control state and its updates' timings, from
    the kernel."""
    result = page.evaluate(
        """code => new Promise((resolve, reject) => {
             const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
             const future = kernel.requestExecute({code, store_history: false, silent: false});
             let text = '';
             future.onIOPub = msg => {
               if (msg.header.msg_type === 'stream') text += msg.content.text;
               if (msg.header.msg_type === 'error')
                 reject(new Error(msg.content.ename + ': ' + msg.content.evalue));
             };
             future.done.then(() => resolve(text), reject);
           })""",
        PROBE,
    )
    line = next(line for line in result.splitlines() if line.startswith("PROBE"))
    return json.loads(line[len("PROBE") :])


def image_src(explorer) -> str:
    return explorer.locator("img").first.get_attribute("src") or ""


def wait_for_redraw(page, explorer, before: str, timeout_ms: int = 30_000) -> str:
    """Wait until the explorer's image differs from ``before`` and the kernel is idle; return the
    new src."""
    handle = explorer.locator("img").first.element_handle()
    page.wait_for_function(
        "([img, before]) => img.getAttribute('src') !== before",
        arg=[handle, before],
        timeout=timeout_ms,
    )
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === "
        "'idle'",
        timeout=timeout_ms,
    )
    return image_src(explorer)


def controls(explorer) -> dict:
    """The explorer's controls by kind: selects (dropdowns), toggle buttons, slider handles
    (keyboard-movable)."""
    return {
        "selects": [
            explorer.locator(".widget-dropdown select").nth(i)
            for i in range(explorer.locator(".widget-dropdown select").count())
        ],
        "toggles": [
            explorer.locator(".widget-toggle-buttons button").nth(i)
            for i in range(explorer.locator(".widget-toggle-buttons button").count())
        ],
        "sliders": [
            explorer.locator(".widget-slider .noUi-handle").nth(i)
            for i in range(explorer.locator(".widget-slider .noUi-handle").count())
        ],
    }
