r"""The fast path behind :mod:`gnnbook.ops`: gathers, ordered sums and CSR products, with
hand-written backward.

**Layout.** Per-edge tensors are ordinary contiguous ``(E, *)`` tensors, as in DGL. Inside the ops
they are read as ``(C, E)`` (``C = prod(*)``) through a transposed view, without a copy: sums and
maxima over each node's edges run along rows of ``C``, and a per-node value is broadcast to the
edges with one ``gather`` from a small ``(C, N)`` table. (Returning the ``(C, E)``
layout itself would save a few transposes, but a non-contiguous result surprises: DGL refuses to
write into a copy of its layout, and ``.view`` fails on it.)

**Sums over edges**, :math:`s_i = \sum_{k:\, \mathrm{dst}_k = i} x_k`: on the CPU, ``index_add_``
adds in edge order, one edge after another, which gives the same bits on every run and thread count.
On a GPU ``index_add_`` adds with atomics in whatever order threads arrive, so there the edges are
first sorted into runs (``graph.csr()``) and each run is summed in order by ``segment_reduce``: the
same order, hence the same result, as on the CPU. Maxima (``scatter_reduce(amax)``) are exact in
any order.

**Aggregation** :math:`y_i = \sum_{j \in N(i)} \alpha_{ij} h_j` is, for one head, the product of a
sparse matrix :math:`A \in \mathbb{R}^{N_{dst} \times N_{src}}`, :math:`A_{ij} = \alpha_{ij}`, with
:math:`H`: ``graph.csr()`` groups the in-edges of each destination :math:`i` into positions
``indptr[i]:indptr[i+1]`` (sources in ``indices``, edge ids in ``eids``), and ``alpha[eids]`` are
then the CSR values; the same edges grouped by source give the CSR of :math:`A^\top`. The products
run one head at a time (the extra memory is one head's worth) with int32 indices (about twice as
fast as int64), and with features too wide for the cache the matrix is cut into blocks of columns
whose rows of :math:`H` fit (:func:`_column_blocks`). Backward, for :math:`Y = A H`
and a loss :math:`L`:

.. math::
    \frac{\partial L}{\partial h_j} = \sum_{i} \alpha_{ij} \frac{\partial L}{\partial y_i}
    \;\;(A^\top \tfrac{\partial L}{\partial Y}\text{, a product with the CSR by source}),
    \qquad
    \frac{\partial L}{\partial \alpha_{ij}} = \Big\langle \frac{\partial L}{\partial y_i}, h_j
    \Big\rangle \;\;(\text{one dot product per edge: a "sampled" dense product}).

PyTorch's own backward of a sparse CSR product would build a dense :math:`N \times N` gradient,
hence the custom ``torch.autograd.Function``\ s. For
:math:`\alpha_{ij} = \exp(e_{ij}) / \sum_k \exp(e_{ik})` and
:math:`g_{ij} = \partial L / \partial \alpha_{ij}`:

.. math::

    \frac{\partial L}{\partial e_{ij}}
    = \alpha_{ij} \Big(g_{ij} - \sum_{k \in N(i)} \alpha_{ik}\, g_{ik}\Big).

For :math:`e_k = e^l_{\mathrm{src}_k} + e^r_{\mathrm{dst}_k}`: :math:`\partial L / \partial e^r_i`
sums :math:`\partial L / \partial e_k` over the in-edges of :math:`i`,
:math:`\partial L / \partial e^l_j` over the out-edges of :math:`j`.

Sparse products need ``float32``/``float64`` on CPU or CUDA and enough work to pay for their set-up
(:data:`SPARSE_MIN_WORK`); otherwise a plain gather + ordered sum computes the same thing.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import torch
from torch.autograd.function import once_differentiable

from .graph import Graph, group_edges

# The key of the sparse blocks in each graph's cache: private to this module, so no caller can
# fetch (and change) the structures the kernels trust.
_BLOCKS = object()

# Below this many multiply-adds (edges x heads x features) a sparse product costs more in set-up and
# thread start-up than it saves: the toy graphs of the chapters and widgets take the plain path.
SPARSE_MIN_WORK = 1 << 18
# The dense operand of a sparse product is cut into blocks of rows no larger than
# this (a cache's size).
CACHE_BYTES = 16 << 20


class Block(NamedTuple):
    """The edges whose far end (the source, for sums into destinations) lies in ``start:stop``, as a
    CSR for the sparse kernels: ``indices`` relative to ``start``, int32 where that fits (about
    twice as fast), and ``eids`` the edge ids of its entries, to pick their values."""

    indptr: torch.Tensor
    indices: torch.Tensor
    eids: torch.Tensor
    start: int
    stop: int


def _sparse_ok(x: torch.Tensor, n_edges: int) -> bool:
    """Sparse CSR products for this size, dtype and device? (MKL /
    cuSPARSE: float32 and float64.)"""
    return (
        x.device.type in ("cpu", "cuda")
        and x.dtype in (torch.float32, torch.float64)
        and n_edges * x.shape[1] * x.shape[-1] >= SPARSE_MIN_WORK
    )


# --- layout ---------------------------------------------------------------------------------------
def _columns(x: torch.Tensor) -> torch.Tensor:
    """A per-edge tensor ``(E, *)`` seen as ``(C, E)``: a transposed view, no copy."""
    return x.reshape(x.shape[0], math.prod(x.shape[1:])).t()


def _rows(x: torch.Tensor, shape) -> torch.Tensor:
    """``(C, n)`` back to an ordinary contiguous per-edge or per-node tensor of ``shape = (n, *)``
    (free when ``x`` is a transposed view of one)."""
    return x.t().contiguous().view(shape)


# --- ordered sums -------------------------------------------------------------------------------
def _adds_in_order(device: torch.device) -> bool:
    """Does ``index_add_`` on ``device`` add in index order? (The CPU kernel
    does; GPUs use atomics.)"""
    return device.type == "cpu"


def _sum_into(x: torch.Tensor, dim: int, graph: Graph, into_sources: bool = False) -> torch.Tensor:
    """Slices of ``x`` along ``dim``, one per edge, summed into their destinations (or sources):
    node ``v`` gets every slice ``k`` with ``dst[k] == v``, added in increasing ``k``."""
    src, dst = graph.edges(copy=False)
    index, n = (src, graph.num_src_nodes) if into_sources else (dst, graph.num_dst_nodes)
    if _adds_in_order(x.device):
        shape = list(x.shape)
        shape[dim] = n
        return x.new_zeros(shape).index_add_(dim, index, x)
    # atomics on GPUs: sum sorted runs
    runs = graph.csr_by_source(copy=False) if into_sources else graph.csr(copy=False)
    rows = x.movedim(dim, 0).index_select(0, runs.eids)
    return torch.segment_reduce(rows, "sum", offsets=runs.indptr).movedim(0, dim)


# --- sparse products ------------------------------------------------------------------------------
def _column_blocks(x: torch.Tensor) -> int:
    """Into how many column blocks to cut the sparse matrix of a product with ``x`` (n_cols, F).

    A product reads the rows of ``x`` in random order; once they no longer fit in the cache, nearly
    every read is a miss. Cutting the sparse matrix into blocks of columns (``x`` into blocks of
    rows) that do fit and adding up the block products is faster: at N = 100k, F = 64, two blocks of
    12.8 MB take about 15 ms against 22 ms for one product (DGL does the same, and takes 14 ms).
    """
    if x.device.type != "cpu":
        return 1
    return max(1, math.ceil(x.numel() * x.element_size() / CACHE_BYTES))


def _blocks(graph: Graph, by_source: bool, count: int) -> tuple[Block, ...]:
    """The CSR by destination (or ``by_source``, by source) cut into ``count``
    column blocks; cached."""

    def build():
        # By source, the grouping itself is not kept: only the blocks are (and the int64 ids go).
        src, dst = graph.edges(copy=False)
        csr = group_edges(src, dst, graph.num_src_nodes) if by_source else graph.csr(copy=False)
        n_rows, n_cols = (
            csr.indptr.numel() - 1,
            graph.num_dst_nodes if by_source else graph.num_src_nodes,
        )
        small = max(n_rows, n_cols, csr.indices.numel()) < 2**31
        if count == 1:
            return (
                (
                    Block(csr.indptr.int(), csr.indices.int(), csr.eids, 0, n_cols)
                    if small
                    else Block(*csr, 0, n_cols)
                ),
            )
        rows = torch.repeat_interleave(torch.arange(n_rows, device=graph.device), csr.indptr.diff())
        bounds = [n_cols * b // count for b in range(count + 1)]
        out = []
        for start, stop in zip(bounds, bounds[1:]):
            keep = (
                ((csr.indices >= start) & (csr.indices < stop)).nonzero().flatten()
            )  # stays in run order
            indptr = torch.zeros_like(csr.indptr)
            torch.cumsum(torch.bincount(rows[keep], minlength=n_rows), 0, out=indptr[1:])
            indices = csr.indices[keep] - start
            if small:
                indptr, indices = indptr.int(), indices.int()
            out.append(Block(indptr, indices, csr.eids[keep], start, stop))
        return tuple(out)

    return graph.cached((_BLOCKS, by_source, count), build)


def _csr_matrix(block: Block, values: torch.Tensor) -> torch.Tensor:
    # check_invariants=False: the structure comes from the graph's own ids, checked when it was
    # built and never handed out (callers get copies), so it cannot have changed since. PyTorch also
    # warns once that sparse CSR is "beta"; we use only its long-stable core
    # (construction, @, sampled_addmm).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")
        return torch.sparse_csr_tensor(
            block.indptr,
            block.indices,
            values,
            (block.indptr.numel() - 1, block.stop - block.start),
            check_invariants=False,
        )


def _spmm(graph: Graph, by_source: bool, alpha, x: torch.Tensor) -> torch.Tensor:
    """Per head ``k``: ``A_k @ x[:, k]`` with ``A_k`` the CSR of ``graph`` (by destination, or by
    source) holding ``alpha[:, k]`` (all ones where ``alpha`` is None).

    ``alpha`` (E, H), ``x`` (n_cols, H, F) -> (n_rows, H, F). One product per head and column block;
    the heads share the structure, so none of it is copied. Heads are taken one at a time, so the
    extra memory is one head's worth.
    """
    n_cols, heads, feats = x.shape
    # Blocks let the cache keep rows of x that several entries read; with no more entries than
    # columns (edge features summed into nodes) each row is read about once, and blocks only cost.
    count = _column_blocks(x[:, 0]) if graph.num_edges > n_cols else 1
    blocks = _blocks(graph, by_source, count)
    # Each block's values for all heads, in its run order: one gather of whole rows, turned into
    # one contiguous row per head (one pass, where a copy per head would read it all H times).
    picked = [
        None if alpha is None else alpha.index_select(0, block.eids).t().contiguous()
        for block in blocks
    ]
    out = x.new_empty(blocks[0].indptr.numel() - 1, heads, feats)
    for k in range(heads):
        xk, yk = x[:, k].contiguous(), out[:, k]  # (n_cols, F), (n_rows, F)
        for i, (block, rows) in enumerate(zip(blocks, picked)):
            values = xk.new_ones(block.eids.numel()) if rows is None else rows[k]
            product = (_csr_matrix(block, values), xk[block.start : block.stop])
            if (
                i == 0
            ):  # beta=0 straight into the output: `A @ x` would zero a new tensor, then copy
                torch.addmm(yk, *product, beta=0.0, out=yk)
            else:
                yk.addmm_(*product)
        del xk, values, product  # before the next head's are made
    return out


def _sddmm(graph: Graph, g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``<g[dst_e, k], x[src_e, k]>`` for every edge ``e`` and head ``k``: ``(E, H)``.

    ``g`` (N_dst, H, F), ``x`` (N_src, H, F). ``torch.sparse.sampled_addmm`` computes ``g @ x.T``
    only where the CSR has entries, one dot product per edge, without an (E, F) tensor; its results,
    in run order, are put back in edge order.
    """
    (block,) = _blocks(graph, False, 1)
    runs = g.new_zeros(g.shape[1], block.eids.numel())  # (H, E) in run order
    for k in range(g.shape[1]):
        # The CSR's values are runs[k] and it is its own output: the products are written straight
        # into runs[k]. (A new output would first copy the structure and values into it, which
        # costs twice as long as the products.)
        where = _csr_matrix(block, runs[k])
        torch.sparse.sampled_addmm(
            where, g[:, k].contiguous(), x[:, k].contiguous().t(), beta=0.0, out=where
        )
    runs = runs.t().contiguous()  # (E, H): index_copy_ is fast only with whole rows to move
    return runs.new_empty(runs.shape).index_copy_(0, block.eids, runs)  # back in edge order


# --- the three ops ------------------------------------------------------------------------------
class UAddV(torch.autograd.Function):
    """``e_k = el[src_k] + er[dst_k]``; backward sums each edge's gradient into its two ends."""

    @staticmethod
    def forward(ctx, el, er, graph: Graph):
        tail, dtype = (
            torch.broadcast_shapes(el.shape[1:], er.shape[1:]),
            torch.promote_types(el.dtype, er.dtype),
        )
        width = math.prod(tail)
        left = el.expand(el.shape[0], *tail).to(dtype).reshape(-1, width)  # (N_src, C)
        right = er.expand(er.shape[0], *tail).to(dtype).reshape(-1, width)  # (N_dst, C)
        ctx.graph, ctx.inputs = graph, ((el.shape, el.dtype), (er.shape, er.dtype))
        src, dst = graph.edges(copy=False)
        e = left.index_select(0, src).add_(right.index_select(0, dst))
        return e.view(graph.num_edges, *tail)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        graph, ((el_shape, el_dtype), (er_shape, er_dtype)) = ctx.graph, ctx.inputs
        g, tail = _columns(grad), grad.shape[1:]  # (C, E) view
        grad_el = grad_er = None
        if ctx.needs_input_grad[0]:  # over the out-edges of each source
            s = _sum_into(g, 1, graph, into_sources=True)
            grad_el = _rows(s, (graph.num_src_nodes, *tail)).sum_to_size(el_shape).to(el_dtype)
        if ctx.needs_input_grad[1]:  # over the in-edges of each destination
            s = _sum_into(g, 1, graph)
            grad_er = _rows(s, (graph.num_dst_nodes, *tail)).sum_to_size(er_shape).to(er_dtype)
        return grad_el, grad_er, None


class EdgeSoftmax(torch.autograd.Function):
    """Softmax over each destination's in-edges. Saves only its output ``alpha``."""

    @staticmethod
    def forward(ctx, logits, graph: Graph):
        x, (_, dst) = _columns(logits), graph.edges(copy=False)  # (C, E) view
        index = dst.expand_as(x)
        peak = x.new_full((x.shape[0], graph.num_dst_nodes), -math.inf).scatter_reduce_(
            1, index, x, "amax"
        )  # max_k e_ik: a shift that cancels
        w = peak.gather(1, index).neg_().add_(x).exp_()  # exp(e_ij - max), (C, E)
        total = _sum_into(w, 1, graph)  # >= 1 wherever there are edges
        out = w.new_empty(logits.shape).view(
            logits.shape[0], w.shape[0]
        )  # (E, C): returned contiguous
        for k, (w_row, total_row) in enumerate(zip(w, total)):  # a row at a time: small temporaries
            torch.div(w_row, total_row.index_select(0, dst), out=out[:, k])
        alpha = out.view(logits.shape)
        ctx.graph = graph
        ctx.save_for_backward(alpha)
        return alpha

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        (alpha,) = ctx.saved_tensors
        graph, a = ctx.graph, _columns(alpha)  # (C, E) views
        p = a * _columns(grad)  # p_ij = alpha_ij g_ij
        s = _sum_into(p, 1, graph)  # s_i = sum_k alpha_ik g_ik
        _, dst = graph.edges(copy=False)
        for p_row, s_row, a_row in zip(p, s, a):  # alpha_ij (g_ij - s_i), a row at a time
            p_row.sub_(s_row.index_select(0, dst).mul_(a_row))
        return _rows(p, alpha.shape), None


class UMulESum(torch.autograd.Function):
    """``y[i, k] = sum_j alpha[(i <- j), k] * h[j, k]`` for ``h`` (N_src, H, F), ``alpha`` (E, H) or
    None (ones).

    Saves ``h`` and ``alpha`` (tensors the caller keeps alive anyway), nothing per edge of its own.
    """

    @staticmethod
    def forward(ctx, h, alpha, graph: Graph):
        ctx.graph = graph
        ctx.save_for_backward(h, alpha)
        if not _sparse_ok(h, graph.num_edges):
            return _gather_sum(graph, h, alpha, by_source=False)
        return _spmm(graph, False, alpha, h)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        h, alpha = ctx.saved_tensors
        graph = ctx.graph
        grad_h = grad_alpha = None
        sparse = _sparse_ok(h, graph.num_edges)
        # (dL/dalpha first: its temporaries are the larger, so they come before dL/dh is held)
        if ctx.needs_input_grad[1]:  # dL/dalpha_ij = <dL/dy_i, h_j>, one dot product per edge
            # A sampled product holds at most one entry per (i, j) pair: a multigraph with more
            # edges than pairs takes the plain path (sampled_addmm refuses it).
            if sparse and graph.num_edges <= graph.num_src_nodes * graph.num_dst_nodes:
                grad_alpha = _sddmm(graph, grad, h)
            else:
                src, dst = graph.edges(copy=False)
                grad_alpha = (grad.index_select(0, dst) * h.index_select(0, src)).sum(-1)
        if ctx.needs_input_grad[0]:  # dL/dh_j = sum_i alpha_ij dL/dy_i: edges turned around
            grad_h = (
                _spmm(graph, True, alpha, grad)
                if sparse
                else _gather_sum(graph, grad, alpha, by_source=True)
            )
        return grad_h, grad_alpha, None


def _gather_sum(graph: Graph, x: torch.Tensor, alpha, by_source: bool) -> torch.Tensor:
    """The plain path: ``alpha * x[src]`` summed into each destination (or, ``by_source``,
    ``alpha * x[dst]`` into each source). ``x`` (n, H, F), ``alpha`` (E, H) or None."""
    src, dst = graph.edges(copy=False)
    messages = x.index_select(0, dst if by_source else src)  # (E, H, F)
    if alpha is not None:
        messages = messages * alpha.unsqueeze(-1)
    return _sum_into(messages, 0, graph, into_sources=by_source)


class UDotV(torch.autograd.Function):
    """``s[e, k] = <x[src_e, k], y[dst_e, k]>`` for ``x`` (N_src, H, F), ``y`` (N_dst, H, F):
    ``(E, H)``.

    Forward is the sampled product of :func:`_sddmm`; backward, for ``g = dL/ds``, is two weighted
    sums with ``g`` as the edge values: ``dL/dx_j = sum_{e: src_e = j} g_e y[dst_e]`` (the CSR by
    source) and ``dL/dy_i = sum_{e: dst_e = i} g_e x[src_e]`` (the CSR by destination). Saves ``x``
    and ``y`` only.
    """

    @staticmethod
    def forward(ctx, x, y, graph: Graph):
        ctx.graph = graph
        ctx.save_for_backward(x, y)
        if not _sparse_ok(x, graph.num_edges):
            src, dst = graph.edges(copy=False)
            return (x.index_select(0, src) * y.index_select(0, dst)).sum(-1)
        return _sddmm(graph, y, x)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        graph, grad = ctx.graph, grad.contiguous()
        sparse = _sparse_ok(x, graph.num_edges)
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            grad_x = (
                _spmm(graph, True, grad, y)
                if sparse
                else _gather_sum(graph, y, grad, by_source=True)
            )
        if ctx.needs_input_grad[1]:
            grad_y = (
                _spmm(graph, False, grad, x)
                if sparse
                else _gather_sum(graph, x, grad, by_source=False)
            )
        return grad_x, grad_y, None
