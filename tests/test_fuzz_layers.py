"""Fuzzing every layer's constructor and forward (Hypothesis): valid and invalid arguments alike.

Each draw must end in one of two ways: a ValueError/TypeError whose message names the argument at
fault, or a result equal to the dense float64 reference (:mod:`gnnbook.reference`, through the
table in ``layer_specs``). Draws cover dtypes, shapes, the 'meta' device, NaN/Inf, wrong widths and
row counts, empty graphs, multigraphs, bipartite graphs, extra feature dimensions, edge weights and
GraphConv's external weight. Every draw is counted per entry point (inputs tried, clear errors,
correct results, crashes, silent wrong answers, unclear errors) into
``_build/fuzz-counts.json``.

``CI=true`` runs 1000 derandomized examples per entry point, local runs 60 random ones
(``tests/fuzzing.py``).
"""

from __future__ import annotations

import copy
import functools
import math
import random

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from fuzzing import fuzz_settings, judge
from gnnbook import Graph
from layer_specs import LAYERS, dense, run

PROFILE = fuzz_settings(dev_examples=60)
SPECS = list(LAYERS.values())


class Draw:
    """What one draw expects: ``errors`` maps each fault in the input to a regex its message must
    match (empty: the input is valid and must give the reference's result)."""

    def __init__(self):
        self.errors: list[tuple[str, str]] = []

    def fault(self, what: str, pattern: str) -> None:
        self.errors.append((what, pattern))


# --- constructors ------------------------------------------------------------------------------
BAD_COUNTS = [0, -1, 2.5, True, "3", None]


def count_arg(draw, d: Draw, name: str):
    if draw(st.integers(0, 5)):
        return draw(st.integers(1, 4))
    value = draw(st.sampled_from(BAD_COUNTS))
    d.fault(name, rf"{name}\b.*(positive integer|got)")
    return value


def width_arg(draw, d: Draw, spec):
    kind = draw(st.sampled_from(["int", "int", "pair", "bad", "bad_pair"]))
    if kind == "int" or (kind == "pair" and not spec.pair_widths):
        if kind == "pair":
            d.fault("in_feats", r"in_feats must be a positive integer")
            return (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
        return draw(st.integers(1, 4))
    if kind == "pair":
        return (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    if kind == "bad":
        d.fault("in_feats", r"in_feats\b.*(positive integer|pair)")
        return draw(st.sampled_from(BAD_COUNTS))
    d.fault("in_feats", r"in_feats.*(positive integer|pair)")
    return draw(st.sampled_from([(0, 2), (2, -1), (1, 2, 3), (1,), (2.0, 2)]))


def probability_arg(draw, d: Draw, name: str):
    if draw(st.integers(0, 3)):
        return draw(st.sampled_from([0.0, 0.0, 0.3, 0.99]))
    d.fault(name, rf"{name} must be a dropout probability")
    return draw(st.sampled_from([-0.1, 1.0, 2, "0.5", True, None]))


def constructor_kwargs(draw, spec, d: Draw):
    """Positional and keyword arguments, some of them wrong (recorded in ``d``)."""
    in_feats = width_arg(draw, d, spec)
    out = count_arg(draw, d, "out_feats")
    heads = count_arg(draw, d, "num_heads") if spec.attention else 1
    kw = {}
    if spec.name == "GraphConv":
        kw["norm"] = draw(st.sampled_from(["both", "right", "left", "none", "sym", None]))
        if kw["norm"] not in ("both", "right", "left", "none"):
            d.fault("norm", r"norm must be one of")
        kw["weight"], kw["bias"] = draw(st.booleans()), draw(st.booleans())
    if spec.name.startswith("SAGE") or spec.name in ("GATConv", "GATv2Conv"):
        kw["feat_drop"] = probability_arg(draw, d, "feat_drop")
    if spec.name in ("GATConv", "GATv2Conv"):
        kw["attn_drop"] = probability_arg(draw, d, "attn_drop")
        kw["residual"], kw["bias"] = draw(st.booleans()), draw(st.booleans())
        kw["negative_slope"] = draw(st.sampled_from([0.2, 0.0, 1.0, 0.5]))
    if spec.name == "GATv2Conv":
        kw["share_weights"] = draw(st.booleans())
    if spec.name.startswith("SAGE"):
        kw["bias"] = draw(st.booleans())
    if spec.name != "GraphConv" and not spec.name.startswith("SAGE") or spec.name == "GraphConv":
        kw["allow_zero_in_degree"] = draw(st.booleans())
    return spec.args(in_feats, heads, out), kw


def fuzz_entry(entry: str, one_draw) -> None:
    """Run :func:`judge` on the profile's examples; ``one_draw(draw, d)`` builds one input, records
    its faults in ``d`` and returns ``(call, check_result)``."""

    @PROFILE
    @given(st.data())
    def fuzz(data):
        d = Draw()
        call, check_result = one_draw(data.draw, d)
        judge(entry, [pattern for _, pattern in d.errors], call, check_result)

    fuzz()


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_constructor(spec):
    def one_draw(draw, d):
        args, kw = constructor_kwargs(draw, spec, d)
        if spec.name.startswith("SAGE") and draw(st.integers(0, 7)) == 0:
            args = (*args[:2], draw(st.sampled_from(["sum", "max", None, "MEAN"])))
            d.fault("aggregator_type", r"aggregator_type must be one of")

        def built_layer_runs(layer):  # a built layer must also compute its formula
            g = Graph(torch.tensor([0, 1, 2, 2]), torch.tensor([1, 2, 0, 2]), 3)
            layer = layer.double().eval()
            widths = (
                (layer._in_src_feats, layer._in_dst_feats)
                if hasattr(layer, "_in_src_feats")
                else None
            )
            if widths is None or widths[0] == widths[1] or spec.name == "SAGE-gcn":
                width = layer._in_feats if widths is None else widths[0]
                feat = torch.randn(3, width, dtype=torch.float64)
            else:
                feat = (
                    torch.randn(3, widths[0], dtype=torch.float64),
                    torch.randn(3, widths[1], dtype=torch.float64),
                )
            if spec.name == "GraphConv" and layer.weight is None:
                return  # computes with an external weight: test_forward covers it
            compare(spec, layer, layer, g, feat, None, run(spec, layer, g, feat), None)

        return (lambda: spec.cls(*args, **kw)), built_layer_runs

    fuzz_entry(f"{spec.name}.__init__", one_draw)


# --- forward -------------------------------------------------------------------------------------
@st.composite
def graphs(draw):
    """Tiny graphs: empty ones, multigraphs (repeated edges), self-loops, bipartite ones."""
    bipartite = draw(st.booleans())
    n_src = draw(st.integers(0, 5))
    n_dst = draw(st.integers(0, 5)) if bipartite else n_src
    pairs = []
    if n_src and n_dst:
        pairs = draw(
            st.lists(st.tuples(st.integers(0, n_src - 1), st.integers(0, n_dst - 1)), max_size=10)
        )
        if draw(st.booleans()):  # usually every destination gets an in-edge
            pairs += [(draw(st.integers(0, n_src - 1)), v) for v in range(n_dst)]
    src = torch.tensor([p[0] for p in pairs], dtype=torch.int64)
    dst = torch.tensor([p[1] for p in pairs], dtype=torch.int64)
    if bipartite:
        return Graph(src, dst, num_src_nodes=n_src, num_dst_nodes=n_dst)
    return Graph(src, dst, n_src)


def tensor_fault(draw, d: Draw, name: str, t: torch.Tensor, *, extra_ok: bool, width_matters=True):
    """``t`` unchanged, or broken in one way (recorded in ``d`` under ``name``)."""
    kind = draw(
        st.sampled_from(
            ["ok"] * 6
            + ["nonfinite"] * 2
            + ["dtype", "rows", "width", "ndim", "meta", "object", "extra"]
        )
    )
    if kind == "nonfinite" and t.numel():
        flat = t.detach().clone().flatten()
        flat[draw(st.integers(0, flat.numel() - 1))] = draw(
            st.sampled_from([math.nan, math.inf, -math.inf])
        )
        return flat.view(t.shape)
    if kind == "dtype":
        dtype = draw(
            st.sampled_from(
                [
                    torch.int64,
                    torch.bool,
                    torch.float16,
                    torch.complex64,
                    torch.float32 if t.dtype == torch.float64 else torch.float64,
                ]
            )
        )
        # a float dtype is a fault only against parameters (a GraphConv may have none): see forward
        d.fault(
            "float dtype" if dtype.is_floating_point else name,
            rf"({name}|weight)\b.*({dtype}|floating-point)",
        )
        return t.to(dtype)
    if kind == "rows":
        d.fault(name, rf"{name} has \d+ rows")
        return (
            torch.cat([t, t[:1]])
            if t.shape[0] and draw(st.booleans())
            else torch.cat([t, t.new_zeros(1, *t.shape[1:])])
        )
    if kind == "width" and width_matters:
        d.fault(name, rf"{name} has \d+ features per node")
        return torch.cat([t, t[..., :1]], -1)
    if kind == "ndim":
        d.fault(name, rf"{name} must (be 2-D|have shape)")
        return t.flatten() if draw(st.booleans()) else t.new_tensor(1.0)
    if kind == "meta":
        d.fault(name, rf"{name} is on meta")
        return t.to("meta")
    if kind == "object":
        d.fault(name, rf"{name}\w* must be a torch.Tensor|a feature tuple must be")
        return draw(st.sampled_from([t.tolist(), "features", None, 3.0]))
    if kind == "extra" and not extra_ok:
        d.fault(name, rf"{name} must be 2-D")
        return t.unsqueeze(1)
    return t


def feature_input(draw, spec, layer, g, d: Draw, dtype):
    """``feat`` as a layer takes it (one tensor or a pair), with extra dims where allowed, maybe
    broken."""
    src_w, dst_w = (
        (layer._in_feats,) * 2
        if spec.name == "GraphConv"
        else (layer._in_src_feats, layer._in_dst_feats)
    )
    if spec.name == "SAGE-gcn":
        dst_w = src_w
    extra = draw(st.sampled_from([(), (), (), (2,), (1, 2)])) if spec.extra_dims else ()
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))

    def randn(n, w):
        return torch.randn(n, *extra, w, generator=gen, dtype=torch.float64).to(dtype)

    form = draw(st.sampled_from(["single", "pair", "pair", "list", "arity"]))
    if form == "arity":
        d.fault("feat", r"\(feat_src, feat_dst\)")
        return tuple(
            randn(g.num_src_nodes, src_w) for _ in range(draw(st.sampled_from([1, 3])))
        ), extra
    if form == "single":
        if spec.uses_dst and g.is_bipartite:
            d.fault("feat", r"bipartite .* pass features as a tuple \(feat_src, feat_dst\)")
        elif spec.uses_dst and src_w != dst_w:
            d.fault("feat", r"in_feats=.* pass a tuple \(feat_src, feat_dst\)")
        return tensor_fault(
            draw, d, "feat", randn(g.num_src_nodes, src_w), extra_ok=spec.extra_dims
        ), extra
    h_src = tensor_fault(
        draw, d, "feat_src", randn(g.num_src_nodes, src_w), extra_ok=spec.extra_dims
    )
    if spec.uses_dst:
        h_dst = tensor_fault(
            draw, d, "feat_dst", randn(g.num_dst_nodes, dst_w), extra_ok=spec.extra_dims
        )
        if (
            isinstance(h_src, torch.Tensor)
            and isinstance(h_dst, torch.Tensor)
            and h_src.dim() >= 2
            and h_dst.dim() >= 2
            and h_src.shape[1:-1] != h_dst.shape[1:-1]
        ):
            d.fault("feat_dst", r"feat_src and feat_dst must have the same dimensions")
    else:  # GraphConv ignores feat_dst whatever its shape; it must only be a tensor
        h_dst = draw(st.sampled_from([randn(g.num_dst_nodes, dst_w + 2), torch.zeros(1), None]))
        if h_dst is None:
            d.fault("feat_dst", r"feat_dst must be a torch.Tensor")
    pair = (h_src, h_dst)
    return (list(pair) if form == "list" else pair), extra


def edge_weight_input(draw, spec, g, d: Draw, dtype, extra):
    if not spec.edge_weight or draw(st.booleans()):
        return None
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    w = torch.rand(g.num_edges, generator=gen, dtype=torch.float64).to(dtype)
    kind = draw(st.sampled_from(["ok", "ok", "negative", "shape", "dtype", "meta", "object"]))
    if kind == "negative":
        w = w - 0.5
    elif kind == "shape":
        d.fault("edge_weight", r"edge_weight must have shape")
        w = w.unsqueeze(-1) if draw(st.booleans()) else torch.cat([w, w.new_ones(1)])
    elif kind == "dtype":
        d.fault("edge_weight", r"edge_weight is")
        w = w.to(
            torch.int64
            if draw(st.booleans())
            else (torch.float32 if dtype == torch.float64 else torch.float64)
        )
    elif kind == "meta":
        d.fault("edge_weight", r"edge_weight is")
        w = w.to("meta")
    elif kind == "object":
        d.fault("edge_weight", r"edge_weight must be a torch.Tensor")
        w = w.tolist()
    if spec.name == "GATConv" and extra:
        d.fault("edge_weight", r"edge_weight needs features of shape \(N, in_feats\)")
    return w


def external_weight(draw, layer, d: Draw, dtype):
    if layer.weight is not None:
        if draw(st.integers(0, 9)) == 0:
            d.fault("weight", r"external weight was given but the layer has its own")
            return torch.randn(layer._in_feats, layer._out_feats, dtype=dtype)
        return None
    if draw(st.integers(0, 3)) == 0:  # no weight at all: the features are not projected
        if layer.bias is not None and layer._in_feats != layer._out_feats:
            d.fault("weight", r"without a weight the features keep their")
        return None
    W = torch.randn(layer._in_feats, layer._out_feats, dtype=dtype)
    kind = draw(
        st.sampled_from(["ok", "ok", "ok", "1d", "transposed", "int", "float", "meta", "object"])
    )
    if kind == "1d":
        W = W[:, 0]
    elif kind == "transposed" and layer._in_feats != layer._out_feats:
        W = W.T
    elif kind == "int":
        W = W.to(torch.int64)
    elif kind == "float":
        W = W.to(torch.float32 if dtype == torch.float64 else torch.float64)
    elif kind == "meta":
        W = W.to("meta")
    elif kind == "object":
        W = W.tolist()
    if kind in ("1d", "int", "float", "meta", "object") or (
        kind == "transposed" and W.shape[0] != layer._in_feats
    ):
        d.fault("weight", r"\bweight (must|is)")
    return W


def zero_in_degree_fault(spec, layer, g, d: Draw):
    allowed = getattr(layer, "_allow_zero_in_degree", True) or spec.name.startswith("SAGE")
    if not allowed and g.num_dst_nodes and bool((g.in_degrees() == 0).any()):
        d.fault("graph", r"zero in-degree.*allow_zero_in_degree=True")


def affected_destinations(spec, g, feat) -> torch.Tensor:
    """Destinations whose output reads a non-finite input (their own or an in-neighbour's
    features)."""
    h_src, h_dst = feat if isinstance(feat, (tuple, list)) else (feat, feat[: g.num_dst_nodes])
    bad_src = ~torch.isfinite(h_src.flatten(1)).all(1)
    bad = torch.zeros(g.num_dst_nodes, dtype=torch.bool)
    bad.index_put_((g.dst,), bad_src[g.src], accumulate=True)
    if spec.uses_dst:
        bad |= ~torch.isfinite(h_dst.flatten(1)).all(1)
    return bad


def compare(spec, layer, twin, g, feat, edge_weight, result, weight):
    """The result equals the dense float64 reference; rows reading NaN/Inf are compared after
    replacing the non-finite inputs by zero (the dense products would spread them to every row)."""
    rst, alpha = result
    if weight is not None:  # GraphConv with an external W: the reference reads layer.weight
        twin = copy.deepcopy(twin)
        twin.weight = torch.nn.Parameter(weight.double())
    as_pair = isinstance(feat, (tuple, list))
    parts = [f.double() for f in feat] if as_pair else [feat.double()]
    if spec.name == "GraphConv" and as_pair:
        parts = [parts[0]]
    bad = affected_destinations(spec, g, tuple(parts) if len(parts) == 2 else parts[0])
    clean = [torch.nan_to_num(p, nan=0.0, posinf=0.0, neginf=0.0) for p in parts]
    ref_feat = tuple(clean) if len(clean) == 2 else clean[0]
    w = None if edge_weight is None else edge_weight.double()
    if spec.reference is None:
        ref, ref_alpha = lstm_reference(twin, g, ref_feat, w)
    else:
        ref, ref_alpha = dense(spec, twin, g, ref_feat, w)
    tol = {
        torch.float64: dict(rtol=1e-9, atol=1e-9),
        torch.float32: dict(rtol=2e-4, atol=2e-4),
    }.get(rst.dtype, dict(rtol=2e-2, atol=2e-2))
    assert rst.shape == ref.shape, f"shape {tuple(rst.shape)} != {tuple(ref.shape)}"
    if bad.any():  # NaN/Inf inputs: finite rows must still be right, computed from clean inputs
        ok = ~bad
        clean_rst = (
            run(
                spec,
                layer,
                g,
                tuple(c.to(rst.dtype) for c in clean)
                if len(clean) == 2
                else clean[0].to(rst.dtype),
                None if edge_weight is None else edge_weight,
            )[0]
            if spec.name != "GraphConv" or weight is None
            else None
        )
        torch.testing.assert_close(rst[ok].double(), ref[ok], **tol)
        if clean_rst is not None:
            torch.testing.assert_close(clean_rst.double(), ref, **tol)
        return
    torch.testing.assert_close(rst.double(), ref, **tol)
    if alpha is not None:
        torch.testing.assert_close(alpha.double(), ref_alpha, **tol)


def lstm_reference(layer, g, feat, edge_weight):
    """SAGE 'lstm', literally: per destination, the LSTM over its in-neighbours' messages in edge
    order."""
    h_src, h_dst = feat if isinstance(feat, tuple) else (feat, feat[: g.num_dst_nodes])
    rows = []
    for i in range(g.num_dst_nodes):
        edges = (g.dst == i).nonzero().flatten()
        if edges.numel() == 0:
            rows.append(h_src.new_zeros(layer._in_src_feats))
            continue
        seq = h_src[g.src[edges]] * (1 if edge_weight is None else edge_weight[edges].unsqueeze(-1))
        _, (last, _) = layer.lstm(seq.unsqueeze(0))
        rows.append(last[0, 0])
    h_n = torch.stack(rows) if rows else h_src.new_zeros(0, layer._in_src_feats)
    return layer.fc_self(h_dst) + layer.fc_neigh(h_n), None


def layer_options(rng: random.Random, spec) -> tuple[tuple, dict]:
    """Valid constructor arguments, drawn at random."""
    in_feats = rng.randint(1, 3)
    if spec.pair_widths and spec.name != "SAGE-gcn" and rng.random() < 0.5:
        in_feats = (in_feats, rng.randint(1, 3))
    args = spec.args(in_feats, rng.randint(1, 2), rng.randint(1, 3))
    flip = lambda: rng.random() < 0.5  # noqa: E731
    kw = {}
    if spec.name == "GraphConv":
        kw = dict(
            norm=rng.choice(["both", "right", "left", "none"]),
            weight=flip(),
            bias=flip(),
            allow_zero_in_degree=flip(),
        )
    elif spec.attention:
        kw["allow_zero_in_degree"] = flip()
        if spec.name != "DotGATConv":
            kw.update(residual=flip(), bias=flip())
        if spec.name == "GATv2Conv":
            kw["share_weights"] = flip()
    return args, kw


@functools.cache
def layer_pool(name: str, size: int = 48) -> list:
    """``(layer, float64 twin, dtype)`` triples with random valid options, built once (building
    costs more than a forward on these tiny graphs); biases are non-zero, so that a misplaced one
    shows."""
    spec, rng, pool = LAYERS[name], random.Random(name), []
    for i in range(size):
        args, kw = layer_options(rng, spec)
        torch.manual_seed(i)
        dtype = (
            torch.float64 if i % 3 else torch.float32
        )  # the features' dtype (a GraphConv may have no parameters)
        layer = spec.cls(*args, **kw).to(dtype).eval()
        with torch.no_grad():
            for param_name, p in layer.named_parameters():
                if "bias" in param_name:
                    p.uniform_(-1, 1)
        pool.append((layer, copy.deepcopy(layer).double(), dtype))
    return pool


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_forward(spec):
    def one_draw(draw, d):
        layer, twin, dtype = draw(st.sampled_from(layer_pool(spec.name)))
        g = draw(graphs())
        feat, extra = feature_input(draw, spec, layer, g, d, dtype)
        edge_weight = edge_weight_input(draw, spec, g, d, dtype, extra)
        weight = external_weight(draw, layer, d, dtype) if spec.name == "GraphConv" else None
        zero_in_degree_fault(spec, layer, g, d)
        if spec.name == "GraphConv" and layer.weight is layer.bias is weight is None:
            # no parameters at all: any float dtype works
            d.errors = [e for e in d.errors if e[0] != "float dtype"]
        kw = {} if edge_weight is None else {"edge_weight": edge_weight}
        if weight is not None:
            kw["weight"] = weight

        def call():
            if spec.attention:
                return layer(g, feat, get_attention=True, **kw)
            return layer(g, feat, **kw), None

        return call, lambda result: compare(spec, layer, twin, g, feat, edge_weight, result, weight)

    fuzz_entry(f"{spec.name}.forward", one_draw)
