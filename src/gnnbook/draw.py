r"""Drawings of attention: the graph with edges weighted by :math:`\alpha`, heads side by side, the
destination-by-source matrix, and the entropy of each node's incoming attention.

Every function takes a :class:`gnnbook.Graph` (or a DGL graph) and attention in any of the shapes the
layers return: ``(E, H, 1)`` (DGL's and ``gnnbook.nn``'s ``get_attention=True``), ``(E, H)`` or ``(E,)``,
with edges in the graph's edge order. Only matplotlib and networkx are needed.

Used by the chapters "GAT", "The Q/K/V analogy" and "Attention on real graphs".
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .graph import as_graph

#: The colour map of every attention drawing (Python and the in-browser figure of ``gnnbook.web``).
CMAP = "viridis_r"



def colormap(cmap=CMAP):
    """The Colormap of attention drawings: ``cmap`` by name or as given; the default ``CMAP`` starts
    12 % into viridis (reversed) so that edges with tiny :math:`\alpha` stay visible on white."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    if not isinstance(cmap, str):
        return cmap
    if cmap == CMAP:
        return ListedColormap(colormaps[CMAP](np.linspace(0.12, 1.0, 256)), name="gnnbook_attention")
    return colormaps[cmap]


__all__ = [
    "CMAP",
    "colormap",
    "attention_entropy",
    "attention_entropy_histogram",
    "attention_heatmap",
    "draw_attention",
    "draw_attention_heads",
    "graph_layout",
]


# --- helpers -------------------------------------------------------------------------------
def _as_heads(graph, attention) -> np.ndarray:
    """Attention as a float64 array of shape (E, H), whatever shape it came in."""
    if isinstance(attention, torch.Tensor):
        attention = attention.detach().to("cpu", torch.float64).numpy()
    att = np.asarray(attention, dtype=np.float64)
    if att.ndim == 3 and att.shape[-1] == 1:
        att = att[..., 0]
    if att.ndim == 1:
        att = att[:, None]
    if att.ndim != 2 or att.shape[0] != graph.num_edges:
        raise ValueError(
            f"attention must have shape (E,), (E, H) or (E, H, 1) with E = {graph.num_edges} edges, "
            f"got {tuple(np.shape(attention))}"
        )
    return att


def _pick_head(att: np.ndarray, head):
    """``(alpha (E,), words)``: one head, or the mean over heads (head ``None`` or ``"mean"``)."""
    num_heads = att.shape[1]
    if head is None or head == "mean":
        if num_heads == 1:
            return att[:, 0], ""
        return att.mean(axis=1), f"mean of {num_heads} heads"
    head = int(head)
    if not -num_heads <= head < num_heads:
        raise ValueError(f"head {head} does not exist: the attention has {num_heads} head(s)")
    return att[:, head], (f"head {head % num_heads} of {num_heads}" if num_heads > 1 else "")


def graph_layout(graph, seed: int = 0) -> dict:
    """Node positions ``{node: np.array([x, y])}``, the same on every run for the same graph and seed.

    Kamada-Kawai (networkx, needs scipy) for graphs of up to 200 nodes, else a seeded spring layout, of
    the undirected simple graph behind ``graph`` (directions merged, self-loops dropped), centred and
    scaled into ``[-1, 1]``. ``gnnbook.web`` uses it too, so a figure looks the same in Python and in
    the browser.
    """
    import networkx as nx

    graph = as_graph(graph)
    simple = nx.Graph()
    simple.add_nodes_from(range(graph.num_nodes))
    simple.add_edges_from((u, v) for u, v in zip(graph.src.tolist(), graph.dst.tolist()) if u != v)
    n = graph.num_nodes
    pos = None
    if 2 < n <= 200:
        try:
            pos = nx.kamada_kawai_layout(simple)
        except ImportError:  # no scipy
            pos = None
    if pos is None:
        pos = nx.spring_layout(simple, seed=seed, iterations=200)
    xy = np.array([pos[v] for v in range(n)], dtype=np.float64).reshape(n, 2)
    if n > 1:
        xy -= xy.mean(axis=0)
        xy /= max(np.abs(xy).max(), 1e-12)
    return {v: xy[v] for v in range(n)}


def _node_size(n: int) -> float:
    return 700.0 if n <= 12 else 380.0 if n <= 40 else 90.0


# --- the graph drawing -----------------------------------------------------------------------
def draw_attention(
    graph,
    attention,
    node=None,
    head=None,
    ax=None,
    pos=None,
    *,
    seed: int = 0,
    vmax=None,
    cmap=CMAP,
    node_labels=None,
    annotate=None,
    fmt: str = ".2f",
    max_labels: int = 8,
    width_range=(0.6, 7.0),
    node_size=None,
    colorbar: bool = True,
    title=None,
):
    r"""Draw ``graph`` with every edge's width and colour following its attention :math:`\alpha_{ij}`.

    An edge :math:`j \to i` carries :math:`\alpha_{ij} = \operatorname{softmax}_{j \in N(i)}(e_{ij})`,
    so the edges *into* each node sum to one. Width is
    :math:`w_{\min} + (w_{\max} - w_{\min})\,\alpha_{ij} / \alpha_{\max}` (monotone in :math:`\alpha`) and
    the colour bar shows :math:`[0, \alpha_{\max}]` (``vmax``, default the largest drawn :math:`\alpha`).
    Both directions of an undirected edge are drawn as two arcs bending to opposite sides; a self-loop
    is a small ring on the node's outer side.

    Args:
        graph: a :class:`gnnbook.Graph` (homogeneous) or DGL graph.
        attention: ``(E, H, 1)``, ``(E, H)`` or ``(E,)``, in edge order.
        node: the focused node: highlighted, its incoming edges drawn on top and labelled with
            :math:`\alpha` (other edges are faded). ``None``: no focus, no labels.
        head: which head to draw; ``None`` or ``"mean"`` averages the heads (said in the title).
        ax: the matplotlib Axes to draw on (a new figure when ``None``).
        pos: ``{node: (x, y)}``; default :func:`graph_layout` with ``seed``.
        annotate: label the focused node's incoming edges (default: when a node is focused).
        fmt: format of the printed :math:`\alpha`; ``max_labels``: at most this many labels (the largest).
        width_range: line widths (points) of :math:`\alpha = 0` and :math:`\alpha = \alpha_{\max}`.

    Returns:
        The Axes. Each edge's artist has gid ``"edge-<k>"`` (``k`` its edge id);
        ``ax.gnnbook_update(attention, node=None, head=None, title=None)`` restyles the same drawing for
        new attention (used by the explorer widget: much faster than drawing again). ``vmax`` stays.

    Chapters "GAT", "The Q/K/V analogy" and "Attention on real graphs".
    """
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.patches import Circle, FancyArrowPatch

    graph = as_graph(graph)
    graph.require_homogeneous("draw_attention")
    alpha, head_words = _pick_head(_as_heads(graph, attention), head)
    n = graph.num_nodes
    if node is not None and not 0 <= int(node) < n:
        raise ValueError(f"node {node} is not in the graph (nodes 0..{n - 1})")
    if pos is None:
        pos = graph_layout(graph, seed=seed)
    xy = np.array([pos[v] for v in range(n)], dtype=np.float64).reshape(n, 2)
    if ax is None:
        side = 5.2 if n <= 12 else 7.0
        _, ax = plt.subplots(figsize=(side + (1.0 if colorbar else 0.0), side))
    fig = ax.figure
    cmap = colormap(cmap)
    top = float(alpha.max()) if alpha.size else 1.0
    vmax = float(vmax) if vmax is not None else (top if top > 0 else 1.0)
    norm = Normalize(0.0, vmax)
    w_lo, w_hi = width_range
    node_size = _node_size(n) if node_size is None else node_size
    radius_pt = math.sqrt(node_size) / 2.0
    src, dst = graph.src.tolist(), graph.dst.tolist()

    ax.set_aspect("equal")
    span = np.ptp(xy, axis=0).max() if n > 1 else 1.0
    span = span if span > 0 else 1.0
    centre = xy.mean(axis=0)
    pad = 0.16 * span
    ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
    ax.set_ylim(xy[:, 1].min() - pad, xy[:, 1].max() + pad)
    ax.set_axis_off()

    def width(a):
        return w_lo + (w_hi - w_lo) * min(max(a / vmax, 0.0), 1.0)

    # Artists are made once; ``update`` restyles them (the widget redraws this way, fast).
    edge_artists, label_spots = {}, {}
    for k in range(len(src)):
        u, v = src[k], dst[k]
        if u == v:  # self-loop: a ring on the side away from the centre
            out = xy[u] - centre
            out = out / np.linalg.norm(out) if np.linalg.norm(out) > 1e-9 else np.array([0.0, 1.0])
            r = (0.055 if n <= 12 else 0.03) * span
            c = xy[u] + out * (r * 1.35)
            artist = Circle(c, r, fill=False)
            label_spots[k] = c + out * (r + 0.05 * span)
        else:
            artist = FancyArrowPatch(
                xy[u], xy[v], arrowstyle="-|>", connectionstyle="arc3,rad=0.16",
                shrinkA=radius_pt + 1, shrinkB=radius_pt + 1, joinstyle="miter", capstyle="butt",
            )
            (x1, y1), (x2, y2) = xy[u], xy[v]
            # midpoint of matplotlib's arc3 quadratic Bezier (equal aspect: data ~ display)
            label_spots[k] = np.array([(x1 + x2) / 2 + 0.08 * (y2 - y1), (y1 + y2) / 2 - 0.08 * (x2 - x1)])
        artist.set_gid(f"edge-{k}")
        ax.add_patch(artist)
        edge_artists[k] = artist
    nodes = ax.scatter(xy[:, 0], xy[:, 1], s=node_size, zorder=3)
    node_texts = []
    if n <= 60:
        names = node_labels if node_labels is not None else {v: str(v) for v in range(n)}
        fontsize = 11 if n <= 12 else 8
        node_texts = [ax.text(*xy[v], str(names[v]), ha="center", va="center", fontsize=fontsize, zorder=4) for v in range(n)]
    alpha_texts = []

    def update(attention, node=None, head=None, title=None):
        """Restyle the drawing for new attention / focused node / head (same graph and layout)."""
        alpha, head_words = _pick_head(_as_heads(graph, attention), head)
        focus = None if node is None else int(node)
        show = (focus is not None) if annotate is None else annotate
        order = sorted(range(len(src)), key=lambda k: (dst[k] == focus, alpha[k]))  # strong and focused on top
        labels = []
        for rank, k in enumerate(order):
            v, a = dst[k], float(alpha[k])
            faded = focus is not None and v != focus
            colour = np.array(cmap(norm(a)))
            if faded:  # mixed with white, not transparent: overlapping arrow parts would show through
                colour[:3] = 0.22 * colour[:3] + 0.78
            artist, lw = edge_artists[k], width(a)
            artist.set_linewidth(lw)
            artist.set_zorder(1.0 + (1.0 if not faded else 0.0) + rank / (10.0 * len(src)))
            if isinstance(artist, Circle):
                artist.set_edgecolor(colour)
            else:
                artist.set_color(colour)
                artist.set_mutation_scale(7 + 1.6 * lw)
            if show and v == focus:
                labels.append((label_spots[k], a))
        labels = sorted(labels, key=lambda t: -t[1])[:max_labels]  # a hub's many edges: the largest only
        in_nbrs = {src[k] for k in range(len(src)) if dst[k] == focus}
        nodes.set_facecolors(["#f28e2b" if v == focus else "#fde2c4" if v in in_nbrs else "#e8ecf1" for v in range(n)])
        nodes.set_edgecolors(["#7a3a00" if v == focus else "#444444" for v in range(n)])
        nodes.set_linewidths([2.6 if v == focus else 1.0 for v in range(n)])
        for v, t in enumerate(node_texts):
            t.set_fontweight("bold" if v == focus else "normal")
        while alpha_texts:
            alpha_texts.pop().remove()
        for at, a in labels:
            alpha_texts.append(ax.text(*at, format(a, fmt), ha="center", va="center", fontsize=9.5 if n <= 12 else 7.5,
                                       zorder=5, bbox=dict(boxstyle="round,pad=0.18", fc="white", ec="#999999", lw=0.6, alpha=0.92)))
        if title is None:
            title = r"attention $\alpha_{ij}$" + (f" into node {focus}" if focus is not None else "")
            if head_words:
                title += f" ({head_words})"
        ax.set_title(title or "")
        return ax

    update(attention, node, head, title)
    ax.gnnbook_update = update
    if colorbar:
        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.72, pad=0.02)
        bar.set_label(r"attention $\alpha_{ij}$ (edge width and colour)")
    return ax


def draw_attention_heads(graph, attention, node=None, heads=None, *, ncols: int = 4, pos=None, seed: int = 0,
                         vmax=None, panel_size: float = 3.6, **kwargs):
    r"""One :func:`draw_attention` panel per head, side by side, sharing layout, :math:`\alpha` scale and
    one colour bar: the heads of one layer often attend very differently.

    Args:
        heads: the heads to draw (default all); ``ncols``: panels per row. Other keyword arguments go
            to :func:`draw_attention`.

    Returns:
        The Figure (its panels are ``fig.axes[:len(heads)]``). Chapters "GAT" and
        "Attention on real graphs".
    """
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    graph = as_graph(graph)
    att = _as_heads(graph, attention)
    heads = list(range(att.shape[1])) if heads is None else list(heads)
    if pos is None:
        pos = graph_layout(graph, seed=seed)
    vmax = float(att[:, heads].max()) if vmax is None else float(vmax)
    ncols = max(1, min(ncols, len(heads)))
    nrows = math.ceil(len(heads) / ncols)
    kwargs.setdefault("node_size", 0.55 * _node_size(graph.num_nodes))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size * ncols + 0.9, panel_size * nrows + 0.3), squeeze=False)
    for i, h in enumerate(heads):
        ax = axes[i // ncols][i % ncols]
        draw_attention(graph, att, node=node, head=h, ax=ax, pos=pos, vmax=vmax, colorbar=False,
                       title=f"head {h}", **kwargs)
    for j in range(len(heads), nrows * ncols):
        axes[j // ncols][j % ncols].set_axis_off()
    cmap = colormap(kwargs.get("cmap", CMAP))
    bar = fig.colorbar(ScalarMappable(norm=Normalize(0.0, vmax), cmap=cmap), ax=axes.ravel().tolist(), shrink=0.8, pad=0.02)
    bar.set_label(r"attention $\alpha_{ij}$")
    if node is not None:
        fig.suptitle(f"attention into node {node}, head by head")
    return fig


# --- matrix view ---------------------------------------------------------------------------
def attention_heatmap(graph, attention, head=None, ax=None, *, cmap=CMAP, node_labels=None, annotate=None,
                      fmt: str = ".2f", colorbar: bool = True, title=None):
    r"""The attention matrix :math:`A_{ij} = \alpha_{ij}`: rows are destinations :math:`i`, columns
    sources :math:`j`; every row sums to one over :math:`N(i)`. Pairs that are not edges are masked
    (drawn light grey), so a zero :math:`\alpha` and a missing edge look different. Duplicate edges add.

    Args:
        head: a head, or ``None``/``"mean"`` for the mean over heads.
        annotate: print each :math:`\alpha` in its cell (default: graphs of at most 12 nodes).

    Returns:
        The Axes; its image's array is a masked ``(N_dst, N_src)`` array. Chapters "The Q/K/V
        analogy" (it is the :math:`\operatorname{softmax}(QK^\top)` matrix with the graph as mask) and
        "Attention on real graphs".
    """
    import matplotlib.pyplot as plt

    graph = as_graph(graph)
    alpha, head_words = _pick_head(_as_heads(graph, attention), head)
    n_dst, n_src = graph.num_dst_nodes, graph.num_src_nodes
    values = np.zeros((n_dst, n_src))
    present = np.zeros((n_dst, n_src), dtype=bool)
    np.add.at(values, (graph.dst.cpu().numpy(), graph.src.cpu().numpy()), alpha)
    present[graph.dst.cpu().numpy(), graph.src.cpu().numpy()] = True
    matrix = np.ma.masked_array(values, mask=~present)
    if ax is None:
        side = min(2.0 + 0.34 * max(n_dst, n_src), 11.0)
        _, ax = plt.subplots(figsize=(side + 1.2, side))
    cmap = colormap(cmap).with_extremes(bad="#eeeeee")
    image = ax.imshow(matrix, cmap=cmap, vmin=0.0, vmax=max(float(values.max()), 1e-12), interpolation="nearest")
    step = 1 if max(n_dst, n_src) <= 40 else max(1, max(n_dst, n_src) // 20)
    ax.set_xticks(range(0, n_src, step))
    ax.set_yticks(range(0, n_dst, step))
    if node_labels is not None:
        ax.set_xticklabels([node_labels[j] for j in range(0, n_src, step)])
        ax.set_yticklabels([node_labels[i] for i in range(0, n_dst, step)])
    ax.tick_params(labelsize=9 if max(n_dst, n_src) <= 12 else 7)
    ax.set_xlabel("source $j$ (the neighbour that is listened to)")
    ax.set_ylabel("destination $i$")
    annotate = max(n_dst, n_src) <= 12 if annotate is None else annotate
    if annotate:
        top = values.max() if values.size else 1.0
        for i, j in zip(*np.nonzero(present)):
            ax.text(j, i, format(values[i, j], fmt), ha="center", va="center", fontsize=8,
                    color="white" if values[i, j] > 0.55 * top else "black")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8, pad=0.02).set_label(r"$\alpha_{ij}$ (grey: no edge)")
    if title is None:
        title = r"attention matrix $\alpha_{ij}$" + (f" ({head_words})" if head_words else "")
    if title:
        ax.set_title(title)
    return ax


# --- entropy -------------------------------------------------------------------------------
def attention_entropy(graph, attention) -> torch.Tensor:
    r"""Entropy of each destination node's incoming attention, per head (in nats):

    .. math::
        \mathcal{H}_i = -\sum_{j \in N(i)} \alpha_{ij} \log \alpha_{ij},

    with :math:`0 \log 0 = 0`. It lies in :math:`[0, \log |N(i)|]`: zero when node :math:`i` listens to
    one neighbour only, :math:`\log |N(i)|` when it listens to all of them equally (uniform attention,
    :math:`\alpha_{ij} = 1/|N(i)|`, which is what GCN-style mean aggregation does). Nodes without
    incoming edges get 0.

    Args:
        attention: ``(E, H, 1)``, ``(E, H)`` or ``(E,)``.

    Returns:
        A float64 tensor ``(N_dst, H)``, or ``(N_dst,)`` when ``attention`` is ``(E,)``.
        Chapter "Attention on real graphs".
    """
    graph = as_graph(graph)
    one_dim = (attention.dim() if isinstance(attention, torch.Tensor) else np.ndim(attention)) == 1
    att = torch.from_numpy(_as_heads(graph, attention))
    terms = -torch.xlogy(att, att)  # 0 * log 0 = 0
    dst = graph.dst.cpu()
    out = torch.zeros(graph.num_dst_nodes, att.shape[1], dtype=torch.float64).index_add(0, dst, terms)
    return out[:, 0] if one_dim else out


def attention_entropy_histogram(graph, attention, head=None, ax=None, *, bins: int = 20, title=None,
                                colour: str = "#3b6fb6"):
    r"""Histogram of the per-node entropy :math:`\mathcal{H}_i` of the incoming attention
    (:func:`attention_entropy`) against the uniform-attention baseline :math:`\log |N(i)|` of the same
    nodes, on shared bins.

    Learned attention whose histogram sits on top of the baseline is (nearly) uniform: the layer
    behaves like mean aggregation. Mass shifted to the left means sharp, selective attention.
    Nodes without incoming edges are left out.

    Args:
        head: one head, or ``None`` to pool all heads (each node counted once per head).

    Returns:
        The Axes. Chapter "Attention on real graphs".
    """
    import matplotlib.pyplot as plt

    graph = as_graph(graph)
    att = _as_heads(graph, attention)
    ent = attention_entropy(graph, att).numpy()
    deg = graph.in_degrees().cpu().numpy()
    keep = deg > 0
    if head is None:
        learned = ent[keep].ravel()
        uniform = np.repeat(np.log(deg[keep]), att.shape[1])
        words = f"all {att.shape[1]} heads" if att.shape[1] > 1 else ""
    else:
        learned = ent[keep, int(head)]
        uniform = np.log(deg[keep])
        words = f"head {int(head)}"
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
    top = max(float(uniform.max(initial=0.0)), float(learned.max(initial=0.0)), 1e-3)
    edges = np.linspace(0.0, top * 1.0001, bins + 1)
    ax.hist(uniform, bins=edges, color="#9a9a9a", alpha=0.45, label=r"uniform attention, $\log|N(i)|$")
    ax.hist(learned, bins=edges, color=colour, alpha=0.7, histtype="bar", edgecolor="#1d3c6e", linewidth=0.6,
            label=r"learned attention, $\mathcal{H}_i$")
    ax.axvline(learned.mean(), color="#1d3c6e", ls="--", lw=1.2)
    ax.axvline(uniform.mean(), color="#555555", ls=":", lw=1.2)
    ax.set_xlabel(r"entropy of node $i$'s incoming attention (nats)")
    ax.set_ylabel("number of nodes" if head is not None or att.shape[1] == 1 else "nodes × heads")
    ax.legend(frameon=False, fontsize=9)
    if title is None:
        title = "entropy of attention vs. uniform attention" + (f" ({words})" if words else "")
    if title:
        ax.set_title(title)
    return ax
