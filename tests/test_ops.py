"""gnnbook.ops: shapes, dtypes, gradients, extreme logits, empty graphs,
determinism, invariances."""

from __future__ import annotations

import pytest
import torch

from gnnbook import Graph, graphs, ops, reference


def sample():
    g = graphs.toy_graph()
    src = torch.cat([g.src, torch.tensor([2, 0])])  # + a duplicate edge and a self-loop
    return Graph(src, torch.cat([g.dst, torch.tensor([0, 0])]), 6)


def bipartite():
    return Graph(
        torch.tensor([0, 1, 4, 4, 2, 3]),
        torch.tensor([0, 0, 0, 1, 1, 2]),
        num_src_nodes=5,
        num_dst_nodes=3,
    )


def randn(*shape, dtype=torch.float64, seed=0):
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def per_destination_sum(g, alpha):
    return torch.zeros(g.num_dst_nodes, *alpha.shape[1:], dtype=alpha.dtype).index_add(
        0, g.dst, alpha
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("heads", [1, 4])
@pytest.mark.parametrize("make", [sample, bipartite])
def test_multi_head_shapes_and_dtypes(make, heads, dtype):
    g = make()
    el, er = (
        randn(g.num_src_nodes, heads, 1, dtype=dtype),
        randn(g.num_dst_nodes, heads, 1, dtype=dtype, seed=1),
    )
    e = ops.u_add_v(g, el, er)
    alpha = ops.edge_softmax(g, e)
    h = randn(g.num_src_nodes, heads, 5, dtype=dtype, seed=2)
    out = ops.u_mul_e_sum(g, h, alpha)
    assert e.shape == alpha.shape == (g.num_edges, heads, 1) and out.shape == (
        g.num_dst_nodes,
        heads,
        5,
    )
    assert e.dtype == alpha.dtype == out.dtype == dtype
    torch.testing.assert_close(e[:, :, 0], el[g.src, :, 0] + er[g.dst, :, 0])
    torch.testing.assert_close(
        per_destination_sum(g, alpha), torch.ones(g.num_dst_nodes, heads, 1, dtype=dtype)
    )


def test_ops_equal_the_dense_reference():
    g = sample()
    h = randn(6, 3, 4, seed=1)
    dense = torch.full((6, 6, 3), float("-inf"), dtype=torch.float64)
    dense[g.dst, g.src] = randn(g.num_edges, 3)  # one logit per (i, j) pair...
    e = dense[g.dst, g.src]  # ...shared by a duplicate's copies
    alpha = ops.edge_softmax(g, e)
    ref = reference.masked_softmax(dense, reference.adjacency(g))
    torch.testing.assert_close(alpha, ref[g.dst, g.src], rtol=1e-12, atol=1e-12)
    expected = torch.einsum("ijh,ij,jhf->ihf", ref, reference.adjacency(g), h)
    torch.testing.assert_close(ops.u_mul_e_sum(g, h, alpha), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("make", [sample, bipartite])
def test_gradcheck(make):
    g = make()
    el = randn(g.num_src_nodes, 2, 1).requires_grad_()
    er = randn(g.num_dst_nodes, 2, 1, seed=1).requires_grad_()
    logits = randn(g.num_edges, 2, 1, seed=2).requires_grad_()
    h = randn(g.num_src_nodes, 2, 3, seed=3).requires_grad_()
    alpha = randn(g.num_edges, 2, 1, seed=4).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: ops.u_add_v(g, a, b), (el, er))
    assert torch.autograd.gradcheck(lambda x: ops.edge_softmax(g, x), (logits,))
    assert torch.autograd.gradcheck(lambda x, a: ops.u_mul_e_sum(g, x, a), (h, alpha))
    flat = randn(g.num_src_nodes, 3, seed=5).requires_grad_()
    w = (randn(g.num_edges, seed=6).abs() + 0.5).requires_grad_()
    assert torch.autograd.gradcheck(lambda x, a: ops.u_mul_e_max(g, x, a), (flat, w))


@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_extreme_logits_stay_finite(scale):
    g = sample()
    logits = (randn(g.num_edges, 2, 1) * scale).requires_grad_()
    alpha = ops.edge_softmax(g, logits)
    (alpha * randn(g.num_edges, 2, 1, seed=1)).sum().backward()
    assert torch.isfinite(alpha).all() and torch.isfinite(logits.grad).all()
    torch.testing.assert_close(
        per_destination_sum(g, alpha), torch.ones(6, 2, 1, dtype=torch.float64)
    )


def test_empty_edge_set():
    g = Graph(torch.tensor([], dtype=torch.int64), torch.tensor([], dtype=torch.int64), 3)
    e = ops.u_add_v(g, randn(3, 2, 1), randn(3, 2, 1))
    assert e.shape == (0, 2, 1)
    assert ops.edge_softmax(g, e).shape == (0, 2, 1)
    torch.testing.assert_close(
        ops.u_mul_e_sum(g, randn(3, 2, 4), e), torch.zeros(3, 2, 4, dtype=torch.float64)
    )
    torch.testing.assert_close(
        ops.u_mul_e_max(g, randn(3, 4)), torch.zeros(3, 4, dtype=torch.float64)
    )


def test_zero_node_graph():
    g = Graph(torch.tensor([], dtype=torch.int64), torch.tensor([], dtype=torch.int64), 0)
    empty = torch.zeros(0, 2, 1, dtype=torch.float64)
    assert ops.u_add_v(g, empty, empty).shape == (0, 2, 1)
    assert ops.edge_softmax(g, empty).shape == (0, 2, 1)
    assert ops.u_mul_e_sum(g, torch.zeros(0, 2, 3), torch.zeros(0, 2, 1)).shape == (0, 2, 3)


def test_wrong_row_counts_are_refused():
    g = sample()
    with pytest.raises(ValueError, match="one row per source node"):
        ops.u_add_v(g, randn(5, 1), randn(6, 1))
    with pytest.raises(ValueError, match="one row per edge"):
        ops.edge_softmax(g, randn(3, 1))
    with pytest.raises(ValueError, match="one row per edge"):
        ops.u_mul_e_max(g, randn(6, 2), randn(3))


def test_cpu_bit_identical_across_runs():
    runs = []
    for _ in range(2):
        g = sample()
        el, er = randn(6, 4, 1).requires_grad_(), randn(6, 4, 1, seed=1).requires_grad_()
        h = randn(6, 4, 5, seed=2).requires_grad_()
        out = ops.u_mul_e_sum(g, h, ops.edge_softmax(g, ops.u_add_v(g, el, er)))
        pooled = ops.u_mul_e_max(g, h[:, 0])
        (out.sum() + pooled.sum()).backward()
        runs.append((out, pooled, el.grad, er.grad, h.grad))
    assert all(torch.equal(a, b) for a, b in zip(*runs))


def test_invariant_to_relabelling_nodes_and_reordering_edges():
    g = sample()
    perm, order = (
        torch.randperm(6, generator=torch.Generator().manual_seed(0)),
        torch.randperm(g.num_edges),
    )
    new_id = torch.empty_like(perm)
    new_id[perm] = torch.arange(6)  # node perm[k] becomes node k
    h_g = Graph(new_id[g.src][order], new_id[g.dst][order], 6)
    el, er, h = randn(6, 2, 1), randn(6, 2, 1, seed=1), randn(6, 2, 3, seed=2)

    def layer(graph, el, er, h):
        alpha = ops.edge_softmax(graph, ops.u_add_v(graph, el, er))
        return alpha, ops.u_mul_e_sum(graph, h, alpha), ops.u_mul_e_max(graph, h[:, 0])

    alpha, out, pooled = layer(g, el, er, h)
    alpha2, out2, pooled2 = layer(h_g, el[perm], er[perm], h[perm])
    torch.testing.assert_close(alpha2, alpha[order], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(out2, out[perm], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(pooled2, pooled[perm], rtol=0, atol=0)


def test_u_mul_e_max():
    g = sample()
    h = randn(6, 3)
    expected = torch.stack([h[g.src[g.dst == i]].amax(0) for i in range(6)])
    torch.testing.assert_close(ops.u_mul_e_max(g, h), expected, rtol=0, atol=0)
    w = randn(g.num_edges, seed=1)
    expected = torch.stack([(h[g.src] * w[:, None])[g.dst == i].amax(0) for i in range(6)])
    torch.testing.assert_close(ops.u_mul_e_max(g, h, w), expected, rtol=0, atol=0)


@pytest.mark.gpu
def test_cuda_matches_cpu():
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    g = sample()
    el, er, h = randn(6, 4, 1), randn(6, 4, 1, seed=1), randn(6, 4, 5, seed=2)
    cpu = ops.u_mul_e_sum(g, h, ops.edge_softmax(g, ops.u_add_v(g, el, er)))
    gc = g.to("cuda")
    gpu = ops.u_mul_e_sum(gc, h.cuda(), ops.edge_softmax(gc, ops.u_add_v(gc, el.cuda(), er.cuda())))
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(
        ops.u_mul_e_max(gc, h[:, 0].cuda()).cpu(), ops.u_mul_e_max(g, h[:, 0])
    )
