r"""An ipywidgets explorer of attention: move a control, the real ``gnnbook.nn`` layer runs again and
:func:`gnnbook.draw.draw_attention` redraws.

Controls (the same as the kernel-free figure of :mod:`gnnbook.web`, one definition for both): node,
head, attention kind (GAT / GATv2 / dot product), LeakyReLU slope, scale of :math:`a_l, a_r` (an
inverse temperature), and a perturbation of one neighbour's features. The state-to-attention step is
the pure function :func:`explorer_attention` (no widgets needed).

Works in JupyterLab, Jupyter Notebook and Colab (Colab needs
``google.colab.output.enable_custom_widget_manager()``, which the chapters' setup cell runs). Without
ipywidgets, :func:`attention_explorer` shows a static figure and prints one line saying why.
Chapters "GAT", "GATv2" and "The Q/K/V analogy".
"""
from __future__ import annotations

import io
import time

from .draw import draw_attention, graph_layout
from .graph import as_graph
from .web import KIND_NAMES, KINDS, RANGES, Controls, attention_for_controls, default_features, make_layers, perturbation_direction, pick_head

__all__ = ["Controls", "attention_explorer", "explorer_attention", "explorer_setup"]


def explorer_setup(graph=None, feat=None, layers=None, *, in_feats: int = 5, out_feats: int = 4, num_heads: int = 2,
                   seed: int = 0):
    """``(graph, layers, feat, direction)`` the explorer works on: the toy graph, seeded features and
    :func:`gnnbook.web.make_layers` layers unless given."""
    from . import graphs
    from .web import derive_layers

    graph = graphs.toy_graph() if graph is None else as_graph(graph)
    if feat is None:
        feat = default_features(graph.num_nodes, in_feats, seed=seed)
    in_feats = feat.shape[1]
    if layers is None:
        layers = make_layers(in_feats, out_feats, num_heads, seed=seed)
    elif not isinstance(layers, dict):
        layers = derive_layers(layers)
    return graph, layers, feat, perturbation_direction(feat, seed)


def explorer_attention(state=None, graph=None, layers=None, feat=None, *, seed: int = 0, all_heads: bool = False,
                       direction=None, **changes):
    r"""The explorer's attention for one control state, without widgets: ``(E,)`` float64 for the
    state's head (or the mean), ``(E, H)`` with ``all_heads``.

    ``state`` is a :class:`gnnbook.web.Controls` or a dict (updated by keyword ``changes``); graph,
    layers and features default to :func:`explorer_setup`'s. Identical to what the browser figure
    of :func:`gnnbook.web.interactive_attention` computes for the same state.
    """
    graph, layers, feat, default_dir = explorer_setup(graph, feat, layers, seed=seed)
    state = Controls.of(state, **changes)
    alpha = attention_for_controls(graph, layers, feat, state, direction=default_dir if direction is None else direction)
    return alpha if all_heads else pick_head(alpha, state.head)


def _in_neighbours(graph, node):
    seen = []
    for j, i in zip(graph.src.tolist(), graph.dst.tolist()):
        if i == node and j not in seen:
            seen.append(j)
    return seen


def attention_explorer(graph=None, feat=None, layers=None, *, node: int = 0, head=0, kind: str = "gat",
                       in_feats: int = 5, out_feats: int = 4, num_heads: int = 2, seed: int = 0, figsize=(6.4, 5.0),
                       dpi: int = 80):
    r"""An interactive attention figure (ipywidgets). Returns the widget (a ``VBox``), or ``None`` after
    showing a static figure when ipywidgets is missing.

    Edge width and colour use the absolute scale :math:`[0, 1]`, so a sharper softmax (larger scale)
    visibly thickens the winning edges. Each change re-runs the real layer (:func:`explorer_attention`; weights set from ``seed`` by
    :func:`gnnbook.web.make_layers` unless ``layers`` are given) and redraws with
    :func:`gnnbook.draw.draw_attention`. The returned box has ``.controls`` (name -> widget),
    ``.state()`` (the current :class:`~gnnbook.web.Controls`), ``.alpha`` (the α drawn, ``(E,)``) and
    ``.timings`` (seconds per update, compute + draw).
    """
    graph, layers, feat, direction = explorer_setup(graph, feat, layers, in_feats=in_feats, out_feats=out_feats,
                                                    num_heads=num_heads, seed=seed)
    pos = graph_layout(graph, seed=seed)
    nbrs = _in_neighbours(graph, node)
    state0 = Controls(node=node, head=head, kind=kind, slope=0.2, scale=1.0, perturb_node=nbrs[0] if nbrs else None)
    try:
        import ipywidgets as W
    except ImportError:
        import matplotlib.pyplot as plt

        print("Note: ipywidgets is not installed, so this is a static figure (pip install ipywidgets for the controls).")
        alpha = explorer_attention(state0, graph, layers, feat, direction=direction)
        draw_attention(graph, alpha, node=node, pos=pos, title=f"{KIND_NAMES[kind]} attention into node {node}")
        plt.show()
        return None

    from matplotlib.figure import Figure

    heads = next(iter(layers.values()))
    num_heads = int(getattr(heads, "_num_heads", num_heads))
    fig = Figure(figsize=figsize, dpi=dpi)
    style = {"description_width": "initial"}
    layout = W.Layout(width="300px")

    def slider(name, text):
        lo, hi, step = RANGES[name]
        return W.FloatSlider(value=getattr(state0, name), min=lo, max=hi, step=step, description=text,
                             continuous_update=True, readout_format=".2f", style=style, layout=layout)

    controls = {
        "node": W.Dropdown(options=list(range(graph.num_nodes)), value=node, description="node", style=style, layout=layout),
        "head": W.Dropdown(options=[(str(h), h) for h in range(num_heads)] + ([("mean of heads", "mean")] if num_heads > 1 else []),
                           value=head, description="head", style=style, layout=layout),
        "kind": W.ToggleButtons(options=[(KIND_NAMES[k], k) for k in KINDS if k in layers], value=kind,
                                description="attention", style=style),
        "slope": slider("slope", "LeakyReLU slope"),
        "scale": slider("scale", "scale of a (1/temperature)"),
        "perturb_node": W.Dropdown(options=nbrs, value=state0.perturb_node, description="perturb neighbour", style=style,
                                   layout=layout),
        "perturb": slider("perturb", "by"),
    }
    image = W.Image(format="png", layout=W.Layout(max_width=f"{int(figsize[0] * dpi)}px"))
    info = W.HTML()

    def state():
        c = controls
        return Controls(node=c["node"].value, head=c["head"].value, kind=c["kind"].value, slope=c["slope"].value,
                        scale=c["scale"].value, perturb_node=c["perturb_node"].value, perturb=c["perturb"].value)

    box = W.VBox([
        W.HBox([controls["node"], controls["head"]]), controls["kind"],
        W.HBox([controls["slope"], controls["scale"]]),
        W.HBox([controls["perturb_node"], controls["perturb"]]), image, info,
    ])
    box.controls, box.state, box.timings, box.alpha = controls, state, [], None

    busy = []

    def redraw(*_):
        if busy:
            return
        start = time.perf_counter()
        st = state()
        alpha = explorer_attention(st, graph, layers, feat, direction=direction)
        title = f"{KIND_NAMES[st.kind]} attention into node {st.node}" + (
            " (mean of heads)" if st.head == "mean" else f" (head {st.head})")
        if not fig.axes:  # first call draws; later calls restyle the same artists (fast)
            draw_attention(graph, alpha, node=st.node, pos=pos, ax=fig.add_subplot(), vmax=1.0, title=title)
        else:
            fig.axes[0].gnnbook_update(alpha, node=st.node, title=title)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        image.value = buf.getvalue()
        box.alpha = alpha.numpy()
        controls["slope"].disabled = st.kind == "dot"
        box.timings.append(time.perf_counter() - start)
        # The first draw is saved with the page, so its text must not vary between builds.
        info.value = ("<small>move a control: the layer re-runs and the figure redraws</small>" if len(box.timings) == 1
                      else f"<small>recomputed and redrawn in {1e3 * box.timings[-1]:.0f} ms</small>")

    def on_node(change):
        new = _in_neighbours(graph, change["new"])
        keep = controls["perturb_node"].value
        busy.append(1)
        try:
            controls["perturb_node"].options = new
            controls["perturb_node"].value = keep if keep in new else (new[0] if new else None)
        finally:
            busy.clear()
        redraw()

    controls["node"].observe(on_node, names="value")
    for name, widget in controls.items():
        if name != "node":
            widget.observe(redraw, names="value")
    redraw()
    return box
