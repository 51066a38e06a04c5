"""gnnbook.datasets.load_heterophilous: checksums, no pickles, the published counts, the 10 splits,
and downloads (from a local HTTP server) that keep nothing unless it is the published file."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from gnnbook import datasets
from gnnbook.datasets import (
    HETEROPHILOUS_NAMES,
    HETEROPHILOUS_SHA256,
    cache_dir,
    load_heterophilous,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "heterophilous"
FILES = sorted(HETEROPHILOUS_SHA256)
# (nodes, undirected edges, features, classes) from the paper and the repository's README
COUNTS = {
    "minesweeper": (10_000, 39_402, 7, 2),
    "tolokers": (11_758, 519_000, 10, 2),
    "chameleon_filtered": (890, 8_854, 2_325, 5),
    "squirrel_filtered": (2_223, 46_998, 2_089, 5),
}


@pytest.fixture(scope="module")
def source() -> Path:
    """A folder holding the four published files: the cache's if it has them,
    else the shared copy."""
    for folder in (cache_dir() / "heterophilous", SHARED):
        if all((folder / f).exists() for f in FILES):
            return folder
    pytest.skip(f"heterophilous files not found: run .ci/seed_data.sh or put them in {SHARED}")


@pytest.fixture(scope="module")
def root(source, tmp_path_factory) -> Path:
    """A data root whose heterophilous/ folder is a copy of ``source``."""
    base = tmp_path_factory.mktemp("het")
    shutil.copytree(source, base / "heterophilous")
    return base


def test_recorded_sums_are_those_of_the_files(source):
    assert sorted(f"{n}.npz" for n in HETEROPHILOUS_NAMES) == FILES
    for file in FILES:
        assert (
            hashlib.sha256((source / file).read_bytes()).hexdigest() == HETEROPHILOUS_SHA256[file]
        ), file
    if (SHARED / "SHA256SUMS").exists():
        listed = dict(
            line.split()[::-1] for line in (SHARED / "SHA256SUMS").read_text().splitlines()
        )
        assert listed == HETEROPHILOUS_SHA256


@pytest.mark.parametrize("name", list(COUNTS))
def test_published_counts_and_both_directions(root, name):
    nodes, undirected, num_features, num_classes = COUNTS[name]
    data = load_heterophilous(name, root=root)
    g = data.graph
    assert (g.num_nodes, data.num_features, data.num_classes) == (nodes, num_features, num_classes)
    assert g.num_edges == 2 * undirected
    assert not (g.src == g.dst).any(), "no self-loops"
    keys = g.src * nodes + g.dst
    assert keys.unique().numel() == g.num_edges, "no edge twice"
    assert torch.equal(keys.sort().values, (g.dst * nodes + g.src).sort().values), "both directions"
    assert data.features.dtype == torch.float32 and data.features.shape == (nodes, num_features)
    assert data.labels.dtype == torch.int64 and data.labels.shape == (nodes,)

    stored = np.load(root / "heterophilous" / f"{name}.npz", allow_pickle=False)
    pairs = torch.from_numpy(stored["edges"])
    assert pairs.shape == (undirected, 2)  # each undirected edge once in the file
    torch.testing.assert_close(data.features, torch.from_numpy(stored["node_features"]))


@pytest.mark.parametrize("name", ["minesweeper", "chameleon_filtered"])
def test_ten_splits_kept_as_stored(root, name):
    data = load_heterophilous(name, root=root)
    stored = np.load(root / "heterophilous" / f"{name}.npz", allow_pickle=False)
    n = data.graph.num_nodes
    for part in ("train", "val", "test"):
        masks = getattr(data, f"{part}_masks")
        assert masks.shape == (10, n) and masks.dtype == torch.bool
        assert torch.equal(masks, torch.from_numpy(stored[f"{part}_masks"]))
    parts = torch.stack([data.train_masks, data.val_masks, data.test_masks]).sum(0)
    assert parts.max() == 1, "a node lies in at most one part of a split"
    assert data.num_splits == 10
    three = data.split(3)
    assert isinstance(three, datasets.NodeDataset) and not isinstance(
        three, datasets.SplitNodeDataset
    )
    assert torch.equal(three.val_mask, data.val_masks[3]) and torch.equal(
        data.test_mask, data.test_masks[0]
    )
    with pytest.raises(ValueError, match=r"split index i must lie in \[0, 10\)"):
        data.split(10)
    with pytest.raises(TypeError, match="split index i must be an int"):
        data.split(1.0)
    moved = data.to("cpu")
    assert isinstance(moved, datasets.SplitNodeDataset) and torch.equal(
        moved.train_masks, data.train_masks
    )


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(
        ValueError, match="minesweeper, tolokers, chameleon_filtered, squirrel_filtered"
    ):
        load_heterophilous("roman_empire")


def test_tampered_file_is_refused_before_numpy_reads_it(root, tmp_path, monkeypatch):
    folder = tmp_path / "heterophilous"
    folder.mkdir()
    bad = folder / "minesweeper.npz"
    original = (root / "heterophilous" / "minesweeper.npz").read_bytes()
    bad.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))  # one bit flipped
    monkeypatch.setattr(
        np, "load", lambda *a, **k: pytest.fail("must not parse an unverified file")
    )
    with pytest.raises(ValueError, match="checksum mismatch") as info:
        load_heterophilous("minesweeper", root=tmp_path)
    message = str(info.value)
    assert HETEROPHILOUS_SHA256["minesweeper.npz"] in message
    assert hashlib.sha256(bad.read_bytes()).hexdigest() in message and str(bad) in message


def test_object_arrays_are_refused(root, tmp_path, monkeypatch):
    """A file with the right sum whose labels are a pickled (object) array is not unpickled."""
    folder = tmp_path / "heterophilous"
    folder.mkdir()
    path = folder / "minesweeper.npz"
    arrays = dict(np.load(root / "heterophilous" / "minesweeper.npz", allow_pickle=False))
    np.savez(
        path, **{**arrays, "node_labels": np.array([{"not": "numbers"}] * 10_000, dtype=object)}
    )
    monkeypatch.setitem(
        HETEROPHILOUS_SHA256, "minesweeper.npz", hashlib.sha256(path.read_bytes()).hexdigest()
    )
    with pytest.raises(ValueError, match="allow_pickle=False"):
        load_heterophilous("minesweeper", root=tmp_path)


# --- downloads, from a local server ---------------------------------------------------------------
@pytest.fixture
def server(tmp_path, monkeypatch):
    """An HTTP server on 127.0.0.1 serving ``tmp_path / 'served'``, set as the download URL."""
    served = tmp_path / "served"
    served.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(served))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(datasets, "HETEROPHILOUS_URL", f"http://127.0.0.1:{httpd.server_port}/")
    yield served
    httpd.shutdown()
    httpd.server_close()


def test_download_fills_the_cache(root, server, tmp_path):
    shutil.copyfile(root / "heterophilous" / "minesweeper.npz", server / "minesweeper.npz")
    data = load_heterophilous("minesweeper", root=tmp_path / "fresh")
    assert data.graph.num_nodes == 10_000
    assert [p.name for p in (tmp_path / "fresh" / "heterophilous").iterdir()] == ["minesweeper.npz"]


def test_wrong_download_is_not_kept(root, server, tmp_path):
    original = (root / "heterophilous" / "tolokers.npz").read_bytes()
    (server / "tolokers.npz").write_bytes(original[:100] + b"!" + original[101:])
    with pytest.raises(ValueError, match="not the published file"):
        load_heterophilous("tolokers", root=tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()  # nothing partial is left behind, not even a folder


def test_missing_file_on_the_server_says_where_to_put_it(server, tmp_path):
    with pytest.raises(RuntimeError, match="could not download") as info:
        load_heterophilous("squirrel-filtered", root=tmp_path / "fresh")
    message = str(info.value)
    assert datasets.HETEROPHILOUS_URL + "squirrel_filtered.npz" in message
    assert str(tmp_path / "fresh" / "heterophilous") in message
    assert not (tmp_path / "fresh").exists()  # nothing partial is left behind, not even a folder


def test_reproduce_script_writes_its_table(root, tmp_path, monkeypatch):
    """bench/reproduce_heterophily.py end to end on a tiny configuration: a row per model, the
    paper's numbers beside ours where it has them."""
    import importlib.util

    monkeypatch.setenv("GNNBOOK_DATA", str(root))
    path = Path(__file__).resolve().parents[1] / "bench" / "reproduce_heterophily.py"
    spec = importlib.util.spec_from_file_location("reproduce_heterophily", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    out = tmp_path / "table.md"
    argv = ["--datasets", "chameleon_filtered", "--models", "ResNet", "GAT", "--splits", "2"]
    argv += ["--steps", "3", "--layers", "1", "--hidden", "8", "--heads", "2", "--out", str(out)]
    assert script.main(argv) == out
    rows = [line for line in out.read_text().splitlines() if line.startswith("| chameleon")]
    assert [row.split(" | ")[2] for row in rows] == ["ResNet", "GAT"], rows
    assert all(" ± " in row for row in rows), rows  # two splits: a mean and a spread
