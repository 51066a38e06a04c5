r"""Interactive attention figures that need no kernel: HTML + JavaScript recomputing attention in the
browser.

:func:`interactive_attention` embeds the layers' weights, the node features and the graph in one
self-contained HTML fragment (inline SVG, no CDN, no external file or font). Its script recomputes, in
float64, exactly what :func:`attention_for_controls` computes in Python with the real ``gnnbook.nn``
layers, for the same control state:

* ``kind``: ``"gat"`` (GAT: :math:`e_{ij} = \mathrm{LeakyReLU}(a_l^\top z_j + a_r^\top z_i)`),
  ``"gatv2"`` (GATv2: :math:`e_{ij} = a^\top \mathrm{LeakyReLU}(z_j + z_i)`) or ``"dot"``
  (scaled dot product: :math:`e_{ij} = z_j^\top z_i / \sqrt{F}`), with :math:`z = W h (+ b)` per head;
* ``slope``: the LeakyReLU's negative slope (GAT, GATv2);
* ``scale``: multiplies :math:`a_l, a_r` (GAT), :math:`a` (GATv2) or the dot-product logits; an inverse
  temperature, :math:`\alpha_{ij} = \operatorname{softmax}_j(s\, e_{ij})` for GATv2 and dot product and,
  as LeakyReLU is positively homogeneous, for GAT too (``scale`` must be ``>= 0``);
* ``perturb_node``, ``perturb``: :math:`h_p \leftarrow h_p + \text{perturb}\cdot d`, with :math:`d` a
  fixed seeded direction (as long as an average feature row);
* ``node`` (the focused node) and ``head`` (a head, or ``"mean"``) choose what is shown.

The same control state drives the ipywidgets explorer of :mod:`gnnbook.widgets`. Chapters "GAT",
"GATv2" and "The Q/K/V analogy".
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import html as _html
import itertools
import json
import math
from importlib import resources
from typing import Mapping, Optional, Union

import numpy as np
import torch

from .graph import Graph, as_graph

KINDS = ("gat", "gatv2", "dot")
KIND_NAMES = {"gat": "GAT", "gatv2": "GATv2", "dot": "dot product"}
_CLASS_KIND = {"GATConv": "gat", "GATv2Conv": "gatv2", "DotGATConv": "dot", "DotGatConv": "dot"}
#: Slider ranges ``(min, max, step)`` shared by the browser figure and the ipywidgets explorer.
RANGES = {"slope": (0.0, 1.0, 0.01), "scale": (0.0, 3.0, 0.05), "perturb": (-3.0, 3.0, 0.1)}
_counter = itertools.count()

__all__ = [
    "KINDS",
    "Controls",
    "InteractiveAttention",
    "attention_for_controls",
    "attention_from_params",
    "controlled_layer",
    "layers_from_params",
    "default_features",
    "derive_layers",
    "interactive_attention",
    "layer_kind",
    "make_layers",
    "perturbation_direction",
    "pick_head",
]


# --- the control state and what it does to a layer --------------------------------------------
@dataclasses.dataclass
class Controls:
    """One state of the figure's controls (the browser figure and the widget use the same fields)."""

    node: int = 0
    head: Union[int, str] = 0
    kind: str = "gat"
    slope: float = 0.2
    scale: float = 1.0
    perturb_node: Optional[int] = None
    perturb: float = 0.0

    @classmethod
    def of(cls, state=None, **changes) -> "Controls":
        """A :class:`Controls` from another one, a dict (e.g. the browser's ``data-state``) or nothing."""
        if state is None:
            base = cls()
        elif isinstance(state, Controls):
            base = dataclasses.replace(state)
        else:
            known = {f.name for f in dataclasses.fields(cls)}
            base = cls(**{k: v for k, v in dict(state).items() if k in known})
        return dataclasses.replace(base, **changes)


def layer_kind(layer) -> str:
    """``"gat"``, ``"gatv2"`` or ``"dot"`` from the layer's class name (GATConv, GATv2Conv, DotGATConv)."""
    try:
        return _CLASS_KIND[type(layer).__name__]
    except KeyError:
        raise TypeError(f"expected a GATConv, GATv2Conv or DotGATConv, got {type(layer).__name__}") from None


def _linears(layer):
    """``(source projection, destination projection or None when shared)`` of a layer."""
    fc = getattr(layer, "fc", None)
    if isinstance(fc, torch.nn.Linear):
        return fc, None
    fc_src, fc_dst = getattr(layer, "fc_src", None), getattr(layer, "fc_dst", None)
    if not isinstance(fc_src, torch.nn.Linear):
        raise TypeError(f"{type(layer).__name__} has neither fc nor fc_src")
    return fc_src, (None if fc_dst is None or fc_dst is fc_src else fc_dst)


def _set_slope(layer, slope: float) -> None:
    for module in layer.modules():
        if isinstance(module, torch.nn.LeakyReLU):
            module.negative_slope = float(slope)
    if isinstance(getattr(layer, "negative_slope", None), float):
        layer.negative_slope = float(slope)


def _slope_of(layer, default: float = 0.2) -> float:
    for module in layer.modules():
        if isinstance(module, torch.nn.LeakyReLU):
            return float(module.negative_slope)
    value = getattr(layer, "negative_slope", default)
    return float(value) if isinstance(value, (int, float)) else default


def controlled_layer(layer, controls: Controls) -> torch.nn.Module:
    r"""A float64, eval-mode copy of ``layer`` with the controls applied: LeakyReLU slope set to
    ``controls.slope``; :math:`a_l, a_r` (GAT) or :math:`a` (GATv2) multiplied by ``controls.scale``;
    for the dot product the projection multiplied by :math:`\sqrt{\text{scale}}` (so the logits
    :math:`z_j^\top z_i` are multiplied by the scale). ``layer`` itself is not touched."""
    kind = layer_kind(layer)
    scale = float(controls.scale)
    if scale < 0:
        raise ValueError(f"scale must be >= 0, got {scale}")
    twin = copy.deepcopy(layer).to(torch.float64).eval()
    _set_slope(twin, controls.slope)
    with torch.no_grad():
        if kind == "gat":
            twin.attn_l.mul_(scale)
            twin.attn_r.mul_(scale)
        elif kind == "gatv2":
            twin.attn.mul_(scale)
        else:
            for lin in {id(m): m for m in _linears(twin) if m is not None}.values():
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


def _graph_for(layer, graph: Graph):
    # A DGL layer (used while developing against DGL) needs a DGL graph; gnnbook layers take ours.
    return graph.to_dgl() if type(layer).__module__.startswith("dgl") else graph


def attention_for_controls(graph, layers, feat, controls=None, direction=None, **changes) -> torch.Tensor:
    r"""Attention of every edge and head, ``(E, H)`` float64, for one control state, computed by the
    real layer (:func:`controlled_layer`, then ``forward(graph, feat, get_attention=True)``) on the
    features with node ``perturb_node`` moved by ``perturb`` along ``direction``
    (default :func:`perturbation_direction` with seed 0). This is what the browser figure computes.

    ``layers``: one layer or a mapping ``kind -> layer``; ``controls``: a :class:`Controls` or dict,
    updated by keyword ``changes``.
    """
    graph = as_graph(graph)
    controls = Controls.of(controls, **changes)
    if isinstance(layers, Mapping):
        if controls.kind not in layers:
            raise ValueError(f"no {controls.kind!r} layer here; available: {sorted(layers)}")
        layer = layers[controls.kind]
    else:
        layer = layers
        if layer_kind(layer) != controls.kind:
            controls = dataclasses.replace(controls, kind=layer_kind(layer))
    feat = torch.as_tensor(feat).detach().to("cpu", torch.float64).clone()
    if controls.perturb_node is not None and controls.perturb != 0:
        d = perturbation_direction(feat) if direction is None else torch.as_tensor(direction, dtype=torch.float64)
        feat[int(controls.perturb_node)] += float(controls.perturb) * d
    twin = controlled_layer(layer, controls)
    with torch.no_grad():
        _, att = twin(_graph_for(layer, graph), feat, get_attention=True)
    att = att.detach().to("cpu", torch.float64)
    return att.reshape(att.shape[0], -1)


def pick_head(alpha: torch.Tensor, head) -> torch.Tensor:
    """``(E,)``: one head of ``(E, H)`` attention, or the mean over heads for ``head="mean"``."""
    alpha = torch.as_tensor(alpha)
    alpha = alpha.reshape(alpha.shape[0], -1)
    return alpha.mean(dim=1) if head == "mean" else alpha[:, int(head)]


# --- layers for figures -----------------------------------------------------------------------
def _nn():
    from . import nn as gnn  # imported lazily: gnnbook.web works (with given layers) without it

    return gnn


def derive_layers(layer) -> dict:
    """``{kind: layer}`` for all three kinds, from one: the others share its projection :math:`W`
    (GATv2 with ``share_weights=True``; its vector :math:`a` is GAT's :math:`a_l`, or, from a GATv2 or
    dot-product layer, GAT's :math:`a_l = a_r = a` or a seeded draw). Kinds that ``gnnbook.nn`` does
    not provide are left out. Everything is float64."""
    kind = layer_kind(layer)
    out = {kind: copy.deepcopy(layer).to(torch.float64)}
    fc, _ = _linears(layer)
    in_feats = fc.weight.shape[1]
    num_heads, out_feats = _heads_feats(layer)
    try:
        gnn = _nn()
    except ImportError:
        return out
    w = fc.weight.detach().to(torch.float64)
    if kind == "gat":
        a = layer.attn_l.detach().to(torch.float64)
    elif kind == "gatv2":
        a = layer.attn.detach().to(torch.float64)
    else:
        gen = torch.Generator().manual_seed(0)
        a = torch.randn(1, num_heads, out_feats, generator=gen, dtype=torch.float64) * (1.5 / math.sqrt(out_feats))
    builders = {
        "gat": lambda: getattr(gnn, "GATConv")(in_feats, out_feats, num_heads),
        "gatv2": lambda: getattr(gnn, "GATv2Conv")(in_feats, out_feats, num_heads, share_weights=True),
        "dot": lambda: getattr(gnn, "DotGATConv")(in_feats, out_feats, num_heads),
    }
    for other in KINDS:
        if other in out:
            continue
        try:
            new = builders[other]().to(torch.float64)
        except (AttributeError, TypeError):
            continue
        with torch.no_grad():
            for lin in {id(m): m for m in _linears(new) if m is not None}.values():
                lin.weight.copy_(w)
                if lin.bias is not None:
                    lin.bias.zero_()
            if other == "gat":
                new.attn_l.copy_(a)
                new.attn_r.copy_(a)
            elif other == "gatv2":
                new.attn.copy_(a)
            if getattr(new, "bias", None) is not None and isinstance(new.bias, torch.nn.Parameter):
                new.bias.zero_()
        out[other] = new
    return {k: out[k] for k in KINDS if k in out}


def _heads_feats(layer):
    heads, feats = getattr(layer, "_num_heads", None), getattr(layer, "_out_feats", None)
    if heads is None or feats is None:
        fc, _ = _linears(layer)
        ref = getattr(layer, "attn_l", getattr(layer, "attn", None))
        heads, feats = ref.shape[1], ref.shape[2]
    return int(heads), int(feats)


def make_layers(in_feats: int, out_feats: int = 4, num_heads: int = 2, *, seed: int = 0,
                negative_slope: float = 0.2) -> dict:
    r"""``{kind: layer}`` of ``gnnbook.nn`` layers (float64) with weights drawn from ``seed`` only (the
    global RNG is untouched): :math:`W \sim \mathcal{N}(0, 1/\text{in\_feats})` shared by all kinds,
    :math:`a_l, a_r \sim \mathcal{N}(0, 2.25/\text{out\_feats})`, biases zero; GATv2 and the dot
    product follow :func:`derive_layers`. Used by the explorer widget and the chapters' figures."""
    gnn = _nn()
    gen = torch.Generator().manual_seed(int(seed))
    gat = gnn.GATConv(in_feats, out_feats, num_heads, negative_slope=negative_slope).to(torch.float64)
    with torch.no_grad():
        gat.fc.weight.copy_(torch.randn(gat.fc.weight.shape, generator=gen, dtype=torch.float64) / math.sqrt(in_feats))
        for p in (gat.attn_l, gat.attn_r):
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * (1.5 / math.sqrt(out_feats)))
        if getattr(gat, "bias", None) is not None:
            gat.bias.zero_()
    return derive_layers(gat)


def default_features(num_nodes: int, in_feats: int = 5, *, seed: int = 0) -> torch.Tensor:
    """Seeded standard-normal node features, float64 ``(num_nodes, in_feats)``."""
    gen = torch.Generator().manual_seed(int(seed) + 104729)
    return torch.randn(num_nodes, in_feats, generator=gen, dtype=torch.float64)


# --- the HTML figure --------------------------------------------------------------------------
def _asset(name: str) -> str:
    return (resources.files("gnnbook") / "web_assets" / name).read_text(encoding="utf-8")


def _floats(t) -> list:
    return torch.as_tensor(t).detach().to("cpu", torch.float64).tolist()


def _layer_params(layer) -> dict:
    kind = layer_kind(layer)
    src, dst = _linears(layer)
    heads, feats = _heads_feats(layer)
    p = {
        "Ws": _floats(src.weight), "bs": None if src.bias is None else _floats(src.bias),
        "Wd": None if dst is None else _floats(dst.weight), "bd": None if dst is None or dst.bias is None else _floats(dst.bias),
        "slope": _slope_of(layer),
    }
    if kind == "gat":
        p["al"] = _floats(layer.attn_l.reshape(heads, feats))
        p["ar"] = _floats(layer.attn_r.reshape(heads, feats))
    elif kind == "gatv2":
        p["a"] = _floats(layer.attn.reshape(heads, feats))
    return p


def _cmap_stops(name, count: int = 11) -> list:
    from .draw import colormap

    cmap = colormap(name)
    return [[round(float(c), 5) for c in cmap(i / (count - 1))[:3]] for i in range(count)]


def layers_from_params(params: dict) -> dict:
    """Rebuild real ``gnnbook.nn`` layers (float64) from a figure's embedded JSON parameters, so that a
    figure found on a web page can be checked against Python without the code that made it."""
    gnn = _nn()
    heads, feats, in_feats = params["heads"], params["out_feats"], params["in_feats"]
    t = lambda x: torch.tensor(x, dtype=torch.float64)  # noqa: E731
    layers = {}
    for kind, p in params["kinds"].items():
        shared = p["Wd"] is None
        if kind == "gat":
            lay = gnn.GATConv(in_feats, feats, heads, negative_slope=p["slope"])
        elif kind == "gatv2":
            lay = gnn.GATv2Conv(in_feats, feats, heads, negative_slope=p["slope"], share_weights=shared,
                                bias=p["bs"] is not None)
        else:
            lay = gnn.DotGATConv(in_feats, feats, heads)
        lay = lay.to(torch.float64)
        src, dst = _linears(lay)
        with torch.no_grad():
            pairs = [(src, p["Ws"], p["bs"])] + ([] if dst is None else [(dst, p["Wd"] if not shared else p["Ws"], p["bd"] if not shared else p["bs"])])
            for lin, w, b in pairs:
                lin.weight.copy_(t(w))
                if (b is None) != (lin.bias is None):
                    raise ValueError(f"{kind}: bias mismatch between the figure and gnnbook.nn")
                if b is not None:
                    lin.bias.copy_(t(b))
            if kind == "gat":
                lay.attn_l.copy_(t(p["al"]).reshape(1, heads, feats))
                lay.attn_r.copy_(t(p["ar"]).reshape(1, heads, feats))
            elif kind == "gatv2":
                lay.attn.copy_(t(p["a"]).reshape(1, heads, feats))
        layers[kind] = lay
    return layers


def attention_from_params(params: dict, state) -> np.ndarray:
    """α per edge ``(E,)`` for a control state (e.g. the browser's ``data-state``) of a figure known
    only by its embedded JSON: rebuilds the layers (:func:`layers_from_params`) and runs them."""
    graph = Graph(torch.tensor(params["src"]), torch.tensor(params["dst"]), params["n"])
    state = Controls.of(state)
    alpha = attention_for_controls(graph, layers_from_params(params), torch.tensor(params["feat"], dtype=torch.float64),
                                   state, direction=torch.tensor(params["direction"], dtype=torch.float64))
    return pick_head(alpha, state.head).numpy()


class InteractiveAttention:
    """A kernel-free interactive attention figure. Display it (``_repr_html_``) or use ``.html``;
    ``.params`` is the embedded JSON; :meth:`attention` is what the browser computes, in Python."""

    def __init__(self, graph: Graph, layers: dict, feat: torch.Tensor, direction: torch.Tensor, init: Controls,
                 params: dict, figure_id: str, title: str):
        self.graph, self.layers, self.feat, self.direction = graph, layers, feat, direction
        self.init, self.params, self.id, self.title = init, params, figure_id, title
        self.html = self._render()

    def attention(self, controls=None, all_heads: bool = False, **changes) -> np.ndarray:
        """α per edge for a control state (default the figure's initial one, updated by ``changes``;
        a dict such as the browser's ``data-state`` works): ``(E,)`` for the state's head (or mean),
        ``(E, H)`` with ``all_heads``. Runs the real layers in float64 (:func:`attention_for_controls`)."""
        state = Controls.of(self.init if controls is None else controls, **changes)
        alpha = attention_for_controls(self.graph, self.layers, self.feat, state, direction=self.direction)
        return (alpha if all_heads else pick_head(alpha, state.head)).numpy()

    def _render(self) -> str:
        fid, p = self.id, self.params
        labels = p["labels"]
        node_opts = "".join(
            f'<option value="{v}"{" selected" if v == self.init.node else ""}>{_html.escape(str(labels[v]))}</option>'
            for v in range(p["n"])
        )
        head_opts = "".join(f'<option value="{h}">{h}</option>' for h in range(p["heads"]))
        head_opts += '<option value="mean">mean of heads</option>' if p["heads"] > 1 else ""
        kind_opts = "".join(f'<option value="{k}">{KIND_NAMES[k]}</option>' for k in KINDS if k in p["kinds"])

        def slider(name, text):
            lo, hi, step = RANGES[name]
            return (f'<label title="{text}">{text} <input type="range" data-control="{name}" min="{lo}" max="{hi}" '
                    f'step="{step}" value="{getattr(self.init, name)}"><output data-show="{name}"></output></label>')

        controls = (
            f'<label>node <select data-control="node">{node_opts}</select></label>'
            f'<label>head <select data-control="head">{head_opts}</select></label>'
            f'<label>attention <select data-control="kind">{kind_opts}</select></label>'
            + slider("slope", "LeakyReLU slope")
            + slider("scale", "scale of a (1/temperature)")
            + '<label class="ga-wide">perturb neighbour <select data-control="perturb_node"></select> by '
            + slider("perturb", "")[len('<label title="">'):]
        )
        blob = json.dumps(p, separators=(",", ":")).replace("</", "<\\/")
        css = _asset("attention.css").replace("__FIGURE_ID__", fid)
        js = _asset("attention.js").replace("__FIGURE_ID__", fid)
        title = f'<div class="ga-title">{_html.escape(self.title)}</div>' if self.title else ""
        return (
            f'<div class="gnnbook-attention" id="{fid}"><style>{css}</style>{title}'
            f'<div class="ga-controls">{controls}</div>'
            f'<div class="ga-svg"><p class="ga-nojs">This interactive figure needs JavaScript (the book\'s '
            f"website, or a trusted notebook).</p></div>"
            f'<div class="ga-info"></div>'
            f'<script type="application/json" class="gnnbook-params">{blob}</script>'
            f"<script>{js}</script></div>"
        )

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        kinds = ", ".join(self.params["kinds"])
        return f"<InteractiveAttention {self.id}: {self.params['n']} nodes, {len(self.params['src'])} edges, kinds {kinds}>"

    def save(self, path) -> None:
        """Write a standalone HTML page holding only this figure."""
        page = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>gnnbook attention</title></head>'
                f"<body>{self.html}</body></html>")
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)


def interactive_attention(graph, layer, feat, node: int = 0, head=0, kind: Optional[str] = None, *,
                          slope: Optional[float] = None, scale: float = 1.0, perturb_node: Optional[int] = None,
                          perturb: float = 0.0, seed: int = 0, pos=None, node_labels=None, title: Optional[str] = None,
                          cmap: Optional[str] = None, vmax: Optional[float] = 1.0) -> InteractiveAttention:
    r"""A self-contained HTML + JavaScript attention figure that recomputes attention in the browser.

    Controls: node, head (or mean), attention kind (GAT / GATv2 / dot product), LeakyReLU slope, scale
    of the attention vectors (inverse temperature) and a perturbation of one of the node's
    neighbours; the module docstring defines each. The browser computes, in float64, the same numbers
    as :func:`attention_for_controls` with the real layers, for every control state.

    Args:
        graph: a homogeneous :class:`gnnbook.Graph` (or DGL graph); no node may lack in-edges unless the
            layers allow it.
        layer: a ``gnnbook.nn`` GATConv, GATv2Conv or DotGATConv (the missing kinds are derived with
            :func:`derive_layers`), or a mapping ``kind -> layer``.
        feat: node features ``(N, in_feats)``.
        node, head, kind, slope, scale, perturb_node, perturb: the initial control state (``slope``
            defaults to the layer's; ``kind`` to the given layer's kind).
        seed: seeds the layout and the perturbation direction.
        vmax: the α of the widest, darkest edge (default 1: an absolute scale, so a sharper softmax
            visibly thickens edges); ``None``: the largest α shown.
    """
    from .draw import CMAP, graph_layout

    graph = as_graph(graph)
    graph.require_homogeneous("interactive_attention")
    layers = dict(layer) if isinstance(layer, Mapping) else derive_layers(layer)
    if not layers:
        raise ValueError("no layers given")
    for k, lay in layers.items():
        if layer_kind(lay) != k:
            raise ValueError(f"layers[{k!r}] is a {type(lay).__name__}")
    first = next(iter(layers.values())) if isinstance(layer, Mapping) else layer
    kind = kind or layer_kind(first)
    if kind not in layers:
        raise ValueError(f"kind {kind!r} not available; available: {sorted(layers)}")
    feat = torch.as_tensor(feat).detach().to("cpu", torch.float64)
    if feat.dim() != 2 or feat.shape[0] != graph.num_nodes:
        raise ValueError(f"feat must have shape (N={graph.num_nodes}, in_feats), got {tuple(feat.shape)}")
    heads = {_heads_feats(lay) for lay in layers.values()}
    if len(heads) != 1:
        raise ValueError(f"all layers need the same (num_heads, out_feats), got {sorted(heads)}")
    num_heads, out_feats = heads.pop()
    if slope is None:
        slope = _slope_of(layers.get("gat", layers.get("gatv2", first)))
    if head != "mean":
        head = int(head)
    direction = perturbation_direction(feat, seed)
    src, dst = graph.src.tolist(), graph.dst.tolist()
    in_nbrs = [j for j, i in zip(src, dst) if i == node]
    if perturb_node is None or perturb_node not in in_nbrs:
        perturb_node = in_nbrs[0] if in_nbrs else None
    init = Controls(node=int(node), head=head, kind=kind, slope=float(slope), scale=float(scale),
                    perturb_node=perturb_node, perturb=float(perturb))
    pos = graph_layout(graph, seed=seed) if pos is None else pos
    labels = [str(node_labels[v]) if node_labels is not None else str(v) for v in range(graph.num_nodes)]
    params = {
        "version": 1, "n": graph.num_nodes, "src": src, "dst": dst, "labels": labels,
        "pos": [[round(float(pos[v][0]), 6), round(float(pos[v][1]), 6)] for v in range(graph.num_nodes)],
        "heads": num_heads, "out_feats": out_feats, "in_feats": int(feat.shape[1]),
        "feat": feat.tolist(), "direction": direction.tolist(),
        "kinds": {k: _layer_params(lay) for k, lay in layers.items()},
        "cmap": _cmap_stops(cmap or CMAP), "vmax": None if vmax is None else float(vmax), "init": dataclasses.asdict(init),
    }
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    figure_id = f"gnnbook-att-{digest}-{next(_counter)}"
    if title is None:
        title = "Attention, recomputed in your browser: move the controls"
    return InteractiveAttention(graph, layers, feat, direction, init, params, figure_id, title)
