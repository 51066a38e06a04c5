"""gnnbook.train: reproducible histories, the GAT early-stopping rule, best weights restored.

The models are defined here (gnnbook.nn is tested on its own): a mean-aggregation layer built from
``gnnbook.ops.u_mul_e_sum``, and an MLP that ignores the graph."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gnnbook.datasets import csbm
from gnnbook.ops import u_mul_e_sum
from gnnbook.train import accuracy, evaluate, fit


class MeanAggregation(nn.Module):
    """h_i = W2 · mean_{j in N(i)} relu(W1 x_j), with dropout so that the seed matters."""

    def __init__(self, num_features, num_classes, hidden=16):
        super().__init__()
        self.lin1, self.lin2 = nn.Linear(num_features, hidden), nn.Linear(hidden, num_classes)
        self.dropout = nn.Dropout(0.5)

    def forward(self, graph, x):
        h = torch.relu(self.lin1(self.dropout(x)))
        weight = 1.0 / graph.in_degrees().clamp(min=1)[graph.dst].float()
        return self.lin2(self.dropout(u_mul_e_sum(graph, h, weight)))


class MLP(nn.Module):
    def __init__(self, num_features, num_classes, hidden=64):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(num_features, hidden), nn.ReLU(), nn.Linear(hidden, num_classes)
        )

    def forward(self, graph, x):
        return self.net(x)


@pytest.fixture(scope="module")
def data():
    return csbm(200, 3, 0.1, 0.01, 1.0, 8, seed=0)


def _train(data, seed, **kwargs):
    torch.manual_seed(0)  # the same initial weights in every run
    model = MeanAggregation(data.num_features, data.num_classes)
    history = fit(
        model, data, lr=0.01, epochs=40, patience=100, seed=seed, progress=False, **kwargs
    )
    return model, history


def test_same_seed_gives_identical_histories(data):
    (m1, h1), (m2, h2) = _train(data, seed=3), _train(data, seed=3)
    assert h1 == h2
    for (k, a), b in zip(m1.state_dict().items(), m2.state_dict().values()):
        assert torch.equal(a, b), k
    _, h3 = _train(data, seed=4)
    assert h3.train_loss != h1.train_loss, "dropout draws should follow the seed"


def test_training_learns(data):
    _, history = _train(data, seed=0)
    assert history.train_loss[-1] < history.train_loss[0]
    assert (
        history.test_acc > 0.6
    )  # chance is 1/3; p_in = 10 * p_out, so neighbours mostly share the class


def _stop_epoch(history, patience):
    """Replay the GAT rule on the recorded curves: the epoch at which it says stop, or None."""
    best_acc, best_loss, waited = -1.0, float("inf"), 0
    for epoch, (acc, loss) in enumerate(zip(history.val_acc, history.val_loss)):
        if acc >= best_acc or loss <= best_loss:
            best_acc, best_loss, waited = max(best_acc, acc), min(best_loss, loss), 0
        else:
            waited += 1
            if waited == patience:
                return epoch
    return None


def test_early_stopping_stops_and_restores_the_best_weights():
    # Features are pure noise (mu = 0): the MLP memorises the training nodes and
    # validation loss rises.
    noise = csbm(200, 3, 0.05, 0.05, 0.0, 32, seed=1)
    torch.manual_seed(0)
    model = MLP(noise.num_features, noise.num_classes)
    history = fit(
        model, noise, lr=0.05, weight_decay=0.0, epochs=500, patience=10, seed=0, progress=False
    )

    assert history.epochs < 500, "early stopping never fired"
    assert _stop_epoch(history, patience=10) == history.epochs - 1

    best = history.best_epoch
    assert best < history.epochs - 1 and history.val_loss[best] != history.val_loss[-1]
    assert history.val_acc[best] == max(history.val_acc[: best + 1])
    assert history.val_loss[best] == min(history.val_loss[: best + 1])
    scores = evaluate(model, noise)  # the model now holds the best epoch's weights
    assert (
        scores["val_loss"] == history.val_loss[best] and scores["val_acc"] == history.val_acc[best]
    )
    assert scores["test_acc"] == history.test_acc


def test_progress_bar_runs(data, capsys):
    pytest.importorskip("tqdm")
    torch.manual_seed(0)
    fit(MLP(data.num_features, data.num_classes), data, epochs=2, progress=True)
    assert "training" in capsys.readouterr().err


def test_accuracy():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 1, 1, 0])
    assert accuracy(logits, labels) == 0.5
    assert accuracy(logits, labels, torch.tensor([True, True, False, False])) == 1.0
    with pytest.raises(ValueError, match="selects no node"):
        accuracy(logits, labels, torch.zeros(4, dtype=torch.bool))


def test_sparse_features_are_checked_where_they_are_stored():
    """Chapter 9 trains on sparse Cora features: accepted as they are, and a NaN stored among them
    is named by its dense position."""
    import dataclasses

    class SparseLinear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(8, 2)

        def forward(self, graph, x):
            return torch.sparse.mm(x, self.lin.weight.t()) + self.lin.bias

    data = csbm(60, 2, 0.2, 0.05, 1.0, 8, seed=0)
    scores = evaluate(SparseLinear(), dataclasses.replace(data, features=data.features.to_sparse()))
    assert all(math.isfinite(v) for v in scores.values()), scores
    spoiled = data.features.clone()
    spoiled[3, 5] = float("nan")
    with pytest.raises(ValueError, match=r"features\[3, 5\] = nan"):
        evaluate(SparseLinear(), dataclasses.replace(data, features=spoiled.to_sparse()))
