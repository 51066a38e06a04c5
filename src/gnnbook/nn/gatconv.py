r"""GAT: additive attention over each node's in-neighbours (Veličković et al., 2018)."""
from __future__ import annotations

import torch
from torch import nn

from .. import ops
from . import _checks

RELU_GAIN = nn.init.calculate_gain("relu")  # DGL's init gain for every attention layer


def init_heads(layer: nn.Module, in_feats, out_feats, num_heads, allow_zero_in_degree) -> int:
    """Store the sizes every attention layer keeps (under DGL's names); return the width ``H * F``."""
    layer._in_src_feats, layer._in_dst_feats = _checks.feature_pair(in_feats)
    layer._out_feats = _checks.positive_int(out_feats, "out_feats")
    layer._num_heads = _checks.positive_int(num_heads, "num_heads")
    layer._allow_zero_in_degree = allow_zero_in_degree
    return layer._num_heads * layer._out_feats


def init_projections(layer: nn.Module, in_feats, width: int) -> None:
    """One ``fc`` for both ends, or ``fc_src`` and ``fc_dst`` when ``in_feats`` is a pair (no bias)."""
    if isinstance(in_feats, tuple):
        layer.fc_src = nn.Linear(layer._in_src_feats, width, bias=False)
        layer.fc_dst = nn.Linear(layer._in_dst_feats, width, bias=False)
    else:
        layer.fc = nn.Linear(layer._in_src_feats, width, bias=False)


def projections(layer: nn.Module) -> tuple[nn.Linear, nn.Linear]:
    """``(W for sources, W for destinations)``: the same ``fc`` twice, or ``fc_src, fc_dst``."""
    return (layer.fc, layer.fc) if hasattr(layer, "fc") else (layer.fc_src, layer.fc_dst)


def project(fc_src, fc_dst, feat, h_src, h_dst, heads) -> tuple[torch.Tensor, torch.Tensor]:
    """``(z_src, z_dst)``, both ends projected, shape ``(N, H, F)``. With one shared projection and one
    feature tensor, destination ``i`` is source ``i``: its ``z`` is a row of ``z_src``, not a second
    product (as in DGL)."""
    z_src = fc_src(h_src).view(-1, *heads)
    if fc_dst is fc_src and not isinstance(feat, (tuple, list)):
        return z_src, z_src[: h_dst.shape[0]]
    return z_src, fc_dst(h_dst).view(-1, *heads)


def residual_branch(residual: bool, in_dst_feats: int, width: int, bias: bool):
    """DGL's residual rule: none, the identity when widths agree, else a linear map (with bias)."""
    if not residual:
        return None
    if in_dst_feats == width:
        return nn.Identity()
    return nn.Linear(in_dst_feats, width, bias=bias)


def reset_residual(res_fc) -> None:
    if isinstance(res_fc, nn.Linear):
        nn.init.xavier_normal_(res_fc.weight, gain=RELU_GAIN)
        if res_fc.bias is not None:
            nn.init.zeros_(res_fc.bias)


def add_residual(rst: torch.Tensor, res_fc, h_dst: torch.Tensor) -> torch.Tensor:
    """``rst`` (N_dst, H, F) plus the residual of ``h_dst``; an identity residual needs ``H * F`` inputs."""
    if res_fc is None:
        return rst
    return rst + res_fc(h_dst).view(rst.shape)


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
    Heads are returned side by side, shape ``(N_dst, H, F)``: flatten them (``rst.flatten(1)``) to
    concatenate, or average them (``rst.mean(1)``) as the GAT paper does in its last layer.

    Args:
        in_feats: input width, or ``(src_width, dst_width)`` for a bipartite graph (then the two
            sides get their own projections ``fc_src``, ``fc_dst``).
        out_feats: :math:`F`, the width of each head.
        num_heads: :math:`H`.
        feat_drop, attn_drop: dropout on the input features and on :math:`\alpha` (train mode only).
        negative_slope: slope of the LeakyReLU for negative scores.
        residual: add :math:`r(h_i)`: the identity if ``in_dst == H * F``, else a linear map.
        activation: :math:`\sigma`, e.g. ``torch.nn.functional.elu``; ``None`` for none.
        allow_zero_in_degree: allow destinations without in-edges (their output is :math:`r(h_i) + b`).
        bias: learn :math:`b` (kept in ``res_fc``'s bias when the residual is linear, as in DGL).
    """

    def __init__(self, in_feats, out_feats, num_heads, feat_drop=0.0, attn_drop=0.0, negative_slope=0.2,
                 residual=False, activation=None, allow_zero_in_degree=False, bias=True):
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
        self.bias = nn.Parameter(torch.empty(width)) if bias and not isinstance(self.res_fc, nn.Linear) else None
        self.activation = activation
        self.reset_parameters()

    def reset_parameters(self):
        """Xavier-normal weights with ReLU gain, zero biases (DGL's scheme)."""
        for fc in dict.fromkeys(projections(self)):                       # fc once, or fc_src and fc_dst
            nn.init.xavier_normal_(fc.weight, gain=RELU_GAIN)
        nn.init.xavier_normal_(self.attn_l, gain=RELU_GAIN)
        nn.init.xavier_normal_(self.attn_r, gain=RELU_GAIN)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        reset_residual(self.res_fc)

    def forward(self, graph, feat, edge_weight=None, get_attention=False):
        """``feat``: (N, in_feats), or ``(feat_src, feat_dst)`` for a bipartite graph. Returns
        ``(N_dst, H, F)``, and with ``get_attention`` also :math:`\\alpha` of shape ``(E, H, 1)``."""
        fc_src, fc_dst = projections(self)
        g, h_src, h_dst = _checks.node_features(
            graph, feat, (self._in_src_feats, self._in_dst_feats), fc_src.weight, self.feat_drop)
        _checks.in_degrees_positive(g, self._allow_zero_in_degree)
        edge_weight = _checks.edge_weights(g, edge_weight, h_src)
        heads = (self._num_heads, self._out_feats)
        z_src, z_dst = project(fc_src, fc_dst, feat, h_src, h_dst, heads)  # z_j = W h_j, z_i = W h_i
        el = (z_src * self.attn_l).sum(-1, keepdim=True)                  # a_l^T z_j, (N_src, H, 1)
        er = (z_dst * self.attn_r).sum(-1, keepdim=True)                  # a_r^T z_i, (N_dst, H, 1)
        e = self.leaky_relu(ops.u_add_v(g, el, er))                       # e_ij, (E, H, 1)
        alpha = self.attn_drop(ops.edge_softmax(g, e))                    # alpha_ij
        weights = alpha if edge_weight is None else alpha * edge_weight.view(-1, 1, 1)  # alpha_ij w_ij
        rst = ops.u_mul_e_sum(g, z_src, weights)                          # sum_j alpha_ij w_ij z_j
        rst = add_residual(rst, self.res_fc, h_dst)                       # + r(h_i)
        if self.bias is not None:
            rst = rst + self.bias.view(*heads)                            # + b
        if self.activation is not None:
            rst = self.activation(rst)                                    # sigma(...)
        return (rst, weights) if get_attention else rst
