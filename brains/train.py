"""Train one model until its select accuracy reaches a threshold or the step cap.

Knows nothing of tasks or encoders: it is handed tensors. The holdout set is not among
them; the evaluator measures it after training, for the report only.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from brains.flops import predict_flops, step_flops
from brains.gene import BrainGene
from brains.optim import (grokfast, hold_norm_, make_optimizer, make_scheduler, orthogonalize_grads,
                          weight_norm)
from brains.stopping import StopRule, decide, diverged

EVAL_CHUNK = 8192     # rows per forward pass when measuring accuracy
FF_TRAIN_SAMPLE = 512  # rows of the last batch on which a forward-forward model's train accuracy is read


@dataclass
class TrainData:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_select: torch.Tensor
    y_select: torch.Tensor
    n_classes: int


@dataclass
class TrainResult:
    steps_to_threshold: int | None
    seconds_to_threshold: float | None
    steps_run: int
    steps_cap: int
    seconds: float
    flops_per_step: int
    diverged: bool
    stopped: str  # "threshold", "budget", "plateau" or "diverged"
    train_acc: float
    select_acc: float
    train_loss: float
    select_loss: float
    curve: list[dict[str, float]] = field(default_factory=list)


def stablemax_cross_entropy(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy with StableMax in place of softmax (Prieto et al. 2025):
    s(x) = x + 1 for x >= 0, 1 / (1 - x) below; p = s(x) / sum s(x). It grows linearly,
    not exponentially, so probabilities do not round to exactly 1 (softmax collapse).
    Computed in float64, as the authors do."""
    x = out.double()
    s = torch.where(x >= 0, x + 1, 1 / (1 - torch.clamp(x, max=0.0)))
    log_p = torch.log(s) - torch.log(s.sum(-1, keepdim=True))
    return -log_p.gather(-1, y.unsqueeze(-1)).mean().to(out.dtype)


def loss_function(gene: BrainGene, n_classes: int) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
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
def measure(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
            loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> tuple[float, float]:
    """(accuracy, mean loss) over a whole set, in chunks so memory stays flat as p grows."""
    correct, total_loss = 0, 0.0
    for start in range(0, len(x), EVAL_CHUNK):
        out = model(x[start:start + EVAL_CHUNK])
        yy = y[start:start + EVAL_CHUNK]
        correct += int((out.argmax(-1) == yy).sum())
        total_loss += float(loss_fn(out, yy)) * len(yy)
    return correct / max(1, len(x)), total_loss / max(1, len(x))


def _batches(n: int, batch_size: int, generator: torch.Generator, device: torch.device):
    """Endless minibatch indices: a fresh seeded permutation every epoch; None = full batch."""
    if batch_size <= 0 or batch_size >= n:
        while True:
            yield None
    while True:
        perm = torch.randperm(n, generator=generator).to(device)
        for start in range(0, n - batch_size + 1, batch_size):
            yield perm[start:start + batch_size]


def train(model: nn.Module, data: TrainData, gene: BrainGene, *, seed: int, budget: int,
          threshold: float = 0.99, eval_every: int = 10, max_flops: float | None = None,
          patience: int = 0, on_eval: Callable[[dict[str, float]], None] | None = None,
          run_on: bool = False, extra: Callable[[nn.Module], dict[str, float]] | None = None) -> TrainResult:
    """Train in place. Evaluates at steps eval_every, 2*eval_every, ... and at the last step:
    select accuracy and loss over the whole select set; train accuracy and loss over the
    training batches of the steps since the previous evaluation (from their own forward
    passes, before each update; a forward-forward model's train accuracy is measured on the
    first FF_TRAIN_SAMPLE rows of the last batch, after it). Stops at the first evaluation
    with select accuracy >= threshold, or on a plateau (see brains.stopping.StopRule;
    patience 0 = never). With `run_on`, a run that reached the threshold goes on to the step
    cap (the first crossing stays its figure): a holdout measured at the crossing sits just
    under the threshold by selection alone, so the report measures it after the cap.
    `extra(model)` adds figures to each evaluation point (the report's holdout curve); its
    time is left out of the run's clock, and nothing decides on it.

    `max_flops` lowers the step cap of expensive models so that no run costs more than
    that many training FLOPs: a bound that, unlike a time limit, is the same on every machine.
    """
    loss_fn = loss_function(gene, data.n_classes)
    generator = torch.Generator().manual_seed(seed)
    batches = _batches(len(data.x_train), gene.batch_size, generator, data.x_train.device)
    first = next(batches)
    xb0 = data.x_train if first is None else data.x_train[first]
    yb0 = data.y_train if first is None else data.y_train[first]
    flops = step_flops(model, xb0, yb0, loss_fn)
    local = hasattr(model, "local_loss")  # forward-forward: layer-local objective, no logits
    if local:  # its evaluations try every answer: charge them, spread over the steps between
        flops += predict_flops(model, data.x_select) // eval_every
    if max_flops is not None:
        budget = max(1, min(budget, int(max_flops // max(1, flops))))
    opt = make_optimizer(model, gene)
    sched = make_scheduler(opt, gene.warmup)
    rule = StopRule(threshold=threshold, patience=patience)
    slow = None   # the Grokfast filter's state
    norm0 = weight_norm(model) if gene.norm_constraint else None
    curve: list[dict[str, float]] = []
    reached: tuple[int, float] | None = None
    stopped = "budget"
    train_acc = select_acc = 0.0
    train_loss = select_loss = math.nan
    step, idx = 0, first
    # Train figures come free from each step's own forward pass, summed on the device and
    # read at evaluations only: no second pass over the training set, no per-step sync.
    correct = torch.zeros((), dtype=torch.long, device=data.x_train.device)
    loss_sum = torch.zeros((), device=data.x_train.device)
    seen = steps_seen = 0
    model.train()
    start = time.perf_counter()
    while step < budget:
        xb = data.x_train if idx is None else data.x_train[idx]
        yb = data.y_train if idx is None else data.y_train[idx]
        if local:
            loss = model.local_loss(xb, yb, generator)
        else:
            out = model(xb)
            loss = loss_fn(out, yb)
            correct += (out.detach().argmax(-1) == yb).sum()
            seen += len(yb)
        loss_sum += loss.detach()
        steps_seen += 1
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if gene.grokfast_lambda > 0:
            slow = grokfast(model, slow, gene)
        if gene.orthograd:
            orthogonalize_grads(model)
        if gene.grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), gene.grad_clip)
        opt.step()
        if norm0 is not None:
            hold_norm_(model, norm0)
        sched.step()
        step += 1
        idx = next(batches)
        if step % eval_every and step != budget:
            continue
        batch_loss = float(loss.detach())
        if diverged(batch_loss):
            stopped, train_loss = "diverged", batch_loss
            break
        model.eval()
        if local:  # a goodness network's accuracy costs a pass per class: a sample only
            train_acc = measure(model, xb[:FF_TRAIN_SAMPLE], yb[:FF_TRAIN_SAMPLE], loss_fn)[0]
        else:
            train_acc = int(correct) / seen
        train_loss = float(loss_sum) / steps_seen
        correct.zero_()
        loss_sum.zero_()
        seen = steps_seen = 0
        select_acc, select_loss = measure(model, data.x_select, data.y_select, loss_fn)
        model.train()
        point = {"step": step, "train_acc": train_acc, "select_acc": select_acc,
                 "train_loss": train_loss, "select_loss": select_loss}
        if extra is not None:
            paused = time.perf_counter()
            point.update(extra(model))
            start += time.perf_counter() - paused
        curve.append(point)
        if on_eval is not None:
            on_eval(point)
        if diverged(train_loss):
            stopped = "diverged"
            break
        verdict = decide(curve, rule)
        if verdict == "threshold" and reached is None:
            reached = (step, time.perf_counter() - start)
        if verdict is not None and not (run_on and reached):
            stopped = verdict
            break
    if reached and stopped == "budget":
        stopped = "threshold"
    model.eval()
    return TrainResult(
        steps_to_threshold=reached[0] if reached else None,
        seconds_to_threshold=reached[1] if reached else None,
        steps_run=step, steps_cap=budget, seconds=time.perf_counter() - start, flops_per_step=flops,
        diverged=stopped == "diverged", stopped=stopped, train_acc=train_acc, select_acc=select_acc,
        train_loss=train_loss, select_loss=select_loss, curve=curve)
