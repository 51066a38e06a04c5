"""gnnbook.nn.GPSLayer: equal to PyG's GPSConv (weights moved by gnnbook.compat, Hypothesis-drawn
batches of graphs), global attention confined to each graph, and clear errors
for a bad batch vector."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gnnbook import Graph, compat
from gnnbook import nn as gnn

TOL = dict(rtol=1e-10, atol=1e-10)
D = torch.float64
NORMS = ("batch_norm", "layer_norm", None)


def batch_of(sizes, edges_per_graph):
    """Graphs with ``sizes`` nodes side by side: one graph of several components,
    and the batch vector."""
    src, dst, start = [], [], 0
    for size, edges in zip(sizes, edges_per_graph):
        src += [start + u for u, _ in edges]
        dst += [start + v for _, v in edges]
        start += size
    batch = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    return Graph(
        torch.tensor(src, dtype=torch.int64), torch.tensor(dst, dtype=torch.int64), start
    ), batch


def local_layer(kind, channels, heads=2):
    if kind == "GATConv":
        return gnn.GATConv(channels, channels // heads, heads, allow_zero_in_degree=True)
    if kind == "TransformerConv":
        return gnn.TransformerConv(channels, channels // heads, heads, allow_zero_in_degree=True)
    return None


def randomise(module, seed):
    """Random weights, and random BatchNorm statistics (which eval mode
    uses), drawn from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=D) * 0.5)
        for name, buf in module.named_buffers():
            if name.endswith(("running_mean", "running_var")):
                buf.copy_(torch.rand(buf.shape, generator=gen, dtype=D) + 0.5)
    return module


def make(channels, conv, heads=2, norm="batch_norm", seed=0):
    """A float64 GPSLayer with random weights."""
    torch.manual_seed(seed)
    return randomise(
        gnn.GPSLayer(channels, local_layer(conv, channels), num_heads=heads, norm=norm).double(),
        seed + 1,
    )


def features(n, channels, seed=0):
    return torch.randn(
        n, channels, generator=torch.Generator().manual_seed(seed), dtype=D, requires_grad=True
    )


def assert_same_as_pyg(layer, module, g, x, batch):
    """Outputs, input gradients and the gradients of the attention, MLP and norm weights agree."""
    out = layer(g, x, batch)
    theirs = module(x, g.to_edge_index(), batch)
    torch.testing.assert_close(out, theirs, **TOL)
    w = torch.randn(out.shape, generator=torch.Generator().manual_seed(9), dtype=D)
    ours = [p for name, p in layer.named_parameters() if not name.startswith("conv.")]
    pyg = [p for name, p in module.named_parameters() if not name.startswith("conv.")]
    assert len(ours) == len(pyg)
    torch.testing.assert_close(
        torch.autograd.grad((out * w).sum(), [x, *ours], allow_unused=True),
        torch.autograd.grad((theirs * w).sum(), [x, *pyg], allow_unused=True),
        **TOL,
    )


@st.composite
def drawn_case(draw):
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    edges = []
    for n in sizes:
        pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=6))
        edges.append(pairs + [(v, u) for u, v in pairs])  # undirected, as GPS benchmarks are
    heads = draw(st.sampled_from([1, 2]))
    config = dict(
        channels=draw(st.sampled_from([4, 6])),
        conv=draw(st.sampled_from(["GATConv", "TransformerConv", None])),
        heads=heads,
        norm=draw(st.sampled_from(NORMS)),
        seed=draw(st.integers(0, 1000)),
    )
    return sizes, edges, config, draw(st.booleans())


_PYG_MODULES = {}


def pyg_module(channels, conv, heads, norm, seed):
    """PyG's GPSConv for this configuration, with random weights from ``seed``. Building a PyG layer
    takes a good fraction of a second, so one module per configuration is kept and only its weights
    are redrawn."""
    key = (channels, conv, heads, norm)
    if key not in _PYG_MODULES:
        _PYG_MODULES[key] = compat.to_pyg(make(channels, conv, heads, norm))
    return randomise(_PYG_MODULES[key], seed)


@pytest.mark.pyg
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn_case())
def test_equals_pyg_gpsconv_on_drawn_batches(case):
    """The gnnbook layer made from a PyG GPSConv with random weights computes what it computes: eval
    mode (BatchNorm with its running statistics), and training mode (batch
    statistics; no dropout)."""
    pytest.importorskip("torch_geometric")
    sizes, edges, config, training = case
    g, batch = batch_of(sizes, edges)
    if training and config["norm"] == "batch_norm" and g.num_nodes == 1:
        return  # BatchNorm cannot train on one node
    module = pyg_module(**config)
    layer = compat.from_pyg(module)
    layer.train(training)
    module.train(training)
    assert_same_as_pyg(
        layer, module, g, features(g.num_nodes, config["channels"], config["seed"]), batch
    )


@pytest.mark.pyg
@pytest.mark.parametrize("conv", ["GATConv", "TransformerConv", None])
@pytest.mark.parametrize("norm", NORMS)
def test_compat_round_trip(conv, norm):
    pytest.importorskip("torch_geometric")
    g, batch = batch_of([3, 2], [[(0, 1), (1, 0), (1, 2), (2, 1), (0, 0)], [(0, 1), (1, 0)]])
    layer = make(4, conv, norm=norm).eval()
    module = compat.to_pyg(layer).eval()
    back = compat.from_pyg(module).eval()
    x = features(5, 4)
    assert_same_as_pyg(back, module, g, x, batch)
    theirs = back.state_dict()
    for name, value in layer.state_dict().items():
        assert torch.equal(theirs[name], value), name


def test_graphs_in_a_batch_never_attend_to_each_other():
    """Changing one graph's features leaves every other graph's outputs as they were: each graph's
    output is the layer run on that graph alone."""
    g, batch = batch_of(
        [3, 4, 2], [[(0, 1), (1, 0), (2, 2)], [(0, 3), (3, 0), (1, 2), (2, 1)], [(0, 1), (1, 0)]]
    )
    layer = make(4, "GATConv", norm="layer_norm").eval()
    x = features(9, 4)
    out = layer(g, x, batch)
    changed = x.detach().clone()
    changed[3:7] += 10.0
    out2 = layer(g, changed, batch)
    keep = batch != 1
    torch.testing.assert_close(out2[keep], out[keep], **TOL)
    assert not torch.allclose(out2[~keep], out[~keep])
    for lo, hi in [(0, 3), (3, 7), (7, 9)]:
        inside = (g.src >= lo) & (g.src < hi)
        alone = Graph(g.src[inside] - lo, g.dst[inside] - lo, hi - lo)
        torch.testing.assert_close(layer(alone, x[lo:hi]), out[lo:hi], **TOL)


def test_one_graph_is_full_attention_over_all_nodes():
    g, _ = batch_of([5], [[(0, 1), (1, 0)]])
    layer = make(4, None, norm=None).eval()
    x = features(5, 4)
    expected, _ = layer.attn(x[None], x[None], x[None], need_weights=False)
    h = x + expected[0]
    torch.testing.assert_close(layer(g, x), h + layer.mlp(h), **TOL)


def test_batch_order_does_not_matter():
    """Nodes need not be grouped by graph (PyG assumes they are): a permuted batch
    gives permuted outputs."""
    g, batch = batch_of([3, 2, 3], [[(0, 1), (1, 0)], [(0, 1)], [(1, 2), (2, 1)]])
    layer = make(6, "TransformerConv").eval()
    x = features(8, 6)
    perm = torch.tensor([5, 0, 7, 2, 3, 1, 6, 4])
    inverse = torch.argsort(perm)
    permuted = Graph(inverse[g.src], inverse[g.dst], 8)
    torch.testing.assert_close(
        layer(permuted, x[perm], batch[perm]), layer(g, x, batch)[perm], **TOL
    )
    torch.testing.assert_close(
        layer(g, x, batch * 7 + 3), layer(g, x, batch), **TOL
    )  # ids need not be 0..B-1


def test_bad_inputs():
    g, batch = batch_of([3, 2], [[(0, 1), (1, 0)], [(0, 1), (1, 0)]])
    layer = make(4, "GATConv").eval()
    x = features(5, 4)
    with pytest.raises(ValueError, match=r"batch must have shape \(5,\)"):
        layer(g, x, batch[:4])
    with pytest.raises(ValueError, match=r"batch must have shape \(5,\)"):
        layer(g, x, batch[None])
    with pytest.raises(TypeError, match="batch must hold integer graph ids"):
        layer(g, x, batch.double())
    with pytest.raises(TypeError, match="batch must be a torch.Tensor"):
        layer(g, x, [0, 0, 0, 1, 1])
    with pytest.raises(ValueError, match="cannot be negative"):
        layer(g, x, batch - 1)
    with pytest.raises(ValueError, match="feat has 3 features per node but the layer expects 4"):
        layer(g, x[:, :3], batch)
    wrong_width = gnn.GPSLayer(4, gnn.GATConv(4, 3, 2, allow_zero_in_degree=True)).double()
    with pytest.raises(
        ValueError, match=r"local layer's output, heads flattened, has shape \(5, 6\)"
    ):
        wrong_width(g, x, batch)
    with pytest.raises(ValueError, match="divisible by num_heads"):
        gnn.GPSLayer(6, None, num_heads=4)
    with pytest.raises(ValueError, match="norm must be one of"):
        gnn.GPSLayer(4, None, norm="group_norm")
    with pytest.raises(TypeError, match="conv must be a torch.nn.Module"):
        gnn.GPSLayer(4, "GATConv")
    bipartite = Graph(torch.tensor([0]), torch.tensor([0]), num_src_nodes=5, num_dst_nodes=5)
    with pytest.raises(ValueError, match="homogeneous"):
        gnn.GPSLayer(4, None).double()(bipartite, (x, x))


def test_reset_parameters_resets_the_local_layer_too():
    layer = make(4, "GATConv")
    before = {name: p.detach().clone() for name, p in layer.named_parameters()}
    layer.reset_parameters()
    changed = {name for name, p in layer.named_parameters() if not torch.equal(before[name], p)}
    assert {"conv.fc.weight", "attn.in_proj_weight", "mlp.0.weight", "mlp.3.weight"} <= changed
