"""gnnbook's TransformerConv (and the u_dot_v op under it) against PyG's (and DGL's op) on CPU.

    .venv/bin/python bench/bench_transformer.py            # N = 100k
    .venv/bin/python bench/bench_transformer.py --quick    # N = 10k (a check in about a minute)

The conventions of ``bench_layers.py``: the same graph (E = 10 N random edges plus one self-loop per
node), the same weights and float32 inputs for every library, ``torch.set_num_threads(2)``, forward
under ``torch.no_grad()``, ``fwd+bwd`` = forward + ``out.sum().backward()``, two warm-ups, peak
memory of three training steps in a fresh child process. The timed runs alternate between gnnbook
and the other library (which one goes first alternates too), ``--repeat`` runs each: on a shared
machine both then see the same load, and the ratio of their medians holds up better than either
time. Prints a table (and JSON); it does not write ``results.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

warnings.filterwarnings("ignore")  # DGL and PyG warn about their own deprecations at import
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import bench_layers as common  # noqa: E402  (also puts src/ on the path)

import gnnbook.nn as gnn  # noqa: E402
from gnnbook import Graph, compat, ops  # noqa: E402

EDGE_FEATS = 16
KINDS = ("u_dot_v", "TransformerConv", "TransformerConv+edge")


def make_calls(n: int, kind: str):
    """``{library: run}``: ``run(train)`` does one forward (plus backward when ``train``)."""
    src, dst = common.make_graph(n)
    g, edge_index = Graph(src, dst, n), torch.stack([src, dst])
    gen = torch.Generator().manual_seed(1)
    if kind == "u_dot_v":  # (N, H, F) keys and queries -> (E, H, 1)
        import dgl

        k = torch.randn(n, common.HEADS, common.FEATS, generator=gen, requires_grad=True)
        q = torch.randn(n, common.HEADS, common.FEATS, generator=gen, requires_grad=True)
        dgl_graph = dgl.graph((src, dst), num_nodes=n)
        calls = {
            "gnnbook": lambda: ops.u_dot_v(g, k, q),
            "DGL": lambda: dgl.ops.u_dot_v(dgl_graph, k, q),
        }
    else:
        edge_feats = EDGE_FEATS if kind.endswith("+edge") else None
        feat = torch.randn(n, common.IN_FEATS, generator=gen)
        edge_feat = (
            None if edge_feats is None else torch.randn(src.numel(), EDGE_FEATS, generator=gen)
        )
        torch.manual_seed(0)
        ours = gnn.TransformerConv(
            common.IN_FEATS, common.FEATS, common.HEADS, edge_feats=edge_feats
        )
        pyg = compat.to_pyg(ours)
        calls = {
            "gnnbook": lambda: ours(g, feat, edge_feat),
            "PyG": lambda: pyg(feat, edge_index, edge_feat),
        }

    return {lib: common.training_step(call) for lib, call in calls.items()}


def interleaved_ms(runs: dict, repeat: int) -> dict:
    """``{name: median ms}`` of ``repeat`` calls of each ``run()`` in ``runs`` (two warm-ups each),
    taken in turns: round ``r`` calls them in order, or in reverse order when ``r`` is odd."""
    for run in runs.values():
        run()
        run()
    times = {name: [] for name in runs}
    for r in range(repeat):
        for name in list(runs)[:: -1 if r % 2 else 1]:
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    return {name: 1e3 * statistics.median(t) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 10k instead of 100k")
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per library")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=KINDS, help="rows to measure")
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the peak-memory child processes"
    )
    args = parser.parse_args()
    torch.set_num_threads(common.THREADS)
    n = 10_000 if args.quick else 100_000
    print(
        f"{'N':>7} {'what':<21} {'mode':<8} {'gnnbook':>9} {'other':>9} {'ratio':>6}  peak MB "
        "(gnnbook/other)"
    )
    rows = []
    for kind in args.kinds:
        runs = make_calls(n, kind)
        ours, (other, theirs) = runs.pop("gnnbook"), next(iter(runs.items()))
        ref = theirs(False)  # same weights, same numbers: a sanity check before timing
        err = (ours(False).reshape(ref.shape) - ref).abs().max().item()
        assert err < 1e-4, f"gnnbook's {kind} differs from {other}'s by {err}"
        for mode in ("forward", "fwd+bwd"):
            train = mode == "fwd+bwd"
            ms = interleaved_ms(
                {
                    lib: lambda r=run, train=train: r(train)
                    for lib, run in (("gnnbook", ours), (other, theirs))
                },
                args.repeat,
            )
            mem = (
                {}
                if not train or args.no_memory
                else {
                    lib: common.peak_rss_mb(n, kind, lib, bench="bench_transformer") for lib in ms
                }
            )
            load = os.getloadavg()[0]
            rows.append(
                {
                    "N": n,
                    "what": kind,
                    "mode": mode,
                    "other": other,
                    "ms": ms,
                    "peak_mb": mem,
                    "load": load,
                }
            )
            peaks = "/".join(f"{mem[lib]:.0f}" for lib in ms) if mem else ""
            print(
                f"{n:>7} {kind:<21} {mode:<8} {ms['gnnbook']:9.1f} {ms[other]:9.1f} "
                f"{ms['gnnbook'] / ms[other]:6.2f}  {peaks}  ({other}; load {load:.1f})",
                flush=True,
            )
    info = common.machine()
    print(
        f"\n{info['cpu']}, {info['threads']} threads, torch {info['torch']}, DGL {info['dgl']}, "
        f"PyG {info['pyg']}, load average {', '.join(f'{x:.1f}' for x in info['load'])}"
    )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
