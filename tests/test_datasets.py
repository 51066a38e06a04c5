"""gnnbook.datasets: the Planetoid loader (checksums, restricted unpickling, Cora's numbers, errors)
and the contextual stochastic block model."""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import shutil
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest
import torch

from gnnbook import datasets
from gnnbook.datasets import RestrictedUnpickler, cache_dir, csbm, load_planetoid

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "planetoid"
CORA = [f"ind.cora.{ext}" for ext in ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")]
SYSTEM_MODULE = sys.modules[
    os.system.__module__
]  # posix on Linux: where a pickle of os.system points


def _has_cora(base: Path) -> bool:
    return all((base / "planetoid" / f).exists() for f in CORA)


@pytest.fixture
def cora_root(tmp_path):
    """A data root with Cora in planetoid/: the cache ($GNNBOOK_DATA or ~/.cache/gnnbook) if it has
    the files, else a copy of ../shared/data/planetoid; skip when neither exists."""
    pytest.importorskip(
        "scipy", reason="the Planetoid loader needs scipy (pip install gnnbook[data])"
    )
    if _has_cora(cache_dir()):
        return cache_dir()
    if not all((SHARED / f).exists() for f in CORA):
        pytest.skip(
            f"Cora not found: run .ci/seed_data.sh, set GNNBOOK_DATA, or put the files in {SHARED}"
        )
    return _copy_cora(SHARED, tmp_path / "shared-copy")


def _copy_cora(source: Path, base: Path) -> Path:
    """Copy the Cora files in ``source`` into ``base/planetoid``; return ``base``."""
    (base / "planetoid").mkdir(parents=True, exist_ok=True)
    for f in CORA:
        shutil.copyfile(source / f, base / "planetoid" / f)
    return base


# --- Cora ------------------------------------------------------------------------------------
def test_cora_has_the_standard_numbers(cora_root):
    data = load_planetoid("Cora", root=cora_root)
    g = data.graph
    assert (g.num_nodes, data.num_features, data.num_classes) == (2708, 1433, 7)
    assert g.num_edges == 10556  # 5278 undirected edges, both directions
    assert data.features.shape == (2708, 1433) and data.features.dtype == torch.float32
    assert data.labels.dtype == torch.int64
    assert data.labels.bincount().tolist() == [351, 217, 418, 818, 426, 298, 180]

    keys = g.src * g.num_nodes + g.dst
    assert not (g.src == g.dst).any(), "no self-loops"
    assert keys.unique().numel() == g.num_edges, "no duplicate edges"
    assert torch.equal(keys.sort().values, (g.dst * g.num_nodes + g.src).sort().values), (
        "both directions"
    )

    assert [int(m.sum()) for m in (data.train_mask, data.val_mask, data.test_mask)] == [
        140,
        500,
        1000,
    ]
    assert torch.equal(data.train_mask.nonzero().flatten(), torch.arange(140))
    assert torch.equal(data.val_mask.nonzero().flatten(), torch.arange(140, 640))
    assert not (data.test_mask & (data.train_mask | data.val_mask)).any()
    torch.testing.assert_close(data.features.sum(1), torch.ones(2708))  # rows normalised


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="cora, citeseer, pubmed"):
        load_planetoid("reddit")


@pytest.mark.parametrize("name", ["cora", "citeseer", "pubmed"])
def test_every_file_has_a_recorded_checksum(name):
    files = [
        f"ind.{name}.{ext}" for ext in ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
    ]
    assert all(len(datasets.SHA256[f]) == 64 and int(datasets.SHA256[f], 16) >= 0 for f in files)
    assert len(set(datasets.SHA256.values())) == len(datasets.SHA256)  # no value pasted twice


def test_wrong_download_is_refused_before_unpickling(tmp_path, monkeypatch):
    """A file that does not match its recorded sum (here: any bytes at all for CiteSeer) never
    reaches the cache, let alone the unpickler."""
    monkeypatch.setattr(
        datasets.urllib.request, "urlopen", lambda url, timeout: _Response(b"not the file")
    )
    monkeypatch.setattr(
        datasets, "RestrictedUnpickler", lambda *a, **k: pytest.fail("must not unpickle")
    )
    with pytest.raises(ValueError, match=r"ind\.citeseer\.x has SHA-256 .* not the published file"):
        load_planetoid("citeseer", root=tmp_path)
    assert not (tmp_path / "planetoid").exists()  # the folder this call made is gone too


def test_checksum_mismatch_names_file_and_both_hashes(cora_root, tmp_path):
    root = _copy_cora(cora_root / "planetoid", tmp_path / "tampered")
    bad = root / "planetoid" / "ind.cora.graph"
    bad.write_bytes(bad.read_bytes()[:-1] + b"\n")  # the same size, one byte changed
    expected = datasets.SHA256["ind.cora.graph"]
    actual = hashlib.sha256(bad.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match="checksum mismatch") as info:
        load_planetoid("cora", root=root)
    message = str(info.value)
    assert str(bad) in message and expected in message and actual in message
    assert datasets.PLANETOID_URL + "ind.cora.graph" in message


def test_empty_cache_without_network_says_what_to_fetch_and_where(tmp_path, monkeypatch):
    def offline(url, target, expected, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(datasets, "_download", offline)
    with pytest.raises(RuntimeError) as info:
        load_planetoid("cora", root=tmp_path)
    message = str(info.value)
    assert datasets.PLANETOID_URL in message and str(tmp_path / "planetoid") in message
    assert all(f in message for f in CORA)


class _Response(io.BytesIO):
    """Stands in for urlopen's response; ``fail_after`` bytes, then the connection drops."""

    def __init__(self, data: bytes, fail_after: int | None = None):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}
        self.fail_after = fail_after

    def read(self, size=-1):
        if self.fail_after is not None:
            if self.tell() >= self.fail_after:
                raise ConnectionResetError("connection dropped")
            size = min(size, self.fail_after - self.tell())
        return super().read(size)


def _serve(source, change):
    """An urlopen stand-in serving the files of ``source``, each passed through ``change``."""
    return lambda url, timeout: change((source / url.rsplit("/", 1)[1]).read_bytes())


def test_download_fills_the_cache(cora_root, tmp_path, monkeypatch):
    monkeypatch.setattr(
        datasets.urllib.request, "urlopen", _serve(cora_root / "planetoid", _Response)
    )
    data = load_planetoid("cora", root=tmp_path / "fresh")
    assert data.graph.num_nodes == 2708
    assert sorted(p.name for p in (tmp_path / "fresh" / "planetoid").iterdir()) == sorted(CORA)


def test_broken_download_leaves_nothing_behind(cora_root, tmp_path, monkeypatch):
    serve = _serve(cora_root / "planetoid", lambda data: _Response(data, fail_after=1000))
    monkeypatch.setattr(datasets.urllib.request, "urlopen", serve)
    with pytest.raises(RuntimeError, match="could not download"):
        load_planetoid("cora", root=tmp_path)
    assert not (tmp_path / "planetoid").exists()


def test_download_with_wrong_content_is_not_kept(cora_root, tmp_path, monkeypatch):
    serve = _serve(cora_root / "planetoid", lambda data: _Response(data[:-1] + b"!"))
    monkeypatch.setattr(datasets.urllib.request, "urlopen", serve)
    with pytest.raises(ValueError, match="not the published file"):
        load_planetoid("cora", root=tmp_path)
    assert not (tmp_path / "planetoid").exists()


# --- restricted unpickling -----------------------------------------------------------------------
class _CallsSystem:
    def __reduce__(self):
        return (os.system, ("true",))


@pytest.mark.parametrize(
    "payload, named",
    [
        (pickle.dumps(_CallsSystem(), protocol=2), "system"),  # os.system pickles as posix.system
        (b"c__builtin__\neval\n(S'1'\ntR.", "__builtin__.eval"),
        (
            pickle.dumps(__import__("collections").OrderedDict(), protocol=2),
            "collections.OrderedDict",
        ),
    ],
    ids=["os.system", "eval", "OrderedDict"],
)
def test_restricted_unpickler_refuses_other_classes(payload, named, monkeypatch):
    pytest.importorskip("scipy")
    # Should the refusal ever break, the call lands here instead of in a shell.
    called = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a))
    monkeypatch.setattr(SYSTEM_MODULE, "system", lambda *a: called.append(a))
    with pytest.raises(pickle.UnpicklingError, match=named):
        RestrictedUnpickler(io.BytesIO(payload), encoding="latin1").load()
    assert not called


def test_loader_uses_the_restricted_unpickler_even_for_matching_sums(cora_root, tmp_path):
    root = _copy_cora(cora_root / "planetoid", tmp_path / "evil")
    evil = pickle.dumps(__import__("collections").OrderedDict(), protocol=2)
    (root / "planetoid" / "ind.cora.graph").write_bytes(evil)
    with pytest.raises(pickle.UnpicklingError, match="collections.OrderedDict"):
        load_planetoid(
            "cora", root=root, sha256={"ind.cora.graph": hashlib.sha256(evil).hexdigest()}
        )


def test_import_needs_neither_scipy_nor_tqdm():
    code = (
        "import sys; sys.modules['scipy'] = sys.modules['tqdm'] = None; "
        "import gnnbook; gnnbook.datasets.csbm(20, 2, .5, .1, 1., 3)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


# --- CSBM ------------------------------------------------------------------------------------
def test_csbm_matches_its_parameters():
    n, c, p_in, p_out, mu, f = 600, 3, 0.1, 0.02, 2.0, 16
    data = csbm(n, c, p_in, p_out, mu, f, seed=0)
    g, y = data.graph, data.labels
    assert y.bincount().tolist() == [200, 200, 200]
    assert not (g.src == g.dst).any()
    keys = g.src * n + g.dst
    assert keys.unique().numel() == g.num_edges
    assert torch.equal(keys.sort().values, (g.dst * n + g.src).sort().values)

    upper = g.src < g.dst  # each undirected edge once
    same = (y[g.src] == y[g.dst])[upper]
    pairs_in, pairs_out = c * 200 * 199 // 2, c * (c - 1) // 2 * 200 * 200
    for observed, pairs, p in (
        (int(same.sum()), pairs_in, p_in),
        (int((~same).sum()), pairs_out, p_out),
    ):
        sd = (p * (1 - p) / pairs) ** 0.5
        assert abs(observed / pairs - p) < 4 * sd, (observed / pairs, p)

    means = torch.stack([data.features[y == k].mean(0) for k in range(c)])
    expected_norm = (mu**2 + f / 200) ** 0.5  # noise of the sample mean adds f/200 in expectation
    torch.testing.assert_close(
        means.norm(dim=1), torch.full((c,), expected_norm), atol=0.15, rtol=0
    )
    noise = data.features - means[y]
    assert abs(noise.var().item() - 1) < 0.05

    masks = torch.stack([data.train_mask, data.val_mask, data.test_mask])
    assert masks.sum(1).tolist() == [360, 120, 120] and torch.equal(
        masks.sum(0), torch.ones(n, dtype=torch.int64)
    )


def test_csbm_is_deterministic_for_a_seed():
    a, b, other = (csbm(300, 4, 0.05, 0.01, 1.0, 8, seed=s) for s in (7, 7, 8))
    for name in ("features", "labels", "train_mask", "val_mask", "test_mask"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert torch.equal(a.graph.src, b.graph.src) and torch.equal(a.graph.dst, b.graph.dst)
    assert not torch.equal(a.features, other.features)


def test_csbm_rejects_bad_parameters():
    with pytest.raises(ValueError, match="probabilities"):
        csbm(10, 2, 1.5, 0.1, 1.0, 2)
    with pytest.raises(ValueError, match="num_classes"):
        csbm(3, 5, 0.5, 0.1, 1.0, 2)
