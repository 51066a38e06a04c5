"""gnnbook's layers and ops against DGL and PyG on CPU: time (median) and peak memory.

    .venv/bin/python bench/bench_layers.py            # N = 10k and 100k, writes bench/results.md
    .venv/bin/python bench/bench_layers.py --quick    # N = 10k only (a check in about a minute)

Every library gets the same graph (E = 10 N random edges plus one self-loop per node), the same
weights and the same float32 inputs, in one process with ``torch.set_num_threads(2)``.
``forward`` runs under ``torch.no_grad()``; ``fwd+bwd`` is a training step's forward plus
``out.sum().backward()`` (gradients of the weights). Times: median of ``--repeat`` runs after two
warm-up runs. Peak memory: see :func:`peak_rss_mb` (one fresh child process per measurement).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import torch

warnings.filterwarnings("ignore")  # DGL and PyG warn about their own deprecations at import
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from results_md import write_section  # noqa: E402

import gnnbook.nn as gnn  # noqa: E402
from gnnbook import Graph, ops  # noqa: E402

THREADS, HEADS, FEATS, IN_FEATS = 2, 4, 16, 64


# --- inputs ------------------------------------------------------------------------------------
def make_graph(n: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    loops = torch.arange(n)
    src = torch.cat([torch.randint(0, n, (10 * n,), generator=gen), loops])
    dst = torch.cat([torch.randint(0, n, (10 * n,), generator=gen), loops])
    return src, dst


def make_layers(kind: str):
    """``{library: module}`` with identical weights (DGL's parameter names are gnnbook's)."""
    import dgl.nn as dglnn

    torch.manual_seed(0)
    if kind == "GATConv":
        from torch_geometric.nn import GATConv as PygGAT

        ours = gnn.GATConv(IN_FEATS, FEATS, HEADS)
        dgl_layer = dglnn.GATConv(IN_FEATS, FEATS, HEADS)
        pyg = PygGAT(IN_FEATS, FEATS, heads=HEADS, add_self_loops=False)  # the graph has its loops
        s = ours.state_dict()
        pyg.load_state_dict(
            {
                "lin.weight": s["fc.weight"],
                "att_src": s["attn_l"],
                "att_dst": s["attn_r"],
                "bias": s["bias"],
            }
        )
        layers = {"gnnbook": ours, "DGL": dgl_layer, "PyG": pyg}
    elif kind == "GraphConv":
        layers = {
            "gnnbook": gnn.GraphConv(IN_FEATS, IN_FEATS),
            "DGL": dglnn.GraphConv(IN_FEATS, IN_FEATS),
        }
    else:
        layers = {
            "gnnbook": gnn.SAGEConv(IN_FEATS, IN_FEATS, "mean"),
            "DGL": dglnn.SAGEConv(IN_FEATS, IN_FEATS, "mean"),
        }
    layers["DGL"].load_state_dict(layers["gnnbook"].state_dict())
    return layers


def make_calls(n: int, kind: str):
    """``{library: (fn, check)}``: ``fn(train)`` runs one forward (plus backward when ``train``)."""
    import dgl

    src, dst = make_graph(n)
    graphs = {
        "gnnbook": Graph(src, dst, n),
        "DGL": dgl.graph((src, dst), num_nodes=n),
        "PyG": torch.stack([src, dst]),
    }
    feat = torch.randn(n, IN_FEATS, generator=torch.Generator().manual_seed(1))
    calls = {}
    if (
        kind == "ops"
    ):  # edge_softmax then u_mul_e_sum, on given logits (E, H, 1) and features (N, H, F)
        logits = torch.randn(src.numel(), HEADS, 1, requires_grad=True)
        h = torch.randn(n, HEADS, FEATS, requires_grad=True)
        impls = {
            "gnnbook": (ops.edge_softmax, ops.u_mul_e_sum),
            "DGL": (dgl.ops.edge_softmax, lambda g, x, a: dgl.ops.u_mul_e_sum(g, x, a)),
        }
        for lib, (softmax, aggregate) in impls.items():
            g = graphs[lib]
            calls[lib] = lambda g=g, s=softmax, a=aggregate: a(g, h, s(g, logits))
    else:
        for lib, layer in make_layers(kind).items():
            g = graphs[lib]
            if lib == "PyG":  # PyG takes (x, edge_index), DGL and gnnbook (graph, feat)
                calls[lib] = lambda layer=layer, g=g: layer(feat, g)
            else:
                calls[lib] = lambda layer=layer, g=g: layer(g, feat)

    return {lib: training_step(call) for lib, call in calls.items()}


def training_step(call):
    """``run(train)``: ``call()`` under ``torch.no_grad()``, or with
    ``out.sum().backward()`` when ``train``."""

    def run(train: bool):
        if not train:
            with torch.no_grad():
                return call()
        out = call()
        out.sum().backward()
        return out.detach()

    return run


# --- measurements --------------------------------------------------------------------------------
def median_ms(fn, repeat: int) -> float:
    for _ in range(2):
        fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def _rss_status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])  # kB
    raise KeyError(field)


def peak_rss_mb(n: int, kind: str, lib: str, bench: str = "bench_layers") -> float:
    """Peak resident memory of a training step, measured in a fresh child process.

    The child builds the graph, the layer and the inputs, then resets the kernel's peak-RSS mark
    (``/proc/self/clear_refs``), runs three forward+backward steps (the first one builds each
    library's cached graph structures, which therefore count) and reports VmHWM minus the RSS it
    had just before: the extra memory the step needed at its peak, caches included. The child runs
    with ``MALLOC_MMAP_THRESHOLD_=65536``, so that freed tensors go back to the system. CPU only;
    on a GPU one would use ``torch.cuda.max_memory_allocated`` instead.
    """
    code = (
        f"import sys; sys.argv=['x']; sys.path.insert(0, {str(ROOT / 'bench')!r});"
        f"import bench_layers as b, {bench} as calls;"
        f"print(b._child_peak(calls.make_calls, {n}, {kind!r}, {lib!r}))"
    )
    # Every block over 64 KB gets its own mapping, returned on free: the peak is what the step
    # needs, not what glibc's heap happened to keep (see bench/README.md).
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return float(out.stdout.strip().splitlines()[-1])


def _child_peak(make, n: int, kind: str, lib: str) -> float:
    """The child's side of :func:`peak_rss_mb`; ``make`` is the ``make_calls`` of
    the benchmark file."""
    torch.set_num_threads(THREADS)
    run = make(n, kind)[lib]
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM (peak RSS) to the current RSS
    before = _rss_status("VmRSS")
    for _ in range(3):
        run(True)
    return (_rss_status("VmHWM") - before) / 1024


# --- report -------------------------------------------------------------------------------------
def machine() -> dict:
    import dgl
    import torch_geometric

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "threads": THREADS,
        "torch": torch.__version__,
        "dgl": dgl.__version__,
        "pyg": torch_geometric.__version__,
        "python": platform.python_version(),
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "load": os.getloadavg(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 10k only, no results.md")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the peak-memory child processes"
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    sizes = [10_000] if args.quick else [10_000, 100_000]
    rows = []
    header = (
        f"{'N':>7} {'what':<10} {'mode':<8} {'gnnbook':>9} {'DGL':>9} {'PyG':>9} {'/DGL':>6} "
        f"{'/PyG':>6}  peak MB (gnnbook/DGL/PyG)"
    )
    print(header)
    for n in sizes:
        for kind in ("ops", "GATConv", "GraphConv", "SAGEConv"):
            runs = make_calls(n, kind)
            if kind == "GATConv":  # same weights, same numbers: a sanity check before timing
                ref = runs["DGL"](False)
                for lib in ("gnnbook", "PyG"):
                    err = (runs[lib](False).reshape(ref.shape) - ref).abs().max().item()
                    assert err < 1e-4, f"{lib} GATConv differs from DGL's by {err}"
            for mode in ("forward", "fwd+bwd"):
                ms = {
                    lib: median_ms(lambda r=run, train=(mode == "fwd+bwd"): r(train), args.repeat)
                    for lib, run in runs.items()
                }
                mem = {}
                if mode == "fwd+bwd" and not args.no_memory:
                    mem = {lib: peak_rss_mb(n, kind, lib) for lib in runs}
                row = {"N": n, "what": kind, "mode": mode, "ms": ms, "peak_mb": mem}
                rows.append(row)
                print(format_row(row), flush=True)
    info = machine()
    print(
        f"\n{info['cpu']}, {info['threads']} threads, torch {info['torch']}, DGL {info['dgl']}, "
        f"PyG {info['pyg']}, load average {info['load'][0]:.1f}"
    )
    if not args.quick:
        write_section("bench_layers.py", markdown(rows, info), Path(args.out))
        print(f"wrote {args.out}")
    print(json.dumps(rows))


def _ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "-"


def format_row(r) -> str:
    ms, mem = r["ms"], r["peak_mb"]
    cell = lambda lib: f"{ms[lib]:9.1f}" if lib in ms else f"{'-':>9}"  # noqa: E731
    peaks = "/".join(f"{mem[lib]:.0f}" for lib in ("gnnbook", "DGL", "PyG") if lib in mem)
    return (
        f"{r['N']:>7} {r['what']:<10} {r['mode']:<8} {cell('gnnbook')} {cell('DGL')} {cell('PyG')} "
        f"{_ratio(ms['gnnbook'], ms['DGL']):>6} {_ratio(ms['gnnbook'], ms.get('PyG')):>6}  {peaks}"
    )


def markdown(rows, info) -> str:
    lines = [
        "## GCN, GraphSAGE, GAT and the ops (`bench/bench_layers.py`)",
        "",
        f"Written on {info['date']}.",
        "",
        f"- CPU: {info['cpu']} ({info['cores']} cores visible), "
        f"`torch.set_num_threads({info['threads']})`",
        f"- torch {info['torch']}, DGL {info['dgl']}, PyG {info['pyg']}, Python {info['python']}",
        f"- load average at the end: {', '.join(f'{x:.1f}' for x in info['load'])} "
        "(the machine is shared: times are medians, still noisy)",
        "- graph: N nodes, 10 N random edges plus N self-loops; H = 4 heads of F = 16, 64 input "
        "features, float32",
        "- forward: under `torch.no_grad()`; fwd+bwd: forward + `out.sum().backward()`; "
        "ms = median after warm-up",
        "- peak MB: extra resident memory at the peak of three training steps in a fresh process "
        "(VmHWM after resetting it, minus RSS before; the libraries' cached graph structures "
        "included; `MALLOC_MMAP_THRESHOLD_=65536`, so that freed tensors are returned, see "
        "`bench/README.md`)",
        "- `ops` = `edge_softmax` then `u_mul_e_sum` on given (E, H, 1) logits and (N, H, F) "
        "features, against `dgl.ops.edge_softmax` and `dgl.ops.u_mul_e_sum` (the kernel of "
        "`update_all(u_mul_e, sum)`)",
        "",
        "| N | what | mode | gnnbook ms | DGL ms | PyG ms | gnnbook/DGL | gnnbook/PyG "
        "| peak MB gnnbook | DGL | PyG |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ms, mem = r["ms"], r["peak_mb"]
        f = lambda d, lib, p=1: f"{d[lib]:.{p}f}" if lib in d else "-"  # noqa: E731
        lines.append(
            f"| {r['N']:,} | {r['what']} | {r['mode']} | {f(ms, 'gnnbook')} | {f(ms, 'DGL')} | "
            f"{f(ms, 'PyG')} | {_ratio(ms['gnnbook'], ms['DGL'])} | "
            f"{_ratio(ms['gnnbook'], ms.get('PyG'))} | "
            f"{f(mem, 'gnnbook', 0)} | {f(mem, 'DGL', 0)} | {f(mem, 'PyG', 0)} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
