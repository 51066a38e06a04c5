"""The check every tensor argument of the ops and layers passes first: one place, one wording."""

from __future__ import annotations

import torch

from .graph import Graph


def float_tensor_on(graph: Graph, name: str, value) -> None:
    """``value`` must be a floating-point tensor on the graph's device: integer features would be
    silently truncated, and the index kernels would read a tensor on another device as garbage.
    Raises a ``TypeError``/``ValueError`` that names ``name`` and says how to fix it."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor, got dtype {value.dtype} (use {name}.float())"
        )
    if value.device != graph.device:
        raise ValueError(
            f"{name} is on {value.device}, the graph on {graph.device}: move one of them "
            f"with .to(device)"
        )
