"""Optimizers and gradient filters named by a brain gene."""
from __future__ import annotations

from collections import deque

import torch
from torch import nn

from brains.gene import BrainGene


def make_optimizer(model: nn.Module, gene: BrainGene) -> torch.optim.Optimizer:
    if gene.optimizer in ("adamw", "adam"):  # decoupled decay, or L2 in the gradient
        adam = torch.optim.AdamW if gene.optimizer == "adamw" else torch.optim.Adam
        return adam(model.parameters(), lr=gene.lr, weight_decay=gene.weight_decay,
                    betas=(gene.beta1, gene.beta2), foreach=True)
    return torch.optim.SGD(model.parameters(), lr=gene.lr, momentum=gene.momentum,
                           weight_decay=gene.weight_decay, foreach=True)


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


def grokfast_ma(model: nn.Module, window: dict[str, tuple[deque, torch.Tensor]] | None,
                size: int, lamb: float) -> dict[str, tuple[deque, torch.Tensor]]:
    """Grokfast-MA (Lee et al. 2024): grad <- grad + lamb * mean of the last `size` gradients
    (this one included), applied once the window is full, as their reference code does.

    The window keeps a running sum, so a step costs the same whatever the window size (their
    code re-adds the whole window every step: 500 gradient copies for the widest window)."""
    if window is None:
        window = {n: (deque(), torch.zeros_like(p)) for n, p in model.named_parameters() if p.grad is not None}
    for name, param in model.named_parameters():
        if param.grad is None:
            continue
        queue, total = window[name]
        grad = param.grad.detach().clone()
        queue.append(grad)
        total.add_(grad)
        if len(queue) > size:
            total.sub_(queue.popleft())
        if len(queue) == size:
            param.grad.add_(total, alpha=lamb / size)
    return window


def grokfast(model: nn.Module, state, gene: BrainGene):
    """The gene's Grokfast filter, one step; returns its new state."""
    if gene.grokfast_filter == "ma":
        return grokfast_ma(model, state, gene.grokfast_window, gene.grokfast_lambda)
    return grokfast_ema(model, state, gene.grokfast_alpha, gene.grokfast_lambda)


@torch.no_grad()
def orthogonalize_grads(model: nn.Module, eps: float = 1e-30) -> None:
    """Perpendicular gradient (Prieto et al. 2025): remove from each tensor's gradient its
    component along the tensor's weights, then rescale to the original gradient norm, so
    that the step cannot just scale the weights up (the naive loss minimisation that ends
    in softmax collapse)."""
    for param in model.parameters():
        if param.grad is None:
            continue
        w, g = param.reshape(-1), param.grad.reshape(-1)
        g_perp = g - (w @ g) / (w @ w + eps) * w
        param.grad.copy_((g_perp * (g.norm() / (g_perp.norm() + eps))).view_as(param.grad))


@torch.no_grad()
def weight_norm(model: nn.Module) -> torch.Tensor:
    """The L2 norm of all parameters taken as one vector."""
    return torch.sqrt(sum((p * p).sum() for p in model.parameters()))


@torch.no_grad()
def hold_norm_(model: nn.Module, norm: torch.Tensor) -> None:
    """Rescale all parameters together to total norm `norm` (Omnigrok's constraint: the
    weights move on a sphere, so weight norm cannot be what delays generalization)."""
    scale = norm / weight_norm(model)
    for param in model.parameters():
        param.mul_(scale)
