r"""Drawings of attention: the graph with edges weighted by :math:`\alpha`, heads side by side, the
destination-by-source matrix, and the entropy of each node's incoming attention.

Every function takes a :class:`gnnbook.Graph` (or a DGL graph) and attention in any of the shapes
the layers return: ``(E, H, 1)`` (DGL's and ``gnnbook.nn``'s ``get_attention=True``), ``(E, H)`` or
``(E,)``, with edges in the graph's edge order. Only matplotlib and networkx are needed.

Used by the chapters "GAT" and "Attention on real graphs". The drawing constants are
:data:`gnnbook.attention_model.STYLE`, shared with the browser figure of :mod:`gnnbook.web`.
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import torch

from .attention_model import STYLE, in_neighbours, pick_head, place_labels, size_class
from .graph import as_graph

#: The colour map of every attention drawing (Python and the in-browser figure of ``gnnbook.web``).
CMAP = STYLE["cmap"]

__all__ = [
    "CMAP",
    "AttentionDrawing",
    "alt_text",
    "attention_colorbar",
    "attention_entropy",
    "attention_entropy_histogram",
    "attention_heatmap",
    "colormap",
    "draw_attention",
    "draw_attention_heads",
    "graph_layout",
    "show",
]

# One sentence per drawing, per figure: what :func:`alt_text` returns.
_DESCRIPTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def colormap(cmap=CMAP):
    r"""The Colormap of attention drawings: ``cmap`` by name or as given; the default ``CMAP``
    starts ``STYLE["cmap_start"]`` into reversed viridis so that edges with tiny
    :math:`\alpha` stay visible."""
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    if not isinstance(cmap, str):
        return cmap
    if cmap == CMAP:
        return ListedColormap(
            colormaps[CMAP](np.linspace(STYLE["cmap_start"], 1.0, 256)), name="gnnbook_attention"
        )
    return colormaps[cmap]


# --- checks and small helpers ------------------------------------------------------------------
def _as_heads(graph, attention) -> np.ndarray:
    """Attention as a finite float64 array of shape (E, H), whatever shape it came in."""
    if isinstance(attention, torch.Tensor):
        attention = attention.detach().to("cpu", torch.float64).numpy()
    try:
        att = np.asarray(attention, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"attention must be numbers, got {type(attention).__name__}") from None
    if att.ndim == 3 and att.shape[-1] == 1:
        att = att[..., 0]
    if att.ndim == 1:
        att = att[:, None]
    if att.ndim != 2 or att.shape[0] != graph.num_edges or att.shape[1] == 0:
        raise ValueError(
            f"attention must have shape (E,), (E, H) or (E, H, 1) with E = {graph.num_edges} "
            f"edges, got {tuple(np.shape(attention))}"
        )
    if not np.isfinite(att).all():
        raise ValueError("attention must be finite; it holds NaN or infinity")
    return att


def _head_words(num_heads: int, head) -> str:
    """How a title names the head drawn: "" for a one-head layer."""
    if num_heads == 1:
        return ""
    return (
        f"mean of {num_heads} heads"
        if head is None or head == "mean"
        else f"head {int(head)} of {num_heads}"
    )


def _require_size(graph, limit_key: str, what: str, instead: str) -> None:
    limit = STYLE[limit_key]
    if max(graph.num_src_nodes, graph.num_dst_nodes) > limit:
        raise ValueError(
            f"graph has {max(graph.num_src_nodes, graph.num_dst_nodes)} nodes; {what} takes at "
            f"most {limit} (STYLE[{limit_key!r}]): {instead}"
        )


def _plain(text) -> str:
    """``text`` shown as written: a ``$`` would start matplotlib's mathtext."""
    return str(text).replace("$", r"\$")


def _describe(fig, sentence: str) -> None:
    _DESCRIPTIONS.setdefault(fig, []).append(sentence)


def alt_text(figure) -> str:
    """A description of what a figure (or the figure of an Axes) drawn by this module shows, for its
    alt text: one sentence per drawing in it. Chapters put it in the image's alt text, e.g. by
    showing the figure with :func:`show`."""
    fig = getattr(figure, "figure", figure)
    sentences = _DESCRIPTIONS.get(fig)
    if not sentences:
        raise ValueError("figure holds no drawing of gnnbook.draw, so there is nothing to describe")
    return " ".join(sentences)


def show(figure, alt=None, dpi: int = 100):
    """Display a figure as a PNG with alt text (``alt``, default :func:`alt_text`): an
    ``<img alt=...>`` in ``text/html`` next to the plain ``image/png``, then close it: the site and
    Jupyter both show the ``<img>`` with its alt text."""
    import base64
    import html
    import io

    import matplotlib.pyplot as plt
    from IPython.display import display

    fig = getattr(figure, "figure", figure)
    alt = alt_text(fig) if alt is None else str(alt)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    png = buf.getvalue()
    tag = (
        f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" '
        f'alt="{html.escape(alt)}" style="max-width: 100%; height: auto">'
    )
    display({"image/png": png, "text/html": tag, "text/plain": alt}, raw=True)
    plt.close(fig)


def graph_layout(graph, seed: int = 0) -> dict:
    """Node positions ``{node: np.array([x, y])}``, the same on every run for the
    same graph and seed.

    Kamada-Kawai (networkx, needs scipy) for graphs of up to 200 nodes, else a seeded spring layout,
    of the undirected simple graph behind ``graph`` (directions merged, self-loops dropped), centred
    and scaled into ``[-1, 1]``. ``gnnbook.web`` uses it too, so a figure looks the same in Python
    and in the browser.
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
    return size_class(n)["node_size"]


def _positions(graph, pos, seed: int) -> np.ndarray:
    n = graph.num_nodes
    pos = graph_layout(graph, seed=seed) if pos is None else pos
    try:
        xy = np.array(
            [[float(pos[v][0]), float(pos[v][1])] for v in range(n)], dtype=np.float64
        ).reshape(n, 2)
    except (KeyError, IndexError, TypeError, ValueError):
        raise ValueError(f"pos must give (x, y) for every node 0..{n - 1}") from None
    if not np.isfinite(xy).all():
        raise ValueError("pos must be finite")
    return xy


def attention_colorbar(
    figure, axes, vmax: float, *, cmap=CMAP, label=r"attention $\alpha_{ij}$", **kwargs
):
    r"""One colour bar :math:`[0, v_{\max}]` for several drawings that share it (pass the same
    ``vmax`` and ``colorbar=False`` to each :func:`draw_attention`). Returns the Colorbar."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    kwargs.setdefault("shrink", 0.8)
    kwargs.setdefault("pad", 0.02)
    bar = figure.colorbar(
        ScalarMappable(norm=Normalize(0.0, float(vmax)), cmap=colormap(cmap)), ax=axes, **kwargs
    )
    bar.set_label(label)
    return bar


# --- the graph drawing -----------------------------------------------------------------------
class AttentionDrawing:
    r"""The artists of one attention drawing on ``ax``, made once; :meth:`update` restyles them for
    new attention, focused node or head (the explorer redraws this way, much faster
    than drawing again).

    Edge widths are :math:`w_{\min} + (w_{\max} - w_{\min})\,\alpha_{ij}/v_{\max}`; edges not into
    the focused node recede (thin, light grey); labels are placed where they meet no node and no
    other label (:func:`gnnbook.attention_model.place_labels`). Constants:
    :data:`gnnbook.attention_model.STYLE`.

    Args (the drawing's style, also taken by :func:`draw_attention`):
        cmap: the colour map of :math:`\alpha`; ``node_labels``: a name per node (default ids).
        annotate: label the focused node's incoming edges (default: when a node is focused).
        fmt: format of the printed :math:`\alpha`; ``max_labels``: at most this many labels (the
            largest).
        width_range: line widths (points) of :math:`\alpha = 0` and :math:`\alpha = v_{\max}`.
        node_size: marker area (points²); default by the graph's size class.
    """

    def __init__(
        self,
        graph,
        ax,
        pos=None,
        *,
        vmax: float,
        seed: int = 0,
        node_size=None,
        cmap=CMAP,
        node_labels=None,
        fmt: str = ".2f",
        max_labels: int = STYLE["label_cap"],
        width_range=tuple(STYLE["width_range"]),
        annotate=None,
    ):
        graph = as_graph(graph)
        self.graph, self.ax, self.xy = graph, ax, _positions(graph, pos, seed)
        node_size = (
            size_class(graph.num_nodes)["node_size"] if node_size is None else float(node_size)
        )
        self.src, self.dst = graph.src.tolist(), graph.dst.tolist()
        self.vmax, self.cmap, self.fmt, self.max_labels, self.annotate = (
            vmax,
            colormap(cmap),
            fmt,
            max_labels,
            annotate,
        )
        self.width_range, self.node_size = tuple(width_range), node_size
        self.size = size_class(graph.num_nodes)
        panel = min(
            ax.get_position().width * ax.figure.get_size_inches()[0] / 4.0, 1.0
        )  # small panels: smaller
        self.label_fontsize = (9.5 if graph.num_nodes <= 12 else 7.5) * max(panel, 0.8)
        self._frame()
        self.edges = [self._edge_artist(k) for k in range(len(self.src))]
        self.nodes = ax.scatter(self.xy[:, 0], self.xy[:, 1], s=node_size, zorder=3)
        self.node_texts = self._node_texts(node_labels)
        self.alpha_texts = []
        self.alpha = None

    def _frame(self) -> None:
        ax, xy = self.ax, self.xy
        ax.set_aspect("equal")
        span = float(np.ptp(xy, axis=0).max()) if len(xy) > 1 else 1.0
        self.span = span if span > 0 else 1.0
        self.centre = xy.mean(axis=0)
        pad = 0.16 * self.span
        ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
        ax.set_ylim(xy[:, 1].min() - pad, xy[:, 1].max() + pad)
        ax.set_axis_off()

    def _outward(self, u: int) -> np.ndarray:
        out = self.xy[u] - self.centre
        norm = np.linalg.norm(out)
        return out / norm if norm > 1e-9 else np.array([0.0, 1.0])

    def _loop_radius(self) -> float:
        return (0.055 if self.graph.num_nodes <= 12 else 0.03) * self.span

    def _edge_artist(self, k: int):
        from matplotlib.patches import Circle, FancyArrowPatch

        u, v = self.src[k], self.dst[k]
        if u == v:  # self-loop: a ring on the side away from the centre
            r = self._loop_radius()
            artist = Circle(self.xy[u] + self._outward(u) * (r * 1.35), r, fill=False)
        else:
            # ends moved off the node discs here, once: matplotlib's own shrinking costs every draw
            gap = (math.sqrt(self.node_size) / 2.0 + 1) * self._points_to_data()
            q = self._control_point(u, v)
            ends = [
                p + (q - p) * min(gap / max(np.linalg.norm(q - p), 1e-12), 0.45)
                for p in (self.xy[u], self.xy[v])
            ]
            artist = FancyArrowPatch(
                *ends,
                arrowstyle="-|>",
                connectionstyle=f"arc3,rad={STYLE['arc_rad']}",
                shrinkA=0,
                shrinkB=0,
                joinstyle="miter",
                capstyle="butt",
            )
        artist.set_gid(f"edge-{k}")
        self.ax.add_patch(artist)
        return artist

    def _node_texts(self, node_labels) -> list:
        n = self.graph.num_nodes
        if node_labels is not None and len(node_labels) < n:
            raise ValueError(f"node_labels must name all {n} nodes, got {len(node_labels)}")
        self.names = [str(node_labels[v]) if node_labels is not None else str(v) for v in range(n)]
        if n > STYLE["label_nodes_max"]:
            return []
        return [
            self.ax.text(
                *self.xy[v],
                _plain(self.names[v]),
                ha="center",
                va="center",
                fontsize=self.size["font"],
                zorder=4,
            )
            for v in range(n)
        ]

    def _label_spots(self, k: int) -> list:
        """Where edge ``k``'s α label may go, in order of preference (as ``attention.js``
        does it)."""
        u, v = self.src[k], self.dst[k]
        if u == v:
            out, dist = self._outward(u), self._loop_radius() * 2.35 + 0.05 * self.span
            # radians off the outward direction, as in the JS
            turns = (0, 0.8, -0.8, 1.6, -1.6, 2.4, -2.4)

            def rotate(t):
                return np.array(
                    [
                        out[0] * math.cos(t) - out[1] * math.sin(t),
                        out[0] * math.sin(t) + out[1] * math.cos(t),
                    ]
                )

            return [self.xy[u] + rotate(t) * dist for t in turns]
        p0, p2, q = self.xy[u], self.xy[v], self._control_point(u, v)
        return [(1 - t) ** 2 * p0 + 2 * t * (1 - t) * q + t**2 * p2 for t in STYLE["label_at"]]

    def _control_point(self, u: int, v: int) -> np.ndarray:
        """The control point of matplotlib's arc3 quadratic Bezier from node ``u`` to node ``v``."""
        p0, p2 = self.xy[u], self.xy[v]
        d = p2 - p0
        return (p0 + p2) / 2 + STYLE["arc_rad"] * np.array([d[1], -d[0]])

    def _points_to_data(self) -> float:
        fig_w, fig_h = self.ax.figure.get_size_inches()
        self.ax.apply_aspect()  # the box equal aspect leaves, not the one asked for
        box = self.ax.get_position()
        x0, x1 = self.ax.get_xlim()
        y0, y1 = self.ax.get_ylim()
        return max((x1 - x0) / (box.width * fig_w * 72), (y1 - y0) / (box.height * fig_h * 72))

    def _restyle_edge(self, k: int, a: float, faded: bool, rank: float) -> None:
        from matplotlib.patches import Circle

        artist = self.edges[k]
        if faded:
            colour, width = STYLE["faded_colour"], STYLE["faded_width"]
        else:
            lo, hi = self.width_range
            level = min(max(a / self.vmax, 0.0), 1.0)
            colour, width = self.cmap(level), lo + (hi - lo) * level
        artist.set_linewidth(width)
        artist.set_zorder(1.0 + (0.0 if faded else 1.0) + rank)
        if isinstance(artist, Circle):
            artist.set_edgecolor(colour)
        else:
            artist.set_color(colour)
            artist.set_mutation_scale(7 + 1.6 * width)

    def _restyle_nodes(self, focus, in_nbrs) -> None:
        n = self.graph.num_nodes
        role = [
            "focus" if v == focus else "neighbour" if v in in_nbrs else "node" for v in range(n)
        ]
        self.nodes.set_facecolors([STYLE[r] for r in role])
        self.nodes.set_edgecolors(
            [STYLE["focus_edge"] if v == focus else STYLE["node_edge"] for v in range(n)]
        )
        self.nodes.set_linewidths([2.6 if v == focus else 1.0 for v in range(n)])
        for v, t in enumerate(self.node_texts):
            t.set_fontweight("bold" if v == focus else "normal")

    def _relabel(self, alpha: np.ndarray, focus) -> None:
        while self.alpha_texts:
            self.alpha_texts.pop().remove()
        show = (focus is not None) if self.annotate is None else self.annotate
        if not show or focus is None:
            return
        into = sorted(
            (k for k in range(len(self.src)) if self.dst[k] == focus), key=lambda k: -alpha[k]
        )
        into = into[: self.max_labels]  # a hub's many edges: the largest only
        fontsize = self.label_fontsize
        texts = [format(float(alpha[k]), self.fmt) for k in into]
        node_radius = math.sqrt(self.node_size) / 2.0 * self._points_to_data()
        spots = place_labels(
            [self._label_spots(k) for k in into],
            texts,
            fontsize * self._points_to_data(),
            self.xy,
            node_radius,
        )
        for spot, text in zip(spots, texts):
            if (
                spot is None
            ):  # no free room next to its edge: left out rather than drawn over another
                continue
            self.alpha_texts.append(
                self.ax.text(
                    *spot,
                    text,
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    zorder=5,
                    bbox=dict(
                        boxstyle="round,pad=0.18", fc="white", ec="#999999", lw=0.6, alpha=0.92
                    ),
                )
            )

    def update(self, attention, node=None, head=None, title=None) -> AttentionDrawing:
        """Restyle for new attention / focused node / head (same graph, layout and ``vmax``)."""
        att = _as_heads(self.graph, attention)
        alpha = pick_head(att, head)
        n, focus = self.graph.num_nodes, None if node is None else int(node)
        if focus is not None and not 0 <= focus < n:
            raise ValueError(f"node must be a node id in 0..{n - 1}, got {node!r}")
        order = sorted(
            range(len(self.src)), key=lambda k: (self.dst[k] == focus, alpha[k])
        )  # strong on top
        for rank, k in enumerate(order):
            faded = focus is not None and self.dst[k] != focus
            self._restyle_edge(k, float(alpha[k]), faded, rank / (10.0 * len(order)))
        self._restyle_nodes(
            focus, set() if focus is None else set(in_neighbours(self.graph, focus))
        )
        self._relabel(alpha, focus)
        words = _head_words(att.shape[1], head)
        if title is None:
            title = r"attention $\alpha_{ij}$" + (
                f" into node {focus}" if focus is not None else ""
            )
            title += f" ({words})" if words else ""
        self.ax.set_title(
            title or "", y=1.0
        )  # a fixed position: placing it automatically costs every draw
        self.alpha = alpha
        self.sentence = self._sentence(alpha, focus, words)
        return self

    def _sentence(self, alpha, focus, words) -> str:
        g = self.graph
        text = (
            f"A graph of {g.num_nodes} nodes and {g.num_edges} edges whose width and colour show "
            f"attention α{f' ({words})' if words else ''}"
        )
        into = [k for k in range(len(self.src)) if self.dst[k] == focus]
        if into:
            best = max(into, key=lambda k: alpha[k])
            text += (
                f"; node {self.names[focus]}'s {len(into)} incoming edges are highlighted, the "
                f"strongest from node {self.names[self.src[best]]} with α {alpha[best]:.2f}"
            )
        return text + "."


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
    colorbar: bool = True,
    title=None,
    **style,
):
    r"""Draw ``graph`` with every edge's width and colour following its attention
    :math:`\alpha_{ij}`.

    An edge :math:`j \to i` carries
    :math:`\alpha_{ij} = \operatorname{softmax}_{j \in N(i)}(e_{ij})`, so the edges *into* each node
    sum to one. Width is :math:`w_{\min} + (w_{\max} - w_{\min})\,\alpha_{ij} / v_{\max}` (monotone
    in :math:`\alpha`) and the colour bar shows :math:`[0, v_{\max}]`. Both directions of an
    undirected edge are drawn as two arcs bending to opposite sides; a self-loop is a small ring on
    the node's outer side.

    Args:
        graph: a :class:`gnnbook.Graph` (homogeneous, at most ``STYLE["max_draw_nodes"]`` nodes;
            draw a node's neighbourhood of a larger graph) or DGL graph.
        attention: ``(E, H, 1)``, ``(E, H)`` or ``(E,)``, in edge order, finite.
        node: the focused node: highlighted, its incoming edges drawn on top and labelled with
            :math:`\alpha`, the other edges thin and grey. ``None``: no focus, no labels.
        head: which head to draw; ``None`` or ``"mean"`` averages the heads (said in the title).
        ax: the matplotlib Axes to draw on (a new figure when ``None``).
        pos: ``{node: (x, y)}``; default :func:`graph_layout` with ``seed``.
        vmax: the :math:`\alpha` of the widest, darkest edge (default the largest drawn). Panels
            that are compared need the same ``vmax`` (and :func:`attention_colorbar` for one bar).
        colorbar: add the colour bar; ``title``: the Axes' title (default says node and head).
        style: ``cmap``, ``node_labels``, ``annotate``, ``fmt``, ``max_labels``, ``width_range``,
            ``node_size``, as :class:`AttentionDrawing` takes them.

    Returns:
        The Axes. Each edge's artist has gid ``"edge-<k>"`` (``k`` its edge id). :func:`alt_text` of
        the figure describes it.

    Chapters "GAT" and "Attention on real graphs".
    """
    import matplotlib.pyplot as plt

    graph = as_graph(graph)
    graph.require_homogeneous("draw_attention")
    _require_size(
        graph,
        "max_draw_nodes",
        "draw_attention",
        "draw a node's neighbourhood (a subgraph) instead, or the entropy histogram for the whole "
        "graph",
    )
    alpha = pick_head(_as_heads(graph, attention), head)
    xy = _positions(graph, pos, seed)
    if vmax is None:
        top = float(alpha.max()) if alpha.size else 1.0
        vmax = top if top > 0 else 1.0
    elif not (isinstance(vmax, (int, float)) and math.isfinite(vmax) and vmax > 0):
        raise ValueError(f"vmax must be a finite number > 0, got {vmax!r}")
    if ax is None:
        side = 5.2 if graph.num_nodes <= 12 else 7.0
        _, ax = plt.subplots(figsize=(side + (1.0 if colorbar else 0.0), side))
    if colorbar:  # first: it takes room from the Axes, and labels are sized for the room left
        attention_colorbar(
            ax.figure,
            ax,
            vmax,
            cmap=style.get("cmap", CMAP),
            label=r"attention $\alpha_{ij}$ (edge width and colour)",
            shrink=0.72,
        )
    drawing = AttentionDrawing(graph, ax, xy, vmax=float(vmax), **style)
    drawing.update(attention, node, head, title)
    _describe(ax.figure, drawing.sentence)
    return ax


def draw_attention_heads(
    graph,
    attention,
    node=None,
    heads=None,
    *,
    ncols: int = 4,
    pos=None,
    seed: int = 0,
    vmax=None,
    panel_size: float = 3.6,
    **kwargs,
):
    r"""One :func:`draw_attention` panel per head, side by side, sharing layout, :math:`\alpha`
    scale (``vmax``, default the largest :math:`\alpha` of the heads drawn) and one colour bar: the
    heads of one layer often attend very differently.

    Args:
        heads: the heads to draw (default all); ``ncols``: panels per row. Other keyword arguments
            go to :func:`draw_attention`.

    Returns:
        The Figure (its panels are ``fig.axes[:len(heads)]``). Chapter "GAT".
    """
    import matplotlib.pyplot as plt

    graph = as_graph(graph)
    att = _as_heads(graph, attention)
    heads = list(range(att.shape[1])) if heads is None else [int(h) for h in heads]
    if not heads or not all(0 <= h < att.shape[1] for h in heads):
        raise ValueError(
            f"heads must be a non-empty list of heads in 0..{att.shape[1] - 1}, got {heads}"
        )
    xy = _positions(graph, pos, seed)
    vmax = float(att[:, heads].max()) if vmax is None else vmax
    vmax = vmax if vmax > 0 else 1.0
    ncols = max(1, min(int(ncols), len(heads)))
    nrows = math.ceil(len(heads) / ncols)
    kwargs.setdefault("node_size", 0.55 * _node_size(graph.num_nodes))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_size * ncols + 0.9, panel_size * nrows + 0.3), squeeze=False
    )
    panel_title = kwargs.pop("title", None)
    kwargs.setdefault("cmap", CMAP)
    attention_colorbar(
        fig, axes.ravel().tolist(), vmax, cmap=kwargs["cmap"]
    )  # first, as in draw_attention
    for i, h in enumerate(heads):
        draw_attention(
            graph,
            att,
            node,
            h,
            axes[i // ncols][i % ncols],
            xy,
            seed=seed,
            vmax=vmax,
            colorbar=False,
            title=panel_title or f"head {h}",
            **kwargs,
        )
    for j in range(len(heads), nrows * ncols):
        axes[j // ncols][j % ncols].set_axis_off()
    if node is not None:
        fig.suptitle(f"attention into node {int(node)}, head by head")
    _DESCRIPTIONS[fig] = [
        f"{len(heads)} panels, one per attention head, of the same graph of {graph.num_nodes} "
        f"nodes on one colour scale from 0 to {vmax:.2f}"
        + (f", focused on node {int(node)}'s incoming edges." if node is not None else ".")
    ]
    return fig


# --- matrix view ---------------------------------------------------------------------------
def attention_heatmap(
    graph,
    attention,
    head=None,
    ax=None,
    *,
    cmap=CMAP,
    node_labels=None,
    annotate=None,
    fmt: str = ".2f",
    colorbar: bool = True,
    title=None,
    vmin: float = 0.0,
    vmax=None,
    rows=None,
    columns=None,
):
    r"""The attention matrix :math:`A_{ij} = \alpha_{ij}`: rows are destinations :math:`i`, columns
    sources :math:`j`; every row sums to one over :math:`N(i)`. Pairs that are not edges are masked
    (drawn light grey), so a zero :math:`\alpha` and a missing edge look different. Duplicate edges
    add. It is the :math:`\operatorname{softmax}(QK^\top)` matrix with the graph as its mask.

    Args:
        head: a head, or ``None``/``"mean"`` for the mean over heads.
        rows, columns: the destinations and sources to draw, in that order (default all); e.g. the
            queries and the keys of a bipartite lookup. At most ``STYLE["max_heatmap_nodes"]`` of
            each (a dense matrix): for a larger graph draw a block, a node's neighbourhood, or
            :func:`attention_entropy_histogram`.
        annotate: print each :math:`\alpha` in its cell (default: at most 12 rows and columns).
        colorbar: draw the colour bar (default on); ``vmin``, ``vmax``: its range (default 0 and the
            largest :math:`\alpha`; pass ``vmax=1`` to compare matrices).

    Returns:
        The Axes; its image's array is a masked ``(len(rows), len(columns))`` array. Chapter
        "Static vs dynamic attention (GATv2)" draws with it the attention of each query of the
        dictionary lookup.
    """
    import matplotlib.pyplot as plt

    graph = as_graph(graph)
    att = _as_heads(graph, attention)
    alpha, head_words = pick_head(att, head), _head_words(att.shape[1], head)
    rows = _node_list("rows", rows, graph.num_dst_nodes)
    columns = _node_list("columns", columns, graph.num_src_nodes)
    values, present = _dense_block(graph, alpha, rows, columns)
    matrix = np.ma.masked_array(values, mask=~present)
    if ax is None:
        side = min(2.0 + 0.34 * max(len(rows), len(columns)), 11.0)
        _, ax = plt.subplots(figsize=(side + 1.2, side))
    top = max(float(values.max()) if values.size else 0.0, 1e-12) if vmax is None else float(vmax)
    image = ax.imshow(
        matrix,
        cmap=colormap(cmap).with_extremes(bad="#eeeeee"),
        vmin=float(vmin),
        vmax=top,
        interpolation="nearest",
    )
    _heatmap_ticks(ax, rows, columns, node_labels)
    if (max(len(rows), len(columns)) <= 12) if annotate is None else annotate:
        for i, j in zip(*np.nonzero(present)):
            ax.text(
                j,
                i,
                format(values[i, j], fmt),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if values[i, j] > 0.55 * top else "black",
            )
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.8, pad=0.02).set_label(
            r"$\alpha_{ij}$ (grey: no edge)"
        )
    if title is None:
        title = r"attention matrix $\alpha_{ij}$" + (f" ({head_words})" if head_words else "")
    if title:
        ax.set_title(title)
    largest = float(values.max()) if values.size else 0.0
    _describe(
        ax.figure,
        f"A {len(rows)} by {len(columns)} matrix of attention α"
        f"{f' ({head_words})' if head_words else ''}, destinations as rows and sources as columns, "
        f"grey where there is no edge; the largest α is {largest:.2f}.",
    )
    return ax


def _node_list(name: str, nodes, count: int) -> np.ndarray:
    """``nodes`` (default all ``count``) as distinct ids in range, at most
    ``STYLE["max_heatmap_nodes"]``."""
    ids = (
        np.arange(count)
        if nodes is None
        else np.asarray(torch.as_tensor(nodes).cpu(), dtype=np.int64).reshape(-1)
    )
    if len(set(ids.tolist())) != len(ids) or (
        len(ids) and not (0 <= ids.min() and ids.max() < count)
    ):
        raise ValueError(f"{name} must be distinct node ids in 0..{count - 1}")
    if len(ids) > STYLE["max_heatmap_nodes"]:
        raise ValueError(
            f"{name}: {len(ids)} nodes; attention_heatmap draws at most "
            f"{STYLE['max_heatmap_nodes']} "
            f"(STYLE['max_heatmap_nodes']): pass rows=/columns= for a block (e.g. a node's "
            f"neighbourhood, a subgraph), or draw attention_entropy_histogram for the whole graph"
        )
    return ids


def _dense_block(graph, alpha: np.ndarray, rows: np.ndarray, columns: np.ndarray):
    """``(values, present)``: the ``rows`` x ``columns`` block of the attention
    matrix (duplicates add)."""
    row_of = np.full(graph.num_dst_nodes, -1)
    row_of[rows] = np.arange(len(rows))
    col_of = np.full(graph.num_src_nodes, -1)
    col_of[columns] = np.arange(len(columns))
    r, c = row_of[graph.dst.cpu().numpy()], col_of[graph.src.cpu().numpy()]
    keep = (r >= 0) & (c >= 0)
    values = np.zeros((len(rows), len(columns)))
    present = np.zeros((len(rows), len(columns)), dtype=bool)
    np.add.at(values, (r[keep], c[keep]), alpha[keep])
    present[r[keep], c[keep]] = True
    return values, present


def _heatmap_ticks(ax, rows, columns, node_labels) -> None:
    step = 1 if max(len(rows), len(columns)) <= 40 else max(1, max(len(rows), len(columns)) // 20)
    ax.set_xticks(range(0, len(columns), step))
    ax.set_yticks(range(0, len(rows), step))
    name = (lambda v: _plain(node_labels[v])) if node_labels is not None else str  # noqa: E731
    ax.set_xticklabels([name(int(columns[j])) for j in range(0, len(columns), step)])
    ax.set_yticklabels([name(int(rows[i])) for i in range(0, len(rows), step)])
    ax.tick_params(labelsize=9 if max(len(rows), len(columns)) <= 12 else 7)
    ax.set_xlabel("source $j$ (the neighbour that is listened to)")
    ax.set_ylabel("destination $i$")


# --- entropy -------------------------------------------------------------------------------
def attention_entropy(graph, attention) -> torch.Tensor:
    r"""Entropy of each destination node's incoming attention, per head (in nats):

    .. math::
        \mathcal{H}_i = -\sum_{j \in N(i)} \alpha_{ij} \log \alpha_{ij},

    with :math:`0 \log 0 = 0`. It lies in :math:`[0, \log |N(i)|]`: zero when node :math:`i` listens
    to one neighbour only, :math:`\log |N(i)|` when it listens to all of them equally (uniform
    attention, :math:`\alpha_{ij} = 1/|N(i)|`, which is what GCN-style mean aggregation does). Nodes
    without incoming edges get 0.

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
    out = torch.zeros(graph.num_dst_nodes, att.shape[1], dtype=torch.float64).index_add(
        0, dst, terms
    )
    return out[:, 0] if one_dim else out


def attention_entropy_histogram(
    graph, attention, head=None, ax=None, *, bins: int = 20, title=None, colour: str = "#3b6fb6"
):
    r"""Histogram of the per-node entropy :math:`\mathcal{H}_i` of the incoming attention
    (:func:`attention_entropy`) against the uniform-attention baseline :math:`\log |N(i)|` of the
    same nodes, on shared bins.

    Learned attention whose histogram sits on top of the baseline is (nearly) uniform: the layer
    behaves like mean aggregation. Mass shifted to the left means sharp, selective attention.
    Nodes without incoming edges are left out. The learned bars are filled; the uniform baseline is
    drawn on top as a hatched outline, so neither hides the other.

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
    if not keep.any():
        raise ValueError("graph: no node has incoming edges, so there is no attention to histogram")
    if head is None:
        learned = ent[keep].ravel()
        uniform = np.repeat(np.log(deg[keep]), att.shape[1])
        words = f"all {att.shape[1]} heads" if att.shape[1] > 1 else ""
    else:
        learned = pick_head(ent, head)[keep]
        uniform = np.log(deg[keep])
        words = f"head {int(head)}"
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive int, got {bins!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
    top = max(float(uniform.max(initial=0.0)), float(learned.max(initial=0.0)), 1e-3)
    edges = np.linspace(0.0, top * 1.0001, bins + 1)
    ax.hist(
        learned,
        bins=edges,
        color=colour,
        alpha=0.75,
        histtype="bar",
        edgecolor="#1d3c6e",
        linewidth=0.6,
        label=r"learned attention, $\mathcal{H}_i$",
        zorder=2,
    )
    ax.hist(
        uniform,
        bins=edges,
        histtype="step",
        color="#333333",
        linewidth=1.6,
        hatch="///",
        fill=False,
        label=r"uniform attention, $\log|N(i)|$",
        zorder=3,
    )
    ax.axvline(learned.mean(), color="#1d3c6e", ls="--", lw=1.2, zorder=4)
    ax.axvline(uniform.mean(), color="#333333", ls=":", lw=1.4, zorder=4)
    ax.set_xlabel(r"entropy of node $i$'s incoming attention (nats)")
    ax.set_ylabel("number of nodes" if head is not None or att.shape[1] == 1 else "nodes × heads")
    ax.legend(frameon=False, fontsize=9)
    if title is None:
        title = "entropy of attention vs. uniform attention" + (f" ({words})" if words else "")
    if title:
        ax.set_title(_plain(title))
    _describe(
        ax.figure,
        f"A histogram of the entropy of each node's incoming attention"
        f"{f' ({words})' if words else ''} over {int(keep.sum())} nodes, mean {learned.mean():.2f} "
        f"nats, against uniform attention (hatched outline), mean {uniform.mean():.2f} nats.",
    )
    return ax
