"""gnnbook.nn against the dense float64 references, DGL 2.1, and itself (invariances,
determinism)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnbook import Graph
from gnnbook import nn as gnn
from layer_specs import ATTENTION, LAYERS, REFERENCED, dense, dgl_twin, make, run

TOL = dict(rtol=1e-10, atol=1e-10)
SPECS = list(LAYERS.values())


def sample_graph(bipartite=False):
    """Duplicate edges (2->0 twice), a self-loop (0->0), and a node (6) whose only in-edge is its
    loop."""
    if bipartite:
        src, dst = [0, 1, 4, 4, 2, 3, 3, 0], [0, 0, 0, 0, 1, 1, 2, 2]
        return Graph(torch.tensor(src), torch.tensor(dst), num_src_nodes=5, num_dst_nodes=3)
    src = [2, 3, 4, 5, 2, 5, 4, 0, 0, 1, 0, 3, 1, 2, 0, 6]
    dst = [0, 0, 0, 0, 1, 1, 3, 2, 3, 2, 4, 4, 5, 0, 0, 6]
    return Graph(torch.tensor(src), torch.tensor(dst), 7)


def width_arg(widths):
    """``in_feats`` for input widths (src, dst): one int when they agree."""
    return widths[0] if widths[0] == widths[1] else widths


def bipartite_widths(spec, two=(4, 6), one=(4, 4)):
    """Different source and destination widths where the layer's in_feats can say so."""
    return two if spec.pair_widths and spec.name != "SAGE-gcn" else one


def features(g, widths, seed=0, extra=()):
    gen = torch.Generator().manual_seed(seed)
    if g.is_bipartite:
        return tuple(
            torch.randn(n, *extra, w, generator=gen, dtype=torch.float64, requires_grad=True)
            for n, w in ((g.num_src_nodes, widths[0]), (g.num_dst_nodes, widths[1]))
        )
    return torch.randn(
        g.num_nodes, *extra, widths[0], generator=gen, dtype=torch.float64, requires_grad=True
    )


# --- the dense references -------------------------------------------------------------------------
@pytest.mark.parametrize("spec", REFERENCED, ids=str)
@pytest.mark.parametrize("bipartite", [False, True])
@pytest.mark.parametrize("heads,out", [(1, 1), (4, 5)])
def test_equals_dense_reference(spec, bipartite, heads, out):
    g = sample_graph(bipartite)
    widths = bipartite_widths(spec) if bipartite else (4, 4)
    layer = make(spec, width_arg(widths), heads, out).eval()
    feat = features(g, widths)
    rst, alpha = run(spec, layer, g, feat)
    ref, ref_alpha = dense(spec, layer, g, feat)
    torch.testing.assert_close(rst, ref, **TOL)
    if alpha is not None:
        torch.testing.assert_close(alpha, ref_alpha, **TOL)


@pytest.mark.parametrize("spec", [s for s in REFERENCED if s.edge_weight], ids=str)
def test_edge_weight_equals_dense_reference(spec):
    g = sample_graph()
    w = torch.rand(g.num_edges, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    layer = make(spec, 4).eval()
    feat = features(g, (4, 4))
    rst, alpha = run(spec, layer, g, feat, w)
    ref, ref_alpha = dense(spec, layer, g, feat, w)
    torch.testing.assert_close(rst, ref, **TOL)
    if alpha is not None:
        torch.testing.assert_close(alpha, ref_alpha, **TOL)


# --- random graphs (Hypothesis) ------------------------------------------------------------------
@st.composite
def random_graphs(draw):
    """A random homogeneous or bipartite graph, possibly with duplicate edges and self-loops, in
    which every destination has an in-edge."""
    bipartite = draw(st.booleans())
    n_src = draw(st.integers(1, 7))
    n_dst = draw(st.integers(1, 7)) if bipartite else n_src
    extra = draw(
        st.lists(st.tuples(st.integers(0, n_src - 1), st.integers(0, n_dst - 1)), max_size=20)
    )
    cover = [
        (draw(st.integers(0, n_src - 1)), v) for v in range(n_dst)
    ]  # one in-edge per destination
    pairs = draw(st.permutations(cover + extra))
    src, dst = (torch.tensor(list(t), dtype=torch.int64) for t in zip(*pairs))
    if bipartite:
        return Graph(src, dst, num_src_nodes=n_src, num_dst_nodes=n_dst)
    return Graph(src, dst, n_src)


def relabelled(g, feat, seed):
    """The same graph with nodes renumbered and edges shuffled; returns what is needed to undo
    it."""
    gen = torch.Generator().manual_seed(seed)
    p_src = torch.randperm(g.num_src_nodes, generator=gen)
    p_dst = p_src if not g.is_bipartite else torch.randperm(g.num_dst_nodes, generator=gen)
    order = torch.randperm(g.num_edges, generator=gen)
    new_src, new_dst = torch.empty_like(p_src), torch.empty_like(p_dst)
    new_src[p_src], new_dst[p_dst] = (
        torch.arange(len(p_src)),
        torch.arange(len(p_dst)),
    )  # old id -> new id
    if g.is_bipartite:
        h = Graph(
            new_src[g.src][order],
            new_dst[g.dst][order],
            num_src_nodes=g.num_src_nodes,
            num_dst_nodes=g.num_dst_nodes,
        )
        return h, (feat[0][p_src], feat[1][p_dst]), p_dst, order
    return (
        Graph(new_src[g.src][order], new_dst[g.dst][order], g.num_nodes),
        feat[p_src],
        p_dst,
        order,
    )


def check_random_graph(spec, g, heads, out, seed):
    widths = bipartite_widths(spec, (3, 2), (3, 3)) if g.is_bipartite else (3, 3)
    layer = make(spec, width_arg(widths), heads, out).eval()
    feat = features(g, widths, seed)
    rst, alpha = run(spec, layer, g, feat)
    ref, ref_alpha = dense(spec, layer, g, feat)
    torch.testing.assert_close(rst, ref, **TOL)
    if alpha is not None:
        torch.testing.assert_close(alpha, ref_alpha, **TOL)
        sums = torch.zeros(g.num_dst_nodes, alpha.shape[1], dtype=alpha.dtype).index_add(
            0, g.dst, alpha[:, :, 0]
        )
        torch.testing.assert_close(
            sums, torch.ones_like(sums), **TOL
        )  # alpha sums to 1 per destination
    h, feat_h, p_dst, order = relabelled(g, feat, seed)
    rst_h, alpha_h = run(spec, layer, h, feat_h)
    torch.testing.assert_close(rst_h, rst[p_dst], **TOL)  # relabelling commutes with the layer
    if alpha is not None:
        torch.testing.assert_close(alpha_h, alpha[order], **TOL)  # attention follows its edge


hypothesis_case = given(
    g=random_graphs(),
    heads=st.sampled_from([1, 4]),
    out=st.sampled_from([1, 5]),
    seed=st.integers(0, 2**16),
)


@pytest.mark.parametrize("spec", REFERENCED, ids=str)
@settings(max_examples=200, deadline=None)
@hypothesis_case
def test_random_graphs(spec, g, heads, out, seed):
    check_random_graph(spec, g, heads, out, seed)


# --- DGL ------------------------------------------------------------------------------------------
def assert_same_as_dgl(spec, layer, g, feat, edge_weight=None, dgl_graph=None):
    """Outputs, attention and every gradient equal within 1e-10 (float64)."""
    pytest.importorskip("dgl")
    twin = dgl_twin(spec, layer)
    sides = []
    for model, graph in ((layer, g), (twin, g.to_dgl() if dgl_graph is None else dgl_graph)):
        leaves = [
            t.detach().clone().requires_grad_()
            for t in (feat if isinstance(feat, tuple) else (feat,))
        ]
        w = None if edge_weight is None else edge_weight.detach().clone().requires_grad_()
        x = tuple(leaves) if isinstance(feat, tuple) else leaves[0]
        rst, alpha = run(spec, model, graph, x, w)
        # DGL's edge_softmax backward reuses its output's memory: copy the attention first.
        saved = None if alpha is None else alpha.detach().clone()
        gen = torch.Generator().manual_seed(7)
        loss = (rst * torch.randn(rst.shape, generator=gen, dtype=rst.dtype)).sum()
        if alpha is not None:
            loss = loss + (alpha * torch.randn(alpha.shape, generator=gen, dtype=alpha.dtype)).sum()
        model.zero_grad()
        loss.backward()
        grads = {n: p.grad for n, p in model.named_parameters()}
        sides.append(
            (rst.detach(), saved, [t.grad for t in leaves], None if w is None else w.grad, grads)
        )
    (r1, a1, x1, w1, g1), (r2, a2, x2, w2, g2) = sides
    torch.testing.assert_close(r1, r2, **TOL)
    if a1 is not None:
        torch.testing.assert_close(a1, a2, **TOL)
    torch.testing.assert_close(x1, x2, **TOL)
    torch.testing.assert_close(w1, w2, **TOL)
    assert g1.keys() == g2.keys()
    for name in g1:
        torch.testing.assert_close(
            g1[name], g2[name], **TOL, msg=lambda m, n=name: f"grad of {n}: {m}"
        )


@pytest.mark.dgl
@pytest.mark.parametrize("spec", SPECS, ids=str)
@pytest.mark.parametrize("bipartite", [False, True])
@pytest.mark.parametrize("heads,out", [(1, 1), (4, 5), (1, 5), (4, 1)])
def test_same_as_dgl(spec, bipartite, heads, out):
    g = sample_graph(bipartite)
    widths = bipartite_widths(spec) if bipartite else (4, 4)
    layer = make(spec, width_arg(widths), heads, out)
    assert_same_as_dgl(spec, layer.eval(), g, features(g, widths))


@pytest.mark.dgl
@pytest.mark.parametrize("spec", [LAYERS["GATConv"], LAYERS["GATv2Conv"]], ids=str)
@pytest.mark.parametrize("residual_width", [None, 8, 5])  # off; identity (in == H*F = 8); linear
@pytest.mark.parametrize("bias", [True, False])
def test_residual_same_as_dgl(spec, residual_width, bias):
    g = sample_graph()
    width = residual_width or 5
    layer = make(spec, width, 4, 2, residual=residual_width is not None, bias=bias)
    expected = {None: type(None), 8: torch.nn.Identity, 5: torch.nn.Linear}[residual_width]
    assert isinstance(layer.res_fc, expected)
    assert_same_as_dgl(spec, layer.eval(), g, features(g, (width, width)))


@pytest.mark.dgl
@pytest.mark.parametrize("spec", [s for s in SPECS if s.edge_weight], ids=str)
def test_edge_weight_same_as_dgl(spec):
    g = sample_graph()
    w = torch.rand(g.num_edges, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    assert_same_as_dgl(spec, make(spec, 4).eval(), g, features(g, (4, 4)), w)


@pytest.mark.dgl
@pytest.mark.parametrize("norm", ["both", "right", "left", "none"])
@pytest.mark.parametrize("weight,bias", [(True, True), (False, False)])
def test_graphconv_options_same_as_dgl(norm, weight, bias):
    g = sample_graph()
    spec = LAYERS["GraphConv"]
    layer = make(spec, 4, out=4, norm=norm, weight=weight, bias=bias, activation=torch.tanh)
    assert_same_as_dgl(spec, layer, g, features(g, (4, 4)))


@pytest.mark.dgl
@pytest.mark.parametrize("spec", [*ATTENTION, LAYERS["GraphConv"]], ids=str)
def test_zero_in_degree_allowed_same_as_dgl(spec):
    g = Graph(torch.tensor([0, 1, 2]), torch.tensor([1, 2, 1]), 4)  # nodes 0 and 3 receive nothing
    layer = make(spec, 3, allow_zero_in_degree=True)
    assert_same_as_dgl(spec, layer.eval(), g, features(g, (3, 3)))


@pytest.mark.dgl
def test_gatv2_share_weights_same_as_dgl():
    spec = LAYERS["GATv2Conv"]
    layer = make(spec, 4, 2, 3, share_weights=True)
    assert layer.fc_dst is layer.fc_src
    assert_same_as_dgl(spec, layer.eval(), sample_graph(), features(sample_graph(), (4, 4)))


# --- DGL's three input conventions: a block or bipartite graph with one tensor, a pair whose
# destination side GraphConv ignores, extra dimensions (N, *, in_feats). Where DGL accepts, gnnbook
# gives the same numbers and gradients; where DGL refuses, gnnbook raises a clear error.
def dgl_block():
    """A DGL block on sample_graph(): the in-edges of nodes 0..3; its first 4 sources are them."""
    dgl = pytest.importorskip("dgl")
    frontier = dgl.in_subgraph(sample_graph().to_dgl(), torch.arange(4))
    return dgl.to_block(frontier, dst_nodes=torch.arange(4), include_dst_in_src=True)


def dgl_outcome(spec, layer, graph, feat):
    """``None`` when DGL's twin accepts the input, else the exception it raised."""
    try:
        run(spec, dgl_twin(spec, layer), graph, feat)
    except Exception as error:  # noqa: BLE001 - DGL's refusals are of many types
        return error
    return None


def follows_dgl(spec, layer, g, feat, dgl_graph, accepted: bool):
    """The table says whether DGL accepts; DGL must agree, and gnnbook must follow it.
    ``dgl_graph``: the graph DGL's twin gets, ``None`` for ``g.to_dgl()``."""
    pytest.importorskip("dgl")
    dgl_graph = g.to_dgl() if dgl_graph is None else dgl_graph
    refusal = dgl_outcome(spec, layer, dgl_graph, feat)
    assert (refusal is None) == accepted, f"DGL {'refused' if refusal else 'accepted'}: {refusal}"
    if accepted:
        assert_same_as_dgl(spec, layer, g, feat, dgl_graph=dgl_graph)
    else:
        with pytest.raises((ValueError, TypeError), match="feat"):
            run(spec, layer, g, feat)


@pytest.mark.dgl
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_block_with_one_tensor_follows_dgl(spec):
    block = dgl_block()
    layer = make(spec, 4).eval()
    feat = torch.randn(block.num_src_nodes(), 4, dtype=torch.float64)
    follows_dgl(spec, layer, block, feat, block, accepted=True)


@pytest.mark.dgl
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_bipartite_with_one_tensor_follows_dgl(spec):
    g = sample_graph(bipartite=True)
    layer = make(spec, 4).eval()
    follows_dgl(spec, layer, g, features(g, (4, 4))[0], None, accepted=not spec.uses_dst)


@pytest.mark.dgl
@pytest.mark.parametrize("spec", SPECS, ids=str)
@pytest.mark.parametrize("bipartite", [False, True])
def test_pair_with_another_destination_width_follows_dgl(spec, bipartite):
    g = sample_graph(bipartite)
    layer = make(spec, 4).eval()
    feat = features(g, (4, 6))
    if not bipartite:
        feat = (feat, torch.randn(g.num_nodes, 6, dtype=torch.float64))
    follows_dgl(spec, layer, g, feat, None, accepted=not spec.uses_dst)


@pytest.mark.dgl
@pytest.mark.parametrize("spec", SPECS, ids=str)
@pytest.mark.parametrize("extra", [(2,), (2, 5)])
@pytest.mark.parametrize("bipartite", [False, True])
def test_extra_dimensions_follow_dgl(spec, extra, bipartite):
    """(DGL's 'gcn' aggregator divides by degrees of shape (N_dst, 1), so it runs, wrongly, when the
    last extra dimension happens to equal N_dst: the sizes here avoid that accident.)"""
    g = sample_graph(bipartite)
    widths = bipartite_widths(spec) if bipartite else (4, 4)
    layer = make(spec, width_arg(widths), 2, 3).eval()
    follows_dgl(spec, layer, g, features(g, widths, extra=extra), None, accepted=spec.extra_dims)


@pytest.mark.parametrize("spec", [s for s in REFERENCED if s.extra_dims], ids=str)
def test_extra_dimensions_are_independent_slices(spec):
    g = sample_graph()
    layer = make(spec, 4).eval()
    feat = features(g, (4, 4), extra=(3,))
    rst, alpha = run(spec, layer, g, feat)
    ref, ref_alpha = dense(spec, layer, g, feat)
    assert rst.shape[:2] == (g.num_nodes, 3)
    torch.testing.assert_close(rst, ref, **TOL)
    if alpha is not None:
        torch.testing.assert_close(alpha, ref_alpha, **TOL)


@pytest.mark.dgl
def test_sage_gcn_reads_destinations_at_the_source_width_like_dgl():
    """'gcn' averages h_i with its neighbours, so DGL reads h_i at the source width whatever the
    destination width in in_feats says."""
    spec = LAYERS["SAGE-gcn"]
    layer = make(spec, (4, 6)).eval()
    block = dgl_block()
    feat = torch.randn(block.num_src_nodes(), 4, dtype=torch.float64)
    follows_dgl(spec, layer, block, feat, block, accepted=True)
    g = sample_graph(bipartite=True)
    follows_dgl(spec, layer, g, features(g, (4, 4)), None, accepted=True)


def test_dotgatconv_has_dgls_spelling():
    assert gnn.DotGatConv is gnn.DotGATConv


@pytest.mark.dgl
@pytest.mark.parametrize("spec", SPECS, ids=str)
@pytest.mark.parametrize("in_feats", [4, (4, 6)])
def test_state_dict_loads_both_ways(spec, in_feats):
    if not spec.pair_widths and in_feats != 4:
        pytest.skip("GraphConv takes one input width")
    pytest.importorskip("dgl")
    layer = (
        make(spec, in_feats, residual=True)
        if spec.name in ("GATConv", "GATv2Conv")
        else make(spec, in_feats)
    )
    twin = dgl_twin(spec, layer)
    assert list(layer.state_dict()) == list(twin.state_dict())
    torch.nn.init.normal_(next(twin.parameters()))
    layer.load_state_dict(twin.state_dict())  # DGL -> gnnbook
    twin.load_state_dict(layer.state_dict())  # gnnbook -> DGL
    for (n1, p1), (n2, p2) in zip(layer.state_dict().items(), twin.state_dict().items()):
        assert n1 == n2 and torch.equal(p1, p2)


# --- modes, determinism, devices ------------------------------------------------------------------
@pytest.mark.parametrize(
    "spec", [LAYERS["GATConv"], LAYERS["GATv2Conv"], LAYERS["SAGE-mean"]], ids=str
)
def test_dropout_only_in_train_mode(spec):
    g = sample_graph()
    drops = dict(feat_drop=0.5, attn_drop=0.5) if spec.attention else dict(feat_drop=0.5)
    layer = make(spec, 4, **drops)
    plain = make(spec, 4)
    feat = features(g, (4, 4))
    torch.testing.assert_close(
        run(spec, layer.eval(), g, feat)[0], run(spec, plain.eval(), g, feat)[0], **TOL
    )
    torch.manual_seed(0)
    assert not torch.allclose(
        run(spec, layer.train(), g, feat)[0], run(spec, plain.train(), g, feat)[0]
    )


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_cpu_bit_identical_across_runs(spec):
    g = sample_graph()
    outputs = []
    for _ in range(2):
        layer = make(spec, 4, 2, 3)
        feat = features(g, (4, 4))
        rst, alpha = run(spec, layer, g, feat)
        rst.sum().backward()
        outputs.append((rst, alpha, feat.grad, [p.grad for p in layer.parameters()]))
    (r1, a1, x1, p1), (r2, a2, x2, p2) = outputs
    assert torch.equal(r1, r2) and torch.equal(x1, x2)
    assert a1 is None or torch.equal(a1, a2)
    assert all(torch.equal(u, v) for u, v in zip(p1, p2))


@pytest.mark.parametrize("spec", ATTENTION, ids=str)
def test_output_shapes(spec):
    g = sample_graph()
    rst, alpha = run(spec, make(spec, 4, 4, 5), g, features(g, (4, 4)))
    assert rst.shape == (7, 4, 5) and alpha.shape == (g.num_edges, 4, 1)


def test_reset_parameters_redraws():
    layer = make(LAYERS["GATConv"], 4, residual=True, bias=True)
    before = {n: p.detach().clone() for n, p in layer.named_parameters()}
    layer.reset_parameters()
    assert not torch.equal(before["fc.weight"], layer.fc.weight)
    assert torch.equal(layer.res_fc.bias, torch.zeros_like(layer.res_fc.bias))


@pytest.mark.gpu
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_cuda_matches_cpu(spec):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    g = sample_graph()
    layer = make(spec, 4, 2, 3).eval()
    feat = features(g, (4, 4))
    rst, alpha = run(spec, layer, g, feat)
    rst_gpu, alpha_gpu = run(spec, layer.to("cuda"), g.to("cuda"), feat.detach().to("cuda"))
    torch.testing.assert_close(rst_gpu.cpu(), rst.detach(), **TOL)
    if alpha is not None:
        torch.testing.assert_close(alpha_gpu.cpu(), alpha.detach(), **TOL)
