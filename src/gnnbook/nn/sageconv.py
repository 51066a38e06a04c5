r"""GraphSAGE: a node's own features next to an aggregate of its neighbours' (Hamilton et al.,
2017)."""

from __future__ import annotations

import torch
from torch import nn

from .. import ops
from ..graph import Graph
from . import _checks

AGGREGATORS = ("mean", "gcn", "pool", "lstm")


def _lstm_aggregate(lstm: nn.LSTM, g: Graph, h: torch.Tensor, w) -> torch.Tensor:
    """Run ``lstm`` over each destination's messages :math:`w_{ji} h_j`, in edge order; return its
    last state.

    Destinations are batched by in-degree so every sequence in a batch has the same length.
    """
    indptr, sources, eids = g.csr()
    degrees = indptr[1:] - indptr[:-1]
    out = h.new_zeros(g.num_dst_nodes, lstm.hidden_size)  # no in-edges: zeros, as in DGL
    for d in degrees.unique().tolist():
        if d == 0:
            continue
        nodes = (degrees == d).nonzero().flatten()
        positions = indptr[nodes].unsqueeze(1) + torch.arange(
            d, device=g.device
        )  # (nodes, d) in-edges
        seq = h[sources[positions]]
        if w is not None:
            seq = seq * w[eids[positions]].unsqueeze(-1)
        _, (last, _) = lstm(seq)  # state after the d-th message
        out = out.index_copy(0, nodes, last[0])
    return out


class SAGEConv(nn.Module):
    r"""GraphSAGE layer, parameter for parameter DGL 2.1's ``SAGEConv``.

    Chapter "GraphSAGE" derives it:

    .. math::
        h_{\mathcal{N}(i)} = \mathrm{AGG}_{j \in \mathcal{N}(i)}\big(w_{ji}\, h_j\big), \qquad
        h'_i = \mathrm{norm}\Big(\sigma\big(W_\mathrm{self} h_i
               + W_\mathrm{neigh} h_{\mathcal{N}(i)} + b\big)\Big)

    (the paper's :math:`W [h_i \,\|\, h_{\mathcal{N}(i)}]` with :math:`W = [W_\mathrm{self} \,|\,
    W_\mathrm{neigh}]`). AGG is 'mean'; 'pool', :math:`\max_j \mathrm{ReLU}(W_\mathrm{pool} h_j +
    b_\mathrm{pool})` element-wise; 'lstm', an LSTM run over the neighbours in edge order; or 'gcn',
    which averages :math:`h_i` in with its neighbours and has no self term:
    :math:`h'_i = \sigma\big(W_\mathrm{neigh} \frac{h_i + \sum_j w_{ji} h_j}{d^\mathrm{in}_i + 1} +
    b\big)`. :math:`w_{ji}` is the optional ``edge_weight``. Nodes without neighbours aggregate
    zeros.

    Args:
        in_feats: input width, or ``(src_width, dst_width)`` for a bipartite graph ('gcn' averages
            :math:`h_i` with its neighbours, so it reads destination features of the source width).
        out_feats: output width.
        aggregator_type: ``'mean'``, ``'gcn'``, ``'pool'`` or ``'lstm'`` (no default, as in DGL).
        feat_drop: dropout on the input features, train mode only. Default: ``0.0``.
        bias: learn :math:`b` (in ``fc_self``, or ``bias`` for 'gcn'). Default: ``True``.
        norm: a callable applied last, e.g. ``lambda h: F.normalize(h, dim=-1)``; ``None`` for none.
            Default: ``None``.
        activation: :math:`\sigma`; ``None`` for none. Default: ``None``.

    Shapes:
        - **input:** ``feat`` :math:`(N, *, D_\mathrm{in})`; on a bipartite graph the pair
          ``(feat_src, feat_dst)`` :math:`((N_\mathrm{src}, *, D_\mathrm{src}), (N_\mathrm{dst}, *,
          D_\mathrm{dst}))`; on a DGL block one tensor :math:`(N_\mathrm{src}, *, D_\mathrm{in})`
          whose first :math:`N_\mathrm{dst}` rows are the destinations. The extra dimensions
          :math:`*` only with 'mean' and 'pool' (as in DGL). ``edge_weight`` :math:`(E,)`.
        - **output:** :math:`(N_\mathrm{dst}, *, D_\mathrm{out})`.

    Examples:
        >>> import torch
        >>> from gnnbook import graphs, nn
        >>> g = graphs.toy_graph()                                   # 6 nodes, 14 edges
        >>> nn.SAGEConv(4, 2, "mean")(g, torch.randn(6, 4)).shape
        torch.Size([6, 2])
        >>> nn.SAGEConv(4, 2, "pool")(g, torch.randn(6, 4), edge_weight=torch.rand(14)).shape
        torch.Size([6, 2])
    """

    def __init__(
        self,
        in_feats,
        out_feats,
        aggregator_type,
        feat_drop=0.0,
        bias=True,
        norm=None,
        activation=None,
    ):
        super().__init__()
        if aggregator_type not in AGGREGATORS:
            raise ValueError(
                f"aggregator_type must be one of {AGGREGATORS}, got {aggregator_type!r}"
            )
        self._in_src_feats, self._in_dst_feats = _checks.feature_pair(in_feats)
        self._out_feats = _checks.positive_int(out_feats, "out_feats")
        self._aggre_type = aggregator_type
        self.norm = norm
        self.feat_drop = nn.Dropout(_checks.probability(feat_drop, "feat_drop"))
        self.activation = activation
        if aggregator_type == "pool":
            self.fc_pool = nn.Linear(self._in_src_feats, self._in_src_feats)
        if aggregator_type == "lstm":
            self.lstm = nn.LSTM(self._in_src_feats, self._in_src_feats, batch_first=True)
        self.fc_neigh = nn.Linear(self._in_src_feats, out_feats, bias=False)
        if aggregator_type == "gcn":
            # 'gcn' has no W_self, so its bias stands alone.
            self.bias = nn.Parameter(torch.zeros(out_feats)) if bias else None
        else:
            self.fc_self = nn.Linear(self._in_dst_feats, out_feats, bias=bias)
        self.reset_parameters()

    def reset_parameters(self):
        """Xavier-uniform weights with ReLU gain; biases keep ``nn.Linear``'s init (DGL's
        scheme)."""
        gain = nn.init.calculate_gain("relu")
        if self._aggre_type == "pool":
            nn.init.xavier_uniform_(self.fc_pool.weight, gain=gain)
        if self._aggre_type == "lstm":
            self.lstm.reset_parameters()
        if self._aggre_type != "gcn":
            nn.init.xavier_uniform_(self.fc_self.weight, gain=gain)
        nn.init.xavier_uniform_(self.fc_neigh.weight, gain=gain)

    def _aggregate(self, g: Graph, h_src, h_dst, w):
        """:math:`h_{\\mathcal{N}(i)}`, already multiplied by :math:`W_\\mathrm{neigh}`."""

        def per_destination(op, h):  # the ops take (N, F): extra dims * join the features
            return op(g, h.flatten(1), w).view(g.num_dst_nodes, *h.shape[1:])

        if self._aggre_type == "pool":
            pooled = per_destination(
                ops.u_mul_e_max, torch.relu(self.fc_pool(h_src))
            )  # max_j ReLU(W_pool h_j + b)
            return self.fc_neigh(pooled)
        if self._aggre_type == "lstm":
            return self.fc_neigh(_lstm_aggregate(self.lstm, g, h_src, w))
        # W_neigh is linear, so it can go before the sum: W sum_j h_j = sum_j W h_j
        # (cheaper when it narrows).
        first = self._in_src_feats > self._out_feats
        project = self.fc_neigh if first else nn.Identity()
        total = per_destination(ops.u_mul_e_sum, project(h_src))  # sum_j w_ji h_j
        deg = g.in_degrees().to(total).view(-1, *[1] * (total.dim() - 1))
        if self._aggre_type == "mean":
            h_n = total.div_(deg.clamp(min=1))  # / d_i (in place: a large tensor)
        else:
            h_n = (total + project(h_dst)) / (deg + 1)  # (h_i + sum_j w_ji h_j) / (d_i + 1)
        return h_n if first else self.fc_neigh(h_n)

    def forward(self, graph, feat, edge_weight=None):
        """Run the layer: ``feat`` and the result as in *Shapes*."""
        gcn = self._aggre_type == "gcn"
        widths = (self._in_src_feats, self._in_src_feats if gcn else self._in_dst_feats)
        g, h_src, h_dst = _checks.split_features(
            graph,
            feat,
            widths,
            self.fc_neigh.weight,
            self.feat_drop,
            extra_dims=self._aggre_type in ("mean", "pool"),
        )
        edge_weight = _checks.edge_weights(g, edge_weight, h_src)
        rst = self._aggregate(g, h_src, h_dst, edge_weight)  # W_neigh h_N(i)
        if gcn:
            rst = rst if self.bias is None else rst + self.bias  # + b
        else:
            rst = self.fc_self(h_dst).add_(rst)  # W_self h_i + b + ... (in place)
        if self.activation is not None:
            rst = self.activation(rst)  # sigma(...)
        if self.norm is not None:
            rst = self.norm(rst)  # norm(...)
        return rst
