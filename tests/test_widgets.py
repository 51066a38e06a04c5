"""gnnbook.widgets: the explorer's pure state -> attention function, and the widget around it."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from gnnbook import graphs, web, widgets  # noqa: E402
from gnnbook.attention_model import Controls  # noqa: E402

G = graphs.toy_graph()


def _sums(alpha):
    return torch.zeros(G.num_nodes, dtype=torch.float64).index_add(0, G.dst, alpha)


def test_every_control_changes_alpha_and_alpha_stays_a_softmax():
    base = widgets.explorer_attention(Controls(node=0, head=0, kind="gat"))
    torch.testing.assert_close(_sums(base), torch.ones(6, dtype=torch.float64))
    for change in [
        dict(slope=0.9),
        dict(scale=2.0),
        dict(perturb_node=3, perturb=1.5),
        dict(kind="gatv2"),
        dict(kind="dot"),
        dict(kind="transformer"),
        dict(head=1),
        dict(head="mean"),
    ]:
        alpha = widgets.explorer_attention(Controls(node=0, head=0, kind="gat"), **change)
        assert not torch.allclose(alpha, base), f"{change} should change α"
        torch.testing.assert_close(_sums(alpha), torch.ones(6, dtype=torch.float64))
    # the focused node only chooses what is shown
    torch.testing.assert_close(widgets.explorer_attention(node=4), base)


@pytest.mark.parametrize("kind", ["gat", "gatv2", "dot", "transformer"])
def test_zero_scale_is_uniform_attention(kind):
    alpha = widgets.explorer_attention(kind=kind, scale=0.0, head="mean")
    torch.testing.assert_close(alpha, 1.0 / G.in_degrees().double()[G.dst])


def test_destination_term_cancels_when_the_score_is_linear():
    """With slope 1 the LeakyReLU is the identity: GAT's (and GATv2's) score is a sum of a source
    and a destination term, the destination's term cancels in the softmax, so moving node 0's
    features leaves α into node 0 unchanged. With slope 0.2 GATv2's nonlinearity sits between them
    and α moves."""
    into0 = G.dst == 0
    for kind, slope, same in [("gat", 1.0, True), ("gatv2", 1.0, True), ("gatv2", 0.2, False)]:
        a = widgets.explorer_attention(kind=kind, slope=slope, head=0)
        b = widgets.explorer_attention(kind=kind, slope=slope, head=0, perturb_node=0, perturb=2.0)
        assert torch.allclose(a[into0], b[into0], rtol=0, atol=1e-12) is same, (kind, slope)


def test_widget_controls_recompute(capsys):
    pytest.importorskip("ipywidgets")
    box = widgets.attention_explorer(seed=0)
    c = box.controls
    assert set(c) == {"node", "head", "kind", "slope", "scale", "perturb_node", "perturb"}
    first_png = box.children[4].value
    assert first_png[:4] == b"\x89PNG"
    previous = box.alpha.copy()
    for name, value in [
        ("slope", 0.7),
        ("scale", 2.5),
        ("perturb", -2.0),
        ("kind", "gatv2"),
        ("kind", "dot"),
        ("head", 1),
        ("head", "mean"),
    ]:
        c[name].value = value
        assert not np.allclose(box.alpha, previous), f"moving {name} must change α"
        np.testing.assert_allclose(
            box.alpha, widgets.explorer_attention(box.state()).numpy(), rtol=0, atol=1e-12
        )
        previous = box.alpha.copy()
    c["node"].value = 1
    assert list(c["perturb_node"].options) == [2, 5], "perturb offers the new node's neighbours"
    assert box.children[4].value != first_png
    assert c["slope"].disabled, "the dot product has no LeakyReLU"
    assert len(box.timings) >= 9
    assert all(c[name].continuous_update for name in ("slope", "scale", "perturb"))
    assert c["scale"].layout.width == "100%" and c["scale"].style.description_width == "150px"


def test_explorer_carries_the_kernel_free_figure_for_static_pages():
    pytest.importorskip("ipywidgets")
    box = widgets.attention_explorer(seed=0)
    bundle = box._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data, "in Jupyter the widget view stays"
    assert 'class="gnnbook-attention"' in data["text/html"], (
        "a page without a kernel gets the browser figure"
    )
    params = json.loads(
        re.search(r'class="gnnbook-params">(.*?)</script>', data["text/html"], re.S).group(1)
    )
    np.testing.assert_allclose(
        web.attention_from_params(params, params["init"]), box.alpha, rtol=0, atol=1e-12
    )


def test_one_head_hides_the_head_choice():
    pytest.importorskip("ipywidgets")
    box = widgets.attention_explorer(num_heads=1)
    assert box.controls["head"].layout.display == "none"


def test_without_ipywidgets_a_static_figure_and_one_line():
    code = (
        "import sys, matplotlib; matplotlib.use('Agg'); sys.modules['ipywidgets'] = None\n"
        "import gnnbook, gnnbook.draw, gnnbook.web, gnnbook.widgets\n"
        "import matplotlib.pyplot as plt\n"
        "assert gnnbook.widgets.attention_explorer() is None\n"
        "assert plt.get_fignums(), 'a static figure is drawn'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and "ipywidgets is not installed" in lines[0]


def test_widget_full_attention_and_encodings():
    pytest.importorskip("ipywidgets")
    box = widgets.attention_explorer(seed=0, kind="transformer", full=False, pe_k=3)
    c = box.controls
    assert [v for _, v in c["pe"].options] == ["none", "laplacian", "random_walk"]
    assert box.explorer.drawing.graph.num_edges == G.num_edges, "masked: the graph's own edges"
    c["full"].value = True
    n = G.num_nodes
    assert box.alpha.shape == (n * n,), "full attention: one α per (j, i) pair"
    np.testing.assert_allclose(box.alpha.reshape(n, n).sum(1), 1.0, atol=1e-12)
    assert list(c["perturb_node"].options) == list(range(n)), "any node may be perturbed"
    into0 = int((G.dst == 0).sum())
    drawn = box.explorer.drawing.graph
    assert drawn.num_edges == G.num_edges - into0 + n and int((drawn.dst == 0).sum()) == n
    params = json.loads(
        re.search(r'class="gnnbook-params">(.*?)</script>', box.static_html, re.S).group(1)
    )
    assert params["offer_full"] and set(params["pe"]["encodings"]) == {"laplacian", "random_walk"}
    previous = box.alpha.copy()
    for code in ("laplacian", "random_walk", "none"):
        c["pe"].value = code
        assert not np.allclose(box.alpha, previous), f"pe={code} must change α"
        expected = widgets.explorer_attention(box.state(), pe_k=3).numpy()
        np.testing.assert_allclose(box.alpha, expected, rtol=0, atol=1e-12)
        page = web.attention_from_params(params, dataclasses.asdict(box.state()))
        np.testing.assert_allclose(box.alpha, page, rtol=0, atol=1e-12)
        previous = box.alpha.copy()
    c["node"].value = 3
    assert int((box.explorer.drawing.graph.dst == 3).sum()) == n, "redrawn around the new node"
    c["full"].value = False
    assert box.alpha.shape == (G.num_edges,)
    assert box.explorer.drawing.graph.num_edges == G.num_edges


def test_full_attention_and_encodings_bad_input():
    big = graphs.path_graph(301)
    with pytest.raises(ValueError, match=r"^full\b"):
        widgets.explorer_attention(graph=big, full=True)
    with pytest.raises(ValueError, match=r"^pe_k\b"):
        widgets.explorer_attention(pe_k=6)  # 6 nodes: at most 5 non-trivial eigenvectors
    with pytest.raises(ValueError, match=r"^pe\b"):
        widgets.explorer_attention(pe="laplacian")  # no pe_k: no encodings
    pytest.importorskip("ipywidgets")
    with pytest.raises(ValueError, match=r"^full\b"):
        widgets.attention_explorer(big, full=False)
    with pytest.raises(ValueError, match=r"^pe_k\b"):
        widgets.attention_explorer(pe_k=0)
