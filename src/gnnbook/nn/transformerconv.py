r"""The graph transformer layer: scaled dot-product attention masked by the graph
(Shi et al., 2021)."""

from __future__ import annotations

import math

import torch
from torch import nn

from .. import ops
from ..graph import Graph
from . import _checks
from ._attention import init_heads


class TransformerConv(nn.Module):
    r"""Masked multi-head attention with per-head queries, keys and values, as PyG's
    ``TransformerConv``.

    For every head (chapter "From masked to full attention"), with :math:`q_i = W_q h_i + b_q`,
    :math:`k_j = W_k h_j + b_k`, :math:`v_j = W_v h_j + b_v` and, with edge features :math:`x_{ij}`,
    :math:`\varepsilon_{ij} = W_e x_{ij}` (else :math:`\varepsilon_{ij} = 0`):

    .. math::
        e_{ij} = \frac{q_i^\top (k_j + \varepsilon_{ij})}{\sqrt{F}}, \qquad
        \alpha_{ij} = \operatorname{softmax}_{j \in \mathcal{N}(i)} e_{ij}, \qquad
        m_i = \sum_{j \in \mathcal{N}(i)} \alpha_{ij}\, (v_j + \varepsilon_{ij})

    The heads' :math:`m_i` are kept side by side (``concat=True``) or averaged (``concat=False``);
    the root weight then adds :math:`r_i = W_r h_i + b_r`, either plainly, :math:`h'_i = m_i + r_i`,
    or through the gate (``beta=True``)

    .. math::
        \beta_i = \sigma\big(w_\beta^\top [\, m_i \,\|\, r_i \,\|\, m_i - r_i \,]\big), \qquad
        h'_i = \beta_i\, r_i + (1 - \beta_i)\, m_i ,

    where :math:`m_i, r_i` are the merged vectors (all heads concatenated, or their mean), so one
    :math:`\beta_i` per node. On the complete graph with self-loops this is the Transformer's
    :math:`\operatorname{softmax}(QK^\top/\sqrt{F})\,V` (chapter "From masked to full attention"
    checks it against ``torch.nn.MultiheadAttention``).

    Parameters have PyG's names (``lin_query``, ``lin_key``, ``lin_value``, ``lin_edge``,
    ``lin_skip``, ``lin_beta``), so ``pyg_module.load_state_dict(layer.state_dict(), strict=False)``
    works (PyG keeps an unused ``lin_skip`` when ``root_weight=False``); DGL has no such layer.

    Args:
        in_feats: input width, or ``(source width, destination width)`` for a bipartite graph
            (keys and values come from sources, queries and the root weight from destinations).
        out_feats: :math:`F`, the width of each head.
        num_heads: :math:`H`.
        concat: keep the heads (``True``) or average them (``False``) before the root weight.
        beta: the gate :math:`\beta_i` between :math:`m_i` and :math:`r_i` (needs ``root_weight``).
        edge_feats: width of the edge features :math:`x_{ij}`; ``None`` for none.
        bias: biases :math:`b_q, b_k, b_v, b_r` (``lin_edge`` and ``lin_beta`` have none, as in
            PyG).
        root_weight: add :math:`r_i = W_r h_i + b_r`.
        attn_drop: dropout on :math:`\alpha` (training only).
        allow_zero_in_degree: accept destinations without in-edges (they get :math:`m_i = 0`).

    Shapes:
        ``feat`` ``(N, in_feats)`` or a pair ``((N_src, in_src), (N_dst, in_dst))``; ``edge_feat``
        ``(E, edge_feats)``. Output ``(N_dst, H, F)`` with ``concat=True`` and ``(N_dst, 1, F)``
        (the head average) with ``concat=False``: in both cases ``rst.flatten(1)`` is PyG's output.
        With ``get_attention`` also :math:`\alpha`, ``(E, H, 1)`` (before dropout,
        as PyG returns it).

    Examples:
        >>> import torch
        >>> from gnnbook import Graph
        >>> from gnnbook.nn import TransformerConv
        >>> g = Graph(torch.tensor([0, 1, 2, 0]), torch.tensor([1, 2, 0, 0]), 3)
        >>> layer = TransformerConv(5, 4, num_heads=2)
        >>> layer(g, torch.randn(3, 5)).shape
        torch.Size([3, 2, 4])
        >>> TransformerConv(5, 4, num_heads=2, concat=False, beta=True)(g, torch.randn(3, 5)).shape
        torch.Size([3, 1, 4])
    """

    def __init__(
        self,
        in_feats,
        out_feats,
        num_heads,
        concat=True,
        beta=False,
        edge_feats=None,
        bias=True,
        root_weight=True,
        attn_drop=0.0,
        allow_zero_in_degree=False,
    ):
        super().__init__()
        width = init_heads(self, in_feats, out_feats, num_heads, allow_zero_in_degree)
        if beta and not root_weight:
            raise ValueError(
                "beta gates between the messages and the root weight: it needs root_weight=True"
            )
        self.concat, self.beta, self.root_weight = bool(concat), bool(beta), bool(root_weight)
        self._edge_feats = (
            None if edge_feats is None else _checks.positive_int(edge_feats, "edge_feats")
        )
        self.lin_query = nn.Linear(self._in_dst_feats, width, bias=bias)
        self.lin_key = nn.Linear(self._in_src_feats, width, bias=bias)
        self.lin_value = nn.Linear(self._in_src_feats, width, bias=bias)
        self.lin_edge = (
            None if edge_feats is None else nn.Linear(self._edge_feats, width, bias=False)
        )
        merged = width if concat else self._out_feats
        self.lin_skip = nn.Linear(self._in_dst_feats, merged, bias=bias) if root_weight else None
        self.lin_beta = nn.Linear(3 * merged, 1, bias=False) if self.beta else None
        self.attn_drop = nn.Dropout(_checks.probability(attn_drop, "attn_drop"))
        self.reset_parameters()

    def reset_parameters(self):
        """``torch.nn.Linear``'s initialisation for every projection (PyG's
        ``Linear`` uses the same)."""
        for lin in (
            self.lin_query,
            self.lin_key,
            self.lin_value,
            self.lin_edge,
            self.lin_skip,
            self.lin_beta,
        ):
            if lin is not None:
                lin.reset_parameters()

    def _edge_weight(self, g: Graph, edge_feat, like: torch.Tensor):
        """:math:`W_e` as ``(H, F, edge_feats)``, one matrix per head, after checking ``edge_feat``;
        ``None`` without edge features."""
        if self.lin_edge is None:
            if edge_feat is not None:
                raise ValueError(
                    "edge_feat given, but the layer was built without edge features "
                    "(edge_feats=None)"
                )
            return None
        if edge_feat is None:
            raise ValueError(
                f"the layer was built with edge_feats={self._edge_feats}: pass edge_feat of shape "
                f"({g.num_edges}, {self._edge_feats})"
            )
        shape = (g.num_edges, self._edge_feats)
        _checks.tensor_like(
            edge_feat,
            "edge_feat",
            shape,
            f"{shape}, one row of edge_feats={self._edge_feats} features per edge",
            like,
        )
        return self.lin_edge.weight.view(self._num_heads, self._out_feats, self._edge_feats)

    def forward(self, graph, feat, edge_feat=None, get_attention=False):
        """``feat``: (N, in_feats), or ``(feat_src, feat_dst)`` for a bipartite graph;
        ``edge_feat``: (E, edge_feats) when the layer has edge features. Returns ``(N_dst, H, F)``
        (``(N_dst, 1, F)`` with ``concat=False``), and with ``get_attention`` also :math:`\\alpha`
        of shape ``(E, H, 1)``."""
        g, h_src, h_dst = _checks.split_features(
            graph, feat, (self._in_src_feats, self._in_dst_feats), self.lin_key.weight
        )
        _checks.in_degrees_positive(g, self._allow_zero_in_degree)
        heads = (self._num_heads, self._out_feats)
        w_e = self._edge_weight(g, edge_feat, h_src)  # W_e, (H, F, edge_feats) or None
        # q_i / sqrt(F): the scale goes into W_q and b_q, cheaper than dividing every edge's score
        scale = 1 / math.sqrt(self._out_feats)
        bias = None if self.lin_query.bias is None else self.lin_query.bias * scale
        q = nn.functional.linear(h_dst, self.lin_query.weight * scale, bias).view(-1, *heads)
        k = self.lin_key(h_src).view(-1, *heads)  # k_j, (N_src, H, F)
        v = self.lin_value(h_src).view(-1, *heads)  # v_j
        e = ops.u_dot_v(g, k, q)  # q_i . k_j / sqrt(F), (E, H, 1)
        if w_e is not None:
            # + q_i . (W_e x_ij) = (W_e^T q_i) . x_ij: a dot product of width edge_feats per edge
            # and head, without the (E, H, F) tensor eps_ij = W_e x_ij. The edge terms run on the
            # edges in destination order (_edges_by_destination): x_ij is then read front to back.
            edges, order, inverse = _edges_by_destination(g)
            x = _permuted(edge_feat, inverse).unsqueeze(1).expand(-1, self._num_heads, -1)
            s = ops.u_dot_v(edges, x, torch.einsum("nhf,hfd->nhd", q, w_e))
            e = e + _permuted(s, order)  # back in edge order
        alpha = ops.edge_softmax(g, e)  # alpha_ij
        weights = self.attn_drop(alpha)
        rst = ops.u_mul_e_sum(g, v, weights)  # sum_j alpha_ij v_j
        if w_e is not None:  # + sum_j alpha_ij W_e x_ij = W_e (sum_j alpha_ij x_ij)
            z = ops.u_mul_e_sum(edges, x, _permuted(weights, inverse))  # (N_dst, H, edge_feats)
            rst = rst + torch.einsum("nhd,hfd->nhf", z, w_e)
        if not self.concat:
            rst = rst.mean(1, keepdim=True)  # m_i: the heads' average
        if self.lin_skip is not None:
            r = self.lin_skip(h_dst).view(rst.shape)  # r_i = W_r h_i + b_r
            if self.lin_beta is None:
                rst = rst + r
            else:
                m, r_flat = rst.flatten(1), r.flatten(1)
                b = torch.sigmoid(
                    self.lin_beta(torch.cat([m, r_flat, m - r_flat], -1))
                )  # beta_i, (N_dst, 1)
                rst = torch.lerp(rst, r, b.unsqueeze(-1))  # beta_i r_i + (1 - beta_i) m_i
        return (rst, alpha) if get_attention else rst


def _edges_by_destination(g: Graph) -> tuple[Graph, torch.Tensor, torch.Tensor]:
    """``(edges, order, inverse)``: ``order`` lists the edge ids of ``g`` grouped by destination
    (as ``g.csr()``), ``inverse`` is its inverse, and ``edges`` is a graph whose source ``k`` is
    edge ``order[k]``, with one edge into that edge's destination. ``u_dot_v`` and ``u_mul_e_sum``
    over it, on per-edge values put in that order, take per-edge dot products with the destinations
    and sums into them, reading the values front to back (in edge order they would be read at
    random, once per head). Cached on ``g``."""

    def build():
        csr = g.csr(copy=False)
        edges = Graph(
            torch.arange(g.num_edges, device=g.device),
            torch.repeat_interleave(
                torch.arange(g.num_dst_nodes, device=g.device), csr.indptr.diff()
            ),
            num_src_nodes=g.num_edges,
            num_dst_nodes=g.num_dst_nodes,
        )
        return edges, csr.eids, _permuted(edges.src, csr.eids)  # src: 0, 1, ..., E - 1

    return g.cached("edges_by_destination", build)


def _permuted(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Row ``index[k]`` of the result is row ``k`` of ``values`` (``index`` a permutation).
    Written as ``index_copy_``, whose backward is a gather (``index_select``'s is a slow
    scatter)."""
    return torch.empty_like(values).index_copy_(0, index, values)
