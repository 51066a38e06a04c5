"""Issue #16, core package: one test per defect, each with the issue's reproduction
(or a smaller one)."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch

from gnnbook import Graph, graphs, ops, reference
from gnnbook import datasets as ds
from gnnbook.datasets import NodeDataset, csbm, load_planetoid
from gnnbook.train import accuracy, evaluate, fit

ROOT = Path(__file__).resolve().parents[1]


# --- 1. a Graph never shares its ids, and hands out copies --------------------------------------
_CHANGE_THEN_AGGREGATE = """
import torch
from gnnbook import Graph, ops
torch.manual_seed(0)
src, dst = torch.randint(0, 100, (5000,)), torch.randint(0, 100, (5000,))
h = torch.randn(100, 1, 64)
expected = ops.u_mul_e_sum(Graph(src.clone(), dst.clone(), 100), h)
g = Graph(src, dst, 100)
CHANGE
assert torch.equal(ops.u_mul_e_sum(g, h), expected)
print("same")
"""


@pytest.mark.parametrize(
    "change",
    [
        "src[0] = 10**6",  # the reproduction (exit 139)
        "g.src[0] = 10**6; g.edges()[1][0] = 10**6",
        # the cached CSR, before its first use
        "g.csr().indices[:] = 10**6; g.csr().indptr[1] = 10**6",
        "g.csr_by_source().indices[:] = 10**6",
    ],
)
def test_1_changing_ids_after_construction_cannot_reach_the_sparse_path(change):
    # A segfault kills the process: run each in a child.
    proc = subprocess.run(
        [sys.executable, "-c", _CHANGE_THEN_AGGREGATE.replace("CHANGE", change)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.returncode == 0 and "same" in proc.stdout, (proc.returncode, proc.stderr[-2000:])


def test_1_numpy_ids_are_copied():
    np = pytest.importorskip("numpy")
    src, dst = np.array([0, 1, 2]), np.array([1, 2, 0])
    g = Graph(src, dst, 3)
    src[0] = 2
    assert g.src.tolist() == [0, 1, 2]


def test_1_csr_stays_right_after_changing_ids_to_other_valid_values():
    torch.manual_seed(1)
    src, dst = torch.randint(0, 100, (5000,)), torch.randint(0, 100, (5000,))
    g = Graph(src, dst, 100)
    g.csr()  # cached
    src[:] = torch.randint(0, 100, (5000,))  # valid ids, but not the graph's
    h = torch.randn(100, 1, 64, dtype=torch.float64)
    dense = reference.adjacency(Graph(g.src, g.dst, 100)) @ h.squeeze(1)
    torch.testing.assert_close(ops.u_mul_e_sum(g, h).squeeze(1), dense)


# --- 3. integer 0/1 masks -----------------------------------------------------------------------
def _tiny_data(**masks):
    g = graphs.path_graph(4)
    base = {
        "train_mask": torch.tensor([True, True, False, False]),
        "val_mask": torch.tensor([False, False, True, False]),
        "test_mask": torch.tensor([False, False, False, True]),
    }
    base.update(masks)
    return NodeDataset(
        "tiny", g, torch.randn(4, 3), torch.tensor([0, 1, 0, 1]), num_classes=2, **base
    )


def test_3_integer_masks_are_refused_with_the_masks_name():
    logits, labels = torch.tensor([[1.0, 0], [0, 1], [1, 0], [0, 1]]), torch.tensor([1, 1, 1, 1])
    with pytest.raises(TypeError, match=r"mask .*bool.*mask\.bool\(\)"):
        accuracy(logits, labels, torch.tensor([0, 0, 1, 1]))
    model = torch.nn.Linear(3, 2)
    with pytest.raises(TypeError, match="test_mask"):
        evaluate(_Model(model), _tiny_data(test_mask=torch.tensor([0, 0, 1, 1])))
    with pytest.raises(TypeError, match="train_mask"):
        fit(
            _Model(model),
            _tiny_data(train_mask=torch.tensor([1, 1, 0, 0])),
            epochs=2,
            progress=False,
        )


class _Model(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, graph, x):
        return self.inner(x)


def test_3_empty_masks_are_named():
    model = _Model(torch.nn.Linear(3, 2))
    with pytest.raises(ValueError, match="val_mask selects no node"):
        evaluate(model, _tiny_data(val_mask=torch.zeros(4, dtype=torch.bool)))


# --- 4. backward on a multigraph with more edges than N_src * N_dst -----------------------------
def _all_pairs_plus(n: int, src: int, dst: int) -> Graph:
    """Every ordered pair of ``n`` nodes once, plus one more edge ``src -> dst``."""
    s, d = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    return Graph(
        torch.cat([s.flatten(), torch.tensor([src])]),
        torch.cat([d.flatten(), torch.tensor([dst])]),
        n,
    )


def test_4_backward_on_a_dense_multigraph_matches_the_dense_reference():
    n = 64
    g = _all_pairs_plus(n, 0, 0)
    torch.manual_seed(0)
    h = torch.randn(n, 2, 64, dtype=torch.float64, requires_grad=True)
    alpha = torch.rand(g.num_edges, 2, dtype=torch.float64, requires_grad=True)
    out = ops.u_mul_e_sum(g, h, alpha)
    out.square().sum().backward()
    expected = (2 * out.detach()[g.dst] * h.detach()[g.src]).sum(
        -1
    )  # dL/dalpha_e = <dL/dy_dst, h_src>
    torch.testing.assert_close(alpha.grad, expected)


def test_4_gatconv_on_all_pairs_plus_one_duplicate_trains():
    from gnnbook.nn import GATConv

    n = 64
    g = _all_pairs_plus(n, 1, 2)
    torch.manual_seed(0)
    layer = GATConv(64, 64, num_heads=4)
    layer(g, torch.randn(n, 64)).sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in layer.parameters() if p.grad is not None)


# --- 5. ops check devices and dtypes ------------------------------------------------------------
@pytest.mark.parametrize(
    "call, name",
    [
        (lambda g, x: ops.u_add_v(g, x, torch.zeros(3, 1)), "el"),
        (lambda g, x: ops.u_add_v(g, torch.zeros(3, 1), x), "er"),
        (lambda g, x: ops.u_mul_e_sum(g, x), "h"),
        (lambda g, x: ops.u_mul_e_max(g, x), "h"),
    ],
)
def test_5_ops_refuse_tensors_on_another_device_than_the_graph(call, name):
    g = graphs.path_graph(3)
    with pytest.raises(ValueError, match=rf"{name} is on meta, the graph on cpu"):
        call(g, torch.zeros(3, 1, device="meta"))


def test_5_ops_refuse_edge_tensors_on_another_device():
    g = graphs.path_graph(3)
    with pytest.raises(ValueError, match="logits is on meta"):
        ops.edge_softmax(g, torch.zeros(4, 1, device="meta"))
    with pytest.raises(ValueError, match="alpha is on meta"):
        ops.u_mul_e_sum(g, torch.zeros(3, 2), torch.zeros(4, device="meta"))


@pytest.mark.parametrize("dtype", [torch.int64, torch.bool])
def test_5_integer_or_bool_logits_get_a_type_error(dtype):
    g = graphs.path_graph(3)
    with pytest.raises(TypeError, match=r"logits must be a floating-point tensor"):
        ops.edge_softmax(g, torch.ones(4, 1, dtype=dtype))


# --- 6. fit stops on a NaN loss, and refuses when no training label is valid --------------------
def test_6_fit_refuses_nan_features_naming_the_node():
    data = csbm(40, 2, 0.2, 0.05, 1.0, 4, seed=0)
    data.features[3, 0] = float(
        "nan"
    )  # the reproduction: 30 epochs of NaN, then a test accuracy
    with pytest.raises(ValueError, match=r"features\[3, 0\] = nan"):
        fit(_Model(torch.nn.Linear(4, 2)), data, epochs=30, progress=False)


class _Diverging(torch.nn.Module):
    """Finite logits for two epochs, then NaN (as a model that blows up would give)."""

    def __init__(self):
        super().__init__()
        self.lin, self.calls = torch.nn.Linear(4, 2), 0

    def forward(self, graph, x):
        self.calls += 1
        out = self.lin(x)
        return (
            out * float("nan") if self.calls > 4 and self.training else out
        )  # fit: 2 calls per epoch


def test_6_fit_stops_on_a_nan_loss_naming_the_epoch():
    data = csbm(40, 2, 0.2, 0.05, 1.0, 4, seed=0)
    model = _Diverging()
    with pytest.raises(FloatingPointError, match=r"at epoch 2 the training loss \(nan\)"):
        fit(model, data, epochs=30, progress=False)
    assert all(torch.isfinite(p).all() for p in model.parameters())  # the NaN step was not taken


def test_6_fit_refuses_when_no_training_label_is_valid():
    data = csbm(40, 2, 0.2, 0.05, 1.0, 4, seed=0)
    data.labels[data.train_mask] = -100  # cross_entropy's ignore_index: the loss would be NaN
    with pytest.raises(ValueError, match=r"labels\[\d+\] = -100 is not a class .* train_mask"):
        fit(_Model(torch.nn.Linear(4, 2)), data, epochs=3, progress=False)


# --- 8. tiny named graphs -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "make, n",
    [
        (lambda: graphs.path_graph(0), 0),
        (lambda: graphs.path_graph(1), 1),
        (lambda: graphs.star_graph(0), 1),
    ],
)
def test_8_tiny_path_and_star_graphs(make, n):
    g = make()
    assert (g.num_nodes, g.num_edges, g.src.dtype, g.dst.dtype) == (n, 0, torch.int64, torch.int64)


# --- 9. the loaders read only regular files inside the cache, by size and checksum first --------
FILES = [f"ind.cora.{ext}" for ext in ds._EXTENSIONS]


def _sums_for(folder: Path) -> dict:
    return {f: hashlib.sha256((folder / f).read_bytes()).hexdigest() for f in FILES}


def _seed_cache(root: Path) -> Path:
    folder = root / "planetoid"
    folder.mkdir(parents=True)
    for f in FILES:
        (folder / f).write_bytes(f"not really {f}".encode())
    return folder


def test_9_a_symlink_to_dev_zero_is_refused_before_reading(tmp_path):
    folder = _seed_cache(tmp_path)
    sums = _sums_for(folder)
    (folder / FILES[0]).unlink()
    (folder / FILES[0]).symlink_to("/dev/zero")
    with pytest.raises(ValueError, match="not a regular file"):
        load_planetoid("cora", tmp_path, sha256=sums)


def test_9_a_fifo_is_refused_without_hanging(tmp_path):
    folder = _seed_cache(tmp_path)
    sums = _sums_for(folder)
    (folder / FILES[1]).unlink()
    os.mkfifo(folder / FILES[1])
    with pytest.raises(ValueError, match="not a regular file"):
        load_planetoid("cora", tmp_path, sha256=sums)


def test_9_a_symlink_leaving_the_cache_is_refused(tmp_path):
    folder = _seed_cache(tmp_path / "cache")
    sums = _sums_for(folder)
    outside = tmp_path / "outside"
    outside.write_bytes((folder / FILES[2]).read_bytes())
    (folder / FILES[2]).unlink()
    (folder / FILES[2]).symlink_to(outside)
    with pytest.raises(ValueError, match="outside the cache"):
        load_planetoid("cora", tmp_path / "cache", sha256=sums)


def test_9_a_file_of_the_wrong_size_is_refused_before_it_is_read(tmp_path):
    folder = _seed_cache(tmp_path)
    sums = _sums_for(folder)
    del sums[FILES[0]]  # the published checksum, hence the published size, applies to this one
    with pytest.raises(ValueError, match=rf"has \d+ bytes, expected {ds.SIZES[FILES[0]]}"):
        load_planetoid("cora", tmp_path, sha256=sums)


class _Endless:
    """A response that announces nothing and never ends."""

    headers = types.MappingProxyType({})

    def read(self, size):
        return b"\0" * size

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_9_an_endless_download_stops_at_the_expected_size_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(ds.urllib.request, "urlopen", lambda url, timeout: _Endless())
    with pytest.raises(ValueError, match=rf"has \d+ bytes, expected {ds.SIZES[FILES[0]]}"):
        load_planetoid("cora", tmp_path)
    assert not (tmp_path / "planetoid").exists()


def test_9_a_missing_root_leaves_no_folder_behind(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise socket.timeout("no network in this test")

    monkeypatch.setattr(ds.urllib.request, "urlopen", offline)
    root = tmp_path / "new" / "root"
    with pytest.raises(RuntimeError, match="could not download"):
        load_planetoid("cora", root)
    assert not (tmp_path / "new").exists()


# --- 10. clear errors ---------------------------------------------------------------------------
def test_10_ids_beyond_int64_are_a_value_error():
    with pytest.raises(ValueError, match=r"src .*2\*\*63"):
        Graph([2**63], [0])


def test_10_node_counts_beyond_the_limit_are_refused():
    with pytest.raises(ValueError, match=r"num_nodes = 1099511627776 .* 2\*\*31 - 1"):
        Graph([0], [1], 2**40)


def test_10_a_meta_graph_is_refused():
    with pytest.raises(ValueError, match="src is on the meta device"):
        Graph(torch.tensor([0], device="meta"), torch.tensor([1], device="meta"), 2)


def test_10_uppercase_sha256_overrides_are_accepted(tmp_path):
    folder = _seed_cache(tmp_path)
    sums = {f: s.upper() for f, s in _sums_for(folder).items()}
    # The checksums pass (upper case accepted); then the fake files fail to unpickle,
    # which is fine here.
    with pytest.raises(Exception) as info:
        load_planetoid("cora", tmp_path, sha256=sums)
    assert "checksum" not in str(info.value)


@pytest.mark.parametrize("mu", [float("nan"), float("inf"), -float("inf")])
def test_10_csbm_refuses_non_finite_mu(mu):
    with pytest.raises(ValueError, match="mu must be a finite number"):
        csbm(20, 2, 0.5, 0.1, mu, 3)


def test_missing_extra_names_the_pip_command(monkeypatch):
    for module in ("scipy", "scipy.sparse", "tqdm", "tqdm.auto"):
        monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    with pytest.raises(ImportError, match=r'pip install "gnnbook\[data\]"'):
        ds._allowed_classes()
    with pytest.raises(ImportError, match=r"tqdm.*gnnbook\[data\]"):
        fit(_Model(torch.nn.Linear(4, 2)), csbm(40, 2, 0.2, 0.05, 1.0, 4), epochs=1, progress=True)
