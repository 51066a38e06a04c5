"""gnnbook.web: the kernel-free figure's embedded parameters reproduce the
real layers' attention."""

from __future__ import annotations

import json
import math
import re
from importlib import resources

import numpy as np
import pytest
import torch

from gnnbook import graphs, pe, web
from gnnbook.attention_model import KINDS, STYLE, Controls, controlled_layer, full_graph


def _figure(**kw):
    g = graphs.toy_graph()
    layers = web.make_layers(5, 4, 2, seed=0)
    feat = web.default_features(6, 5, seed=0)
    return g, layers, feat, web.interactive_attention(g, layers, feat, node=0, **kw)


PE_K = 3


def _pe_figure(**kw):
    """The toy graph with the full-attention and positional-encoding controls: layers of input
    width 5 + PE_K, features of width 5."""
    g = graphs.toy_graph()
    layers = web.make_layers(5 + PE_K, 4, 2, seed=0)
    feat = web.default_features(6, 5, seed=0)
    return g, web.interactive_attention(g, layers, feat, **{"full": False, "pe_k": PE_K, **kw})


def _params(html):
    blob = re.search(
        r'<script type="application/json" class="gnnbook-params">(.*?)</script>', html, re.S
    ).group(1)
    return json.loads(blob)


def _leaky(x, slope):
    return x if x > 0 else slope * x


# The tests' Python port of attention.js's SCORES, one entry per kind: (L, zs_j, zd_i, s, slope) ->
# e for one head.
PORT_SCORES = {
    "gat": lambda L, h, zj, zi, s, slope: _leaky(
        sum(z * (s * a) for z, a in zip(zj, L["al"][h]))
        + sum(z * (s * a) for z, a in zip(zi, L["ar"][h])),
        slope,
    ),
    "gatv2": lambda L, h, zj, zi, s, slope: sum(
        _leaky(x + y, slope) * (s * a) for x, y, a in zip(zj, zi, L["a"][h])
    ),
    "dot": lambda L, h, zj, zi, s, slope: (
        s * sum(x * y for x, y in zip(zj, zi)) / math.sqrt(len(zj))
    ),
    # zj is the key k_j = W_k h_j + b_k (the page's Ws), zi the query q_i = W_q h_i + b_q (Wd)
    "transformer": lambda L, h, kj, qi, s, slope: (
        s * sum(q * k for q, k in zip(qi, kj)) / math.sqrt(len(kj))
    ),
}


def _js_port(p, st, all_heads=False):
    """A line-by-line Python port of the browser's attention() (web_assets/attention.js), on the
    JSON; what each kind has comes from the page's kind_info, as in the JS."""
    N, H, F, D = p["n"], p["heads"], p["out_feats"], p["in_feats"]
    L, s = p["kinds"][st["kind"]], st["scale"]
    feat = [row[:] for row in p["feat"]]
    if st["perturb"] != 0 and st["perturb_node"] is not None:
        for c in range(len(p["direction"])):
            feat[st["perturb_node"]][c] += st["perturb"] * p["direction"][c]
    if p["pe"]:  # [h || p]: the chosen encoding, or zeros
        k = p["pe"]["k"]
        code = p["pe"]["encodings"][st["pe"]] if st["pe"] != "none" else [[0.0] * k] * N
        feat = [row + list(c) for row, c in zip(feat, code)]
    if st["full"]:  # every j -> i, edge i*N + j
        src, dst = [j for i in range(N) for j in range(N)], [i for i in range(N) for j in range(N)]
    else:
        src, dst = p["src"], p["dst"]
    if not p["kind_info"][st["kind"]]["vectors"]:  # no vectors: sqrt(s) on the projection
        r, s = math.sqrt(s), 1.0
        scaled = lambda m: None if m is None else [[w * r for w in row] for row in m]  # noqa: E731
        L = {
            "Ws": scaled(L["Ws"]),
            "Wd": scaled(L["Wd"]),
            "bs": L["bs"] and [b * r for b in L["bs"]],
            "bd": L["bd"] and [b * r for b in L["bd"]],
        }

    def project(W, b, h):
        return [(b[r] if b else 0.0) + sum(W[r][c] * h[c] for c in range(D)) for r in range(len(W))]

    zs = [project(L["Ws"], L["bs"], h) for h in feat]
    zd = [project(L["Wd"], L["bd"], h) for h in feat] if L["Wd"] else zs
    score = PORT_SCORES[st["kind"]]
    e = np.array(
        [
            [
                score(L, h, zs[j][h * F : (h + 1) * F], zd[i][h * F : (h + 1) * F], s, st["slope"])
                for h in range(H)
            ]
            for j, i in zip(src, dst)
        ]
    )
    alpha = np.zeros_like(e)
    dst = np.array(dst)
    for v in range(N):
        m = dst == v
        if m.any():
            w = np.exp(e[m] - e[m].max(axis=0))
            alpha[m] = w / w.sum(axis=0)
    if all_heads:
        return alpha
    return alpha.mean(axis=1) if st["head"] == "mean" else alpha[:, st["head"]]


def test_every_kind_has_one_formula_in_the_js_and_in_the_port():
    js = (resources.files("gnnbook") / "web_assets" / "attention.js").read_text()
    block = js[js.index("var SCORES = {") : js.index("};", js.index("var SCORES = {"))]
    assert set(re.findall(r"^    (\w+): function", block, re.M)) == set(KINDS) == set(PORT_SCORES)
    for kind in KINDS.values():
        assert kind.page()["vectors"] == list(kind.vectors) and "scale" in kind.page()["controls"]


STATES = [
    {},
    {"slope": 0.0},
    {"slope": 0.77, "scale": 2.35, "head": 1},
    {"kind": "gatv2", "perturb_node": 3, "perturb": -1.7},
    {"kind": "gatv2", "scale": 0.4, "head": "mean", "slope": 0.05},
    {"kind": "dot", "scale": 2.9, "perturb_node": 0, "perturb": 2.2, "head": 1},
    {"kind": "gat", "scale": 0.0},
    {"kind": "transformer"},
    {"kind": "transformer", "scale": 2.2, "perturb_node": 4, "perturb": 1.3, "head": "mean"},
    {"kind": "transformer", "full": True, "head": 1},
    {"kind": "gatv2", "full": True, "scale": 1.7, "perturb_node": 1, "perturb": -0.9},
]


@pytest.mark.parametrize("change", STATES, ids=[str(i) for i in range(len(STATES))])
def test_json_parameters_reproduce_the_layers(change):
    g, layers, feat, fig = _figure()
    p = _params(fig.html)
    state = {**p["init"], **change}
    expected = fig.attention(state)  # the real gnnbook layers
    np.testing.assert_allclose(_js_port(p, state), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(web.attention_from_params(p, state), expected, rtol=0, atol=1e-12)
    dst = full_graph(6).dst if state.get("full") else g.dst
    sums = np.zeros(6)
    np.add.at(sums, dst.numpy(), expected)
    np.testing.assert_allclose(sums, np.ones(6), atol=1e-12)


PE_STATES = [
    {"kind": kind, "full": full, "pe": pe}
    for kind in KINDS
    for full in (False, True)
    for pe in ("none", "laplacian", "random_walk")
] + [{"kind": "transformer", "full": True, "pe": "laplacian", "perturb": 2.0, "scale": 0.6}]


@pytest.mark.parametrize("change", PE_STATES, ids=[str(i) for i in range(len(PE_STATES))])
def test_encodings_and_full_attention_reproduce_the_layers(change):
    g, fig = _pe_figure()
    p = _params(fig.html)
    state = {**p["init"], **change}
    expected = fig.attention(state, all_heads=True)
    np.testing.assert_allclose(_js_port(p, state, all_heads=True), expected, rtol=0, atol=1e-12)
    # the float64 layer itself, on [h || p] and on the complete graph with self-loops
    enc = {"none": torch.zeros(6, PE_K, dtype=torch.float64)}
    enc["laplacian"], enc["random_walk"] = pe.laplacian_pe(g, PE_K), pe.random_walk_pe(g, PE_K)
    layer = fig.layers[state["kind"]]
    feat = torch.cat([fig.feat.clone(), enc[state["pe"]]], 1)
    if state.get("perturb", 0.0):
        feat[state["perturb_node"], :5] += state["perturb"] * fig.direction
    twin = controlled_layer(layer, Controls.of(state))
    _, att = twin(full_graph(6) if state["full"] else g, feat, get_attention=True)
    np.testing.assert_allclose(att[..., 0].detach().numpy(), expected, rtol=0, atol=1e-12)
    dst = (full_graph(6) if state["full"] else g).dst.numpy()
    sums = np.zeros((6, 2))
    np.add.at(sums, dst, expected)
    np.testing.assert_allclose(sums, 1.0, atol=1e-12)
    if state["full"]:
        assert expected.shape == (36, 2), "full attention: one weight per (j, i) pair"


def test_encodings_change_full_attention_and_none_is_zeros():
    g, fig = _pe_figure(kind="transformer", full=True)
    none = fig.attention(all_heads=True)
    for name in ("laplacian", "random_walk"):
        assert not np.allclose(fig.attention(pe=name, all_heads=True), none), name
    # without positions, full attention is blind to the graph: another graph, the same α
    other = web.interactive_attention(
        graphs.path_graph(6), fig.layers, fig.feat, full=True, pe_k=PE_K, kind="transformer"
    )
    np.testing.assert_allclose(other.attention(all_heads=True), none, rtol=0, atol=1e-12)
    assert not np.allclose(
        other.attention(pe="laplacian", all_heads=True),
        fig.attention(pe="laplacian", all_heads=True),
    )


def test_initial_state_is_the_layers_own_forward():
    g, layers, feat, fig = _figure(head=1)
    _, att = layers["gat"](g, feat, get_attention=True)
    np.testing.assert_allclose(fig.attention(), att[:, 1, 0].detach().numpy(), rtol=0, atol=1e-12)
    assert fig.init == Controls(
        node=0, head=1, kind="gat", slope=0.2, scale=1.0, perturb_node=2, perturb=0.0
    )


def test_float32_layer_is_embedded_exactly():
    g = graphs.toy_graph()
    layer = web.make_layers(5, 3, 2, seed=3)["gatv2"].float()
    feat = web.default_features(6, 5, seed=3).float()
    fig = web.interactive_attention(g, layer, feat, perturb=0.5)
    assert fig.params["kinds"]["gatv2"]["a"] == layer.attn.reshape(2, 3).double().tolist()
    p = _params(fig.html)
    for kind in fig.params["kinds"]:
        state = {**p["init"], "kind": kind}
        np.testing.assert_allclose(_js_port(p, state), fig.attention(state), rtol=0, atol=1e-12)
    _, att = layer(g, feat, get_attention=True)
    np.testing.assert_allclose(
        fig.attention(perturb=0.0), att[:, 0, 0].detach().double().numpy(), atol=1e-6
    )


def test_html_is_self_contained_and_figures_do_not_clash():
    _, _, _, a = _figure()
    _, _, _, b = _figure()
    html = a._repr_html_()
    assert not re.search(r"https?://", html), "no external URL of any kind"
    assert not re.search(r"<link|@import|(?<![-\w])(src|href)\s*=|url\((?!#)", html)
    assert html.count("<script") == 2 and "document.currentScript" in html
    assert a.id != b.id and a.id in html and b.id not in html
    css = html.split("<style>")[1].split("</style>")[0]
    assert all(f"#{a.id}" in line for line in re.findall(r"^[^{}]*\{", css, re.M))
    for attr in ("data-src", "data-dst", "data-alpha", "data-state", "data-control"):
        assert attr in html
    assert "</script" not in _params(html).__repr__()


def test_controls_validation():
    g, layers, feat, fig = _figure()
    with pytest.raises(ValueError, match="scale"):
        fig.attention(scale=-1.0)
    with pytest.raises(ValueError, match="feat"):
        web.interactive_attention(g, layers, feat[:3])
    only = web.interactive_attention(g, {"dot": layers["dot"]}, feat)
    assert list(only.params["kinds"]) == ["dot"] and only.init.kind == "dot"
    assert torch.equal(web.perturbation_direction(feat), web.perturbation_direction(feat))


def test_page_json_follows_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    for fig in (
        _figure()[3],
        _figure(head="mean", kind="dot")[3],
        _pe_figure(kind="transformer", pe="laplacian")[1],
        web.interactive_attention(
            graphs.Graph(torch.tensor([0, 1, 2]), torch.tensor([1, 2, 0]), 3),  # directed
            web.make_layers(7, 3, 1)["transformer"],
            web.default_features(3, 5),
            full=True,
            pe_k=2,
        ),
        web.interactive_attention(
            graphs.toy_graph(),
            web.make_layers(5, 3, 1)["gatv2"],
            web.default_features(6, 5),
            head=None,
        ),
    ):
        p = _params(fig.html)
        jsonschema.validate(p, web.PAGE_SCHEMA)
        assert p == json.loads(json.dumps(fig.params)) and p["style"] == json.loads(
            json.dumps(STYLE)
        )
        assert set(p["kind_info"]) == set(p["kinds"])


HOSTILE = [
    "<!--<script>",
    "</script>",
    "</SCRIPT ><b>",
    "a&b",
    "\u2028\u2029",
    "'\"><img src=x onerror=alert(1)>",
]


def test_hostile_labels_cannot_leave_the_json_block():
    g = graphs.toy_graph()
    fig = web.interactive_attention(
        g,
        web.make_layers(5, 4, 2),
        web.default_features(6, 5),
        node_labels=HOSTILE,
        title="</script><script>alert(1)</script>",
    )
    blob = re.search(
        r'<script type="application/json" class="gnnbook-params">(.*?)</script>', fig.html, re.S
    ).group(1)
    assert not re.search(r"[<>&\u2028\u2029]", blob), "nothing in the JSON may look like markup"
    assert json.loads(blob)["labels"] == HOSTILE
    assert fig.html.count("<script") == 2 and fig.html.lower().count("</script") == 2
    assert "<img" not in fig.html and "<script>alert" not in fig.html
    assert web.embed_json({"x": "</script>"}) == '{"x":"\\u003c/script\\u003e"}'


@pytest.mark.parametrize(
    "change, argument",
    [
        (dict(feat=torch.full((6, 5), float("nan"))), "feat"),
        (dict(feat=torch.full((6, 5), float("inf"))), "feat"),
        (dict(feat=torch.ones(6, 4)), "feat"),
        (dict(node=99), "node"),
        (dict(node=-1), "node"),
        (dict(head=7), "head"),
        (dict(head="first"), "head"),
        (dict(scale=-1.0), "scale"),
        (dict(scale=float("nan")), "scale"),
        (dict(slope=float("inf")), "slope"),
        (dict(perturb=float("nan")), "perturb"),
        (dict(perturb_node=6), "perturb_node"),
        (dict(kind="sparse"), "kind"),
        (dict(full="yes"), "full"),
        (dict(pe="laplacian"), "pe"),
        (dict(pe_k=6), "pe_k"),
        (dict(pe_k=0), "pe_k"),
        (dict(pe_k=2), "feat"),  # the layers take 5 inputs: 3 features + 2 encodings expected
        (dict(vmax=0.0), "vmax"),
        (dict(node_labels=["a"]), "node_labels"),
        (dict(pos={0: (0, 0)}), "pos"),
    ],
)
def test_bad_arguments_are_named(change, argument):
    args = dict(
        graph=graphs.toy_graph(), layer=web.make_layers(5, 4, 2), feat=web.default_features(6, 5)
    )
    args.update(change)
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        web.interactive_attention(**args)


def test_full_attention_and_encodings_bad_input():
    big = graphs.path_graph(STYLE["max_full_nodes"] + 1)
    layers = web.make_layers(5, 4, 2)
    with pytest.raises(ValueError, match=r"^full\b"):
        web.interactive_attention(big, layers, web.default_features(big.num_nodes, 5), full=False)
    with pytest.raises(ValueError, match=r"^full\b"):
        web.attention_for_controls(big, layers, web.default_features(big.num_nodes, 5), full=True)
    g, fig = _pe_figure()
    with pytest.raises(ValueError, match=r"^pe\b"):
        fig.attention(pe="spectral")
    directed = graphs.Graph(torch.tensor([0, 1, 2]), torch.tensor([1, 2, 0]), 3)
    with pytest.raises(ValueError, match=r"^pe\b.*random_walk"):
        web.interactive_attention(
            directed, web.make_layers(6, 3, 1), web.default_features(3, 5), pe_k=1, pe="laplacian"
        )


def test_non_finite_layer_parameters_are_refused():
    layers = web.make_layers(5, 4, 2)
    with torch.no_grad():
        layers["gat"].attn_l[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="layer gat's attn_l"):
        web.interactive_attention(graphs.toy_graph(), layers, web.default_features(6, 5))
    with pytest.raises(ValueError, match="layer layer's attn_l"):
        web.interactive_attention(graphs.toy_graph(), layers["gat"], web.default_features(6, 5))


def test_choices_that_do_nothing_are_hidden_and_controls_are_labelled():
    feat = web.default_features(6, 5)
    one_head = web.interactive_attention(graphs.toy_graph(), web.make_layers(5, 4, 1)["gat"], feat)
    html = one_head.html
    assert re.search(r'<div class="ga-ctl" hidden><label for="[^"]+-head">', html), (
        "one head: no head choice"
    )
    only = web.interactive_attention(
        graphs.toy_graph(), {"dot": web.make_layers(5, 4, 2)["dot"]}, feat
    )
    assert re.search(r'<div class="ga-ctl" hidden><label for="[^"]+-kind">', only.html)

    def hidden(name, page):
        return re.search(
            rf'<div class="ga-ctl[^"]*" hidden>(<input[^>]*>)?<label for="[^"]+-{name}">', page
        )

    for name in ("full", "pe"):  # not asked for: hidden
        assert hidden(name, html) and not hidden(name, _pe_figure()[1].html)
    assert not hidden("slope", html) and "scale of a (1/temperature)" in html
    derived = web.interactive_attention(
        graphs.toy_graph(), web.make_layers(5, 4, 2)["transformer"], feat
    )
    assert not hidden("slope", derived.html), "derived kinds with a slope: shown"
    alone = web.interactive_attention(
        graphs.toy_graph(), {"transformer": web.make_layers(5, 4, 2)["transformer"]}, feat
    )
    assert hidden("slope", alone.html), "no kind with a LeakyReLU: no slope"
    assert "scale of the scores (1/temperature)" in alone.html
    for name in ("node", "head", "kind", "slope", "scale", "perturb_node", "perturb", "full", "pe"):
        assert f'<label for="{one_head.id}-{name}"' in html and f'id="{one_head.id}-{name}"' in html
    assert "no Python kernel" not in html and 'html[data-theme="dark"]' in html


def test_mean_is_the_one_head_semantics_of_none():
    g, layers, feat, fig = _figure(head=None)
    assert fig.init.head == "mean"
    np.testing.assert_allclose(fig.attention(), fig.attention(all_heads=True).mean(1), atol=1e-15)
    with pytest.raises(ValueError, match="head"):
        web.pick_head(torch.ones(3, 2), 2)


# --- the same page in headless Chromium ---------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    import os

    if not os.path.exists(CHROMIUM):
        pytest.skip("no Chromium at /usr/bin/chromium")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _page(browser, body):
    page = browser.new_page()
    page.route(
        "**/*",
        lambda route: (
            route.abort() if not route.request.url.startswith("data:") else route.continue_()
        ),
    )
    page.set_content(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{body}</body></html>'
    )
    return page


def test_javascript_equals_python_for_every_kind(browser):
    g, layers, feat, fig = _figure(head=1)
    page = _page(browser, fig.html)
    p = fig.params
    for kind in KINDS:
        for change in (
            {},
            {"scale": 2.35, "slope": 0.77},
            {"perturb_node": 3, "perturb": -1.7, "scale": 0.4},
        ):
            state = {**p["init"], "kind": kind, **change}
            js = np.array(
                page.evaluate(
                    f"st => document.getElementById('{fig.id}').gnnbookAttention(st)", state
                )
            )
            python = fig.attention(state, all_heads=True)
            np.testing.assert_allclose(js, python, rtol=0, atol=1e-6)
            sums = np.zeros((6, 2))
            np.add.at(sums, g.dst.numpy(), js)
            np.testing.assert_allclose(sums, 1.0, atol=1e-9)
    page.close()


def test_javascript_equals_python_with_full_attention_and_encodings(browser):
    g, fig = _pe_figure()
    page = _page(browser, fig.html)
    for kind in KINDS:
        for full in (False, True):
            for code in ("none", "laplacian", "random_walk"):
                state = {**fig.params["init"], "kind": kind, "full": full, "pe": code}
                state.update(scale=1.4, perturb=-1.1)
                js = np.array(
                    page.evaluate(
                        f"st => document.getElementById('{fig.id}').gnnbookAttention(st)", state
                    )
                )
                np.testing.assert_allclose(
                    js, fig.attention(state, all_heads=True), rtol=0, atol=1e-9
                )
                dst = (full_graph(6) if full else g).dst.numpy()
                sums = np.zeros((6, 2))
                np.add.at(sums, dst, js)
                np.testing.assert_allclose(sums, 1.0, atol=1e-9)  # full: over all 6 sources
    page.close()


def test_full_attention_draws_the_graph_faintly_and_n_edges_on_top(browser):
    g, fig = _pe_figure(kind="transformer", node=3)
    page = _page(browser, fig.html)
    root = page.locator(f"#{fig.id}")
    assert (
        root.locator(".ga-edge").count() == g.num_edges and root.locator(".ga-under").count() == 0
    )
    for code in ("none", "laplacian"):
        root.locator('[data-control="pe"]').select_option(code)
        if not root.locator('[data-control="full"]').is_checked():
            root.locator('[data-control="full"]').check()
        state = json.loads(root.get_attribute("data-state"))
        assert state["full"] and state["pe"] == code and state["node"] == 3
        assert root.locator(".ga-under").count() == g.num_edges, "the graph, drawn faintly"
        rows = root.locator("[data-alpha]").evaluate_all(
            "els => els.map(e => [+e.dataset.eid, +e.dataset.src, +e.dataset.dst, "
            "+e.dataset.alpha])"
        )
        rows = np.array(sorted(rows))
        assert list(rows[:, 0]) == list(range(18, 24)) and set(rows[:, 2]) == {3}
        assert list(rows[:, 1]) == list(range(6)), "every node is a source of node 3"
        np.testing.assert_allclose(rows[:, 3].sum(), 1.0, atol=1e-9)
        np.testing.assert_allclose(rows[:, 3], fig.attention(state)[18:24], rtol=0, atol=1e-9)
        perturb = root.locator('[data-control="perturb_node"] option').count()
        assert perturb == 6, "under full attention any node may be perturbed"
    assert "sources (full attention)" in root.locator(".ga-info").inner_text()
    root.locator('[data-control="full"]').uncheck()
    assert (
        root.locator(".ga-under").count() == 0 and root.locator(".ga-edge").count() == g.num_edges
    )
    page.close()


def test_hostile_labels_in_two_figures_on_one_page(browser):
    g, layers, feat = graphs.toy_graph(), web.make_layers(5, 4, 2), web.default_features(6, 5)
    a = web.interactive_attention(g, layers, feat, node_labels=HOSTILE, title="<!--<script>")
    b = web.interactive_attention(
        g, layers, feat, node_labels=list(reversed(HOSTILE)), title="</script>"
    )
    page = _page(
        browser,
        "<script>window.injected = 0; window.alert = () => { window.injected += 1; };</script>"
        f"{a.html}<p id='after-a'>text between</p>{b.html}<p id='after-b'>text after</p>",
    )
    for fig in (a, b):
        root = page.locator(f"#{fig.id}")
        assert root.get_attribute("data-ready") == "1", "the figure's script ran"
        assert root.locator(".ga-edge").count() == g.num_edges
        node_names = root.locator(".ga-node").evaluate_all(
            "gs => gs.map(g => g.getAttribute('aria-label'))"
        )
        assert node_names == [f"node {label}" for label in fig.params["labels"]]
    assert page.locator("#after-a").inner_text() == "text between"
    assert page.locator("#after-b").inner_text() == "text after"
    assert page.evaluate("window.injected") == 0 and page.locator("img").count() == 0
    page.close()


def test_keyboard_selects_a_node_and_the_svg_is_named(browser):
    _, _, _, fig = _figure()
    page = _page(browser, fig.html)
    svg = page.locator(f"#{fig.id} svg")
    title_id, desc_id = svg.get_attribute("aria-labelledby"), svg.get_attribute("aria-describedby")
    assert "into node 0" in page.locator(f"[id='{title_id}']").text_content()
    assert "edge width and colour" in page.locator(f"[id='{desc_id}']").text_content()
    page.locator(f'#{fig.id} .ga-node[data-node="3"]').focus()
    page.keyboard.press("Enter")
    assert json.loads(page.locator(f"#{fig.id}").get_attribute("data-state"))["node"] == 3
    page.keyboard.press("Tab")
    page.keyboard.press(" ")
    assert json.loads(page.locator(f"#{fig.id}").get_attribute("data-state"))["node"] == 4
    page.set_viewport_size({"width": 390, "height": 800})
    width = page.evaluate(f"document.getElementById('{fig.id}').getBoundingClientRect().width")
    assert width <= 390
    slider = page.locator(f'#{fig.id} [data-control="scale"]').bounding_box()
    assert slider["width"] >= 140
    page.close()
