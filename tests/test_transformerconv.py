"""gnnbook.nn.TransformerConv against its dense float64 formula, PyG's TransformerConv (through
gnnbook.compat, over Hypothesis-drawn graphs) and torch.nn.MultiheadAttention on
the complete graph."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gnnbook import Graph, compat, reference, reference_transformer
from gnnbook import nn as gnn
from test_ops_fast import path  # noqa: F401  (the fixture running each code path of the ops)

TOL = dict(rtol=1e-10, atol=1e-10)
D = torch.float64


def sample(bipartite=False, duplicates=True):
    """A self-loop, a node (5) with no in-edge, and (unless told not to) a duplicated edge 2->0."""
    if bipartite:
        return Graph(
            torch.tensor([0, 1, 4, 4, 2, 3, 3]),
            torch.tensor([0, 0, 0, 1, 1, 2, 0]),
            num_src_nodes=5,
            num_dst_nodes=4,
        )
    src, dst = [2, 3, 4, 1, 0, 0, 1, 5, 4], [0, 0, 0, 2, 0, 3, 4, 1, 3]
    if duplicates:
        src, dst = src + [2], dst + [0]
    return Graph(torch.tensor(src), torch.tensor(dst), 6)


def randomise(module, seed=3):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.5)
    return module


def inputs(g, widths, edge_feats=None, seed=0):
    """``(feat, edge_feat)`` in float64, leaves that require grad."""
    gen = torch.Generator().manual_seed(seed)
    mk = lambda *s: torch.randn(*s, generator=gen, dtype=D).requires_grad_()  # noqa: E731
    feat = (
        (mk(g.num_src_nodes, widths[0]), mk(g.num_dst_nodes, widths[1]))
        if g.is_bipartite
        else mk(g.num_nodes, widths[0])
    )
    return feat, None if edge_feats is None else mk(g.num_edges, edge_feats)


def make(widths, bipartite, **kw):
    kw.setdefault("allow_zero_in_degree", True)
    in_feats = widths if bipartite else widths[0]
    torch.manual_seed(0)
    return randomise(
        gnn.TransformerConv(in_feats, kw.pop("out", 3), kw.pop("heads", 2), **kw).double()
    )


def leaves(feat, edge_feat):
    return [
        t for t in (*(feat if isinstance(feat, tuple) else (feat,)), edge_feat) if t is not None
    ]


def dense_edge_feat(g, edge_feat):
    """Per-edge features as the dense ``(N_dst, N_src, D)`` tensor the reference takes."""
    out = edge_feat.new_zeros(g.num_dst_nodes, g.num_src_nodes, edge_feat.shape[1])
    return out.index_put((g.dst, g.src), edge_feat)


CONFIGS = [
    dict(concat=c, beta=b, root_weight=r, bias=bias)
    for c in (True, False)
    for b, r in ((False, True), (True, True), (False, False))
    for bias in (True, False)
]


@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: "-".join(f"{k}={int(v)}" for k, v in c.items())
)
@pytest.mark.parametrize("bipartite", [False, True])
@pytest.mark.parametrize("edge_feats", [None, 2])
@pytest.mark.usefixtures("path")
def test_matches_dense_reference(config, bipartite, edge_feats):
    g = sample(bipartite, duplicates=edge_feats is None)
    widths = (4, 6) if bipartite else (4, 4)
    layer = make(widths, bipartite, edge_feats=edge_feats, **config)
    feat, edge_feat = inputs(g, widths, edge_feats)
    rst, alpha = layer(g, feat, edge_feat, get_attention=True)
    h_src, h_dst = feat if bipartite else (feat, feat)
    dense = None if edge_feat is None else dense_edge_feat(g, edge_feat)
    ref, ref_alpha = reference_transformer.transformer_conv(
        reference.adjacency(g), h_src, h_dst, layer, dense
    )
    assert rst.shape == (g.num_dst_nodes, 2 if config["concat"] else 1, 3)
    torch.testing.assert_close(rst, ref, **TOL)
    torch.testing.assert_close(alpha, reference.per_edge(ref_alpha, g), **TOL)
    w = torch.randn(rst.shape, generator=torch.Generator().manual_seed(5), dtype=D)
    xs = leaves(feat, edge_feat) + list(layer.parameters())
    torch.testing.assert_close(
        torch.autograd.grad((rst * w).sum(), xs, allow_unused=True),
        torch.autograd.grad((ref * w).sum(), xs, allow_unused=True),
        **TOL,
    )


def test_attention_sums_to_one_and_zero_in_degree_keeps_the_root_term():
    g = sample()
    layer = make((4, 4), False)
    feat, _ = inputs(g, (4, 4))
    rst, alpha = layer(g, feat, get_attention=True)
    sums = torch.zeros(g.num_nodes, 2, dtype=D).index_add(0, g.dst, alpha[..., 0])
    has_in = g.in_degrees() > 0
    torch.testing.assert_close(sums[has_in], torch.ones_like(sums[has_in]), **TOL)
    torch.testing.assert_close(
        rst[5], layer.lin_skip(feat[5]).view(2, 3), **TOL
    )  # node 5: no in-edges


def test_attention_dropout_only_in_training():
    g = sample()
    layer = make((4, 4), False, attn_drop=0.5)
    feat, _ = inputs(g, (4, 4))
    layer.eval()
    torch.testing.assert_close(layer(g, feat), layer(g, feat), **TOL)
    layer.train()
    torch.manual_seed(0)
    assert not torch.allclose(layer(g, feat), layer.eval()(g, feat))


def test_reset_parameters_and_parameter_names():
    layer = gnn.TransformerConv((4, 6), 3, 2, beta=True, edge_feats=5)
    names = {name.split(".")[0] for name, _ in layer.named_parameters()}
    assert names == {"lin_query", "lin_key", "lin_value", "lin_edge", "lin_skip", "lin_beta"}
    assert (
        layer.lin_query.in_features == 6
        and layer.lin_key.in_features == 4
        and layer.lin_skip.out_features == 6
    )
    assert gnn.TransformerConv(4, 3, 2, concat=False, beta=True).lin_beta.in_features == 9
    before = [p.detach().clone() for p in layer.parameters()]
    layer.reset_parameters()
    assert all(not torch.equal(a, b) for a, b in zip(before, layer.parameters()))


def test_bad_inputs_name_the_argument():
    g = sample(duplicates=False)
    feat = torch.randn(6, 4)
    layer = gnn.TransformerConv(4, 3, 2, edge_feats=2, allow_zero_in_degree=True)
    with pytest.raises(ValueError, match=r"edge_feat must have shape \(9, 2\)"):
        layer(g, feat, torch.randn(9, 3))
    with pytest.raises(ValueError, match=r"edge_feat must have shape \(9, 2\)"):
        layer(g, feat, torch.randn(8, 2))
    with pytest.raises(ValueError, match="edge_feats=2: pass edge_feat"):
        layer(g, feat)
    with pytest.raises(TypeError, match="edge_feat is torch.float64"):
        layer(g, feat, torch.randn(9, 2, dtype=D))
    with pytest.raises(ValueError, match="built without edge features"):
        gnn.TransformerConv(4, 3, 2, allow_zero_in_degree=True)(g, feat, torch.randn(9, 2))
    with pytest.raises(ValueError, match="needs root_weight=True"):
        gnn.TransformerConv(4, 3, 2, beta=True, root_weight=False)
    with pytest.raises(ValueError, match="edge_feats must be a positive integer"):
        gnn.TransformerConv(4, 3, 2, edge_feats=0)
    with pytest.raises(ValueError, match="num_heads must be a positive integer"):
        gnn.TransformerConv(4, 3, 0)
    with pytest.raises(ValueError, match="attn_drop"):
        gnn.TransformerConv(4, 3, 2, attn_drop=1.0)
    with pytest.raises(ValueError, match="feat has 5 features per node but the layer expects 4"):
        layer(g, torch.randn(6, 5), torch.randn(9, 2))
    with pytest.raises(ValueError, match="zero in-degree"):
        gnn.TransformerConv(4, 3, 2)(g, feat)


# --- the Transformer is this layer on the complete graph ----------------------------------------
@pytest.mark.parametrize("heads", [1, 4])
def test_complete_graph_is_multihead_attention(heads):
    n, width = 7, 8
    ids = torch.arange(n)
    g = Graph(ids.repeat_interleave(n), ids.repeat(n), n)  # every j -> i, self-loops included
    layer = make((width, width), False, out=width // heads, heads=heads, root_weight=False)
    mha = torch.nn.MultiheadAttention(width, heads, batch_first=True, dtype=D)
    with (
        torch.no_grad()
    ):  # in_proj stacks W_q, W_k, W_v; no out_proj in the graph layer, so the identity
        mha.in_proj_weight.copy_(
            torch.cat([layer.lin_query.weight, layer.lin_key.weight, layer.lin_value.weight])
        )
        mha.in_proj_bias.copy_(
            torch.cat([layer.lin_query.bias, layer.lin_key.bias, layer.lin_value.bias])
        )
        mha.out_proj.weight.copy_(torch.eye(width, dtype=D))
        mha.out_proj.bias.zero_()
    x = torch.randn(n, width, dtype=D, generator=torch.Generator().manual_seed(0))
    expected, weights = mha(x[None], x[None], x[None], average_attn_weights=False)
    rst, alpha = layer(g, x, get_attention=True)
    torch.testing.assert_close(rst.flatten(1), expected[0], **TOL)
    # alpha of edge j -> i is row i, column j of each head's attention matrix
    torch.testing.assert_close(alpha[..., 0], weights[0][:, g.dst, g.src].T, **TOL)


# --- PyG ----------------------------------------------------------------------------------------
def pyg_side(module, g, feat, edge_feat):
    out, (edge_index, alpha) = module(
        feat, g.to_edge_index(), edge_feat, return_attention_weights=True
    )
    assert torch.equal(edge_index, g.to_edge_index())
    return out, alpha


def assert_same_as_pyg(layer, module, g, feat, edge_feat):
    """Outputs, attention, and gradients of inputs and of every parameter (same names) agree."""
    rst, alpha = layer(g, feat, edge_feat, get_attention=True)
    out, pyg_alpha = pyg_side(module, g, feat, edge_feat)
    torch.testing.assert_close(rst.flatten(1), out, **TOL)
    torch.testing.assert_close(alpha[..., 0], pyg_alpha, **TOL)
    w = torch.randn(out.shape, generator=torch.Generator().manual_seed(7), dtype=D)
    xs = leaves(feat, edge_feat)
    ours = dict(layer.named_parameters())
    theirs = {name: p for name, p in module.named_parameters() if name in ours}
    names = sorted(ours)
    g1 = torch.autograd.grad(
        (rst.flatten(1) * w).sum(), xs + [ours[k] for k in names], allow_unused=True
    )
    g2 = torch.autograd.grad((out * w).sum(), xs + [theirs[k] for k in names], allow_unused=True)
    torch.testing.assert_close(g1, g2, **TOL)


@pytest.mark.pyg
@pytest.mark.parametrize(
    "config", CONFIGS, ids=lambda c: "-".join(f"{k}={int(v)}" for k, v in c.items())
)
@pytest.mark.parametrize("bipartite", [False, True])
def test_compat_both_ways(config, bipartite):
    pytest.importorskip("torch_geometric")
    g = sample(bipartite)
    widths = (4, 6) if bipartite else (4, 4)
    layer = make(widths, bipartite, edge_feats=3, **config)
    feat, edge_feat = inputs(g, widths, 3)
    module = compat.to_pyg(layer, concat=config["concat"])
    assert_same_as_pyg(layer, module, g, feat, edge_feat)
    back = compat.from_pyg(module)
    assert_same_as_pyg(back, module, g, feat, edge_feat)
    for name, p in layer.state_dict().items():
        assert torch.equal(back.state_dict()[name], p)


@pytest.mark.pyg
def test_compat_refuses_a_different_merge():
    pytest.importorskip("torch_geometric")
    with pytest.raises(ValueError, match="call to_pyg\\(layer, concat=False\\)"):
        compat.to_pyg(gnn.TransformerConv(4, 3, 2, concat=False))


@st.composite
def drawn_case(draw):
    """A tiny graph (bipartite or not, duplicates allowed without edge features, zero in-degree
    allowed) and a layer configuration."""
    bipartite = draw(st.booleans())
    n_src = draw(st.integers(1, 6))
    n_dst = draw(st.integers(1, 6)) if bipartite else n_src
    pairs = st.tuples(st.integers(0, n_src - 1), st.integers(0, n_dst - 1))
    edge_feats = draw(st.sampled_from([None, 1, 3]))
    edges = draw(st.lists(pairs, max_size=14, unique=edge_feats is not None))
    src, dst = (
        (torch.tensor(e, dtype=torch.int64) for e in zip(*edges))
        if edges
        else (torch.empty(0, dtype=torch.int64),) * 2
    )
    g = (
        Graph(src, dst, num_src_nodes=n_src, num_dst_nodes=n_dst)
        if bipartite
        else Graph(src, dst, n_src)
    )
    widths = (draw(st.integers(1, 4)), draw(st.integers(1, 4)) if bipartite else None)
    widths = (widths[0], widths[1] if bipartite else widths[0])
    beta, root = draw(st.sampled_from([(False, True), (True, True), (False, False)]))
    config = dict(
        heads=draw(st.integers(1, 3)),
        out=draw(st.integers(1, 3)),
        concat=draw(st.booleans()),
        beta=beta,
        root_weight=root,
        bias=draw(st.booleans()),
        edge_feats=edge_feats,
    )
    return g, widths, config, draw(st.integers(0, 2**16))


@pytest.mark.pyg
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn_case())
def test_equals_pyg_on_drawn_graphs(case):
    pytest.importorskip("torch_geometric")
    g, widths, config, seed = case
    layer = make(widths, g.is_bipartite, **config)
    feat, edge_feat = inputs(g, widths, config["edge_feats"], seed)
    assert_same_as_pyg(layer, compat.to_pyg(layer, concat=config["concat"]), g, feat, edge_feat)
