r"""Scaled dot-product attention over neighbours: a Transformer head masked by the graph."""
from __future__ import annotations

from torch import nn

from .. import ops
from . import _checks
from .gatconv import init_heads, init_projections, project, projections


class DotGATConv(nn.Module):
    r"""Dot-product graph attention, parameter for parameter DGL 2.1's ``DotGatConv``.

    For every head (chapter "The Q/K/V analogy"), with query :math:`q_i = W h_i` and key = value
    :math:`k_j = W h_j`:

    .. math::
        e_{ij} = \frac{q_i^\top k_j}{\sqrt{F}}, \qquad
        \alpha_{ij} = \operatorname{softmax}_{j \in \mathcal{N}(i)} e_{ij}, \qquad
        h'_i = \sum_{j \in \mathcal{N}(i)} \alpha_{ij}\, k_j

    On a complete graph this is :math:`\operatorname{softmax}(QK^\top / \sqrt{d})\,V` with
    :math:`V = K`; the graph is the attention mask. No bias, dropout or activation (DGL has none).
    Output ``(N_dst, H, F)``; a bipartite ``in_feats`` pair gives ``fc_src`` (keys) and ``fc_dst``
    (queries).
    """

    def __init__(self, in_feats, out_feats, num_heads, allow_zero_in_degree=False):
        super().__init__()
        width = init_heads(self, in_feats, out_feats, num_heads, allow_zero_in_degree)
        init_projections(self, in_feats, width)

    def reset_parameters(self):
        """``torch.nn.Linear``'s own initialisation, which is what DGL leaves in place."""
        for fc in dict.fromkeys(projections(self)):
            fc.reset_parameters()

    def forward(self, graph, feat, get_attention=False):
        """``feat``: (N, in_feats), or ``(feat_src, feat_dst)`` for a bipartite graph. Returns
        ``(N_dst, H, F)``, and with ``get_attention`` also :math:`\\alpha` of shape ``(E, H, 1)``."""
        fc_src, fc_dst = projections(self)
        g, h_src, h_dst = _checks.node_features(
            graph, feat, (self._in_src_feats, self._in_dst_feats), fc_src.weight)
        _checks.in_degrees_positive(g, self._allow_zero_in_degree)
        heads = (self._num_heads, self._out_feats)
        k, q = project(fc_src, fc_dst, feat, h_src, h_dst, heads)         # k_j = v_j = W h_j, q_i = W h_i
        # q_i . k_j is not a source term plus a destination term, so it cannot be a u_add_v.
        e = ops.u_dot_v(g, k, q) / self._out_feats ** 0.5                # e_ij, (E, H, 1)
        alpha = ops.edge_softmax(g, e)                                    # alpha_ij
        rst = ops.u_mul_e_sum(g, k, alpha)                                # sum_j alpha_ij v_j
        return (rst, alpha) if get_attention else rst
