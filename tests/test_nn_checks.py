"""Every bad input to a gnnbook.nn layer fails with a message naming the problem."""

from __future__ import annotations

import pytest
import torch

from gnnbook import Graph, graphs
from gnnbook import nn as gnn


@pytest.fixture
def g():
    return graphs.toy_graph()  # 6 nodes, every node has an in-edge


def gat(**kw):
    return gnn.GATConv(4, 3, 2, **kw)


@pytest.mark.parametrize(
    "feat,match",
    [
        (torch.randn(5, 4), "feat has 5 rows but the graph has 6 source nodes"),
        (torch.randn(6, 3), "feat has 3 features per node but the layer expects 4"),
        (torch.randn(6), r"must have shape \(nodes, \.\.\., features\).*feat.unsqueeze\(-1\)"),
        (torch.ones(6, 4, dtype=torch.int64), "floating-point"),
        (
            torch.randn(6, 4, dtype=torch.float64),
            "float64 but the layer's parameters are torch.float32",
        ),
        ([torch.randn(6, 4)] * 3, r"\(feat_src, feat_dst\)"),
        ("features", "must be a torch.Tensor"),
    ],
)
def test_bad_features(g, feat, match):
    with pytest.raises((ValueError, TypeError), match=match):
        gat()(g, feat)


@pytest.mark.parametrize(
    "layer",
    [
        gnn.GATConv(4, 3, 2),
        gnn.GATv2Conv(4, 3, 2),
        gnn.DotGATConv(4, 3, 2),
        gnn.GraphConv(4, 3),
        gnn.SAGEConv(4, 3, "mean"),
    ],
)
def test_every_layer_checks_rows(g, layer):
    with pytest.raises(ValueError, match="rows but the graph has 6"):
        layer(g, torch.randn(7, 4))


def test_features_on_another_device(g):
    meta = torch.empty(6, 4, device="meta")  # a second device, present on every machine
    with pytest.raises(ValueError, match="is on meta, the graph on cpu"):
        gat()(g, meta)


def test_out_of_range_node_ids():
    with pytest.raises(ValueError, match="is not a node id"):
        Graph(torch.tensor([0, 7]), torch.tensor([1, 0]), 3)


@pytest.mark.parametrize(
    "layer",
    [gnn.GATConv(4, 3, 2), gnn.GATv2Conv(4, 3, 2), gnn.DotGATConv(4, 3, 2), gnn.GraphConv(4, 3)],
)
def test_zero_in_degree_names_nodes_and_remedies(layer):
    g = Graph(torch.tensor([0, 1]), torch.tensor([1, 1]), 4)
    with pytest.raises(ValueError, match=r"node\(s\) 0, 2, 3 have zero in-degree") as info:
        layer(g, torch.randn(4, 4))
    assert "add_self_loops" in str(info.value) and "allow_zero_in_degree=True" in str(info.value)


def test_zero_in_degree_lists_only_the_first_few():
    g = Graph(torch.tensor([0]), torch.tensor([0]), 12)
    with pytest.raises(ValueError, match=r"1, 2, 3, 4, 5 and 6 more"):
        gat()(g, torch.randn(12, 4))


def test_zero_in_degree_allowed_gives_the_bias():
    g = Graph(torch.tensor([0, 1]), torch.tensor([1, 1]), 3)
    layer = gat(allow_zero_in_degree=True)
    torch.nn.init.normal_(layer.bias)
    rst = layer(g, torch.randn(3, 4))
    torch.testing.assert_close(rst[[0, 2]], layer.bias.view(1, 2, 3).expand(2, -1, -1))


@pytest.mark.parametrize("heads", [0, -1, 2.5, True])
def test_num_heads_must_be_positive(heads):
    with pytest.raises(ValueError, match="num_heads must be a positive integer"):
        gnn.GATConv(4, 3, heads)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
@pytest.mark.parametrize("name", ["feat_drop", "attn_drop"])
def test_dropout_must_be_in_unit_interval(name, p):
    with pytest.raises(ValueError, match=rf"{name} must be a dropout probability in \[0, 1\)"):
        gnn.GATv2Conv(4, 3, 2, **{name: p})


def test_sage_dropout_checked():
    with pytest.raises(ValueError, match="feat_drop must be a dropout probability"):
        gnn.SAGEConv(4, 3, "mean", feat_drop=1.0)


def test_bipartite_tuple_sizes():
    g = Graph(torch.tensor([0, 4]), torch.tensor([1, 0]), num_src_nodes=5, num_dst_nodes=2)
    layer = gnn.GATConv((4, 6), 3, 2)
    with pytest.raises(
        ValueError, match="feat_dst has 3 rows but the graph has 2 destination nodes"
    ):
        layer(g, (torch.randn(5, 4), torch.randn(3, 6)))
    with pytest.raises(
        ValueError, match="feat_src has 6 features per node but the layer expects 4"
    ):
        layer(g, (torch.randn(5, 6), torch.randn(2, 6)))
    with pytest.raises(ValueError, match="bipartite .* pass features as a tuple"):
        layer(g, torch.randn(5, 4))


@pytest.mark.parametrize(
    "weight,match",
    [
        (torch.ones(5), r"edge_weight must have shape \(14,\)"),
        (torch.ones(14, 1), r"edge_weight must have shape \(14,\)"),
        (torch.ones(14, dtype=torch.float64), "edge_weight is torch.float64"),
    ],
)
@pytest.mark.parametrize(
    "layer", [gnn.GATConv(4, 3, 2), gnn.GraphConv(4, 3), gnn.SAGEConv(4, 3, "pool")]
)
def test_bad_edge_weight(g, layer, weight, match):
    with pytest.raises((ValueError, TypeError), match=match):
        layer(g, torch.randn(6, 4), edge_weight=weight)


def test_bad_options():
    with pytest.raises(ValueError, match="norm must be one of"):
        gnn.GraphConv(4, 3, norm="sym")
    with pytest.raises(ValueError, match="aggregator_type must be one of"):
        gnn.SAGEConv(4, 3, "sum")
    with pytest.raises(
        ValueError, match="feat_dst has 5 features per node but the layer expects 4"
    ):
        # 'gcn' averages h_i with its neighbours: destinations have the source width, as in DGL
        gnn.SAGEConv((4, 5), 3, "gcn")(
            Graph(torch.tensor([0]), torch.tensor([0]), num_src_nodes=1, num_dst_nodes=1),
            (torch.randn(1, 4), torch.randn(1, 5)),
        )
    with pytest.raises(ValueError, match="external weight"):
        gnn.GraphConv(4, 3)(graphs.toy_graph(), torch.randn(6, 4), weight=torch.randn(4, 3))


def test_two_dimensional_only_layers_name_the_shape(g):
    for layer in (gnn.GATv2Conv(4, 3, 2), gnn.DotGATConv(4, 3, 2), gnn.SAGEConv(4, 3, "lstm")):
        with pytest.raises(
            ValueError, match=r"feat must be 2-D \(nodes, features\), got shape \(6, 2, 4\)"
        ):
            layer(g, torch.randn(6, 2, 4))


def test_pair_needs_matching_extra_dimensions():
    g = Graph(torch.tensor([0, 1]), torch.tensor([0, 1]), num_src_nodes=2, num_dst_nodes=2)
    with pytest.raises(ValueError, match="same dimensions between nodes and features"):
        gnn.GATConv(4, 3, 2)(g, (torch.randn(2, 3, 4), torch.randn(2, 5, 4)))


def test_gat_edge_weight_needs_plain_features(g):
    with pytest.raises(ValueError, match=r"edge_weight needs features of shape \(N, in_feats\)"):
        gat()(g, torch.randn(6, 2, 4), edge_weight=torch.ones(14))


@pytest.mark.parametrize(
    "weight,error,match",
    [
        (
            torch.ones(4),
            ValueError,
            r"weight must have shape \(in_feats, out_feats\) = \(4, 3\), got \(4,\)",
        ),
        (torch.ones(3, 4), ValueError, r"weight must have shape .* got \(3, 4\)"),
        (torch.ones(4, 3, dtype=torch.int64), TypeError, "weight is torch.int64"),
        (
            torch.ones(4, 3, dtype=torch.float64),
            TypeError,
            "weight is torch.float64 .* features are torch.float32",
        ),
        ([[1.0] * 3] * 4, TypeError, "weight must be a torch.Tensor"),
    ],
)
def test_graphconv_external_weight(g, weight, error, match):
    with pytest.raises(error, match=match):
        gnn.GraphConv(4, 3, weight=False)(g, torch.randn(6, 4), weight=weight)


def test_graphconv_without_weight_needs_matching_bias(g):
    with pytest.raises(ValueError, match="without a weight the features keep their 4 columns"):
        gnn.GraphConv(4, 3, weight=False)(g, torch.randn(6, 4))
    assert gnn.GraphConv(4, 3, weight=False, bias=False)(g, torch.randn(6, 4)).shape == (6, 4)


def test_graphconv_pair_needs_a_tensor_for_feat_dst(g):
    with pytest.raises(TypeError, match="feat_dst must be a torch.Tensor, got NoneType"):
        gnn.GraphConv(4, 3)(g, (torch.randn(6, 4), None))


def test_not_a_graph():
    with pytest.raises(TypeError, match="expected a gnnbook.Graph or a DGLGraph"):
        gat()("graph", torch.randn(6, 4))
