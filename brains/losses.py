"""Losses a brain gene names, and measuring a model on a whole set.

Shared by the lone trainer, the batched trainer (which must compute the same loss per
member) and the evaluator (holdout, after training)."""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from brains.gene import BrainGene

EVAL_CHUNK = 8192     # rows per forward pass when measuring accuracy
HEAD = 64             # fewest rows surely_below reads

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def stablemax_cross_entropy(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy with StableMax in place of softmax (Prieto et al. 2025):
    s(x) = x + 1 for x >= 0, 1 / (1 - x) below; p = s(x) / sum s(x). It grows linearly,
    not exponentially, so probabilities do not round to exactly 1 (softmax collapse).
    Computed in float64, as the authors do."""
    return stablemax_nll(out, y).mean().to(out.dtype)


def stablemax_nll(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each row's StableMax negative log-likelihood, in float64: [..., rows]."""
    x = out.double()
    s = torch.where(x >= 0, x + 1, 1 / (1 - torch.clamp(x, max=0.0)))
    log_p = torch.log(s) - torch.log(s.sum(-1, keepdim=True))
    return -log_p.gather(-1, y.unsqueeze(-1)).squeeze(-1)


def predicted(out: torch.Tensor) -> torch.Tensor:
    """The answer a model gives: the index of its largest score, the first on ties, as
    argmax gives it. max(-1).indices, because torch's CPU argmax over a short last
    dimension (97 answers) is the slower kernel."""
    return out.max(-1).indices


def one_hot(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The MSE brains' targets: y as one-hot rows shaped like out (scatter rather than
    F.one_hot, which torch.func.vmap cannot batch)."""
    return torch.zeros_like(out).scatter(-1, y.unsqueeze(-1), 1.0)


def row_losses(gene: BrainGene) -> LossFn:
    """Each row's loss, out [..., rows, C] and y [..., rows] -> [..., rows]: the batched
    trainer weighs rows itself (its members' batches are padded). The mean over a member's
    rows is loss_function's figure."""
    def xent(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1), reduction="none").view(y.shape)

    def stablemax(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return stablemax_nll(out, y).to(out.dtype)

    def mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return ((out - one_hot(out, y)) ** 2).mean(-1)
    if gene.loss == "mse":
        return mse
    return stablemax if gene.stablemax else xent


def loss_function(gene: BrainGene, n_classes: int) -> LossFn:
    """The loss on the model's output. A forward-forward model trains on its own local
    goodness loss; its output (goodness per class) is scored here by cross-entropy."""
    if gene.family == "ff" or (gene.loss == "xent" and not gene.stablemax):
        return F.cross_entropy
    if gene.loss == "xent":
        return stablemax_cross_entropy

    def mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(out, one_hot(out, y))
    return mse


def outranked(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Each row's count of other answers scored above the right one, a tie counting one
    half, and all C - 1 where a score is not a number: [..., rows]. Its mean over a set,
    divided by C - 1, is the set's rank (0: the right answer always first; 0.5 at chance, and
    for a network that gives every answer the same score): a progress measure that moves
    before accuracy does, whatever the loss."""
    right = out.gather(-1, y.unsqueeze(-1))
    above = (out > right).sum(-1) + 0.5 * ((out == right).sum(-1) - 1)
    return torch.where(torch.isnan(out).any(-1), float(out.shape[-1] - 1), above)


def fewest_right(n: int, threshold: float) -> int:
    """The fewest right answers out of n whose accuracy (right / n, as the loop divides)
    reaches `threshold`; n + 1 when none does."""
    right = min(n + 1, max(0, math.ceil(threshold * n)))
    while right > 0 and (right - 1) / max(1, n) >= threshold:
        right -= 1
    while right <= n and right / max(1, n) < threshold:
        right += 1
    return right


@torch.no_grad()
def surely_below(model: nn.Module, x: torch.Tensor, y: torch.Tensor, threshold: float) -> bool:
    """Whether the accuracy over (x, y) is under `threshold` for certain, read from a head
    of the set: true when the head's wrong answers already exceed all the whole set may
    have. The head holds four times that allowance (at least HEAD rows), so a model well
    under 75% accuracy is found out there, as a rule; false means only "not found out",
    and the set must be measured. A dense read that only locates a crossing (brains.loop)
    costs this instead of a pass over the whole set while a run is far from the threshold."""
    n = len(x)
    allowed = n - fewest_right(n, threshold)
    if allowed < 0:
        return True
    head = min(n, max(HEAD, 4 * (allowed + 1)))
    wrong = int((predicted(model(x[:head])) != y[:head]).sum())
    return wrong > allowed


@torch.no_grad()
def measure(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn,
            rank: bool = False) -> tuple[float, ...]:
    """(accuracy, mean loss) over a whole set, and its rank (outranked) if asked, in chunks
    so memory stays flat as p grows. Each chunk's figures stay on the device and come back
    in one read at the end: on a GPU every read waits for the queued work (a sync), and
    early evaluations come at every step. Summed in float64 on the host in chunk order,
    as reading each chunk at once did."""
    parts, width = [], 1
    for start in range(0, len(x), EVAL_CHUNK):
        out = model(x[start:start + EVAL_CHUNK])
        yy = y[start:start + EVAL_CHUNK]
        row = [(predicted(out) == yy).sum().double(), loss_fn(out, yy).double()]
        if rank:
            row.append(outranked(out, yy).sum().double())
        parts.append((len(yy), torch.stack(row)))
        width = out.shape[-1]
    correct, total_loss, above = 0, 0.0, 0.0
    values = torch.stack([v for _, v in parts]).tolist() if parts else []
    for (rows, _), chunk in zip(parts, values):
        correct += int(chunk[0])
        total_loss += chunk[1] * rows
        if rank:
            above += chunk[2]
    n = max(1, len(x))
    if rank:
        return correct / n, total_loss / n, above / n / max(1, width - 1)
    return correct / n, total_loss / n
