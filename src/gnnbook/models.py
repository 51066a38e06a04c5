r"""The models and training protocol of Platonov et al. (ICLR 2023), "A Critical Look at the
Evaluation of GNNs under Heterophily", built from :mod:`gnnbook.nn`, for
chapter "When attention helps and when it cannot".

Every model is the same stack around a different graph layer. The input is projected,
:math:`h^{(0)} = \mathrm{GELU}(\mathrm{Dropout}(x W_{\mathrm{in}} + b_{\mathrm{in}}))`, then each of
``num_layers`` residual blocks adds a feed-forward part fed by the graph layer,

.. math::

    h^{(\ell+1)} = h^{(\ell)} + \mathrm{Dropout}\Big(\mathrm{GELU}\big(\mathrm{Dropout}(
        m(\mathcal{G}, \mathrm{LN}(h^{(\ell)}))\big)\big) W_2 + b_2\Big),

where :math:`\mathrm{LN}` is LayerNorm and :math:`m` maps the normalised features to the
feed-forward part's hidden width (first weight :math:`W_1` included):

===========  =======================================================================================
ResNet       :math:`m_i = \tilde h_i W_1 + b_1` (no graph: an MLP with residuals)
GCN          :math:`m_i = \sum_{j \in N(i) \cup \{i\}} \tilde h_j W_1 / \sqrt{d_i d_j} + b_1`
             (:class:`~gnnbook.nn.GraphConv` on the graph with self-loops)
SAGE         :math:`m_i = \tilde h_i W_{\mathrm{self}} + \mathrm{mean}_{j \in N(i)} \tilde h_j\,
             W_{\mathrm{neigh}} + b_1` (:class:`~gnnbook.nn.SAGEConv`, mean): the node's own
             features and the neighbours' mean are kept apart
GAT          :math:`m_i = \big\Vert_{k} \sum_{j \in N(i) \cup \{i\}} \alpha^{k}_{ij} W^{k}
             \tilde h_j\; W_1 + b_1` (:class:`~gnnbook.nn.GATConv`, heads of width
             ``hidden / heads``, self-loops)
GAT-sep      :math:`m_i = [\tilde h_i \,\Vert\, \mathrm{GAT}_i]\, W_1 + b_1`, attention over
             :math:`N(i)` only: the node's own representation kept apart from
             the neighbours' aggregate
GATv2(-sep)  the same with :class:`~gnnbook.nn.GATv2Conv` (not in the paper: added by this book)
===========  =======================================================================================

Two differences from the paper's code, both in the attention models: there each head's score is
a linear function of the whole projected vector, here (as in DGL's ``GATConv``) of the head's own
slice; and GAT-sep concatenates the projected own features, here the unprojected ones (a linear map
that :math:`W_1` can absorb). A final LayerNorm
and linear layer give one logit per node for two classes (binary cross-entropy, scored by ROC-AUC),
else one per class (cross-entropy, accuracy). :func:`train_split` is the protocol: Adam, a fixed
number of full-batch steps, the test score taken at the step with the best validation score.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .measures import roc_auc
from .nn import GATConv, GATv2Conv, GraphConv, SAGEConv

__all__ = ["MODELS", "PUBLISHED", "HeterophilyNet", "SplitResult", "train_split"]

MODELS = ("ResNet", "GCN", "SAGE", "GAT", "GAT-sep", "GATv2", "GATv2-sep")
_SELF_LOOPS = {
    "GCN",
    "GAT",
    "GATv2",
}  # as in the paper's code: the "-sep" models and SAGE attend to N(i) only

# Test ROC-AUC (%) over the 10 splits, mean and std, as the paper's table has them (Platonov et al.
# 2023): a row per model, (mean, std) on minesweeper, then on tolokers.
_PAPER_TABLE = (
    ("ResNet", (50.89, 1.39), (72.95, 1.06)),
    ("GCN", (89.75, 0.52), (83.64, 0.67)),
    ("SAGE", (93.51, 0.57), (82.43, 0.44)),
    ("GAT", (92.01, 0.68), (83.70, 0.47)),
    ("GAT-sep", (93.91, 0.35), (83.78, 0.43)),
)
PUBLISHED = {
    name: {model: scores[column] for model, *scores in _PAPER_TABLE}
    for column, name in enumerate(("minesweeper", "tolokers"))
}


class _Dense(nn.Linear):
    """A linear map that ignores the graph: ResNet's :math:`m`."""

    def forward(self, graph, h):
        return super().forward(h)


class _Attention(nn.Module):
    """Multi-head attention over the neighbours, heads concatenated, then :math:`W_1`; with
    ``separate`` the node's own features are concatenated before :math:`W_1` (the "-sep" models)."""

    def __init__(self, conv_class, dim: int, width: int, heads: int, separate: bool):
        super().__init__()
        if dim % heads:
            raise ValueError(f"hidden must be a multiple of heads, got hidden={dim}, heads={heads}")
        self.conv = conv_class(dim, dim // heads, heads, allow_zero_in_degree=separate, bias=False)
        self.separate = separate
        self.fc = nn.Linear(2 * dim if separate else dim, width)

    def forward(self, graph, h):
        message = self.conv(graph, h).flatten(1)  # (N, heads * dim / heads)
        return self.fc(torch.cat([h, message], dim=1) if self.separate else message)


def _graph_part(model: str, dim: int, width: int, heads: int) -> nn.Module:
    if model == "ResNet":
        return _Dense(dim, width)
    if model == "GCN":
        return GraphConv(dim, width, norm="both")
    if model == "SAGE":
        return SAGEConv(dim, width, "mean")
    conv = GATv2Conv if model.startswith("GATv2") else GATConv
    return _Attention(conv, dim, width, heads, separate=model.endswith("-sep"))


class _ResidualBlock(nn.Module):
    def __init__(self, model: str, dim: int, width: int, heads: int, dropout: float):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.graph_part = _graph_part(model, dim, width, heads)  # m, W_1 included
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(width, dim)  # W_2

    def forward(self, graph, h):
        m = self.graph_part(graph, self.norm(h))
        return h + self.dropout(self.fc(F.gelu(self.dropout(m))))


class HeterophilyNet(nn.Module):
    r"""One of :data:`MODELS` in the residual, LayerNorm'd form of Platonov et al. (2023); the
    equations are in this module's docstring. The paper's defaults: ``hidden=512``,
    ``hidden_multiplier=1`` (the feed-forward width is ``hidden * hidden_multiplier``), ``heads=8``,
    ``dropout=0.2``, ``num_layers`` from 1 to 5. Called as ``model(graph, features)``; returns
    ``(N,)`` logits for ``num_classes == 2``, else ``(N, num_classes)``. The graph is the undirected
    one of :func:`gnnbook.datasets.load_heterophilous`; GCN, GAT and GATv2 add self-loops to it
    (built once per graph, in its cache).
    """

    def __init__(
        self,
        model: str,
        in_feats: int,
        num_classes: int,
        *,
        hidden: int = 512,
        num_layers: int = 2,
        heads: int = 8,
        dropout: float = 0.2,
        hidden_multiplier: float = 1.0,
    ):
        super().__init__()
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")
        if num_layers < 0:
            raise ValueError(f"num_layers must be non-negative, got {num_layers}")
        self.model = model
        self.input = nn.Linear(in_feats, hidden)
        self.dropout = nn.Dropout(dropout)
        width = int(hidden * hidden_multiplier)
        self.blocks = nn.ModuleList(
            _ResidualBlock(model, hidden, width, heads, dropout) for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(hidden)
        self.output = nn.Linear(hidden, 1 if num_classes == 2 else num_classes)

    def forward(self, graph, features):
        if self.model in _SELF_LOOPS:
            graph = graph.cached("with_self_loops", graph.add_self_loops)
        h = F.gelu(self.dropout(self.input(features)))
        for block in self.blocks:
            h = block(graph, h)
        return self.output(self.norm(h)).squeeze(-1)


def _score(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """ROC-AUC of the one logit (two classes), else accuracy."""
    if logits.dim() == 1:
        return roc_auc(logits, labels)
    return (logits.argmax(-1) == labels).double().mean().item()


@dataclass
class SplitResult:
    """What :func:`train_split` saw: the best validation score, the test score at that step."""

    val: float
    test: float
    best_step: int  # 1-based
    steps: int
    seconds: float


def train_split(
    model: HeterophilyNet,
    data,
    *,
    steps: int = 1000,
    lr: float = 3e-5,
    eval_every: int = 1,
    seed: int | None = 0,
) -> SplitResult:
    r"""Train ``model`` on ``data`` (a :class:`gnnbook.datasets.NodeDataset`: one split) as the
    paper does: full batch, Adam with learning rate ``lr`` and no weight decay,
    ``steps`` steps, minimising

    .. math::

        \mathcal{L} = -\frac{1}{|V_{\mathrm{train}}|} \sum_{i \in V_{\mathrm{train}}}
        \big( y_i \log \sigma(z_i) + (1 - y_i) \log(1 - \sigma(z_i)) \big)

    for two classes (cross-entropy over the classes otherwise). Every ``eval_every`` steps (and at
    the last) the model is scored in eval mode (no dropout) on validation and test: ROC-AUC for two
    classes, accuracy otherwise. Returns the best validation score and the test score of that step
    (the paper evaluates every step). ``seed`` fixes the dropout masks; seed before building the
    model to fix its initial weights. Used in chapter "When attention helps and
    when it cannot" and ``bench/reproduce_heterophily.py``.
    """
    if steps < 1 or eval_every < 1:
        raise ValueError(
            f"steps and eval_every must be positive, got steps={steps}, eval_every={eval_every}"
        )
    if seed is not None:
        torch.manual_seed(seed)
    binary = model.output.out_features == 1
    labels = data.labels.float() if binary else data.labels
    loss_fn = F.binary_cross_entropy_with_logits if binary else F.cross_entropy
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    best = SplitResult(val=-1.0, test=float("nan"), best_step=0, steps=steps, seconds=0.0)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        model.train()
        optimizer.zero_grad()
        logits = model(data.graph, data.features)
        loss_fn(logits[data.train_mask], labels[data.train_mask]).backward()
        optimizer.step()
        if step % eval_every == 0 or step == steps:
            model.eval()
            with torch.no_grad():
                logits = model(data.graph, data.features)
            val = _score(logits[data.val_mask], data.labels[data.val_mask])
            if val > best.val:
                test = _score(logits[data.test_mask], data.labels[data.test_mask])
                best = SplitResult(val=val, test=test, best_step=step, steps=steps, seconds=0.0)
    best.seconds = time.perf_counter() - start
    return best
