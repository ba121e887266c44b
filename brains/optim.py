"""Optimizers and gradient filters named by a brain gene."""
from __future__ import annotations

import torch
from torch import nn

from brains.gene import BrainGene


def make_optimizer(model: nn.Module, gene: BrainGene) -> torch.optim.Optimizer:
    if gene.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=gene.lr, weight_decay=gene.weight_decay,
                                 betas=(gene.beta1, gene.beta2))
    return torch.optim.SGD(model.parameters(), lr=gene.lr, momentum=gene.momentum,
                           weight_decay=gene.weight_decay)


def make_scheduler(opt: torch.optim.Optimizer, warmup: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over `warmup` steps, then constant (Power et al.)."""
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / max(1, warmup)))


def grokfast_ema(model: nn.Module, ema: dict[str, torch.Tensor] | None,
                 alpha: float, lamb: float) -> dict[str, torch.Tensor]:
    """Grokfast-EMA (Lee et al. 2024): amplify the slow component of the gradient.

    grad <- grad + lamb * ema, with ema <- alpha * ema + (1 - alpha) * grad.
    Returns the updated filter state; call after backward, before the optimizer step.
    """
    if ema is None:
        ema = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}
    for name, param in model.named_parameters():
        if param.grad is None:
            continue
        ema[name].mul_(alpha).add_(param.grad.detach(), alpha=1 - alpha)
        param.grad.add_(ema[name], alpha=lamb)
    return ema
