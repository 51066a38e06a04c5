r"""Node-classification data for chapter "Attention on real graphs": Planetoid's Cora, CiteSeer and
PubMed, and a synthetic contextual stochastic block model.

Both return a :class:`NodeDataset`: an undirected :class:`gnnbook.Graph` (each edge in both
directions, no duplicates, no self-loops), features, labels and train/validation/test masks.
The Planetoid loader needs scipy (and tqdm to show download progress):
``pip install gnnbook[data]``.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import math
import numbers
import os
import pickle
import re
import stat
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, fields
from pathlib import Path

import torch

from .graph import Graph
from .optional import require

__all__ = [
    "NodeDataset",
    "RestrictedUnpickler",
    "load_planetoid",
    "csbm",
    "cache_dir",
    "PLANETOID_URL",
]

PLANETOID_URL = "https://github.com/kimiyoung/planetoid/raw/master/data/"
_EXTENSIONS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
_NAMES = ("cora", "citeseer", "pubmed")

# SHA-256 of the files in kimiyoung/planetoid's data/ folder. Cora's were computed from the files
# themselves. CiteSeer's and PubMed's could not be (no network where this was written): they are the
# values on which three independent public records agree, two of them loaders pinned to that
# repository (commit af6abf4) whose Cora values are exactly the ones below.
SHA256 = {
    "ind.cora.x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
    "ind.cora.tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
    "ind.cora.allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
    "ind.cora.y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
    "ind.cora.ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
    "ind.cora.ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
    "ind.cora.graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
    "ind.cora.test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    "ind.citeseer.x": "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
    "ind.citeseer.tx": "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
    "ind.citeseer.allx": "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
    "ind.citeseer.y": "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
    "ind.citeseer.ty": "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
    "ind.citeseer.ally": "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
    "ind.citeseer.graph": "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
    "ind.citeseer.test.index": "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
    "ind.pubmed.x": "fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33",
    "ind.pubmed.tx": "4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d",
    "ind.pubmed.allx": "508e538e2abdccdd54c4d3e9f49d638b4af7107d85845f66ddea5a5152658b7e",
    "ind.pubmed.y": "e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3",
    "ind.pubmed.ty": "ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd",
    "ind.pubmed.ally": "0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e",
    "ind.pubmed.graph": "5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9",
    "ind.pubmed.test.index": "b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5",
}

# Byte counts of the published files that could be measured (Cora's, with the sums above): a file of
# another size is refused before it is read. Every other file is bounded by MAX_FILE_BYTES.
SIZES = {
    "ind.cora.x": 22119,
    "ind.cora.tx": 148025,
    "ind.cora.allx": 257305,
    "ind.cora.y": 4054,
    "ind.cora.ty": 28135,
    "ind.cora.ally": 47959,
    "ind.cora.graph": 59847,
    "ind.cora.test.index": 5000,
}
MAX_FILE_BYTES = 256 << 20  # PubMed's largest file is about 40 MB; nothing real comes near this


@dataclass
class NodeDataset:
    """One graph with node features, labels and a train/validation/test split (boolean masks)."""

    name: str
    graph: Graph
    features: torch.Tensor  # (N, F) float32
    labels: torch.Tensor  # (N,) int64
    train_mask: torch.Tensor
    val_mask: torch.Tensor
    test_mask: torch.Tensor
    num_classes: int

    @property
    def num_features(self) -> int:
        return self.features.shape[1]

    def to(self, device) -> NodeDataset:
        """The same dataset with the graph and every tensor on ``device``."""
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        for key, value in moved.items():
            if isinstance(value, (torch.Tensor, Graph)):
                moved[key] = value.to(device)
        return NodeDataset(**moved)

    def __repr__(self) -> str:
        return (
            f"NodeDataset(name={self.name!r}, num_nodes={self.graph.num_nodes}, "
            f"num_edges={self.graph.num_edges}, "
            f"num_features={self.num_features}, num_classes={self.num_classes}, train/val/test="
            f"{int(self.train_mask.sum())}/{int(self.val_mask.sum())}/{int(self.test_mask.sum())})"
        )


def _undirected_graph(src: torch.Tensor, dst: torch.Tensor, num_nodes: int) -> Graph:
    """Both directions of every edge, self-loops and duplicates dropped, sorted by (src, dst)."""
    src, dst = torch.cat([src, dst]), torch.cat([dst, src])
    keep = src != dst
    key = torch.unique(src[keep] * num_nodes + dst[keep])  # sorted, so edge order is reproducible
    return Graph(key // num_nodes, key % num_nodes, num_nodes)


# --- Planetoid ------------------------------------------------------------------------------
def cache_dir() -> Path:
    """Where downloads go: ``$GNNBOOK_DATA`` if set, else ``~/.cache/gnnbook``."""
    return Path(os.environ.get("GNNBOOK_DATA") or Path.home() / ".cache" / "gnnbook")


def _allowed_classes() -> dict:
    import collections

    import numpy as np

    scipy_sparse = require("scipy.sparse", "data")

    try:
        from numpy._core.multiarray import _reconstruct  # numpy >= 2
    except ImportError:
        from numpy.core.multiarray import _reconstruct
    # Keys are the names as written in Planetoid's Python 2 pickles; values are today's objects.
    return {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("scipy.sparse.csr", "csr_matrix"): scipy_sparse.csr_matrix,
        ("collections", "defaultdict"): collections.defaultdict,
        ("__builtin__", "list"): list,
    }


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds only the numpy, scipy.sparse and container classes the Planetoid
    files hold. A pickle can name any importable callable (``os.system`` included) and have it
    called while loading; here every other name raises :class:`pickle.UnpicklingError`."""

    def find_class(self, module: str, name: str):
        allowed = _allowed_classes()
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: not one of the classes Planetoid files use"
            )
        return allowed[(module, name)]


def _size_limit(file: str, expected: str) -> tuple[int, bool]:
    """``(limit, exact)``: the published size of ``file`` when its expected sum is the published one
    (the file must have exactly that many bytes), else :data:`MAX_FILE_BYTES`
    (at most that many)."""
    if file in SIZES and SHA256.get(file) == expected:
        return SIZES[file], True
    return MAX_FILE_BYTES, False


def _check_size(what, size: int, file: str, expected: str) -> None:
    limit, exact = _size_limit(file, expected)
    if (size != limit) if exact else (size > limit):
        wanted = f"expected {limit}" if exact else f"at most {limit} are allowed"
        raise ValueError(
            f"{what} has {size} bytes, {wanted}: not the published {file}, so it is not read"
        )


def _download(url: str, target: Path, expected: str) -> None:
    """Fetch ``url`` into ``target`` through a temporary file that is renamed only once complete and
    matching its SHA-256 (and size), so a broken or wrong download leaves nothing in the cache."""
    tqdm = require("tqdm.auto", "data").tqdm
    limit, _ = _size_limit(target.name, expected)
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=60) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        if total is not None:
            _check_size(f"the download of {url}", total, target.name, expected)
        with tempfile.NamedTemporaryFile(
            dir=target.parent, prefix=f".{target.name}.", delete=False
        ) as tmp:
            try:
                size = 0
                with tqdm(
                    total=total, unit="B", unit_scale=True, desc=target.name, leave=False
                ) as bar:
                    while chunk := response.read(1 << 16):
                        size += len(chunk)
                        if size > limit:  # a server that sends more than it announced, or endlessly
                            _check_size(f"the download of {url}", size, target.name, expected)
                        tmp.write(chunk)
                        digest.update(chunk)
                        bar.update(len(chunk))
                _check_size(f"the download of {url}", size, target.name, expected)
                if digest.hexdigest() != expected:
                    raise ValueError(
                        f"the download of {url} has SHA-256 {digest.hexdigest()}, expected "
                        f"{expected}: not the published file, so it was not kept"
                    )
            except BaseException:
                tmp.close()
                os.unlink(tmp.name)
                raise
    os.replace(tmp.name, target)


def _new_folders(folder: Path) -> list[Path]:
    """Create ``folder`` (and missing parents); return the ones created, outermost first."""
    created = [p for p in (folder, *folder.parents) if not p.exists()][::-1]
    folder.mkdir(parents=True, exist_ok=True)
    return created


def _fetch_missing(
    files: list[str], folder: Path, sums: dict, base_url: str = PLANETOID_URL
) -> None:
    """Download those of ``files`` that ``folder`` lacks from ``base_url`` (each checked against
    ``sums``). On any failure, folders this call created are removed again if they stay empty."""
    missing = [f for f in files if not os.path.lexists(folder / f)]
    if not missing:
        return
    created = _new_folders(folder)
    try:
        for file in missing:
            try:
                _download(base_url + file, folder / file, sums[file])
            except (
                urllib.error.URLError,
                http.client.HTTPException,
                TimeoutError,
                ConnectionError,
            ) as error:
                still = [f for f in files if not (folder / f).exists()]
                raise RuntimeError(
                    f"could not download {base_url + file} ({error}). Without network, download "
                    f"these files from {base_url} and put them into {folder}: {', '.join(still)}"
                ) from error
    except BaseException:
        for path in reversed(created):
            try:
                path.rmdir()
            except OSError:  # not empty: a file that did verify stays
                break
        raise


def _read_regular(path: Path, expected: str) -> bytes:
    """The bytes of ``path``: a regular file inside the folder ``path.parent`` (links that stay
    inside it are followed), whose size is checked before anything is read (:func:`_check_size`)."""
    where, real = path.parent.resolve(), path.resolve()
    try:
        info = os.stat(real)
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(
            f"{path} is not a regular file (a device, FIFO, socket or folder): refusing to read "
            f"it; delete it to download the file again"
        )
    if not real.is_relative_to(where):
        raise ValueError(
            f"{path} is a link to {real}, outside the cache {where}: refusing to read it; "
            f"put the file itself there"
        )
    _check_size(path, info.st_size, path.name, expected)
    # O_NONBLOCK: should a FIFO be swapped in after the check, opening it does
    # not wait for a writer.
    fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(handle.fileno())
        if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino):
            raise ValueError(f"{path} changed while it was being opened: refusing to read it")
        data = handle.read(info.st_size + 1)  # one byte more than it had: a file that grew shows it
    _check_size(path, len(data), path.name, expected)
    return data


def _verified_bytes(path: Path, expected: str, url: str | None = None) -> bytes:
    """The bytes of ``path``, once they are a regular file's inside the cache folder
    ``path.parent``, of the right size, with SHA-256 ``expected``; ``url`` is where a good copy
    comes from."""
    data = _read_regular(path, expected)
    # The sum of the very bytes that get parsed, so the file cannot change between check and use.
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        source = (
            f"put a good copy from {url} at that path" if url else "put a good copy at that path"
        )
        raise ValueError(
            f"checksum mismatch for {path}: expected SHA-256 {expected}, got {actual}. The file is "
            f"damaged or not the published one: delete it to download it again, or {source}."
        )
    return data


def _sha256_overrides(sha256) -> dict:
    """The caller's ``sha256`` overrides, checked (known file names, 64 hex digits)
    and in lower case."""
    if sha256 is None:
        return {}
    if not isinstance(sha256, dict):
        raise TypeError(
            f"sha256 must be a dict of file name -> SHA-256 hex digest, got {type(sha256).__name__}"
        )
    out = {}
    for file, digest in sha256.items():
        if file not in SHA256:
            raise ValueError(
                f"sha256 names {file!r}, not a Planetoid file (keys look like 'ind.cora.x')"
            )
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", digest.strip()):
            raise ValueError(f"sha256[{file!r}] must be 64 hexadecimal digits, got {digest!r}")
        out[file] = digest.strip().lower()
    return out


def load_planetoid(name: str, root=None, *, sha256: dict | None = None) -> NodeDataset:
    r"""Cora, CiteSeer or PubMed with the standard Planetoid split (Yang et al. 2016;
    Kipf & Welling 2017).

    Missing files are downloaded from ``PLANETOID_URL`` into ``<root>/planetoid/`` (``root``
    defaults to :func:`cache_dir`). Only regular files inside that folder are read (no devices,
    FIFOs, or links that lead out of it), each after its size (:data:`SIZES`, else at most
    :data:`MAX_FILE_BYTES`) and then its SHA-256 are checked, and the pickles are read by
    :class:`RestrictedUnpickler`, never by plain :func:`pickle.load`.

    The expected sums are :data:`SHA256`; ``sha256={"ind.citeseer.x": "...", ...}`` replaces some of
    them (a mirror of your own, say; upper or lower case hex).

    Split: the first ``len(y)`` nodes train (Cora: 140), the next 500 validate, the 1000 nodes
    in ``test.index`` test. CiteSeer's test ids have gaps (isolated nodes absent from the files):
    those nodes get zero features and label 0 and lie in no split, as in Kipf's loader.
    Features are row-normalised, :math:`\tilde x_{i} = x_{i} / \sum_f x_{if}`
    (all-zero rows stay zero).

    Used in chapter "Attention on real graphs".
    """
    import numpy as np

    if not isinstance(name, str):
        raise TypeError(
            f"name must be a string (one of {', '.join(_NAMES)}), got {type(name).__name__}"
        )
    key = name.lower()
    if key not in _NAMES:
        raise ValueError(
            f"name must be a Planetoid dataset, one of {', '.join(_NAMES)}; got {name!r}"
        )
    files = [f"ind.{key}.{ext}" for ext in _EXTENSIONS]
    sums = {**SHA256, **_sha256_overrides(sha256)}
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a path (str or os.PathLike), got {type(root).__name__}")
    folder = Path(root if root is not None else cache_dir()) / "planetoid"
    _fetch_missing(files, folder, sums)
    data = {
        ext: _verified_bytes(folder / f, sums[f], PLANETOID_URL + f)
        for ext, f in zip(_EXTENSIONS, files)
    }

    def unpickle(ext):
        obj = RestrictedUnpickler(io.BytesIO(data[ext]), encoding="latin1").load()
        return obj.toarray() if hasattr(obj, "toarray") else obj

    # x holds the first len(y) rows of allx: checked above, but not needed.
    tx, allx, y, ty, ally = (unpickle(ext) for ext in ("tx", "allx", "y", "ty", "ally"))
    adjacency = unpickle("graph")
    test_ids = np.array(data["test.index"].decode().split(), dtype=np.int64)  # in tx/ty row order

    num_train, num_known = len(y), len(allx)
    if test_ids.min() != num_known:
        raise ValueError(
            f"{key}: test ids should start right after the {num_known} rows of allx, got "
            f"{test_ids.min()}"
        )
    num_nodes = int(test_ids.max()) + 1  # CiteSeer: larger than num_known + len(tx) (the gaps)
    features = np.zeros((num_nodes, allx.shape[1]), dtype=np.float64)
    features[:num_known], features[test_ids] = allx, tx
    one_hot = np.zeros((num_nodes, ally.shape[1]), dtype=np.int64)
    one_hot[:num_known], one_hot[test_ids] = ally, ty
    row_sum = features.sum(axis=1, keepdims=True)
    features = np.divide(features, row_sum, out=np.zeros_like(features), where=row_sum != 0)

    src = torch.tensor([u for u, vs in adjacency.items() for _ in vs], dtype=torch.int64)
    dst = torch.tensor([v for vs in adjacency.values() for v in vs], dtype=torch.int64)
    masks = torch.zeros(3, num_nodes, dtype=torch.bool)
    masks[0, :num_train] = True
    masks[1, num_train : num_train + 500] = True
    masks[2, torch.from_numpy(test_ids)] = True
    return NodeDataset(
        name=key,
        graph=_undirected_graph(src, dst, num_nodes),
        features=torch.from_numpy(features).float(),
        labels=torch.from_numpy(one_hot.argmax(axis=1)),
        train_mask=masks[0],
        val_mask=masks[1],
        test_mask=masks[2],
        num_classes=ally.shape[1],
    )


# --- contextual stochastic block model ----------------------------------------------------------
CSBM_MAX_NODES = (
    10_000  # every pair is drawn: 10k nodes already take 400 MB while the graph is made
)


def csbm(
    num_nodes: int,
    num_classes: int,
    p_in: float,
    p_out: float,
    mu: float,
    num_features: int,
    seed: int = 0,
    *,
    split: tuple[float, float, float] = (0.6, 0.2, 0.2),
) -> NodeDataset:
    r"""A contextual stochastic block model (Deshpande et al. 2018): a graph whose homophily and
    feature signal are dials.

    Classes are balanced (sizes differ by at most one). Each pair :math:`i \neq j` is joined
    independently, in both directions, with

    .. math::

        P\big[(i, j) \in E\big] =
        \begin{cases} p_{\mathrm{in}} & y_i = y_j \\ p_{\mathrm{out}} & y_i \neq y_j \end{cases}

    and features are a class mean plus standard Gaussian noise,
    :math:`x_i = \mu\, u_{y_i} + \varepsilon_i` with random unit vectors
    :math:`u_c \in \mathbb{R}^F` and :math:`\varepsilon_i \sim \mathcal{N}(0, I_F)`. The
    train/val/test masks are a random split with the fractions ``split``. Everything is drawn from
    one ``torch.Generator`` seeded with ``seed``, so a seed gives the same dataset every time.
    Memory is :math:`O(N^2)` (every pair is drawn): meant for a few thousand nodes, and at most
    :data:`CSBM_MAX_NODES`. ``mu``, ``p_in`` and ``p_out`` must be finite.

    Used in chapter "Attention on real graphs", to vary homophily (``p_in`` against ``p_out``)
    and see when attention helps.
    """
    for arg, value in (
        ("num_nodes", num_nodes),
        ("num_classes", num_classes),
        ("num_features", num_features),
        ("seed", seed),
    ):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{arg} must be an int, got {value!r} of type {type(value).__name__}")
    if not -(2**63) <= seed < 2**64:
        raise ValueError(f"seed must fit in 64 bits, got {seed}")
    if not 0 <= num_nodes <= CSBM_MAX_NODES:
        raise ValueError(
            f"num_nodes must lie in [0, {CSBM_MAX_NODES}] (every pair of nodes is drawn, memory "
            f"O(N^2)), got {num_nodes}"
        )
    if num_features < 0:
        raise ValueError(f"num_features must be non-negative, got {num_features}")
    for arg, value in (("p_in", p_in), ("p_out", p_out), ("mu", mu)):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
        ):
            raise ValueError(f"{arg} must be a finite number, got {value!r}")
    if num_classes < 1 or num_nodes < num_classes:
        raise ValueError(
            f"need 1 <= num_classes <= num_nodes, got {num_classes} classes for {num_nodes} nodes"
        )
    if not (0 <= p_in <= 1 and 0 <= p_out <= 1):
        raise ValueError(f"p_in and p_out are probabilities, got p_in={p_in}, p_out={p_out}")
    if (
        not isinstance(split, (tuple, list))
        or len(split) != 3
        or not all(isinstance(f, numbers.Real) and math.isfinite(f) for f in split)
        or min(split) < 0
        or abs(sum(split) - 1) > 1e-9
    ):
        raise ValueError(f"split must be three non-negative fractions summing to 1, got {split}")
    gen = torch.Generator().manual_seed(seed)
    labels = (torch.arange(num_nodes) % num_classes)[torch.randperm(num_nodes, generator=gen)]

    same = labels[:, None] == labels[None, :]
    prob = torch.where(same, torch.tensor(float(p_in)), torch.tensor(float(p_out)))
    joined = torch.triu(torch.rand(num_nodes, num_nodes, generator=gen) < prob, diagonal=1)
    src, dst = joined.nonzero().unbind(1)

    directions = torch.randn(num_classes, num_features, generator=gen)
    directions = directions / directions.norm(dim=1, keepdim=True)
    features = mu * directions[labels] + torch.randn(num_nodes, num_features, generator=gen)

    order = torch.randperm(num_nodes, generator=gen)
    n_train, n_val = round(split[0] * num_nodes), round(split[1] * num_nodes)
    masks = torch.zeros(3, num_nodes, dtype=torch.bool)
    masks[0, order[:n_train]] = True
    masks[1, order[n_train : n_train + n_val]] = True
    masks[2, order[n_train + n_val :]] = True
    return NodeDataset(
        name="csbm",
        graph=_undirected_graph(src, dst, num_nodes),
        features=features,
        labels=labels,
        train_mask=masks[0],
        val_mask=masks[1],
        test_mask=masks[2],
        num_classes=num_classes,
    )


# --- heterophilous graphs (Platonov et al. 2023) -------------------------------------------------
# The .npz archives of yandex-research/heterophilous-graphs (folder data/, MIT licence). The sums
# are those of the copies CI seeds from (../shared/data/heterophilous/SHA256SUMS).
HETEROPHILOUS_URL = "https://github.com/yandex-research/heterophilous-graphs/raw/main/data/"
HETEROPHILOUS_SHA256 = {
    "minesweeper.npz": "e664c8dacf1e8ac466c2c09ed4b237bd2c5541f47a6eae9c6092cb87f16412b3",
    "tolokers.npz": "dacf3ac94cec53d03cd2adb5255c08b33dee1656c33ca8164a464bd9450a1667",
    "chameleon_filtered.npz": "bf46f07e1fb5249280447e5fe3100f3e82fc4b93ad1e13ffcfdec924b6ac0bb5",
    "squirrel_filtered.npz": "f06370ffb3116c5de8b7a600005400b2293c025e0ce2f6916d8201a825505ac7",
}
HETEROPHILOUS_NAMES = tuple(file.removesuffix(".npz") for file in HETEROPHILOUS_SHA256)
_NPZ_ARRAYS = ("node_features", "node_labels", "edges", "train_masks", "val_masks", "test_masks")


@dataclass(repr=False)
class SplitNodeDataset(NodeDataset):
    """A :class:`NodeDataset` that carries several fixed splits: ``train_masks``, ``val_masks`` and
    ``test_masks`` have shape ``(num_splits, N)``. ``train_mask``/``val_mask``/``test_mask`` are
    split 0's, so :func:`gnnbook.train.fit` runs on it as is; :meth:`split` gives any other."""

    train_masks: torch.Tensor
    val_masks: torch.Tensor
    test_masks: torch.Tensor

    @property
    def num_splits(self) -> int:
        return self.train_masks.shape[0]

    def split(self, i: int) -> NodeDataset:
        """The plain :class:`NodeDataset` whose masks are split ``i`` (0-based)."""
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"split index i must be an int, got {type(i).__name__}")
        if not 0 <= i < self.num_splits:
            raise ValueError(f"split index i must lie in [0, {self.num_splits}), got {i}")
        return NodeDataset(
            name=f"{self.name}[split {i}]",
            graph=self.graph,
            features=self.features,
            labels=self.labels,
            train_mask=self.train_masks[i],
            val_mask=self.val_masks[i],
            test_mask=self.test_masks[i],
            num_classes=self.num_classes,
        )

    def to(self, device) -> SplitNodeDataset:
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        return SplitNodeDataset(
            **{
                k: v.to(device) if isinstance(v, (torch.Tensor, Graph)) else v
                for k, v in moved.items()
            }
        )


def _verified_npz(path: Path, expected: str) -> dict:
    """The arrays of ``path`` once its bytes match ``expected``; read without pickle."""
    import numpy as np

    data = _verified_bytes(path, expected, HETEROPHILOUS_URL + path.name)
    with np.load(
        io.BytesIO(data), allow_pickle=False
    ) as archive:  # an object array raises ValueError
        missing = [key for key in _NPZ_ARRAYS if key not in archive.files]
        if missing:
            raise ValueError(f"{path} lacks the arrays {', '.join(missing)}")
        return {key: archive[key] for key in _NPZ_ARRAYS}


def load_heterophilous(name: str, root=None) -> SplitNodeDataset:
    r"""minesweeper, tolokers, chameleon_filtered or squirrel_filtered, the heterophilous benchmarks
    of Platonov et al. (2023), with their 10 fixed train/validation/test splits.

    The file ``<name>.npz`` is downloaded from :data:`HETEROPHILOUS_URL` into
    ``<root>/heterophilous/`` (``root`` defaults to :func:`cache_dir`, as for
    :func:`load_planetoid`). Its SHA-256 (:data:`HETEROPHILOUS_SHA256`) is checked before it is
    read, and it is read with ``numpy.load(..., allow_pickle=False)``: a file holding Python objects
    is refused.

    The files store each undirected edge once, :math:`\{u, v\}` as one row ``(u, v)``; the graph
    returned holds both directions, :math:`u \to v` and :math:`v \to u` (so ``num_edges`` is twice
    the paper's edge count: 78,804 for minesweeper's 39,402). The four files have no self-loops and
    no edge twice; the loader would drop either.

    Features are float32 as stored (no normalisation), labels int64, ``num_classes`` 2 for
    minesweeper and tolokers (the paper scores them by ROC-AUC) and 5 for the filtered Wikipedia
    graphs (accuracy). Returns a :class:`SplitNodeDataset`: masks of shape ``(10, N)``,
    split 0 in ``train_mask``/``val_mask``/``test_mask``, ``split(i)`` for the others.

    Used in chapter "When attention helps and when it cannot".
    """
    key = str(name).lower().replace("-", "_")
    if key not in HETEROPHILOUS_NAMES:
        raise ValueError(
            f"unknown heterophilous dataset {name!r}; choose one of "
            f"{', '.join(HETEROPHILOUS_NAMES)}"
        )
    file = f"{key}.npz"
    folder = Path(root if root is not None else cache_dir()) / "heterophilous"
    _fetch_missing([file], folder, HETEROPHILOUS_SHA256, HETEROPHILOUS_URL)
    arrays = _verified_npz(folder / file, HETEROPHILOUS_SHA256[file])

    features = torch.from_numpy(arrays["node_features"]).float()
    labels = torch.from_numpy(arrays["node_labels"]).long()
    edges = torch.from_numpy(arrays["edges"]).long()
    num_nodes = features.shape[0]
    masks = [torch.from_numpy(arrays[f"{part}_masks"]).bool() for part in ("train", "val", "test")]
    if edges.dim() != 2 or edges.shape[1] != 2 or labels.shape != (num_nodes,):
        raise ValueError(
            f"{file}: edges must be (E, 2) and labels (N,), got {tuple(edges.shape)}, "
            f"{tuple(labels.shape)}"
        )
    if any(m.dim() != 2 or m.shape[1] != num_nodes for m in masks):
        raise ValueError(f"{file}: split masks must have shape (num_splits, {num_nodes})")
    return SplitNodeDataset(
        name=key,
        graph=_undirected_graph(edges[:, 0], edges[:, 1], num_nodes),
        features=features,
        labels=labels,
        train_mask=masks[0][0],
        val_mask=masks[1][0],
        test_mask=masks[2][0],
        num_classes=int(labels.max()) + 1,
        train_masks=masks[0],
        val_masks=masks[1],
        test_masks=masks[2],
    )


__all__ += [
    "HETEROPHILOUS_NAMES",
    "HETEROPHILOUS_SHA256",
    "HETEROPHILOUS_URL",
    "SplitNodeDataset",
    "load_heterophilous",
]
