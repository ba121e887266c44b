"""FLOPs of one training step, counted by torch rather than by a formula of ours."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def step_flops(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
               loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> int:
    """Forward plus backward FLOPs of one step on this batch (the optimizer update and
    elementwise work are not counted by torch's counter: matrix products dominate)."""
    with FlopCounterMode(display=False) as counter:
        if hasattr(model, "local_loss"):  # forward-forward: the layer-local objective
            model.local_loss(x, y, torch.Generator().manual_seed(0)).backward()
        else:
            loss_fn(model(x), y).backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


@torch.no_grad()
def predict_flops(model: nn.Module, x: torch.Tensor, sample: int = 64) -> int:
    """FLOPs of predicting all of x, counted on its first `sample` rows and scaled: for a
    forward-forward network, which tries every answer, prediction is not cheap."""
    with FlopCounterMode(display=False) as counter:
        model(x[:sample])
    return int(counter.get_total_flops() * len(x) / max(1, min(sample, len(x))))
