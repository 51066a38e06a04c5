r"""The attention model behind every attention view: controls, attention kinds,
heads, drawing style.

Three views show attention: the matplotlib drawings of :mod:`gnnbook.draw`, the kernel-free browser
figure of :mod:`gnnbook.web` and the ipywidgets explorer of :mod:`gnnbook.widgets`. What they share
lives here, once:

* :class:`Controls`, one state of the figures' controls, and :func:`attention_for_controls`, the
  state-to-:math:`\alpha` step, run by the real ``gnnbook.nn`` layer in float64;
* :data:`KINDS`, the table of attention kinds: which parameters each has, which controls act on it,
  how to build, derive and rebuild its layer, and what the browser page needs from it;
* :func:`pick_head` (one head, or the mean over heads for ``None``/``"mean"``) and
  :func:`in_neighbours`;
* :data:`STYLE`, the drawing constants (colour map, fades, arc bend, label cap, size classes, size
  limits), used by :mod:`gnnbook.draw` and shipped to the browser figure as JSON.

The controls, for an edge :math:`j \to i` and :math:`z = W h (+ b)` per head:

* ``kind``: ``"gat"`` (:math:`e_{ij} = \mathrm{LeakyReLU}(a_l^\top z_j + a_r^\top z_i)`),
  ``"gatv2"`` (:math:`e_{ij} = a^\top \mathrm{LeakyReLU}(z_j + z_i)`), ``"dot"``
  (:math:`e_{ij} = z_j^\top z_i / \sqrt{F}`) or ``"transformer"``
  (:math:`e_{ij} = q_i^\top k_j / \sqrt{F}`, :math:`q = W_q h + b_q`, :math:`k = W_k h + b_k`);
* ``slope``: the LeakyReLU's negative slope (kinds that have one);
* ``scale`` :math:`s \ge 0`: an inverse temperature,
  :math:`\alpha_{ij} = \operatorname{softmax}_j(s\,e_{ij})` (it multiplies the attention vectors, or
  the dot product's logits);
* ``perturb_node``, ``perturb``: :math:`h_p \leftarrow h_p + \text{perturb}\cdot d`, with :math:`d`
  a fixed seeded direction (:func:`perturbation_direction`);
* ``full``: attention over the complete graph with self-loops (every node attends to every node,
  :func:`full_graph`) instead of over the in-neighbours, :math:`\alpha_{ij} =
  \operatorname{softmax}_{j \in V}(s\,e_{ij})`; the graph itself is then only drawn, faintly;
* ``pe``: the positional encoding appended to the features,
  :math:`h_i \leftarrow [\,h_i \,\|\, p_i\,]` with :math:`p_i` the Laplacian (``"laplacian"``)
  or random-walk (``"random_walk"``) encoding of :func:`positional_encodings`, or zeros
  (``"none"``), so one layer of input width ``in_feats + k`` serves every choice (chapter "From
  masked to full attention");
* ``node`` and ``head`` choose what is shown.

Adding an attention kind: one :class:`AttentionKind` entry in :data:`KINDS` plus its score formula
in ``web_assets/attention.js`` (``SCORES``); the tests fail until both exist.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import numbers
import operator
from collections.abc import Callable, Mapping

import torch

from . import pe as _pe_module
from .graph import Graph, as_graph

__all__ = [
    "KINDS",
    "RANGES",
    "STYLE",
    "AttentionKind",
    "Controls",
    "PE_NAMES",
    "attention_for_controls",
    "controlled_layer",
    "default_features",
    "derive_layers",
    "encoding_width",
    "full_graph",
    "heads_and_feats",
    "in_feats_of",
    "in_neighbours",
    "kind_of",
    "layer_kind",
    "layers_from_params",
    "make_layers",
    "page_params_of",
    "perturbation_direction",
    "pick_head",
    "place_labels",
    "positional_encodings",
    "require_full_size",
    "size_class",
    "slope_of",
    "sources_of",
    "with_encoding",
]

#: Slider ranges ``(min, max, step)`` shared by the browser figure and the ipywidgets explorer.
RANGES = {"slope": (0.0, 1.0, 0.01), "scale": (0.0, 3.0, 0.05), "perturb": (-3.0, 3.0, 0.1)}

#: Drawing constants of every attention view (matplotlib and the browser, which reads them as JSON).
#: ``size_classes``: per graph size (up to ``max_nodes``; ``None``: any), matplotlib's node marker
#: area (pt²) and font size, and the browser's node radius, self-loop radius and font size (SVG px).
STYLE = {
    "cmap": "viridis_r",  # reversed viridis, starting at cmap_start so a tiny α stays visible
    "cmap_start": 0.12,
    "width_range": [0.8, 7.0],  # edge width (pt / SVG px) at α = 0 and α = vmax
    "faded_width": 0.8,  # edges not into the focused node: thin and light grey
    "faded_colour": "#c9ccd1",
    "faded_colour_dark": "#5b6068",
    "underlay_opacity": 0.55,  # full attention: the graph's own edges, drawn faintly underneath
    "arc_rad": 0.16,  # matplotlib's arc3 bend; the browser bends its arcs the same way
    # where an α label may sit along its arc (0: source, 1: destination), tried in turn: near the
    # source first, where the edges into one node are still apart
    "label_at": (0.3, 0.4, 0.22, 0.5, 0.6, 0.15, 0.7),
    "label_cap": 8,  # at most this many α labels (the largest)
    "label_nodes_max": 60,  # node labels on graphs up to this size
    "node": "#e8ecf1",
    "node_edge": "#444444",
    "neighbour": "#fde2c4",
    "focus": "#f28e2b",
    "focus_edge": "#7a3a00",
    "perturbed": "#c0392b",
    "size_classes": [
        {
            "max_nodes": 12,
            "node_size": 700.0,
            "font": 11,
            "svg_radius": 17,
            "svg_loop": 12,
            "svg_font": 12,
        },
        {
            "max_nodes": 40,
            "node_size": 380.0,
            "font": 8,
            "svg_radius": 11,
            "svg_loop": 7,
            "svg_font": 10,
        },
        {
            "max_nodes": None,
            "node_size": 90.0,
            "font": 7,
            "svg_radius": 5,
            "svg_loop": 4,
            "svg_font": 8,
        },
    ],
    # Refuse beyond these: a drawing of more nodes is unreadable and slow, a dense heatmap huge.
    "max_draw_nodes": 500,
    "max_heatmap_nodes": 2000,
    "max_page_nodes": 300,
    # full attention computes N^2 scores per move and draws N arcs into the focused node
    "max_full_nodes": 300,
}

#: The positional-encoding choices of the ``pe`` control, with their labels.
PE_NAMES = {"none": "none", "laplacian": "Laplacian", "random_walk": "random walk"}


def size_class(num_nodes: int) -> dict:
    """The :data:`STYLE` size class of a graph of ``num_nodes`` nodes."""
    return next(
        c for c in STYLE["size_classes"] if c["max_nodes"] is None or num_nodes <= c["max_nodes"]
    )


# --- the attention kinds --------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class AttentionKind:
    r"""One attention kind of the figures.

    ``vectors`` maps the page's JSON name of each attention vector to the layer's attribute (shape
    ``(1, H, F)``); ``controls``: the controls beyond ``scale`` that act on it;
    ``build(gnn, in_feats, out_feats, num_heads, slope, shared, bias)`` makes an empty
    ``gnnbook.nn`` layer of this kind (``shared``: one projection for both ends, for kinds that
    can share); ``projections(layer)`` gives its ``(source, destination)`` projections (the page's
    ``Ws`` and ``Wd``; the same module twice when shared). ``scale`` multiplies the vectors, or, for
    a kind without vectors, the projections by :math:`\sqrt{s}` (so the bilinear logits are
    multiplied by :math:`s`)."""

    key: str
    label: str
    classes: tuple[str, ...]
    vectors: Mapping[str, str]
    controls: tuple[str, ...]
    equation: str
    build: Callable
    projections: Callable | None = None  # None: ``fc`` for both ends, or ``fc_src``, ``fc_dst``

    def projections_of(self, layer) -> tuple:
        """The layer's ``(source, destination)`` projections."""
        if self.projections is not None:
            return self.projections(layer)
        return (layer.fc, layer.fc) if hasattr(layer, "fc") else (layer.fc_src, layer.fc_dst)

    def page(self) -> dict:
        """What the browser needs to know about the kind beyond its weights."""
        return {
            "label": self.label,
            "vectors": list(self.vectors),
            "controls": ["scale", *self.controls],
        }


KINDS = {
    "gat": AttentionKind(
        "gat",
        "GAT",
        ("GATConv",),
        {"al": "attn_l", "ar": "attn_r"},
        ("slope",),
        r"e_{ij} = \mathrm{LeakyReLU}(a_l^\top z_j + a_r^\top z_i)",
        lambda gnn, i, f, h, slope, shared, bias: gnn.GATConv(i, f, h, negative_slope=slope),
    ),
    "gatv2": AttentionKind(
        "gatv2",
        "GATv2",
        ("GATv2Conv",),
        {"a": "attn"},
        ("slope",),
        r"e_{ij} = a^\top \mathrm{LeakyReLU}(z_j + z_i)",
        lambda gnn, i, f, h, slope, shared, bias: gnn.GATv2Conv(
            i, f, h, negative_slope=slope, share_weights=shared, bias=bias
        ),
    ),
    "dot": AttentionKind(
        "dot",
        "dot product",
        ("DotGATConv", "DotGatConv"),
        {},
        (),
        r"e_{ij} = z_j^\top z_i / \sqrt{F}",
        lambda gnn, i, f, h, slope, shared, bias: gnn.DotGATConv(i, f, h),
    ),
    "transformer": AttentionKind(
        "transformer",
        "graph transformer",
        ("TransformerConv",),
        {},
        (),
        r"e_{ij} = q_i^\top k_j / \sqrt{F}",
        lambda gnn, i, f, h, slope, shared, bias: gnn.TransformerConv(i, f, h, bias=bias),
        lambda layer: (layer.lin_key, layer.lin_query),  # keys from sources, queries at the end
    ),
}


def layer_kind(layer) -> str:
    """The :data:`KINDS` key of a layer, from its class name (GATConv, GATv2Conv, DotGATConv,
    TransformerConv)."""
    name = type(layer).__name__
    for kind in KINDS.values():
        if name in kind.classes:
            return kind.key
    known = ", ".join(c for k in KINDS.values() for c in k.classes)
    raise TypeError(f"layer must be one of {known}; got {name}")


def kind_of(key: str) -> AttentionKind:
    """The :class:`AttentionKind` of a key, or a ValueError naming ``kind``."""
    if key not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {key!r}")
    return KINDS[key]


def _linears(layer):
    """``(source projection, destination projection or None when shared)`` of a layer."""
    src, dst = KINDS[layer_kind(layer)].projections_of(layer)
    return src, (None if dst is src else dst)


def _projections(layer):
    """The distinct projections of a layer (one when shared)."""
    return [m for m in _linears(layer) if m is not None]


def heads_and_feats(layer) -> tuple[int, int]:
    """``(num_heads, out_feats)`` of an attention layer."""
    return int(layer._num_heads), int(layer._out_feats)


def in_feats_of(layer) -> int:
    """The input width of a layer's (source) projection."""
    return int(_linears(layer)[0].weight.shape[1])


def slope_of(layer) -> float:
    """The layer's LeakyReLU negative slope (0.2, the layers' default, for a kind without one)."""
    for module in layer.modules():
        if isinstance(module, torch.nn.LeakyReLU):
            return float(module.negative_slope)
    return 0.2


# --- the control state and what it does to a layer ----------------------------------------------
@dataclasses.dataclass
class Controls:
    """One state of the figures' controls (the browser figure and the explorer
    use the same fields)."""

    node: int = 0
    head: int | str | None = 0
    kind: str = "gat"
    slope: float = 0.2
    scale: float = 1.0
    perturb_node: int | None = None
    perturb: float = 0.0
    full: bool = False
    pe: str = "none"

    @classmethod
    def of(cls, state=None, **changes) -> Controls:
        """A :class:`Controls` from another one, a dict (e.g. the browser's
        ``data-state``) or nothing."""
        if state is None:
            base = cls()
        elif isinstance(state, Controls):
            base = dataclasses.replace(state)
        else:
            known = {f.name for f in dataclasses.fields(cls)}
            base = cls(**{k: v for k, v in dict(state).items() if k in known})
        return dataclasses.replace(base, **changes)


def _finite(name: str, value) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def controlled_layer(layer, controls: Controls) -> torch.nn.Module:
    r"""A float64, eval-mode copy of ``layer`` with the controls applied: the LeakyReLU slope set to
    ``controls.slope``; the attention vectors multiplied by ``controls.scale`` (a kind without
    vectors: the projection by :math:`\sqrt{\text{scale}}`, so the logits :math:`z_j^\top z_i` are
    multiplied by the scale). ``layer`` itself is not touched."""
    kind = KINDS[layer_kind(layer)]
    scale = _finite("scale", controls.scale)
    if scale < 0:
        raise ValueError(f"scale must be >= 0, got {scale}")
    slope = _finite("slope", controls.slope)
    twin = copy.deepcopy(layer).to(torch.float64).eval()
    for module in twin.modules():
        if isinstance(module, torch.nn.LeakyReLU):
            module.negative_slope = slope
    with torch.no_grad():
        for attr in kind.vectors.values():
            getattr(twin, attr).mul_(scale)
        if not kind.vectors:
            for lin in _projections(twin):
                lin.weight.mul_(math.sqrt(scale))
                if lin.bias is not None:
                    lin.bias.mul_(math.sqrt(scale))
    return twin


def perturbation_direction(feat: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """The fixed direction ``d`` of the "perturb" control: a seeded random unit vector times the
    root-mean-square length of a feature row (so ``perturb = 1`` moves a node by a typical row)."""
    feat = torch.as_tensor(feat, dtype=torch.float64)
    gen = torch.Generator().manual_seed(int(seed) + 7919)
    d = torch.randn(feat.shape[1], generator=gen, dtype=torch.float64)
    rms = float(feat.pow(2).sum(1).mean().sqrt()) if feat.numel() else 1.0
    return d / d.norm() * (rms if rms > 0 else 1.0)


def full_graph(num_nodes: int) -> Graph:
    r"""The complete graph with self-loops on ``num_nodes`` nodes, what full attention attends over:
    edge :math:`k = i N + j` is :math:`j \to i`, so the :math:`N` edges into node :math:`i` are the
    block :math:`iN, \dots, iN + N - 1`, ordered by source. Chapter "From masked to full
    attention"."""
    ids = torch.arange(int(num_nodes))
    return Graph(ids.repeat(int(num_nodes)), ids.repeat_interleave(int(num_nodes)), int(num_nodes))


def require_full_size(graph: Graph) -> None:
    """A ValueError naming ``full`` when ``graph`` has more nodes than the figures attend over in
    full (``STYLE["max_full_nodes"]``): :math:`N^2` scores on every move."""
    if graph.num_nodes > STYLE["max_full_nodes"]:
        raise ValueError(
            f"full: full attention on {graph.num_nodes} nodes is {graph.num_nodes}^2 scores; "
            f"the figures take at most {STYLE['max_full_nodes']} nodes"
        )


def encoding_width(encodings) -> int:
    """The width :math:`k` shared by the encodings of :func:`positional_encodings`."""
    return next(iter(encodings.values())).shape[1]


def sources_of(graph, node: int, full: bool = False) -> list:
    """The nodes that ``node`` attends to: its in-neighbours (:func:`in_neighbours`), or every node
    under full attention."""
    graph = as_graph(graph)
    return list(range(graph.num_nodes)) if full else in_neighbours(graph, node)


def positional_encodings(graph, k) -> dict:
    r"""``{name: (N, k) float64}``: the encodings the ``pe`` control offers,
    :func:`gnnbook.pe.laplacian_pe` (undirected graphs only: :math:`L` must be symmetric) and
    :func:`gnnbook.pe.random_walk_pe` of ``graph`` as given (self-loops count in the random walk).
    ``k`` must be in :math:`1, \dots, N - 1` (a graph of :math:`N` nodes has :math:`N - 1`
    non-trivial Laplacian eigenvectors); else a ValueError naming ``pe_k``. Chapter "From masked to
    full attention"."""
    graph = as_graph(graph)
    n = graph.num_nodes
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= n - 1:
        raise ValueError(
            f"pe_k must be an integer in 1..{n - 1} (a graph of {n} nodes has {n - 1} non-trivial "
            f"Laplacian eigenvectors), got {k!r}"
        )
    out = {}
    try:
        out["laplacian"] = _pe_module.laplacian_pe(graph, int(k)).cpu()
    except ValueError:  # a directed graph: no symmetric Laplacian, the random walk only
        pass
    out["random_walk"] = _pe_module.random_walk_pe(graph, int(k)).cpu()
    return out


def with_encoding(feat: torch.Tensor, encodings, pe: str) -> torch.Tensor:
    r"""The layer's input :math:`[\,h \,\|\, p\,]`: ``feat`` ``(N, D)`` with the encoding
    ``encodings[pe]`` ``(N, k)`` appended, or ``k`` zeros for ``pe="none"``; ``feat`` itself when
    there are no ``encodings`` (``None`` or empty). A ``pe`` not offered is a ValueError naming
    ``pe``."""
    if not encodings:
        if pe != "none":
            raise ValueError(
                f"pe must be 'none': this figure has no positional encodings, got {pe!r}"
            )
        return feat
    if pe != "none" and pe not in encodings:
        raise ValueError(f"pe must be one of {['none', *encodings]}, got {pe!r}")
    width = encoding_width(encodings)
    code = (
        torch.zeros(feat.shape[0], width, dtype=feat.dtype)
        if pe == "none"
        else torch.as_tensor(encodings[pe], dtype=feat.dtype)
    )
    return torch.cat([feat, code], 1)


def in_neighbours(graph, node: int) -> list:
    """The distinct in-neighbours :math:`j` of ``node`` (edges :math:`j \\to`
    node), in edge order."""
    graph = as_graph(graph)
    return list(dict.fromkeys(graph.src[graph.dst == int(node)].tolist()))


def pick_head(alpha, head):
    """``(E,)``: one head of ``(E, H)`` (or ``(E, H, 1)``) attention, or the mean over heads for
    ``head=None`` or ``"mean"``. Works on tensors and numpy arrays; a head that does not exist is a
    ValueError naming ``head``."""
    alpha = alpha.reshape(alpha.shape[0], -1)
    if head is None or head == "mean":
        return alpha.mean(1)
    try:
        index = operator.index(head)
    except TypeError:
        raise ValueError(f"head must be an int, None or 'mean', got {head!r}") from None
    num_heads = alpha.shape[1]
    if isinstance(head, bool) or not 0 <= index < num_heads:
        raise ValueError(
            f"head must be in 0..{num_heads - 1} (the attention has {num_heads} head(s)), got "
            f"{head!r}"
        )
    return alpha[:, index]


def _graph_for(layer, graph: Graph):
    # A DGL layer (used while developing against DGL) needs a DGL graph; gnnbook layers take ours.
    return graph.to_dgl() if type(layer).__module__.startswith("dgl") else graph


def attention_for_controls(
    graph, layers, feat, controls=None, direction=None, encodings=None, **changes
) -> torch.Tensor:
    r"""Attention of every edge and head, ``(E, H)`` float64, for one control state, computed by the
    real layer (:func:`controlled_layer`, then ``forward(graph, feat, get_attention=True)``) on the
    features with node ``perturb_node`` moved by ``perturb`` along ``direction`` (default
    :func:`perturbation_direction` with seed 0), then with the positional encoding ``pe`` appended
    (:func:`with_encoding`; ``encodings`` from :func:`positional_encodings`, or ``None``). With
    ``full`` the layer runs on :func:`full_graph` instead, and the result is ``(N^2, H)`` in its
    edge order. This is what the browser figure computes.

    ``layers``: one layer or a mapping ``kind -> layer``; ``controls``: a :class:`Controls` or dict,
    updated by keyword ``changes``. Full attention on more than ``STYLE["max_full_nodes"]`` nodes is
    a ValueError naming ``full``.
    """
    graph = as_graph(graph)
    controls = Controls.of(controls, **changes)
    if isinstance(layers, Mapping):
        if controls.kind not in layers:
            raise ValueError(
                f"kind must be one of the layers given, {sorted(layers)}; got {controls.kind!r}"
            )
        layer = layers[controls.kind]
    else:
        layer = layers
        controls = dataclasses.replace(controls, kind=layer_kind(layer))
    feat = torch.as_tensor(feat).detach().to("cpu", torch.float64).clone()
    if controls.perturb_node is not None and controls.perturb != 0:
        d = (
            perturbation_direction(feat)
            if direction is None
            else torch.as_tensor(direction, dtype=torch.float64)
        )
        if not 0 <= int(controls.perturb_node) < feat.shape[0]:
            raise ValueError(
                f"perturb_node must be a node (0..{feat.shape[0] - 1}), got {controls.perturb_node}"
            )
        feat[int(controls.perturb_node)] += _finite("perturb", controls.perturb) * d
    feat = with_encoding(feat, encodings, controls.pe)
    if controls.full:
        require_full_size(graph)
        graph = full_graph(graph.num_nodes)
    twin = controlled_layer(layer, controls)
    with torch.no_grad():
        _, att = twin(_graph_for(layer, graph), feat, get_attention=True)
    att = att.detach().to("cpu", torch.float64)
    return att.reshape(att.shape[0], -1)


# --- layers for figures -------------------------------------------------------------------------
def _nn():
    from . import nn as gnn  # imported when needed: the views work with given layers without it

    return gnn


def _fill(layer, weight, bias, vector) -> torch.nn.Module:
    """Copy one projection ``weight``/``bias`` (None: zero) into every projection of ``layer`` and
    ``vector`` ``(1, H, F)`` into every attention vector; zero the output
    bias. Returns the layer."""
    with torch.no_grad():
        for lin in _projections(layer):
            lin.weight.copy_(weight)
            if lin.bias is not None:
                lin.bias.copy_(bias) if bias is not None else lin.bias.zero_()
        for attr in KINDS[layer_kind(layer)].vectors.values():
            getattr(layer, attr).copy_(vector)
        if isinstance(getattr(layer, "bias", None), torch.nn.Parameter):
            layer.bias.zero_()
    return layer


def derive_layers(layer) -> dict:
    """``{kind: layer}`` for every kind of :data:`KINDS`, from one layer: the others share its
    projection :math:`W` (no projection bias) and take its first attention vector as each of theirs
    (GAT's :math:`a_l` becomes GATv2's :math:`a`; GATv2's :math:`a` becomes GAT's
    :math:`a_l = a_r`); from a kind without vectors they get a seeded draw. A kind that always has
    its own destination projection (the transformer's :math:`W_q`) takes the layer's destination
    projection, or a seeded draw when the layer has one shared projection (else it would be the dot
    product). Everything is float64."""
    own = layer_kind(layer)
    out = {own: copy.deepcopy(layer).to(torch.float64)}
    src, dst = _linears(layer)
    num_heads, out_feats = heads_and_feats(layer)
    weight = src.weight.detach().to(torch.float64)
    names = list(KINDS[own].vectors.values())
    if names:
        vector = getattr(layer, names[0]).detach().to(torch.float64)
    else:
        gen = torch.Generator().manual_seed(0)
        vector = torch.randn(1, num_heads, out_feats, generator=gen, dtype=torch.float64) * (
            1.5 / math.sqrt(out_feats)
        )
    if dst is not None:
        query = dst.weight.detach().to(torch.float64)
    else:
        gen = torch.Generator().manual_seed(611953)  # not a seed of make_layers' own draws
        query = torch.randn(weight.shape, generator=gen, dtype=torch.float64) / math.sqrt(
            weight.shape[1]
        )
    gnn, slope = _nn(), slope_of(layer)
    for key, kind in KINDS.items():
        if key not in out:
            new = kind.build(gnn, weight.shape[1], out_feats, num_heads, slope, True, False).to(
                torch.float64
            )
            out[key] = _fill(new, weight, None, vector)
            own_dst = _linears(new)[1]
            if own_dst is not None and own_dst.weight.shape == query.shape:
                with torch.no_grad():
                    own_dst.weight.copy_(query)
    return {k: out[k] for k in KINDS}


def make_layers(
    in_feats: int,
    out_feats: int = 4,
    num_heads: int = 2,
    *,
    seed: int = 0,
    negative_slope: float = 0.2,
) -> dict:
    r"""``{kind: layer}`` of ``gnnbook.nn`` layers (float64) with weights drawn from ``seed`` only
    (the global RNG is untouched): :math:`W \sim \mathcal{N}(0, 1/\text{in\_feats})` shared by all
    kinds, :math:`a_l, a_r \sim \mathcal{N}(0, 2.25/\text{out\_feats})`, biases zero; the other
    kinds follow :func:`derive_layers`. The explorer's layers when it is given none (the tests use
    them too)."""
    gnn = _nn()
    gen = torch.Generator().manual_seed(int(seed))
    gat = gnn.GATConv(in_feats, out_feats, num_heads, negative_slope=negative_slope).to(
        torch.float64
    )
    with torch.no_grad():
        gat.fc.weight.copy_(
            torch.randn(gat.fc.weight.shape, generator=gen, dtype=torch.float64)
            / math.sqrt(in_feats)
        )
        for p in (gat.attn_l, gat.attn_r):
            p.copy_(
                torch.randn(p.shape, generator=gen, dtype=torch.float64)
                * (1.5 / math.sqrt(out_feats))
            )
        gat.bias.zero_()
    return derive_layers(gat)


def default_features(num_nodes: int, in_feats: int = 5, *, seed: int = 0) -> torch.Tensor:
    """Seeded standard-normal node features, float64 ``(num_nodes, in_feats)``."""
    gen = torch.Generator().manual_seed(int(seed) + 104729)
    return torch.randn(num_nodes, in_feats, generator=gen, dtype=torch.float64)


# --- label placement ----------------------------------------------------------------------------
def _label_box(spot, text: str, font: float):
    """A label's box ``(x0, y0, x1, y1)`` around ``spot``: about 0.62 font sizes per character."""
    half_w, half_h = 0.31 * font * len(text) + 0.45 * font, 0.85 * font
    return (spot[0] - half_w, spot[1] - half_h, spot[0] + half_w, spot[1] + half_h)


def place_labels(spots, texts, font: float, discs, radius: float) -> list:
    """For each label (in order), the first of its candidate ``spots`` whose box meets no node disc
    (centres ``discs``, ``radius``) and no label placed before it, or ``None`` (the label is left
    out) when every spot meets something. All lengths in one unit (``font``: the font size).
    ``attention.js`` (``placeLabels``) does the same in SVG pixels."""
    placed, chosen = [], []
    for candidates, text in zip(spots, texts):

        def hits(box):
            n = sum(
                box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3] for o in placed
            )
            for cx, cy in discs:
                qx, qy = min(max(cx, box[0]), box[2]), min(max(cy, box[1]), box[3])
                n += math.hypot(cx - qx, cy - qy) < radius
            return n

        boxes = [_label_box(spot, text, font) for spot in candidates]
        free = next((i for i, box in enumerate(boxes) if not hits(box)), None)
        if free is not None:
            placed.append(boxes[free])
        chosen.append(None if free is None else candidates[free])
    return chosen


# --- the page's parameters of a layer, and back -------------------------------------------------
def _floats(t) -> list:
    return torch.as_tensor(t).detach().to("cpu", torch.float64).tolist()


def page_params_of(layer) -> dict:
    """The browser's parameters of one layer (``PAGE_SCHEMA["properties"]["kinds"]`` in
    :mod:`gnnbook.web`): projections ``Ws, bs`` (source) and ``Wd, bd`` (destination; ``null`` when
    shared), the slope, and each attention vector of the kind as ``(H, F)``."""
    kind = KINDS[layer_kind(layer)]
    src, dst = _linears(layer)
    heads, feats = heads_and_feats(layer)
    params = {
        "Ws": _floats(src.weight),
        "bs": None if src.bias is None else _floats(src.bias),
        "Wd": None if dst is None else _floats(dst.weight),
        "bd": None if dst is None or dst.bias is None else _floats(dst.bias),
        "slope": slope_of(layer),
    }
    for name, attr in kind.vectors.items():
        params[name] = _floats(getattr(layer, attr).reshape(heads, feats))
    return params


def layers_from_params(params: dict) -> dict:
    """Rebuild real ``gnnbook.nn`` layers (float64) from a figure's embedded JSON, so that a figure
    found on a web page can be checked against Python without the code that made it."""
    gnn = _nn()
    heads, feats, in_feats = params["heads"], params["out_feats"], params["in_feats"]
    t = lambda x: torch.tensor(x, dtype=torch.float64)  # noqa: E731
    layers = {}
    for key, p in params["kinds"].items():
        kind = KINDS[key]
        shared = p["Wd"] is None
        ins = (
            in_feats if shared else (in_feats, in_feats)
        )  # two projections: a pair of input widths
        layer = kind.build(gnn, ins, feats, heads, p["slope"], shared, p["bs"] is not None)
        layer = layer.to(torch.float64)
        src, dst = _linears(layer)
        with torch.no_grad():
            pairs = [(src, p["Ws"], p["bs"])] + ([] if dst is None else [(dst, p["Wd"], p["bd"])])
            for lin, w, b in pairs:
                lin.weight.copy_(t(w))
                if (b is None) != (lin.bias is None):
                    raise ValueError(
                        f"params: {key}'s projection bias does not match a gnnbook.nn "
                        f"{kind.classes[0]}"
                    )
                if b is not None:
                    lin.bias.copy_(t(b))
            for name, attr in kind.vectors.items():
                getattr(layer, attr).copy_(t(p[name]).reshape(1, heads, feats))
            if isinstance(getattr(layer, "bias", None), torch.nn.Parameter):
                layer.bias.zero_()
        layers[key] = layer
    return layers
