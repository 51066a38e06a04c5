"""How fast the ipywidgets attention explorer answers a control on the toy graph.

Drives the same setup a chapter makes (``gnnbook.widgets.attention_explorer``): every slider dragged
through its range in small steps (as a mouse drag with ``continuous_update=True`` sends them), each
dropdown through its options. Prints the first draw and the median / 90th percentile / max of the
updates (compute + restyle + PNG), in milliseconds. Run:
``PYTHONPATH=src python bench/bench_explorer.py``.
"""
from __future__ import annotations

import time

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from gnnbook import widgets  # noqa: E402
from gnnbook.attention_model import RANGES  # noqa: E402


def main(steps: int = 24) -> dict:
    start = time.perf_counter()
    box = widgets.attention_explorer(seed=0)
    first = time.perf_counter() - start
    c, cpu = box.controls, []

    def move(name, value):
        before = time.process_time()
        c[name].value = value
        cpu.append(1e3 * (time.process_time() - before))

    for name, (lo, hi, step) in RANGES.items():
        for value in np.linspace(lo, hi, steps):
            move(name, float(round(value / step) * step))
    for kind in ("gatv2", "dot", "gat"):
        move("kind", kind)
    for head in (1, "mean", 0):
        move("head", head)
    for node in range(1, 6):
        move("node", node)
    updates = 1e3 * np.array(box.timings[1:])
    result = {"first_ms": 1e3 * first, "updates": len(updates), "median_ms": float(np.median(updates)),
              "p90_ms": float(np.percentile(updates, 90)), "max_ms": float(updates.max()),
              "cpu_p90_ms": float(np.percentile(cpu, 90))}
    print(f"explorer on the toy graph: first draw {result['first_ms']:.0f} ms; {result['updates']} updates: "
          f"median {result['median_ms']:.1f} ms, p90 {result['p90_ms']:.1f} ms, max {result['max_ms']:.1f} ms "
          f"(wall clock); p90 {result['cpu_p90_ms']:.1f} ms of CPU time per control move")
    return result


if __name__ == "__main__":
    main()
