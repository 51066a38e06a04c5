"""gnnbook.web: the kernel-free figure's embedded parameters reproduce the real layers' attention."""
from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
import torch

from gnnbook import graphs, web
from gnnbook.web import Controls


def _figure(**kw):
    g = graphs.toy_graph()
    layers = web.make_layers(5, 4, 2, seed=0)
    feat = web.default_features(6, 5, seed=0)
    return g, layers, feat, web.interactive_attention(g, layers, feat, node=0, **kw)


def _params(html):
    blob = re.search(r'<script type="application/json" class="gnnbook-params">(.*?)</script>', html, re.S).group(1)
    return json.loads(blob)


def _js_port(p, st):
    """A line-by-line Python port of the browser's attention() (web_assets/attention.js), on the JSON."""
    N, H, F, D = p["n"], p["heads"], p["out_feats"], p["in_feats"]
    L, s = p["kinds"][st["kind"]], st["scale"]
    feat = [row[:] for row in p["feat"]]
    if st["perturb"] != 0 and st["perturb_node"] is not None:
        for c in range(D):
            feat[st["perturb_node"]][c] += st["perturb"] * p["direction"][c]

    def project(W, b, h):
        return [(b[r] if b else 0.0) + sum(W[r][c] * h[c] for c in range(D)) for r in range(len(W))]

    zs = [project(L["Ws"], L["bs"], h) for h in feat]
    zd = [project(L["Wd"], L["bd"], h) for h in feat] if L["Wd"] else zs
    leaky = lambda x: x if x > 0 else st["slope"] * x  # noqa: E731
    e = []
    for j, i in zip(p["src"], p["dst"]):
        row = []
        for h in range(H):
            sl = slice(h * F, (h + 1) * F)
            if st["kind"] == "gat":
                el = sum(z * (s * a) for z, a in zip(zs[j][sl], L["al"][h]))
                er = sum(z * (s * a) for z, a in zip(zd[i][sl], L["ar"][h]))
                row.append(leaky(el + er))
            elif st["kind"] == "gatv2":
                row.append(sum(leaky(x + y) * (s * a) for x, y, a in zip(zs[j][sl], zd[i][sl], L["a"][h])))
            else:
                row.append(s * sum(x * y for x, y in zip(zs[j][sl], zd[i][sl])) / math.sqrt(F))
        e.append(row)
    e = np.array(e)
    alpha = np.zeros_like(e)
    dst = np.array(p["dst"])
    for v in range(N):
        m = dst == v
        w = np.exp(e[m] - e[m].max(axis=0))
        alpha[m] = w / w.sum(axis=0)
    return alpha.mean(axis=1) if st["head"] == "mean" else alpha[:, st["head"]]


STATES = [
    {},
    {"slope": 0.0},
    {"slope": 0.77, "scale": 2.35, "head": 1},
    {"kind": "gatv2", "perturb_node": 3, "perturb": -1.7},
    {"kind": "gatv2", "scale": 0.4, "head": "mean", "slope": 0.05},
    {"kind": "dot", "scale": 2.9, "perturb_node": 0, "perturb": 2.2, "head": 1},
    {"kind": "gat", "scale": 0.0},
]


@pytest.mark.parametrize("change", STATES, ids=[str(i) for i in range(len(STATES))])
def test_json_parameters_reproduce_the_layers(change):
    g, layers, feat, fig = _figure()
    p = _params(fig.html)
    state = {**p["init"], **change}
    expected = fig.attention(state)  # the real gnnbook layers
    np.testing.assert_allclose(_js_port(p, state), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(web.attention_from_params(p, state), expected, rtol=0, atol=1e-12)
    sums = np.zeros(6)
    np.add.at(sums, g.dst.numpy(), expected)
    np.testing.assert_allclose(sums, np.ones(6), atol=1e-12)


def test_initial_state_is_the_layers_own_forward():
    g, layers, feat, fig = _figure(head=1)
    _, att = layers["gat"](g, feat, get_attention=True)
    np.testing.assert_allclose(fig.attention(), att[:, 1, 0].detach().numpy(), rtol=0, atol=1e-12)
    assert fig.init == Controls(node=0, head=1, kind="gat", slope=0.2, scale=1.0, perturb_node=2, perturb=0.0)


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
    np.testing.assert_allclose(fig.attention(perturb=0.0), att[:, 0, 0].detach().double().numpy(), atol=1e-6)


def test_html_is_self_contained_and_figures_do_not_clash():
    _, _, _, a = _figure()
    _, _, _, b = _figure()
    html = a._repr_html_()
    assert not re.search(r"https?://", html), "no external URL of any kind"
    assert not re.search(r"<link|@import|(?<![-\w])(src|href)\s*=|url\((?!#)", html)
    assert html.count("<script") == 2 and "document.currentScript" in html
    assert a.id != b.id and a.id in html and b.id not in html
    assert all(f"#{a.id}" in line for line in re.findall(r"^[^{}]*\{", html.split("<style>")[1].split("</style>")[0], re.M))
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
