"""The graph every gnnbook op and layer takes: two id tensors and two node counts.

An edge ``k`` goes from source node ``src[k]`` to destination node ``dst[k]``; messages flow
along it from source to destination. Edge order is kept exactly as given, and every per-edge
output (scores, attention) follows it, as DGL's edge ids do. Chapter "Graphs as tensors, and
message passing" builds this object by hand.

A graph owns its ids: the constructor copies them, and :attr:`Graph.src`, :attr:`Graph.dst`,
:meth:`Graph.edges`, :meth:`Graph.csr` hand out copies, so changing a tensor after the fact can
never make the graph (or the sparse products, which trust it) read outside its nodes. Kernels that
only read (:mod:`gnnbook.ops`, :mod:`gnnbook._sparse`) ask for the graph's own tensors with
``copy=False`` and must never write to them.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import torch


class CSR(NamedTuple):
    """Edges grouped by destination: the in-edges of node ``v`` are positions
    ``indptr[v]:indptr[v + 1]`` of ``indices`` (their sources) and of ``eids`` (their ids)."""

    indptr: torch.Tensor
    indices: torch.Tensor
    eids: torch.Tensor


# The most nodes a graph may have: int32 indices address them (what the sparse kernels use), and
# per-node tensors of this size are already 8 GiB of int64. Split a larger graph into blocks.
MAX_NODES = 2**31 - 1


def node_count(value, name: str) -> int:
    """``value`` as a node count (a non-negative int up to :data:`MAX_NODES`), or a
    ``TypeError``/``ValueError`` naming ``name``; the check every graph builder shares."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be a non-negative integer, got {value!r} of type {type(value).__name__}"
        )
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value}")
    if value > MAX_NODES:
        raise ValueError(
            f"{name} = {value} is more nodes than a gnnbook Graph holds (at most 2**31 - 1 = "
            f"{MAX_NODES}): split the graph into blocks (subgraphs) and process them one at a time"
        )
    return int(value)


def _node_ids(ids, name: str) -> torch.Tensor:
    """``ids`` as a new contiguous int64 tensor (never the caller's memory), checked
    for type and shape."""
    if not isinstance(ids, torch.Tensor):
        if isinstance(ids, (str, bytes, dict, set)) or not hasattr(ids, "__len__"):
            raise TypeError(
                f"{name} must be a 1-D tensor or sequence of integer node ids, got "
                f"{type(ids).__name__}"
            )
        if len(ids) == 0:
            return torch.empty(0, dtype=torch.int64)  # [] would become a float tensor
        try:
            ids = torch.as_tensor(ids)
        except (RuntimeError, OverflowError, TypeError, ValueError) as error:
            if "Overflow" in str(error):  # e.g. 2**63: "Overflow when unpacking long"
                raise ValueError(
                    f"{name} holds a value that is not an int64 node id (ids lie in [0, 2**63))"
                ) from None
            raise TypeError(
                f"{name} must be a 1-D tensor or sequence of integer node ids: {error}"
            ) from None
    if ids.device.type == "meta":
        raise ValueError(
            f"{name} is on the meta device, which holds no values: build the graph from real ids"
        )
    if ids.dtype == torch.bool or ids.is_floating_point() or ids.is_complex():
        raise TypeError(f"{name} must hold integer node ids, got dtype {ids.dtype}")
    if ids.dim() != 1:
        raise ValueError(f"{name} must be a 1-D tensor of node ids, got shape {tuple(ids.shape)}")
    copy = ids.to(torch.int64, memory_format=torch.contiguous_format, copy=True)
    wide_unsigned = ids.dtype not in (
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.uint8,
    )
    if wide_unsigned and bool((copy < 0).any()):  # uint64 (torch >= 2.3): ids >= 2**63 wrap around
        raise ValueError(
            f"{name} holds an id >= 2**63, not an int64 node id (ids lie in [0, 2**63))"
        )
    return copy


def _check_range(ids: torch.Tensor, limit: int, name: str) -> None:
    bad = ((ids < 0) | (ids >= limit)).nonzero().flatten()
    if bad.numel():
        k = int(bad[0])
        raise ValueError(
            f"{name}[{k}] = {int(ids[k])} is not a node id: ids must lie in [0, {limit}) "
            f"({bad.numel()} bad id(s) in all)"
        )


def group_edges(by: torch.Tensor, other: torch.Tensor, count: int) -> CSR:
    """Edges grouped by the node ids ``by`` (a stable sort: ties keep edge
    order), as a :class:`CSR`.

    ``group_edges(dst, src, num_dst_nodes)`` lists every node's in-edges (:meth:`Graph.csr`);
    ``group_edges(src, dst, num_src_nodes)`` its out-edges (:meth:`Graph.csr_by_source`). Chapter
    "Graphs as tensors, and message passing" prints it.
    """
    order = torch.argsort(by, stable=True)
    indptr = torch.zeros(count + 1, dtype=torch.int64, device=by.device)
    torch.cumsum(torch.bincount(by, minlength=count), 0, out=indptr[1:])
    return CSR(indptr, other[order], order)


class _OwnKey:
    """The key prefix of the graph's own cached structures (see ``Graph._own``): no caller can name
    it, and pickling or copying a graph keeps it the same object."""

    def __reduce__(self):
        return "_OWN"


_OWN = _OwnKey()


def _copy(value):
    """A cached tensor, or (named) tuple of tensors, copied: what the graph hands out
    is never its own."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    moved = [_copy(v) for v in value]
    return type(value)(*moved) if hasattr(value, "_fields") else tuple(moved)


def _to(value, device):
    """A cached tensor, or (named) tuple holding tensors, with every tensor on ``device``."""
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, tuple):
        moved = [_to(v, device) for v in value]
        return type(value)(*moved) if hasattr(value, "_fields") else tuple(moved)
    return value


class Graph:
    r"""A directed (possibly bipartite) graph held as ``src``, ``dst`` id tensors.

    Edge :math:`k` is :math:`\mathrm{src}_k \to \mathrm{dst}_k`. In a homogeneous graph sources and
    destinations are the same ``num_nodes`` nodes; in a bipartite graph (``num_src_nodes`` may
    differ from ``num_dst_nodes``) they are two node sets, as in DGL's blocks.

    Args:
        src, dst: 1-D integer tensors (or sequences) of equal length; the graph keeps copies.
        num_nodes: node count of a homogeneous graph; inferred from the largest id when omitted.
        num_src_nodes, num_dst_nodes: the two node counts of a bipartite graph.

    Node counts are limited to :data:`MAX_NODES` (``2**31 - 1``).

    ``torch.compile`` takes a Graph as an input (torch >= 2.4): it traces the layers, breaks its
    graph at the steps whose sizes depend on the ids (degree counts, grouping the edges), and gives
    eager's results and gradients. To speed a model up, compile its dense parts (the projections).
    """

    def __init__(self, src, dst, num_nodes=None, *, num_src_nodes=None, num_dst_nodes=None):
        src, dst = _node_ids(src, "src"), _node_ids(dst, "dst")
        if src.shape != dst.shape:
            raise ValueError(
                f"src and dst must have the same length, got {src.numel()} and {dst.numel()}"
            )
        if src.device != dst.device:
            raise ValueError(
                f"src and dst are on different devices ({src.device} and {dst.device})"
            )
        bipartite = num_src_nodes is not None or num_dst_nodes is not None
        if bipartite and num_nodes is not None:
            raise ValueError(
                "give either num_nodes (homogeneous graph) or num_src_nodes/num_dst_nodes "
                "(bipartite)"
            )
        if bipartite:
            if num_src_nodes is None or num_dst_nodes is None:
                raise ValueError("a bipartite graph needs both num_src_nodes and num_dst_nodes")
            n_src = node_count(num_src_nodes, "num_src_nodes")
            n_dst = node_count(num_dst_nodes, "num_dst_nodes")
        else:
            inferred = int(torch.cat([src, dst]).max()) + 1 if src.numel() else 0
            n_src = n_dst = inferred if num_nodes is None else node_count(num_nodes, "num_nodes")
        _check_range(src, n_src, "src")
        _check_range(dst, n_dst, "dst")
        self._src, self._dst = src, dst  # private: only copies leave the graph
        self.num_src_nodes, self.num_dst_nodes = n_src, n_dst
        self.is_bipartite = bipartite
        self._cache: dict = {}  # structures derived from the edges (CSRs, permutations), built once

    @property
    def src(self) -> torch.Tensor:
        """Source ids in edge order (a copy: changing it does not change the graph)."""
        return self._src.clone()

    @property
    def dst(self) -> torch.Tensor:
        """Destination ids in edge order (a copy: changing it does not change the graph)."""
        return self._dst.clone()

    # --- sizes and degrees -------------------------------------------------------------
    @property
    def num_edges(self) -> int:
        return self._src.numel()

    @property
    def num_nodes(self) -> int:
        if self.is_bipartite:
            raise ValueError(
                "a bipartite graph has no single node count: use num_src_nodes / num_dst_nodes"
            )
        return self.num_src_nodes

    @property
    def device(self) -> torch.device:
        return self._src.device

    def edges(self, copy: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """``(src, dst)`` in edge order: copies, or with ``copy=False`` the graph's own tensors,
        for code that only reads them (writing to those would corrupt the graph)."""
        return (self.src, self.dst) if copy else (self._src, self._dst)

    def in_degrees(self) -> torch.Tensor:
        """Number of edges arriving at each destination node, shape ``(num_dst_nodes,)``."""
        return self._own(
            "in_degrees", lambda: torch.bincount(self._dst, minlength=self.num_dst_nodes)
        ).clone()

    def out_degrees(self) -> torch.Tensor:
        """Number of edges leaving each source node, shape ``(num_src_nodes,)``."""
        return self._own(
            "out_degrees", lambda: torch.bincount(self._src, minlength=self.num_src_nodes)
        ).clone()

    # --- structure -----------------------------------------------------------------------
    def cached(self, key, build):
        """``build()``, computed once per graph and kept under ``key`` (moved along by :meth:`to`).

        Structures derived from the edges alone (CSRs, degrees, a layer's edge normalisation) live
        here, so that every layer called on the same graph builds them once."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def _own(self, key, build):
        """:meth:`cached` for the graph's own structures (CSRs, degrees, the sparse products'
        blocks), under keys no caller can name: they are handed out only as copies, so
        they stay as built."""
        return self.cached((_OWN, key), build)

    def csr(self, copy: bool = True) -> CSR:
        """In-edges grouped by destination (a stable sort, so ties keep edge order); computed once,
        handed out as a copy (``copy=False``: the graph's own, to read only, as :meth:`edges`)."""
        csr = self._own("csr", lambda: group_edges(self._dst, self._src, self.num_dst_nodes))
        return _copy(csr) if copy else csr

    def csr_by_source(self, copy: bool = True) -> CSR:
        """Out-edges grouped by source (the transpose of :meth:`csr`): ``indptr`` over source nodes,
        ``indices`` the destinations, ``eids`` the edge ids; computed once, handed out as a copy
        (``copy=False``: the graph's own, to read only)."""
        csr = self._own(
            "csr_by_source", lambda: group_edges(self._src, self._dst, self.num_src_nodes)
        )
        return _copy(csr) if copy else csr

    def require_homogeneous(self, what: str) -> None:
        """Raise a ``ValueError`` naming ``what`` when the graph is bipartite."""
        if self.is_bipartite:
            raise ValueError(f"{what} needs a homogeneous graph; this one is bipartite")

    def add_self_loops(self) -> Graph:
        """A new graph with a loop ``v -> v`` appended for every node that has none yet."""
        self.require_homogeneous("add_self_loops")
        has_loop = torch.zeros(self.num_nodes, dtype=torch.bool, device=self.device)
        has_loop[self._src[self._src == self._dst]] = True
        missing = (~has_loop).nonzero().flatten()
        return Graph(
            torch.cat([self._src, missing]), torch.cat([self._dst, missing]), self.num_nodes
        )

    def remove_self_loops(self) -> Graph:
        """A new graph without edges ``v -> v`` (the other edges keep their order)."""
        self.require_homogeneous("remove_self_loops")
        keep = self._src != self._dst
        return Graph(self._src[keep], self._dst[keep], self.num_nodes)

    def reverse(self) -> Graph:
        """The graph with every edge turned around (edge ids unchanged)."""
        if self.is_bipartite:
            return Graph(
                self._dst,
                self._src,
                num_src_nodes=self.num_dst_nodes,
                num_dst_nodes=self.num_src_nodes,
            )
        return Graph(self._dst, self._src, self.num_nodes)

    def to(self, device) -> Graph:
        """The same graph with its id tensors on ``device``."""
        device = torch.device(device)
        if device == self.device:
            return self
        g = object.__new__(Graph)
        g.__dict__.update(self.__dict__)
        g._src, g._dst = self._src.to(device), self._dst.to(device)
        g._cache = {key: _to(value, device) for key, value in self._cache.items()}
        return g

    def __repr__(self) -> str:
        if self.is_bipartite:
            nodes = f"num_src_nodes={self.num_src_nodes}, num_dst_nodes={self.num_dst_nodes}"
        else:
            nodes = f"num_nodes={self.num_nodes}"
        return f"Graph({nodes}, num_edges={self.num_edges}, device={self.device})"

    # --- converters ----------------------------------------------------------------------
    @classmethod
    def from_edge_index(cls, edge_index, num_nodes=None) -> Graph:
        """From PyG's ``edge_index`` (row 0: sources, row 1: destinations)."""
        edge_index = torch.as_tensor(edge_index)
        if edge_index.dim() != 2 or edge_index.shape[0] != 2:
            raise ValueError(f"edge_index must have shape (2, E), got {tuple(edge_index.shape)}")
        return cls(edge_index[0], edge_index[1], num_nodes)

    def to_edge_index(self) -> torch.Tensor:
        """PyG's ``edge_index``: a ``(2, E)`` tensor, same edge order."""
        return torch.stack([self._src, self._dst])

    @classmethod
    def from_networkx(cls, nx_graph) -> Graph:
        """From a networkx graph. Nodes are numbered in ``nx_graph.nodes`` order; an undirected
        edge becomes two directed edges (``u -> v`` then ``v -> u``)."""
        index = {node: i for i, node in enumerate(nx_graph.nodes)}
        pairs = []
        for u, v in nx_graph.edges():
            pairs.append((index[u], index[v]))
            if not nx_graph.is_directed() and u != v:
                pairs.append((index[v], index[u]))
        src, dst = (list(t) for t in zip(*pairs)) if pairs else ([], [])
        return cls(
            torch.tensor(src, dtype=torch.int64), torch.tensor(dst, dtype=torch.int64), len(index)
        )

    def to_networkx(self):
        """A ``networkx.MultiDiGraph`` (so duplicate edges survive) with an ``id`` on every edge."""
        import networkx as nx

        self.require_homogeneous("to_networkx")
        g = nx.MultiDiGraph()
        g.add_nodes_from(range(self.num_nodes))
        for k, (u, v) in enumerate(zip(self._src.tolist(), self._dst.tolist())):
            g.add_edge(u, v, id=k)
        return g

    @classmethod
    def from_dgl(cls, dgl_graph) -> Graph:
        """From a DGL graph or block with one edge type (edge ids in DGL's order)."""
        src, dst = dgl_graph.edges(order="eid")
        if (
            dgl_graph.is_block
            or dgl_graph.num_src_nodes() != dgl_graph.num_dst_nodes()
            or not dgl_graph.is_homogeneous
        ):
            return cls(
                src,
                dst,
                num_src_nodes=dgl_graph.num_src_nodes(),
                num_dst_nodes=dgl_graph.num_dst_nodes(),
            )
        return cls(src, dst, dgl_graph.num_nodes())

    def to_dgl(self):
        """A ``dgl.DGLGraph`` with the same edges and edge ids (DGL is imported only here)."""
        import dgl

        if self.is_bipartite:
            return dgl.heterograph(
                {("_N_src", "_E", "_N_dst"): (self.src, self.dst)},  # copies: DGL may keep them
                num_nodes_dict={"_N_src": self.num_src_nodes, "_N_dst": self.num_dst_nodes},
            )
        return dgl.graph((self.src, self.dst), num_nodes=self.num_nodes)


def as_graph(graph) -> Graph:
    """Accept a :class:`Graph` or a DGL graph (converted, without importing DGL otherwise)."""
    if isinstance(graph, Graph):
        return graph
    if type(graph).__module__.startswith("dgl"):
        return Graph.from_dgl(graph)
    raise TypeError(f"expected a gnnbook.Graph or a DGLGraph, got {type(graph).__name__}")
