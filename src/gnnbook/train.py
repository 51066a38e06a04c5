r"""Full-batch node classification, as chapter "Attention on real graphs" trains GCN,
GraphSAGE and GAT.

The loss is cross-entropy over the training nodes, with logits :math:`z_i`,

.. math::

    \mathcal{L} = -\frac{1}{|V_{\mathrm{train}}|} \sum_{i \in V_{\mathrm{train}}}
    \log \operatorname{softmax}(z_i)_{y_i},

minimised by Adam with weight decay; early stopping follows the GAT paper (Veličković et al. 2018).
Masks are boolean tensors, one entry per node (``mask.bool()`` turns a 0/1 tensor into one): an
integer tensor would index nodes by number, so it is refused rather than read as a list of ids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .optional import require

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


def _mask(mask, num_nodes: int, name: str) -> torch.Tensor:
    """``mask``, checked: a bool tensor of shape ``(num_nodes,)`` that selects at least one node."""
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        got = f"dtype {mask.dtype}" if isinstance(mask, torch.Tensor) else type(mask).__name__
        raise TypeError(
            f"{name} must be a bool tensor with one entry per node, got {got}: "
            f"a 0/1 tensor becomes one with {name}.bool() (integer tensors would index nodes by "
            "number)"
        )
    if mask.shape != (num_nodes,):
        raise ValueError(
            f"{name} must have shape ({num_nodes},), one entry per node, got {tuple(mask.shape)}"
        )
    if not bool(mask.any()):
        raise ValueError(
            f"{name} selects no node: a loss or accuracy over an empty set of nodes is undefined"
        )
    return mask


def accuracy(
    logits: torch.Tensor,
    labels: torch.Tensor,
    mask: torch.Tensor | None = None,
    *,
    name: str = "mask",
) -> float:
    """Fraction of nodes (those in the bool ``mask``, else all) whose largest logit is their label.

    ``name`` is what errors call the mask (``evaluate`` passes ``"val_mask"``, say)."""
    if mask is not None:
        mask = _mask(mask, labels.shape[0], name)
        logits, labels = logits[mask], labels[mask]
    if labels.numel() == 0:
        raise ValueError("accuracy of an empty set of nodes is undefined (there are no labels)")
    return (logits.argmax(dim=-1) == labels).float().mean().item()


def _check_data(data) -> None:
    """Check ``data``'s labels (integer, one per node), features (finite), masks (bool, one per
    node, not empty) and the labels they select (classes in ``[0,
    num_classes)``), naming the culprit."""
    labels = data.labels
    if not isinstance(labels, torch.Tensor) or labels.dtype not in (
        torch.int64,
        torch.int32,
        torch.int16,
        torch.int8,
        torch.uint8,
    ):
        got = f"dtype {labels.dtype}" if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise TypeError(
            f"labels must be an integer tensor of class ids, got {got} (use labels.long())"
        )
    if labels.dim() != 1 or labels.shape[0] != data.features.shape[0]:
        raise ValueError(
            f"labels must have shape ({data.features.shape[0]},), one class id per node, "
            f"got {tuple(labels.shape)}"
        )
    features = data.features
    if features.is_sparse:  # only the stored entries can be NaN/Inf; check them where they sit
        features = features.coalesce()
        values, where = features.values(), features.indices().t()
    else:
        values, where = features, None
    bad = (~torch.isfinite(values)).nonzero()
    if bad.numel():
        node, feature = (where[bad[0, 0]] if where is not None else bad[0]).tolist()
        raise ValueError(
            f"features[{node}, {feature}] = {values[tuple(bad[0])].item()}: features must "
            f"be finite ({bad.shape[0]} NaN/Inf value(s) in all); fill or drop them before training"
        )
    n = data.labels.shape[0]
    for split in ("train", "val", "test"):
        _mask(getattr(data, f"{split}_mask"), n, f"{split}_mask")
    for split in ("train", "val", "test"):
        mask = getattr(data, f"{split}_mask")
        bad = (mask & ((data.labels < 0) | (data.labels >= data.num_classes))).nonzero().flatten()
        if bad.numel():
            k = int(bad[0])
            raise ValueError(
                f"labels[{k}] = {int(data.labels[k])} is not a class in [0, {data.num_classes}), "
                f"yet node {k} is in {split}_mask ({bad.numel()} such node(s))"
            )


def _model_device(model: torch.nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


@torch.no_grad()
def evaluate(model: torch.nn.Module, data) -> dict[str, float]:
    """Loss and accuracy on each split, in eval mode (no dropout): keys ``train_loss``,
    ``train_acc``, ``val_loss``, ``val_acc``, ``test_loss``, ``test_acc``."""
    _check_data(data)
    data = data.to(_model_device(model))
    was_training = model.training
    model.eval()
    logits = model(data.graph, data.features)
    model.train(was_training)
    scores = {}
    for split in ("train", "val", "test"):
        mask = getattr(data, f"{split}_mask")
        scores[f"{split}_loss"] = F.cross_entropy(logits[mask], data.labels[mask]).item()
        scores[f"{split}_acc"] = accuracy(logits, data.labels, mask, name=f"{split}_mask")
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

    Features with NaN/Inf are refused up front (``ValueError``); a loss or gradient that is not
    finite (a diverging model, say) stops training with a ``FloatingPointError`` naming the epoch,
    before the weights are changed by it.
    """
    for arg, value in (("epochs", epochs), ("patience", patience)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{arg} must be a non-negative int, got {value!r}")
    for arg, value in (("lr", lr), ("weight_decay", weight_decay)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not 0 <= value < math.inf
        ):
            raise ValueError(f"{arg} must be a finite non-negative number, got {value!r}")
    _check_data(data)
    if seed is not None:
        torch.manual_seed(seed)
    data = data.to(_model_device(model))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = History()
    best_acc, best_loss, waited = -1.0, float("inf"), 0
    best_state = None
    if progress:
        bar = require("tqdm.auto", "data").trange(epochs, desc="training")
    else:
        bar = range(epochs)
    for epoch in bar:
        model.train()
        optimizer.zero_grad()
        logits = model(data.graph, data.features)
        loss = F.cross_entropy(logits[data.train_mask], data.labels[data.train_mask])
        loss.backward()
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        if not (math.isfinite(loss.item()) and all(bool(torch.isfinite(g).all()) for g in grads)):
            if progress:
                bar.close()
            raise FloatingPointError(
                f"at epoch {epoch} the training loss ({loss.item()}) or its gradient is not "
                f"finite: the model diverged (try a lower learning rate than lr={lr})"
            )
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
            best_acc, best_loss = (
                max(best_acc, scores["val_acc"]),
                min(best_loss, scores["val_loss"]),
            )
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
