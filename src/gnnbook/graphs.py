"""Small named graphs the chapters work on. Undirected ones hold both directions of each edge."""

from __future__ import annotations

import networkx as nx
import torch

from .graph import Graph, node_count


def undirected(pairs, num_nodes: int) -> Graph:
    r"""A graph holding :math:`u \to v` and :math:`v \to u` for every undirected edge
    :math:`\{u, v\}` in ``pairs``: first each pair as given, then each turned around. Chapter
    "When attention helps and when it cannot" builds its hand-checked graphs with it."""
    src = [u for u, v in pairs] + [v for u, v in pairs]
    dst = [v for u, v in pairs] + [u for u, v in pairs]
    return Graph(
        torch.tensor(src, dtype=torch.int64), torch.tensor(dst, dtype=torch.int64), num_nodes
    )


def toy_graph() -> Graph:
    """The book's running example, six nodes: node 0 is updated from its neighbours 2, 3, 4 and 5.

    Undirected edges 0-2, 0-3, 0-4, 0-5, 1-2, 1-5, 3-4 (each stored in both directions, so every
    node has at least one in-neighbour). Used from chapter "Graphs as tensors" onwards.
    """
    return undirected([(0, 2), (0, 3), (0, 4), (0, 5), (1, 2), (1, 5), (3, 4)], 6)


def path_graph(num_nodes: int) -> Graph:
    """``0 - 1 - ... - (n-1)``, both directions (no edges for 0 or 1 node)."""
    num_nodes = node_count(num_nodes, "num_nodes")
    return undirected([(i, i + 1) for i in range(num_nodes - 1)], num_nodes)


def star_graph(num_leaves: int) -> Graph:
    """A hub, node 0, joined to leaves ``1..num_leaves``, both directions (just
    the hub for 0 leaves)."""
    num_leaves = node_count(num_leaves, "num_leaves")
    return undirected([(0, i) for i in range(1, num_leaves + 1)], num_leaves + 1)


def karate_club() -> Graph:
    """Zachary's karate club (34 members, 78 friendships), both directions, from networkx."""
    return Graph.from_networkx(nx.karate_club_graph())
