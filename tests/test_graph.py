"""gnnbook.Graph: construction, validation, structure and converters."""

import networkx as nx
import numpy as np
import pytest
import torch

import gnnbook
from gnnbook import Graph, _sparse, graphs, ops


def test_edges_keep_their_order_and_counts_are_inferred():
    g = Graph([2, 0, 1], [1, 1, 0])
    assert g.src.tolist() == [2, 0, 1] and g.dst.tolist() == [1, 1, 0]
    assert (g.num_nodes, g.num_edges) == (3, 3)
    assert g.src.dtype == torch.int64 and not g.is_bipartite


def test_degrees():
    g = Graph([0, 0, 1, 2], [1, 2, 2, 2], num_nodes=4)
    assert g.in_degrees().tolist() == [0, 1, 3, 0]
    assert g.out_degrees().tolist() == [2, 1, 1, 0]


def test_bipartite_counts_and_degrees():
    g = Graph([0, 3, 3], [1, 1, 0], num_src_nodes=4, num_dst_nodes=2)
    assert (g.num_src_nodes, g.num_dst_nodes, g.is_bipartite) == (4, 2, True)
    assert g.in_degrees().tolist() == [1, 2] and g.out_degrees().tolist() == [1, 0, 0, 2]
    with pytest.raises(ValueError, match="bipartite"):
        _ = g.num_nodes
    with pytest.raises(ValueError, match="bipartite"):
        g.add_self_loops()


def test_csr_groups_in_edges_by_destination_stably():
    g = Graph([3, 1, 2, 0, 3], [1, 0, 1, 2, 0], num_nodes=4)
    indptr, indices, eids = g.csr()
    assert indptr.tolist() == [0, 2, 4, 5, 5]
    assert eids.tolist() == [1, 4, 0, 2, 3]  # ties keep edge order
    assert torch.equal(indices, g.src[eids]) and torch.equal(
        g.dst[eids], torch.tensor([0, 0, 1, 1, 2])
    )
    assert g.csr() is not g.csr() and len(g._cache) == 1  # computed once, handed out as copies
    indices[:] = 0
    assert torch.equal(g.csr().indices, g.src[eids])  # changing a copy changes nothing


def test_add_self_loops_does_not_duplicate_existing_loops():
    g = Graph([0, 1, 2], [1, 1, 0], num_nodes=4)  # node 1 already has its loop
    looped = g.add_self_loops()
    assert looped.src.tolist() == [0, 1, 2, 0, 2, 3] and looped.dst.tolist() == [1, 1, 0, 0, 2, 3]
    assert torch.equal(looped.add_self_loops().src, looped.src)


def test_remove_self_loops_keeps_other_edges_in_order():
    g = Graph([0, 1, 1, 2, 2], [1, 1, 2, 2, 0])
    h = g.remove_self_loops()
    assert h.src.tolist() == [0, 1, 2] and h.dst.tolist() == [1, 2, 0] and h.num_nodes == 3


def test_reverse_swaps_roles():
    g = Graph([0, 3], [1, 0], num_src_nodes=4, num_dst_nodes=2).reverse()
    assert g.src.tolist() == [1, 0] and (g.num_src_nodes, g.num_dst_nodes) == (2, 4)


def test_to_device_keeps_structure(monkeypatch):
    g = graphs.toy_graph()
    monkeypatch.setattr(_sparse, "SPARSE_MIN_WORK", 0)  # build every cached structure: CSRs, blocks
    h = torch.randn(g.num_nodes, 2, 3, requires_grad=True)
    ops.u_mul_e_sum(g, h, torch.rand(g.num_edges, 2, requires_grad=True)).sum().backward()
    same = g.to("cpu")
    assert same is g
    moved = g.to(torch.device("meta"))
    assert moved.device.type == "meta" and moved.num_edges == g.num_edges and g.device.type == "cpu"
    cached = [t for value in moved._cache.values() for t in _tensors(value)]
    assert len(cached) > 5 and all(t.device.type == "meta" for t in cached)
    assert all(t.device.type == "cpu" for value in g._cache.values() for t in _tensors(value))


def _tensors(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, tuple):
        for v in value:
            yield from _tensors(v)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_to_cuda():
    g = graphs.toy_graph().to("cuda")
    assert g.src.is_cuda and g.csr().indptr.is_cuda


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        (([0, -1], [1, 0]), {}, ValueError, r"src\[1\] = -1"),
        (([0, 1], [1, 5]), {"num_nodes": 3}, ValueError, r"dst\[1\] = 5 .*\[0, 3\)"),
        (([0, 1, 2], [1, 0]), {}, ValueError, "same length"),
        (([0.0, 1.0], [1, 0]), {}, TypeError, "integer node ids.*float"),
        ((torch.tensor([True]), [0]), {}, TypeError, "integer node ids"),
        (([[0, 1]], [[1, 0]]), {}, ValueError, "1-D"),
        (([0], [1]), {"num_nodes": 2.5}, TypeError, "num_nodes must be a non-negative integer"),
        (([0], [1]), {"num_nodes": -1}, ValueError, "num_nodes must be a non-negative integer"),
        (([0], [1]), {"num_src_nodes": 2}, ValueError, "both num_src_nodes and num_dst_nodes"),
        (
            ([0], [1]),
            {"num_nodes": 2, "num_src_nodes": 2, "num_dst_nodes": 2},
            ValueError,
            "either num_nodes",
        ),
        (([3], [0]), {"num_src_nodes": 3, "num_dst_nodes": 1}, ValueError, r"src\[0\] = 3"),
    ],
)
def test_bad_input_is_named(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        Graph(*args, **kwargs)


def test_empty_and_isolated_graphs():
    g = Graph([], [], num_nodes=3)
    assert g.num_edges == 0 and g.in_degrees().tolist() == [0, 0, 0]
    assert g.csr().indptr.tolist() == [0, 0, 0, 0]
    assert (
        Graph(torch.empty(0, dtype=torch.int64), torch.empty(0, dtype=torch.int64)).num_nodes == 0
    )


def test_numpy_ids_are_accepted():
    g = Graph(np.array([0, 1], dtype=np.int32), np.array([1, 0], dtype=np.int32))
    assert g.src.dtype == torch.int64 and g.num_edges == 2


def test_named_graphs():
    toy = graphs.toy_graph()
    assert sorted(toy.src[toy.dst == 0].tolist()) == [2, 3, 4, 5]
    assert (toy.in_degrees() > 0).all()
    path = graphs.path_graph(4)
    assert path.num_edges == 6 and path.in_degrees().tolist() == [1, 2, 2, 1]
    star = graphs.star_graph(5)
    assert star.in_degrees()[0] == 5 and star.num_nodes == 6
    karate = graphs.karate_club()
    assert (karate.num_nodes, karate.num_edges) == (34, 156)


def test_networkx_round_trip_keeps_duplicates_and_order():
    g = Graph([0, 0, 2, 1], [1, 1, 0, 1])
    nxg = g.to_networkx()
    assert nxg.number_of_edges() == 4
    back = Graph.from_networkx(nxg)
    assert back.src.tolist() == [0, 0, 1, 2] and back.dst.tolist() == [
        1,
        1,
        1,
        0,
    ]  # networkx groups by source


def test_from_undirected_networkx_stores_both_directions_once_per_loop():
    nxg = nx.Graph([("a", "b"), ("b", "b")])
    g = Graph.from_networkx(nxg)
    assert sorted(zip(g.src.tolist(), g.dst.tolist())) == [(0, 1), (1, 0), (1, 1)]


def test_edge_index_round_trip():
    g = graphs.toy_graph()
    ei = g.to_edge_index()
    assert ei.shape == (2, g.num_edges)
    back = Graph.from_edge_index(ei, num_nodes=g.num_nodes)
    assert torch.equal(back.src, g.src) and torch.equal(back.dst, g.dst)
    with pytest.raises(ValueError, match=r"\(2, E\)"):
        Graph.from_edge_index(torch.zeros(3, 4, dtype=torch.int64))


def test_as_graph_rejects_other_objects():
    with pytest.raises(TypeError, match="gnnbook.Graph or a DGLGraph"):
        gnnbook.as_graph([[0, 1]])


@pytest.mark.dgl
def test_dgl_round_trip_keeps_edge_ids():
    dgl = pytest.importorskip("dgl")
    g = Graph([2, 0, 1, 1], [1, 1, 0, 0], num_nodes=4)
    dg = g.to_dgl()
    assert dg.num_nodes() == 4 and torch.equal(
        torch.stack(dg.edges(order="eid")), torch.stack([g.src, g.dst])
    )
    back = gnnbook.as_graph(dg)
    assert torch.equal(back.src, g.src) and torch.equal(back.dst, g.dst) and not back.is_bipartite
    bip = Graph([0, 2], [1, 0], num_src_nodes=3, num_dst_nodes=2)
    dbip = bip.to_dgl()
    assert (dbip.num_src_nodes(), dbip.num_dst_nodes()) == (3, 2)
    back = Graph.from_dgl(dbip)
    assert back.is_bipartite and torch.equal(back.src, bip.src)
    block = dgl.to_block(dgl.graph(([0, 1, 3], [1, 2, 2])), dst_nodes=torch.tensor([1, 2]))
    assert Graph.from_dgl(block).num_dst_nodes == 2


@pytest.mark.skipif(
    tuple(int(p) for p in torch.__version__.split(".")[:2]) < (2, 4),
    reason="torch.compile of autograd Functions that take a Graph needs torch >= 2.4",
)
def test_torch_compile_matches_eager():
    """``torch.compile`` runs a layer on a Graph (with graph breaks at the data-dependent steps) and
    gives eager's output and gradients. The eager backend keeps this test fast: dynamo's tracing
    is what the Graph meets; code generation is the compiler's business."""
    from gnnbook.nn import GATConv

    torch.manual_seed(0)
    g, layer = graphs.toy_graph(), GATConv(4, 3, num_heads=2)
    x = torch.randn(6, 4, requires_grad=True)
    compiled = torch.compile(layer, backend="eager")
    out = compiled(g, x)
    (grad_compiled,) = torch.autograd.grad(out.square().sum(), x)
    expected = layer(g, x)
    (grad_eager,) = torch.autograd.grad(expected.square().sum(), x)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(grad_compiled, grad_eager)


def test_copied_or_pickled_graphs_keep_their_cached_structures():
    import copy
    import pickle

    g = graphs.toy_graph()
    g.csr(), g.in_degrees()
    for h in (copy.deepcopy(g), pickle.loads(pickle.dumps(g))):
        h.csr(), h.in_degrees()
        assert len(h._cache) == 2 and torch.equal(
            h.csr().eids, g.csr().eids
        )  # found, not built again
