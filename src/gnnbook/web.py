r"""Interactive attention figures that need no kernel: HTML + JavaScript recomputing attention in
the browser.

:func:`interactive_attention` embeds the layers' weights, the node features and the graph in one
self-contained HTML fragment (inline SVG, no CDN, no external file or font). Its script
(``web_assets/attention.js``) recomputes, in float64, exactly what
:func:`gnnbook.attention_model.attention_for_controls` computes in Python with the real
``gnnbook.nn`` layers, for every state of the controls that :mod:`gnnbook.attention_model` defines.
The page's JSON is :data:`PAGE_SCHEMA`; its drawing constants are
:data:`gnnbook.attention_model.STYLE`, the same as :mod:`gnnbook.draw`'s.

This module is the browser view of :mod:`gnnbook.attention_model`; :mod:`gnnbook.widgets` is the
kernel view, and shows this figure where there is no kernel. Chapter "The Q/K/V analogy".
"""

from __future__ import annotations

import dataclasses
import hashlib
import html as _html
import itertools
import json
import math
import numbers
from collections.abc import Mapping
from importlib import resources

import numpy as np
import torch

from .attention_model import (
    KINDS,
    PE_NAMES,
    RANGES,
    STYLE,
    Controls,
    attention_for_controls,
    controlled_layer,
    default_features,
    derive_layers,
    encoding_width,
    heads_and_feats,
    in_feats_of,
    kind_of,
    layer_kind,
    layers_from_params,
    make_layers,
    page_params_of,
    perturbation_direction,
    pick_head,
    positional_encodings,
    require_full_size,
    slope_of,
    sources_of,
)
from .draw import colormap, graph_layout
from .graph import Graph, as_graph

_counter = itertools.count()
KIND_NAMES = {key: kind.label for key, kind in KINDS.items()}

# The model's names are re-exported: chapters and older code import them from here.
__all__ = [
    "KINDS",
    "KIND_NAMES",
    "PAGE_SCHEMA",
    "RANGES",
    "Controls",
    "InteractiveAttention",
    "attention_for_controls",
    "attention_from_params",
    "controlled_layer",
    "default_features",
    "derive_layers",
    "embed_json",
    "interactive_attention",
    "layer_kind",
    "layers_from_params",
    "make_layers",
    "perturbation_direction",
    "pick_head",
]

_matrix = {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}
_vector = {"type": "array", "items": {"type": "number"}}
_nullable = lambda schema: {"anyOf": [schema, {"type": "null"}]}  # noqa: E731

#: The JSON an interactive figure carries in its ``<script class="gnnbook-params">`` block (JSON
#: Schema). ``attention.js`` reads nothing else; ``tests/test_web.py`` checks every figure against
#: it. Edge ``k`` is ``src[k] -> dst[k]``; ``in_feats`` is the layers' input width and ``feat`` is
#: ``(n, in_feats - k)``, ``k`` the width of the positional encodings (0 without them); per kind,
#: ``Ws`` is ``(heads * out_feats, in_feats)`` (``z = W h + b``, head ``h`` owns rows
#: ``h*F .. h*F+F-1``) and each attention vector named in ``kind_info[kind].vectors`` is
#: ``(heads, out_feats)``. Version 3 added: ``offer_full`` (the page shows the full-attention
#: control: ``init.full`` attends over every ``(j, i)`` pair, edge ``i*n + j`` of
#: :func:`gnnbook.attention_model.full_graph`), ``pe`` (``null``, or ``k`` and the ``(n, k)``
#: encodings by name, :func:`gnnbook.attention_model.positional_encodings`; the layer's input is
#: ``feat`` with ``encodings[init.pe]``, or ``k`` zeros for ``"none"``, appended), and the
#: ``transformer`` kind (``Ws``/``bs``: :math:`W_k, b_k`; ``Wd``/``bd``: :math:`W_q, b_q`).
PAGE_SCHEMA = {
    "type": "object",
    "required": [
        "version",
        "n",
        "src",
        "dst",
        "labels",
        "pos",
        "heads",
        "out_feats",
        "in_feats",
        "feat",
        "direction",
        "offer_full",
        "pe",
        "kinds",
        "kind_info",
        "cmap",
        "vmax",
        "style",
        "ranges",
        "init",
    ],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 3},
        "n": {"type": "integer", "minimum": 1},
        "src": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "dst": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "labels": {"type": "array", "items": {"type": "string"}},
        "pos": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
        },
        "heads": {"type": "integer", "minimum": 1},
        "out_feats": {"type": "integer", "minimum": 1},
        "in_feats": {"type": "integer", "minimum": 1},
        "feat": _matrix,
        "direction": _vector,
        "offer_full": {"type": "boolean"},
        "pe": _nullable(
            {
                "type": "object",
                "required": ["k", "encodings"],
                "additionalProperties": False,
                "properties": {
                    "k": {"type": "integer", "minimum": 1},
                    "encodings": {
                        "type": "object",
                        "minProperties": 1,
                        "propertyNames": {"enum": [p for p in PE_NAMES if p != "none"]},
                        "additionalProperties": _matrix,
                    },
                },
            }
        ),
        "kinds": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"enum": list(KINDS)},
            "additionalProperties": {
                "type": "object",
                "required": ["Ws", "bs", "Wd", "bd", "slope"],
                "properties": {
                    "Ws": _matrix,
                    "bs": _nullable(_vector),
                    "Wd": _nullable(_matrix),
                    "bd": _nullable(_vector),
                    "slope": {"type": "number"},
                },
                "additionalProperties": _matrix,  # the attention vectors, (heads, out_feats)
            },
        },
        "kind_info": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["label", "vectors", "controls"],
                "additionalProperties": False,
                "properties": {
                    "label": {"type": "string"},
                    "vectors": {"type": "array", "items": {"type": "string"}},
                    "controls": {"type": "array", "items": {"enum": ["scale", "slope"]}},
                },
            },
        },
        "cmap": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "number"}, "minItems": 3, "maxItems": 3},
            "minItems": 2,
        },
        "vmax": _nullable({"type": "number", "exclusiveMinimum": 0}),
        "style": {"type": "object", "required": list(STYLE)},
        "ranges": {"type": "object", "required": list(RANGES)},
        "init": {
            "type": "object",
            "additionalProperties": False,
            "required": [f.name for f in dataclasses.fields(Controls)],
            "properties": {
                "node": {"type": "integer"},
                "head": {"anyOf": [{"type": "integer"}, {"const": "mean"}]},
                "kind": {"enum": list(KINDS)},
                "slope": {"type": "number"},
                "scale": {"type": "number", "minimum": 0},
                "perturb_node": _nullable({"type": "integer"}),
                "perturb": {"type": "number"},
                "full": {"type": "boolean"},
                "pe": {"enum": list(PE_NAMES)},
            },
        },
    },
}

_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def embed_json(value) -> str:
    """``value`` as JSON that is safe inside an HTML ``<script>`` element: ``<``, ``>``, ``&``,
    U+2028 and U+2029 are written as ``\\uXXXX`` escapes (the same string to a JSON parser), so no
    label such as ``</script>`` or ``<!--`` can end the element or change how the HTML parser reads
    it. NaN and infinity are refused (they are not JSON)."""
    text = json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return "".join(_JSON_ESCAPES.get(c, c) for c in text)


def _asset(name: str) -> str:
    return (resources.files("gnnbook") / "web_assets" / name).read_text(encoding="utf-8")


def _encodings_of(params: dict) -> dict | None:
    pe = params["pe"]
    if pe is None:
        return None
    return {name: torch.tensor(m, dtype=torch.float64) for name, m in pe["encodings"].items()}


def attention_from_params(params: dict, state) -> np.ndarray:
    """α per edge ``(E,)`` (``(n^2,)`` under full attention) for a control state (e.g. the
    browser's ``data-state``) of a figure known only by its embedded JSON: rebuilds the layers
    (:func:`layers_from_params`) and runs them."""
    graph = Graph(torch.tensor(params["src"]), torch.tensor(params["dst"]), params["n"])
    state = Controls.of(state)
    alpha = attention_for_controls(
        graph,
        layers_from_params(params),
        torch.tensor(params["feat"], dtype=torch.float64),
        state,
        direction=torch.tensor(params["direction"], dtype=torch.float64),
        encodings=_encodings_of(params),
    )
    return pick_head(alpha, state.head).numpy()


# --- the figure ---------------------------------------------------------------------------------
class InteractiveAttention:
    """A kernel-free interactive attention figure. Display it (``_repr_html_``) or use ``.html``;
    ``.params`` is the embedded JSON (:data:`PAGE_SCHEMA`); :meth:`attention` is what the browser
    computes, in Python."""

    def __init__(
        self,
        graph: Graph,
        layers: dict,
        feat: torch.Tensor,
        direction: torch.Tensor,
        init: Controls,
        params: dict,
        figure_id: str,
        title: str,
    ):
        self.graph, self.layers, self.feat, self.direction = graph, layers, feat, direction
        self.init, self.params, self.id, self.title = init, params, figure_id, title
        self.html = _render(self)

    def attention(self, controls=None, all_heads: bool = False, **changes) -> np.ndarray:
        """α per edge for a control state (default the figure's initial one, updated by ``changes``;
        a dict such as the browser's ``data-state`` works): ``(E,)`` for the state's head (or mean),
        ``(E, H)`` with ``all_heads`` (``n^2`` rows under full attention, in the order of
        :func:`gnnbook.attention_model.full_graph`). Runs the real layers in float64
        (:func:`attention_for_controls`)."""
        state = Controls.of(self.init if controls is None else controls, **changes)
        inputs = (self.graph, self.layers, self.feat, state, self.direction)
        alpha = attention_for_controls(*inputs, encodings=_encodings_of(self.params))
        return (alpha if all_heads else pick_head(alpha, state.head)).numpy()

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        kinds = ", ".join(self.params["kinds"])
        p = self.params
        return (
            f"<InteractiveAttention {self.id}: {p['n']} nodes, {len(p['src'])} edges, kinds "
            f"{kinds}>"
        )


def _control(
    fid: str, name: str, text: str, field: str, hidden: bool = False, field_first: bool = False
) -> str:
    """One labelled control; ``field`` is its ``<select>`` or ``<input>`` (with
    ``id="{fid}-{name}"``), after its label or, for a checkbox, before it."""
    label = f'<label for="{fid}-{name}">{text}</label>'
    parts = f"{field}{label}" if field_first else f"{label}{field}"
    kind = "ga-ctl ga-check" if field_first else "ga-ctl"  # a checkbox stays beside its label
    return f'<div class="{kind}"{" hidden" if hidden else ""}>{parts}</div>'


def _slider(fid: str, name: str, value: float) -> str:
    lo, hi, step = RANGES[name]
    return (
        f'<span class="ga-slider"><input type="range" id="{fid}-{name}" data-control="{name}" '
        f'min="{lo}" max="{hi}" step="{step}" value="{value}"><output data-show="{name}" '
        f'for="{fid}-{name}"></output></span>'
    )


def _controls_html(fig: InteractiveAttention) -> str:
    fid, p, init = fig.id, fig.params, fig.init
    node_opts = "".join(
        f'<option value="{v}"{" selected" if v == init.node else ""}>{_html.escape(label)}</option>'
        for v, label in enumerate(p["labels"])
    )
    head_opts = "".join(f'<option value="{h}">{h}</option>' for h in range(p["heads"]))
    head_opts += '<option value="mean">mean of heads</option>' if p["heads"] > 1 else ""
    kind_opts = "".join(
        f'<option value="{k}">{_html.escape(KINDS[k].label)}</option>' for k in p["kinds"]
    )
    pe_names = ["none", *(p["pe"]["encodings"] if p["pe"] else [])]
    k = p["pe"]["k"] if p["pe"] else 0
    pe_opts = "".join(
        f'<option value="{name}">{PE_NAMES[name]}{"" if name == "none" else f" (k = {k})"}</option>'
        for name in pe_names
    )
    # the scale multiplies the attention vectors a, or the scores of kinds without vectors
    has_vectors = any(KINDS[k].vectors for k in p["kinds"])
    scale_text = f"scale of {'a' if has_vectors else 'the scores'} (1/temperature)"
    full_box = (
        f'<input type="checkbox" id="{fid}-full" data-control="full"'
        f"{' checked' if init.full else ''}>"
    )
    select = lambda name, opts: f'<select id="{fid}-{name}" data-control="{name}">{opts}</select>'  # noqa: E731
    return (
        _control(fid, "node", "node", select("node", node_opts))
        + _control(fid, "head", "head", select("head", head_opts), hidden=p["heads"] == 1)
        + _control(fid, "kind", "attention", select("kind", kind_opts), hidden=len(p["kinds"]) == 1)
        + _control(
            fid,
            "full",
            "full attention (every node attends to every node)",
            full_box,
            hidden=not p["offer_full"],
            field_first=True,
        )
        + _control(fid, "pe", "positional encoding", select("pe", pe_opts), hidden=not p["pe"])
        + _control(
            fid,
            "slope",
            "LeakyReLU slope",
            _slider(fid, "slope", init.slope),
            hidden=not any("slope" in KINDS[k].controls for k in p["kinds"]),
        )
        + _control(fid, "scale", scale_text, _slider(fid, "scale", init.scale))
        + f'<div class="ga-ctl ga-wide"><label for="{fid}-perturb_node">perturb neighbour</label>'
        + select("perturb_node", "")
        + f'<label for="{fid}-perturb">by<span class="ga-sr"> (how far the chosen neighbour\'s '
        "features move)" + "</span></label>" + _slider(fid, "perturb", init.perturb) + "</div>"
    )


def _style_variables(fid: str) -> str:
    """The CSS variables of one figure, from :data:`STYLE` (the stylesheet uses only these)."""
    names = ("node", "node_edge", "neighbour", "focus", "focus_edge", "perturbed", "faded_colour")
    light = "".join(f"--ga-{n.replace('_', '-')}:{STYLE[n]};" for n in names)
    dark = f"--ga-faded-colour:{STYLE['faded_colour_dark']};"
    return (
        f"#{fid}{{{light}}}"
        f'html[data-theme="dark"] #{fid},body[data-jp-theme-light="false"] #{fid}{{{dark}}}'
    )


def _render(fig: InteractiveAttention) -> str:
    fid = fig.id
    css = _style_variables(fid) + _asset("attention.css").replace("__FIGURE_ID__", fid)
    js = _asset("attention.js").replace("__FIGURE_ID__", fid)
    title = (
        f'<div class="ga-title" id="{fid}-caption">{_html.escape(fig.title)}</div>'
        if fig.title
        else ""
    )
    return (
        f'<div class="gnnbook-attention" id="{fid}"><style>{css}</style>{title}'
        f'<div class="ga-controls">{_controls_html(fig)}</div>'
        '<div class="ga-svg"><p class="ga-nojs">This interactive figure runs in JavaScript, which '
        f"is off or blocked here (in Jupyter: trust the notebook).</p></div>"
        f'<div class="ga-info" aria-live="polite"></div>'
        f'<script type="application/json" class="gnnbook-params">{embed_json(fig.params)}</script>'
        f"<script>{js}</script></div>"
    )


# --- checking the inputs, then building the page's parameters -----------------------------------
def _require_finite(name: str, tensor: torch.Tensor) -> None:
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} must be finite; it holds NaN or infinity")


def _number(name: str, value, *, minimum: float | None = None, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(float(value))
    ):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if minimum is not None and float(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return float(value)


def _node_id(name: str, value, n: int, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not 0 <= int(value) < n
    ):
        raise ValueError(f"{name} must be a node id in 0..{n - 1}, got {value!r}")
    return int(value)


def _checked_layers(layer) -> dict:
    """``{kind: layer}``: the given mapping checked, or all kinds derived from one layer."""
    if isinstance(layer, Mapping):
        layers = dict(layer)
        if not layers:
            raise ValueError("layer must be a layer or a non-empty mapping kind -> layer")
        for key, lay in layers.items():
            kind_of(key)
            if layer_kind(lay) != key:
                raise ValueError(
                    f"layer[{key!r}] must be a {KINDS[key].classes[0]}, got {type(lay).__name__}"
                )
    else:
        layer_kind(layer)
        layers = None
    for key, lay in (layers or {"layer": layer}).items():
        for pname, value in lay.named_parameters():
            _require_finite(f"layer {key}'s {pname}", value.detach())
    shapes = {heads_and_feats(lay) for lay in (layers or {"": layer}).values()}
    if len(shapes) != 1:
        raise ValueError(
            f"layer: all layers need the same (num_heads, out_feats), got {sorted(shapes)}"
        )
    return layers if layers is not None else derive_layers(layer)


def _checked_features(feat, graph: Graph, layers: dict, pe_width: int) -> torch.Tensor:
    feat = torch.as_tensor(feat).detach().to("cpu", torch.float64)
    in_feats = {in_feats_of(lay) for lay in layers.values()}
    width = in_feats.pop() - pe_width if len(in_feats) == 1 else None
    if (
        feat.dim() != 2
        or feat.shape[0] != graph.num_nodes
        or (width is not None and feat.shape[1] != width)
    ):
        wanted = f"in_feats - pe_k={width}" if pe_width else f"in_feats={width}"
        raise ValueError(
            f"feat must have shape (N={graph.num_nodes}, {wanted}), got {tuple(feat.shape)}"
        )
    _require_finite("feat", feat)
    return feat


def _checked_view(graph: Graph, full, pe, pe_k):
    """``(offer_full, initial full, initial pe, encodings or None)``, each bad value a ValueError
    naming its argument."""
    if full is not None and not isinstance(full, bool):
        raise ValueError(
            f"full must be True, False or None (no full-attention control), got {full!r}"
        )
    if full is not None:
        require_full_size(graph)
    encodings = None if pe_k is None else positional_encodings(graph, pe_k)
    offered = ["none", *(encodings or {})]
    if pe not in offered:
        raise ValueError(
            f"pe must be one of {offered}"
            + ("" if encodings else " (pass pe_k for positional encodings)")
            + f", got {pe!r}"
        )
    return full is not None, bool(full), pe, encodings


def _checked_controls(
    graph: Graph, layers: dict, first, node, head, kind, slope, scale, perturb_node, perturb, view
):
    n = graph.num_nodes
    node = _node_id("node", node, n)
    num_heads = heads_and_feats(first)[0]
    if head is None or head == "mean":
        head = "mean"
    elif (
        isinstance(head, bool)
        or not isinstance(head, numbers.Integral)
        or not 0 <= int(head) < num_heads
    ):
        raise ValueError(f"head must be in 0..{num_heads - 1}, 'mean' or None, got {head!r}")
    kind = kind or layer_kind(first)
    if kind not in layers:
        raise ValueError(f"kind must be one of the layers given, {sorted(layers)}; got {kind!r}")
    if slope is None:
        slope = slope_of(layers[kind])
    slope = _number("slope", slope)
    scale = _number("scale", scale, minimum=0.0)
    perturb = _number("perturb", perturb)
    perturb_node = _node_id("perturb_node", perturb_node, n, allow_none=True)
    nbrs = sources_of(graph, node, full=view[1])
    if perturb_node is None or perturb_node not in nbrs:
        perturb_node = nbrs[0] if nbrs else None
    return Controls(
        node=node,
        head=head if head == "mean" else int(head),
        kind=kind,
        slope=slope,
        scale=scale,
        perturb_node=perturb_node,
        perturb=perturb,
        full=view[1],
        pe=view[2],
    )


def _page_params(
    graph: Graph, layers: dict, feat, direction, init: Controls, pos, labels, cmap, vmax, view
) -> dict:
    num_heads, out_feats = heads_and_feats(next(iter(layers.values())))
    stops = colormap(cmap or STYLE["cmap"])
    return {
        "version": 3,
        "n": graph.num_nodes,
        "src": graph.src.tolist(),
        "dst": graph.dst.tolist(),
        "labels": labels,
        "pos": [
            [round(float(pos[v][0]), 6), round(float(pos[v][1]), 6)] for v in range(graph.num_nodes)
        ],
        "heads": num_heads,
        "out_feats": out_feats,
        "in_feats": in_feats_of(next(iter(layers.values()))),
        "feat": feat.tolist(),
        "direction": direction.tolist(),
        "offer_full": view[0],
        "pe": None
        if view[3] is None
        else {
            "k": encoding_width(view[3]),
            "encodings": {name: m.tolist() for name, m in view[3].items()},
        },
        "kinds": {k: page_params_of(lay) for k, lay in layers.items()},
        "kind_info": {k: KINDS[k].page() for k in layers},
        "cmap": [[round(float(c), 5) for c in stops(i / 10)[:3]] for i in range(11)],
        "vmax": vmax,
        "style": STYLE,
        "ranges": RANGES,
        "init": dataclasses.asdict(init),
    }


def _checked_layout(graph: Graph, pos, node_labels, seed: int):
    n = graph.num_nodes
    pos = graph_layout(graph, seed=seed) if pos is None else pos
    try:
        xy = torch.tensor(
            [[float(pos[v][0]), float(pos[v][1])] for v in range(n)], dtype=torch.float64
        )
    except (KeyError, IndexError, TypeError, ValueError):
        raise ValueError(f"pos must give (x, y) for every node 0..{n - 1}") from None
    _require_finite("pos", xy)
    if node_labels is not None and len(node_labels) < n:
        raise ValueError(f"node_labels must name all {n} nodes, got {len(node_labels)}")
    labels = [str(node_labels[v]) if node_labels is not None else str(v) for v in range(n)]
    return xy.tolist(), labels


def interactive_attention(
    graph,
    layer,
    feat,
    node: int = 0,
    head=0,
    kind: str | None = None,
    *,
    slope: float | None = None,
    scale: float = 1.0,
    perturb_node: int | None = None,
    perturb: float = 0.0,
    full: bool | None = None,
    pe: str = "none",
    pe_k: int | None = None,
    seed: int = 0,
    pos=None,
    node_labels=None,
    title: str | None = None,
    cmap: str | None = None,
    vmax: float | None = 1.0,
) -> InteractiveAttention:
    r"""A self-contained HTML + JavaScript attention figure that recomputes
    attention in the browser.

    Controls: node, head (or mean), attention kind (:data:`gnnbook.attention_model.KINDS`),
    LeakyReLU slope, scale of the attention vectors (inverse temperature), a perturbation of one
    of the node's in-neighbours and, when asked for, full attention and a positional encoding
    (:mod:`gnnbook.attention_model` defines each). The browser computes, in float64, the same
    :math:`\alpha_{ij} = \operatorname{softmax}_{j \in N(i)}(s\, e_{ij})` (under full attention
    :math:`j \in V`) as :func:`~gnnbook.attention_model.attention_for_controls` with the real
    layers, for every state. Under full attention the graph's own edges are drawn faintly and the
    :math:`N` attention weights into the chosen node on top (chapter "From masked to full
    attention").

    Args:
        graph: a homogeneous :class:`gnnbook.Graph` (or DGL graph) of at most
            ``STYLE["max_page_nodes"]`` nodes (a page recomputes every edge on each move; show a
            node's neighbourhood instead).
        layer: a ``gnnbook.nn`` GATConv, GATv2Conv, DotGATConv or TransformerConv (the other kinds
            are derived with :func:`~gnnbook.attention_model.derive_layers`), or a mapping
            ``kind -> layer``.
        feat: finite node features ``(N, in_feats)``, or ``(N, in_feats - pe_k)`` with ``pe_k``.
        node, head, kind, slope, scale, perturb_node, perturb: the initial control state (``head``:
            an int, or ``None``/``"mean"`` for the mean over heads; ``slope`` defaults to the
            layer's; ``kind`` to the given layer's kind; ``scale >= 0``).
        full: ``None`` (default): no full-attention control; ``False``/``True``: the control is
            shown, starting off/on. At most ``STYLE["max_full_nodes"]`` nodes.
        pe, pe_k: ``pe_k`` (in ``1..N-1``) adds the positional-encoding control, offering
            ``"laplacian"`` (undirected graphs) and ``"random_walk"`` encodings of width ``pe_k``
            (:func:`~gnnbook.attention_model.positional_encodings`), appended to ``feat``; ``pe`` is
            its initial value (default ``"none"``: zeros appended).
        seed: seeds the layout and the perturbation direction.
        vmax: the α of the widest, darkest edge (default 1: an absolute scale, so a sharper softmax
            visibly thickens edges); ``None``: the largest α shown.

    Every bad argument is a ValueError naming it.
    """
    graph = as_graph(graph)
    graph.require_homogeneous("interactive_attention")
    view = _checked_view(graph, full, pe, pe_k)
    if graph.num_nodes > STYLE["max_page_nodes"]:
        raise ValueError(
            f"graph has {graph.num_nodes} nodes; an interactive figure takes at most "
            f"{STYLE['max_page_nodes']}: show a node's neighbourhood (a subgraph) instead"
        )
    if graph.num_nodes == 0:
        raise ValueError("graph has no nodes")
    layers = _checked_layers(layer)
    first = next(iter(layer.values())) if isinstance(layer, Mapping) else layer
    feat = _checked_features(feat, graph, layers, 0 if pe_k is None else int(pe_k))
    init = _checked_controls(
        graph, layers, first, node, head, kind, slope, scale, perturb_node, perturb, view
    )
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be an int, got {seed!r}")
    vmax = _number("vmax", vmax, allow_none=True)
    if vmax is not None and vmax <= 0:
        raise ValueError(f"vmax must be > 0 or None, got {vmax}")
    xy, labels = _checked_layout(graph, pos, node_labels, int(seed))
    direction = perturbation_direction(feat, int(seed))
    params = _page_params(graph, layers, feat, direction, init, xy, labels, cmap, vmax, view)
    digest = hashlib.sha256(embed_json(params).encode()).hexdigest()[:10]
    figure_id = f"gnnbook-att-{digest}-{next(_counter)}"
    if title is None:
        title = "Attention, recomputed in your browser: move the controls"
    return InteractiveAttention(graph, layers, feat, direction, init, params, figure_id, str(title))
