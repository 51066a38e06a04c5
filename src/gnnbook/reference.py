r"""Slow, literal, dense float64 versions of every layer's formula, as the papers write them.

Nothing here is clever: each function builds the full :math:`N_\mathrm{dst} \times N_\mathrm{src}`
matrices a formula talks about, so the chapters (and the tests) can check :mod:`gnnbook.nn` and
:mod:`gnnbook.ops`, which never build them, against the page.

The graph enters as a dense **count matrix** :math:`A` of shape ``(N_dst, N_src)`` (see
:func:`adjacency`): :math:`A_{ij}` is the number of edges :math:`j \to i`. A duplicated edge counts
twice: each copy gets the same attention :math:`\alpha_{ij}` and contributes its message once, which
is what the per-edge ops do. Degrees are counts, as in DGL; edge weights enter separately as the
matrix ``weights`` (:math:`M_{ij}` = the sum of the weights of the edges :math:`j \to i`).

Weights are passed in the papers' layout: GCN's :math:`W` is ``(in, out)`` (:math:`HW`); the others
are ``(out, in)`` (:math:`W h`), i.e. ``torch.nn.Linear.weight``. Dropout is not modelled (eval
mode).
"""

from __future__ import annotations

import torch

from .graph import as_graph

F64 = torch.float64


def adjacency(graph, edge_weight=None, reduce: str = "sum") -> torch.Tensor:
    r"""Dense ``(N_dst, N_src)`` float64 matrix with :math:`A_{ij} = \sum_{k: j \to i} w_k`.

    Without ``edge_weight`` every :math:`w_k = 1`, so :math:`A` counts the edges :math:`j \to i`.
    With ``reduce='amax'`` an entry is the largest weight of the edges :math:`j \to i` instead of
    their sum (0 where there is no edge), what the weighted 'pool' of :func:`sage` needs.
    """
    g = as_graph(graph)
    w = (
        torch.ones(g.num_edges, dtype=F64)
        if edge_weight is None
        else edge_weight.detach().cpu().to(F64)
    )
    A = torch.zeros(g.num_dst_nodes, g.num_src_nodes, dtype=F64)
    if reduce == "sum":
        return A.index_put_((g.dst.cpu(), g.src.cpu()), w, accumulate=True)
    if reduce != "amax":
        raise ValueError(f"reduce must be 'sum' or 'amax', got {reduce!r}")
    flat = g.dst.cpu() * g.num_src_nodes + g.src.cpu()
    return A.flatten().scatter_reduce(0, flat, w, "amax", include_self=False).view_as(A)


def per_edge(alpha: torch.Tensor, graph) -> torch.Tensor:
    r"""Read a dense ``(N_dst, N_src, H)`` attention at every edge: shape ``(E, H, 1)``, edge
    order."""
    g = as_graph(graph)
    return alpha[g.dst.cpu(), g.src.cpu()].unsqueeze(-1)


def masked_softmax(e: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
    r""":math:`\alpha_{ij} = \exp e_{ij} / \sum_k A_{ik} \exp e_{ik}` for :math:`A_{ij} > 0`, else
    0.

    ``e`` is ``(N_dst, N_src, H)``; :math:`\alpha_{ij}` is the attention of *one* edge :math:`j \to
    i` (all :math:`A_{ij}` copies of it get this value). Rows without edges are all zero.
    """
    if A.shape[1] == 0:  # no sources: no edges
        return torch.zeros_like(e)
    present = (A > 0).unsqueeze(-1)
    peak = e.masked_fill(~present, float("-inf")).amax(
        1, keepdim=True
    )  # shift: cancels in the ratio
    peak = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
    num = torch.exp((e - peak).masked_fill(~present, float("-inf")))  # exp(-inf) = 0 off the edges
    den = (A.unsqueeze(-1) * num).sum(1, keepdim=True)
    return num / torch.where(den > 0, den, torch.ones_like(den))


def _heads(z: torch.Tensor, num_heads: int) -> torch.Tensor:
    return z.unflatten(1, (num_heads, z.shape[1] // num_heads))


def gcn(A, h, W=None, b=None, *, norm="both", weights=None) -> torch.Tensor:
    r"""GCN (Kipf & Welling, 2017; chapter "GCN"), with DGL's four normalisations:

    .. math::
        H' = D_\mathrm{in}^{-1/2}\, M\, D_\mathrm{out}^{-1/2}\, H W + b \quad (\text{norm='both'})

    'right' uses :math:`D_\mathrm{in}^{-1} M`, 'left' :math:`M D_\mathrm{out}^{-1}`, 'none'
    :math:`M`. :math:`D_\mathrm{in}` holds the in-degrees :math:`\sum_j A_{ij}` of the destinations,
    :math:`D_\mathrm{out}` the out-degrees :math:`\sum_i A_{ij}` of the sources (both at least 1);
    on an undirected graph with self-loops this is the paper's :math:`\hat D^{-1/2} \hat A \hat
    D^{-1/2}`. ``W`` is ``(in, out)``; ``None`` means no projection.
    """
    A, h = A.to(F64), h.to(F64)
    M = A if weights is None else weights.to(F64)
    d_in, d_out = A.sum(1).clamp(min=1), A.sum(0).clamp(min=1)
    power = {"both": 0.5, "right": 1.0, "left": 1.0, "none": 0.0}[norm]
    left = (
        torch.diag(d_in**-power) if norm in ("both", "right") else torch.eye(len(d_in), dtype=F64)
    )
    right = (
        torch.diag(d_out**-power) if norm in ("both", "left") else torch.eye(len(d_out), dtype=F64)
    )
    out = left @ M @ right @ h
    if W is not None:
        out = out @ W.to(F64)
    return out if b is None else out + b.to(F64)


def sage(
    A,
    h_src,
    h_dst,
    W_self,
    W_neigh,
    b=None,
    *,
    aggregator="mean",
    W_pool=None,
    b_pool=None,
    weights=None,
) -> torch.Tensor:
    r"""GraphSAGE (Hamilton et al., 2017; chapter "GraphSAGE"), one step:

    .. math::
        h_{\mathcal{N}(i)} = \mathrm{AGG}\big(\{h_j : j \in \mathcal{N}(i)\}\big), \qquad
        h'_i = W \big[h_i \,\|\, h_{\mathcal{N}(i)}\big] + b, \quad
        W = [W_\mathrm{self} \,|\, W_\mathrm{neigh}]

    AGG is 'mean' (:math:`\sum_j M_{ij} h_j / \sum_j A_{ij}`), 'pool'
    (:math:`\max_j \mathrm{ReLU}(W_\mathrm{pool} h_j + b_\mathrm{pool})`, element-wise) or 'gcn',
    which averages :math:`h_i` in with its neighbours and drops the self term:
    :math:`h'_i = W_\mathrm{neigh} \frac{h_i + \sum_j M_{ij} h_j}{1 + \sum_j A_{ij}} + b`.
    A node without neighbours aggregates zeros. For 'pool', ``weights`` multiplies each message
    (:math:`\max_j M_{ij}\,\mathrm{ReLU}(\dots)`) and must hold the *largest* weight of the edges
    :math:`j \to i` (``adjacency(graph, edge_weight, reduce='amax')``).
    """
    A, h_src, h_dst = A.to(F64), h_src.to(F64), h_dst.to(F64)
    M = A if weights is None else weights.to(F64)
    deg = A.sum(1, keepdim=True)
    if aggregator == "mean":
        h_n = M @ h_src / deg.clamp(min=1)
    elif aggregator == "gcn":
        h_n = (M @ h_src + h_dst) / (deg + 1)
        out = h_n @ W_neigh.to(F64).T
        return out if b is None else out + b.to(F64)
    elif aggregator == "pool":
        m = torch.relu(h_src @ W_pool.to(F64).T + b_pool.to(F64))  # (N_src, F)
        if weights is not None:  # m >= 0, so the largest weight of j -> i gives its largest message
            m = weights.to(F64).unsqueeze(-1) * m.unsqueeze(0)  # (N_dst, N_src, F)
        m = m.expand(A.shape[0], -1, -1).masked_fill(~(A > 0).unsqueeze(-1), float("-inf"))
        h_n = (
            m.amax(1) if A.shape[1] else m.new_zeros(A.shape[0], m.shape[-1])
        )  # (no sources at all)
        h_n = torch.where(deg > 0, h_n, torch.zeros(()))  # no neighbours: 0
    else:
        raise ValueError(f"aggregator must be 'mean', 'gcn' or 'pool', got {aggregator!r}")
    W = torch.cat([W_self.to(F64), W_neigh.to(F64)], 1)
    out = torch.cat([h_dst, h_n], 1) @ W.T  # W [h_i || h_N(i)]
    return out if b is None else out + b.to(F64)


def gat(A, h_src, h_dst, W_src, W_dst, a, *, negative_slope=0.2, weights=None):
    r"""GAT (Veličković et al., 2018; chapter "GAT"), for every head, built pair by pair:

    .. math::
        e_{ij} = \mathrm{LeakyReLU}\big(a^\top [W h_i \,\|\, W h_j]\big), \qquad
        \alpha_{ij} = \operatorname{softmax}_{j \in \mathcal{N}(i)} e_{ij}, \qquad
        h'_i = \sum_{j} M_{ij}\, \alpha_{ij}\, W h_j

    ``a`` has shape ``(H, 2F)``: its first half multiplies the destination :math:`W h_i`, its second
    the source :math:`W h_j`, so DGL's parameters are ``a = cat([attn_r, attn_l], -1)[0]``. On a
    homogeneous graph ``W_src`` and ``W_dst`` are the same ``(H*F, in)`` matrix.
    Returns ``(h', alpha)`` of shapes ``(N_dst, H, F)`` and ``(N_dst, N_src, H)``.
    """
    A = A.to(F64)
    a = a.to(F64)
    H = a.shape[0]
    z_src = _heads(h_src.to(F64) @ W_src.to(F64).T, H)  # W h_j
    z_dst = _heads(h_dst.to(F64) @ W_dst.to(F64).T, H)  # W h_i
    n_dst, n_src = A.shape
    pair = torch.cat(
        [
            z_dst.unsqueeze(1).expand(-1, n_src, -1, -1),
            z_src.unsqueeze(0).expand(n_dst, -1, -1, -1),
        ],
        -1,
    )  # [W h_i || W h_j]
    e = torch.nn.functional.leaky_relu(torch.einsum("ijhf,hf->ijh", pair, a), negative_slope)
    alpha = masked_softmax(e, A)
    M = A if weights is None else weights.to(F64)
    return torch.einsum("ijh,ij,jhf->ihf", alpha, M, z_src), alpha


def gatv2(
    A, h_src, h_dst, W_src, W_dst, a, *, b_src=None, b_dst=None, negative_slope=0.2, weights=None
):
    r"""GATv2 (Brody et al., 2022; chapter "Static vs dynamic attention (GATv2)"), pair by pair:

    .. math::
        e_{ij} = a^\top \mathrm{LeakyReLU}\big(W [h_i \,\|\, h_j] + b\big), \quad
        W = [W_\mathrm{dst} \,|\, W_\mathrm{src}], \qquad
        h'_i = \sum_j M_{ij}\, \alpha_{ij}\, (W_\mathrm{src} h_j + b_\mathrm{src})

    with :math:`\alpha` the masked softmax of :math:`e` and :math:`b = b_\mathrm{dst} +
    b_\mathrm{src}`. The non-linearity now sits *between* :math:`W` and :math:`a`, which makes the
    attention dynamic. ``a`` has shape ``(H, F)``. Returns ``(h', alpha)`` as :func:`gat`.
    """
    A = A.to(F64)
    a = a.to(F64)
    H = a.shape[0]
    width = W_src.shape[0]
    b_src = torch.zeros(width, dtype=F64) if b_src is None else b_src.to(F64)
    b_dst = torch.zeros(width, dtype=F64) if b_dst is None else b_dst.to(F64)
    n_dst, n_src = A.shape
    h_pair = torch.cat(
        [
            h_dst.to(F64).unsqueeze(1).expand(-1, n_src, -1),
            h_src.to(F64).unsqueeze(0).expand(n_dst, -1, -1),
        ],
        -1,
    )  # [h_i || h_j]
    W = torch.cat([W_dst.to(F64), W_src.to(F64)], 1)
    s = (h_pair @ W.T + b_dst + b_src).unflatten(-1, (H, width // H))  # W [h_i || h_j] + b
    e = torch.einsum("ijhf,hf->ijh", torch.nn.functional.leaky_relu(s, negative_slope), a)
    alpha = masked_softmax(e, A)
    z_src = _heads(h_src.to(F64) @ W_src.to(F64).T + b_src, H)
    M = A if weights is None else weights.to(F64)
    return torch.einsum("ijh,ij,jhf->ihf", alpha, M, z_src), alpha


def dot_attention(A, h_src, h_dst, W_src, W_dst, num_heads, *, weights=None):
    r"""Scaled dot-product attention over neighbours (chapter "The Q/K/V analogy"):

    .. math::
        q_i = W_\mathrm{dst} h_i, \quad k_j = v_j = W_\mathrm{src} h_j, \qquad
        \alpha = \operatorname{softmax}\Big(\frac{Q K^\top}{\sqrt{F}}
                 \text{ masked by } A\Big), \qquad
        h'_i = \sum_j M_{ij}\, \alpha_{ij}\, v_j

    With :math:`A` all ones this is a Transformer's attention,
    :math:`\operatorname{softmax}(QK^\top/\sqrt d)V`. Returns ``(h', alpha)`` as :func:`gat`.
    """
    A = A.to(F64)
    q = _heads(h_dst.to(F64) @ W_dst.to(F64).T, num_heads)
    k = _heads(h_src.to(F64) @ W_src.to(F64).T, num_heads)
    e = torch.einsum("ihf,jhf->ijh", q, k) / q.shape[-1] ** 0.5  # q_i . k_j / sqrt(F)
    alpha = masked_softmax(e, A)
    M = A if weights is None else weights.to(F64)
    return torch.einsum("ijh,ij,jhf->ihf", alpha, M, k), alpha
