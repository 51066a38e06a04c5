r"""GCN: neighbour features summed with fixed, degree-based weights (Kipf & Welling, 2017)."""
from __future__ import annotations

import torch
from torch import nn

from .. import ops
from . import _checks

NORMS = ("both", "right", "left", "none")


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
        g, h_src, h_dst = _checks.node_features(graph, feat, (self._in_feats, self._in_feats), W)
        _checks.in_degrees_positive(g, self._allow_zero_in_degree)
        edge_weight = _checks.edge_weights(g, edge_weight, h_src)
        if self._norm in ("both", "left"):
            d_out = g.out_degrees().clamp(min=1).to(h_src)
            h_src = h_src * (d_out ** -0.5 if self._norm == "both" else 1 / d_out).unsqueeze(-1)  # h_j / sqrt(d_j)
        if W is not None:
            h_src = h_src @ W                                             # h_j W (before the sum: A(HW) = (AH)W)
        w = h_src.new_ones(g.num_edges) if edge_weight is None else edge_weight
        rst = ops.u_mul_e_sum(g, h_src, w)                                # sum_j w_ji h_j W
        if self._norm in ("both", "right"):
            d_in = g.in_degrees().clamp(min=1).to(h_dst)
            rst = rst * (d_in ** -0.5 if self._norm == "both" else 1 / d_in).unsqueeze(-1)  # / sqrt(d_i)
        if self.bias is not None:
            rst = rst + self.bias                                         # + b
        if self._activation is not None:
            rst = self._activation(rst)                                   # sigma(...)
        return rst
