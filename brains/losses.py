"""Losses a brain gene names, and measuring a model on a whole set.

Shared by the lone trainer, the batched trainer (which must compute the same loss per
member) and the evaluator (holdout, after training)."""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from brains.gene import BrainGene

EVAL_CHUNK = 8192     # rows per forward pass when measuring accuracy

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def stablemax_cross_entropy(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy with StableMax in place of softmax (Prieto et al. 2025):
    s(x) = x + 1 for x >= 0, 1 / (1 - x) below; p = s(x) / sum s(x). It grows linearly,
    not exponentially, so probabilities do not round to exactly 1 (softmax collapse).
    Computed in float64, as the authors do."""
    x = out.double()
    s = torch.where(x >= 0, x + 1, 1 / (1 - torch.clamp(x, max=0.0)))
    log_p = torch.log(s) - torch.log(s.sum(-1, keepdim=True))
    return -log_p.gather(-1, y.unsqueeze(-1)).mean().to(out.dtype)


def loss_function(gene: BrainGene, n_classes: int) -> LossFn:
    """The loss on the model's output. A forward-forward model trains on its own local
    goodness loss; its output (goodness per class) is scored here by cross-entropy."""
    if gene.family == "ff" or (gene.loss == "xent" and not gene.stablemax):
        return F.cross_entropy
    if gene.loss == "xent":
        return stablemax_cross_entropy

    def mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # scatter rather than F.one_hot, which torch.func.vmap cannot batch
        return F.mse_loss(out, torch.zeros_like(out).scatter(-1, y.unsqueeze(-1), 1.0))
    return mse


@torch.no_grad()
def measure(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn) -> tuple[float, float]:
    """(accuracy, mean loss) over a whole set, in chunks so memory stays flat as p grows."""
    correct, total_loss = 0, 0.0
    for start in range(0, len(x), EVAL_CHUNK):
        out = model(x[start:start + EVAL_CHUNK])
        yy = y[start:start + EVAL_CHUNK]
        correct += int((out.argmax(-1) == yy).sum())
        total_loss += float(loss_fn(out, yy)) * len(yy)
    return correct / max(1, len(x)), total_loss / max(1, len(x))
