r"""GATv2: attention with the non-linearity before :math:`a` (Brody et al., 2022)."""

from __future__ import annotations

import torch
from torch import nn

from .. import ops
from . import _checks
from ._attention import (
    RELU_GAIN,
    add_residual,
    init_heads,
    project,
    reset_residual,
    residual_branch,
)


class GATv2Conv(nn.Module):
    r"""Dynamic graph attention, parameter for parameter DGL 2.1's ``GATv2Conv``.

    For every head (chapter "Static vs dynamic attention (GATv2)"), with
    :math:`z_j = W_s h_j + b_s` and :math:`z_i = W_d h_i + b_d`:

    .. math::
        e_{ij} = a^\top \mathrm{LeakyReLU}\big(W [h_i \,\|\, h_j]\big)
               = a^\top \mathrm{LeakyReLU}\big(z_i + z_j\big), \qquad
        \alpha_{ij} = \operatorname{softmax}_{j \in \mathcal{N}(i)} e_{ij}, \qquad
        h'_i = \sigma\Big(\sum_{j \in \mathcal{N}(i)} \alpha_{ij}\, z_j + r(h_i)\Big)

    GAT applies :math:`a` before the LeakyReLU, so its ranking of neighbours is the same for every
    :math:`i` ("static"); here it is not. There is no separate bias: :math:`b_s, b_d` live in
    ``fc_src``, ``fc_dst`` (and the linear residual), as in DGL.

    ``in_feats``, ``out_feats``, ``num_heads``, ``feat_drop`` (default ``0.0``), ``attn_drop``
    (``0.0``), ``negative_slope`` (``0.2``), ``residual`` (``False``), ``activation`` (``None``)
    and ``allow_zero_in_degree`` (``False``) are as in :class:`~gnnbook.nn.GATConv`; a destination
    without in-edges outputs :math:`r(h_i)`.

    Args:
        bias: give ``fc_src``, ``fc_dst`` and a linear residual a bias. Default: ``True``.
        share_weights: one projection for both ends (:math:`W_s = W_d`; ``fc_dst`` is ``fc_src``);
            ignored when ``in_feats`` is a pair, as in DGL. Default: ``False``.

    Shapes:
        - **input:** ``feat`` :math:`(N, D_\mathrm{in})`; on a bipartite graph the pair
          ``(feat_src, feat_dst)`` :math:`((N_\mathrm{src}, D_\mathrm{src}), (N_\mathrm{dst},
          D_\mathrm{dst}))`; on a DGL block one tensor :math:`(N_\mathrm{src}, D_\mathrm{in})` whose
          first :math:`N_\mathrm{dst}` rows are the destinations. Like DGL's, 2-D features only.
        - **output:** :math:`(N_\mathrm{dst}, H, F)`; with ``get_attention=True`` also
          :math:`\alpha`, :math:`(E, H, 1)`.

    Examples:
        >>> import torch
        >>> from gnnbook import graphs, nn
        >>> g = graphs.toy_graph()                                   # 6 nodes, 14 edges
        >>> layer = nn.GATv2Conv(4, 3, num_heads=2, share_weights=True)
        >>> layer.fc_dst is layer.fc_src
        True
        >>> rst, alpha = layer(g, torch.randn(6, 4), get_attention=True)
        >>> rst.shape, alpha.shape
        (torch.Size([6, 2, 3]), torch.Size([14, 2, 1]))
    """

    def __init__(self, in_feats, out_feats, num_heads, feat_drop=0.0, attn_drop=0.0,
                 negative_slope=0.2, residual=False, activation=None, allow_zero_in_degree=False,
                 bias=True, share_weights=False):  # fmt: skip
        super().__init__()
        width = init_heads(self, in_feats, out_feats, num_heads, allow_zero_in_degree)
        self.fc_src = nn.Linear(self._in_src_feats, width, bias=bias)
        # DGL shares only for a homogeneous in_feats; bipartite inputs always get two projections.
        shared = share_weights and not isinstance(in_feats, tuple)
        self.fc_dst = self.fc_src if shared else nn.Linear(self._in_dst_feats, width, bias=bias)
        self.attn = nn.Parameter(torch.empty(1, self._num_heads, self._out_feats))
        self.feat_drop = nn.Dropout(_checks.probability(feat_drop, "feat_drop"))
        self.attn_drop = nn.Dropout(_checks.probability(attn_drop, "attn_drop"))
        self.leaky_relu = nn.LeakyReLU(negative_slope)
        self.res_fc = residual_branch(residual, self._in_dst_feats, width, bias)
        self.activation = activation
        self.share_weights = share_weights
        self.reset_parameters()

    def reset_parameters(self):
        """Xavier-normal weights with ReLU gain, zero biases (DGL's scheme)."""
        for fc in dict.fromkeys((self.fc_src, self.fc_dst)):  # once when shared
            nn.init.xavier_normal_(fc.weight, gain=RELU_GAIN)
            if fc.bias is not None:
                nn.init.zeros_(fc.bias)
        nn.init.xavier_normal_(self.attn, gain=RELU_GAIN)
        reset_residual(self.res_fc)

    def forward(self, graph, feat, get_attention=False):
        """Run the layer: ``feat`` and the result as in *Shapes*; ``(rst, alpha)`` with
        ``get_attention``."""
        g, h_src, h_dst = _checks.split_features(
            graph,
            feat,
            (self._in_src_feats, self._in_dst_feats),
            self.fc_src.weight,
            self.feat_drop,
        )
        _checks.in_degrees_positive(g, self._allow_zero_in_degree)
        heads = (self._num_heads, self._out_feats)
        z_src, z_dst = project(
            self.fc_src, self.fc_dst, feat, h_src, h_dst, heads
        )  # W_s h_j + b_s, W_d h_i + b_d
        s = self.leaky_relu(ops.u_add_v(g, z_src, z_dst))  # LeakyReLU(z_i + z_j), (E, H, F)
        e = (s * self.attn).sum(-1, keepdim=True)  # e_ij = a^T (...), (E, H, 1)
        alpha = self.attn_drop(ops.edge_softmax(g, e))  # alpha_ij
        rst = ops.u_mul_e_sum(g, z_src, alpha)  # sum_j alpha_ij z_j
        rst = add_residual(rst, self.res_fc, h_dst)  # + r(h_i)
        if self.activation is not None:
            rst = self.activation(rst)  # sigma(...)
        return (rst, alpha) if get_attention else rst
