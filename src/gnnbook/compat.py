r"""Move weights between :mod:`gnnbook.nn` (DGL's layout) and PyG's layers.

Two functions, inverse to each other:

* :func:`to_pyg` ``(layer, *, concat=True)`` builds the PyG module that computes the same function
  **on the same graph** (it is built with ``add_self_loops=False``: give it
  ``graph.to_edge_index()``).
* :func:`from_pyg` ``(module)`` builds the gnnbook layer holding a PyG module's weights. A PyG
  module that adds self-loops itself matches the gnnbook layer run on :func:`pyg_self_loops`
  ``(graph)``.

PyG returns heads concatenated, ``(N, H*F)``, or averaged, ``(N, F)``; gnnbook (like DGL) returns
``(N, H, F)``: :func:`merge_heads` turns one into the other. PyG applies its bias (and residual)
*after* merging the heads, so averaging maps per-head values to their mean, and back to copies.
Layout differences handled here: ``nn.Linear`` weights are ``(out, in)`` in both, but GraphConv's
``weight`` is ``(in, out)``; GAT's ``attn_l, attn_r`` are PyG's ``att_src, att_dst``; GATv2's
``fc_src, fc_dst`` are PyG's ``lin_l, lin_r``; SAGE's ``fc_neigh, fc_self`` are PyG's ``lin_l,
lin_r`` (DGL keeps the bias in ``fc_self``, PyG in ``lin_l``). Where the two cannot express the same
layer (an activation, feature dropout, 'left' norm, an LSTM, ...) a ``ValueError`` says what.

Where the formulas differ on some graphs: PyG's GCN normalises both ends by *in*-degree (DGL uses
the source's out-degree) and counts edge weights in the degrees, so GraphConv and GCNConv agree on
graphs whose nodes have equal in- and out-degree, without edge weights. DGL's SAGE 'gcn' aggregator
is PyG's mean aggregator without root weight, run on ``graph.add_self_loops()`` (graph without
self-loops). PyG is imported only inside these functions.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

from . import nn as gnn
from .graph import Graph


def merge_heads(rst: torch.Tensor, concat: bool = True) -> torch.Tensor:
    """``(N, H, F)`` -> PyG's ``(N, H*F)`` (``concat``) or ``(N, F)`` (mean over heads)."""
    return rst.flatten(1) if concat else rst.mean(1)


def pyg_self_loops(graph) -> Graph:
    """The edges PyG's GCNConv/GATConv/GATv2Conv use when they add self-loops: existing loops
    removed, then one loop per node appended, in node order."""
    return graph.remove_self_loops().add_self_loops()


def _heads_to_pyg(t: torch.Tensor, num_heads: int, concat: bool) -> torch.Tensor:
    """A per-head ``(H*F, ...)`` tensor as PyG holds it: unchanged, or averaged over heads."""
    return t if concat else t.reshape(num_heads, -1, *t.shape[1:]).mean(0)


def _heads_from_pyg(t: torch.Tensor, num_heads: int, concat: bool) -> torch.Tensor:
    """Inverse of :func:`_heads_to_pyg` (copies per head, whose mean is the original)."""
    return t if concat else t.repeat(num_heads, *([1] * (t.dim() - 1)))


def _refuse(cond: bool, message: str) -> None:
    if cond:
        raise ValueError(message)


def _copy(dst, src) -> None:
    with torch.no_grad():
        dst.copy_(src)


def _like(module, layer):
    p = next(layer.parameters())
    return module.to(device=p.device, dtype=p.dtype)


def _no_extras(layer, name: str) -> None:
    _refuse(
        getattr(layer, "activation", None) is not None
        or getattr(layer, "_activation", None) is not None,
        f"PyG's {name} has no activation: build the gnnbook layer without one and apply it after",
    )
    drop = getattr(layer, "feat_drop", None)
    _refuse(
        drop is not None and drop.p > 0,
        f"PyG's {name} has no feature dropout (feat_drop must be 0)",
    )


# --- residual branch of GAT/GATv2: DGL's per-head map (or identity) vs PyG's merged one -----------
def _residual_weight(layer) -> torch.Tensor:
    if isinstance(layer.res_fc, torch.nn.Linear):
        return layer.res_fc.weight
    p = next(layer.parameters())
    return torch.eye(layer._in_dst_feats, dtype=p.dtype, device=p.device)  # identity: in_dst == H*F


def _load_residual(layer, weight: torch.Tensor, concat: bool) -> None:
    per_head = _heads_from_pyg(weight, layer._num_heads, concat)
    if isinstance(layer.res_fc, torch.nn.Linear):
        _copy(layer.res_fc.weight, per_head)
    else:
        _refuse(
            not torch.allclose(
                _heads_to_pyg(_residual_weight(layer), layer._num_heads, concat), weight
            ),
            "DGL uses an identity residual when in_dst == heads * out_channels; "
            "this PyG residual is not one",
        )


# --- GCN ------------------------------------------------------------------------------------------
def _graphconv_to_pyg(layer, concat):
    from torch_geometric.nn import GCNConv

    _no_extras(layer, "GCNConv")
    _refuse(
        layer._norm not in ("both", "none"),
        f"PyG's GCNConv has no norm={layer._norm!r}; use 'both' or 'none'",
    )
    _refuse(
        layer.weight is None, "PyG's GCNConv always has a weight: build GraphConv with weight=True"
    )
    module = GCNConv(
        layer._in_feats,
        layer._out_feats,
        normalize=layer._norm == "both",
        add_self_loops=False,
        bias=layer.bias is not None,
    )
    module = _like(module, layer)
    _copy(module.lin.weight, layer.weight.T)  # PyG: (out, in); DGL: (in, out)
    if layer.bias is not None:
        _copy(module.bias, layer.bias)
    return module


def _graphconv_from_pyg(module):
    _refuse(
        module.improved, "improved=True (self-loops of weight 2) has no DGL GraphConv counterpart"
    )
    layer = gnn.GraphConv(
        module.in_channels,
        module.out_channels,
        norm="both" if module.normalize else "none",
        bias=module.bias is not None,
        allow_zero_in_degree=True,
    )
    layer = _like(layer, module)
    _copy(layer.weight, module.lin.weight.T)
    if module.bias is not None:
        _copy(layer.bias, module.bias)
    return layer


# --- GraphSAGE ------------------------------------------------------------------------------------
def _sage_pairs(layer, module):
    """``(gnnbook tensor, PyG tensor)`` pairs that hold the same numbers."""
    kind = layer._aggre_type
    bias = layer.bias if kind == "gcn" else layer.fc_self.bias  # PyG keeps it in lin_l
    pairs = [(layer.fc_neigh.weight, module.lin_l.weight), (bias, module.lin_l.bias)]
    if kind != "gcn":
        pairs.append((layer.fc_self.weight, module.lin_r.weight))
    if kind == "pool":
        pairs += [(layer.fc_pool.weight, module.lin.weight), (layer.fc_pool.bias, module.lin.bias)]
    return [(ours, theirs) for ours, theirs in pairs if ours is not None]


def _sage_to_pyg(layer, concat):
    from torch_geometric.nn import SAGEConv

    _no_extras(layer, "SAGEConv")
    _refuse(
        layer.norm is not None,
        "norm: PyG's SAGEConv only knows normalize=True; build from PyG instead",
    )
    kind = layer._aggre_type
    _refuse(kind == "lstm", "the LSTM aggregators of DGL and PyG differ; no conversion")
    in_feats = (layer._in_src_feats, layer._in_dst_feats)
    bias = layer.fc_self.bias if kind != "gcn" else layer.bias
    module = SAGEConv(
        in_feats,
        layer._out_feats,
        aggr="max" if kind == "pool" else "mean",
        root_weight=kind != "gcn",
        project=kind == "pool",
        bias=bias is not None,
    )
    module = _like(module, layer)
    for ours, theirs in _sage_pairs(layer, module):
        _copy(theirs, ours)
    return module


def _sage_from_pyg(module):
    aggr = module.aggr
    if aggr == "max" and module.project and module.root_weight:
        kind = "pool"
    elif aggr == "mean" and not module.project:
        kind = "mean" if module.root_weight else "gcn"
    else:
        raise ValueError(
            f"no DGL SAGEConv matches aggr={aggr!r}, project={module.project}, "
            f"root_weight={module.root_weight}"
        )
    in_channels = module.in_channels
    bias = module.lin_l.bias is not None
    norm = functools.partial(F.normalize, p=2.0, dim=-1) if module.normalize else None
    layer = _like(
        gnn.SAGEConv(in_channels, module.out_channels, kind, bias=bias, norm=norm), module
    )
    for ours, theirs in _sage_pairs(layer, module):
        _copy(ours, theirs)
    return layer


def _attention_options(layer, concat: bool) -> dict:
    """The arguments PyG's GATConv and GATv2Conv share, read off a gnnbook attention layer."""
    return dict(
        out_channels=layer._out_feats,
        heads=layer._num_heads,
        concat=concat,
        negative_slope=layer.leaky_relu.negative_slope,
        dropout=layer.attn_drop.p,
        add_self_loops=False,  # the module runs on the graph it is given, as the layer does
        residual=layer.res_fc is not None,
    )


def _layer_options(module) -> dict:
    """The inverse of :func:`_attention_options`: gnnbook's arguments read off a PyG module. Built
    with ``allow_zero_in_degree=True``, since PyG never refuses such nodes."""
    return dict(
        in_feats=module.in_channels,
        out_feats=module.out_channels,
        num_heads=module.heads,
        attn_drop=module.dropout,
        negative_slope=module.negative_slope,
        residual=module.res is not None,
        allow_zero_in_degree=True,
    )


# --- GAT ------------------------------------------------------------------------------------------
def _gat_to_pyg(layer, concat):
    from torch_geometric.nn import GATConv

    _no_extras(layer, "GATConv")
    H, bipartite = layer._num_heads, not hasattr(layer, "fc")
    in_feats = (layer._in_src_feats, layer._in_dst_feats) if bipartite else layer._in_src_feats
    bias = layer.bias if layer.bias is not None else getattr(layer.res_fc, "bias", None)
    module = _like(
        GATConv(in_feats, **_attention_options(layer, concat), bias=bias is not None), layer
    )
    if bipartite:
        _copy(module.lin_src.weight, layer.fc_src.weight)
        _copy(module.lin_dst.weight, layer.fc_dst.weight)
    else:
        _copy(module.lin.weight, layer.fc.weight)
    _copy(module.att_src, layer.attn_l)  # a_l: the source half of a
    _copy(module.att_dst, layer.attn_r)  # a_r: the destination half
    if layer.res_fc is not None:
        _copy(module.res.weight, _heads_to_pyg(_residual_weight(layer), H, concat))
    if bias is not None:
        _copy(module.bias, _heads_to_pyg(bias, H, concat))
    return module


def _gat_from_pyg(module):
    _refuse(module.edge_dim is not None, "edge features (edge_dim) have no DGL GATConv counterpart")
    H, concat = module.heads, module.concat
    layer = _like(gnn.GATConv(**_layer_options(module), bias=module.bias is not None), module)
    if module.lin is not None:
        _copy(layer.fc.weight, module.lin.weight)
    else:
        _copy(layer.fc_src.weight, module.lin_src.weight)
        _copy(layer.fc_dst.weight, module.lin_dst.weight)
    _copy(layer.attn_l, module.att_src)
    _copy(layer.attn_r, module.att_dst)
    if module.res is not None:
        _load_residual(layer, module.res.weight, concat)
    if module.bias is not None:
        _copy(
            layer.bias if layer.bias is not None else layer.res_fc.bias,
            _heads_from_pyg(module.bias, H, concat),
        )
    return layer


# --- GATv2 ----------------------------------------------------------------------------------------
def _gatv2_to_pyg(layer, concat):
    from torch_geometric.nn import GATv2Conv

    _no_extras(layer, "GATv2Conv")
    H, has_bias = layer._num_heads, layer.fc_src.bias is not None
    shared = layer.fc_dst is layer.fc_src
    same = layer._in_src_feats == layer._in_dst_feats
    in_feats = layer._in_src_feats if same else (layer._in_src_feats, layer._in_dst_feats)
    options = _attention_options(layer, concat)
    module = _like(GATv2Conv(in_feats, **options, bias=has_bias, share_weights=shared), layer)
    _copy(module.lin_l.weight, layer.fc_src.weight)  # lin_l: the source (message) side
    _copy(module.lin_r.weight, layer.fc_dst.weight)
    if has_bias:
        _copy(module.lin_l.bias, layer.fc_src.bias)
        _copy(module.lin_r.bias, layer.fc_dst.bias)
        # DGL has no output bias; its linear residual's bias plays that part.
        res_bias = getattr(layer.res_fc, "bias", None)
        _copy(
            module.bias,
            torch.zeros_like(module.bias)
            if res_bias is None
            else _heads_to_pyg(res_bias, H, concat),
        )
    _copy(module.att, layer.attn)
    if layer.res_fc is not None:
        _copy(module.res.weight, _heads_to_pyg(_residual_weight(layer), H, concat))
    return module


def _gatv2_from_pyg(module):
    _refuse(
        module.edge_dim is not None, "edge features (edge_dim) have no DGL GATv2Conv counterpart"
    )
    H, concat = module.heads, module.concat
    has_bias = module.lin_l.bias is not None
    options = _layer_options(module)
    layer = _like(
        gnn.GATv2Conv(**options, bias=has_bias, share_weights=module.share_weights), module
    )
    _copy(layer.fc_src.weight, module.lin_l.weight)
    _copy(layer.fc_dst.weight, module.lin_r.weight)
    if has_bias:
        _copy(layer.fc_src.bias, module.lin_l.bias)
        _copy(layer.fc_dst.bias, module.lin_r.bias)
        if isinstance(layer.res_fc, torch.nn.Linear):
            _copy(layer.res_fc.bias, _heads_from_pyg(module.bias, H, concat))
        else:
            _refuse(
                bool(module.bias.detach().ne(0).any()),
                "PyG's GATv2Conv has an output bias that DGL's lacks "
                "(unless its residual is linear); this one is not zero",
            )
    _copy(layer.attn, module.att)
    if module.res is not None:
        _load_residual(layer, module.res.weight, concat)
    return layer


# --- TransformerConv: the same parameter names on both sides ------------------------------------
def _transformer_to_pyg(layer, concat):
    from torch_geometric.nn import TransformerConv

    _refuse(
        concat != layer.concat,
        f"TransformerConv merges its heads itself (concat={layer.concat}, which sets "
        f"lin_skip's width): call to_pyg(layer, concat={layer.concat})",
    )
    same = layer._in_src_feats == layer._in_dst_feats
    module = TransformerConv(
        layer._in_src_feats if same else (layer._in_src_feats, layer._in_dst_feats),
        layer._out_feats,
        heads=layer._num_heads,
        concat=layer.concat,
        beta=layer.beta,
        dropout=layer.attn_drop.p,
        edge_dim=layer._edge_feats,
        bias=layer.lin_key.bias is not None,
        root_weight=layer.root_weight,
    )
    module = _like(module, layer)
    _load_named(module, layer.state_dict())
    return module


def _transformer_from_pyg(module):
    layer = gnn.TransformerConv(
        module.in_channels,
        module.out_channels,
        module.heads,
        concat=module.concat,
        beta=module.beta,
        edge_feats=module.edge_dim,
        bias=module.lin_key.bias is not None,
        root_weight=module.root_weight,
        attn_drop=module.dropout,
        allow_zero_in_degree=True,
    )
    layer = _like(layer, module)
    state = module.state_dict()
    if not module.root_weight:  # PyG builds lin_skip even when it never uses it
        state = {k: v for k, v in state.items() if not k.startswith("lin_skip.")}
    _load_named(layer, state)
    return layer


def _load_named(target, state) -> None:
    """Load ``state`` into ``target`` by name; only PyG's unused ``lin_skip`` may stay unfilled."""
    missing, unexpected = target.load_state_dict(state, strict=False)
    _refuse(
        bool(unexpected) or any(not k.startswith("lin_skip.") for k in missing),
        f"parameters do not correspond: missing {missing}, unexpected {unexpected}",
    )


# --- GPS: the local layer through its own conversion, the rest by name --------------------------
def _gps_norm_to_pyg(kind):
    return {
        "batch_norm": ("batch_norm", None),
        "layer_norm": ("layer_norm", {"mode": "node"}),
        None: (None, None),
    }[kind]


def _gps_norm_from_pyg(norm):
    kind = type(norm).__name__
    if norm is None:
        return None
    if kind == "BatchNorm" and not norm.allow_single_element:
        return "batch_norm"
    _refuse(
        kind != "LayerNorm" or norm.mode != "node",
        f"GPSLayer's norms are BatchNorm, per-node LayerNorm or none; PyG's {norm!r} is none of "
        "them",
    )
    return "layer_norm"


def _gps_copy(source, target) -> None:
    """Attention, MLP and norm weights from one GPS layer to the other (either side may be PyG's,
    whose BatchNorm holds a BatchNorm1d as ``module``)."""
    target.attn.load_state_dict(source.attn.state_dict())
    target.mlp.load_state_dict(source.mlp.state_dict())
    for name in ("norm1", "norm2", "norm3"):
        ours, theirs = getattr(source, name), getattr(target, name)
        if ours is not None:
            getattr(theirs, "module", theirs).load_state_dict(
                getattr(ours, "module", ours).state_dict()
            )


def _gps_to_pyg(layer, concat):
    import copy

    from torch_geometric.nn import GPSConv

    conv = (
        None
        if layer.conv is None
        else to_pyg(layer.conv, concat=getattr(layer.conv, "concat", True))
    )
    norm, norm_kwargs = _gps_norm_to_pyg(layer.norm_type)
    module = GPSConv(
        layer.channels,
        conv,
        heads=layer.attn.num_heads,
        dropout=layer.dropout.p,
        act=copy.deepcopy(layer.mlp[1]),
        norm=norm,
        norm_kwargs=norm_kwargs,
        attn_kwargs={"dropout": layer.attn.dropout},
    )
    module = _like(module, layer)
    _gps_copy(layer, module)
    return module


def _gps_from_pyg(module):
    import copy

    _refuse(
        module.attn_type != "multihead",
        f"GPSLayer has multi-head attention only, not {module.attn_type!r}",
    )
    conv = None if module.conv is None else from_pyg(module.conv)
    layer = gnn.GPSLayer(
        module.channels,
        conv,
        num_heads=module.heads,
        dropout=module.dropout,
        act=copy.deepcopy(module.mlp[1]),
        norm=_gps_norm_from_pyg(module.norm1),
        attn_drop=module.attn.dropout,
    )
    layer = _like(layer, module)
    _gps_copy(module, layer)
    return layer


_TO_PYG = {
    gnn.GraphConv: _graphconv_to_pyg,
    gnn.SAGEConv: _sage_to_pyg,
    gnn.GATConv: _gat_to_pyg,
    gnn.GATv2Conv: _gatv2_to_pyg,
    gnn.TransformerConv: _transformer_to_pyg,
    gnn.GPSLayer: _gps_to_pyg,
}
_FROM_PYG = {
    "GCNConv": _graphconv_from_pyg,
    "SAGEConv": _sage_from_pyg,
    "GATConv": _gat_from_pyg,
    "GATv2Conv": _gatv2_from_pyg,
    "TransformerConv": _transformer_from_pyg,
    "GPSConv": _gps_from_pyg,
}


def to_pyg(layer, *, concat: bool = True):
    """The PyG module computing what ``layer`` computes on the same edges, heads merged by
    ``concat``.

    Supports GraphConv -> GCNConv, SAGEConv -> SAGEConv, GATConv -> GATConv, GATv2Conv -> GATv2Conv,
    TransformerConv -> TransformerConv, GPSLayer -> GPSConv (its local layer converted too);
    ``concat`` matters only for the attention layers (a
    TransformerConv merges its heads itself: ``concat`` must be its own). Parameters are copies
    (same dtype and device).
    """
    convert = _TO_PYG.get(type(layer))
    _refuse(
        convert is None,
        f"no PyG counterpart for {type(layer).__name__}; "
        f"supported: {', '.join(t.__name__ for t in _TO_PYG)}",
    )
    return convert(layer, concat)


def from_pyg(module):
    """The gnnbook layer holding ``module``'s weights (GCNConv, SAGEConv, GATConv, GATv2Conv,
    TransformerConv or GPSConv).

    Its output is PyG's after :func:`merge_heads` ``(rst, module.concat)``. Layers are built with
    ``allow_zero_in_degree=True``, since PyG never refuses such nodes.
    """
    convert = _FROM_PYG.get(type(module).__name__)
    _refuse(
        convert is None,
        f"no gnnbook layer for {type(module).__name__}; supported: {', '.join(_FROM_PYG)}",
    )
    return convert(module)
