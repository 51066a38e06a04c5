"""The fast ops (CSR products, segment reductions, hand-written backward)
against plain gather/scatter.

The references below are the textbook formulas, written with ``index_add``/``scatter_reduce`` and
autograd's own backward; everything runs in float64 and must agree to 1e-10, gradients included.
"""

from __future__ import annotations

import pytest
import torch

from gnnbook import Graph, _sparse, ops

TOL = dict(rtol=1e-10, atol=1e-10)
D = torch.float64


# --- straightforward references ---------------------------------------------------------------
def ref_u_add_v(g, el, er):
    return el[g.src] + er[g.dst]


def ref_edge_softmax(g, x):
    index = g.dst.view(-1, *[1] * (x.dim() - 1)).expand_as(x)
    rows = (g.num_dst_nodes, *x.shape[1:])
    peak = x.new_full(rows, float("-inf")).scatter_reduce(0, index, x.detach(), "amax")
    w = torch.exp(x - peak[g.dst])
    return w / x.new_zeros(rows).index_add(0, g.dst, w)[g.dst]


def ref_u_mul_e_sum(g, h, a):
    if a.dim() == h.dim() and a.shape[-1] == 1:
        a = a.squeeze(-1)
    a = a.reshape(*a.shape, *[1] * (h.dim() - a.dim()))
    return h.new_zeros((g.num_dst_nodes, *h.shape[1:])).index_add(0, g.dst, h[g.src] * a)


# --- graphs, edge cases included ---------------------------------------------------------------
def _graphs():
    gen = torch.Generator().manual_seed(0)
    r = lambda hi, n: torch.randint(0, hi, (n,), generator=gen)  # noqa: E731
    yield "random", Graph(r(30, 200), r(30, 200), 30)
    # Node 29 and the upper half have no in-edges (zero-in-degree destinations -> zeros).
    yield "zero-in-degree", Graph(r(30, 80), r(15, 80), 30)
    yield "duplicates", Graph(torch.tensor([0, 0, 0, 1, 2, 2]), torch.tensor([1, 1, 1, 0, 1, 1]), 4)
    yield "bipartite", Graph(r(7, 40), r(11, 40), num_src_nodes=7, num_dst_nodes=11)
    yield "empty", Graph(torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long), 5)
    yield "one-edge", Graph(torch.tensor([2]), torch.tensor([0]), 3)


GRAPHS = list(_graphs())
PATHS = ("plain", "sparse", "runs")


@pytest.fixture(params=PATHS)
def path(request, monkeypatch):
    """Run a test on each code path of the ops, all on the CPU: ``plain`` (gather + index_add, what
    small graphs take), ``sparse`` (CSR products cut into column blocks, what large graphs take),
    ``runs`` (sums over sorted
    runs with segment_reduce, what a GPU takes instead of index_add's atomics)."""
    if request.param == "sparse":
        monkeypatch.setattr(_sparse, "SPARSE_MIN_WORK", 0)
        monkeypatch.setattr(
            _sparse, "_column_blocks", lambda x: 3
        )  # as for graphs larger than the cache
    if request.param == "runs":
        monkeypatch.setattr(_sparse, "_adds_in_order", lambda device: False)
    return request.param


# (per-node shape of el/er/h features, per-edge shape of alpha)
SHAPES = [
    ((4, 1), (4, 3), (4,)),
    ((4, 1), (4, 3), (4, 1)),
    ((1,), (5,), ()),
    ((3,), (3, 2), (3,)),
    ((2, 1), (2, 8), (2,)),
]


def _inputs(g, el_tail, h_tail, a_tail, seed=1, scale=1.0):
    gen = torch.Generator().manual_seed(seed)
    mk = lambda *s: (torch.randn(*s, generator=gen, dtype=D) * scale).requires_grad_()  # noqa: E731
    el, er = mk(g.num_src_nodes, *el_tail), mk(g.num_dst_nodes, *el_tail)
    h = mk(g.num_src_nodes, *h_tail)
    return el, er, h, a_tail


def _pipeline(fns, g, el, er, h, a_tail):
    u_add_v, softmax, u_mul_e_sum = fns
    alpha = softmax(g, u_add_v(g, el, er))
    alpha = alpha.reshape(g.num_edges, *a_tail)
    return alpha, u_mul_e_sum(g, h, alpha)


FAST = (ops.u_add_v, ops.edge_softmax, ops.u_mul_e_sum)
REF = (ref_u_add_v, ref_edge_softmax, ref_u_mul_e_sum)


@pytest.mark.parametrize("name,g", GRAPHS, ids=[n for n, _ in GRAPHS])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("scale", [1.0, 1e4], ids=["logits~1", "logits~1e4"])
def test_matches_reference_with_gradients(name, g, shapes, scale, path):
    el, er, h, a_tail = _inputs(g, *shapes, scale=scale)
    outs_fast = _pipeline(FAST, g, el, er, h, a_tail)
    outs_ref = _pipeline(REF, g, el, er, h, a_tail)
    for fast, ref in zip(outs_fast, outs_ref):
        assert fast.shape == ref.shape and fast.dtype == ref.dtype
        assert torch.isfinite(fast).all()
        torch.testing.assert_close(fast, ref, **TOL)
    # Gradients of a random linear function of both outputs (alpha and the aggregate).
    gen = torch.Generator().manual_seed(2)
    weights = [torch.randn(o.shape, generator=gen, dtype=D) for o in outs_ref]
    loss = lambda outs: sum((o * w).sum() for o, w in zip(outs, weights))  # noqa: E731
    grads_fast = torch.autograd.grad(loss(outs_fast), (el, er, h), allow_unused=True)
    grads_ref = torch.autograd.grad(loss(outs_ref), (el, er, h), allow_unused=True)
    for fast, ref, x in zip(grads_fast, grads_ref, (el, er, h)):
        fast = torch.zeros_like(x) if fast is None else fast
        ref = torch.zeros_like(x) if ref is None else ref
        torch.testing.assert_close(fast, ref, **TOL)


def test_zero_in_degree_gives_zeros():
    g = Graph(torch.tensor([0, 1]), torch.tensor([1, 1]), 3)
    out = ops.u_mul_e_sum(g, torch.ones(3, 2, 4, dtype=D), torch.ones(2, 2, dtype=D))
    assert out[0].eq(0).all() and out[2].eq(0).all() and out[1].eq(2).all()


def test_separate_ops_match_reference(path):
    """Each op on its own, with inputs that need no upstream op (alpha not from a softmax)."""
    g = GRAPHS[0][1]
    gen = torch.Generator().manual_seed(3)
    h = torch.randn(g.num_src_nodes, 4, 3, dtype=D, generator=gen, requires_grad=True)
    a = torch.rand(g.num_edges, 4, 1, dtype=D, generator=gen, requires_grad=True)
    for fast, ref in (
        (ops.u_mul_e_sum(g, h, a), ref_u_mul_e_sum(g, h, a)),
        (ops.edge_softmax(g, a), ref_edge_softmax(g, a)),
    ):
        torch.testing.assert_close(fast, ref, **TOL)
        w = torch.randn(fast.shape, dtype=D, generator=gen)
        for gf, gr in zip(
            torch.autograd.grad((fast * w).sum(), (h, a), allow_unused=True),
            torch.autograd.grad((ref * w).sum(), (h, a), allow_unused=True),
        ):
            if gr is None:
                assert gf is None or gf.eq(0).all()
            else:
                torch.testing.assert_close(gf, gr, **TOL)


@pytest.mark.parametrize("name,g", GRAPHS[:4], ids=[n for n, _ in GRAPHS[:4]])
def test_gradcheck(name, g, path):
    el, er, h, a_tail = _inputs(g, (2, 1), (2, 3), (2,))
    fn = lambda el, er, h: _pipeline(FAST, g, el, er, h, a_tail)  # noqa: E731
    assert torch.autograd.gradcheck(fn, (el, er, h), fast_mode=True)


def test_each_op_gradcheck(path):
    g = GRAPHS[3][1]  # bipartite
    gen = torch.Generator().manual_seed(4)
    el = torch.randn(g.num_src_nodes, 2, dtype=D, generator=gen, requires_grad=True)
    er = torch.randn(g.num_dst_nodes, 2, dtype=D, generator=gen, requires_grad=True)
    x = torch.randn(g.num_edges, 2, dtype=D, generator=gen, requires_grad=True)
    h = torch.randn(g.num_src_nodes, 2, 3, dtype=D, generator=gen, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: ops.u_add_v(g, a, b), (el, er))
    assert torch.autograd.gradcheck(lambda a: ops.edge_softmax(g, a), (x,))
    assert torch.autograd.gradcheck(lambda a, b: ops.u_mul_e_sum(g, a, b), (h, x))


def test_double_backward_raises_clearly():
    g = GRAPHS[0][1]
    x = torch.randn(g.num_edges, 2, dtype=D, requires_grad=True)
    (grad,) = torch.autograd.grad(ops.edge_softmax(g, x).pow(2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable|twice"):
        grad.sum().backward()


def _float32_run(g):
    el, er, h, a_tail = _inputs(g, (4, 1), (4, 3), (4, 1))
    el, er, h = (t.detach().float().requires_grad_() for t in (el, er, h))
    alpha, out = _pipeline(FAST, g, el, er, h, a_tail)
    return [alpha, out, *torch.autograd.grad(out.square().sum() + alpha.sum(), (el, er, h))]


def test_bit_identical_across_runs(path):
    g = GRAPHS[0][1]
    for a, b in zip(_float32_run(g), _float32_run(g)):
        assert torch.equal(a, b)


def test_sums_in_edge_order_on_every_path(monkeypatch):
    """index_add_ (CPU) and sorted runs (GPU) add the same numbers in the same order: the same bits,
    whatever the thread count."""
    gen = torch.Generator().manual_seed(5)
    g = Graph(
        torch.randint(0, 3000, (60_000,), generator=gen),
        torch.randint(0, 3000, (60_000,), generator=gen),
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one_thread = _float32_run(g)
    finally:
        torch.set_num_threads(threads)
    for a, b in zip(one_thread, _float32_run(g)):  # all threads
        assert torch.equal(a, b)
    monkeypatch.setattr(_sparse, "_adds_in_order", lambda device: False)
    for a, b in zip(one_thread, _float32_run(g)):
        assert torch.equal(a, b)


def test_edge_tensors_are_contiguous():
    """Per-edge outputs are ordinary (E, *) tensors: other libraries (DGL) may write into copies of
    their layout, and users call .view on them."""
    g = GRAPHS[0][1]
    el, er, h, _ = _inputs(g, (4, 1), (4, 3), (4,))
    e = ops.u_add_v(g, el, er)
    alpha = ops.edge_softmax(g, torch.nn.functional.leaky_relu(e, 0.2))
    (grad,) = torch.autograd.grad(ops.u_mul_e_sum(g, h, alpha.squeeze(-1)).sum(), alpha)
    for x in (e, alpha, grad):
        assert x.shape == (g.num_edges, 4, 1) and x.is_contiguous()
