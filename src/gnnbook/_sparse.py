r"""The fast path behind :mod:`gnnbook.ops`: CSR products and segment reductions, with hand-written backward.

**Layout.** ``graph.csr()`` groups the in-edges of each destination :math:`i` into one contiguous run,
positions ``indptr[i]:indptr[i+1]``: ``indices`` holds their sources :math:`j`, ``eids`` their edge ids.
For one head, the attention values are then a sparse matrix :math:`A \in \mathbb{R}^{N_{dst} \times N_{src}}`,
:math:`A_{ij} = \alpha_{ij}`, stored in CSR as ``(indptr, indices, alpha[eids])``, and

.. math::  y_i = \sum_{j \in N(i)} \alpha_{ij} h_j \quad\Longleftrightarrow\quad Y = A H .

``graph._csr_by_source()`` is the same edges grouped by source: the CSR of :math:`A^\top`.

**Backward**, for :math:`Y = A H` and a loss :math:`L`:

.. math::
    \frac{\partial L}{\partial h_j} = \sum_{i} \alpha_{ij} \frac{\partial L}{\partial y_i}
    \;\;(\text{i.e. } A^\top \tfrac{\partial L}{\partial Y}\text{, a product with the CSR by source}),
    \qquad
    \frac{\partial L}{\partial \alpha_{ij}} = \Big\langle \frac{\partial L}{\partial y_i}, h_j \Big\rangle
    \;\;(\text{one dot product per edge: a "sampled" dense product}).

For :math:`\alpha_{ij} = \exp(e_{ij}) / \sum_{k} \exp(e_{ik})` and :math:`g_{ij} = \partial L / \partial \alpha_{ij}`:

.. math::  \frac{\partial L}{\partial e_{ij}} = \alpha_{ij} \Big(g_{ij} - \sum_{k \in N(i)} \alpha_{ik}\, g_{ik}\Big).

For :math:`e_k = e^l_{\mathrm{src}_k} + e^r_{\mathrm{dst}_k}`: :math:`\partial L / \partial e^r_i` sums
:math:`\partial L / \partial e_k` over the in-edges of :math:`i`, :math:`\partial L / \partial e^l_j` over the
out-edges of :math:`j`.

Why not ``index_add``? Autograd's own backward of a gather is a scatter-add, which on a GPU adds with
atomics in whatever order threads arrive: float results then change from run to run. Every sum here is
a reduction over a *contiguous run* (a CSR row, a segment), done in a fixed order, so results are
bit-identical between runs on CPU and GPU. And PyTorch's own backward of a sparse CSR product builds
a dense :math:`N \times N` gradient, hence the custom ``torch.autograd.Function``\ s below.

Per-edge tensors are handled **head-major**, shape ``(H, E)``: picking columns of an ``(H, E)``
tensor is several times faster on CPU than picking 16-byte rows of an ``(E, H)`` one.
Only ``float32``/``float64`` on CPU or CUDA use ``torch.sparse``; anything else takes a plain
gather + segment-sum path that computes the same thing.
"""
from __future__ import annotations

import math
import warnings

import torch
from torch.autograd.function import once_differentiable

from .graph import CSR, Graph

# Below this many multiply-adds (edges x heads x features) a sparse product costs more in set-up and
# thread start-up than it saves: the toy graphs of the chapters and widgets take the plain path.
SPARSE_MIN_WORK = 1 << 18


def _sparse_ok(x: torch.Tensor, n_edges: int) -> bool:
    """Sparse CSR products for this size, dtype and device? (MKL / cuSPARSE: float32 and float64.)"""
    return (x.device.type in ("cpu", "cuda") and x.dtype in (torch.float32, torch.float64)
            and n_edges * x.shape[0] * x.shape[-1] >= SPARSE_MIN_WORK)


def _heads_first(x: torch.Tensor) -> torch.Tensor:
    """A per-edge or per-node tensor ``(E, *)`` as ``(C, E)`` with ``C = prod(*)``, contiguous."""
    return x.reshape(x.shape[0], math.prod(x.shape[1:])).t().contiguous()


def _rows_first(x: torch.Tensor, shape) -> torch.Tensor:
    """Inverse of :func:`_heads_first`: ``(C, E)`` back to a contiguous tensor of ``shape``."""
    return x.t().contiguous().view(shape)


def _segment(x: torch.Tensor, csr: CSR, reduce: str) -> torch.Tensor:
    """``out[c, v] = reduce_{k in run v} x[c, eids[k]]`` for ``x`` of shape ``(C, E)`` in edge order.

    Empty runs give 0 for ``sum`` and ``-inf`` for ``max``. ``segment_reduce`` walks each run in
    order (no atomics), on CPU and CUDA alike; one call for all channels keeps the op count low.
    """
    rows = x.index_select(1, csr.eids).t().contiguous()  # (E, C), grouped by run
    return torch.segment_reduce(rows, reduce, offsets=csr.indptr).t().contiguous()


def _csr_matrix(csr: CSR, values: torch.Tensor, n_cols: int) -> torch.Tensor:
    # check_invariants=False: the structure comes from Graph, already checked. PyTorch also warns once
    # that sparse CSR is "beta"; we use only its long-stable core (construction, @, sampled_addmm).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")
        return torch.sparse_csr_tensor(csr.indptr, csr.indices, values, (csr.indptr.numel() - 1, n_cols),
                                       check_invariants=False)


def _spmm(csr: CSR, values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per head ``k``: ``out[k] = A_k @ x[k]``, ``A_k`` the CSR ``csr`` holding ``values[k]`` (run order).

    ``values`` (H, E), ``x`` (H, n_cols, F) -> (H, n_rows, F). One product per head: all heads share
    ``indptr`` and ``indices``, so no per-head copy of the structure is ever made.
    """
    n_rows, (heads, n_cols, feats) = csr.indptr.numel() - 1, x.shape
    if values.shape[1] == 0 or n_rows == 0 or n_cols == 0 or feats == 0:
        return x.new_zeros(heads, n_rows, feats)
    if not _sparse_ok(x, values.shape[1]):  # plain fallback: gather the messages, sum each run
        msgs = x.index_select(1, csr.indices) * values.unsqueeze(-1)  # (H, E, F)
        return torch.stack([torch.segment_reduce(m, "sum", offsets=csr.indptr) for m in msgs])
    return torch.stack([_csr_matrix(csr, values[k], n_cols) @ x[k] for k in range(heads)])


def _sddmm(csr: CSR, g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per head and edge ``(i <- j)`` of ``csr``, in run order: ``<g[k, i], x[k, j]>`` -> (H, E).

    ``g`` (H, n_rows, F), ``x`` (H, n_cols, F). ``torch.sparse.sampled_addmm`` computes ``g @ x.T`` only
    where the CSR has entries, i.e. one dot product per edge, without an (E, F) message tensor.
    """
    heads, n_rows, feats = g.shape
    n_edges, n_cols = csr.indices.numel(), x.shape[1]
    if n_edges == 0 or feats == 0:
        return g.new_zeros(heads, n_edges)
    if not _sparse_ok(g, n_edges):
        dst = torch.repeat_interleave(torch.arange(n_rows, device=g.device), csr.indptr.diff())
        return (g.index_select(1, dst) * x.index_select(1, csr.indices)).sum(-1)
    pattern = _csr_matrix(csr, g.new_zeros(n_edges), n_cols)
    return torch.stack([torch.sparse.sampled_addmm(pattern, g[k], x[k].t(), beta=0.0).values()
                        for k in range(heads)])


class UAddV(torch.autograd.Function):
    """``e_k = el[src_k] + er[dst_k]``; backward sums each edge's gradient into its two endpoints."""

    @staticmethod
    def forward(ctx, el, er, graph: Graph):
        ctx.graph, ctx.el_shape, ctx.er_shape = graph, el.shape, er.shape
        ctx.dtypes = el.dtype, er.dtype
        return el.index_select(0, graph.src) + er.index_select(0, graph.dst)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        graph, (el_dtype, er_dtype) = ctx.graph, ctx.dtypes
        g = _heads_first(grad)  # (C, E)
        tail = grad.shape[1:]
        grad_el = grad_er = None
        if ctx.needs_input_grad[0]:  # sum over the out-edges of each source: the CSR by source
            s = _segment(g, graph._csr_by_source(), "sum")
            grad_el = _rows_first(s, (graph.num_src_nodes, *tail)).sum_to_size(ctx.el_shape).to(el_dtype)
        if ctx.needs_input_grad[1]:  # sum over the in-edges of each destination
            s = _segment(g, graph.csr(), "sum")
            grad_er = _rows_first(s, (graph.num_dst_nodes, *tail)).sum_to_size(ctx.er_shape).to(er_dtype)
        return grad_el, grad_er, None


class EdgeSoftmax(torch.autograd.Function):
    """Softmax over each destination's run of in-edges. Saves only its output ``alpha``."""

    @staticmethod
    def forward(ctx, logits, graph: Graph):
        csr, dst = graph.csr(), graph.dst
        x = _heads_first(logits)                                     # (C, E), edge order
        peak = _segment(x, csr, "max")                               # (C, N_dst); a shift, cancels
        w = torch.exp(x - peak.index_select(1, dst))
        total = _segment(w, csr, "sum")                              # >= 1 on every run with edges
        alpha = _rows_first(w.div_(total.index_select(1, dst)), logits.shape)
        ctx.graph = graph
        ctx.save_for_backward(alpha)
        return alpha

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (alpha,) = ctx.saved_tensors
        graph = ctx.graph
        p = _heads_first(alpha * grad)                               # p_ij = alpha_ij g_ij
        s = _segment(p, graph.csr(), "sum")                          # s_i = sum_k alpha_ik g_ik
        # _heads_first may return a view of the saved alpha (one head): never modify it in place.
        grad_logits = p.sub_(_heads_first(alpha) * s.index_select(1, graph.dst))  # alpha_ij (g_ij - s_i)
        return _rows_first(grad_logits, alpha.shape), None


class UMulESum(torch.autograd.Function):
    """``y[i, k] = sum_j alpha[(i <- j), k] * h[j, k]`` for ``h`` (N_src, H, F), ``alpha`` (E, H).

    Saves ``h`` and ``alpha`` (tensors the caller keeps alive anyway), nothing per edge of its own.
    """

    @staticmethod
    def forward(ctx, h, alpha, graph: Graph):
        csr = graph.csr()
        a = _heads_first(alpha)                                       # (H, E), edge order
        hT = h.transpose(0, 1).contiguous()                           # (H, N_src, F)
        y = _spmm(csr, a.index_select(1, csr.eids), hT)               # (H, N_dst, F)
        ctx.graph = graph
        ctx.save_for_backward(h, alpha)
        return y.transpose(0, 1).contiguous()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        h, alpha = ctx.saved_tensors
        graph = ctx.graph
        g = grad.transpose(0, 1).contiguous()                         # (H, N_dst, F)
        grad_h = grad_alpha = None
        if ctx.needs_input_grad[0]:  # dL/dh = A^T dL/dy: a product with the CSR by source
            csr_t = graph._csr_by_source()
            a = _heads_first(alpha)
            grad_h = _spmm(csr_t, a.index_select(1, csr_t.eids), g).transpose(0, 1).contiguous()
        if ctx.needs_input_grad[1]:  # dL/dalpha_ij = <dL/dy_i, h_j>, computed in run order
            csr = graph.csr()
            dots = _sddmm(csr, g, h.transpose(0, 1).contiguous())     # (H, E), run order
            grad_alpha = _rows_first(dots.index_select(1, graph._csr_position()), alpha.shape)
        return grad_h, grad_alpha, None
