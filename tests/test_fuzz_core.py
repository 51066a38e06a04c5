"""Property-based fuzzing of the core API (issue #16): Graph, the four ops, the loaders, training.

Every entry point gets valid and invalid inputs (dtypes, shapes, sizes, NaN/Inf, duplicate edges,
multigraphs, bipartite graphs, empty sets, the meta device, hostile strings and files). Each call
must end in one of two ways:

* a ``ValueError``/``TypeError`` whose message names the argument that was made bad, or
* a result equal to an independent float64 reference (loops over edges in Python, or the
  properties the docstring promises).

Anything else fails the test: a crash, an unclear error, a silent wrong answer, or an error for an
input that was valid. ``CI=true`` runs 1000 derandomized examples per entry point, local runs 100
random ones (``tests/fuzzing.py``). The counts per entry point
are printed at the end (``-s``) and written to ``_build/fuzz-counts.json``.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import tempfile
import urllib.error
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from fuzzing import COUNTS, fuzz_settings, judge
from gnnbook import Graph, _sparse, ops, reference
from gnnbook import datasets as ds
from gnnbook.datasets import NodeDataset, csbm, load_planetoid
from gnnbook.train import accuracy, evaluate, fit

ROOT = Path(__file__).resolve().parents[1]
FUZZ = fuzz_settings(dev_examples=100)


def run(entry: str, call, bad: str | None, check):
    """:func:`fuzzing.judge` for an input with at most one bad argument, ``bad``, which the error
    must name."""
    judge(entry, [re.escape(bad)] if bad else [], call, check)


def close(actual: torch.Tensor, expected: torch.Tensor, magnitude: torch.Tensor | None = None):
    """Equal to the float64 reference, NaN where it has NaN, infinite where it is infinite.

    float64 results must match to 1e-10; float32 ones to float32 precision. ``magnitude`` (the
    reference computed on absolute values, sum_j |alpha_ij| |h_j|) widens the float32 tolerance
    where terms cancel: a float32 sum of ``1e4 * 1.7``, ``-1e4 * 1.7`` and
    ``1.7`` is only as exact as its largest term.
    """
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    got = actual.detach().double()
    if actual.dtype == torch.float64 or magnitude is None:
        tol = 1e-10 if actual.dtype == torch.float64 else 2e-5
        torch.testing.assert_close(got, expected.detach(), rtol=tol, atol=tol, equal_nan=True)
        return
    want, scale = expected.detach(), magnitude.detach().double()
    finite = torch.isfinite(want)
    within = (got - want).abs() <= 2e-5 * (1 + want.abs() + scale)
    same = (got == want) | (got.isnan() & want.isnan())
    bad = ~torch.where(finite, within, same)
    assert not bad.any(), f"not close at {bad.nonzero().tolist()}: {got[bad]} vs {want[bad]}"


# --- Graph --------------------------------------------------------------------------------------
ID_FORMS = ("list", "int64", "int32", "int16", "uint8", "numpy", "tuple")


def _as_form(ids: list[int], form: str):
    if form == "list":
        return list(ids)
    if form == "tuple":
        return tuple(ids)
    if form == "numpy":
        import numpy as np

        return np.array(ids, dtype=np.int64)
    return torch.tensor(ids, dtype=getattr(torch, form))


@st.composite
def graph_inputs(draw):
    """(args, kwargs, bad, expected) for Graph(...): ``bad`` names what was made invalid."""
    bipartite = draw(st.booleans())
    n_src = draw(st.integers(0, 6))
    n_dst = draw(st.integers(0, 6)) if bipartite else n_src
    e = draw(st.integers(0, 12)) if n_src and n_dst else 0
    src = draw(st.lists(st.integers(0, max(n_src - 1, 0)), min_size=e, max_size=e))
    dst = draw(st.lists(st.integers(0, max(n_dst - 1, 0)), min_size=e, max_size=e))
    form = draw(st.sampled_from(ID_FORMS))
    counts = (
        {"num_src_nodes": n_src, "num_dst_nodes": n_dst}
        if bipartite
        else ({} if draw(st.booleans()) and e else {"num_nodes": n_src})
    )
    if not bipartite and "num_nodes" not in counts:
        n_src = n_dst = max(src + dst) + 1
    bad = draw(
        st.sampled_from([None] * 6 + ["src", "dst", "num_nodes", "num_src_nodes", "num_dst_nodes"])
    )
    if (
        bad in ("num_src_nodes", "num_dst_nodes")
        and not bipartite
        or bad == "num_nodes"
        and bipartite
    ):
        bad = None
    args = [_as_form(src, form), _as_form(dst, form)]
    explicit = bipartite or "num_nodes" in counts
    if bad in ("src", "dst"):
        k = 0 if bad == "src" else 1
        ids, other = (src, dst) if k == 0 else (dst, src)
        limit, other_limit = (n_src, n_dst) if k == 0 else (n_dst, n_src)
        how = draw(
            st.sampled_from(
                [
                    "range",
                    "negative",
                    "float",
                    "bool",
                    "2d",
                    "meta",
                    "huge",
                    "string",
                    "none",
                    "length",
                ]
            )
        )
        if how in ("range", "negative") and (other_limit == 0 or not explicit):
            how = "float"  # no valid id for the other end, or counts inferred from the ids
        if how in ("range", "negative", "huge"):
            extra = {
                "range": limit + draw(st.integers(0, 2**40)),
                "negative": -draw(st.integers(1, 2**62)),
                "huge": 2**63 + draw(st.integers(0, 100)),
            }[how]
            args[k], args[1 - k] = list(ids) + [extra], list(other) + [0]
        elif how == "float":
            args[k] = torch.tensor(ids, dtype=torch.float32)
        elif how == "bool":
            args[k] = torch.ones(len(ids), dtype=torch.bool)
        elif how == "2d":
            args[k] = torch.tensor(ids, dtype=torch.int64).reshape(1, -1)
        elif how == "meta":
            args[k] = torch.tensor(ids, dtype=torch.int64).to("meta")
        elif how == "string":
            args[k] = draw(st.text(max_size=5))
        elif how == "none":
            args[k] = None
        else:  # lengths differ: the message names both
            args[k] = list(ids) + [0]
            bad = "src and dst"
    elif bad:
        counts.setdefault(bad, n_src)
        how = draw(st.sampled_from(["negative", "float", "bool", "huge", "string"]))
        counts[bad] = {
            "negative": -draw(st.integers(1, 10)),
            "float": float(counts[bad]) + 0.5,
            "bool": True,
            "huge": 2**31 + draw(st.integers(0, 2**40)),
            "string": str(counts[bad]),
        }[how]
    return args, counts, bad, (src, dst, n_src, n_dst, bipartite)


@FUZZ
@given(graph_inputs())
def test_fuzz_graph(case):
    args, kwargs, bad, (src, dst, n_src, n_dst, bipartite) = case

    def check(g: Graph):
        assert (
            g.src.tolist() == src
            and g.dst.tolist() == dst
            and g.src.dtype == g.dst.dtype == torch.int64
        )
        assert (g.num_src_nodes, g.num_dst_nodes, g.is_bipartite) == (n_src, n_dst, bipartite)
        dense = torch.zeros(n_dst, n_src, dtype=torch.float64)
        for u, v in zip(src, dst):
            dense[v, u] += 1
        torch.testing.assert_close(reference.adjacency(g), dense)
        assert g.in_degrees().tolist() == dense.sum(1).long().tolist()
        indptr, indices, eids = g.csr()
        assert eids.tolist() == sorted(
            range(len(dst)), key=lambda k: (dst[k], k)
        )  # stable by destination
        assert indices.tolist() == [src[k] for k in eids.tolist()] and indptr[-1] == len(src)
        # The graph owns its ids: changing what went in, or what came out, changes nothing.
        for given_ids in args:
            if not isinstance(given_ids, (list, tuple)) and len(given_ids):  # tensors, numpy arrays
                given_ids[0] = 1 - given_ids[0]
        g.src.fill_(7)
        g.csr().indices.fill_(7)
        assert g.src.tolist() == src and g.csr().indices.tolist() == indices.tolist()

    run("Graph", lambda: Graph(*args, **kwargs), bad, check)


# --- ops ----------------------------------------------------------------------------------------
SPECIAL = [math.nan, math.inf, -math.inf, 0.0, 1e4, -1e4]


@st.composite
def small_graphs(draw):
    bipartite = draw(st.booleans())
    n_src = draw(st.integers(0, 5))
    n_dst = draw(st.integers(0, 5)) if bipartite else n_src
    e = (
        draw(st.integers(0, 10)) if n_src and n_dst else 0
    )  # small node sets: duplicates, multigraphs
    src = draw(st.lists(st.integers(0, max(n_src - 1, 0)), min_size=e, max_size=e))
    dst = draw(st.lists(st.integers(0, max(n_dst - 1, 0)), min_size=e, max_size=e))
    if bipartite:
        return Graph(src, dst, num_src_nodes=n_src, num_dst_nodes=n_dst)
    return Graph(src, dst, n_src)


def tensors(draw, shape, dtype, special: bool):
    values = st.floats(-3, 3, width=32)
    if special:
        values = st.one_of(values, st.sampled_from(SPECIAL))
    flat = draw(st.lists(values, min_size=math.prod(shape), max_size=math.prod(shape)))
    return torch.tensor(flat, dtype=dtype).reshape(shape)


def spoil(draw, value: torch.Tensor):
    """``value`` made invalid in one of the ways the ops must refuse."""
    how = draw(st.sampled_from(["int", "bool", "meta", "rows", "scalar", "list"]))
    if how == "int":
        return value.long()
    if how == "bool":
        return value > 0
    if how == "meta":
        return value.to("meta")
    if how == "rows":
        return torch.zeros(
            value.shape[0] + draw(st.integers(1, 3)), *value.shape[1:], dtype=value.dtype
        )
    if how == "scalar":
        return torch.tensor(1.0, dtype=value.dtype)
    return value.tolist()


def _grad_check(out, expected, inputs, ref_inputs):
    """Backward of the op equals autograd through the reference (float64, finite values only)."""
    if not all(torch.isfinite(t).all() for t in inputs) or out.numel() == 0:
        return
    w = torch.randn(out.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    got = torch.autograd.grad((out * w).sum(), inputs, allow_unused=True)
    if expected.requires_grad:
        want = torch.autograd.grad((expected * w).sum(), ref_inputs, allow_unused=True)
    else:  # no edges: the reference's output does not depend on its inputs at all
        want = [None] * len(ref_inputs)
    for a, b, x in zip(got, want, inputs):
        torch.testing.assert_close(
            a if a is not None else torch.zeros_like(x), b if b is not None else torch.zeros_like(x)
        )


@st.composite
def op_case(draw, op: str):
    g = draw(small_graphs())
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    special = draw(st.integers(0, 4)) == 0
    sparse = draw(st.booleans())  # also run the sparse products on these tiny graphs
    heads, feats = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    if op == "u_add_v":
        tails = draw(
            st.sampled_from(
                [((heads, 1), (heads, 1)), ((heads, feats), (1, feats)), ((feats,), (feats,))]
            )
        )
        named = {
            "el": tensors(draw, (g.num_src_nodes, *tails[0]), dtype, special),
            "er": tensors(draw, (g.num_dst_nodes, *tails[1]), dtype, special),
        }
    elif op == "edge_softmax":
        named = {"logits": tensors(draw, (g.num_edges, heads, 1), dtype, special)}
    elif op == "u_mul_e_sum":
        form = draw(st.sampled_from(["heads", "heads1", "flat", "flat1", "none"]))
        h_shape = (
            (g.num_src_nodes, heads, feats)
            if form.startswith("heads")
            else (g.num_src_nodes, feats)
        )
        a_shape = {
            "heads": (g.num_edges, heads),
            "heads1": (g.num_edges, heads, 1),
            "flat": (g.num_edges,),
            "flat1": (g.num_edges, 1),
            "none": None,
        }[form]
        named = {"h": tensors(draw, h_shape, dtype, special)}
        if a_shape is not None:
            named["alpha"] = tensors(draw, a_shape, dtype, special)
    else:
        named = {"h": tensors(draw, (g.num_src_nodes, heads, feats), dtype, special)}
        if draw(st.booleans()):
            named["alpha"] = tensors(draw, (g.num_edges,), dtype, special)
    bad = draw(st.sampled_from([None, None, None, *named]))
    if bad is not None:
        named[bad] = spoil(draw, named[bad])
    return g, named, bad, sparse


def _ref_u_add_v(g, el, er):
    tail = torch.broadcast_shapes(el.shape[1:], er.shape[1:])
    rows = [el[u].double() + er[v].double() for u, v in zip(g.src.tolist(), g.dst.tolist())]
    return torch.stack(rows) if rows else torch.zeros(0, *tail, dtype=torch.float64)


def _ref_edge_softmax(g, logits):
    out = torch.zeros(logits.shape, dtype=torch.float64)
    x, dst = logits.double(), g.dst
    for v in dst.unique().tolist():
        ks = (dst == v).nonzero().flatten()
        out = out.index_put((ks,), torch.softmax(x[ks], dim=0))
    return out


def _ref_u_mul_e_sum(g, h, alpha=None):
    h64 = h.double()
    if alpha is not None:
        a = alpha.double()
        if a.dim() == h.dim():
            a = a.squeeze(-1)
        a = a.reshape(g.num_edges, *a.shape[1:], *([1] * (h.dim() - a.dim())))
    out = [torch.zeros(h.shape[1:], dtype=torch.float64) for _ in range(g.num_dst_nodes)]
    for k, (u, v) in enumerate(zip(g.src.tolist(), g.dst.tolist())):
        out[v] = out[v] + (h64[u] if alpha is None else a[k] * h64[u])
    return torch.stack(out) if out else torch.zeros(0, *h.shape[1:], dtype=torch.float64)


def _ref_u_mul_e_max(g, h, alpha=None):
    h64 = h.double()
    a = None if alpha is None else alpha.double().reshape(-1, *([1] * (h.dim() - 1)))
    out = [None] * g.num_dst_nodes
    for k, (u, v) in enumerate(zip(g.src.tolist(), g.dst.tolist())):
        m = h64[u] if a is None else a[k] * h64[u]
        out[v] = m if out[v] is None else torch.maximum(out[v], m)
    out = [torch.zeros(h.shape[1:], dtype=torch.float64) if o is None else o for o in out]
    return torch.stack(out) if out else torch.zeros(0, *h.shape[1:], dtype=torch.float64)


SUMS = ("u_add_v", "u_mul_e_sum")
REFERENCES = {
    "u_add_v": _ref_u_add_v,
    "edge_softmax": _ref_edge_softmax,
    "u_mul_e_sum": _ref_u_mul_e_sum,
    "u_mul_e_max": _ref_u_mul_e_max,
}


def _fuzz_op(op, case):
    g, named, bad, sparse = case
    differentiable = (
        bad is None
        and op != "u_mul_e_max"
        and all(t.dtype == torch.float64 for t in named.values())
    )
    inputs = (
        {k: v.clone().requires_grad_(differentiable) for k, v in named.items()}
        if bad is None
        else named
    )

    def check(out):
        ref_inputs = {
            k: v.detach().clone().requires_grad_(differentiable) for k, v in inputs.items()
        }
        expected = REFERENCES[op](g, **ref_inputs)
        magnitude = None
        if op in SUMS:  # a float32 sum is only as exact as its largest term
            magnitude = REFERENCES[op](g, **{k: v.detach().abs() for k, v in ref_inputs.items()})
        close(out, expected, magnitude)
        if differentiable:
            _grad_check(out, expected, list(inputs.values()), list(ref_inputs.values()))

    with pytest.MonkeyPatch.context() as patch:
        if sparse:
            patch.setattr(_sparse, "SPARSE_MIN_WORK", 0)
        run(op, lambda: getattr(ops, op)(g, **inputs), bad, check)


@pytest.mark.parametrize("op", list(REFERENCES))
@FUZZ
@given(data=st.data())
def test_fuzz_op(op, data):
    _fuzz_op(op, data.draw(op_case(op), label="case"))


# --- datasets: load_planetoid -------------------------------------------------------------------
CORA = [f"ind.cora.{ext}" for ext in ds._EXTENSIONS]
HOSTILE_TEXT = st.sampled_from(
    [
        "",
        "../cora",
        "cora\x00",
        "CORA ",
        "c\u0301ora",
        "<script>",
        "'; rm -rf /",
        "cora/../../etc",
        "\u202ecora",
        "x" * 300,
    ]
) | st.text(max_size=12)


class _Parsed(Exception):
    """Raised by the stand-in unpickler: every check passed and these bytes reached the parser."""


class _Response(io.BytesIO):
    def __init__(self, data: bytes, announce: int | None):
        super().__init__(data)
        self.headers = {} if announce is None else {"Content-Length": str(announce)}


@st.composite
def planetoid_case(draw):
    """One part made bad at a time (or none): the name, the sha256 overrides, the root, one cache
    file, or the server that the missing files come from."""
    contents = {f: draw(st.binary(min_size=1, max_size=40)) for f in CORA}
    part = draw(st.sampled_from([None, None, "name", "sha256", "root", "file", "server"]))
    name = draw(
        HOSTILE_TEXT | st.sampled_from([None, 3, b"cora"])
        if part == "name"
        else st.sampled_from(["cora", "Cora", "CORA"])
    )
    sha_form = draw(
        st.sampled_from(
            ["bad_hex", "unknown_key", "not_dict", "not_str"]
            if part == "sha256"
            else ["lower", "upper"]
        )
    )
    root_form = draw(
        st.sampled_from(["a_file", "int"] if part == "root" else ["dir", "dir", "nested_missing"])
    )
    spoiled = draw(st.sampled_from(CORA))
    kind = draw(
        st.sampled_from(
            ["dev_zero", "fifo", "outside", "dir", "wrong_bytes", "published_sum"]
            if part == "file"
            else ["file", "inside_link", "missing"]
        )
    )
    layout = {f: kind if f == spoiled else "file" for f in CORA}
    server = draw(
        st.sampled_from(["offline", "wrong", "endless", "short"] if part == "server" else ["right"])
    )
    return contents, layout, server, name, sha_form, root_form


def _expected_bad(layout, server, name, sha_form, root_form):
    """The argument (or file) a correct loader must name, or None when the load
    must reach the parser."""
    if not isinstance(name, str):
        return "name"
    if name.lower() != "cora":
        return "name" if name.lower() not in ("citeseer", "pubmed") else "unreachable"
    if sha_form in ("bad_hex", "unknown_key", "not_dict", "not_str"):
        return "sha256"
    if root_form == "int":
        return "root"
    if root_form == "a_file":
        return "unreachable"  # an OS error naming the path: counted below
    kinds = {f: layout[f] if root_form == "dir" else "missing" for f in CORA}
    if server != "right":  # missing files are fetched first, in order
        missing = [f for f in CORA if kinds[f] == "missing"]
        if missing:
            return missing[0]
    for f in CORA:  # then every file is checked, in order
        if kinds[f] in ("dev_zero", "fifo", "outside", "dir", "wrong_bytes", "published_sum"):
            return f
    return None


@FUZZ
@given(case=planetoid_case())
def test_fuzz_load_planetoid(case):
    contents, layout, server, name, sha_form, root_form = case
    sums = {f: hashlib.sha256(c).hexdigest() for f, c in contents.items()}
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as monkeypatch:
        tmp = Path(tmp)
        root = {
            "dir": tmp / "root",
            "nested_missing": tmp / "new" / "deeper",
            "a_file": tmp / "file",
            "int": 7,
        }[root_form]
        if root_form == "a_file":
            root.write_bytes(b"not a folder")
        folder = Path(root) / "planetoid" if root_form == "dir" else None
        if folder is not None:
            folder.mkdir(parents=True)
            (tmp / "outside").write_bytes(b"x")
            for f in CORA:
                kind = layout[f]
                if kind in ("file", "published_sum"):
                    (folder / f).write_bytes(contents[f])
                elif kind == "wrong_bytes":
                    (folder / f).write_bytes(contents[f] + b"!")
                elif kind == "dev_zero":
                    (folder / f).symlink_to("/dev/zero")
                elif kind == "fifo":
                    os.mkfifo(folder / f)
                elif kind == "outside":
                    (tmp / "outside").write_bytes(contents[f])
                    (folder / f).symlink_to(tmp / "outside")
                elif kind == "dir":
                    (folder / f).mkdir()
                elif kind == "inside_link":
                    (folder / f"real.{f}").write_bytes(contents[f])
                    (folder / f).symlink_to(folder / f"real.{f}")
        overrides = {
            f: s for f, s in sums.items() if layout[f] != "published_sum" or root_form != "dir"
        }
        sha256 = {
            "lower": overrides,
            "upper": {f: s.upper() for f, s in overrides.items()},
            "bad_hex": {**overrides, CORA[0]: "z" * 64},
            "unknown_key": {**overrides, "ind.cora.evil": "0" * 64},
            "not_dict": list(overrides.items()),
            "not_str": {**overrides, CORA[1]: 12},
        }[sha_form]

        def urlopen(url, timeout):
            file = url.rsplit("/", 1)[1]
            if server == "offline" or file not in contents:
                raise urllib.error.URLError("no network in the fuzz test")
            body = {
                "right": contents[file],
                "wrong": contents[file][::-1] + b"?",
                "endless": b"\0" * (ds.MAX_FILE_BYTES + 1),
                "short": contents[file][:-1],
            }[server]
            return _Response(body, None if server == "endless" else len(body))

        def parser(stream, encoding):  # the first file parsed is tx
            assert stream.getvalue() == contents["ind.cora.tx"], (
                "the parser got bytes that are not the verified file"
            )
            raise _Parsed

        monkeypatch.setattr(ds.urllib.request, "urlopen", urlopen)
        monkeypatch.setattr(
            ds, "RestrictedUnpickler", lambda stream, encoding: _Stub(parser, stream, encoding)
        )
        monkeypatch.setattr(
            ds, "MAX_FILE_BYTES", 1 << 16
        )  # the "endless" server sends more than this
        bad = _expected_bad(layout, server, name, sha_form, root_form)
        before = sorted(p.name for p in tmp.rglob("*"))
        COUNTS["load_planetoid"]["tried"] += 1
        try:
            load_planetoid(name, root, sha256=sha256)
            pytest.fail("the stand-in parser always raises")
        except _Parsed:
            assert bad is None, f"reached the parser although {bad} is bad"
            COUNTS["load_planetoid"]["correct"] += 1
        except (ValueError, TypeError, RuntimeError, OSError) as error:
            message = str(error)
            if bad == "unreachable" or isinstance(error, OSError):
                # Another dataset, or a root that is a file: an error naming the
                # dataset or the path.
                assert isinstance(error, (ValueError, RuntimeError, OSError)) and (
                    str(root) in message
                    or "could not download" in message
                    or "not a regular" in message
                    or "checksum" in message
                    or "bytes" in message
                ), repr(error)
            else:
                assert bad is not None, f"a valid load was refused: {error!r}"
                assert bad in message, f"the error does not name {bad!r}: {error!r}"
                if isinstance(error, RuntimeError):
                    assert "could not download" in message, repr(error)
            COUNTS["load_planetoid"]["clear error"] += 1
        # Nothing partial left behind: no temporary files, no folders made by a failed load.
        after = sorted(p.name for p in tmp.rglob("*"))
        assert not [n for n in after if n.startswith(".ind.")], after
        if root_form == "nested_missing" and bad is not None:
            assert not (tmp / "new").exists()
        assert set(before) <= set(after), (before, after)  # and nothing of the caller's removed


class _Stub:
    def __init__(self, parser, stream, encoding):
        self.parser, self.stream, self.encoding = parser, stream, encoding

    def load(self):
        return self.parser(self.stream, self.encoding)


# --- datasets: csbm -----------------------------------------------------------------------------
VALID_CSBM = {
    "num_nodes": st.integers(0, 24),
    "num_classes": st.integers(1, 4),
    "p_in": st.floats(0, 1),
    "p_out": st.floats(0, 1),
    "mu": st.floats(-3, 3),
    "num_features": st.integers(0, 4),
    "seed": st.integers(0, 2**64 - 1),
    "split": st.sampled_from([(0.6, 0.2, 0.2), (1, 0, 0), (0.1, 0.3, 0.6)]),
}
NOT_A_NUMBER = st.sampled_from([None, "1", True, math.nan, math.inf, -math.inf, [0.5]])
BAD_CSBM = {
    "num_nodes": st.sampled_from([-1, 10**6, 3.5, "8", None, True]),
    "num_classes": st.sampled_from([0, -2, 2.0, None]),
    "p_in": NOT_A_NUMBER | st.sampled_from([-0.1, 1.5]),
    "p_out": NOT_A_NUMBER | st.sampled_from([-1e-9, 2]),
    "mu": NOT_A_NUMBER,
    "num_features": st.sampled_from([-1, 1.5, "3"]),
    "seed": st.sampled_from([2**70, -(2**64), "0", 1.0]),
    "split": st.sampled_from(
        [(0.5, 0.5), (0.7, 0.7, -0.4), (math.nan, 0.5, 0.5), (0.2, 0.2, 0.2), "abc"]
    ),
}


@FUZZ
@given(data=st.data())
def test_fuzz_csbm(data):
    bad = data.draw(st.sampled_from([None, None, None, *BAD_CSBM]))
    args = {k: data.draw(BAD_CSBM[k] if k == bad else v) for k, v in VALID_CSBM.items()}
    if bad not in ("num_nodes", "num_classes") and args["num_nodes"] < args["num_classes"]:
        if bad is None:
            bad = "num_classes"  # more classes than nodes
        else:
            args["num_nodes"] = args["num_classes"]  # one bad argument at a time
    n, c, f = args["num_nodes"], args["num_classes"], args["num_features"]

    def check(dataset: NodeDataset):
        g = dataset.graph
        assert (
            g.num_nodes == n and dataset.features.shape == (n, f) and dataset.labels.shape == (n,)
        )
        assert bool(torch.isfinite(dataset.features).all())
        pairs = list(zip(g.src.tolist(), g.dst.tolist()))
        assert (
            len(set(pairs)) == len(pairs)
            and all(u != v for u, v in pairs)
            and set(pairs) == {(v, u) for u, v in pairs}
        )
        sizes = torch.bincount(dataset.labels, minlength=c)
        assert sizes.max() - sizes.min() <= 1 and dataset.num_classes == c
        masks = torch.stack([dataset.train_mask, dataset.val_mask, dataset.test_mask]).long()
        assert bool((masks.sum(0) == 1).all())
        again = csbm(**args)
        assert torch.equal(again.features, dataset.features) and torch.equal(again.graph.src, g.src)

    run("csbm", lambda: csbm(**args), bad, check)


# --- train: accuracy, evaluate, fit -------------------------------------------------------------
class _Linear(torch.nn.Module):
    def __init__(self, num_features, num_classes):
        super().__init__()
        self.lin = torch.nn.Linear(num_features, num_classes)

    def forward(self, graph, x):
        return self.lin(x)


@st.composite
def train_case(draw):
    n, c, f = draw(st.integers(1, 8)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    features = tensors(draw, (n, f), torch.float32, draw(st.integers(0, 5)) == 0)
    labels = torch.tensor(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    masks = {
        k: torch.tensor(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=torch.bool)
        for k in ("train_mask", "val_mask", "test_mask")
    }
    if draw(st.integers(0, 2)) == 0:
        which = draw(st.sampled_from([*masks, "labels"]))
        if which == "labels":
            how = draw(st.sampled_from(["range", "float", "shape"]))
            labels = labels.clone()
            labels[draw(st.integers(0, n - 1))] = draw(st.sampled_from([-1, -100, c, c + 5]))
            if how != "range":  # a type or shape error comes before any check of the values
                labels = labels.float() if how == "float" else labels.reshape(n, 1)
                return NodeDataset(
                    "fuzz", Graph([], [], n), features, labels, num_classes=c, **masks
                ), "labels"
        else:
            how = draw(st.sampled_from(["int", "float", "shape", "list"]))
            masks[which] = {
                "int": masks[which].long(),
                "float": masks[which].float(),
                "shape": torch.ones(n + 1, dtype=torch.bool),
                "list": masks[which].tolist(),
            }[how]
    return NodeDataset(
        "fuzz", Graph([], [], n), features, labels, num_classes=c, **masks
    ), _data_bad(features, labels, masks, c)


def _data_bad(features, labels, masks, c):
    """What train must name first: NaN/Inf features, then each mask (bool, one per node, not empty),
    then a label outside the classes that a mask selects."""
    if not bool(torch.isfinite(features).all()):
        return "features"
    for k, m in masks.items():
        if not (
            isinstance(m, torch.Tensor)
            and m.dtype == torch.bool
            and m.shape == labels.shape
            and bool(m.any())
        ):
            return k
    if any(bool((m & ((labels < 0) | (labels >= c))).any()) for m in masks.values()):
        return "labels"
    return None


@FUZZ
@given(
    train_case(),
    st.integers(0, 3),
    st.sampled_from([0.01, 0.05, 0.1, 0.01, 0.1, math.nan, -1.0, "0.1"]),
)
def test_fuzz_fit(case, epochs, lr):
    data, bad = case
    if not isinstance(lr, float) or not (lr >= 0 and math.isfinite(lr)):
        bad = "lr"  # checked before the data
    torch.manual_seed(0)
    model = _Linear(data.features.shape[1], data.num_classes)

    def check(history):
        assert history.epochs <= epochs and len(history.val_loss) == history.epochs
        assert all(math.isfinite(x) for x in history.train_loss)
        assert 0 <= history.best_epoch < max(epochs, 1)
        assert history.test_acc == evaluate(model, data)["test_acc"]

    run(
        "fit",
        lambda: fit(model, data, lr=lr, epochs=epochs, patience=2, progress=False),
        bad,
        check,
    )


@FUZZ
@given(train_case())
def test_fuzz_evaluate(case):
    data, bad = case
    torch.manual_seed(0)
    model = _Linear(data.features.shape[1], data.num_classes)

    def check(scores):
        logits = model(data.graph, data.features).double()
        for split in ("train", "val", "test"):
            mask = getattr(data, f"{split}_mask")
            loss = F.cross_entropy(logits[mask], data.labels[mask]).item()
            acc = (logits[mask].argmax(-1) == data.labels[mask]).double().mean().item()
            assert math.isclose(scores[f"{split}_loss"], loss, rel_tol=1e-5, abs_tol=1e-6)
            assert scores[f"{split}_acc"] == pytest.approx(acc)

    run("evaluate", lambda: evaluate(model, data), bad, check)


@FUZZ
@given(n=st.integers(0, 8), c=st.integers(1, 3), data=st.data())
def test_fuzz_accuracy(n, c, data):
    logits = tensors(data.draw, (n, c), torch.float32, False)
    labels = torch.tensor(
        data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=torch.int64
    )
    mask = data.draw(st.sampled_from(["none", "bool", "int", "float", "shape", "list"]))
    chosen = torch.tensor(
        data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=torch.bool
    )
    arg = {
        "none": None,
        "bool": chosen,
        "int": chosen.long(),
        "float": chosen.float(),
        "shape": torch.ones(n + 1, dtype=torch.bool),
        "list": chosen.tolist(),
    }[mask]
    selected = torch.ones(n, dtype=torch.bool) if arg is None else chosen
    bad = None if mask in ("none", "bool") else "mask"
    if bad is None and not bool(selected.any()):
        bad = "mask" if mask == "bool" else "empty"

    def check(value):
        expected = (logits[selected].double().argmax(-1) == labels[selected]).double().mean().item()
        assert value == pytest.approx(expected)

    run("accuracy", lambda: accuracy(logits, labels, arg), bad, check)
