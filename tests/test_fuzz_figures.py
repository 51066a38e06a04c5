"""Property-based fuzzing of the figures: ``web.interactive_attention`` and ``gnnbook.draw``.

Each example draws valid or invalid inputs (NaN/Inf, wrong shapes, out-of-range nodes and heads,
negative scales, hostile label strings). A valid input must give a correct result (the page's α
equal to the layer's within 1e-6 and summing to 1 per node; drawings with one artist per edge and
widths that follow α); an invalid one a ValueError/TypeError whose message starts with the
argument's name. Anything else is a crash or a silent wrong result, and fails the test.
``CI=true`` runs 1000 derandomized examples per entry point, locally 40 random ones
(``tests/fuzzing.py``). The counts per entry point go to ``_build/fuzz-counts.json``.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import assume, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fuzzing import fuzz_settings, judge  # noqa: E402
from gnnbook import Graph, draw, web  # noqa: E402
from gnnbook.attention_model import STYLE, make_layers  # noqa: E402

FUZZ = fuzz_settings(dev_examples=40)

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
HOSTILE = [
    "<!--<script>",
    "</script>",
    "$",
    "$x$",
    "a$b",
    "\\",
    "$\\frac{$",
    "&amp;",
    "\u2028",
    "\u2029",
    "'\"><img src=x onerror=alert(1)>",
    "",
    " ",
    "\x00",
    "𝛼",
    "{}",
    "%s",
    "\n",
]
labels_st = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=8))
finite = st.floats(-3, 3, allow_nan=False, allow_infinity=False)
bad_number = st.sampled_from([float("nan"), float("inf"), -float("inf")])


def _outcome(entry: str, bad_argument, run, check) -> None:
    """:func:`fuzzing.judge` for an input whose error message must start with ``bad_argument``;
    every figure is closed afterwards."""
    errors = [rf"^{re.escape(bad_argument)}\b"] if bad_argument else []
    judge(entry, errors, run, check, after=lambda: plt.close("all"))


@st.composite
def graphs_with_loops(draw_, max_nodes=6):
    """A small graph (duplicate edges allowed) where every node has an in-edge (its self-loop)."""
    n = draw_(st.integers(1, max_nodes))
    pairs = draw_(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2 * n))
    src = [u for u, _ in pairs] + list(range(n))
    dst = [v for _, v in pairs] + list(range(n))
    return Graph(torch.tensor(src), torch.tensor(dst), n)


def _softmax(graph, heads, seed):
    gen = torch.Generator().manual_seed(seed)
    logits = 3.0 * torch.randn(graph.num_edges, heads, 1, generator=gen, dtype=torch.float64)
    from gnnbook import ops

    return ops.edge_softmax(graph, logits)


# --- web.interactive_attention -----------------------------------------------------------------
WEB_CORRUPTIONS = [
    "feat_nan",
    "feat_inf",
    "feat_width",
    "node",
    "head",
    "scale",
    "slope",
    "perturb",
    "perturb_node",
    "kind",
    "vmax",
    "layer_nan",
    "node_labels",
    "pos",
]


@FUZZ
@given(
    graph=graphs_with_loops(),
    heads=st.integers(1, 3),
    kind=st.sampled_from(["gat", "gatv2", "dot", "transformer"]),
    seed=st.integers(0, 3),
    node=st.integers(0, 5),
    head=st.one_of(st.none(), st.just("mean"), st.integers(0, 2)),
    scale=st.floats(0, 3),
    slope=st.floats(0, 1),
    perturb=finite,
    labels=st.lists(labels_st, min_size=6, max_size=6),
    corruption=st.one_of(st.none(), st.sampled_from(WEB_CORRUPTIONS)),
)
def test_fuzz_interactive_attention(
    graph, heads, kind, seed, node, head, scale, slope, perturb, labels, corruption
):
    n = graph.num_nodes
    assume(node < n and (head in (None, "mean") or head < heads))
    layers = make_layers(3, 2, heads, seed=seed)
    feat = web.default_features(n, 3, seed=seed)
    args = dict(graph=graph, layer=layers[kind], feat=feat, node=node, head=head, seed=seed)
    args.update(scale=scale, slope=slope, perturb=perturb, node_labels=labels[:n])
    bad = {"feat_nan": "feat", "feat_inf": "feat", "feat_width": "feat", "layer_nan": "layer"}.get(
        corruption, corruption
    )
    if corruption in ("feat_nan", "feat_inf"):
        args["feat"] = feat.clone()
        args["feat"][n - 1, 0] = float("nan") if corruption == "feat_nan" else float("inf")
    elif corruption == "feat_width":
        args["feat"] = web.default_features(n, 4)
    elif corruption in ("node", "perturb_node"):
        args[corruption] = n + 3
    elif corruption == "head":
        args["head"] = heads
    elif corruption == "scale":
        args["scale"] = -0.5
    elif corruption in ("slope", "perturb"):
        args[corruption] = float("nan")
    elif corruption == "kind":
        args["kind"] = "sparse"
    elif corruption == "vmax":
        args["vmax"] = -1.0
    elif corruption == "layer_nan":
        broken = make_layers(3, 2, heads, seed=seed)[kind]
        with torch.no_grad():
            next(broken.parameters()).view(-1)[0] = float("inf")
        args["layer"] = broken
    elif corruption == "node_labels":
        args["node_labels"] = labels[: n - 1]
    elif corruption == "pos":
        args["pos"] = {v: (float("nan"), 0.0) for v in range(n)}

    def check(fig):
        blob = re.search(r'class="gnnbook-params">(.*?)</script>', fig.html, re.S).group(1)
        assert not re.search(r"[<>&\u2028\u2029]", blob)
        params = json.loads(blob)
        assert params["labels"] == [str(x) for x in labels[:n]]
        page = web.attention_from_params(params, params["init"])  # what the page's numbers give
        _, att = layers[kind].double()(
            graph, feat, get_attention=True
        )  # the layer itself, untouched
        state = params["init"]
        neutral = dict(scale=1.0, perturb=0.0, slope=0.2)  # make_layers' slope: the layer as it is
        np.testing.assert_allclose(
            fig.attention(state, all_heads=True, **neutral),
            att[:, :, 0].detach().numpy(),
            rtol=0,
            atol=1e-6,
        )
        twin = fig.attention(state, all_heads=True)
        chosen = twin.mean(1) if state["head"] == "mean" else twin[:, state["head"]]
        np.testing.assert_allclose(page, chosen, rtol=0, atol=1e-6)
        sums = np.zeros(n)
        np.add.at(sums, graph.dst.numpy(), page)
        np.testing.assert_allclose(sums, 1.0, atol=1e-9)

    _outcome("web.interactive_attention", bad, lambda: web.interactive_attention(**args), check)


# --- gnnbook.draw -------------------------------------------------------------------------------
def _small_axes():
    fig = plt.figure(figsize=(2.0, 2.0), dpi=30)
    return fig.add_subplot()


# What every figure of a whole graph's attention draws: the graph, the heads and the layer's seed.
ATTENTION_DRAWS = dict(
    graph=graphs_with_loops(max_nodes=5), heads=st.integers(1, 3), seed=st.integers(0, 3)
)
DRAW_CORRUPTIONS = [
    "attention_nan",
    "attention_shape",
    "node",
    "head",
    "vmax",
    "pos",
    "node_labels",
]


@FUZZ
@given(
    **ATTENTION_DRAWS,
    node=st.one_of(st.none(), st.integers(0, 4)),
    head=st.one_of(st.none(), st.just("mean"), st.integers(0, 2)),
    labels=st.lists(labels_st, min_size=5, max_size=5),
    render=st.booleans(),
    corruption=st.one_of(st.none(), st.sampled_from(DRAW_CORRUPTIONS)),
)
def test_fuzz_draw_attention(graph, heads, seed, node, head, labels, render, corruption):
    n = graph.num_nodes
    assume((node is None or node < n) and (head in (None, "mean") or head < heads))
    att = _softmax(graph, heads, seed)
    args = dict(node=node, head=head, node_labels=labels[:n], vmax=None)
    bad = {"attention_nan": "attention", "attention_shape": "attention"}.get(corruption, corruption)
    if corruption == "attention_nan":
        att = att.clone()
        att[0, 0, 0] = float("nan")
    elif corruption == "attention_shape":
        att = att[:-1]
    elif corruption == "node":
        args["node"] = n
    elif corruption == "head":
        args["head"] = heads
    elif corruption == "vmax":
        args["vmax"] = float("inf")
    elif corruption == "pos":
        args["pos"] = {0: (0.0, 0.0)} if n > 1 else {0: (float("nan"), 0.0)}
    elif corruption == "node_labels":
        args["node_labels"] = labels[: n - 1]

    def run():
        ax = draw.draw_attention(graph, att, ax=_small_axes(), colorbar=False, **args)
        if render:
            ax.figure.canvas.draw()  # mathtext in labels is parsed here
        return ax

    def check(ax):
        patches = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("edge-")}
        assert len(patches) == graph.num_edges
        alpha = att[:, :, 0].numpy()
        alpha = alpha.mean(1) if head in (None, "mean") else alpha[:, head]
        lo, hi = STYLE["width_range"]
        for k in range(graph.num_edges):
            if node is None or int(graph.dst[k]) == node:
                width = lo + (hi - lo) * alpha[k] / (alpha.max() if alpha.max() > 0 else 1.0)
                assert math.isclose(patches[f"edge-{k}"].get_linewidth(), width, rel_tol=1e-9)
        assert draw.alt_text(ax).startswith(f"A graph of {n} nodes")

    _outcome("draw.draw_attention", bad, run, check)


@FUZZ
@given(
    **ATTENTION_DRAWS,
    head=st.one_of(st.none(), st.just("mean"), st.integers(0, 2)),
    labels=st.lists(labels_st, min_size=5, max_size=5),
    corruption=st.one_of(
        st.none(), st.sampled_from(["attention_nan", "head", "rows", "attention_shape"])
    ),
)
def test_fuzz_attention_heatmap(graph, heads, seed, head, labels, corruption):
    n = graph.num_nodes
    assume(head in (None, "mean") or head < heads)
    att = _softmax(graph, heads, seed)
    args = dict(head=head, node_labels=labels[:n])
    bad = "attention" if corruption in ("attention_nan", "attention_shape") else corruption
    if corruption == "attention_nan":
        att = att.clone()
        att[-1, -1, 0] = float("inf")
    elif corruption == "attention_shape":
        att = att[:, :, :1].repeat(1, 1, 2)
    elif corruption == "head":
        args["head"] = -1
    elif corruption == "rows":
        args["rows"] = [0] * (n + 1)  # not distinct

    def check(ax):
        matrix = ax.images[0].get_array()
        alpha = att[:, :, 0].numpy()
        alpha = alpha.mean(1) if head in (None, "mean") else alpha[:, head]
        dense = np.zeros((n, n))
        np.add.at(dense, (graph.dst.numpy(), graph.src.numpy()), alpha)
        np.testing.assert_allclose(matrix.filled(0.0), dense, atol=1e-12)
        np.testing.assert_allclose(dense.sum(1), 1.0, atol=1e-9)

    _outcome(
        "draw.attention_heatmap",
        bad,
        lambda: draw.attention_heatmap(
            graph, att, ax=_small_axes(), colorbar=False, annotate=False, **args
        ),
        check,
    )


@FUZZ
@given(
    **ATTENTION_DRAWS,
    head=st.one_of(st.none(), st.integers(0, 2)),
    bins=st.integers(1, 30),
    corruption=st.one_of(st.none(), st.sampled_from(["attention_nan", "head", "bins"])),
)
def test_fuzz_entropy_histogram(graph, heads, seed, head, bins, corruption):
    assume(head is None or head < heads)
    att = _softmax(graph, heads, seed)
    args = dict(head=head, bins=bins)
    bad = "attention" if corruption == "attention_nan" else corruption
    if corruption == "attention_nan":
        att = att.clone()
        att[0, 0, 0] = float("nan")
    elif corruption == "head":
        args["head"] = heads + 1
    elif corruption == "bins":
        args["bins"] = 0

    def check(ax):
        (bars,) = ax.containers
        expected = graph.num_nodes * (heads if head is None else 1)
        assert sum(p.get_height() for p in bars) == expected

    _outcome(
        "draw.attention_entropy_histogram",
        bad,
        lambda: draw.attention_entropy_histogram(graph, att, ax=_small_axes(), **args),
        check,
    )


@FUZZ
@given(
    heads=st.integers(1, 4),
    head=st.one_of(
        st.none(),
        st.just("mean"),
        st.integers(-2, 5),
        st.text(max_size=2),
        st.floats(0, 3),
        st.booleans(),
    ),
)
def test_fuzz_pick_head(heads, head):
    from gnnbook.attention_model import pick_head

    alpha = torch.rand(7, heads, 1, dtype=torch.float64)
    valid = head is None or head == "mean" or (type(head) is int and 0 <= head < heads)

    def check(picked):
        expected = alpha[:, :, 0].mean(1) if head in (None, "mean") else alpha[:, head, 0]
        torch.testing.assert_close(picked, expected)

    _outcome(
        "attention_model.pick_head",
        None if valid else "head",
        lambda: pick_head(alpha, head),
        check,
    )
