r"""What the attention layers (GATConv, GATv2Conv, DotGATConv) share: sizes, projections, residual.

Package-internal: the layers of :mod:`gnnbook.nn` import it, nothing else does. Attribute names are
DGL's (``_num_heads``, ``fc``, ``fc_src``, ``res_fc``, ...), so state_dicts load both ways.
"""

from __future__ import annotations

import torch
from torch import nn

from . import _checks

RELU_GAIN = nn.init.calculate_gain("relu")  # DGL's init gain for every attention layer


def init_heads(layer: nn.Module, in_feats, out_feats, num_heads, allow_zero_in_degree) -> int:
    """Store the sizes every attention layer keeps (under DGL's names); return the width ``H *
    F``."""
    layer._in_src_feats, layer._in_dst_feats = _checks.feature_pair(in_feats)
    layer._out_feats = _checks.positive_int(out_feats, "out_feats")
    layer._num_heads = _checks.positive_int(num_heads, "num_heads")
    layer._allow_zero_in_degree = allow_zero_in_degree
    return layer._num_heads * layer._out_feats


def init_projections(layer: nn.Module, in_feats, width: int) -> None:
    """One ``fc`` for both ends, or ``fc_src`` and ``fc_dst`` when ``in_feats`` is a pair (no
    bias)."""
    if isinstance(in_feats, tuple):
        layer.fc_src = nn.Linear(layer._in_src_feats, width, bias=False)
        layer.fc_dst = nn.Linear(layer._in_dst_feats, width, bias=False)
    else:
        layer.fc = nn.Linear(layer._in_src_feats, width, bias=False)


def projections(layer: nn.Module) -> tuple[nn.Linear, nn.Linear]:
    """``(W for sources, W for destinations)``: the same ``fc`` twice, or ``fc_src, fc_dst``."""
    return (layer.fc, layer.fc) if hasattr(layer, "fc") else (layer.fc_src, layer.fc_dst)


def project(fc_src, fc_dst, feat, h_src, h_dst, heads) -> tuple[torch.Tensor, torch.Tensor]:
    """``(z_src, z_dst)``, both ends projected, shape ``(N, *, H, F)``. With one shared projection
    and one feature tensor, destination ``i`` is source ``i``: its ``z`` is a row of ``z_src``, not
    a second product (as in DGL)."""
    z_src = fc_src(h_src).unflatten(-1, heads)
    if fc_dst is fc_src and not isinstance(feat, (tuple, list)):
        return z_src, z_src[: h_dst.shape[0]]
    return z_src, fc_dst(h_dst).unflatten(-1, heads)


def residual_branch(residual: bool, in_dst_feats: int, width: int, bias: bool):
    """DGL's residual rule: none, the identity when widths agree, else a linear map (with bias)."""
    if not residual:
        return None
    if in_dst_feats == width:
        return nn.Identity()
    return nn.Linear(in_dst_feats, width, bias=bias)


def reset_residual(res_fc) -> None:
    """Xavier-normal weight with ReLU gain and a zero bias for a linear residual (DGL's scheme)."""
    if isinstance(res_fc, nn.Linear):
        nn.init.xavier_normal_(res_fc.weight, gain=RELU_GAIN)
        if res_fc.bias is not None:
            nn.init.zeros_(res_fc.bias)


def add_residual(rst: torch.Tensor, res_fc, h_dst: torch.Tensor) -> torch.Tensor:
    """``rst`` ``(N_dst, *, H, F)`` plus the residual of ``h_dst``; an identity residual needs
    ``H * F`` inputs."""
    if res_fc is None:
        return rst
    return rst + res_fc(h_dst).view(rst.shape)
