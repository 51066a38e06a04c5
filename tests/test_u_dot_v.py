"""gnnbook.ops.u_dot_v: a dense reference, its own gradcheck on every code path, DGL's
u_dot_v, bad inputs."""

from __future__ import annotations

import pytest
import torch

from gnnbook import ops
from test_ops_fast import GRAPHS, path  # noqa: F401  (path: the fixture running each code path)

TOL = dict(rtol=1e-10, atol=1e-10)
D = torch.float64
IDS = [name for name, _ in GRAPHS]


def inputs(g, tail=(3, 4), seed=1):
    gen = torch.Generator().manual_seed(seed)
    k = torch.randn(g.num_src_nodes, *tail, generator=gen, dtype=D, requires_grad=True)
    q = torch.randn(g.num_dst_nodes, *tail, generator=gen, dtype=D, requires_grad=True)
    return k, q


def dense_u_dot_v(g, k, q):
    """Every (destination, source) pair's dot product, ``Q K^T`` per head, read off at the edges."""
    scores = torch.einsum("i...f,j...f->ij...", q, k)  # (N_dst, N_src, *)
    return scores[g.dst, g.src].unsqueeze(-1)


@pytest.mark.usefixtures("path")
@pytest.mark.parametrize("name,g", GRAPHS, ids=IDS)
@pytest.mark.parametrize("tail", [(3, 4), (5,), (2, 1), (2, 3, 2)], ids=str)
def test_matches_dense_reference_with_gradients(name, g, tail):
    k, q = inputs(g, tail)
    out = ops.u_dot_v(g, k, q)
    assert out.shape == (g.num_edges, *tail[:-1], 1) and out.is_contiguous()
    ref = dense_u_dot_v(g, k, q)
    torch.testing.assert_close(out, ref, **TOL)
    w = torch.randn(out.shape, generator=torch.Generator().manual_seed(2), dtype=D)
    grads = torch.autograd.grad((out * w).sum(), (k, q))
    expected = torch.autograd.grad((ref * w).sum(), (k, q))
    torch.testing.assert_close(grads, expected, **TOL)


@pytest.mark.usefixtures("path")
@pytest.mark.parametrize("name,g", GRAPHS[:4], ids=IDS[:4])
def test_gradcheck(name, g):
    k, q = inputs(g, (2, 3))
    assert torch.autograd.gradcheck(lambda k, q: ops.u_dot_v(g, k, q), (k, q))


def test_gradient_of_one_side_only():
    _, g = GRAPHS[0]
    k, q = inputs(g)
    (grad_q,) = torch.autograd.grad(ops.u_dot_v(g, k.detach(), q).sum(), q)
    torch.testing.assert_close(
        grad_q, torch.autograd.grad(dense_u_dot_v(g, k.detach(), q).sum(), q)[0], **TOL
    )


def test_float32_and_mixed_dtypes():
    _, g = GRAPHS[0]
    k, q = inputs(g)
    out = ops.u_dot_v(g, k.float(), q.detach())
    assert out.dtype == D
    torch.testing.assert_close(
        ops.u_dot_v(g, k.float(), q.float()), out.float(), rtol=1e-5, atol=1e-5
    )


@pytest.mark.dgl
@pytest.mark.parametrize("name,g", GRAPHS, ids=IDS)
def test_equals_dgl(name, g):
    dgl = pytest.importorskip("dgl")
    k, q = inputs(g)
    ours = ops.u_dot_v(g, k, q)
    theirs = dgl.ops.u_dot_v(g.to_dgl(), k, q)
    torch.testing.assert_close(ours, theirs, **TOL)
    w = torch.randn(ours.shape, generator=torch.Generator().manual_seed(3), dtype=D)
    torch.testing.assert_close(
        torch.autograd.grad((ours * w).sum(), (k, q)),
        torch.autograd.grad((theirs * w).sum(), (k, q)),
        **TOL,
    )


@pytest.mark.dgl
def test_accepts_a_dgl_graph():
    pytest.importorskip("dgl")
    _, g = GRAPHS[0]
    k, q = inputs(g)
    torch.testing.assert_close(ops.u_dot_v(g.to_dgl(), k, q), ops.u_dot_v(g, k, q), **TOL)


@pytest.mark.parametrize(
    "k_shape,q_shape,match",
    [
        ((29, 3, 4), (30, 3, 4), "k must have one row per source node"),
        ((30, 3, 4), (31, 3, 4), "q must have one row per destination node"),
        ((30, 3, 4), (30, 3, 5), "same per-node shape"),
        ((30,), (30,), "k must have shape"),
    ],
)
def test_bad_shapes_name_the_argument(k_shape, q_shape, match):
    _, g = GRAPHS[0]
    with pytest.raises(ValueError, match=match):
        ops.u_dot_v(g, torch.randn(k_shape), torch.randn(q_shape))


def test_bad_types_name_the_argument():
    _, g = GRAPHS[0]
    with pytest.raises(TypeError, match="q must be a torch.Tensor"):
        ops.u_dot_v(g, torch.randn(30, 2), [[0.0, 1.0]] * 30)
    with pytest.raises(TypeError, match="gnnbook.Graph"):
        ops.u_dot_v("graph", torch.randn(30, 2), torch.randn(30, 2))
