r"""The GPS layer: local message passing plus global attention over each graph
(Rampášek et al., 2022)."""

from __future__ import annotations

import torch
from torch import nn

from . import _checks

NORMS = {"batch_norm": nn.BatchNorm1d, "layer_norm": nn.LayerNorm, None: None}


def _norm(kind, channels: int):
    if kind not in NORMS:
        raise ValueError(f"norm must be one of {list(NORMS)}, got {kind!r}")
    return None if kind is None else NORMS[kind](channels)


def _graph_ids(batch, num_nodes: int, device) -> torch.Tensor:
    """``batch`` checked: one non-negative integer graph id per node; ``None`` means one graph."""
    if batch is None:
        return torch.zeros(num_nodes, dtype=torch.int64, device=device)
    if not isinstance(batch, torch.Tensor):
        raise TypeError(f"batch must be a torch.Tensor of graph ids, got {type(batch).__name__}")
    if batch.dtype == torch.bool or batch.is_floating_point() or batch.is_complex():
        raise TypeError(f"batch must hold integer graph ids, got dtype {batch.dtype}")
    if batch.shape != (num_nodes,):
        raise ValueError(
            f"batch must have shape ({num_nodes},), one graph id per node, got {tuple(batch.shape)}"
        )
    if batch.device != device:
        raise ValueError(f"batch is on {batch.device} but the features are on {device}")
    if num_nodes and int(batch.min()) < 0:
        raise ValueError(
            f"batch holds graph ids, which cannot be negative (found {int(batch.min())})"
        )
    return batch


class GPSLayer(nn.Module):
    r"""One GPS layer, as PyG's ``GPSConv`` with multi-head attention (chapter "From
    masked to full attention").

    With a local layer :math:`\mathrm{MPNN}` (any gnnbook layer; its heads are concatenated) and
    :math:`\mathrm{MHA}`, multi-head attention among the nodes *of the same graph* only:

    .. math::
        h^{L} = \mathrm{Norm}_1\big(h + \mathrm{MPNN}(G, h)\big), \qquad
        h^{G} = \mathrm{Norm}_2\big(h + \mathrm{MHA}(h)\big), \qquad
        h' = \mathrm{Norm}_3\big(h^{L} + h^{G} + \mathrm{MLP}(h^{L} + h^{G})\big)

    where :math:`\mathrm{MLP}` is ``Linear(C, 2C)``, the activation, ``Linear(2C, C)`` (dropout
    after each ``Linear`` and after the local and global outputs). Without a local layer
    (``conv=None``) :math:`h^L` is left out. A batch of graphs is one graph with several components
    plus a ``batch`` vector of graph ids: each graph's nodes attend to each other
    and to nothing else.

    Parameters have the names of PyG's ``GPSConv`` (``conv``, ``attn``, ``mlp``, ``norm1..3``);
    :func:`gnnbook.compat.to_pyg` / ``from_pyg`` convert (PyG's ``BatchNorm`` wraps the
    ``BatchNorm1d``, and its ``layer_norm`` must be ``mode='node'``).

    Args:
        channels: :math:`C`, the width of input and output.
        conv: the local layer, called as ``conv(graph, feat, **kwargs)``; its output, heads
            flattened, must be ``(N, C)``. ``None`` for attention only.
        num_heads: heads of the global attention (``C`` must be divisible by it).
        dropout: dropout on the local and global outputs and in the MLP.
        act: the MLP's activation module (default ``torch.nn.ReLU()``).
        norm: ``"batch_norm"`` (PyG's default), ``"layer_norm"`` (per node) or ``None``.
        attn_drop: dropout on the global attention weights.

    Shapes:
        ``feat`` ``(N, C)``, ``batch`` ``(N,)`` integer graph ids (any order; ``None``: one graph)
        -> ``(N, C)``.

    Examples:
        >>> import torch
        >>> from gnnbook import Graph
        >>> from gnnbook.nn import GATConv, GPSLayer
        >>> g = Graph(torch.tensor([0, 1, 2, 3, 4]), torch.tensor([1, 0, 2, 4, 3]), 5)  # two graphs
        >>> layer = GPSLayer(8, GATConv(8, 4, num_heads=2), num_heads=2).eval()
        >>> layer(g, torch.randn(5, 8), batch=torch.tensor([0, 0, 0, 1, 1])).shape
        torch.Size([5, 8])
    """

    def __init__(
        self,
        channels,
        conv=None,
        num_heads=1,
        dropout=0.0,
        act=None,
        norm="batch_norm",
        attn_drop=0.0,
    ):
        super().__init__()
        self.channels = _checks.positive_int(channels, "channels")
        num_heads = _checks.positive_int(num_heads, "num_heads")
        if channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if conv is not None and not isinstance(conv, nn.Module):
            raise TypeError(
                "conv must be a torch.nn.Module (a gnnbook layer) or None, got "
                f"{type(conv).__name__}"
            )
        self.conv = conv
        self.attn = nn.MultiheadAttention(
            channels,
            num_heads,
            dropout=_checks.probability(attn_drop, "attn_drop"),
            batch_first=True,
        )
        p = _checks.probability(dropout, "dropout")
        self.mlp = nn.Sequential(
            nn.Linear(channels, 2 * channels),
            nn.ReLU() if act is None else act,
            nn.Dropout(p),
            nn.Linear(2 * channels, channels),
            nn.Dropout(p),
        )
        self.dropout = nn.Dropout(p)
        self.norm_type = norm
        self.norm1, self.norm2, self.norm3 = (_norm(norm, channels) for _ in range(3))
        # Every part is initialised by its constructor; the given conv keeps the weights it has.

    def reset_parameters(self):
        """The local layer's own reset, ``MultiheadAttention``'s, ``Linear``'s, and unit norms."""
        if self.conv is not None:
            self.conv.reset_parameters()
        self.attn._reset_parameters()
        for module in (self.mlp[0], self.mlp[3], self.norm1, self.norm2, self.norm3):
            if module is not None:
                module.reset_parameters()

    def global_attention(self, feat: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        """:math:`\\mathrm{MHA}(h)` within each graph: the nodes are laid out as a padded
        ``(graphs, largest graph, C)`` tensor whose padding is masked out of every softmax."""
        if feat.shape[0] == 0:
            return feat.clone()
        _, graph, sizes = torch.unique(batch, return_inverse=True, return_counts=True)  # ids 0..B-1
        order = torch.argsort(graph, stable=True)  # nodes grouped by graph
        graph = graph[order]
        starts = torch.cumsum(sizes, 0) - sizes
        slot = (
            torch.arange(feat.shape[0], device=feat.device) - starts[graph]
        )  # position inside its graph
        longest = int(sizes.max())
        dense = feat.new_zeros(sizes.numel(), longest, feat.shape[1])
        dense[graph, slot] = feat[order]
        present = torch.zeros(sizes.numel(), longest, dtype=torch.bool, device=feat.device)
        present[graph, slot] = True
        out, _ = self.attn(dense, dense, dense, key_padding_mask=~present, need_weights=False)
        h = torch.empty_like(feat)
        h[order] = out[graph, slot]
        return h

    def forward(self, graph, feat, batch=None, **conv_kwargs):
        """``feat``: (N, channels); ``batch``: (N,) graph ids or ``None``; ``conv_kwargs`` go to the
        local layer (e.g. ``edge_feat``). Returns (N, channels)."""
        g, h, _ = _checks.split_features(
            graph, feat, (self.channels, self.channels), self.mlp[0].weight
        )
        g.require_homogeneous("GPSLayer")
        batch = _graph_ids(batch, g.num_nodes, h.device)
        parts = []
        if self.conv is not None:
            local = self.conv(g, h, **conv_kwargs).flatten(1)
            if local.shape != h.shape:
                raise ValueError(
                    f"the local layer's output, heads flattened, has shape {tuple(local.shape)}; "
                    f"GPSLayer needs ({h.shape[0]}, {self.channels})"
                )
            parts.append(self._norm(self.norm1, h + self.dropout(local)))  # h^L
        parts.append(
            self._norm(self.norm2, h + self.dropout(self.global_attention(h, batch)))
        )  # h^G
        out = sum(parts)
        return self._norm(self.norm3, out + self.mlp(out))

    @staticmethod
    def _norm(norm, x):
        return x if norm is None else norm(x)
