"""Input checks shared by every layer of :mod:`gnnbook.nn`: one place, one wording per mistake.

Each check raises with a message that names the problem and, where there is one, the fix.
"""

from __future__ import annotations

import functools
import numbers

import torch

from ..graph import Graph, as_graph
from ..tensor_checks import float_tensor_on

_SHOWN = 5  # how many offending node ids an error message lists


def positive_int(value, name: str) -> int:
    """``value`` as an int, or an error saying it must be a positive integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def feature_pair(in_feats, name: str = "in_feats") -> tuple[int, int]:
    """``in_feats`` as ``(source width, destination width)``; an int means both sides."""
    if isinstance(in_feats, tuple):
        if len(in_feats) != 2:
            raise ValueError(f"{name} must be an int or a pair (src, dst), got {in_feats!r}")
        return positive_int(in_feats[0], f"{name}[0]"), positive_int(in_feats[1], f"{name}[1]")
    width = positive_int(in_feats, name)
    return width, width


def probability(p, name: str) -> float:
    """A dropout rate: a number in [0, 1)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
        raise ValueError(f"{name} must be a dropout probability in [0, 1), got {p!r}")
    return float(p)


def _node_tensor(
    h, name: str, graph: Graph, rows: int, side: str, width: int, param, extra_dims: bool
) -> None:
    float_tensor_on(graph, name, h)
    if extra_dims and h.dim() < 2:
        raise ValueError(
            f"{name} must have shape (nodes, ..., features), got shape {tuple(h.shape)}; "
            f"for one feature per node use {name}.unsqueeze(-1)"
        )
    if not extra_dims and h.dim() != 2:
        hint = f"; for one feature per node use {name}.unsqueeze(-1)" if h.dim() == 1 else ""
        raise ValueError(f"{name} must be 2-D (nodes, features), got shape {tuple(h.shape)}{hint}")
    if h.shape[0] != rows:
        raise ValueError(f"{name} has {h.shape[0]} rows but the graph has {rows} {side} nodes")
    if h.shape[-1] != width:
        raise ValueError(
            f"{name} has {h.shape[-1]} features per node but the layer expects {width}"
        )
    if 0 in h.shape[1:-1]:
        raise ValueError(
            f"{name} has an empty dimension between nodes and features: shape {tuple(h.shape)}"
        )
    if param is not None and h.dtype != param.dtype:
        raise TypeError(
            f"{name} is {h.dtype} but the layer's parameters are {param.dtype}; "
            f"convert one (e.g. layer.double() or {name}.float())"
        )
    if param is not None and h.device != param.device:
        raise ValueError(
            f"{name} is on {h.device} but the layer's parameters are on {param.device}"
        )


def split_features(
    graph,
    feat,
    in_feats: tuple[int, int],
    param=None,
    dropout=None,
    *,
    uses_dst: bool = True,
    extra_dims: bool = False,
):
    """Check ``feat`` against ``graph`` and the layer; return ``(graph, h_src, h_dst)``, with
    dropout.

    ``feat`` is one tensor or a pair ``(feat_src, feat_dst)``, as in DGL:

    * one tensor on a homogeneous graph: every node is a source and a destination;
    * one tensor on a DGL block: the destinations are its first source nodes, ``feat[:N_dst]``;
    * one tensor on any other bipartite graph: only a layer that does not read destination features
      (``uses_dst=False``, GraphConv) takes it; the others need the pair;
    * a pair: ``feat_dst`` is checked only when the layer reads it (``uses_dst``); GraphConv ignores
      it.

    ``h_dst`` is ``None`` when ``uses_dst`` is false. ``param`` is any layer parameter (its dtype
    and device must match). With ``extra_dims`` the features may be ``(N, *, in_feats)`` (DGL's
    GraphConv, GATConv and SAGEConv's 'mean' and 'pool' take them); both sides must then share the
    ``*``. ``dropout`` is applied once per input tensor, so a node that is both a source and a
    destination sees one dropout mask, as in DGL.
    """
    is_block = bool(getattr(graph, "is_block", False))  # only DGL graphs have this
    g = as_graph(graph)
    check = functools.partial(_node_tensor, graph=g, param=param, extra_dims=extra_dims)
    drop = dropout if dropout is not None else (lambda h: h)
    if isinstance(feat, (tuple, list)):
        if len(feat) != 2:
            raise ValueError(
                f"a feature tuple must be (feat_src, feat_dst), got {len(feat)} tensors"
            )
        check(feat[0], "feat_src", rows=g.num_src_nodes, side="source", width=in_feats[0])
        if not uses_dst:
            if not isinstance(feat[1], torch.Tensor):
                raise TypeError(f"feat_dst must be a torch.Tensor, got {type(feat[1]).__name__}")
            return g, drop(feat[0]), None
        check(feat[1], "feat_dst", rows=g.num_dst_nodes, side="destination", width=in_feats[1])
        if feat[0].shape[1:-1] != feat[1].shape[1:-1]:
            raise ValueError(
                f"feat_src and feat_dst must have the same dimensions between nodes and "
                f"features, got {tuple(feat[0].shape)} and {tuple(feat[1].shape)}"
            )
        return g, drop(feat[0]), drop(feat[1])
    if uses_dst and g.is_bipartite and not is_block:
        raise ValueError(
            f"the graph is bipartite ({g.num_src_nodes} source, {g.num_dst_nodes} destination "
            f"nodes): pass features as a tuple (feat_src, feat_dst)"
        )
    if uses_dst and in_feats[0] != in_feats[1]:
        raise ValueError(
            f"the layer was built for in_feats={in_feats}: pass a tuple (feat_src, feat_dst)"
        )
    check(feat, "feat", rows=g.num_src_nodes, side="source", width=in_feats[0])
    h = drop(feat)
    # destination i is source i (all of them, or a block's first ones)
    return g, h, h[: g.num_dst_nodes] if uses_dst else None


def edge_weights(graph: Graph, edge_weight, like: torch.Tensor):
    """``edge_weight`` must be ``None`` or a float tensor of shape ``(E,)`` matching ``like``."""
    if edge_weight is None:
        return None
    shape = (graph.num_edges,)
    return tensor_like(edge_weight, "edge_weight", shape, f"{shape}, one weight per edge", like)


def tensor_like(value, name: str, shape: tuple, shape_text: str, like: torch.Tensor):
    """``value``, a tensor of ``shape`` (described by ``shape_text``) with ``like``'s dtype and
    device, or an error naming ``name``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if value.shape != shape:
        raise ValueError(f"{name} must have shape {shape_text}, got {tuple(value.shape)}")
    if value.dtype != like.dtype or value.device != like.device:
        raise TypeError(
            f"{name} is {value.dtype} on {value.device} but the features are "
            f"{like.dtype} on {like.device}; convert one with .to()"
        )
    return value


def in_degrees_positive(graph: Graph, allow_zero_in_degree: bool) -> None:
    """Refuse destinations with no in-edges unless the layer allows them (their output is the
    bias)."""
    if allow_zero_in_degree:
        return
    lonely = (graph.in_degrees() == 0).nonzero().flatten()
    if lonely.numel():
        shown = ", ".join(str(i) for i in lonely[:_SHOWN].tolist())
        more = f" and {lonely.numel() - _SHOWN} more" if lonely.numel() > _SHOWN else ""
        raise ValueError(
            f"destination node(s) {shown}{more} have zero in-degree, so the layer has nothing to "
            f"aggregate for them. Add self-loops (graph.add_self_loops(), or "
            f"dgl.add_self_loop(g)), or build the layer with allow_zero_in_degree=True (their "
            f"output is then just the bias)."
        )
