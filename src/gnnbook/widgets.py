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

import torch

from .attention_model import (
    KINDS,
    PE_NAMES,
    RANGES,
    Controls,
    attention_for_controls,
    default_features,
    derive_layers,
    encoding_width,
    heads_and_feats,
    make_layers,
    perturbation_direction,
    pick_head,
    positional_encodings,
    sources_of,
)
from .draw import AttentionDrawing, draw_attention, graph_layout
from .graph import Graph, as_graph

__all__ = ["attention_explorer", "explorer_attention", "explorer_setup", "shown_attention"]


def explorer_setup(
    graph=None,
    feat=None,
    layers=None,
    *,
    in_feats: int = 5,
    out_feats: int = 4,
    num_heads: int = 2,
    seed: int = 0,
    pe_k: int | None = None,
):
    """``(graph, layers, feat, direction, encodings)`` the explorer works on: the toy graph, seeded
    features and :func:`gnnbook.attention_model.make_layers` layers (of input width
    ``in_feats + pe_k`` with ``pe_k``) unless given; ``encodings``: the positional encodings of
    width ``pe_k`` (:func:`gnnbook.attention_model.positional_encodings`), or ``None``."""
    from . import graphs

    graph = graphs.toy_graph() if graph is None else as_graph(graph)
    encodings = None if pe_k is None else positional_encodings(graph, pe_k)
    if feat is None:
        feat = default_features(graph.num_nodes, in_feats, seed=seed)
    if layers is None:
        width = feat.shape[1] + (0 if pe_k is None else int(pe_k))
        layers = make_layers(width, out_feats, num_heads, seed=seed)
    elif not isinstance(layers, dict):
        layers = derive_layers(layers)
    return graph, layers, feat, perturbation_direction(feat, seed), encodings


def explorer_attention(
    state=None,
    graph=None,
    layers=None,
    feat=None,
    *,
    seed: int = 0,
    all_heads: bool = False,
    direction=None,
    pe_k: int | None = None,
    **changes,
):
    r"""The explorer's attention for one control state, without widgets: ``(E,)`` float64 for the
    state's head (or the mean), ``(E, H)`` with ``all_heads``; ``(N^2,)`` or ``(N^2, H)`` under
    full attention (edge ``i N + j`` is :math:`j \to i`,
    :func:`gnnbook.attention_model.full_graph`).

    ``state`` is a :class:`~gnnbook.attention_model.Controls` or a dict (updated by keyword
    ``changes``); graph, layers, features and, with ``pe_k``, the positional encodings default to
    :func:`explorer_setup`'s. Identical to what the browser figure of
    :func:`gnnbook.web.interactive_attention` computes for the same state.
    """
    graph, layers, feat, default_dir, encodings = explorer_setup(
        graph, feat, layers, seed=seed, pe_k=pe_k
    )
    state = Controls.of(state, **changes)
    direction = default_dir if direction is None else direction
    alpha = attention_for_controls(
        graph, layers, feat, state, direction=direction, encodings=encodings
    )
    return alpha if all_heads else pick_head(alpha, state.head)


def shown_attention(graph, alpha, state: Controls):
    """``(graph, alpha)`` as the explorer draws them: the graph and its ``(E,)`` α, or under full
    attention the graph's edges not into ``state.node`` (drawn faded, α 0) followed by the node's
    :math:`N` edges :math:`j \to` node of full attention, with their α (block ``node`` of the
    ``(N^2,)`` α). The browser figure draws the same."""
    if not state.full:
        return graph, alpha
    graph, alpha = as_graph(graph), torch.as_tensor(alpha)
    n, node = graph.num_nodes, int(state.node)
    src, dst = graph.edges(copy=False)  # read only: the new graph copies what it keeps
    under = dst != node
    shown = Graph(
        torch.cat([src[under], torch.arange(n)]), torch.cat([dst[under], torch.full((n,), node)]), n
    )
    faded = torch.zeros(int(under.sum()), dtype=alpha.dtype)
    return shown, torch.cat([faded, alpha[node * n : (node + 1) * n]])


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


def _make_controls(W, state0: Controls, graph, layers, num_heads: int, view) -> dict:
    """The widgets, one per field of :class:`Controls` (``full`` and ``pe`` only when ``view``,
    ``(offer_full, encodings)``, offers them): wide sliders, continuous updates."""
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
            options=sources_of(graph, state0.node, state0.full),
            value=state0.perturb_node,
            description="perturb neighbour",
            style=style,
            layout=layout(),
        ),
        "perturb": slider("perturb", "perturb it by"),
    }
    offer_full, encodings = view
    if offer_full:
        controls["full"] = W.Checkbox(
            value=state0.full,
            description="full attention (every node attends to every node)",
            indent=False,
            layout=layout(),
        )
    if encodings:
        k = encoding_width(encodings)
        controls["pe"] = W.Dropdown(
            options=[("none", "none")] + [(f"{PE_NAMES[n]} (k = {k})", n) for n in encodings],
            value=state0.pe,
            description="positional encoding",
            style=style,
            layout=layout(),
        )
    if num_heads == 1:
        controls["head"].layout.display = "none"  # one head: nothing to choose
    if len(controls["kind"].options) == 1:
        controls["kind"].layout.display = "none"
    return controls


def _title(st: Controls) -> str:
    head = " (mean of heads)" if st.head == "mean" else f" (head {st.head})"
    full = "full " if st.full else ""
    code = "" if st.pe == "none" else f", {PE_NAMES[st.pe]} encoding"
    return f"{full}{KINDS[st.kind].label} attention into node {st.node}{head}{code}"


class _Explorer:
    """The explorer's steps: read the controls, run the layer, restyle the drawing, show the PNG."""

    def __init__(
        self, W, graph, layers, feat, direction, view, state0: Controls, pos, figsize, dpi
    ):
        """``view``: ``(offer_full, encodings or None)``, the full-attention and encoding
        controls to add."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.graph, self.layers, self.feat, self.direction = graph, layers, feat, direction
        self.encodings, self.pos = view[1], pos
        num_heads = heads_and_feats(next(iter(layers.values())))[0]
        self.controls = _make_controls(W, state0, graph, layers, num_heads, view)
        self.figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self.figure)
        self.drawing, self._drawn = None, None
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
            full=c["full"].value if "full" in c else False,
            pe=c["pe"].value if "pe" in c else "none",
        )

    def _draw(self, st: Controls, alpha) -> None:
        """Restyle the drawing; under full attention its edges depend on the node: a new drawing
        when the node or the mode changes."""
        graph, shown = shown_attention(self.graph, alpha, st)
        key = (st.full, st.node if st.full else None)
        if key != self._drawn:
            self.figure.clear()
            self.drawing = AttentionDrawing(graph, self.figure.add_subplot(), self.pos, vmax=1.0)
            self._drawn = key
        self.drawing.update(shown, node=st.node, head=None, title=_title(st))

    def redraw(self, *_) -> None:
        if self._busy:
            return
        start = time.perf_counter()
        st = self.state()
        inputs = (self.graph, self.layers, self.feat, st, self.direction)
        alpha = attention_for_controls(*inputs, encodings=self.encodings)
        alpha = pick_head(alpha, st.head)
        self._draw(st, alpha)
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
        st = self.state()
        new = sources_of(self.graph, st.node, st.full)
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
    full: bool | None = None,
    pe_k: int | None = None,
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

    ``full`` (``None``: no control; ``False``/``True``: a checkbox, starting off/on) offers full
    attention, every node attending to every node, drawn over the graph's faded edges; ``pe_k``
    offers positional encodings of that width appended to the features (the layers then take
    ``in_feats + pe_k`` inputs), as :func:`gnnbook.web.interactive_attention` does.
    """
    graph, layers, feat, direction, encodings = explorer_setup(
        graph,
        feat,
        layers,
        in_feats=in_feats,
        out_feats=out_feats,
        num_heads=num_heads,
        seed=seed,
        pe_k=pe_k,
    )
    nbrs = sources_of(graph, node, bool(full))
    state0 = Controls(
        node=node,
        head=head,
        kind=kind,
        slope=0.2,
        scale=1.0,
        perturb_node=nbrs[0] if nbrs else None,
        full=bool(full),
    )
    try:
        import ipywidgets as W
    except ImportError:
        return _static_explorer(graph, layers, feat, direction, encodings, state0, seed)
    from .web import interactive_attention

    # one layout for the widget's drawing and the page's figure
    pos = graph_layout(graph, seed=seed)
    # the page's figure first: it checks every argument (full on a large graph, pe_k, ...)
    static_html = interactive_attention(
        graph,
        layers,
        feat,
        node=node,
        head=head,
        kind=kind,
        seed=seed,
        pos=pos,
        full=full,
        pe_k=pe_k,
    ).html
    view = (full is not None, encodings)
    explorer = _Explorer(W, graph, layers, feat, direction, view, state0, pos, figsize, dpi)
    c = explorer.controls
    views = [c[name] for name in ("full", "pe") if name in c]
    box = _explorer_box_class()(
        [
            W.HBox([c["node"], c["head"]], layout=W.Layout(flex_flow="row wrap")),
            c["kind"],
            *([W.HBox(views, layout=W.Layout(flex_flow="row wrap"))] if views else []),
            W.HBox([c["slope"], c["scale"]], layout=W.Layout(flex_flow="row wrap")),
            W.HBox([c["perturb_node"], c["perturb"]], layout=W.Layout(flex_flow="row wrap")),
            explorer.image,
            explorer.info,
        ]
    )
    box.static_html = static_html
    box.explorer = explorer
    for name in ("node", "full"):  # these change the perturbation's choices too
        if name in c:
            c[name].observe(explorer.on_node, names="value")
    for name, widget in c.items():
        if name not in ("node", "full"):
            widget.observe(explorer.redraw, names="value")
    explorer.redraw()
    return box


def _static_explorer(graph, layers, feat, direction, encodings, state0, seed: int) -> None:
    import matplotlib.pyplot as plt

    print(
        "Note: ipywidgets is not installed, so this is a static figure "
        '(pip install "gnnbook[widgets]" for the controls).'
    )
    alpha = attention_for_controls(
        graph, layers, feat, state0, direction=direction, encodings=encodings
    )
    shown, alpha = shown_attention(graph, pick_head(alpha, state0.head), state0)
    draw_attention(
        shown,
        alpha,
        node=state0.node,
        pos=graph_layout(graph, seed=seed),
        title=_title(state0),
    )
    plt.show()
