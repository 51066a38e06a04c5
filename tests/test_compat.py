"""gnnbook.compat: PyG modules and gnnbook layers built from each other compute the same thing."""

from __future__ import annotations

import pytest
import torch

from gnnbook import Graph, compat, graphs
from gnnbook import nn as gnn

pytestmark = pytest.mark.pyg
TOL = dict(rtol=1e-10, atol=1e-10)


def sample(bipartite=False):
    """Undirected (in-degree = out-degree, as PyG's GCN normalisation assumes) with a duplicate
    pair."""
    if bipartite:
        return Graph(
            torch.tensor([0, 1, 4, 4, 2, 3]),
            torch.tensor([0, 0, 0, 1, 1, 2]),
            num_src_nodes=5,
            num_dst_nodes=3,
        )
    g = graphs.toy_graph()
    return Graph(
        torch.cat([g.src, torch.tensor([2, 0])]), torch.cat([g.dst, torch.tensor([0, 2])]), 6
    )


def feats(g, widths):
    gen = torch.Generator().manual_seed(0)
    if g.is_bipartite:
        return (
            torch.randn(g.num_src_nodes, widths[0], dtype=torch.float64, generator=gen),
            torch.randn(g.num_dst_nodes, widths[1], dtype=torch.float64, generator=gen),
        )
    return torch.randn(g.num_nodes, widths[0], dtype=torch.float64, generator=gen)


def randomise(module):
    torch.manual_seed(3)
    with torch.no_grad():
        for p in module.parameters():
            p.normal_()
    return module


def compare(layer, module, g, feat, concat=True):
    """Outputs, attention and all gradients (matched by role, through the conversion) agree."""
    sides = []
    for model, call in (
        (layer, lambda x: model_out(layer, g, x)),
        (module, lambda x: pyg_out(module, g, x)),
    ):
        leaves = [
            t.clone().requires_grad_() for t in (feat if isinstance(feat, tuple) else (feat,))
        ]
        x = tuple(leaves) if isinstance(feat, tuple) else leaves[0]
        rst, alpha = call(x)
        rst = compat.merge_heads(rst, concat) if model is layer and rst.dim() == 3 else rst
        rst.pow(2).sum().backward()
        sides.append((rst.detach(), alpha, [t.grad for t in leaves]))
    (r1, a1, x1), (r2, a2, x2) = sides
    torch.testing.assert_close(r1, r2, **TOL)
    torch.testing.assert_close(x1, x2, **TOL)
    if a1 is not None:
        torch.testing.assert_close(a1[..., 0], a2, **TOL)


def model_out(layer, g, x):
    if isinstance(layer, (gnn.GATConv, gnn.GATv2Conv)):
        rst, alpha = layer(g, x, get_attention=True)
        return rst, alpha.detach()
    return layer(g, x), None


def pyg_out(module, g, x):
    edge_index = g.to_edge_index()
    if type(module).__name__ in ("GATConv", "GATv2Conv"):
        rst, (_, alpha) = module(x, edge_index, return_attention_weights=True)
        return rst, alpha.detach()
    return module(x, edge_index), None


def round_trip_exact(layer, module):
    """Round trip: converting back gives the layer's parameters exactly."""
    back = compat.from_pyg(module)
    for (n1, p1), (n2, p2) in zip(layer.state_dict().items(), back.state_dict().items()):
        assert n1 == n2
        torch.testing.assert_close(p1, p2, rtol=0, atol=1e-15)


@pytest.mark.parametrize("kind", ["GATConv", "GATv2Conv"])
@pytest.mark.parametrize("heads,out", [(1, 1), (4, 5)])
@pytest.mark.parametrize("concat", [True, False])
@pytest.mark.parametrize("bipartite", [False, True])
@pytest.mark.parametrize("residual", [False, True])
def test_attention_layers(kind, heads, out, concat, bipartite, residual):
    pytest.importorskip("torch_geometric")
    g = sample(bipartite)
    widths = (4, 6) if bipartite else (4, 4)
    in_feats = widths if bipartite else 4
    layer = randomise(
        getattr(gnn, kind)(
            in_feats, out, heads, residual=residual, allow_zero_in_degree=True
        ).double()
    )
    module = compat.to_pyg(layer, concat=concat)
    compare(layer, module, g, feats(g, widths), concat)
    if concat:  # a mean over heads keeps only the heads' average: no exact round trip then
        round_trip_exact(layer, module)
    back = compat.from_pyg(module)
    compare(back, module, g, feats(g, widths), concat)


def test_identity_residual():
    pytest.importorskip("torch_geometric")
    g = sample()
    layer = randomise(gnn.GATConv(8, 2, 4, residual=True).double())
    assert isinstance(layer.res_fc, torch.nn.Identity)
    for concat in (True, False):
        module = compat.to_pyg(layer, concat=concat)
        compare(layer, module, g, feats(g, (8, 8)), concat)
        compare(compat.from_pyg(module), module, g, feats(g, (8, 8)), concat)
    with torch.no_grad():
        module.res.weight.add_(0.1)
    with pytest.raises(ValueError, match="identity residual"):
        compat.from_pyg(module)


@pytest.mark.parametrize("norm", ["both", "none"])
def test_gcn(norm):
    pytest.importorskip("torch_geometric")
    g = sample()
    layer = randomise(gnn.GraphConv(4, 3, norm=norm).double())
    module = compat.to_pyg(layer)
    compare(layer, module, g, feats(g, (4, 4)))
    round_trip_exact(layer, module)


def test_gcn_with_pyg_self_loops():
    """A PyG GCNConv that adds its own self-loops is the gnnbook layer on pyg_self_loops(graph)."""
    tg = pytest.importorskip("torch_geometric")
    g = sample()
    module = randomise(tg.nn.GCNConv(4, 3).double())
    layer = compat.from_pyg(module)
    x = feats(g, (4, 4))
    torch.testing.assert_close(
        layer(compat.pyg_self_loops(g), x), module(x, g.to_edge_index()), **TOL
    )


def test_gat_with_pyg_self_loops_and_attention_order():
    tg = pytest.importorskip("torch_geometric")
    g = Graph(torch.tensor([1, 2, 0, 1]), torch.tensor([0, 0, 0, 2]), 3)  # has a self-loop 0->0
    module = randomise(tg.nn.GATConv(4, 3, heads=2).double())
    layer = compat.from_pyg(module)
    x = feats(g, (4, 4))
    out, (edge_index, alpha) = module(x, g.to_edge_index(), return_attention_weights=True)
    g_loops = compat.pyg_self_loops(g)
    assert torch.equal(edge_index, g_loops.to_edge_index())
    rst, att = layer(g_loops, x, get_attention=True)
    torch.testing.assert_close(compat.merge_heads(rst), out, **TOL)
    torch.testing.assert_close(att[..., 0], alpha, **TOL)


@pytest.mark.parametrize("aggregator", ["mean", "pool"])
@pytest.mark.parametrize("bipartite", [False, True])
def test_sage(aggregator, bipartite):
    pytest.importorskip("torch_geometric")
    g = sample(bipartite)
    widths = (4, 6) if bipartite else (4, 4)
    layer = randomise(gnn.SAGEConv(widths if bipartite else 4, 3, aggregator).double())
    module = compat.to_pyg(layer)
    compare(layer, module, g, feats(g, widths))
    round_trip_exact(layer, module)


def test_sage_gcn_is_pyg_mean_on_self_loops():
    pytest.importorskip("torch_geometric")
    g = graphs.toy_graph()
    layer = randomise(gnn.SAGEConv(4, 3, "gcn").double())
    module = compat.to_pyg(layer)
    x = feats(g, (4, 4))
    torch.testing.assert_close(layer(g, x), module(x, g.add_self_loops().to_edge_index()), **TOL)
    round_trip_exact(layer, module)


def test_refusals():
    pytest.importorskip("torch_geometric")
    with pytest.raises(ValueError, match="no activation"):
        compat.to_pyg(gnn.GATConv(4, 3, 2, activation=torch.relu))
    with pytest.raises(ValueError, match="no feature dropout"):
        compat.to_pyg(gnn.GATv2Conv(4, 3, 2, feat_drop=0.5))
    with pytest.raises(ValueError, match="norm='left'"):
        compat.to_pyg(gnn.GraphConv(4, 3, norm="left"))
    with pytest.raises(ValueError, match="LSTM"):
        compat.to_pyg(gnn.SAGEConv(4, 3, "lstm"))
    with pytest.raises(ValueError, match="no PyG counterpart for DotGATConv"):
        compat.to_pyg(gnn.DotGATConv(4, 3, 2))
    with pytest.raises(ValueError, match="no gnnbook layer for Linear"):
        compat.from_pyg(torch.nn.Linear(2, 2))


def test_compat_does_not_import_pyg():
    import subprocess
    import sys

    code = "import sys, gnnbook.compat; assert 'torch_geometric' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
