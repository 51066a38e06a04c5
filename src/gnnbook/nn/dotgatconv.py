r"""Scaled dot-product attention over neighbours: a Transformer head masked by the graph."""

from __future__ import annotations

from torch import nn

from .. import ops
from . import _checks
from ._attention import init_heads, init_projections, project, projections


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
    ``DotGatConv`` (DGL's spelling) is the same class.

    Args:
        in_feats: input width, or ``(src_width, dst_width)`` for a bipartite graph (then ``fc_src``
            projects the keys and ``fc_dst`` the queries).
        out_feats: :math:`F`, the width of each head.
        num_heads: :math:`H`.
        allow_zero_in_degree: allow destinations without in-edges (their output is zero); when
            ``False`` they raise a ``ValueError``. Default: ``False``.

    Shapes:
        - **input:** as :class:`~gnnbook.nn.GATv2Conv`: 2-D features only, ``(N, D_in)``, a pair
          ``(feat_src, feat_dst)`` on a bipartite graph, one tensor on a DGL block.
        - **output:** ``(N_dst, H, F)``; with ``get_attention=True`` also :math:`\alpha`,
          ``(E, H, 1)``.

    Examples:
        >>> import torch
        >>> from gnnbook import graphs, nn
        >>> g = graphs.toy_graph()                                   # 6 nodes, 14 edges
        >>> rst, alpha = nn.DotGATConv(4, 3, num_heads=2)(g, torch.randn(6, 4), get_attention=True)
        >>> rst.shape, alpha.shape
        (torch.Size([6, 2, 3]), torch.Size([14, 2, 1]))
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
        """Run the layer: ``feat`` and the result as in *Shapes*; ``(rst, alpha)`` with
        ``get_attention``."""
        fc_src, fc_dst = projections(self)
        g, h_src, h_dst = _checks.split_features(
            graph, feat, (self._in_src_feats, self._in_dst_feats), fc_src.weight
        )
        _checks.in_degrees_positive(g, self._allow_zero_in_degree)
        heads = (self._num_heads, self._out_feats)
        k, q = project(fc_src, fc_dst, feat, h_src, h_dst, heads)  # k_j = v_j = W h_j, q_i = W h_i
        # q_i . k_j is not a source term plus a destination term, so it cannot be a u_add_v.
        e = ops.u_dot_v(g, k, q) / self._out_feats**0.5  # e_ij, (E, H, 1)
        alpha = ops.edge_softmax(g, e)  # alpha_ij
        rst = ops.u_mul_e_sum(g, k, alpha)  # sum_j alpha_ij v_j
        return (rst, alpha) if get_attention else rst
