"""One table of the layers under test: how to build each, its DGL twin, its dense reference.

Shared by test_nn_layers.py and test_fuzz_layers.py (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import torch

from gnnbook import nn as gnn
from gnnbook import reference


@dataclasses.dataclass(frozen=True)
class Spec:
    """A layer under test. ``args(in_feats, heads, out)`` gives the constructor's positional
    arguments (the same for gnnbook and DGL); ``reference(layer, g, edge_weight, h_src, h_dst)``
    gives the dense float64 ``(output, alpha or None)`` on 2-D features."""

    name: str
    cls: type
    dgl_name: str
    args: Callable
    reference: Callable | None
    attention: bool = False  # forward takes get_attention and returns alpha
    edge_weight: bool = True  # forward takes edge_weight
    pair_widths: bool = True  # in_feats may be (src_width, dst_width)
    uses_dst: bool = True  # reads destination features (GraphConv does not)
    extra_dims: bool = False  # takes (N, *, in_feats), as DGL's layer does

    def __repr__(self):
        return self.name


def _residual_and_bias(layer, h_dst, out):
    if layer.res_fc is not None:
        out = out + layer.res_fc(h_dst).view(out.shape)
    bias = getattr(layer, "bias", None)
    return out if not isinstance(bias, torch.Tensor) else out + bias.view(out.shape[1:])


def _ends(layer):
    return (layer.fc, layer.fc) if hasattr(layer, "fc") else (layer.fc_src, layer.fc_dst)


def _matrices(g, edge_weight, reduce="sum"):
    """The count matrix A and the edge-weight matrix M (``None`` without weights)."""
    M = None if edge_weight is None else reference.adjacency(g, edge_weight, reduce)
    return reference.adjacency(g), M


def _gcn(layer, g, w, h_src, h_dst):
    A, M = _matrices(g, w)
    return reference.gcn(A, h_src, layer.weight, layer.bias, norm=layer._norm, weights=M), None


def _sage(layer, g, w, h_src, h_dst):
    kind = layer._aggre_type
    A, M = _matrices(g, w, "amax" if kind == "pool" else "sum")
    pool = (layer.fc_pool.weight, layer.fc_pool.bias) if kind == "pool" else (None, None)
    self_w, bias = (
        (None, layer.bias) if kind == "gcn" else (layer.fc_self.weight, layer.fc_self.bias)
    )
    return reference.sage(
        A,
        h_src,
        h_dst,
        self_w,
        layer.fc_neigh.weight,
        bias,
        aggregator=kind,
        W_pool=pool[0],
        b_pool=pool[1],
        weights=M,
    ), None


def _gat(layer, g, w, h_src, h_dst):
    A, M = _matrices(g, w)
    fc_src, fc_dst = _ends(layer)
    a = torch.cat([layer.attn_r, layer.attn_l], -1)[0]  # a = [a_r || a_l]
    out, alpha = reference.gat(
        A,
        h_src,
        h_dst,
        fc_src.weight,
        fc_dst.weight,
        a,
        negative_slope=layer.leaky_relu.negative_slope,
        weights=M,
    )
    return _residual_and_bias(layer, h_dst, out), alpha


def gatv2_dense(layer, adjacency, h_src, h_dst):
    """:func:`gnnbook.reference.gatv2` with a ``GATv2Conv``'s weights: ``(out, alpha)``, before
    the layer's residual and bias."""
    return reference.gatv2(
        adjacency,
        h_src,
        h_dst,
        layer.fc_src.weight,
        layer.fc_dst.weight,
        layer.attn[0],
        b_src=layer.fc_src.bias,
        b_dst=layer.fc_dst.bias,
        negative_slope=layer.leaky_relu.negative_slope,
    )


def _gatv2(layer, g, w, h_src, h_dst):
    A, _ = _matrices(g, None)
    out, alpha = gatv2_dense(layer, A, h_src, h_dst)
    return _residual_and_bias(layer, h_dst, out), alpha


def _dot(layer, g, w, h_src, h_dst):
    A, _ = _matrices(g, None)
    fc_src, fc_dst = _ends(layer)
    return reference.dot_attention(A, h_src, h_dst, fc_src.weight, fc_dst.weight, layer._num_heads)


def _sage_args(aggregator):
    return lambda in_feats, heads, out: (in_feats, out, aggregator)


def _heads_args(in_feats, heads, out):
    return (in_feats, out, heads)


LAYERS = {
    spec.name: spec
    for spec in [
        Spec(
            "GraphConv",
            gnn.GraphConv,
            "GraphConv",
            lambda in_feats, heads, out: (in_feats, out),
            _gcn,
            pair_widths=False,
            uses_dst=False,
            extra_dims=True,
        ),
        Spec("SAGE-mean", gnn.SAGEConv, "SAGEConv", _sage_args("mean"), _sage, extra_dims=True),
        Spec("SAGE-gcn", gnn.SAGEConv, "SAGEConv", _sage_args("gcn"), _sage),
        Spec("SAGE-pool", gnn.SAGEConv, "SAGEConv", _sage_args("pool"), _sage, extra_dims=True),
        Spec("SAGE-lstm", gnn.SAGEConv, "SAGEConv", _sage_args("lstm"), None),
        Spec("GATConv", gnn.GATConv, "GATConv", _heads_args, _gat, attention=True, extra_dims=True),
        Spec(
            "GATv2Conv",
            gnn.GATv2Conv,
            "GATv2Conv",
            _heads_args,
            _gatv2,
            attention=True,
            edge_weight=False,
        ),
        Spec(
            "DotGATConv",
            gnn.DotGATConv,
            "DotGatConv",
            _heads_args,
            _dot,
            attention=True,
            edge_weight=False,
        ),
    ]
}
REFERENCED = [s for s in LAYERS.values() if s.reference is not None]
ATTENTION = [s for s in LAYERS.values() if s.attention]


def make(spec: Spec, in_feats, heads=2, out=3, **kw):
    """A float64 gnnbook layer, seeded; its constructor arguments are kept for :func:`dgl_twin`."""
    torch.manual_seed(1)
    args = spec.args(in_feats, heads, out)
    layer = spec.cls(*args, **kw).double()
    layer.constructed_with = (args, kw)
    return layer


def dgl_twin(spec: Spec, layer):
    """The DGL 2.1 layer built with the same arguments, holding the same weights."""
    import dgl.nn.pytorch as dglnn

    args, kw = layer.constructed_with
    twin = getattr(dglnn, spec.dgl_name)(*args, **kw).double()
    twin.load_state_dict(layer.state_dict())
    return twin


def run(spec: Spec, layer, g, feat, edge_weight=None):
    """``(output, attention or None)`` of a gnnbook or DGL layer (same call either way)."""
    kw = {} if edge_weight is None else {"edge_weight": edge_weight}
    if spec.attention:
        return layer(g, feat, get_attention=True, **kw)
    return layer(g, feat, **kw), None


def dense(spec: Spec, layer, g, feat, edge_weight=None):
    """The layer's output (and attention, per edge) from :mod:`gnnbook.reference`; features with
    extra dimensions ``(N, *, F)`` are computed one slice ``[:, k]`` at a time."""
    h_src, h_dst = feat if isinstance(feat, tuple) else (feat, feat[: g.num_dst_nodes])
    if spec.name == "GraphConv":
        h_dst = h_src[: g.num_dst_nodes]  # ignored: any tensor will do
    if h_src.dim() > 2:
        slices = [
            dense(spec, layer, g, (h_src[:, k], h_dst[:, k]), edge_weight)
            for k in range(h_src.shape[1])
        ]
        out = torch.stack([s[0] for s in slices], 1)
        alpha = None if slices[0][1] is None else torch.stack([s[1] for s in slices], 1)
        return out, alpha
    out, alpha = spec.reference(layer, g, edge_weight, h_src, h_dst)
    if alpha is None:
        return out, None
    alpha = reference.per_edge(alpha, g)
    return out, alpha if edge_weight is None else alpha * edge_weight.view(-1, 1, 1)
