"""gnnbook.measures against direct counts: loops over the undirected edges of small hand-made and
random graphs, the extremes each measure is built to show, DGL where it is installed, the paper's
values for minesweeper and tolokers, and ROC-AUC against a count over all
positive/negative pairs."""

from __future__ import annotations

import math
import random
from collections import Counter
from pathlib import Path

import pytest
import torch

from gnnbook import Graph
from gnnbook.datasets import HETEROPHILOUS_SHA256, cache_dir, load_heterophilous
from gnnbook.measures import (
    adjusted_homophily,
    dirichlet_energy,
    edge_homophily,
    label_informativeness,
    roc_auc,
)
from gnnbook.optional import optional_import

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "heterophilous"

# 8 nodes, 3 classes, degrees from 1 to 4: a hand-made graph with no symmetry to hide a mistake.
HAND_EDGES = [
    (0, 1),
    (0, 2),
    (0, 5),
    (1, 2),
    (2, 3),
    (3, 4),
    (3, 6),
    (4, 5),
    (5, 6),
    (6, 7),
    (1, 7),
]
HAND_LABELS = [0, 0, 1, 1, 2, 0, 2, 1]


def _graph(edges, num_nodes) -> Graph:
    """Both directions of every undirected edge."""
    src = [u for u, v in edges] + [v for u, v in edges]
    dst = [v for u, v in edges] + [u for u, v in edges]
    return Graph(src, dst, num_nodes)


def _by_hand(edges, labels):
    """(h_edge, h_adj, LI) counted directly from the undirected edges,
    written from the definitions."""
    same = sum(labels[u] == labels[v] for u, v in edges)
    h_edge = same / len(edges)

    degree_sum = Counter()  # D_k: the degrees of class k's nodes, added up edge end by edge end
    for u, v in edges:
        degree_sum[labels[u]] += 1
        degree_sum[labels[v]] += 1
    p_bar = {k: d / (2 * len(edges)) for k, d in degree_sum.items()}
    chance = sum(p * p for p in p_bar.values())
    h_adj = (h_edge - chance) / (1 - chance)

    ends = (
        Counter()
    )  # an edge drawn uniformly, then one of its two ends as ξ: every orientation once
    for u, v in edges:
        ends[labels[u], labels[v]] += 1
        ends[labels[v], labels[u]] += 1
    joint = {pair: count / (2 * len(edges)) for pair, count in ends.items()}
    mutual = sum(p * math.log(p / (p_bar[a] * p_bar[b])) for (a, b), p in joint.items())
    entropy = -sum(p * math.log(p) for p in p_bar.values())
    return h_edge, h_adj, mutual / entropy


def _random_case(seed):
    rng = random.Random(seed)
    n, classes = rng.randint(6, 30), rng.randint(2, 4)
    labels = [rng.randrange(classes) for _ in range(n)]
    labels[:2] = [0, 1]  # at least two classes
    pairs = [(u, v) for u in range(n) for v in range(u + 1, n) if rng.random() < 0.25]
    return (pairs or [(0, 1)]), labels, n


def _measures(g, labels):
    y = torch.as_tensor(labels)
    return edge_homophily(g, y), adjusted_homophily(g, y), label_informativeness(g, y)


def test_hand_made_graph_equals_the_direct_count():
    g = _graph(HAND_EDGES, 8)
    expected = _by_hand(HAND_EDGES, HAND_LABELS)
    assert expected[0] == pytest.approx(3 / 11)  # by eye: 0-1, 0-5 and 2-3 join equal labels
    assert _measures(g, HAND_LABELS) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_equal_the_direct_count(seed):
    edges, labels, n = _random_case(seed)
    assert _measures(_graph(edges, n), labels) == pytest.approx(_by_hand(edges, labels), abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_edge_order_and_class_names_do_not_matter(seed):
    edges, labels, n = _random_case(seed)
    g = _graph(edges, n)
    order = torch.randperm(g.num_edges, generator=torch.Generator().manual_seed(seed))
    shuffled = Graph(g.src[order], g.dst[order], n)
    renamed = [(3 * y + 1) % 7 for y in labels]  # another set of class ids, some unused
    base = _measures(g, labels)
    assert _measures(shuffled, labels) == pytest.approx(base, abs=1e-12)
    assert _measures(g, renamed) == pytest.approx(base, abs=1e-12)


def test_extremes():
    # Two cliques of one class each, joined by nothing: fully homophilous, fully informative.
    cliques = [(u, v) for block in (range(4), range(4, 8)) for u in block for v in block if u < v]
    assert _measures(_graph(cliques, 8), [0] * 4 + [1] * 4) == pytest.approx((1, 1, 1))
    # Complete bipartite between two classes: no edge within a class, yet a neighbour's label still
    # gives the node's away. Balanced degrees put chance at 1/2, so h_adj = (0 - 1/2) / (1 - 1/2).
    across = [(u, v) for u in range(3) for v in range(3, 6)]
    assert _measures(_graph(across, 6), [0] * 3 + [1] * 3) == pytest.approx((0, -1, 1))


def test_same_values_as_dgl():
    dgl = optional_import("dgl", quiet=True)
    if dgl is None or not hasattr(dgl, "edge_label_informativeness"):
        pytest.skip("DGL with the Platonov et al. measures is not installed")
    for seed in range(6):
        edges, labels, n = _random_case(seed)
        # DGL 2.1's LI is NaN when a class id has no node (0 log 0), so the
        # ids are made consecutive.
        g, y = _graph(edges, n), torch.unique(torch.tensor(labels), return_inverse=True)[1]
        reference = (
            dgl.edge_homophily(g.to_dgl(), y),
            dgl.adjusted_homophily(g.to_dgl(), y),
            dgl.edge_label_informativeness(g.to_dgl(), y),
        )
        assert _measures(g, labels) == pytest.approx(reference, abs=1e-5)  # DGL works in float32


def test_bad_input_is_named():
    g = _graph(HAND_EDGES, 8)
    y = torch.tensor(HAND_LABELS)
    one_way = Graph([u for u, v in HAND_EDGES], [v for u, v in HAND_EDGES], 8)
    assert edge_homophily(one_way, y) == pytest.approx(3 / 11)  # a plain count: any edge list
    for measure in (adjusted_homophily, label_informativeness):
        with pytest.raises(ValueError, match="undirected"):
            measure(one_way, y)
        with pytest.raises(ValueError, match="one class"):
            measure(g, torch.zeros(8, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"labels must have shape \(8,\)"):
        edge_homophily(g, y[:7])
    with pytest.raises(TypeError, match="labels must be integer"):
        edge_homophily(g, y.float())
    with pytest.raises(ValueError, match="non-negative"):
        edge_homophily(g, y - 1)
    with pytest.raises(ValueError, match="no edges"):
        edge_homophily(Graph([], [], 3), torch.zeros(3, dtype=torch.int64))
    with pytest.raises(TypeError, match="gnnbook.Graph"):
        edge_homophily((g.src, g.dst), y)


# --- the paper's table ------------------------------------------------------------------------
PAPER = {"minesweeper": (0.68, 0.01, 0.00), "tolokers": (0.59, 0.09, 0.01)}  # h_edge, h_adj, LI


@pytest.mark.parametrize("name", list(PAPER))
def test_benchmarks_match_the_papers_table(name, tmp_path):
    file = f"{name}.npz"
    folder = next((f for f in (cache_dir() / "heterophilous", SHARED) if (f / file).exists()), None)
    if folder is None:
        pytest.skip(f"{file} not found: run .ci/seed_data.sh")
    (tmp_path / "heterophilous").mkdir()
    (tmp_path / "heterophilous" / file).write_bytes((folder / file).read_bytes())
    assert file in HETEROPHILOUS_SHA256
    data = load_heterophilous(name, root=tmp_path)
    values = _measures(data.graph, data.labels)
    print(name, "h_edge, h_adj, LI =", [f"{v:.4f}" for v in values], "paper:", PAPER[name])
    assert [round(v, 2) for v in values] == list(PAPER[name])


# --- ROC-AUC -----------------------------------------------------------------------------------
def _auc_by_pairs(scores, targets):
    pos = [s for s, t in zip(scores, targets) if t == 1]
    neg = [s for s, t in zip(scores, targets) if t == 0]
    wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", range(8))
def test_roc_auc_equals_the_pair_count(seed):
    gen = torch.Generator().manual_seed(seed)
    n = int(torch.randint(4, 80, (1,), generator=gen))
    targets = torch.randint(0, 2, (n,), generator=gen)
    targets[:2] = torch.tensor([0, 1])
    scores = torch.randint(0, 6, (n,), generator=gen).float()  # few values: many ties
    if seed % 2:
        scores = scores + 0.3 * targets + torch.rand(n, generator=gen)  # informative, no ties
    assert roc_auc(scores, targets) == pytest.approx(
        _auc_by_pairs(scores.tolist(), targets.tolist()), abs=1e-12
    )


def test_roc_auc_extremes_and_errors():
    targets = torch.tensor([0, 0, 1, 1])
    assert roc_auc(torch.tensor([0.1, 0.2, 0.3, 0.4]), targets) == 1
    assert roc_auc(torch.tensor([0.4, 0.3, 0.2, 0.1]), targets) == 0
    assert roc_auc(torch.ones(4), targets) == 0.5
    with pytest.raises(ValueError, match="both classes"):
        roc_auc(torch.rand(3), torch.ones(3))
    with pytest.raises(ValueError, match="0 .negative. or 1"):
        roc_auc(torch.rand(3), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="same length"):
        roc_auc(torch.rand(3), targets)
    with pytest.raises(ValueError, match="NaN"):
        roc_auc(torch.tensor([0.1, float("nan"), 0.3, 0.4]), targets)


# --- Dirichlet energy --------------------------------------------------------------------------
def _energy_by_loop(edges, h):
    """(1/N) sum over the directed edges j -> i of ||h_i - h_j||^2, one float64 entry at a time."""
    total = 0.0
    for j, i in edges:
        total += sum((float(a) - float(b)) ** 2 for a, b in zip(h[i], h[j]))
    return total / len(h)


@pytest.mark.parametrize("seed", range(4))
def test_dirichlet_energy_equals_the_loop(seed):
    g = _graph(HAND_EDGES, 8)
    h = torch.randn(8, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    directed = list(zip(g.src.tolist(), g.dst.tolist()))
    expected = _energy_by_loop(directed, h.tolist())
    assert dirichlet_energy(g, h).item() == pytest.approx(expected, rel=1e-12)
    # (N, heads, F) is one vector per node; a one-way graph counts each edge once
    assert dirichlet_energy(g, h.view(8, 3, 1)).item() == pytest.approx(expected, rel=1e-12)
    one_way = Graph([u for u, v in HAND_EDGES], [v for u, v in HAND_EDGES], 8)
    assert dirichlet_energy(one_way, h).item() == pytest.approx(expected / 2, rel=1e-12)


def test_dirichlet_energy_extremes_and_errors():
    g = _graph(HAND_EDGES, 8)
    assert dirichlet_energy(g, torch.ones(8, 4)).item() == 0  # equal rows: nothing left
    # two ends differing by 1 in one feature: each of the 11 undirected edges counted twice
    h = torch.tensor([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0], [6.0], [7.0]])
    by_hand = 2 * sum((u - v) ** 2 for u, v in HAND_EDGES) / 8
    assert dirichlet_energy(g, h).item() == pytest.approx(by_hand)
    with pytest.raises(TypeError, match="gnnbook.Graph"):
        dirichlet_energy((g.src, g.dst), h)
    with pytest.raises(TypeError, match="floating-point"):
        dirichlet_energy(g, torch.ones(8, 2, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"one row per node, shape \(8, ...\)"):
        dirichlet_energy(g, torch.ones(7, 2))
