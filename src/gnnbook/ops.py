r"""The three message-passing steps inside every attention layer of the book.

DGL's ``GATConv.forward`` is (1) a projection, (2) a per-edge score ``u_add_v`` of a source term and
a destination term, (3) ``edge_softmax`` over each node's incoming edges, then ``u_mul_e`` +
``sum``. These functions are those steps, written out; chapter "Inside DGL's GATConv" derives them
one by one. Every function takes a :class:`gnnbook.Graph` (or a DGL graph) and keeps edge order; its
tensors must be floating point and on the graph's device (a ``TypeError`` / ``ValueError`` names the
one that is not).

The docstrings give what each op computes; how it is computed fast (a CSR grouped by destination,
sparse products, and hand-written backward passes) is explained in :mod:`gnnbook._sparse`.
"""

from __future__ import annotations

import math

import torch

from . import _sparse
from .graph import Graph, as_graph
from .tensor_checks import float_tensor_on


def _per_edge(graph: Graph, name: str, value: torch.Tensor) -> None:
    float_tensor_on(graph, name, value)
    if value.dim() == 0 or value.shape[0] != graph.num_edges:
        raise ValueError(
            f"{name} must have one row per edge ({graph.num_edges}), got shape {tuple(value.shape)}"
        )


def _per_node(graph: Graph, side: str, name: str, value: torch.Tensor) -> None:
    float_tensor_on(graph, name, value)
    count = graph.num_src_nodes if side == "source" else graph.num_dst_nodes
    if value.dim() == 0 or value.shape[0] != count:
        raise ValueError(
            f"{name} must have one row per {side} node ({count}), got shape {tuple(value.shape)}"
        )


def _broadcast_edges(index: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``index`` of shape (E,) viewed and expanded to ``like``'s shape, for scatter ops."""
    return index.view(-1, *([1] * (like.dim() - 1))).expand_as(like)


def u_add_v(graph, el: torch.Tensor, er: torch.Tensor) -> torch.Tensor:
    r"""Per-edge sum of a source term and a destination term:
    :math:`e_{k} = e^{l}_{\mathrm{src}_k} + e^{r}_{\mathrm{dst}_k}`.

    In GAT, :math:`e^l_j = a_l^\top W h_j` and :math:`e^r_i = a_r^\top W h_i`, so that
    :math:`a^\top [W h_i \,\|\, W h_j] = e^r_i + e^l_j` (chapter "Inside DGL's GATConv").

    Shapes: ``el`` ``(N_src, *)``, ``er`` ``(N_dst, *)`` -> ``(E, *)``.
    """
    graph = as_graph(graph)
    _per_node(graph, "source", "el", el)
    _per_node(graph, "destination", "er", er)
    try:
        torch.broadcast_shapes(el.shape[1:], er.shape[1:])
    except RuntimeError:
        raise ValueError(
            f"el and er must have broadcastable shapes after their first dimension, got "
            f"{tuple(el.shape)} and {tuple(er.shape)}"
        ) from None
    return _sparse.UAddV.apply(el, er, graph)


def edge_softmax(graph, logits: torch.Tensor) -> torch.Tensor:
    r"""Softmax over each destination's incoming edges:
    :math:`\alpha_{ij} = \exp(e_{ij}) / \sum_{k \in N(i)} \exp(e_{ik})`.

    The per-destination maximum is subtracted first (it cancels in the ratio), so logits as large as
    :math:`\pm 10^4` give no ``inf`` or ``NaN``. Shape ``(E, *)`` -> ``(E, *)``; chapter "GAT"
    derives it.
    """
    graph = as_graph(graph)
    _per_edge(graph, "logits", logits)
    return _sparse.EdgeSoftmax.apply(logits, graph)


def u_mul_e_sum(graph, h: torch.Tensor, alpha: torch.Tensor | None = None) -> torch.Tensor:
    r"""Weighted sum over incoming edges: :math:`h'_i = \sum_{j \in N(i)} \alpha_{ij}\, h_j`.

    DGL spells it ``update_all(fn.u_mul_e('ft', 'a', 'm'), fn.sum('m', 'ft'))``; without ``alpha``
    every edge weighs 1 (DGL's ``fn.copy_u`` + ``fn.sum``).
    Shapes: ``h`` (N_src, H, F) with ``alpha`` (E, H) or (E, H, 1) -> (N_dst, H, F); also ``h``
    (N_src, F) with ``alpha`` (E,), (E, 1) or ``None`` -> (N_dst, F). Destinations without in-edges
    get zeros. Chapter "GAT" derives it; GCN and GraphSAGE use it with fixed weights.
    """
    graph = as_graph(graph)
    _per_node(graph, "source", "h", h)
    split, dtype = (
        1,
        h.dtype,
    )  # h's dims before `split` are alpha's (edges, heads), the rest features
    if alpha is not None:
        _per_edge(graph, "alpha", alpha)
        if alpha.dim() == h.dim() and alpha.shape[-1] == 1:
            alpha = alpha.squeeze(-1)  # DGL keeps attention as (E, H, 1)
        if alpha.dim() >= h.dim() or alpha.shape[1:] != h.shape[1 : alpha.dim()]:
            raise ValueError(
                f"alpha of shape {tuple(alpha.shape)} does not match h of shape {tuple(h.shape)}"
            )
        split, dtype = alpha.dim(), torch.promote_types(h.dtype, alpha.dtype)
        alpha = alpha.to(dtype).reshape(graph.num_edges, math.prod(alpha.shape[1:]))
    # Heads and features flattened: h (N_src, H, F), alpha (E, H); H = 1 for per-edge scalars.
    heads, feats = math.prod(h.shape[1:split]), math.prod(h.shape[split:])
    out = _sparse.UMulESum.apply(h.to(dtype).reshape(h.shape[0], heads, feats), alpha, graph)
    return out.view(graph.num_dst_nodes, *h.shape[1:])


def u_mul_e_max(graph, h: torch.Tensor, alpha: torch.Tensor | None = None) -> torch.Tensor:
    r"""Element-wise maximum over incoming edges:
    :math:`h'_i = \max_{j \in N(i)} \alpha_{ij}\, h_j`.

    GraphSAGE's pool aggregator (chapter "GraphSAGE"); without ``alpha`` it is DGL's
    ``update_all(fn.copy_u('h', 'm'), fn.max('m', 'h'))``. Shapes: ``h`` ``(N_src, *)`` with
    ``alpha`` ``(E,)`` or ``None`` -> ``(N_dst, *)``. Destinations without in-edges get
    zeros, as in DGL.
    """
    graph = as_graph(graph)
    _per_node(graph, "source", "h", h)
    src, dst = graph.edges(copy=False)
    messages = h.index_select(0, src)
    if alpha is not None:
        _per_edge(graph, "alpha", alpha)
        if alpha.numel() != graph.num_edges:
            raise ValueError(
                f"alpha must hold one weight per edge, shape ({graph.num_edges},), got "
                f"{tuple(alpha.shape)}"
            )
        messages = messages * alpha.reshape(-1, *([1] * (h.dim() - 1)))
    # include_self=False: a destination's row starts from its first message, and an
    # empty one stays 0.
    return h.new_zeros((graph.num_dst_nodes, *h.shape[1:])).scatter_reduce(
        0, _broadcast_edges(dst, messages), messages, "amax", include_self=False
    )


def u_dot_v(graph, k: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    r"""Per-edge dot product of a source vector and a destination vector:
    :math:`s_{ij} = \langle k_j, q_i \rangle` for every edge :math:`j \to i` and every head.

    In dot-product attention (chapter "From masked to full attention") :math:`k_j` is
    the key of source :math:`j` and :math:`q_i` the query of destination :math:`i`; unlike GAT's
    score it is not a source term plus a destination term, so it needs both ends of every edge at
    once. The argument order is DGL's ``dgl.ops.u_dot_v(g, lhs, rhs)``: first the source (u)
    feature, then the destination (v) feature.

    Shapes: ``k`` ``(N_src, *, F)``, ``q`` ``(N_dst, *, F)`` with the same ``(*, F)`` ->
    ``(E, *, 1)``; for attention, ``(N, H, F)`` -> ``(E, H, 1)``.
    """
    graph = as_graph(graph)
    _per_node(graph, "source", "k", k)
    _per_node(graph, "destination", "q", q)
    for name, value in (("k", k), ("q", q)):
        if value.dim() < 2:
            raise ValueError(
                f"{name} must have shape (nodes, ..., features), got shape {tuple(value.shape)}"
            )
    if k.shape[1:] != q.shape[1:]:
        raise ValueError(
            f"k and q must have the same per-node shape, got {tuple(k.shape[1:])} and "
            f"{tuple(q.shape[1:])}"
        )
    dtype = torch.promote_types(k.dtype, q.dtype)
    tail, width = k.shape[1:-1], k.shape[-1]
    # Heads flattened: (N, C, F) for the fast path, C = prod(*) (1 for plain vectors).
    flat = [x.to(dtype).reshape(x.shape[0], math.prod(tail), width) for x in (k, q)]
    return _sparse.UDotV.apply(*flat, graph).view(graph.num_edges, *tail, 1)
