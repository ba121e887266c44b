"""Train many same-shape MLPs as one batched computation (parameters stacked by
torch.func.stack_module_state, layers run as batched matrix products), each member with its own data, seed, learning rate, weight decay, betas,
momentum, Grokfast filter and gradient clip, and its own stop.

A member's figures equal those of `brains.train.train` on the same member within
floating-point tolerance: the same initialisation (each member is built alone under its
seed, then stacked), the same minibatch order (its own generator), and the optimizer
updates written out as torch's single-tensor AdamW and SGD write them.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import stack_module_state

from brains.flops import step_flops
from brains.gene import BrainGene
from brains.stopping import StopRule, decide, diverged
from brains.train import TrainData, TrainResult, _batches, loss_function

ADAM_EPS = 1e-8
# Fields that may differ inside a group: everything else fixes the computation's shape.
PER_MEMBER = ("lr", "weight_decay", "beta1", "beta2", "momentum", "grokfast_alpha", "grokfast_lambda",
              "grad_clip", "init_scale")


def supports(gene: BrainGene) -> bool:
    """What this trainer implements: MLPs with softmax or MSE, AdamW or SGD, Grokfast-EMA and
    clipping. Other genes (Adam with L2, perpendicular gradient, norm constraint, StableMax, Grokfast-MA, other
    families) train alone."""
    return (gene.family == "mlp" and gene.optimizer != "adam" and not gene.stablemax and not gene.orthograd
            and not gene.norm_constraint and (gene.grokfast_lambda == 0 or gene.grokfast_filter == "ema"))


def shape_key(gene: BrainGene, in_dim: int, n_train: int, n_select: int) -> tuple:
    """Pairs with equal keys can be trained in one group."""
    fixed = {k: v for k, v in gene.to_dict().items() if k not in PER_MEMBER}
    return (gene.family, in_dim, n_train, n_select, tuple(sorted((k, str(v)) for k, v in fixed.items())),
            gene.grokfast_lambda > 0, gene.grad_clip > 0)


@dataclass
class Member:
    model: nn.Module
    gene: BrainGene
    data: TrainData
    seed: int


def _stacked_forward(model: nn.Module):
    """The MLP's layers over stacked parameters: x [M, N, D] -> logits [M, N, C]."""
    layers: list[tuple[str, str | None, nn.Module | None]] = []
    modules = list(model.net.named_children())
    for i, (name, module) in enumerate(modules):
        if isinstance(module, nn.Linear):
            act = modules[i + 1][1] if i + 1 < len(modules) else None
            layers.append((f"net.{name}.weight", f"net.{name}.bias" if module.bias is not None else None, act))

    def forward(params: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        h = x
        for weight, bias, act in layers:
            h = torch.bmm(h, params[weight].transpose(1, 2))
            if bias is not None:
                h = h + params[bias].unsqueeze(1)
            if act is not None:
                h = act(h)
        return h
    return forward


def _member_loss(kind: str, n_classes: int):
    """Each member's mean loss, as brains.train.loss_function computes it for one model."""
    def loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if kind == "xent":
            per = F.cross_entropy(out.reshape(-1, n_classes), y.reshape(-1), reduction="none")
            return per.view(y.shape).mean(1)
        target = torch.zeros_like(out).scatter(-1, y.unsqueeze(-1), 1.0)
        return ((out - target) ** 2).mean((1, 2))
    return loss


def _column(members: list[Member], name: str, like: torch.Tensor) -> torch.Tensor:
    return torch.tensor([getattr(m.gene, name) for m in members], dtype=like.dtype, device=like.device)


def _bcast(v: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    return v.view(-1, *([1] * (p.dim() - 1)))


def train_group(members: list[Member], *, budget: int, threshold: float = 0.99, eval_every: int = 10,
                max_flops: float | None = None, patience: int = 0) -> list[TrainResult]:
    """Results in member order; each member's module holds its trained weights afterwards.

    All members share family, layer sizes, input width, training-set size, batch size, loss,
    optimizer and warm-up (see shape_key)."""
    gene0 = members[0].gene
    unsupported = [m.gene for m in members if not supports(m.gene)]
    if unsupported:
        raise ValueError(f"brains.batched cannot train {unsupported[0]}: train it alone")
    n_classes = members[0].data.n_classes
    loss_fn = loss_function(gene0, n_classes)
    rule = StopRule(threshold=threshold, patience=patience)
    gens = [torch.Generator().manual_seed(m.seed) for m in members]
    batch_iters = [_batches(len(m.data.x_train), gene0.batch_size, g, m.data.x_train.device)
                   for m, g in zip(members, gens)]
    idx = [next(it) for it in batch_iters]
    x0 = members[0].data.x_train if idx[0] is None else members[0].data.x_train[idx[0]]
    y0 = members[0].data.y_train if idx[0] is None else members[0].data.y_train[idx[0]]
    flops = step_flops(members[0].model, x0, y0, loss_fn)
    if max_flops is not None:
        budget = max(1, min(budget, int(max_flops // max(1, flops))))

    params, buffers = stack_module_state([m.model for m in members])
    forward = _stacked_forward(members[0].model)
    member_loss = _member_loss(gene0.loss, n_classes)
    # Every member's data stacked once: [M, N, D] and [M, N]; rows follow `alive`.
    x_tr = torch.stack([m.data.x_train for m in members])
    y_tr = torch.stack([m.data.y_train for m in members])
    x_se = torch.stack([m.data.x_select for m in members])
    y_se = torch.stack([m.data.y_select for m in members])

    like = next(iter(params.values()))
    lr, wd = _column(members, "lr", like), _column(members, "weight_decay", like)
    b1, b2 = _column(members, "beta1", like), _column(members, "beta2", like)
    mom = _column(members, "momentum", like)
    ga, gl = _column(members, "grokfast_alpha", like), _column(members, "grokfast_lambda", like)
    clip = _column(members, "grad_clip", like)
    state = {k: {"m": torch.zeros_like(v), "v": torch.zeros_like(v)} for k, v in params.items()}
    ema: dict[str, torch.Tensor] | None = None
    alive = list(range(len(members)))          # member index of each row of the stacks
    curves: list[list[dict[str, float]]] = [[] for _ in members]
    results: list[TrainResult | None] = [None] * len(members)
    correct = torch.zeros(len(members), dtype=torch.long, device=x_tr.device)
    loss_sum = torch.zeros(len(members), device=x_tr.device)
    seen = steps_seen = 0
    start = time.perf_counter()
    step = 0
    while step < budget and alive:
        if idx[alive[0]] is None:
            xs, ys = x_tr, y_tr
        else:
            rows = torch.stack([idx[i] for i in alive])
            take = torch.arange(len(alive), device=rows.device).unsqueeze(1)
            xs, ys = x_tr[take, rows], y_tr[take, rows]
        out = forward(params, xs)
        losses = member_loss(out, ys)
        for v in params.values():
            v.grad = None
        losses.sum().backward()  # members share no parameter: each gets its own gradient
        grads = {k: v.grad for k, v in params.items()}
        losses = losses.detach()
        correct += (out.detach().argmax(-1) == ys).sum(1)   # train figures as brains.train keeps them
        loss_sum += losses
        seen, steps_seen = seen + ys.shape[1], steps_seen + 1
        if gene0.grokfast_lambda > 0:
            if ema is None:
                ema = {k: g.clone() for k, g in grads.items()}
            for k, g in grads.items():
                ema[k].mul_(_bcast(ga, g)).add_(g * _bcast(1 - ga, g))
                g.add_(ema[k] * _bcast(gl, g))
        if gene0.grad_clip > 0:
            norm = torch.sqrt(sum((g.reshape(len(alive), -1) ** 2).sum(1) for g in grads.values()))
            coef = torch.clamp(clip / (norm + 1e-6), max=1.0)
            for g in grads.values():
                g.mul_(_bcast(coef, g))
        t = step + 1
        r = lr * min(1.0, t / max(1, gene0.warmup))          # per-member lr after warm-up
        decay, step_size = 1 - r * wd, r / (1 - b1 ** t)     # as torch's single-tensor AdamW
        c2_sqrt = (1 - b2 ** t).sqrt()
        with torch.no_grad():
            for k, p in params.items():
                g, s = grads[k], state[k]
                if gene0.optimizer == "adamw":
                    p.mul_(_bcast(decay, p))
                    s["m"].lerp_(g, _bcast(1 - b1, p))
                    s["v"].mul_(_bcast(b2, p)).addcmul_(g, g * _bcast(1 - b2, p))
                    p.sub_(_bcast(step_size, p) * s["m"] / (s["v"].sqrt() / _bcast(c2_sqrt, p) + ADAM_EPS))
                else:
                    g = g + _bcast(wd, p) * p
                    s["m"] = g.clone() if t == 1 else s["m"] * _bcast(mom, p) + g
                    p.sub_(_bcast(r, p) * s["m"])
        step += 1
        idx = [next(batch_iters[i]) if i in alive else None for i in range(len(members))]
        if step % eval_every and step != budget:
            continue
        now = time.perf_counter() - start
        done: list[int] = []
        with torch.no_grad():
            out = forward(params, x_se)
            figures = {"train_acc": (correct / seen).tolist(), "train_loss": (loss_sum / steps_seen).tolist(),
                       "select_acc": (out.argmax(-1) == y_se).float().mean(1).tolist(),
                       "select_loss": member_loss(out, y_se).tolist()}
            correct.zero_()
            loss_sum.zero_()
            seen = steps_seen = 0
            batch_losses = losses.tolist()
        for row, i in enumerate(alive):
            if diverged(batch_losses[row]):
                results[i] = _result(curves[i], step, budget, now, flops, "diverged", batch_losses[row])
                done.append(row)
                continue
            point = {"step": step, **{k: v[row] for k, v in figures.items()}}
            curves[i].append(point)
            verdict = "diverged" if diverged(point["train_loss"]) else decide(curves[i], rule)
            if verdict is None and step == budget:
                verdict = "budget"
            if verdict is not None:
                results[i] = _result(curves[i], step, budget, now, flops, verdict)
                done.append(row)
        for row in done:
            _write_back(members[alive[row]].model, params, buffers, row)
        if done:
            keep = [row for row in range(len(alive)) if row not in done]
            sel = torch.tensor(keep, dtype=torch.long)
            params = {k: v.detach()[sel].requires_grad_() for k, v in params.items()}
            buffers = {k: v[sel] for k, v in buffers.items()}
            x_tr, y_tr, x_se, y_se = x_tr[sel], y_tr[sel], x_se[sel], y_se[sel]
            correct, loss_sum = correct[sel], loss_sum[sel]
            state = {k: {n: v[sel] for n, v in s.items()} for k, s in state.items()}
            ema = None if ema is None else {k: v[sel] for k, v in ema.items()}
            lr, wd, b1, b2, mom, ga, gl, clip = (c[sel] for c in (lr, wd, b1, b2, mom, ga, gl, clip))
            alive = [alive[row] for row in keep]
    for row, i in enumerate(alive):
        _write_back(members[i].model, params, buffers, row)
    return [r if r is not None else _result(curves[i], step, budget, time.perf_counter() - start, flops, "budget")
            for i, r in enumerate(results)]


@torch.no_grad()
def _write_back(model: nn.Module, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor],
                row: int) -> None:
    """Copy one member's trained weights back into its own module (for holdout, saving)."""
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        tensor.copy_((params if name in params else buffers)[name][row])


def _result(curve: list[dict[str, float]], step: int, cap: int, seconds: float, flops: int, stopped: str,
            loss: float | None = None) -> TrainResult:
    last = curve[-1] if curve else {"train_acc": 0.0, "select_acc": 0.0, "train_loss": math.nan,
                                    "select_loss": math.nan}
    reached = stopped == "threshold"
    return TrainResult(steps_to_threshold=step if reached else None,
                       seconds_to_threshold=seconds if reached else None, steps_run=step, steps_cap=cap,
                       seconds=seconds, flops_per_step=flops, diverged=stopped == "diverged", stopped=stopped,
                       train_acc=last["train_acc"], select_acc=last["select_acc"],
                       train_loss=loss if loss is not None else last["train_loss"],
                       select_loss=last["select_loss"], curve=curve)
