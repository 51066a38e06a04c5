"""gnnbook.draw: widths follow α, colour bar, masked heatmap, entropy against hand computations."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402

from gnnbook import draw, graphs, ops  # noqa: E402
from gnnbook.attention_model import STYLE  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _attention(graph, heads=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    logits = 2.0 * torch.randn(graph.num_edges, heads, 1, generator=gen, dtype=torch.float64)
    return ops.edge_softmax(graph, logits)


def _edges(ax):
    return {
        int(p.get_gid().split("-")[1]): p
        for p in ax.patches
        if (p.get_gid() or "").startswith("edge-")
    }


@pytest.mark.parametrize("node", [None, 0])
def test_edge_width_is_monotone_in_alpha_and_every_edge_is_drawn(node):
    g = graphs.toy_graph()
    att = _attention(g)
    ax = draw.draw_attention(g, att, node=node, head=1)
    edges = _edges(ax)
    assert sorted(edges) == list(range(g.num_edges))
    alpha = att[:, 1, 0].numpy()
    drawn = [
        k for k in range(g.num_edges) if node is None or int(g.dst[k]) == node
    ]  # the edges in colour
    widths = np.array([edges[k].get_linewidth() for k in drawn])
    order = np.argsort(alpha[drawn])
    assert np.all(np.diff(widths[order]) >= -1e-12), "a larger α must never get a thinner edge"
    lo, hi = STYLE["width_range"]
    np.testing.assert_allclose(
        widths, lo + (hi - lo) * alpha[drawn] / alpha.max(), rtol=1e-12
    )  # vmax: largest α
    assert all(isinstance(edges[k], FancyArrowPatch) for k in edges)


def test_edges_not_into_the_focused_node_recede():
    g = graphs.toy_graph()
    ax = draw.draw_attention(g, _attention(g), node=0, head=0)
    for k, patch in _edges(ax).items():
        if int(g.dst[k]) != 0:
            assert patch.get_linewidth() == STYLE["faded_width"]
            assert matplotlib.colors.to_hex(patch.get_edgecolor()) == STYLE["faded_colour"]


def _overlaps(ax):
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text()]
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if a.overlaps(b)]


@pytest.mark.parametrize("loops", [False, True])
def test_no_label_overlaps_another(loops):
    g = graphs.toy_graph().add_self_loops() if loops else graphs.toy_graph()
    att = _attention(g, heads=3)
    for node in range(g.num_nodes):
        assert not _overlaps(draw.draw_attention(g, att, node=node, head=0)), (
            f"labels overlap (node {node})"
        )
        plt.close("all")
    fig = draw.draw_attention_heads(g, att, node=0, ncols=3)
    for ax in fig.axes[:3]:
        assert not _overlaps(ax)


def test_compared_panels_share_one_colour_scale():
    g = graphs.toy_graph()
    fig, axes = plt.subplots(1, 2)
    uniform = 1.0 / g.in_degrees().double()[g.dst]
    draw.draw_attention(g, uniform, node=0, ax=axes[0], vmax=1.0, colorbar=False)
    draw.draw_attention(g, _attention(g, heads=1), node=0, ax=axes[1], vmax=1.0, colorbar=False)
    bar = draw.attention_colorbar(fig, list(axes), 1.0)
    assert bar.norm.vmax == 1.0
    into0 = [k for k in range(g.num_edges) if int(g.dst[k]) == 0]
    width = _edges(axes[0])[into0[0]].get_linewidth()
    lo, hi = STYLE["width_range"]
    assert width == pytest.approx(lo + (hi - lo) * 0.25), (
        "α = 1/4 on a [0, 1] scale, not a saturated edge"
    )


def test_labels_with_dollars_and_alt_text():
    g = graphs.toy_graph()
    ax = draw.draw_attention(
        g, _attention(g), node=0, node_labels=["$x", "a$b", "$", "3", "4", "$5$"]
    )
    ax.figure.canvas.draw()  # a bare $ would be a mathtext error here
    assert "$x" in {t.get_text().replace("\\$", "$") for t in ax.texts}
    text = draw.alt_text(ax.figure)
    assert (
        text.startswith("A graph of 6 nodes and 14 edges")
        and "node $x" in text
        and text.endswith(".")
    )
    with pytest.raises(ValueError, match="nothing to describe"):
        draw.alt_text(plt.figure())


def test_size_limits_say_what_to_do_instead():
    big = graphs.Graph(
        torch.arange(STYLE["max_draw_nodes"]),
        torch.arange(1, STYLE["max_draw_nodes"] + 1),
        STYLE["max_draw_nodes"] + 1,
    )
    with pytest.raises(ValueError, match="neighbourhood"):
        draw.draw_attention(big, torch.ones(big.num_edges))
    n = STYLE["max_heatmap_nodes"] + 1
    huge = graphs.Graph(torch.arange(n), torch.arange(n), n)
    with pytest.raises(ValueError, match="^rows.*neighbourhood"):
        draw.attention_heatmap(huge, torch.ones(n))
    ax = draw.attention_heatmap(
        huge, torch.ones(n), rows=[0, 1, 2], columns=[0, 1, 2]
    )  # a block of it is fine
    assert ax.images[0].get_array().shape == (3, 3)


def test_heatmap_block_of_a_lookup_graph():
    """Queries 0..2 each hear keys 3..6: the block rows=queries, columns=keys
    is the whole matrix."""
    q, k = torch.arange(3).repeat_interleave(4), torch.arange(4).repeat(3) + 3
    g = graphs.Graph(k, q, 7)
    att = _attention(g, heads=1)
    ax = draw.attention_heatmap(g, att, rows=[2, 0, 1], columns=range(3, 7), vmax=1.0)
    block = ax.images[0].get_array()
    assert not np.ma.getmaskarray(block).any()
    np.testing.assert_allclose(block.filled(0)[1], att[:4, 0, 0].numpy())  # row 1 is query 0
    np.testing.assert_allclose(block.sum(1).filled(0), np.ones(3))


def test_colour_bar_labels_and_focus():
    g = graphs.toy_graph()
    att = _attention(g)
    ax = draw.draw_attention(g, att, node=0, head=0)
    fig = ax.figure
    assert len(fig.axes) == 2, "the drawing needs its colour bar"
    assert "alpha" in fig.axes[1].get_ylabel()
    texts = {t.get_text() for t in ax.texts}
    alpha = att[:, 0, 0].numpy()
    into0 = [alpha[k] for k in range(g.num_edges) if int(g.dst[k]) == 0]
    assert len(into0) == 4
    for a in into0:
        assert format(a, ".2f") in texts, "α must be printed on the focused node's incoming edges"
    assert "into node 0" in ax.get_title() and "head 0 of 3" in ax.get_title()
    # the focused node's incoming edges are drawn in full colour on top of the others
    edges = _edges(ax)
    top = min(edges[k].get_zorder() for k in range(g.num_edges) if int(g.dst[k]) == 0)
    assert all(edges[k].get_zorder() < top for k in range(g.num_edges) if int(g.dst[k]) != 0)


def test_heads_shapes_and_mean():
    g = graphs.toy_graph()
    att = _attention(g, heads=2)
    ax = draw.draw_attention(g, att, node=2)
    assert "mean of 2 heads" in ax.get_title()
    w_mean = [p.get_linewidth() for _, p in sorted(_edges(ax).items())]
    ax2 = draw.draw_attention(
        g, att.mean(dim=1).squeeze(-1), node=2, vmax=float(att.mean(dim=1).max())
    )
    w_flat = [p.get_linewidth() for _, p in sorted(_edges(ax2).items())]
    np.testing.assert_allclose(w_mean, w_flat)
    draw.draw_attention(g, att[..., 0], head=1)  # (E, H)
    with pytest.raises(ValueError, match="head must be in 0..1"):
        draw.draw_attention(g, att, head=5)
    with pytest.raises(ValueError, match="shape"):
        draw.draw_attention(g, att[:-1], head=0)


def test_self_loops_are_rings():
    g = graphs.toy_graph().add_self_loops()
    att = _attention(g, heads=1)
    ax = draw.draw_attention(g, att, node=0)
    edges = _edges(ax)
    loops = [k for k in range(g.num_edges) if int(g.src[k]) == int(g.dst[k])]
    assert len(loops) == 6 and all(isinstance(edges[k], Circle) for k in loops)


def test_update_restyles_and_layout_is_deterministic():
    g = graphs.toy_graph()
    a, b = _attention(g, seed=1), _attention(g, seed=2)
    _, ax = plt.subplots(figsize=(6.2, 5.2))
    drawing = draw.AttentionDrawing(g, ax, vmax=1.0)
    drawing.update(a, node=0, head=0)
    before = [p.get_linewidth() for _, p in sorted(_edges(ax).items())]
    drawing.update(b, node=3, head=0)
    after = [p.get_linewidth() for _, p in sorted(_edges(ax).items())]
    fresh = draw.draw_attention(g, b, node=3, head=0, vmax=1.0)
    assert before != after
    np.testing.assert_allclose(after, [p.get_linewidth() for _, p in sorted(_edges(fresh).items())])
    p1, p2 = draw.graph_layout(graphs.karate_club()), draw.graph_layout(graphs.karate_club())
    assert all(np.array_equal(p1[v], p2[v]) for v in p1)


def test_heads_grid():
    g = graphs.toy_graph()
    fig = draw.draw_attention_heads(g, _attention(g, heads=3), node=0)
    panels = [ax for ax in fig.axes if ax.get_title().startswith("head")]
    assert [ax.get_title() for ax in panels] == ["head 0", "head 1", "head 2"]


def test_heatmap_colour_bar_range_and_row_order():
    g = graphs.toy_graph()
    att = _attention(g, heads=2)
    ax = draw.attention_heatmap(g, att, head=0, vmax=1.0, rows=[5, 4, 3, 2, 1, 0])
    assert len(ax.figure.axes) == 2, "a colour bar by default"
    assert ax.images[0].norm.vmax == 1.0
    top = ax.images[0].get_array()
    plain = draw.attention_heatmap(g, att, head=0).images[0].get_array()
    np.testing.assert_allclose(top.filled(0)[0], plain.filled(0)[5])


def test_entropy_histogram_uniform_bars_stay_visible():
    g = graphs.karate_club().add_self_loops()
    ax = draw.attention_entropy_histogram(g, _attention(g, heads=2))
    filled, outline = ax.patches[0], ax.patches[-1]
    assert outline.get_zorder() > filled.get_zorder() and not outline.get_fill(), (
        "the uniform outline is on top"
    )


def test_heatmap_masks_non_edges():
    g = graphs.toy_graph()
    att = _attention(g, heads=2)
    ax = draw.attention_heatmap(g, att, head=1)
    matrix = ax.images[0].get_array()
    expected_mask = np.ones((6, 6), dtype=bool)
    expected_mask[g.dst.numpy(), g.src.numpy()] = False
    np.testing.assert_array_equal(np.ma.getmaskarray(matrix), expected_mask)
    np.testing.assert_allclose(
        matrix.filled(0.0)[g.dst.numpy(), g.src.numpy()], att[:, 1, 0].numpy()
    )
    np.testing.assert_allclose(matrix.sum(axis=1).filled(0.0), np.ones(6))  # rows are softmaxes


def test_entropy_matches_hand_computation_and_uniform_is_log_degree():
    g = graphs.toy_graph()
    att = _attention(g, heads=2)
    ent = draw.attention_entropy(g, att)
    assert ent.shape == (6, 2)
    a = att[:, 1, 0]
    into0 = [float(a[k]) for k in range(g.num_edges) if int(g.dst[k]) == 0]
    assert math.isclose(float(ent[0, 1]), -sum(x * math.log(x) for x in into0), rel_tol=1e-12)
    deg = g.in_degrees().double()
    uniform = 1.0 / deg[g.dst]
    torch.testing.assert_close(draw.attention_entropy(g, uniform), torch.log(deg))
    assert bool((ent <= torch.log(deg)[:, None] + 1e-12).all()), "entropy is at most log(deg)"
    one_hot = torch.zeros(g.num_edges, dtype=torch.float64)
    for v in range(6):
        one_hot[int((g.dst == v).nonzero()[0])] = 1.0
    torch.testing.assert_close(
        draw.attention_entropy(g, one_hot), torch.zeros(6, dtype=torch.float64)
    )


def test_entropy_histogram_has_both_distributions():
    g = graphs.karate_club().add_self_loops()
    att = _attention(g, heads=4)
    ax = draw.attention_entropy_histogram(g, att)
    (learned,) = ax.containers
    assert sum(p.get_height() for p in learned) == 34 * 4
    edges = [p.get_x() for p in learned] + [learned[-1].get_x() + learned[-1].get_width()]
    counts, _ = np.histogram(np.repeat(np.log(g.in_degrees().numpy()), 4), bins=edges)
    outline = ax.patches[-1].get_xy()
    assert outline[:, 1].max() == counts.max() and counts.sum() == 34 * 4
    assert "uniform" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
