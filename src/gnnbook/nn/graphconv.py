r"""GCN: neighbour features summed with fixed, degree-based weights (Kipf & Welling, 2017)."""
from __future__ import annotations

import torch
from torch import nn

from .. import ops
from ..graph import Graph
from . import _checks

NORMS = ("both", "right", "left", "none")


def edge_norm(graph: Graph, norm: str, dtype: torch.dtype, edge_weight=None):
    r"""GraphConv's weight on each edge :math:`j \to i`.

    ``'both'``: :math:`c_{ji} = w_{ji} / \sqrt{d^\mathrm{out}_j d^\mathrm{in}_i}`;
    ``'right'``: :math:`w_{ji} / d^\mathrm{in}_i` (a mean); ``'left'``: :math:`w_{ji} / d^\mathrm{out}_j`;
    ``'none'``: :math:`w_{ji}` (``None`` without weights: all ones). Degrees count edges, at
    least 1. Chapter "GCN" derives the weights; they depend only on the graph, so they are
    computed once per graph and dtype.
    """
    if norm == "none":
        return edge_weight

    def per_edge(degrees, ends):  # the degree of one end of every edge, at least 1
        return degrees.clamp(min=1).to(dtype).index_select(0, ends)

    def build():
        if norm == "right":
            return 1 / per_edge(graph.in_degrees(), graph.dst)
        if norm == "left":
            return 1 / per_edge(graph.out_degrees(), graph.src)
        return (per_edge(graph.out_degrees(), graph.src) * per_edge(graph.in_degrees(), graph.dst)).rsqrt()

    c = graph.cached(("edge_norm", norm, dtype), build)
    return c if edge_weight is None else c * edge_weight


class GraphConv(nn.Module):
    r"""Graph convolution, parameter for parameter DGL 2.1's ``GraphConv``.

    Chapter "GCN" derives it; with ``norm='both'``:

    .. math::
        h'_i = \sigma\Big(b + \sum_{j \in \mathcal{N}(i)} \frac{w_{ji}}{\sqrt{d^\mathrm{out}_j}\sqrt{d^\mathrm{in}_i}}\, h_j W\Big)
        \qquad\big(H' = \sigma(D_\mathrm{in}^{-1/2} A D_\mathrm{out}^{-1/2} H W + b)\big)

    'right' divides by :math:`d^\mathrm{in}_i` only (a mean), 'left' by :math:`d^\mathrm{out}_j` only,
    'none' by nothing. Degrees count edges (at least 1) and ignore ``edge_weight`` :math:`w_{ji}`
    (default 1). On an undirected graph with self-loops, 'both' is the paper's
    :math:`\hat D^{-1/2} \hat A \hat D^{-1/2}`. Output ``(N_dst, out_feats)``.

    Args:
        in_feats, out_feats: widths of :math:`h_j` and :math:`h'_i`.
        norm: 'both', 'right', 'left' or 'none'.
        weight: learn :math:`W` (``(in_feats, out_feats)``); without it pass ``weight=`` to forward,
            or none at all for no projection.
        bias: learn :math:`b`.
        activation: :math:`\sigma`; ``None`` for none.
        allow_zero_in_degree: allow destinations without in-edges (their output is :math:`\sigma(b)`).
    """

    def __init__(self, in_feats, out_feats, norm="both", weight=True, bias=True, activation=None,
                 allow_zero_in_degree=False):
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        self._in_feats = _checks.positive_int(in_feats, "in_feats")
        self._out_feats = _checks.positive_int(out_feats, "out_feats")
        self._norm = norm
        self._allow_zero_in_degree = allow_zero_in_degree
        self.weight = nn.Parameter(torch.empty(in_feats, out_feats)) if weight else None
        self.bias = nn.Parameter(torch.empty(out_feats)) if bias else None
        self._activation = activation
        self.reset_parameters()

    def reset_parameters(self):
        """Xavier-uniform :math:`W`, zero :math:`b` (Kipf's original code, and DGL)."""
        if self.weight is not None:
            nn.init.xavier_uniform_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, graph, feat, weight=None, edge_weight=None):
        """``feat``: (N, in_feats), or ``(feat_src, feat_dst)`` for a bipartite graph (only the source
        features are aggregated). ``weight``: an external :math:`W` for a layer built with
        ``weight=False``. Returns ``(N_dst, out_feats)``."""
        if weight is not None and self.weight is not None:
            raise ValueError("an external weight was given but the layer has its own: build it with weight=False")
        W = self.weight if weight is None else weight
        g, h_src, _ = _checks.node_features(graph, feat, (self._in_feats, self._in_feats), W)
        _checks.in_degrees_positive(g, self._allow_zero_in_degree)
        edge_weight = _checks.edge_weights(g, edge_weight, h_src)
        c = edge_norm(g, self._norm, h_src.dtype, edge_weight)           # c_ji
        # A(HW) = (AH)W: multiply by W on the narrower side of the sum (DGL's rule):
        # the sum moves fewer numbers, and needs no backward when feat needs no gradient.
        if W is not None and self._in_feats > self._out_feats:
            rst = ops.u_mul_e_sum(g, h_src @ W, c)                        # sum_j c_ji h_j W
        else:
            rst = ops.u_mul_e_sum(g, h_src, c)                            # sum_j c_ji h_j
            rst = rst if W is None else rst @ W                           # (...) W
        if self.bias is not None:
            rst = rst.add_(self.bias)                                     # + b (in place: no new N x F)
        if self._activation is not None:
            rst = self._activation(rst)                                   # sigma(...)
        return rst
