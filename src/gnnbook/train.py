r"""Full-batch node classification, as chapter "Attention on real graphs" trains GCN, GraphSAGE and GAT.

The loss is cross-entropy over the training nodes, with logits :math:`z_i`,

.. math::

    \mathcal{L} = -\frac{1}{|V_{\mathrm{train}}|} \sum_{i \in V_{\mathrm{train}}}
    \log \operatorname{softmax}(z_i)_{y_i},

minimised by Adam with weight decay; early stopping follows the GAT paper (Veličković et al. 2018).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

__all__ = ["History", "accuracy", "evaluate", "fit"]


@dataclass
class History:
    """What :func:`fit` saw: one entry per epoch run, and the scores of the weights it kept."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    best_epoch: int = 0  # 0-based epoch whose weights the model holds after fit
    test_acc: float = float("nan")  # test accuracy of those weights

    @property
    def epochs(self) -> int:
        return len(self.train_loss)


def accuracy(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """Fraction of nodes (those in ``mask``, else all) whose largest logit is their label."""
    if mask is not None:
        logits, labels = logits[mask], labels[mask]
    if labels.numel() == 0:
        raise ValueError("accuracy of an empty set of nodes is undefined (the mask selects no node)")
    return (logits.argmax(dim=-1) == labels).float().mean().item()


def _model_device(model: torch.nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


@torch.no_grad()
def evaluate(model: torch.nn.Module, data) -> dict[str, float]:
    """Loss and accuracy on each split, in eval mode (no dropout): keys ``train_loss``,
    ``train_acc``, ``val_loss``, ``val_acc``, ``test_loss``, ``test_acc``."""
    data = data.to(_model_device(model))
    was_training = model.training
    model.eval()
    logits = model(data.graph, data.features)
    model.train(was_training)
    scores = {}
    for split in ("train", "val", "test"):
        mask = getattr(data, f"{split}_mask")
        scores[f"{split}_loss"] = F.cross_entropy(logits[mask], data.labels[mask]).item()
        scores[f"{split}_acc"] = accuracy(logits, data.labels, mask)
    return scores


def fit(
    model: torch.nn.Module,
    data,
    *,
    lr: float = 0.005,
    weight_decay: float = 5e-4,
    epochs: int = 200,
    patience: int = 100,
    seed: int | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` (called as ``model(graph, features)``, returning logits ``(N, C)``) on
    ``data`` (a :class:`gnnbook.datasets.NodeDataset`), full batch, with Adam.

    Early stopping as in the GAT paper: the patience counter restarts whenever validation accuracy
    reaches its best or validation loss its lowest; training stops after ``patience`` epochs
    without either. The weights of the last epoch where *both* were at their best are kept in
    memory and loaded back at the end. Defaults are GAT's Cora settings.

    ``seed`` calls ``torch.manual_seed(seed)`` first, so dropout draws repeat: on CPU, the same
    seed and the same initial weights give a bit-identical :class:`History`. (Seed before you
    build the model for the same initial weights.) ``progress`` shows a ``tqdm`` bar.
    """
    if seed is not None:
        torch.manual_seed(seed)
    data = data.to(_model_device(model))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = History()
    best_acc, best_loss, waited = -1.0, float("inf"), 0
    best_state = None
    if progress:
        from tqdm.auto import trange

        bar = trange(epochs, desc="training")
    else:
        bar = range(epochs)
    for epoch in bar:
        model.train()
        optimizer.zero_grad()
        logits = model(data.graph, data.features)
        loss = F.cross_entropy(logits[data.train_mask], data.labels[data.train_mask])
        loss.backward()
        optimizer.step()

        scores = evaluate(model, data)
        history.train_loss.append(loss.item())
        history.val_loss.append(scores["val_loss"])
        history.val_acc.append(scores["val_acc"])
        if progress:
            bar.set_postfix(loss=f"{loss.item():.3f}", val_acc=f"{scores['val_acc']:.3f}")

        acc_ok, loss_ok = scores["val_acc"] >= best_acc, scores["val_loss"] <= best_loss
        if acc_ok or loss_ok:
            if acc_ok and loss_ok:
                history.best_epoch = epoch
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            best_acc, best_loss = max(best_acc, scores["val_acc"]), min(best_loss, scores["val_loss"])
            waited = 0
        else:
            waited += 1
            if waited >= patience:
                break
    if progress:
        bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    history.test_acc = evaluate(model, data)["test_acc"]
    return history
