"""Optimizers and gradient filters named by a brain gene."""
from __future__ import annotations

import math
from collections import deque

import torch
from torch import nn

from brains.gene import BrainGene


MUON_MOMENTUM = 0.95   # torch.optim.Muon's default (Nesterov)


def make_optimizers(model: nn.Module, gene: BrainGene) -> list[torch.optim.Optimizer]:
    """The gene's update rule: one optimizer, or with `muon` two that together cover every
    parameter once (PyTorch's documentation: Muon for the 2-D weight matrices, a standard
    method for the rest; "match_rms_adamw" scales Muon's step so one learning rate could serve
    both; `muon_lr_scale` lets Muon's differ, since by hand Muon crossed fastest at rates above
    the other rules' range)."""
    params = list(model.parameters())
    matrices = [p for p in params if p.ndim == 2] if gene.muon else []
    rest = [p for p in params if not any(p is m for m in matrices)]
    out: list[torch.optim.Optimizer] = []
    if matrices:
        out.append(torch.optim.Muon(matrices, lr=gene.lr * gene.muon_lr_scale, weight_decay=gene.weight_decay,
                                    momentum=MUON_MOMENTUM, adjust_lr_fn="match_rms_adamw"))
    if not rest:
        return out
    if gene.optimizer in ("adamw", "adam"):  # decoupled decay, or L2 in the gradient
        adam = torch.optim.AdamW if gene.optimizer == "adamw" else torch.optim.Adam
        out.append(adam(rest, lr=gene.lr, weight_decay=gene.weight_decay, betas=(gene.beta1, gene.beta2),
                        foreach=True))
    else:
        out.append(torch.optim.SGD(rest, lr=gene.lr, momentum=gene.momentum, weight_decay=gene.weight_decay,
                                   foreach=True))
    return out


ONECYCLE_START, ONECYCLE_END, ONECYCLE_RISE = 1 / 25, 1 / 25 / 1e4, 0.3   # torch's OneCycleLR defaults


def lr_factor(step: int, warmup: int, schedule: str, horizon: int) -> float:
    """The learning rate's multiple at `step` (0-based): a linear warm-up over `warmup` steps
    (Power et al.), times the schedule over `horizon` steps (the step budget; it holds its
    last value beyond, where a hold window runs past the budget). One-cycle is torch's
    OneCycleLR with cosine annealing, its own rise taking the place of the warm-up."""
    t = min(step, horizon)
    if schedule == "onecycle":
        rise = ONECYCLE_RISE * horizon - 1   # OneCycleLR's phase ends, on its step count
        if t <= rise:
            return ONECYCLE_START + (1 - ONECYCLE_START) * (1 - math.cos(math.pi * t / rise)) / 2
        fall = (t - rise) / max(1e-9, horizon - 1 - rise)
        return ONECYCLE_END + (1 - ONECYCLE_END) * (1 + math.cos(math.pi * min(1.0, fall))) / 2
    ramp = min(1.0, (step + 1) / max(1, warmup))
    if schedule == "cosine":
        return ramp * (1 + math.cos(math.pi * t / max(1, horizon))) / 2
    return ramp


def make_schedulers(opts: list[torch.optim.Optimizer], gene: BrainGene,
                    horizon: int) -> list[torch.optim.lr_scheduler.LambdaLR]:
    return [torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: lr_factor(step, gene.warmup, gene.lr_schedule, horizon)) for opt in opts]


@torch.no_grad()
def equalize_grads(model: nn.Module, floor: float = 1e-6) -> None:
    """Egalitarian gradient descent (Pasand & Dohmatob 2026): each weight matrix's gradient
    G = U S V^T becomes (G G^T)^(-1/2) G = U V^T, every direction at the same speed, so the
    slow directions that delay grokking move as fast as the rest. Singular values are floored
    at `floor` as the authors' code does (a direction with none stays near none). Vectors
    (biases) keep their gradient."""
    for param in model.parameters():
        if param.grad is None or param.ndim != 2:
            continue
        u, s, vh = torch.linalg.svd(param.grad, full_matrices=False)
        param.grad.copy_((u * (s / s.clamp_min(floor))) @ vh)


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
