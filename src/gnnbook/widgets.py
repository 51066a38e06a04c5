r"""An ipywidgets explorer of attention: move a control, the real ``gnnbook.nn`` layer runs again
and the drawing of :class:`gnnbook.draw.AttentionDrawing` is restyled in place.

This module is the kernel view of :mod:`gnnbook.attention_model` (controls, attention kinds, heads);
:mod:`gnnbook.web` is the browser view of the same model. The state-to-attention step is the pure
function :func:`explorer_attention` (no widgets needed).

Works in JupyterLab, Jupyter Notebook and Colab (Colab needs
``google.colab.output.enable_custom_widget_manager()``, which the chapters' setup cell runs). The
explorer also carries the kernel-free figure of :func:`gnnbook.web.interactive_attention` as its
``text/html`` view, which a static page (no kernel) shows instead of controls that would do nothing.
Without ipywidgets, :func:`attention_explorer` shows a static figure and prints one line saying why.
Chapter "GAT".
"""

from __future__ import annotations

import functools
import io
import time

from .attention_model import (
    KINDS,
    RANGES,
    Controls,
    attention_for_controls,
    default_features,
    derive_layers,
    heads_and_feats,
    in_neighbours,
    make_layers,
    perturbation_direction,
    pick_head,
)
from .draw import AttentionDrawing, draw_attention, graph_layout
from .graph import as_graph

__all__ = ["attention_explorer", "explorer_attention", "explorer_setup"]


def explorer_setup(
    graph=None,
    feat=None,
    layers=None,
    *,
    in_feats: int = 5,
    out_feats: int = 4,
    num_heads: int = 2,
    seed: int = 0,
):
    """``(graph, layers, feat, direction)`` the explorer works on: the toy graph, seeded features
    and :func:`gnnbook.attention_model.make_layers` layers unless given."""
    from . import graphs

    graph = graphs.toy_graph() if graph is None else as_graph(graph)
    if feat is None:
        feat = default_features(graph.num_nodes, in_feats, seed=seed)
    if layers is None:
        layers = make_layers(feat.shape[1], out_feats, num_heads, seed=seed)
    elif not isinstance(layers, dict):
        layers = derive_layers(layers)
    return graph, layers, feat, perturbation_direction(feat, seed)


def explorer_attention(
    state=None,
    graph=None,
    layers=None,
    feat=None,
    *,
    seed: int = 0,
    all_heads: bool = False,
    direction=None,
    **changes,
):
    r"""The explorer's attention for one control state, without widgets: ``(E,)`` float64 for the
    state's head (or the mean), ``(E, H)`` with ``all_heads``.

    ``state`` is a :class:`~gnnbook.attention_model.Controls` or a dict (updated by keyword
    ``changes``); graph, layers and features default to :func:`explorer_setup`'s. Identical to what
    the browser figure of :func:`gnnbook.web.interactive_attention` computes for the same state.
    """
    graph, layers, feat, default_dir = explorer_setup(graph, feat, layers, seed=seed)
    state = Controls.of(state, **changes)
    direction = default_dir if direction is None else direction
    alpha = attention_for_controls(graph, layers, feat, state, direction=direction)
    return alpha if all_heads else pick_head(alpha, state.head)


# --- the widget ----------------------------------------------------------------------------------
@functools.cache
def _explorer_box_class():
    import ipywidgets as W

    class ExplorerBox(W.VBox):
        """The explorer's box: the widget view in a kernel, and a ``text/html`` view (the
        kernel-free figure) for pages without one."""

        static_html = ""
        explorer = None

        @property
        def alpha(self):
            """The α drawn last, ``(E,)``."""
            return self.explorer.alpha

        def state(self) -> Controls:
            """The controls' current state."""
            return self.explorer.state()

        @property
        def timings(self) -> list:
            """Seconds per update (compute + draw)."""
            return self.explorer.timings

        @property
        def controls(self) -> dict:
            """name -> widget."""
            return self.explorer.controls

        def _repr_mimebundle_(self, **kwargs):
            bundle = super()._repr_mimebundle_(**kwargs)
            data = bundle[0] if isinstance(bundle, tuple) else bundle
            if self.static_html:
                data["text/html"] = self.static_html
            return bundle

    return ExplorerBox


def _make_controls(W, state0: Controls, graph, layers, num_heads: int) -> dict:
    """The widgets, one per field of :class:`Controls`: wide sliders, continuous updates."""
    style = {"description_width": "150px"}
    layout = lambda: W.Layout(width="100%", max_width="440px", min_width="280px")  # noqa: E731

    def slider(name, text):
        lo, hi, step = RANGES[name]
        return W.FloatSlider(
            value=getattr(state0, name),
            min=lo,
            max=hi,
            step=step,
            description=text,
            continuous_update=True,
            readout_format=".2f",
            style=style,
            layout=layout(),
        )

    head_options = [(str(h), h) for h in range(num_heads)] + (
        [("mean of heads", "mean")] if num_heads > 1 else []
    )
    controls = {
        "node": W.Dropdown(
            options=list(range(graph.num_nodes)),
            value=state0.node,
            description="node",
            style=style,
            layout=layout(),
        ),
        "head": W.Dropdown(
            options=head_options,
            value=state0.head,
            description="head",
            style=style,
            layout=layout(),
        ),
        "kind": W.ToggleButtons(
            options=[(KINDS[k].label, k) for k in KINDS if k in layers],
            value=state0.kind,
            description="attention",
            style=style,
        ),
        "slope": slider("slope", "LeakyReLU slope"),
        "scale": slider("scale", "scale of a (1/temperature)"),
        "perturb_node": W.Dropdown(
            options=in_neighbours(graph, state0.node),
            value=state0.perturb_node,
            description="perturb neighbour",
            style=style,
            layout=layout(),
        ),
        "perturb": slider("perturb", "perturb it by"),
    }
    if num_heads == 1:
        controls["head"].layout.display = "none"  # one head: nothing to choose
    if len(controls["kind"].options) == 1:
        controls["kind"].layout.display = "none"
    return controls


class _Explorer:
    """The explorer's steps: read the controls, run the layer, restyle the drawing, show the PNG."""

    def __init__(self, W, graph, layers, feat, direction, state0: Controls, pos, figsize, dpi):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.graph, self.layers, self.feat, self.direction = graph, layers, feat, direction
        self.controls = _make_controls(
            W, state0, graph, layers, heads_and_feats(next(iter(layers.values())))[0]
        )
        self.figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self.figure)
        alpha = explorer_attention(state0, graph, layers, feat, direction=direction)
        self.drawing = AttentionDrawing(graph, self.figure.add_subplot(), pos, vmax=1.0)
        self.drawing.update(alpha, state0.node, state0.head, self._title(state0))
        self.image = W.Image(
            format="png", layout=W.Layout(width="100%", max_width=f"{int(figsize[0] * dpi)}px")
        )
        self.info = W.HTML()
        self.timings, self.alpha, self._busy = [], None, False

    def state(self) -> Controls:
        c = self.controls
        return Controls(
            node=c["node"].value,
            head=c["head"].value,
            kind=c["kind"].value,
            slope=c["slope"].value,
            scale=c["scale"].value,
            perturb_node=c["perturb_node"].value,
            perturb=c["perturb"].value,
        )

    @staticmethod
    def _title(st: Controls) -> str:
        head = " (mean of heads)" if st.head == "mean" else f" (head {st.head})"
        return f"{KINDS[st.kind].label} attention into node {st.node}{head}"

    def redraw(self, *_) -> None:
        if self._busy:
            return
        start = time.perf_counter()
        st = self.state()
        alpha = explorer_attention(st, self.graph, self.layers, self.feat, direction=self.direction)
        self.drawing.update(alpha, node=st.node, head=None, title=self._title(st))
        buf = io.BytesIO()
        self.figure.canvas.print_png(buf)
        self.image.value = buf.getvalue()
        self.alpha = alpha.numpy()
        self.controls["slope"].disabled = "slope" not in KINDS[st.kind].controls
        self.timings.append(time.perf_counter() - start)
        # The first draw is saved with the page, so its text must not vary between builds.
        self.info.value = (
            "<small>move a control: the layer re-runs and the figure redraws</small>"
            if len(self.timings) == 1
            else f"<small>recomputed and redrawn in {1e3 * self.timings[-1]:.0f} ms</small>"
        )

    def on_node(self, change) -> None:
        new = in_neighbours(self.graph, change["new"])
        keep = self.controls["perturb_node"].value
        self._busy = True
        try:
            self.controls["perturb_node"].options = new
            self.controls["perturb_node"].value = keep if keep in new else (new[0] if new else None)
        finally:
            self._busy = False
        self.redraw()


def attention_explorer(
    graph=None,
    feat=None,
    layers=None,
    *,
    node: int = 0,
    head=0,
    kind: str = "gat",
    in_feats: int = 5,
    out_feats: int = 4,
    num_heads: int = 2,
    seed: int = 0,
    figsize=(6.4, 5.0),
    dpi: int = 80,
):
    r"""An interactive attention figure (ipywidgets). Returns the widget box, or ``None`` after
    showing a static figure when ipywidgets is missing.

    Edge width and colour use the absolute scale :math:`[0, 1]`, so a sharper softmax (larger scale)
    visibly thickens the winning edges. Each change re-runs the real layer
    (:func:`explorer_attention`; weights set from ``seed`` by
    :func:`gnnbook.attention_model.make_layers` unless ``layers`` are given) and restyles the
    drawing in place. The returned box has ``.controls`` (name -> widget), ``.state()`` (the current
    :class:`~gnnbook.attention_model.Controls`), ``.alpha`` (the α drawn, ``(E,)``) and ``.timings``
    (seconds per update, compute + draw); its ``text/html`` view is the kernel-free figure of
    :func:`gnnbook.web.interactive_attention` of the same layers.
    """
    graph, layers, feat, direction = explorer_setup(
        graph, feat, layers, in_feats=in_feats, out_feats=out_feats, num_heads=num_heads, seed=seed
    )
    nbrs = in_neighbours(graph, node)
    state0 = Controls(
        node=node,
        head=head,
        kind=kind,
        slope=0.2,
        scale=1.0,
        perturb_node=nbrs[0] if nbrs else None,
    )
    try:
        import ipywidgets as W
    except ImportError:
        return _static_explorer(graph, layers, feat, direction, state0, seed)
    from .web import interactive_attention

    pos = graph_layout(
        graph, seed=seed
    )  # one layout for the widget's drawing and the page's figure
    explorer = _Explorer(W, graph, layers, feat, direction, state0, pos, figsize, dpi)
    c = explorer.controls
    box = _explorer_box_class()(
        [
            W.HBox([c["node"], c["head"]], layout=W.Layout(flex_flow="row wrap")),
            c["kind"],
            W.HBox([c["slope"], c["scale"]], layout=W.Layout(flex_flow="row wrap")),
            W.HBox([c["perturb_node"], c["perturb"]], layout=W.Layout(flex_flow="row wrap")),
            explorer.image,
            explorer.info,
        ]
    )
    box.static_html = interactive_attention(
        graph, layers, feat, node=node, head=head, kind=kind, seed=seed, pos=pos
    ).html
    box.explorer = explorer
    c["node"].observe(explorer.on_node, names="value")
    for name, widget in c.items():
        if name != "node":
            widget.observe(explorer.redraw, names="value")
    explorer.redraw()
    return box


def _static_explorer(graph, layers, feat, direction, state0: Controls, seed: int) -> None:
    import matplotlib.pyplot as plt

    print(
        "Note: ipywidgets is not installed, so this is a static figure "
        '(pip install "gnnbook[widgets]" for the controls).'
    )
    alpha = explorer_attention(state0, graph, layers, feat, direction=direction)
    draw_attention(
        graph,
        alpha,
        node=state0.node,
        pos=graph_layout(graph, seed=seed),
        title=f"{KINDS[state0.kind].label} attention into node {state0.node}",
    )
    plt.show()
