r"""Positional and structural encodings for graph transformers (chapter "From
masked to full attention").

Full attention sees a set of nodes, not a graph: these functions give every node a vector that says
where it sits. Both are computed densely in float64 (an :math:`N \times N` matrix), which suits the
book's graphs (up to a few thousand nodes); concatenate them to the node features, or project them.

* :func:`laplacian_pe` -- eigenvectors of the normalised Laplacian (Dwivedi & Bresson, 2021),
  defined up to sign (and up to a rotation inside a repeated eigenvalue's eigenspace);
  :func:`random_sign_flip` draws the random signs used in training.
* :func:`random_walk_pe` -- the probability of returning to a node after 1, ..., k random-walk steps
  (Dwivedi et al., 2022): no ambiguity at all.
"""

from __future__ import annotations

import numbers

import torch

from .graph import Graph, as_graph

F64 = torch.float64
# An entry whose magnitude is within this of the column's largest counts as "largest" for the sign
# rule, so that ties (a symmetric graph's +-0.7071...) are broken by node id, not by rounding.
SIGN_TIE = 1e-8


def _steps(k, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {k!r} of type {type(k).__name__}")
    if k <= 0:
        raise ValueError(f"{name} must be a positive integer, got {k}")
    return int(k)


def _homogeneous(graph, what: str) -> Graph:
    g = as_graph(graph)
    g.require_homogeneous(what)
    return g


def _counts(g: Graph) -> torch.Tensor:
    """Dense ``(N, N)`` float64 matrix with :math:`A_{uv}` = the number of edges :math:`u \to v`."""
    A = torch.zeros(g.num_nodes, g.num_nodes, dtype=F64)
    return A.index_put_(
        (g.src.cpu(), g.dst.cpu()), torch.ones(g.num_edges, dtype=F64), accumulate=True
    )


def random_walk_pe(graph, k) -> torch.Tensor:
    r"""Random-walk encodings: :math:`p_i = \big[(P)_{ii}, (P^2)_{ii}, \dots, (P^k)_{ii}\big]`,
    :math:`P = D^{-1} A`.

    :math:`A_{uv}` counts the edges :math:`u \to v` and :math:`D` holds the out-degrees, so
    :math:`P_{uv}` is the probability that a walker at :math:`u` steps to :math:`v`;
    :math:`(P^t)_{ii}` is the probability of being back at :math:`i` after :math:`t` steps. A node
    without out-edges has a zero row (its walk stops). This is ``dgl.random_walk_pe(g, k)`` and
    PyG's ``AddRandomWalkPE(k)`` (on a multigraph PyG counts a duplicated edge in the degree but not
    in :math:`A`; here, as in DGL, it counts in both). Returns ``(N, k)`` float64
    on the graph's device.

    Examples:
        >>> import torch
        >>> from gnnbook import Graph, pe
        >>> pe.random_walk_pe(Graph(torch.tensor([0, 1, 1]), torch.tensor([1, 1, 0])), 2)
        tensor([[0.0000, 0.5000],
                [0.5000, 0.7500]], dtype=torch.float64)
    """
    k = _steps(k)
    g = _homogeneous(graph, "random_walk_pe")
    A = _counts(g)
    P = A / A.sum(1, keepdim=True).clamp(min=1)
    out, power = torch.empty(g.num_nodes, k, dtype=F64), P
    for t in range(k):
        if t:
            power = power @ P
        out[:, t] = power.diagonal()
    return out.to(g.device)


def laplacian_pe(graph, k, *, return_eigval: bool = False):
    r"""Laplacian eigenvector encodings: the eigenvectors :math:`u_1, \dots, u_k` of

    .. math::  L = I - D^{-1/2} A D^{-1/2}, \qquad L u_t = \lambda_t u_t, \quad
               0 = \lambda_0 \le \lambda_1 \le \dots

    after the trivial :math:`u_0`, one column per eigenvector, as ``dgl.lap_pe(g, k, padding=True)``
    and PyG's ``AddLaplacianEigenvectorPE(k)`` define them. :math:`A` counts the edges
    :math:`u \to v` without self-loops (a loop does not move a node: the encoding of a graph is
    the same with or without the self-loops a layer adds; PyG ignores them too, DGL's ``lap_pe``
    counts them), :math:`D` its degrees; an isolated node has :math:`L_{ii} = 1`. The graph must be
    undirected (every edge :math:`u \to v` has its :math:`v \to u`), so that :math:`L` is symmetric.

    **Sign convention.** An eigenvector is defined only up to sign: each column is returned with its
    largest-magnitude entry positive (among entries of equal magnitude, the one with the lowest node
    id). Inside a repeated eigenvalue the basis itself is arbitrary; only the projector
    :math:`\sum_t u_t u_t^\top` over the eigenspace is determined. In training one flips the signs
    at random (:func:`random_sign_flip`) so that a model cannot rely on them.

    **Small graphs.** A graph of :math:`N \le k` nodes has only :math:`N - 1` non-trivial
    eigenvectors: the remaining columns are zeros (and their eigenvalues ``nan``).

    Returns ``(N, k)`` float64 on the graph's device, and with ``return_eigval`` also the ``(k,)``
    eigenvalues :math:`\lambda_1, \dots, \lambda_k`. Dense (:func:`torch.linalg.eigh`, exact to
    rounding); DGL's ``lap_pe`` uses an iterative solver at tolerance ``1e-2`` on larger graphs.
    """
    k = _steps(k)
    g = _homogeneous(graph, "laplacian_pe")
    A = _counts(g).fill_diagonal_(0)
    if not torch.equal(A, A.T):
        raise ValueError(
            "laplacian_pe needs an undirected graph (every edge u -> v with its v -> u, as often); "
            "add the reversed edges first"
        )
    n = g.num_nodes
    scale = A.sum(1).rsqrt().nan_to_num(posinf=0.0)  # D^{-1/2}, 0 for isolated nodes
    L = torch.eye(n, dtype=F64) - scale[:, None] * A * scale[None, :]
    eigval, eigvec = torch.linalg.eigh(L)  # ascending
    found = max(min(k, n - 1), 0)
    vectors = eigvec[:, 1 : found + 1]
    pe = torch.zeros(n, k, dtype=F64)
    pe[:, :found] = vectors * _signs(vectors)
    values = torch.full((k,), float("nan"), dtype=F64)
    values[:found] = eigval[1 : found + 1]
    pe, values = pe.to(g.device), values.to(g.device)
    return (pe, values) if return_eigval else pe


def _signs(vectors: torch.Tensor) -> torch.Tensor:
    """``(1, k)`` signs that make each column's largest-magnitude entry (lowest
    node id on ties) positive."""
    size = vectors.abs()
    largest = size >= size.amax(0, keepdim=True) - SIGN_TIE
    first = largest.int().argmax(0)  # first row holding a largest entry
    return torch.where(vectors.gather(0, first[None]) < 0, -1.0, 1.0).to(vectors.dtype)


def random_sign_flip(pe: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""``pe`` with each column multiplied by an independent random sign :math:`s_t \in \{-1, +1\}`.

    Laplacian eigenvectors have no canonical sign, so a model trained on one choice could learn it;
    drawing new signs every step (Dwivedi & Bresson, 2021) makes the model see both. ``pe`` is
    ``(N, k)``; ``generator`` makes the draw reproducible. Chapter "From masked to full attention".
    """
    if not isinstance(pe, torch.Tensor) or pe.dim() != 2:
        raise ValueError(
            f"pe must be a 2-D tensor (nodes, k), got {getattr(pe, 'shape', type(pe).__name__)}"
        )
    signs = torch.randint(0, 2, (pe.shape[1],), generator=generator).to(pe.device, pe.dtype) * 2 - 1
    return pe * signs
