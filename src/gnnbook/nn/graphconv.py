r"""GCN: neighbour features summed with fixed, degree-based weights (Kipf & Welling, 2017)."""

from __future__ import annotations

import torch
from torch import nn

from .. import ops
from ..graph import Graph
from . import _checks

NORMS = ("both", "right", "left", "none")


def edge_norm(graph: Graph, norm: str, dtype: torch.dtype, edge_weight=None):
    r"""GraphConv's weight on each edge :math:`j \to i`.

    ``'both'``: :math:`c_{ji} = w_{ji} / \sqrt{d^\mathrm{out}_j d^\mathrm{in}_i}`;
    ``'right'``: :math:`w_{ji} / d^\mathrm{in}_i` (a mean); ``'left'``: :math:`w_{ji} /
    d^\mathrm{out}_j`; ``'none'``: :math:`w_{ji}` (``None`` without weights: all ones). Degrees
    count edges, at least 1. Chapter "GCN" derives the weights; they depend only on the graph, so
    they are computed once per graph and dtype.
    """
    if norm == "none":
        return edge_weight

    def per_edge(degrees, ends):  # the degree of one end of every edge, at least 1
        return degrees.clamp(min=1).to(dtype).index_select(0, ends)

    def build():
        if norm == "right":
            return 1 / per_edge(graph.in_degrees(), graph.dst)
        if norm == "left":
            return 1 / per_edge(graph.out_degrees(), graph.src)
        return (
            per_edge(graph.out_degrees(), graph.src) * per_edge(graph.in_degrees(), graph.dst)
        ).rsqrt()

    c = graph.cached(("edge_norm", norm, dtype), build)
    return c if edge_weight is None else c * edge_weight


class GraphConv(nn.Module):
    r"""Graph convolution, parameter for parameter DGL 2.1's ``GraphConv``.

    Chapter "GCN" derives it; with ``norm='both'``:

    .. math::
        h'_i = \sigma\Big(b + \sum_{j \in \mathcal{N}(i)}
               \frac{w_{ji}}{\sqrt{d^\mathrm{out}_j}\sqrt{d^\mathrm{in}_i}}\, h_j W\Big)
        \qquad\big(H' = \sigma(D_\mathrm{in}^{-1/2} A D_\mathrm{out}^{-1/2} H W + b)\big)

    'right' divides by :math:`d^\mathrm{in}_i` only (a mean), 'left' by :math:`d^\mathrm{out}_j`
    only, 'none' by nothing. Degrees count edges (at least 1) and ignore ``edge_weight``
    :math:`w_{ji}` (default 1). On an undirected graph with self-loops, 'both' is the paper's
    :math:`\hat D^{-1/2} \hat A \hat D^{-1/2}`. Only source features enter the sum: destination
    features, when given, are ignored (as in DGL).

    Args:
        in_feats: width of :math:`h_j` (one int: GraphConv has no destination features).
        out_feats: width of :math:`h'_i`.
        norm: ``'both'``, ``'right'``, ``'left'`` or ``'none'``. Default: ``'both'``.
        weight: learn :math:`W` (``(in_feats, out_feats)``); without it pass ``weight=`` to forward,
            or none at all for no projection (then ``in_feats`` must equal ``out_feats`` if there
            is a bias). Default: ``True``.
        bias: learn :math:`b`. Default: ``True``.
        activation: :math:`\sigma`; ``None`` for none. Default: ``None``.
        allow_zero_in_degree: allow destinations without in-edges (their output is
            :math:`\sigma(b)`); when ``False`` they raise a ``ValueError``. Default: ``False``.

    Shapes:
        - **input:** ``feat`` :math:`(N_\mathrm{src}, *, D_\mathrm{in})`, on any graph: homogeneous,
          bipartite or a DGL block (one tensor holds the source features); or a pair
          ``(feat_src, feat_dst)`` whose ``feat_dst`` is ignored, whatever its shape.
          ``edge_weight`` :math:`(E,)`; ``weight`` :math:`(D_\mathrm{in}, D_\mathrm{out})`.
        - **output:** :math:`(N_\mathrm{dst}, *, D_\mathrm{out})`.

    Examples:
        >>> import torch
        >>> from gnnbook import graphs, nn
        >>> g = graphs.toy_graph()                                   # 6 nodes, 14 edges
        >>> nn.GraphConv(4, 2)(g, torch.randn(6, 4)).shape
        torch.Size([6, 2])
        >>> nn.GraphConv(4, 2)(g, torch.randn(6, 5, 4)).shape        # extra dims are kept
        torch.Size([6, 5, 2])
        >>> layer = nn.GraphConv(4, 2, weight=False)                 # W given at each call
        >>> layer(g, torch.randn(6, 4), weight=torch.randn(4, 2)).shape
        torch.Size([6, 2])
    """

    def __init__(
        self,
        in_feats,
        out_feats,
        norm="both",
        weight=True,
        bias=True,
        activation=None,
        allow_zero_in_degree=False,
    ):
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
        self._in_feats = _checks.positive_int(in_feats, "in_feats")
        self._out_feats = _checks.positive_int(out_feats, "out_feats")
        self._norm = norm
        self._allow_zero_in_degree = allow_zero_in_degree
        self.weight = nn.Parameter(torch.empty(in_feats, out_feats)) if weight else None
        self.bias = nn.Parameter(torch.empty(out_feats)) if bias else None
        self._activation = activation
        self.reset_parameters()

    def reset_parameters(self):
        """Xavier-uniform :math:`W`, zero :math:`b` (Kipf's original code, and DGL)."""
        if self.weight is not None:
            nn.init.xavier_uniform_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, graph, feat, weight=None, edge_weight=None):
        """Run the layer: ``feat`` and the result as in *Shapes*. ``weight``: an external :math:`W`
        for a layer built with ``weight=False``."""
        if weight is not None and self.weight is not None:
            raise ValueError(
                "an external weight was given but the layer has its own: build it with weight=False"
            )
        own = self.weight if self.weight is not None else self.bias  # dtype and device to match
        g, h_src, _ = _checks.split_features(
            graph, feat, (self._in_feats, self._in_feats), own, uses_dst=False, extra_dims=True
        )
        W = self.weight
        if weight is not None:  # an external W, as DGL's forward takes it
            shape = (self._in_feats, self._out_feats)
            W = _checks.tensor_like(
                weight, "weight", shape, f"(in_feats, out_feats) = {shape}", h_src
            )
        if W is None and self.bias is not None and self._in_feats != self._out_feats:
            raise ValueError(
                f"without a weight the features keep their {self._in_feats} columns, but the bias "
                f"has out_feats={self._out_feats}: pass weight=, or build with bias=False"
            )
        _checks.in_degrees_positive(g, self._allow_zero_in_degree)
        edge_weight = _checks.edge_weights(g, edge_weight, h_src)
        c = edge_norm(g, self._norm, h_src.dtype, edge_weight)  # c_ji

        def aggregate(h):  # sum_j c_ji h_j; the ops take (N, F), so extra dims * join the features
            return ops.u_mul_e_sum(g, h.flatten(1), c).view(g.num_dst_nodes, *h.shape[1:])

        # A(HW) = (AH)W: multiply by W on the narrower side of the sum (DGL's rule):
        # the sum moves fewer numbers, and needs no backward when feat needs no gradient.
        if W is not None and self._in_feats > self._out_feats:
            rst = aggregate(h_src @ W)  # sum_j c_ji h_j W
        else:
            rst = aggregate(h_src)  # sum_j c_ji h_j
            rst = rst if W is None else rst @ W  # (...) W
        if self.bias is not None:
            rst = rst.add_(self.bias)  # + b (in place: no new N x F)
        if self._activation is not None:
            rst = self._activation(rst)  # sigma(...)
        return rst
