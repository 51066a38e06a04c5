"""gnnbook.reference against hand-checkable cases and the textbook formulas it spells out."""

from __future__ import annotations

import torch

from gnnbook import Graph, graphs, reference

F64 = torch.float64


def randn(*shape, seed=0):
    return torch.randn(*shape, dtype=F64, generator=torch.Generator().manual_seed(seed))


def test_adjacency_counts_duplicates_and_sums_weights():
    g = Graph(torch.tensor([1, 1, 0]), torch.tensor([0, 0, 1]), 2)
    torch.testing.assert_close(
        reference.adjacency(g), torch.tensor([[0.0, 2.0], [1.0, 0.0]], dtype=F64)
    )
    w = torch.tensor([0.5, 0.25, 3.0], dtype=F64)
    torch.testing.assert_close(
        reference.adjacency(g, w), torch.tensor([[0.0, 0.75], [3.0, 0.0]], dtype=F64)
    )


def test_masked_softmax_by_hand():
    A = torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0]], dtype=F64)  # row 0: j=0 once, j=1 twice
    e = torch.log(torch.tensor([[1.0, 3.0, 100.0], [1.0, 1.0, 1.0]], dtype=F64)).unsqueeze(-1)
    alpha = reference.masked_softmax(e, A)[..., 0]
    torch.testing.assert_close(
        alpha, torch.tensor([[1 / 7, 3 / 7, 0.0], [0.0, 0.0, 0.0]], dtype=F64)
    )
    torch.testing.assert_close(
        (A * alpha).sum(1), torch.tensor([1.0, 0.0], dtype=F64)
    )  # per edge copy


def test_gcn_is_kipf_welling_on_an_undirected_graph():
    g = graphs.toy_graph().add_self_loops()
    A = reference.adjacency(g)
    h, W, b = randn(6, 3), randn(3, 2, seed=1), randn(2, seed=2)
    d = A.sum(1)
    expected = (
        torch.diag(d**-0.5) @ A @ torch.diag(d**-0.5) @ h @ W + b
    )  # D^-1/2 (A+I) D^-1/2 H W + b
    torch.testing.assert_close(reference.gcn(A, h, W, b), expected)
    torch.testing.assert_close(reference.gcn(A, h, W, norm="right"), (A / d[:, None]) @ h @ W)


def test_sage_mean_by_hand():
    g = Graph(torch.tensor([1, 2]), torch.tensor([0, 0]), 3)
    h = torch.tensor([[1.0], [2.0], [4.0]], dtype=F64)
    one = torch.ones(1, 1, dtype=F64)
    out = reference.sage(reference.adjacency(g), h, h, one, 2 * one)  # h_i + 2 * mean(h_j)
    torch.testing.assert_close(out, torch.tensor([[1.0 + 2 * 3.0], [2.0], [4.0]], dtype=F64))
    gcn = reference.sage(reference.adjacency(g), h, h, None, one, aggregator="gcn")
    torch.testing.assert_close(gcn, torch.tensor([[7 / 3], [2.0], [4.0]], dtype=F64))
    pool = reference.sage(
        reference.adjacency(g),
        h,
        h,
        one,
        one,
        aggregator="pool",
        W_pool=-one,
        b_pool=torch.tensor([3.0], dtype=F64),
    )  # max_j ReLU(3 - h_j) = 1
    torch.testing.assert_close(pool, torch.tensor([[2.0], [2.0], [4.0]], dtype=F64))


def test_gat_decomposes_into_a_l_and_a_r():
    """a^T [W h_i || W h_j] = a_r^T W h_i + a_l^T W h_j: chapter "Inside DGL's GATConv"."""
    g = graphs.toy_graph()
    A, h, W = reference.adjacency(g), randn(6, 4), randn(6, 4, seed=1)  # H = 2 heads of F = 3
    a = randn(2, 6, seed=2)
    _, alpha = reference.gat(A, h, h, W, W, a, negative_slope=1.0)  # slope 1: no LeakyReLU
    z = (h @ W.T).view(6, 2, 3)
    e = (z * a[:, :3]).sum(-1).unsqueeze(1) + (z * a[:, 3:]).sum(-1).unsqueeze(0)  # e[i, j]
    torch.testing.assert_close(alpha, reference.masked_softmax(e, A))


def test_gatv2_with_a_linear_slope_is_static():
    """With LeakyReLU the identity, a^T W [h_i || h_j] splits into i and j terms: GATv2 becomes
    GAT."""
    g = graphs.toy_graph()
    A, h = reference.adjacency(g), randn(6, 4)
    W_src, W_dst, a = randn(3, 4, seed=1), randn(3, 4, seed=2), randn(1, 3, seed=3)
    out2, alpha2 = reference.gatv2(A, h, h, W_src, W_dst, a, negative_slope=1.0)
    e = (h @ W_dst.T @ a.T) + (h @ W_src.T @ a.T).T  # a^T W_d h_i + a^T W_s h_j
    torch.testing.assert_close(alpha2, reference.masked_softmax(e.unsqueeze(-1), A))
    torch.testing.assert_close(out2[:, 0], (A * alpha2[..., 0]) @ (h @ W_src.T))


def test_dot_attention_on_a_complete_graph_is_a_transformer_head():
    n = 5
    A = torch.ones(n, n, dtype=F64)
    h, Wq, Wk = randn(n, 4), randn(3, 4, seed=1), randn(3, 4, seed=2)
    out, _ = reference.dot_attention(A, h, h, Wk, Wq, 1)
    Q, K = h @ Wq.T, h @ Wk.T
    torch.testing.assert_close(out[:, 0], torch.softmax(Q @ K.T / 3**0.5, dim=-1) @ K)


def test_extreme_scores_stay_finite():
    A = torch.tensor([[1.0, 1.0, 0.0]], dtype=F64)
    e = torch.tensor([[1e4, -1e4, 1e5]], dtype=F64).unsqueeze(-1)
    alpha = reference.masked_softmax(e, A)
    torch.testing.assert_close(alpha[0, :, 0], torch.tensor([1.0, 0.0, 0.0], dtype=F64))


def test_per_edge_follows_edge_order():
    g = Graph(torch.tensor([2, 0, 1]), torch.tensor([0, 1, 0]), 3)
    dense = torch.arange(9, dtype=F64).view(3, 3, 1)
    torch.testing.assert_close(
        reference.per_edge(dense, g)[:, 0, 0], torch.tensor([2.0, 3.0, 1.0], dtype=F64)
    )
