"""gnnbook.models: every model against a dense float64 computation written from the module's
equations (gnnbook.reference for the graph layers), node-order equivariance, and the training
protocol on data that a model can learn."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gnnbook import Graph, reference
from gnnbook.datasets import csbm
from gnnbook.models import MODELS, HeterophilyNet, train_split
from gnnbook.train import accuracy
from layer_specs import gatv2_dense

F64 = torch.float64


def _small_graph(n=9, seed=0) -> Graph:
    """A random undirected graph, both directions, no self-loops; node 0 has no neighbour."""
    gen = torch.Generator().manual_seed(seed)
    upper = torch.triu(torch.rand(n, n, generator=gen) < 0.4, diagonal=1)
    upper[0] = False
    src, dst = upper.nonzero().unbind(1)
    return Graph(torch.cat([src, dst]), torch.cat([dst, src]), n)


def _dense_forward(model: HeterophilyNet, graph: Graph, x: torch.Tensor) -> torch.Tensor:
    """The module docstring's equations, one dense step at a time (eval mode: no dropout)."""
    A = reference.adjacency(graph)
    A_loops = A + torch.eye(graph.num_nodes, dtype=F64)  # the graph has no self-loops of its own
    h = F.gelu(x @ model.input.weight.T + model.input.bias)
    for block in model.blocks:
        ln = F.layer_norm(h, h.shape[1:], block.norm.weight, block.norm.bias)
        part = block.graph_part
        if model.model == "ResNet":
            m = ln @ part.weight.T + part.bias
        elif model.model == "GCN":
            m = reference.gcn(A_loops, ln, part.weight, part.bias)
        elif model.model == "SAGE":
            m = reference.sage(
                A, ln, ln, part.fc_self.weight, part.fc_neigh.weight, part.fc_self.bias
            )
        else:
            conv, separate = part.conv, model.model.endswith("-sep")
            adjacency = A if separate else A_loops
            if model.model.startswith("GATv2"):
                heads_out, _ = gatv2_dense(conv, adjacency, ln, ln)
            else:
                a = torch.cat([conv.attn_r, conv.attn_l], -1)[0]
                heads_out, _ = reference.gat(adjacency, ln, ln, conv.fc.weight, conv.fc.weight, a)
            message = heads_out.flatten(1)
            m = (
                torch.cat([ln, message], 1) if separate else message
            ) @ part.fc.weight.T + part.fc.bias
        h = h + F.gelu(m) @ block.fc.weight.T + block.fc.bias
    h = F.layer_norm(h, h.shape[1:], model.norm.weight, model.norm.bias)
    return (h @ model.output.weight.T + model.output.bias).squeeze(-1)


@pytest.mark.parametrize("num_classes", [2, 3])
@pytest.mark.parametrize("name", MODELS)
def test_models_equal_their_dense_equations(name, num_classes):
    torch.manual_seed(0)
    graph, x = _small_graph(), torch.randn(9, 5, dtype=F64)
    model = HeterophilyNet(
        name, 5, num_classes, hidden=8, num_layers=2, heads=2, hidden_multiplier=1.5
    )
    model = model.double().eval()
    with torch.no_grad():
        for (
            p
        ) in model.parameters():  # LayerNorm starts at (1, 0) and GAT's bias at 0: make all count
            p.add_(0.3 * torch.randn_like(p))
        out = model(graph, x)
        expected = _dense_forward(model, graph, x)
    assert out.shape == ((9,) if num_classes == 2 else (9, num_classes))
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize("name", MODELS)
def test_renumbering_nodes_renumbers_outputs(name):
    torch.manual_seed(1)
    graph, x = _small_graph(12, seed=3), torch.randn(12, 4)
    model = HeterophilyNet(name, 4, 4, hidden=16, num_layers=2, heads=4).eval()
    perm = torch.randperm(12)
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(12)
    renumbered = Graph(inverse[graph.src], inverse[graph.dst], 12)  # node perm[k] becomes node k
    with torch.no_grad():
        torch.testing.assert_close(model(renumbered, x[perm]), model(graph, x)[perm])


def test_only_resnet_ignores_the_graph():
    torch.manual_seed(2)
    x = torch.randn(9, 4)
    one, other = _small_graph(9, seed=0), _small_graph(9, seed=5)
    for name in MODELS:
        model = HeterophilyNet(name, 4, 2, hidden=8, num_layers=1, heads=2).eval()
        with torch.no_grad():
            same = torch.allclose(model(one, x), model(other, x))
        assert same == (name == "ResNet"), name


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="ResNet, GCN, SAGE, GAT, GAT-sep, GATv2, GATv2-sep"):
        HeterophilyNet("GIN", 4, 2)
    with pytest.raises(ValueError, match="hidden must be a multiple of heads"):
        HeterophilyNet("GAT", 4, 2, hidden=10, heads=4)
    with pytest.raises(ValueError, match="num_classes"):
        HeterophilyNet("GCN", 4, 1)
    with pytest.raises(ValueError, match="steps"):
        train_split(HeterophilyNet("GCN", 4, 2, hidden=8), None, steps=0)


@pytest.mark.parametrize("num_classes", [2, 3])
def test_training_learns_and_reports_the_best_validation_step(num_classes):
    data = csbm(300, num_classes, 0.05, 0.005, 2.0, 8, seed=0)
    torch.manual_seed(0)
    model = HeterophilyNet("SAGE", data.num_features, num_classes, hidden=16, num_layers=1, heads=1)
    result = train_split(model, data, steps=40, lr=1e-2, eval_every=5)
    assert result.val > 0.9 and result.test > 0.85, result
    assert result.best_step % 5 == 0 and 5 <= result.best_step <= 40 and result.steps == 40
    # Rerun to the best step: the test score reported is that step's.
    torch.manual_seed(0)
    again = HeterophilyNet("SAGE", data.num_features, num_classes, hidden=16, num_layers=1, heads=1)
    train_split(again, data, steps=result.best_step, lr=1e-2, eval_every=result.best_step)
    with torch.no_grad():
        logits = again.eval()(data.graph, data.features)
    if num_classes == 2:
        from gnnbook.measures import roc_auc

        expected = roc_auc(logits[data.test_mask], data.labels[data.test_mask])
    else:
        expected = accuracy(logits, data.labels, data.test_mask)
    assert result.test == pytest.approx(expected, abs=1e-6)
