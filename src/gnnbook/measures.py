r"""How much a graph's edges say about its labels, and how well scores rank two classes: the
measures chapter "When attention helps and when it cannot" puts beside each benchmark,
and the Dirichlet energy it follows through deep stacks.

The graph measures follow Platonov et al. (2023), "Characterizing Graph Datasets for Node
Classification: Homophily–Heterophily Dichotomy and Beyond" (NeurIPS 2023). They are defined for an
undirected graph :math:`G = (V, E)`; a :class:`gnnbook.Graph` holds it as a list of directed edges
with every edge in both directions (as the loaders of :mod:`gnnbook.datasets` build it). Counting
over that list counts every undirected edge twice, once per direction, which leaves every ratio
below unchanged: :math:`2|E|` is the number of directed edges, and the degree :math:`d(v)` is the
number leaving ``v``. All of them are computed from one table, the class-pair counts

.. math::

    M_{c_1 c_2} = \big|\{(u \to v) : y_u = c_1,\ y_v = c_2\}\big|,
    \qquad \sum_{c_1, c_2} M_{c_1 c_2} = 2|E|.
"""

from __future__ import annotations

import torch

from .graph import Graph

__all__ = [
    "adjusted_homophily",
    "dirichlet_energy",
    "edge_homophily",
    "label_informativeness",
    "roc_auc",
]


def _require_graph(graph, what: str) -> None:
    if not isinstance(graph, Graph):
        raise TypeError(f"{what}: graph must be a gnnbook.Graph, got {type(graph).__name__}")


def _class_pairs(graph: Graph, labels, what: str, *, undirected: bool) -> torch.Tensor:
    """The float64 matrix :math:`M` above, after checking ``graph`` and ``labels``."""
    _require_graph(graph, what)
    graph.require_homogeneous(what)
    labels = torch.as_tensor(labels)
    if labels.dtype == torch.bool or labels.is_floating_point() or labels.is_complex():
        raise TypeError(f"{what}: labels must be integer class ids, got dtype {labels.dtype}")
    if labels.shape != (graph.num_nodes,):
        raise ValueError(
            f"{what}: labels must have shape ({graph.num_nodes},), one per node, got "
            f"{tuple(labels.shape)}"
        )
    if labels.numel() and labels.min() < 0:
        raise ValueError(f"{what}: labels must be non-negative class ids, got {int(labels.min())}")
    if graph.num_edges == 0:
        raise ValueError(f"{what}: the graph has no edges, so the measure is undefined")
    src, dst = graph.src.cpu(), graph.dst.cpu()
    if undirected:
        n = graph.num_nodes
        forward, backward = (src * n + dst).sort().values, (dst * n + src).sort().values
        if not torch.equal(forward, backward):
            raise ValueError(
                f"{what} is defined for undirected graphs: the graph must hold every edge u→v "
                f"together with v→u (the gnnbook.datasets loaders build graphs that way)"
            )
    labels = labels.cpu().long()
    num_classes = int(labels.max()) + 1
    pair = labels[src] * num_classes + labels[dst]
    return torch.bincount(pair, minlength=num_classes**2).reshape(num_classes, num_classes).double()


def edge_homophily(graph: Graph, labels) -> float:
    r"""The fraction of edges whose two ends share a label (Zhu et al. 2020),

    .. math::

        h_{\mathrm{edge}} = \frac{|\{\{u, v\} \in E : y_u = y_v\}|}{|E|}
        = \frac{\operatorname{tr} M}{\sum_{c_1, c_2} M_{c_1 c_2}}.

    Counted over the edge list as given, so it also takes a directed graph. Used in
    chapter "When attention helps and when it cannot".
    """
    pairs = _class_pairs(graph, labels, "edge_homophily", undirected=False)
    return float(pairs.trace() / pairs.sum())


def adjusted_homophily(graph: Graph, labels) -> float:
    r"""Edge homophily corrected for what degrees and class sizes give by chance
    (Platonov et al. 2023),

    .. math::

        h_{\mathrm{adj}} = \frac{h_{\mathrm{edge}} - \sum_{k} \bar p(k)^2}{1 - \sum_{k} \bar
        p(k)^2}, \qquad \bar p(k) = \frac{D_k}{2|E|} = \frac{\sum_{v : y_v = k} d(v)}{2|E|}.

    :math:`\sum_k \bar p(k)^2` is the edge homophily expected when edges ignore labels (each end's
    class drawn from the degree-weighted distribution :math:`\bar p`), so 0 means "no more
    same-class edges than chance", 1 all edges within classes, and negative values fewer than
    chance. Needs an undirected graph (every edge in both directions) whose edges touch at least two
    classes. Used in
    chapter "When attention helps and when it cannot".
    """
    pairs = _class_pairs(graph, labels, "adjusted_homophily", undirected=True)
    total = pairs.sum()
    chance = ((pairs.sum(1) / total) ** 2).sum()
    if chance >= 1:
        raise ValueError("adjusted_homophily is undefined when every edge joins nodes of one class")
    return float((pairs.trace() / total - chance) / (1 - chance))


def label_informativeness(graph: Graph, labels) -> float:
    r"""How much a neighbour's label tells about a node's label: edge label informativeness
    (Platonov et al. 2023). Draw an edge :math:`(\xi, \eta)` uniformly from the :math:`2|E|`
    directed edges; :math:`\mathrm{LI}` is the share of the entropy of :math:`y_\xi` that
    :math:`y_\eta` removes,

    .. math::

        \mathrm{LI} = \frac{I(y_\xi; y_\eta)}{H(y_\xi)}
        = 2 - \frac{\sum_{c_1, c_2} p(c_1, c_2) \log p(c_1, c_2)}{\sum_{c} \bar p(c) \log \bar
        p(c)}, \qquad p(c_1, c_2) = \frac{M_{c_1 c_2}}{2|E|},

    with :math:`\bar p` the degree-weighted class distribution of :func:`adjusted_homophily` (both
    marginals of :math:`p`). 0 when labels and edges are independent, 1 when a neighbour's label
    determines the node's, whether edges join equal labels or always the same two different ones.
    Needs an undirected graph whose edges touch at least two classes. Used in
    chapter "When attention helps and when it cannot".
    """
    pairs = _class_pairs(graph, labels, "label_informativeness", undirected=True)
    joint = pairs / pairs.sum()
    marginal = joint.sum(1)
    entropy_one = -torch.special.xlogy(marginal, marginal).sum()
    if entropy_one <= 0:
        raise ValueError(
            "label_informativeness is undefined when every edge joins nodes of one class"
        )
    entropy_pair = -torch.special.xlogy(joint, joint).sum()
    return float(2 - entropy_pair / entropy_one)


def roc_auc(scores, targets) -> float:
    r"""Area under the ROC curve of ``scores`` for the binary ``targets`` (1 positive, 0 negative):
    the probability that a random positive outscores a random negative, ties counting one half,

    .. math::

        \mathrm{AUC} = \frac{1}{n_+ n_-} \sum_{i : t_i = 1} \sum_{j : t_j = 0}
        \Big( [s_i > s_j] + \tfrac12 [s_i = s_j] \Big)
        = \frac{R_+ - n_+ (n_+ + 1) / 2}{n_+ n_-},

    where :math:`R_+` sums the ranks (1 = lowest score, tied scores sharing their mean rank) of the
    positives: the Mann–Whitney form, :math:`O(n \log n)`. The metric of the two-class benchmarks
    (minesweeper, tolokers) in chapter "When attention helps and when it cannot".
    """
    scores, targets = (
        torch.as_tensor(scores).detach().flatten().cpu(),
        torch.as_tensor(targets).flatten().cpu(),
    )
    if scores.shape != targets.shape:
        raise ValueError(
            f"scores and targets must have the same length, got {scores.numel()} and "
            f"{targets.numel()}"
        )
    if not scores.is_floating_point():
        raise TypeError(f"scores must be floating point, got dtype {scores.dtype}")
    if scores.isnan().any():
        raise ValueError("scores contain NaN, so they cannot be ranked")
    positive = targets.bool()
    if not torch.equal(positive.long(), targets.long()) or targets.is_complex():
        raise ValueError("targets must be 0 (negative) or 1 (positive)")
    n_pos = int(positive.sum())
    n_neg = positive.numel() - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(
            f"ROC-AUC needs both classes among targets, got {n_pos} positive and {n_neg} negative"
        )
    ordered, order = scores.double().sort()
    _, inverse, counts = torch.unique_consecutive(ordered, return_inverse=True, return_counts=True)
    last = counts.cumsum(0).double()  # 1-based rank of each group of ties' last member
    mean_rank = (last - (counts - 1) / 2)[inverse]
    rank_sum = mean_rank[positive[order]].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def dirichlet_energy(graph: Graph, h: torch.Tensor) -> torch.Tensor:
    r"""How much node representations still differ across edges: the Dirichlet energy
    (as in Rusch et al. 2023's survey of over-smoothing),

    .. math::

        E(H) = \frac{1}{N} \sum_{i \in V} \sum_{j \in N(i)} \lVert h_i - h_j \rVert^2,

    summed over the edges :math:`j \to i` as the graph lists them (an undirected edge stored in both
    directions counts twice). It is 0 exactly when every edge joins equal representations, so on a
    connected graph when all rows of :math:`H` are the same: the collapse that deep stacks of
    averaging layers head for. ``h`` is ``(N, *)``: everything after the node dimension is one
    vector per node. Returns a 0-dimensional tensor in ``h``'s dtype (differentiable). Used in
    chapter "When attention helps and when it cannot", to follow the representations of deep GCN
    and GAT stacks layer by layer.
    """
    _require_graph(graph, "dirichlet_energy")
    graph.require_homogeneous("dirichlet_energy")
    if not isinstance(h, torch.Tensor) or not h.is_floating_point():
        raise TypeError("dirichlet_energy: h must be a floating-point tensor")
    if h.dim() < 1 or h.shape[0] != graph.num_nodes:
        raise ValueError(
            f"dirichlet_energy: h must have one row per node, shape ({graph.num_nodes}, ...), got "
            f"{tuple(h.shape)}"
        )
    if graph.num_nodes == 0:
        raise ValueError("dirichlet_energy: the graph has no nodes, so the mean is undefined")
    rows = h.reshape(graph.num_nodes, -1)
    src, dst = (ids.to(h.device) for ids in graph.edges(copy=False))  # read only
    return (rows[dst] - rows[src]).square().sum() / graph.num_nodes
