"""Train many same-shape MLPs as one batched computation (parameters stacked by
torch.func.stack_module_state, layers run as batched matrix products), each member with its
own data, seed, learning rate, weight decay, betas, momentum, Grokfast filter and gradient
clip, and its own stop: the brains.loop loop over a many-member back end.

A member's figures equal those of `brains.train.train` on the same member within
floating-point tolerance: the same loop, the same initialisation (each member is built
alone under its seed, then stacked), the same minibatch order (its own generator), and the
optimizer updates written out as torch's single-tensor AdamW and SGD write them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import stack_module_state

from brains.flops import step_flops
from brains.gene import BrainGene
from brains.loop import Evaluation, StepOut, TrainData, TrainResult, batches, run
from brains.losses import loss_function

ADAM_EPS = 1e-8
# Fields that may differ inside a group: everything else fixes the computation's shape.
PER_MEMBER = ("lr", "weight_decay", "beta1", "beta2", "momentum", "grokfast_alpha", "grokfast_lambda",
              "grad_clip", "init_scale")
Params = dict[str, torch.Tensor]


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


def _stacked_forward(model: nn.Module) -> Callable[[Params, torch.Tensor], torch.Tensor]:
    """The MLP's layers over stacked parameters: x [M, N, D] -> logits [M, N, C]."""
    layers: list[tuple[str, str | None, nn.Module | None]] = []
    modules = list(model.net.named_children())
    for i, (name, module) in enumerate(modules):
        if isinstance(module, nn.Linear):
            act = modules[i + 1][1] if i + 1 < len(modules) else None
            layers.append((f"net.{name}.weight", f"net.{name}.bias" if module.bias is not None else None, act))

    def forward(params: Params, x: torch.Tensor) -> torch.Tensor:
        h = x
        for weight, bias, act in layers:
            h = torch.bmm(h, params[weight].transpose(1, 2))
            if bias is not None:
                h = h + params[bias].unsqueeze(1)
            if act is not None:
                h = act(h)
        return h
    return forward


def _member_loss(kind: str, n_classes: int) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Each member's mean loss, as brains.losses.loss_function computes it for one model."""
    def loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if kind == "xent":
            per = F.cross_entropy(out.reshape(-1, n_classes), y.reshape(-1), reduction="none")
            return per.view(y.shape).mean(1)
        target = torch.zeros_like(out).scatter(-1, y.unsqueeze(-1), 1.0)
        return ((out - target) ** 2).mean((1, 2))
    return loss


def _bcast(v: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """A per-member column [M] shaped to multiply a stacked tensor [M, ...]."""
    return v.view(-1, *([1] * (p.dim() - 1)))


class Group:
    """Same-shape MLPs, one row of every stacked tensor per live member. Its own AdamW and
    SGD (torch's optimizers take one learning rate per parameter group, not per member)."""

    COLUMNS = ("lr", "weight_decay", "beta1", "beta2", "momentum", "grokfast_alpha", "grokfast_lambda",
               "grad_clip")

    def __init__(self, members: list[Member]):
        unsupported = [m.gene for m in members if not supports(m.gene)]
        if unsupported:
            raise ValueError(f"brains.batched cannot train {unsupported[0]}: train it alone")
        shapes = {shape_key(m.gene, m.data.x_train.shape[1], len(m.data.x_train), len(m.data.x_select))
                  for m in members}
        if len(shapes) > 1:  # member 0's batch size, warm-up, optimizer and loss would rule all
            raise ValueError(f"brains.batched: members of {len(shapes)} shapes in one group; group by shape_key")
        self.members = list(members)      # the member of each row
        self.gene = gene0 = members[0].gene
        n_classes = members[0].data.n_classes
        self.device = members[0].data.x_train.device
        self.iters = [batches(len(m.data.x_train), gene0.batch_size, torch.Generator().manual_seed(m.seed),
                              self.device) for m in members]
        self.idx = [next(it) for it in self.iters]
        first = members[0].data
        x0 = first.x_train if self.idx[0] is None else first.x_train[self.idx[0]]
        y0 = first.y_train if self.idx[0] is None else first.y_train[self.idx[0]]
        self.step_flops = step_flops(members[0].model, x0, y0, loss_function(gene0, n_classes))
        self.eval_flops = 0

        self.params, self.buffers = stack_module_state([m.model for m in members])
        self.forward = _stacked_forward(members[0].model)
        self.member_loss = _member_loss(gene0.loss, n_classes)
        # Every member's data stacked once: [M, N, D] and [M, N].
        self.x_tr = torch.stack([m.data.x_train for m in members])
        self.y_tr = torch.stack([m.data.y_train for m in members])
        self.x_se = torch.stack([m.data.x_select for m in members])
        self.y_se = torch.stack([m.data.y_select for m in members])
        like = next(iter(self.params.values()))
        self.col = {name: torch.tensor([getattr(m.gene, name) for m in members], dtype=like.dtype,
                                       device=like.device) for name in self.COLUMNS}
        self.state = {k: {"m": torch.zeros_like(v), "v": torch.zeros_like(v)} for k, v in self.params.items()}
        self.ema: Params | None = None   # the Grokfast filter's state
        self.t = 0

    def step(self) -> StepOut:
        params, col, gene0 = self.params, self.col, self.gene
        if self.idx[0] is None:
            xs, ys = self.x_tr, self.y_tr
        else:
            rows = torch.stack(self.idx)
            take = torch.arange(len(self.members), device=rows.device).unsqueeze(1)
            xs, ys = self.x_tr[take, rows], self.y_tr[take, rows]
        out = self.forward(params, xs)
        losses = self.member_loss(out, ys)
        for v in params.values():
            v.grad = None
        losses.sum().backward()  # members share no parameter: each gets its own gradient
        grads = {k: v.grad for k, v in params.items()}
        correct = (out.detach().argmax(-1) == ys).sum(1)
        if gene0.grokfast_lambda > 0:
            ga, gl = col["grokfast_alpha"], col["grokfast_lambda"]
            if self.ema is None:
                self.ema = {k: g.clone() for k, g in grads.items()}
            for k, g in grads.items():
                self.ema[k].mul_(_bcast(ga, g)).add_(g * _bcast(1 - ga, g))
                g.add_(self.ema[k] * _bcast(gl, g))
        if gene0.grad_clip > 0:
            norm = torch.sqrt(sum((g.reshape(len(self.members), -1) ** 2).sum(1) for g in grads.values()))
            coef = torch.clamp(col["grad_clip"] / (norm + 1e-6), max=1.0)
            for g in grads.values():
                g.mul_(_bcast(coef, g))
        self._update(grads)
        self.idx = [next(it) for it in self.iters]
        return StepOut(losses.detach(), correct, ys.shape[1])

    @torch.no_grad()
    def _update(self, grads: Params) -> None:
        """One AdamW or SGD step per member, as torch's single-tensor implementations do it."""
        self.t += 1
        t, col = self.t, self.col
        lr, wd, b1, b2 = col["lr"], col["weight_decay"], col["beta1"], col["beta2"]
        r = lr * min(1.0, t / max(1, self.gene.warmup))      # per-member lr after warm-up
        decay, step_size = 1 - r * wd, r / (1 - b1 ** t)
        c2_sqrt = (1 - b2 ** t).sqrt()
        for k, p in self.params.items():
            g, s = grads[k], self.state[k]
            if self.gene.optimizer == "adamw":
                p.mul_(_bcast(decay, p))
                s["m"].lerp_(g, _bcast(1 - b1, p))
                s["v"].mul_(_bcast(b2, p)).addcmul_(g, g * _bcast(1 - b2, p))
                p.sub_(_bcast(step_size, p) * s["m"] / (s["v"].sqrt() / _bcast(c2_sqrt, p) + ADAM_EPS))
            else:
                g = g + _bcast(wd, p) * p
                s["m"] = g.clone() if t == 1 else s["m"] * _bcast(col["momentum"], p) + g
                p.sub_(_bcast(r, p) * s["m"])

    @torch.no_grad()
    def evaluate(self) -> list[Evaluation]:
        out = self.forward(self.params, self.x_se)
        hits = (out.argmax(-1) == self.y_se).sum(1).tolist()
        losses = self.member_loss(out, self.y_se).tolist()
        n = self.y_se.shape[1]
        return [Evaluation(h / max(1, n), loss) for h, loss in zip(hits, losses)]

    def drop(self, rows: list[int]) -> None:
        for row in rows:
            self._write_back(row)
        keep = [row for row in range(len(self.members)) if row not in rows]
        sel = torch.tensor(keep, dtype=torch.long, device=self.device)
        self.params = {k: v.detach()[sel].requires_grad_() for k, v in self.params.items()}
        self.buffers = {k: v[sel] for k, v in self.buffers.items()}
        self.x_tr, self.y_tr, self.x_se, self.y_se = (t[sel] for t in (self.x_tr, self.y_tr, self.x_se, self.y_se))
        self.state = {k: {n: v[sel] for n, v in s.items()} for k, s in self.state.items()}
        self.ema = None if self.ema is None else {k: v[sel] for k, v in self.ema.items()}
        self.col = {name: c[sel] for name, c in self.col.items()}
        self.members = [self.members[row] for row in keep]
        self.iters = [self.iters[row] for row in keep]
        self.idx = [self.idx[row] for row in keep]

    @torch.no_grad()
    def _write_back(self, row: int) -> None:
        """Copy one member's trained weights back into its own module (for holdout, saving)."""
        model = self.members[row].model
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            tensor.copy_((self.params if name in self.params else self.buffers)[name][row])


def train_group(members: list[Member], *, budget: int, threshold: float = 0.99, eval_every: int = 10,
                max_flops: float | None = None, patience: int = 0) -> list[TrainResult]:
    """Results in member order; each member's module holds its trained weights afterwards.

    All members share family, layer sizes, input width, training-set size, batch size, loss,
    optimizer and warm-up (see shape_key)."""
    return run(Group(members), len(members), budget=budget, threshold=threshold, eval_every=eval_every,
               max_flops=max_flops, patience=patience)
