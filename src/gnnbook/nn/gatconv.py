r"""GAT: additive attention over each node's in-neighbours (Veličković et al., 2018)."""

from __future__ import annotations

import torch
from torch import nn

from .. import ops
from . import _checks
from ._attention import (
    RELU_GAIN,
    add_residual,
    init_heads,
    init_projections,
    project,
    projections,
    reset_residual,
    residual_branch,
)


class GATConv(nn.Module):
    r"""Graph attention layer, parameter for parameter DGL 2.1's ``GATConv``.

    For every head, with :math:`z_j = W h_j` (chapter "GAT"; the split of :math:`a` into
    :math:`a_l, a_r` is chapter "Inside DGL's GATConv"):

    .. math::
        e_{ij} = \mathrm{LeakyReLU}\big(a^\top [W h_i \,\|\, W h_j]\big)
               = \mathrm{LeakyReLU}\big(a_l^\top z_j + a_r^\top z_i\big), \qquad
        \alpha_{ij} = \frac{\exp e_{ij}}{\sum_{k \in \mathcal{N}(i)} \exp e_{ik}}, \qquad
        h'_i = \sigma\Big(\sum_{j \in \mathcal{N}(i)} \alpha_{ij}\, w_{ij}\, z_j + r(h_i) + b\Big)

    where :math:`w_{ij}` is the optional ``edge_weight`` and :math:`r` the optional residual.
    Heads are returned side by side: flatten them (``rst.flatten(1)``) to concatenate, or average
    them (``rst.mean(1)``) as the GAT paper does in its last layer.

    Args:
        in_feats: input width, or ``(src_width, dst_width)`` for a bipartite graph (then the two
            sides get their own projections ``fc_src``, ``fc_dst``).
        out_feats: :math:`F`, the width of each head.
        num_heads: :math:`H`.
        feat_drop: dropout on the input features, train mode only. Default: ``0.0``.
        attn_drop: dropout on :math:`\alpha`, train mode only. Default: ``0.0``.
        negative_slope: slope of the LeakyReLU for negative scores. Default: ``0.2``.
        residual: add :math:`r(h_i)`: the identity if ``in_dst == H * F``, else a linear map.
            Default: ``False``.
        activation: :math:`\sigma`, e.g. ``torch.nn.functional.elu``; ``None`` for none.
            Default: ``None``.
        allow_zero_in_degree: allow destinations without in-edges (their output is :math:`r(h_i) +
            b`); when ``False`` they raise a ``ValueError``. Default: ``False``.
        bias: learn :math:`b` (kept in ``res_fc``'s bias when the residual is linear, as in DGL).
            Default: ``True``.

    Shapes:
        - **input:** ``feat`` :math:`(N, *, D_\mathrm{in})`; on a bipartite graph the pair
          ``(feat_src, feat_dst)`` :math:`((N_\mathrm{src}, *, D_\mathrm{src}), (N_\mathrm{dst}, *,
          D_\mathrm{dst}))`; on a DGL block one tensor :math:`(N_\mathrm{src}, *, D_\mathrm{in})`
          whose first :math:`N_\mathrm{dst}` rows are the destinations. ``edge_weight``
          :math:`(E,)`, only without the extra dimensions :math:`*` (as in DGL).
        - **output:** :math:`(N_\mathrm{dst}, *, H, F)`; with ``get_attention=True`` also
          :math:`\alpha` (times ``edge_weight`` when given), :math:`(E, *, H, 1)`.

    Examples:
        >>> import torch
        >>> from gnnbook import graphs, nn
        >>> g = graphs.toy_graph()                                   # 6 nodes, 14 edges
        >>> layer = nn.GATConv(4, 3, num_heads=2)
        >>> rst, alpha = layer(g, torch.randn(6, 4), get_attention=True)
        >>> rst.shape, alpha.shape
        (torch.Size([6, 2, 3]), torch.Size([14, 2, 1]))
        >>> rst.flatten(1).shape                                     # heads concatenated
        torch.Size([6, 6])
    """

    def __init__(self, in_feats, out_feats, num_heads, feat_drop=0.0, attn_drop=0.0,
                 negative_slope=0.2, residual=False, activation=None, allow_zero_in_degree=False,
                 bias=True):  # fmt: skip
        super().__init__()
        width = init_heads(self, in_feats, out_feats, num_heads, allow_zero_in_degree)
        init_projections(self, in_feats, width)
        self.attn_l = nn.Parameter(torch.empty(1, self._num_heads, self._out_feats))
        self.attn_r = nn.Parameter(torch.empty(1, self._num_heads, self._out_feats))
        self.feat_drop = nn.Dropout(_checks.probability(feat_drop, "feat_drop"))
        self.attn_drop = nn.Dropout(_checks.probability(attn_drop, "attn_drop"))
        self.leaky_relu = nn.LeakyReLU(negative_slope)
        self.res_fc = residual_branch(residual, self._in_dst_feats, width, bias)
        # A linear residual already carries a bias; a second one would be redundant.
        self.bias = (
            nn.Parameter(torch.empty(width))
            if bias and not isinstance(self.res_fc, nn.Linear)
            else None
        )
        self.activation = activation
        self.reset_parameters()

    def reset_parameters(self):
        """Xavier-normal weights with ReLU gain, zero biases (DGL's scheme)."""
        for fc in dict.fromkeys(projections(self)):  # fc once, or fc_src and fc_dst
            nn.init.xavier_normal_(fc.weight, gain=RELU_GAIN)
        nn.init.xavier_normal_(self.attn_l, gain=RELU_GAIN)
        nn.init.xavier_normal_(self.attn_r, gain=RELU_GAIN)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        reset_residual(self.res_fc)

    def forward(self, graph, feat, edge_weight=None, get_attention=False):
        """Run the layer: ``feat`` and the result as in *Shapes*; ``(rst, alpha)`` with
        ``get_attention``."""
        fc_src, fc_dst = projections(self)
        g, h_src, h_dst = _checks.split_features(
            graph,
            feat,
            (self._in_src_feats, self._in_dst_feats),
            fc_src.weight,
            self.feat_drop,
            extra_dims=True,
        )
        _checks.in_degrees_positive(g, self._allow_zero_in_degree)
        extra = h_src.shape[1:-1]  # DGL's extra dims *, if any
        if edge_weight is not None and extra:
            raise ValueError(
                f"edge_weight needs features of shape (N, in_feats), got {tuple(h_src.shape)} "
                f"(DGL's GATConv refuses this pair too)"
            )
        edge_weight = _checks.edge_weights(g, edge_weight, h_src)
        heads = (self._num_heads, self._out_feats)
        z_src, z_dst = project(
            fc_src, fc_dst, feat, h_src, h_dst, heads
        )  # z_j = W h_j, z_i = W h_i
        el = (z_src * self.attn_l).sum(-1, keepdim=True)  # a_l^T z_j, (N_src, *, H, 1)
        er = (z_dst * self.attn_r).sum(-1, keepdim=True)  # a_r^T z_i, (N_dst, *, H, 1)
        # The ops take (N, H, F): the extra dims * ride along as more heads.
        e = self.leaky_relu(
            ops.u_add_v(g, el.flatten(1, -2), er.flatten(1, -2))
        )  # e_ij, (E, *H, 1)
        alpha = self.attn_drop(ops.edge_softmax(g, e))  # alpha_ij
        weights = (
            alpha if edge_weight is None else alpha * edge_weight.view(-1, 1, 1)
        )  # alpha_ij w_ij
        rst = ops.u_mul_e_sum(g, z_src.flatten(1, -2), weights)  # sum_j alpha_ij w_ij z_j
        rst = rst.view(g.num_dst_nodes, *extra, *heads)
        rst = add_residual(rst, self.res_fc, h_dst)  # + r(h_i)
        if self.bias is not None:
            rst = rst + self.bias.view(*heads)  # + b
        if self.activation is not None:
            rst = self.activation(rst)  # sigma(...)
        return (
            (rst, weights.view(g.num_edges, *extra, self._num_heads, 1)) if get_attention else rst
        )
