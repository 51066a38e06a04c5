"""gnnbook.nn against the dense float64 references, DGL 2.1, and itself (invariances, determinism)."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnbook import Graph, reference
from gnnbook import nn as gnn

TOL = dict(rtol=1e-10, atol=1e-10)
ATTENTION = ("GATConv", "GATv2Conv", "DotGATConv")
SAGE = ("mean", "gcn", "pool", "lstm")


def make(kind, in_feats, heads=2, out=3, **kw):
    """A float64 gnnbook layer; ``kind`` is a class name, or 'SAGE-<aggregator>'."""
    torch.manual_seed(1)
    if kind.startswith("SAGE-"):
        return gnn.SAGEConv(in_feats, out, kind[5:], **kw).double()
    if kind == "GraphConv":
        return gnn.GraphConv(in_feats, out, **kw).double()
    return getattr(gnn, kind)(in_feats, out, heads, **kw).double()


def sample_graph(bipartite=False):
    """Duplicate edges (2->0 twice), a self-loop (0->0), and a node (6) whose only in-edge is its loop."""
    if bipartite:
        src, dst = [0, 1, 4, 4, 2, 3, 3, 0], [0, 0, 0, 0, 1, 1, 2, 2]
        return Graph(torch.tensor(src), torch.tensor(dst), num_src_nodes=5, num_dst_nodes=3)
    src = [2, 3, 4, 5, 2, 5, 4, 0, 0, 1, 0, 3, 1, 2, 0, 6]
    dst = [0, 0, 0, 0, 1, 1, 3, 2, 3, 2, 4, 4, 5, 0, 0, 6]
    return Graph(torch.tensor(src), torch.tensor(dst), 7)


def width_arg(widths):
    """``in_feats`` for input widths (src, dst): one int when they agree."""
    return widths[0] if widths[0] == widths[1] else widths


def features(g, widths, seed=0):
    gen = torch.Generator().manual_seed(seed)
    if g.is_bipartite:
        return tuple(torch.randn(n, w, generator=gen, dtype=torch.float64, requires_grad=True)
                     for n, w in ((g.num_src_nodes, widths[0]), (g.num_dst_nodes, widths[1])))
    return torch.randn(g.num_nodes, widths[0], generator=gen, dtype=torch.float64, requires_grad=True)


def run(layer, g, feat, edge_weight=None):
    """``(output, attention or None)`` of a gnnbook or DGL layer (same call either way)."""
    kw = {} if edge_weight is None else {"edge_weight": edge_weight}
    if type(layer).__name__ in ("GATConv", "GATv2Conv", "DotGATConv", "DotGatConv"):
        return layer(g, feat, get_attention=True, **kw)
    return layer(g, feat, **kw), None


def split(g, feat):
    return feat if isinstance(feat, tuple) else (feat, feat[: g.num_dst_nodes])


def residual_and_bias(layer, h_dst, out):
    if layer.res_fc is not None:
        out = out + layer.res_fc(h_dst).view(out.shape)
    bias = getattr(layer, "bias", None)
    return out if not isinstance(bias, torch.Tensor) else out + bias.view(out.shape[1:])


def dense(layer, g, feat, edge_weight=None):
    """The layer's output (and attention, per edge) from :mod:`gnnbook.reference`."""
    A = reference.adjacency(g)
    M = None if edge_weight is None else reference.adjacency(g, edge_weight)
    h_src, h_dst = split(g, feat)
    name = type(layer).__name__
    if name == "GraphConv":
        return reference.gcn(A, h_src, layer.weight, layer.bias, norm=layer._norm, weights=M), None
    if name == "SAGEConv":
        kind = layer._aggre_type
        pool = (layer.fc_pool.weight, layer.fc_pool.bias) if kind == "pool" else (None, None)
        self_w, bias = (None, layer.bias) if kind == "gcn" else (layer.fc_self.weight, layer.fc_self.bias)
        return reference.sage(A, h_src, h_dst, self_w, layer.fc_neigh.weight, bias, aggregator=kind,
                              W_pool=pool[0], b_pool=pool[1], weights=M), None
    fc_src, fc_dst = (layer.fc, layer.fc) if hasattr(layer, "fc") else (layer.fc_src, layer.fc_dst)
    if name == "GATConv":
        a = torch.cat([layer.attn_r, layer.attn_l], -1)[0]              # a = [a_r || a_l]
        out, alpha = reference.gat(A, h_src, h_dst, fc_src.weight, fc_dst.weight, a,
                                   negative_slope=layer.leaky_relu.negative_slope, weights=M)
        out = residual_and_bias(layer, h_dst, out)
    elif name == "GATv2Conv":
        out, alpha = reference.gatv2(A, h_src, h_dst, fc_src.weight, fc_dst.weight, layer.attn[0],
                                     b_src=fc_src.bias, b_dst=fc_dst.bias,
                                     negative_slope=layer.leaky_relu.negative_slope)
        out = residual_and_bias(layer, h_dst, out)
    else:
        out, alpha = reference.dot_attention(A, h_src, h_dst, fc_src.weight, fc_dst.weight, layer._num_heads)
    alpha = reference.per_edge(alpha, g)
    return out, alpha if edge_weight is None else alpha * edge_weight.view(-1, 1, 1)


# --- the dense references ---------------------------------------------------------------------------
REFERENCED = ("GraphConv", "SAGE-mean", "SAGE-gcn", "SAGE-pool", *ATTENTION)


@pytest.mark.parametrize("kind", REFERENCED)
@pytest.mark.parametrize("bipartite", [False, True])
@pytest.mark.parametrize("heads,out", [(1, 1), (4, 5)])
def test_equals_dense_reference(kind, bipartite, heads, out):
    g = sample_graph(bipartite)
    widths = (4, 6) if bipartite and kind not in ("GraphConv", "SAGE-gcn") else (4, 4)
    layer = make(kind, width_arg(widths), heads, out).eval()
    feat = features(g, widths)
    rst, alpha = run(layer, g, feat)
    ref, ref_alpha = dense(layer, g, feat)
    torch.testing.assert_close(rst, ref, **TOL)
    if alpha is not None:
        torch.testing.assert_close(alpha, ref_alpha, **TOL)


@pytest.mark.parametrize("kind", ["GraphConv", "SAGE-mean", "SAGE-gcn", "GATConv"])
def test_edge_weight_equals_dense_reference(kind):
    g = sample_graph()
    w = torch.rand(g.num_edges, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    layer = make(kind, 4).eval()
    feat = features(g, (4, 4))
    rst, alpha = run(layer, g, feat, w)
    ref, ref_alpha = dense(layer, g, feat, w)
    torch.testing.assert_close(rst, ref, **TOL)
    if alpha is not None:
        torch.testing.assert_close(alpha, ref_alpha, **TOL)


# --- random graphs (Hypothesis) ------------------------------------------------------------------
@st.composite
def random_graphs(draw):
    """A random homogeneous or bipartite graph, possibly with duplicate edges and self-loops, in which
    every destination has an in-edge."""
    bipartite = draw(st.booleans())
    n_src = draw(st.integers(1, 7))
    n_dst = draw(st.integers(1, 7)) if bipartite else n_src
    extra = draw(st.lists(st.tuples(st.integers(0, n_src - 1), st.integers(0, n_dst - 1)), max_size=20))
    cover = [(draw(st.integers(0, n_src - 1)), v) for v in range(n_dst)]  # one in-edge per destination
    pairs = draw(st.permutations(cover + extra))
    src, dst = (torch.tensor(list(t), dtype=torch.int64) for t in zip(*pairs))
    if bipartite:
        return Graph(src, dst, num_src_nodes=n_src, num_dst_nodes=n_dst)
    return Graph(src, dst, n_src)


def relabelled(g, feat, seed):
    """The same graph with nodes renumbered and edges shuffled; returns what is needed to undo it."""
    gen = torch.Generator().manual_seed(seed)
    p_src = torch.randperm(g.num_src_nodes, generator=gen)
    p_dst = p_src if not g.is_bipartite else torch.randperm(g.num_dst_nodes, generator=gen)
    order = torch.randperm(g.num_edges, generator=gen)
    new_src, new_dst = torch.empty_like(p_src), torch.empty_like(p_dst)
    new_src[p_src], new_dst[p_dst] = torch.arange(len(p_src)), torch.arange(len(p_dst))  # old id -> new id
    if g.is_bipartite:
        h = Graph(new_src[g.src][order], new_dst[g.dst][order], num_src_nodes=g.num_src_nodes,
                  num_dst_nodes=g.num_dst_nodes)
        return h, (feat[0][p_src], feat[1][p_dst]), p_dst, order
    return Graph(new_src[g.src][order], new_dst[g.dst][order], g.num_nodes), feat[p_src], p_dst, order


def check_random_graph(kind, g, heads, out, seed):
    widths = (3, 2) if g.is_bipartite and kind not in ("GraphConv", "SAGE-gcn") else (3, 3)
    layer = make(kind, width_arg(widths), heads, out).eval()
    feat = features(g, widths, seed)
    rst, alpha = run(layer, g, feat)
    ref, ref_alpha = dense(layer, g, feat)
    torch.testing.assert_close(rst, ref, **TOL)
    if alpha is not None:
        torch.testing.assert_close(alpha, ref_alpha, **TOL)
        sums = torch.zeros(g.num_dst_nodes, alpha.shape[1], dtype=alpha.dtype).index_add(0, g.dst, alpha[:, :, 0])
        torch.testing.assert_close(sums, torch.ones_like(sums), **TOL)  # alpha sums to 1 per destination
    h, feat_h, p_dst, order = relabelled(g, feat, seed)
    rst_h, alpha_h = run(layer, h, feat_h)
    torch.testing.assert_close(rst_h, rst[p_dst], **TOL)                # relabelling commutes with the layer
    if alpha is not None:
        torch.testing.assert_close(alpha_h, alpha[order], **TOL)          # attention follows its edge


hypothesis_case = given(g=random_graphs(), heads=st.sampled_from([1, 4]), out=st.sampled_from([1, 5]),
                        seed=st.integers(0, 2**16))


@pytest.mark.parametrize("kind", REFERENCED)
@settings(max_examples=200, deadline=None)
@hypothesis_case
def test_random_graphs(kind, g, heads, out, seed):
    check_random_graph(kind, g, heads, out, seed)


# --- DGL ---------------------------------------------------------------------------------------------
def dgl_twin(layer):
    """The DGL 2.1 layer built with the same arguments, holding the same weights."""
    import dgl.nn.pytorch as dglnn

    name = {"DotGATConv": "DotGatConv"}.get(type(layer).__name__, type(layer).__name__)
    twin = getattr(dglnn, name)(*layer._args, **layer._kwargs).double()
    twin.load_state_dict(layer.state_dict())
    return twin


def build(kind, in_feats, heads=2, out=3, **kw):
    layer = make(kind, in_feats, heads, out, **kw)
    if kind.startswith("SAGE-"):
        layer._args, layer._kwargs = (in_feats, out, kind[5:]), kw
    elif kind == "GraphConv":
        layer._args, layer._kwargs = (in_feats, out), kw
    else:
        layer._args, layer._kwargs = (in_feats, out, heads), kw
    return layer


def assert_same_as_dgl(layer, g, feat, edge_weight=None):
    """Outputs, attention and every gradient equal within 1e-10 (float64)."""
    pytest.importorskip("dgl")
    twin = dgl_twin(layer)
    sides = []
    for model, graph in ((layer, g), (twin, g.to_dgl())):
        leaves = [t.detach().clone().requires_grad_() for t in (feat if isinstance(feat, tuple) else (feat,))]
        w = None if edge_weight is None else edge_weight.detach().clone().requires_grad_()
        x = tuple(leaves) if isinstance(feat, tuple) else leaves[0]
        rst, alpha = run(model, graph, x, w)
        # DGL's edge_softmax backward reuses its output's memory: keep a copy of the attention first.
        saved = None if alpha is None else alpha.detach().clone()
        gen = torch.Generator().manual_seed(7)
        loss = (rst * torch.randn(rst.shape, generator=gen, dtype=rst.dtype)).sum()
        if alpha is not None:
            loss = loss + (alpha * torch.randn(alpha.shape, generator=gen, dtype=alpha.dtype)).sum()
        model.zero_grad()
        loss.backward()
        grads = {n: p.grad for n, p in model.named_parameters()}
        sides.append((rst.detach(), saved, [t.grad for t in leaves], None if w is None else w.grad, grads))
    (r1, a1, x1, w1, g1), (r2, a2, x2, w2, g2) = sides
    torch.testing.assert_close(r1, r2, **TOL)
    if a1 is not None:
        torch.testing.assert_close(a1, a2, **TOL)
    torch.testing.assert_close(x1, x2, **TOL)
    torch.testing.assert_close(w1, w2, **TOL)
    assert g1.keys() == g2.keys()
    for name in g1:
        torch.testing.assert_close(g1[name], g2[name], **TOL, msg=lambda m, n=name: f"grad of {n}: {m}")


ALL = ("GraphConv", *(f"SAGE-{a}" for a in SAGE), *ATTENTION)


@pytest.mark.dgl
@pytest.mark.parametrize("kind", ALL)
@pytest.mark.parametrize("bipartite", [False, True])
@pytest.mark.parametrize("heads,out", [(1, 1), (4, 5), (1, 5), (4, 1)])
def test_same_as_dgl(kind, bipartite, heads, out):
    g = sample_graph(bipartite)
    two = bipartite and kind not in ("GraphConv", "SAGE-gcn")
    widths = (4, 6) if two else (4, 4)
    layer = build(kind, width_arg(widths), heads, out)
    assert_same_as_dgl(layer.eval(), g, features(g, widths))


@pytest.mark.dgl
@pytest.mark.parametrize("kind", ["GATConv", "GATv2Conv"])
@pytest.mark.parametrize("residual_width", [None, 8, 5])  # off; identity (in == H*F = 8); linear
@pytest.mark.parametrize("bias", [True, False])
def test_residual_same_as_dgl(kind, residual_width, bias):
    g = sample_graph()
    width = residual_width or 5
    layer = build(kind, width, 4, 2, residual=residual_width is not None, bias=bias)
    expected = {None: type(None), 8: torch.nn.Identity, 5: torch.nn.Linear}[residual_width]
    assert isinstance(layer.res_fc, expected)
    assert_same_as_dgl(layer.eval(), g, features(g, (width, width)))


@pytest.mark.dgl
@pytest.mark.parametrize("kind", ["GraphConv", "SAGE-mean", "SAGE-gcn", "SAGE-pool", "SAGE-lstm", "GATConv"])
def test_edge_weight_same_as_dgl(kind):
    g = sample_graph()
    w = torch.rand(g.num_edges, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    assert_same_as_dgl(build(kind, 4).eval(), g, features(g, (4, 4)), w)


@pytest.mark.dgl
@pytest.mark.parametrize("norm", ["both", "right", "left", "none"])
@pytest.mark.parametrize("weight,bias", [(True, True), (False, False)])
def test_graphconv_options_same_as_dgl(norm, weight, bias):
    g = sample_graph()
    layer = build("GraphConv", 4, out=4, norm=norm, weight=weight, bias=bias, activation=torch.tanh)
    assert_same_as_dgl(layer, g, features(g, (4, 4)))


@pytest.mark.dgl
@pytest.mark.parametrize("kind", ["GATConv", "GATv2Conv", "DotGATConv", "GraphConv"])
def test_zero_in_degree_allowed_same_as_dgl(kind):
    g = Graph(torch.tensor([0, 1, 2]), torch.tensor([1, 2, 1]), 4)  # nodes 0 and 3 receive nothing
    layer = build(kind, 3, allow_zero_in_degree=True)
    assert_same_as_dgl(layer.eval(), g, features(g, (3, 3)))


@pytest.mark.dgl
def test_gatv2_share_weights_same_as_dgl():
    layer = build("GATv2Conv", 4, 2, 3, share_weights=True)
    assert layer.fc_dst is layer.fc_src
    assert_same_as_dgl(layer.eval(), sample_graph(), features(sample_graph(), (4, 4)))


@pytest.mark.dgl
def test_dgl_block_input():
    """A DGL block takes one feature tensor whose first rows are the destination nodes."""
    dgl = pytest.importorskip("dgl")
    g = sample_graph()
    frontier = dgl.in_subgraph(g.to_dgl(), torch.arange(4))             # the in-edges of nodes 0..3
    block = dgl.to_block(frontier, dst_nodes=torch.arange(4), include_dst_in_src=True)
    feat = torch.randn(block.num_src_nodes(), 4, dtype=torch.float64)
    for kind in ("GATConv", "SAGE-mean", "GATv2Conv"):
        layer = build(kind, 4).eval()
        torch.testing.assert_close(run(layer, block, feat)[0], run(dgl_twin(layer), block, feat)[0], **TOL)


@pytest.mark.dgl
@pytest.mark.parametrize("kind", ALL)
@pytest.mark.parametrize("in_feats", [4, (4, 6)])
def test_state_dict_loads_both_ways(kind, in_feats):
    if kind in ("GraphConv", "SAGE-gcn") and in_feats != 4:
        pytest.skip("GraphConv and the 'gcn' aggregator take one input width")
    pytest.importorskip("dgl")
    layer = build(kind, in_feats, residual=True) if kind in ("GATConv", "GATv2Conv") else build(kind, in_feats)
    twin = dgl_twin(layer)
    assert list(layer.state_dict()) == list(twin.state_dict())
    torch.nn.init.normal_(next(twin.parameters()))
    layer.load_state_dict(twin.state_dict())                            # DGL -> gnnbook
    twin.load_state_dict(layer.state_dict())                            # gnnbook -> DGL
    for (n1, p1), (n2, p2) in zip(layer.state_dict().items(), twin.state_dict().items()):
        assert n1 == n2 and torch.equal(p1, p2)


# --- modes, determinism, devices -------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["GATConv", "GATv2Conv", "SAGE-mean"])
def test_dropout_only_in_train_mode(kind):
    g = sample_graph()
    drops = dict(feat_drop=0.5) if kind.startswith("SAGE") else dict(feat_drop=0.5, attn_drop=0.5)
    layer = make(kind, 4, **drops)
    plain = make(kind, 4)
    feat = features(g, (4, 4))
    torch.testing.assert_close(run(layer.eval(), g, feat)[0], run(plain.eval(), g, feat)[0], **TOL)
    torch.manual_seed(0)
    assert not torch.allclose(run(layer.train(), g, feat)[0], run(plain.train(), g, feat)[0])


@pytest.mark.parametrize("kind", ALL)
def test_cpu_bit_identical_across_runs(kind):
    g = sample_graph()
    outputs = []
    for _ in range(2):
        layer = make(kind, 4, 2, 3)
        feat = features(g, (4, 4))
        rst, alpha = run(layer, g, feat)
        rst.sum().backward()
        outputs.append((rst, alpha, feat.grad, [p.grad for p in layer.parameters()]))
    (r1, a1, x1, p1), (r2, a2, x2, p2) = outputs
    assert torch.equal(r1, r2) and torch.equal(x1, x2)
    assert a1 is None or torch.equal(a1, a2)
    assert all(torch.equal(u, v) for u, v in zip(p1, p2))


@pytest.mark.parametrize("kind", ATTENTION)
def test_output_shapes(kind):
    g = sample_graph()
    rst, alpha = run(make(kind, 4, 4, 5), g, features(g, (4, 4)))
    assert rst.shape == (7, 4, 5) and alpha.shape == (g.num_edges, 4, 1)


def test_reset_parameters_redraws():
    layer = make("GATConv", 4, residual=True, bias=True)
    before = {n: p.detach().clone() for n, p in layer.named_parameters()}
    layer.reset_parameters()
    assert not torch.equal(before["fc.weight"], layer.fc.weight)
    assert torch.equal(layer.res_fc.bias, torch.zeros_like(layer.res_fc.bias))


@pytest.mark.gpu
@pytest.mark.parametrize("kind", ALL)
def test_cuda_matches_cpu(kind):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    g = sample_graph()
    layer = make(kind, 4, 2, 3).eval()
    feat = features(g, (4, 4))
    rst, alpha = run(layer, g, feat)
    rst_gpu, alpha_gpu = run(layer.to("cuda"), g.to("cuda"), feat.detach().to("cuda"))
    torch.testing.assert_close(rst_gpu.cpu(), rst.detach(), **TOL)
    if alpha is not None:
        torch.testing.assert_close(alpha_gpu.cpu(), alpha.detach(), **TOL)
