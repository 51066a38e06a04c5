r"""Dense float64 references for chapter "From masked to full attention": the
formulas with full matrices.

Like :mod:`gnnbook.reference`, nothing here is fast: the graph is the dense count matrix
:math:`A` (``(N_dst, N_src)``, :func:`gnnbook.reference.adjacency`), scores are computed for every
pair of nodes and the graph masks them. Dropout is not modelled (eval mode).
"""

from __future__ import annotations

import math

import torch

from .reference import F64, masked_softmax


def _linear(lin, x: torch.Tensor) -> torch.Tensor:
    out = x.to(F64) @ lin.weight.to(F64).T
    return out if lin.bias is None else out + lin.bias.to(F64)


def transformer_conv(A, h_src, h_dst, layer, edge_feat=None):
    r"""A :class:`gnnbook.nn.TransformerConv`'s output and attention, from its weights, densely:

    .. math::
        \alpha = \operatorname{softmax}_{A}\Big(\frac{Q (K + \mathcal{E})^\top}{\sqrt{F}}\Big),
        \qquad M = \alpha\, (V + \mathcal{E})

    per head, where the softmax runs over each row's edges (each of the :math:`A_{ij}` copies of an
    edge :math:`j \to i` gets :math:`\alpha_{ij}` and adds its message once) and
    :math:`\mathcal{E}_{ij} = W_e x_{ij}` is the edge term; then the heads' merge, the root weight
    and the :math:`\beta` gate as the layer's docstring writes them.

    ``edge_feat`` is dense, ``(N_dst, N_src, edge_feats)``: :math:`x_{ij}` of the edge
    :math:`j \to i` (so a graph with edge features must have no duplicate edges here). Returns the
    output, ``(N_dst, H, F)`` or ``(N_dst, 1, F)``, and :math:`\alpha`, ``(N_dst, N_src, H)``.
    """
    A = A.to(F64)
    heads, feats = layer._num_heads, layer._out_feats
    n_dst, n_src = A.shape
    q = _linear(layer.lin_query, h_dst).view(n_dst, heads, feats)
    k = _linear(layer.lin_key, h_src).view(1, n_src, heads, feats)
    v = _linear(layer.lin_value, h_src).view(1, n_src, heads, feats)
    eps = (
        0.0
        if edge_feat is None
        else _linear(layer.lin_edge, edge_feat).view(n_dst, n_src, heads, feats)
    )
    e = torch.einsum("ihf,ijhf->ijh", q, k + eps) / math.sqrt(feats)
    alpha = masked_softmax(e, A)
    m = torch.einsum("ijh,ij,ijhf->ihf", alpha, A, (v + eps).expand(n_dst, -1, -1, -1))
    if not layer.concat:
        m = m.mean(1, keepdim=True)
    if layer.lin_skip is None:
        return m, alpha
    r = _linear(layer.lin_skip, h_dst).view(m.shape)
    if layer.lin_beta is None:
        return m + r, alpha
    m_flat, r_flat = m.reshape(n_dst, -1), r.reshape(n_dst, -1)
    beta = torch.sigmoid(
        torch.cat([m_flat, r_flat, m_flat - r_flat], 1) @ layer.lin_beta.weight.to(F64).T
    )
    return (beta * r_flat + (1 - beta) * m_flat).view(m.shape), alpha
